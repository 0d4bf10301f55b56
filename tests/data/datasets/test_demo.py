"""The generated demo shop: schema, realism (funnel, seasonality, reviews, drift) and that a
personalized model can learn what popularity cannot."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import orjson
import polars as pl
import pytest
from scipy.stats import spearmanr

from shopmind.data.datasets import demo_vocab as vocab
from shopmind.data.datasets.demo import DEFAULT_END, DemoShop, funnel_rates, generate_demo_shop
from shopmind.data.schema import CATEGORY_SEPARATOR, ORDER_STATUSES, TABLES
from shopmind.errors import InputError

KIND_DTYPES = {
    "id": pl.String, "text": pl.String, "json": pl.String, "enum": pl.String,
    "float": pl.Float64, "int": pl.Int64, "bool": pl.Boolean,
    "datetime": pl.Datetime("us", "UTC"),
}
LOCAL = pl.duration(hours=8)  # the shop's seasonality is in UTC+8


def _small(seed: int = 42, scale: float = 1.0) -> DemoShop:
    return generate_demo_shop(n_items=400, n_users=600, days=30, seed=seed, scale=scale)


@pytest.fixture(scope="module")
def shop() -> DemoShop:
    return generate_demo_shop()


def _with_index(frame: pl.DataFrame, key: str, name: str) -> pl.DataFrame:
    return frame.select(key).with_row_index(name)


def test_default_sizes_and_category_tree(shop: DemoShop) -> None:
    assert shop.items.height == 2000
    assert shop.users.height == shop.user_pii.height == 5000
    assert shop.events.height > 100_000
    assert shop.reviews.height > 500
    assert shop.orders["order_id"].n_unique() > 1000
    levels = shop.items["category"].str.split(CATEGORY_SEPARATOR)
    assert levels.list.len().min() >= 3
    assert levels.list.first().n_unique() >= 8
    assert shop.items["category"].n_unique() >= 80
    bilingual = re.compile(r"^[\u4e00-\u9fff\w]+ [A-Za-z&' -]+$")
    assert all(bilingual.match(level) for level in levels.explode().unique().to_list())


@pytest.mark.parametrize("name", list(TABLES))
def test_columns_dtypes_and_constraints_match_the_schema(shop: DemoShop, name: str) -> None:
    spec, frame = TABLES[name], shop.tables()[name]
    assert frame.columns == list(spec.names)
    for column in spec.columns:
        series = frame[column.name]
        assert series.dtype == KIND_DTYPES[column.kind], column.name
        if column.required:
            assert series.null_count() == 0, column.name
        if column.choices:
            assert set(series.drop_nulls().unique()) <= set(column.choices), column.name
        if column.max_length is not None and column.kind in ("id", "text", "json"):
            assert (series.str.len_chars().max() or 0) <= column.max_length, column.name
        if column.ge is not None:
            assert (series.min() or 0) >= column.ge, column.name
        if column.le is not None:
            assert (series.max() or 0) <= column.le, column.name
    for key in spec.key:
        if key in frame.columns and name != "orders":
            assert frame[key].n_unique() == frame.height, key
    if name == "orders":
        assert frame.select("order_id", "item_id").is_duplicated().sum() == 0


@pytest.mark.parametrize("name", list(TABLES))
def test_sampled_rows_validate_with_the_pydantic_models(shop: DemoShop, name: str) -> None:
    spec, frame = TABLES[name], shop.tables()[name]
    sample = frame.sample(min(300, frame.height), seed=0)
    if name == "events":  # make sure every event type is represented
        sample = pl.concat([sample, frame.group_by("type").head(20).select(frame.columns)])
    for row in sample.iter_rows(named=True):
        if "attributes" in row:
            row["attributes"] = orjson.loads(row["attributes"])
        spec.model.model_validate(row)


def test_references_and_times_are_consistent(shop: DemoShop) -> None:
    users, items = set(shop.users["user_id"]), set(shop.items["item_id"])
    for frame in (shop.events, shop.reviews, shop.orders):
        assert set(frame["user_id"]) <= users
        assert set(frame["item_id"].drop_nulls()) <= items
    ev = shop.events
    assert ev["ts"].is_sorted()
    assert DEFAULT_END - timedelta(days=90) <= ev["ts"].min() <= ev["ts"].max() < DEFAULT_END  # type: ignore[operator]
    joined = ev.join(shop.users.select("user_id", u_created="created_at"), on="user_id").join(
        shop.items.select("item_id", i_created="created_at"), on="item_id", how="left")
    assert (joined["ts"] > joined["u_created"]).all()
    views = joined.filter(pl.col("type") == "view")
    assert (views["ts"] >= views["i_created"]).all()
    assert (shop.orders["updated_at"] >= shop.orders["created_at"]).all()
    assert not ev.select("user_id", "item_id", "type", "ts").is_duplicated().any()


def test_event_fields_follow_their_type(shop: DemoShop) -> None:
    ev = shop.events
    search, rate = ev.filter(pl.col("type") == "search"), ev.filter(pl.col("type") == "rate")
    assert search["item_id"].null_count() == search.height
    assert search["query"].null_count() == 0
    assert ev.filter(pl.col("type") != "search")["item_id"].null_count() == 0
    assert ev.filter(pl.col("type") != "search")["query"].null_count() == ev.height - search.height
    assert set(rate["value"].unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert ev.filter(pl.col("type") != "rate")["value"].null_count() == ev.height - rate.height
    assert ev["event_id"].null_count() == ev.height
    queries = search["query"]
    zh_share = queries.str.contains(r"[\u4e00-\u9fff]").mean()
    assert 0.3 < zh_share < 0.8  # both languages are searched


def test_funnel_rates_are_realistic(shop: DemoShop) -> None:
    rates = funnel_rates(shop.events)
    assert 0.08 <= rates["cart_per_view"] <= 0.12
    assert 0.25 <= rates["purchase_per_cart"] <= 0.40
    for kind in ("click", "favorite", "remove_cart", "search", "rate"):
        assert rates[f"{kind}_per_view"] > 0.005, kind
    purchases = shop.events.filter(pl.col("type") == "purchase")
    assert purchases.height == shop.orders.height  # one purchase event per order line


def test_daily_and_weekly_seasonality(shop: DemoShop) -> None:
    local = shop.events.select(ts=pl.col("ts") + LOCAL)
    by_hour = local.group_by(pl.col("ts").dt.hour().alias("hour")).len()
    count = dict(by_hour.iter_rows())
    evening = np.mean([count[h] for h in (19, 20, 21, 22)])
    night = np.mean([count[h] for h in (2, 3, 4, 5)])
    assert evening > 4 * night
    by_day = local.group_by(pl.col("ts").dt.date().alias("day")).len().filter(
        pl.col("day") > pl.col("day").min())  # the first local day is partial
    weekend = by_day.filter(pl.col("day").dt.weekday() >= 6)["len"].mean()
    weekday = by_day.filter(pl.col("day").dt.weekday() < 6)["len"].mean()
    assert weekend > 1.1 * weekday  # type: ignore[operator]


def test_popularity_is_long_tailed(shop: DemoShop) -> None:
    views = shop.events.filter(pl.col("type") == "view").group_by("item_id").len()
    counts = np.sort(views["len"].to_numpy())[::-1]
    assert counts[: len(counts) // 10].sum() > 0.35 * counts.sum()
    prices = shop.items["price"].to_numpy()
    assert np.median(prices) < np.mean(prices)  # log-normal: a long right tail


def _phrases(polarity: int) -> list[str]:
    return [p for lang in vocab.REVIEW_PHRASES.values() for aspect in lang.values()
            for p in aspect[polarity]]


def test_review_text_agrees_with_rating_and_item(shop: DemoShop) -> None:
    reviews = shop.reviews.with_columns(text=pl.col("text").str.to_lowercase())
    positive = reviews["text"].str.contains_any([p.lower() for p in _phrases(1)])
    negative = reviews["text"].str.contains_any([p.lower() for p in _phrases(0)])
    stars = reviews["rating"]
    assert not (positive & ~negative & (stars <= 2)).any() and not (negative & (stars >= 4)).any()
    assert (positive & negative).filter(stars == 3).all()
    assert (negative | positive).all()
    assert set(stars.unique()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert (stars == 5).mean() > (stars == 1).mean() > 0.03  # J-shaped, as on real shops
    # items of higher hidden quality get better ratings
    quality = pl.DataFrame({"item_id": shop.items["item_id"], "q": shop.truth.item_quality})
    per_item = reviews.group_by("item_id").agg(pl.col("rating").mean(), pl.len()).join(
        quality, on="item_id").filter(pl.col("len") >= 2)
    assert spearmanr(per_item["rating"], per_item["q"]).statistic > 0.6
    # the shopper's language
    language = shop.users.select("user_id", lang=pl.col("attributes").str.json_path_match(
        "$.language"))
    zh_text = reviews.join(language, on="user_id").select(
        pl.col("text").str.contains(r"[\u4e00-\u9fff]") == (pl.col("lang") == "zh"))
    assert zh_text.to_series().all()


def test_orders_have_realistic_statuses_and_totals(shop: DemoShop) -> None:
    orders = shop.orders.unique("order_id")
    share = orders["status"].value_counts(normalize=True)
    share_of = dict(share.iter_rows())
    assert set(share_of) <= set(ORDER_STATUSES)
    assert share_of["delivered"] + share_of["completed"] > 0.75
    assert 0.01 < share_of["cancelled"] < 0.1 and 0.01 < share_of["returned"] < 0.1
    totals = shop.orders.group_by("order_id").agg(
        (pl.col("quantity") * pl.col("unit_price")).sum().alias("lines"), pl.col("total").first())
    assert np.allclose(totals["lines"], totals["total"], atol=0.01)
    assert shop.orders.group_by("order_id").agg(pl.col("user_id").n_unique())["user_id"].max() == 1


def test_texts_are_bilingual_and_personal_fields_fake(shop: DemoShop) -> None:
    zh_descriptions = shop.items["description"].str.ends_with("。").mean()
    assert 0.4 < zh_descriptions < 0.6
    assert shop.items["title"].str.len_chars().min() > 5
    pii = shop.user_pii
    assert pii["email"].str.ends_with("@example.com").all() and pii["email"].n_unique() == 5000
    assert pii["phone"].str.contains(r"^(\+86 100 \d{4} \d{4}|\+1 555-\d{4})$").all()
    attributes = shop.users["attributes"].str.json_decode()
    assert set(attributes.struct.fields) == {"age_band", "gender", "city_tier", "language"}


def test_truth_is_aligned_with_the_frames(shop: DemoShop) -> None:
    truth = shop.truth
    assert [truth.leaf_paths[k] for k in truth.item_leaf] == shop.items["category"].to_list()
    assert [truth.brand_names[k] for k in truth.item_brand] == shop.items["brand"].to_list()
    taste = truth.taste(0.0)
    assert taste.shape == (5000, len(truth.leaf_paths))
    assert np.allclose(taste.sum(axis=1), 1 - truth.exploration)


def test_tastes_drift_towards_the_new_interest(shop: DemoShop) -> None:
    truth = shop.truth
    early, late = truth.user_interests[:, 0], truth.user_interests[:, 1]
    new_leaf = np.where(late != early, late, -1).max(axis=1)  # -1: drifted to a known leaf
    new_leaf[(late[:, :, None] == early[:, None, :]).any(axis=2).all(axis=1)] = -1
    views = (shop.events.filter(pl.col("type") == "view")
             .join(_with_index(shop.users, "user_id", "u"), on="user_id")
             .join(_with_index(shop.items, "item_id", "i"), on="item_id"))
    fraction = ((views["ts"] - views["ts"].min()) / (views["ts"].max() - views["ts"].min()))
    in_new = truth.item_leaf[views["i"].to_numpy()] == new_leaf[views["u"].to_numpy()]
    first, last = fraction.to_numpy() < 1 / 3, fraction.to_numpy() > 2 / 3
    assert in_new[last].mean() > 2 * in_new[first].mean()


def _hit_rates(shop: DemoShop, k: int = 10) -> tuple[float, float, float]:
    """Hold out each shopper's last cart or purchase; HR@k of global popularity, of
    "popular in the shopper's favourite category", and of the generator's own model."""
    ev = shop.events.filter(pl.col("item_id").is_not_null())
    last = (ev.filter(pl.col("type").is_in(["cart", "purchase"])).sort("ts").group_by("user_id")
            .agg(target=pl.col("item_id").last(), cut=pl.col("ts").last()))
    train = ev.join(last.select("user_id", "cut"), on="user_id", how="left").filter(
        pl.col("cut").is_null() | (pl.col("ts") < pl.col("cut")))
    active = train.filter(pl.col("type") == "view").group_by("user_id").len().filter(
        pl.col("len") >= 3)
    last = last.join(active.select("user_id"), on="user_id")
    order = {"descending": [True, False]}
    popular = train.group_by("item_id").len().sort(["len", "item_id"], **order).head(k)
    hr_popular = last["target"].is_in(popular["item_id"].implode()).mean()
    with_category = train.join(shop.items.select("item_id", "category"), on="item_id")
    favourite = (with_category.group_by("user_id", "category").len()
                 .sort(["len", "category"], **order).group_by("user_id").first())
    top_in_category = (with_category.group_by("category", "item_id").len()
                       .sort(["len", "item_id"], **order).group_by("category").head(k))
    recs = favourite.select("user_id", "category").join(top_in_category, on="category")
    hits = last.join(recs, left_on=["user_id", "target"], right_on=["user_id", "item_id"],
                     how="semi")
    users = last.join(_with_index(shop.users, "user_id", "u"), on="user_id").join(
        _with_index(shop.items, "item_id", "i"), left_on="target", right_on="item_id")
    scores = shop.truth.oracle_scores(users["u"].to_numpy(), when=0.95)
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    hr_oracle = (top == users["i"].to_numpy()[:, None]).any(axis=1).mean()
    return float(hr_popular or 0), hits.height / last.height, float(hr_oracle)


