"""The two-stage pipeline end to end on a small generated shop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from shopmind.data.datasets.demo import generate_demo_shop
from shopmind.errors import InputError, NotFittedError
from shopmind.recommend.pipeline import PipelineConfig, RecommendationPipeline
from shopmind.recommend.rules import BusinessRules

GENERATORS = {"popular": 30, "itemknn": 60}


@pytest.fixture(scope="module")
def shop():  # type: ignore[no-untyped-def]
    return generate_demo_shop(n_items=600, n_users=1500, days=45, seed=3)


@pytest.fixture(scope="module")
def pipeline(shop) -> RecommendationPipeline:  # type: ignore[no-untyped-def]
    return RecommendationPipeline(PipelineConfig(generators=GENERATORS)).fit(
        shop.events, shop.items)


def _users(shop, n: int = 20) -> list[str]:  # type: ignore[no-untyped-def]
    return shop.events["user_id"].unique().sort().head(n).to_list()


def test_lists_have_k_unique_items_with_reasons(pipeline, shop) -> None:  # type: ignore[no-untyped-def]
    users = _users(shop)
    recs = pipeline.recommend(pipeline.context_for(shop.events, users), k=10)
    assert len(recs) == len(users)
    for rec in recs:
        ids = [r.item_id for r in rec]
        assert len(ids) == 10 and len(set(ids)) == 10
        assert all(r.reason.text for r in rec)
    assert pipeline.metadata_["candidate_recall"] > 0.3


def test_purchased_items_are_excluded_and_filters_hold(pipeline, shop) -> None:  # type: ignore[no-untyped-def]
    buyers = shop.events.filter(pl.col("type") == "purchase")["user_id"].unique().sort()
    user = buyers[0]
    bought = set(shop.events.filter((pl.col("user_id") == user) & (pl.col("type") == "purchase"))
                 ["item_id"].to_list())
    context = pipeline.context_for(shop.events, [user])
    (recs,) = pipeline.recommend(context, k=20)
    assert bought.isdisjoint(r.item_id for r in recs)
    cheap = BusinessRules(price_max=50.0)
    (recs,) = pipeline.recommend(context, k=10, rules=cheap)
    prices = dict(shop.items.select("item_id", "price").iter_rows())
    assert recs and all(prices[r.item_id] <= 50.0 for r in recs)
    top = shop.items["category"][0].split(" > ")[0]
    (recs,) = pipeline.recommend(context, k=10, rules=BusinessRules(category=top))
    categories = dict(shop.items.select("item_id", "category").iter_rows())
    assert recs and all(categories[r.item_id].startswith(top) for r in recs)


def test_pins_promotions_and_category_cap(pipeline, shop) -> None:  # type: ignore[no-untyped-def]
    context = pipeline.context_for(shop.events, _users(shop, 1))
    in_stock = shop.items.filter(pl.col("stock") > 0)["item_id"]
    pin, promo = in_stock[5], in_stock[6]
    rules = BusinessRules(pins={0: pin}, promotions=(promo,), promotion_share=0.2,
                          diversity="cap", category_cap=2)
    (recs,) = pipeline.recommend(context, k=10, rules=rules)
    assert recs[0].item_id == pin and recs[0].origin == "pinned"
    assert promo in [r.item_id for r in recs]  # promoted in, unless it ranked there anyway
    ranked = [r for r in recs if r.origin == "ranked"]
    tops = dict(shop.items.select("item_id", pl.col("category").str.split(" > ").list.first())
                .iter_rows())
    counts = pl.Series([tops[r.item_id] for r in ranked]).value_counts()
    assert counts["count"].max() <= 2 or len(ranked) > 2 * counts.height


def test_cold_start_user_gets_trending_answer(pipeline, shop) -> None:  # type: ignore[no-untyped-def]
    (recs,) = pipeline.recommend(pipeline.context_for(shop.events, ["nobody"]), k=5)
    assert len(recs) == 5 and all(r.reason.kind == "trending" for r in recs)


def test_save_load_round_trip(pipeline, shop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    context = pipeline.context_for(shop.events, _users(shop, 5))
    before = pipeline.recommend(context, k=10)
    loaded = RecommendationPipeline.load(pipeline.save(tmp_path / "p"))
    after = loaded.recommend(context, k=10)
    for a, b in zip(before, after, strict=True):
        assert [r.item_id for r in a] == [r.item_id for r in b]
        np.testing.assert_allclose([r.score for r in a], [r.score for r in b], rtol=1e-5)


def test_bad_input() -> None:
    with pytest.raises(NotFittedError):
        RecommendationPipeline().recommend(None, k=3)  # type: ignore[arg-type]
    empty = pl.DataFrame(schema={"user_id": pl.String, "item_id": pl.String,
                                 "type": pl.String, "ts": pl.Datetime("us", "UTC")})
    with pytest.raises(InputError, match="empty event log"):
        RecommendationPipeline().fit(empty)