def test_latent_structure_is_learnable(shop: DemoShop) -> None:
    popular, personal, oracle = _hit_rates(shop)
    assert personal >= 3 * popular  # measured: 0.06 vs 0.47
    assert oracle > personal  # headroom above the simple baseline for real models


def test_same_seed_same_shop_other_seed_other_shop() -> None:
    a, b, c = _small(seed=3), _small(seed=3), _small(seed=4)
    for name in TABLES:
        assert a.tables()[name].equals(b.tables()[name]), name
    assert np.array_equal(a.truth.user_interests, b.truth.user_interests)
    assert not a.events.equals(c.events)
    assert not a.items.equals(c.items)


def test_scale_multiplies_items_users_and_events() -> None:
    base, double = _small(), _small(scale=2.0)
    assert double.items.height == 2 * base.items.height
    assert double.users.height == 2 * base.users.height
    assert 1.6 < double.events.height / base.events.height < 2.4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_items": 100}, "n_items"),
        ({"scale": 0.0}, "scale"),
        ({"days": 0}, "days"),
        ({"end": datetime(2026, 11, 1)}, "timezone-aware"),
    ],
)
def test_bad_arguments_raise_input_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        generate_demo_shop(**kwargs)  # type: ignore[arg-type]


def test_write_round_trips(tmp_path: Path) -> None:
    shop = generate_demo_shop(n_items=300, n_users=50, days=7)
    paths = shop.write(tmp_path, fmt="parquet")
    assert sorted(paths) == sorted(TABLES)
    for name, path in paths.items():
        assert pl.read_parquet(path).equals(shop.tables()[name]), name
    assert shop.write(tmp_path / "j", fmt="jsonl")["events"].stat().st_size > 0
    with pytest.raises(InputError, match="fmt"):
        shop.write(tmp_path, fmt="xlsx")  # type: ignore[arg-type]
