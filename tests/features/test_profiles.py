"""User profiles on tiny hand-made shops whose every value is worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from rich.console import Console

from shopmind.cli.profile_view import format_profile
from shopmind.data.schema import Shop
from shopmind.data.store import Chunk, Store, open_store
from shopmind.data.store.layout import STORED_TABLES
from shopmind.errors import InputError
from shopmind.features.profiles import (
    PROFILE_COLUMNS,
    SEGMENTS,
    ProfileRules,
    compute_and_store_profiles,
    compute_profiles,
    profile_from_storage,
    profiles_to_storage,
)

A = datetime(2024, 3, 31, 12, tzinfo=UTC)  # as_of, a Sunday
HALF_LIFE = 10.0
EVENT_SCHEMA = pl.Schema({"user_id": pl.String(), "item_id": pl.String(), "type": pl.String(),
                          "ts": pl.Datetime("us", "UTC"), "value": pl.Float64()})


def days_ago(days: float) -> datetime:
    return A - timedelta(days=days)


def _events(rows: list[tuple[str, str | None, str, datetime]]) -> pl.DataFrame:
    return pl.DataFrame([(*r, None) for r in rows], schema=EVENT_SCHEMA, orient="row")


@pytest.fixture
def items() -> pl.DataFrame:
    # shop price distribution: 10, 30, 50, 100 → percentiles 0.25, 0.5, 0.75, 1.0
    # within category "Women > Dresses > Maxi": 10 → (1 - 0.5) / 2 = 0.25, 30 → 0.75
    return pl.DataFrame({
        "item_id": ["i1", "i2", "i3", "i4", "i5"],
        "category": ["Women > Dresses > Maxi", "Women > Dresses > Maxi", "Women > Shoes",
                     "Men > Shirts", None],
        "brand": ["Acme", "Acme", "Bolt", None, None],
        "price": [10.0, 30.0, 50.0, 100.0, None],
    })


@pytest.fixture
def events() -> pl.DataFrame:
    bob_night = datetime(2024, 3, 29, 23, tzinfo=UTC)  # Friday 23:00, 1 d 13 h before A
    return _events([
        ("alice", "i1", "view", days_ago(40)),  # Tuesday
        ("alice", "i2", "view", days_ago(10)),  # Thursday
        ("alice", "i1", "cart", days_ago(10)),
        ("alice", "i1", "purchase", A),  # Sunday
        ("alice", "i3", "view", A),
        ("alice", None, "search", days_ago(1)),  # Saturday
        *[("bob", "i4", "view", bob_night)] * 10,
        ("carol", "i2", "cart", days_ago(1)),
        ("carol", "i3", "cart", days_ago(1)),
        ("dave", "i4", "purchase", days_ago(100)),  # Friday
        ("erin", "i5", "view", A),  # an item with no price, category or brand
        ("frank", "i3", "purchase", days_ago(40)),
        ("frank", "i3", "view", days_ago(35)),
    ])


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def _by_user(frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {row["user_id"]: row for row in frame.iter_rows(named=True)}


def _hist(size: int, **counts: int) -> list[int]:
    out = [0] * size
    for key, count in counts.items():
        out[int(key.removeprefix("h"))] = count
    return out


@pytest.fixture
def profiles(events: pl.DataFrame, items: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return _by_user(compute_profiles(events, items, as_of=A, half_life_days=HALF_LIFE))


def test_every_value_of_a_full_profile(profiles: dict[str, dict[str, Any]]) -> None:
    # Decayed scores 2^(-age/10): i1 = view 1·2^-4 + cart 3·2^-1 + purchase 5·1 = 6.5625,
    # i2 = view 1·2^-1 = 0.5, i3 = view 1·1 = 1; total 8.0625 (the search has no weight).
    # Buyers alice (last purchase A), frank (A-40 d), dave (A-100 d): R ranks 3, 2, 1 →
    # scores 1 + floor(5·(r-1)/3) = 4, 2, 1; every F = 1 (tie → rank 1 → score 1);
    # M 10, 50, 100 → 1, 2, 4. alice: R4, FM = (1+1+1)//2 = 1 → promising.
    expected = {
        "user_id": "alice", "as_of": A, "n_events": 6, "n_views": 3, "n_clicks": 0,
        "n_carts": 1, "n_purchases": 1, "first_seen": days_ago(40), "last_seen": A,
        "recency_days": 0.0, "purchase_recency_days": 0.0, "frequency": 1, "monetary": 10.0,
        "r_score": 4, "f_score": 1, "m_score": 1, "rfm_segment": "promising",
        "top_categories": [{"name": "Women", "weight": 1.0}],
        "top_leaf_categories": [
            {"name": "Women > Dresses > Maxi", "weight": 7.0625 / 8.0625},
            {"name": "Women > Shoes", "weight": 1 / 8.0625},
        ],
        "top_brands": [{"name": "Acme", "weight": 7.0625 / 8.0625},
                       {"name": "Bolt", "weight": 1 / 8.0625}],
        "brand_loyalty": 7.0625 / 8.0625,
        "typical_price": 10.0,  # median of 10, 30, 10, 10, 50
        "price_percentile": 0.25,  # 1 of 4 priced items costs ≤ 10 (0.25 is not < 0.25)
        "price_band": "mid",
        "price_sensitivity": 0.75,  # cart and purchase of i1 (0.25 in its category)
        "recent_events": 5, "activity_level": "medium",
        "lifecycle": "active",  # recency 0 ≤ 30, tenure 40 > 30
        "hour_histogram": _hist(24, h12=6), "peak_hour": 12,
        "weekday_histogram": [0, 1, 0, 2, 0, 1, 2], "peak_weekday": 3,  # Thu before Sun
        "night_share": 0.0, "weekend_share": 0.5,
        "n_cart_items": 1, "n_abandoned_cart_items": 0,
        "tags": ["price-sensitive", "brand-loyal", "weekend-shopper"],
        "tags_zh": ["价格敏感", "品牌忠诚", "周末购物"],
    }
    assert list(profiles["alice"]) == list(PROFILE_COLUMNS)
    assert _rounded(profiles["alice"]) == _rounded(expected)


def test_views_only_user(profiles: dict[str, dict[str, Any]]) -> None:
    bob = profiles["bob"]
    assert bob["recency_days"] == pytest.approx(37 / 24)
    assert (bob["frequency"], bob["monetary"], bob["purchase_recency_days"]) == (0, 0.0, None)
    assert (bob["r_score"], bob["f_score"], bob["m_score"]) == (None, None, None)
    assert bob["rfm_segment"] == "prospect"
    assert bob["top_categories"] == [{"name": "Men", "weight": 1.0}]
    assert bob["top_brands"] == [] and bob["brand_loyalty"] is None
    assert (bob["typical_price"], bob["price_percentile"], bob["price_band"]) == (
        100.0, 1.0, "luxury")
    assert bob["price_sensitivity"] is None
    assert (bob["lifecycle"], bob["activity_level"]) == ("new", "medium")
    assert bob["hour_histogram"] == _hist(24, h23=10) and bob["peak_hour"] == 23
    assert bob["weekday_histogram"] == _hist(7, h4=10)
    assert (bob["night_share"], bob["weekend_share"]) == (1.0, 0.0)
    assert bob["tags"] == ["window-shopper", "night-owl", "new-customer"]
    assert bob["tags_zh"] == ["只逛不买", "夜猫子", "新客"]


def test_cart_abandoner_churned_at_risk_and_unpriced_users(
    profiles: dict[str, dict[str, Any]],
) -> None:
    carol = profiles["carol"]  # two carts at the same time: equal weights, ties by name
    assert carol["top_leaf_categories"] == [
        {"name": "Women > Dresses > Maxi", "weight": 0.5}, {"name": "Women > Shoes", "weight": 0.5}
    ]
    assert carol["typical_price"] == 40.0 and carol["price_band"] == "mid"
    assert carol["price_sensitivity"] == pytest.approx(1 - (0.75 + 0.5) / 2)
    assert (carol["n_cart_items"], carol["n_abandoned_cart_items"]) == (2, 2)
    assert carol["tags"] == ["cart-abandoner", "new-customer"]  # only 2 events: no habits

    dave = profiles["dave"]  # R1, F1, M4 → FM 3 → at_risk; 100 days since the last event
    assert (dave["r_score"], dave["f_score"], dave["m_score"]) == (1, 1, 4)
    assert (dave["rfm_segment"], dave["lifecycle"]) == ("at_risk", "churned")
    assert (dave["recent_events"], dave["activity_level"]) == (0, "inactive")
    assert dave["tags"] == ["churn-risk"]

    frank = profiles["frank"]  # R2, F1, M2 → FM 2 → hibernating; last seen 35 days ago
    assert (frank["rfm_segment"], frank["lifecycle"]) == ("hibernating", "at_risk")
    assert frank["tags"] == ["churn-risk"]

    erin = profiles["erin"]
    assert erin["top_categories"] == [] and erin["top_brands"] == []
    for key in ("typical_price", "price_percentile", "price_band", "price_sensitivity"):
        assert erin[key] is None
    assert erin["tags"] == ["new-customer"]


def test_rfm_quintiles_and_segments() -> None:
    # 5 buyers with distinct values: score = rank. u_k buys item p (price 10) f_k times.
    plan = {"u1": (1, 5), "u2": (2, 1), "u3": (3, 3), "u4": (4, 4), "u5": (5, 2)}
    rows = [(u, "p", "purchase", days_ago(d)) for u, (d, f) in plan.items() for _ in range(f)]
    items = pl.DataFrame({"item_id": ["p"], "price": [10.0]})
    got = _by_user(compute_profiles(_events([*rows, ("u6", "p", "view", A)]), items))
    scores = {u: (p["r_score"], p["f_score"], p["m_score"], p["rfm_segment"])
              for u, p in got.items()}
    assert scores == {
        "u1": (5, 5, 5, "champions"),  # FM = (5+5+1)//2 = 5
        "u2": (4, 1, 1, "promising"),
        "u3": (3, 3, 3, "need_attention"),
        "u4": (2, 4, 4, "at_risk"),
        "u5": (1, 2, 2, "lost"),
        "u6": (None, None, None, "prospect"),
    }
    assert got["u1"]["monetary"] == 50.0
    assert {"big-spender", "loyal-customer"} <= set(got["u1"]["tags"])
    assert "churn-risk" in got["u4"]["tags"]


def test_segment_grid_covers_every_score_pair_once() -> None:
    assert sorted(SEGMENTS) == [(r, fm) for r in range(1, 6) for fm in range(1, 6)]


def test_orders_drive_frequency_and_monetary_when_present() -> None:
    ev = _events([("u1", "p", "purchase", days_ago(1)), ("u2", "p", "view", A)])
    orders = pl.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4", "o5"],
        "user_id": ["u1", "u1", "u2", "u7", "u2"],
        "created_at": [days_ago(3), days_ago(1), days_ago(2), days_ago(5), A + timedelta(1)],
        "total": [100.0, 50.0, 80.0, 20.0, 999.0],
        "status": ["paid", "completed", "cancelled", "delivered", "paid"],
    })
    items = pl.DataFrame({"item_id": ["p"], "price": [10.0]})
    got = _by_user(compute_profiles(ev, items, orders, as_of=A))
    assert (got["u1"]["frequency"], got["u1"]["monetary"]) == (2, 150.0)
    assert got["u1"]["purchase_recency_days"] == 1.0
    assert (got["u2"]["frequency"], got["u2"]["rfm_segment"]) == (0, "prospect")
    u7 = got["u7"]  # an order but no events
    assert (u7["n_events"], u7["frequency"], u7["monetary"]) == (0, 1, 20.0)
    assert (u7["first_seen"], u7["recency_days"]) == (days_ago(5), 5.0)
    assert u7["hour_histogram"] == [0] * 24 and u7["peak_hour"] is None
    # buyers u7 (R1 F1 M1 → lost) and u1 (1 + floor(5/2) = 3 on each → need_attention)
    assert (got["u1"]["r_score"], got["u1"]["f_score"], got["u1"]["m_score"]) == (3, 3, 3)
    assert (got["u1"]["rfm_segment"], u7["rfm_segment"]) == ("need_attention", "lost")


def test_time_zone_moves_hours_and_weekdays(events: pl.DataFrame, items: pl.DataFrame) -> None:
    bob = _by_user(compute_profiles(events, items, as_of=A, tz="Asia/Shanghai"))["bob"]
    assert bob["peak_hour"] == 7 and bob["peak_weekday"] == 5  # Saturday 07:00 in Shanghai
    assert bob["tags"] == ["window-shopper", "weekend-shopper", "new-customer"]


def test_as_of_ignores_later_events(events: pl.DataFrame, items: pl.DataFrame) -> None:
    got = _by_user(compute_profiles(events, items, as_of=days_ago(20)))
    assert sorted(got) == ["alice", "dave", "frank"]
    assert got["alice"]["n_events"] == 1 and got["alice"]["recency_days"] == 20.0
    assert got["frank"]["lifecycle"] == "new"  # 20 days of tenure at that time


def test_default_as_of_is_the_latest_event(events: pl.DataFrame, items: pl.DataFrame) -> None:
    frame = compute_profiles(events, items)
    assert frame["as_of"].unique().to_list() == [A]


def test_empty_inputs_give_an_empty_frame_with_every_column(events: pl.DataFrame) -> None:
    frame = compute_profiles(events.clear(), None, None)
    assert frame.height == 0 and frame.columns == list(PROFILE_COLUMNS)
    no_items = _by_user(compute_profiles(events, as_of=A))["alice"]
    assert no_items["typical_price"] is None and no_items["top_categories"] == []
    assert no_items["n_events"] == 6


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"as_of": datetime(2024, 1, 1)}, "timezone-aware"),
        ({"tz": "Mars/Olympus"}, "unknown time zone"),
        ({"half_life_days": 0}, "half_life_days"),
        ({"top_k": 0}, "top_k"),
        ({"at_risk_days": 90, "churned_days": 30}, "at_risk_days"),
    ],
)
def test_bad_arguments_are_named(events: pl.DataFrame, kwargs: dict[str, Any],
                                 message: str) -> None:
    with pytest.raises(InputError, match=message):
        compute_profiles(events, **kwargs)


def test_storage_form_round_trips(events: pl.DataFrame, items: pl.DataFrame) -> None:
    frame = compute_profiles(events, items, as_of=A, half_life_days=HALF_LIFE)
    computed_at = datetime(2024, 4, 1, tzinfo=UTC)
    stored = profiles_to_storage(frame, computed_at=computed_at)
    assert tuple(stored.columns) == STORED_TABLES["profiles"].columns
    assert stored["computed_at"].dtype == pl.Int64
    for row, original in zip(stored.iter_rows(named=True), frame.iter_rows(named=True),
                             strict=True):
        assert profile_from_storage(row) == {**original, "computed_at": computed_at}


def _shop_store(tmp_path: Path, events: pl.DataFrame, items: pl.DataFrame,
                **more: pl.DataFrame) -> Store:
    """A SQLite store holding shop ``s`` with these items and events (and ``more`` tables)."""
    store = open_store("sqlite:///" + str(tmp_path / "s.db"))
    store.ensure_shop(Shop(shop_id="s"))
    store.apply_chunk("s", Chunk(frames={
        "items": items.with_columns(placeholder=pl.lit(False)),
        "events": events.with_row_index("event_key").cast({"event_key": pl.Int64}), **more}))
    return store


def test_users_who_opted_out_get_no_profile(tmp_path: Path, events: pl.DataFrame,
                                            items: pl.DataFrame) -> None:
    store = _shop_store(tmp_path, events, items, users=pl.DataFrame(
        {"user_id": ["alice"], "consent_personalization": [False]}))
    try:
        assert compute_and_store_profiles(store, "s", as_of=A, half_life_days=HALF_LIFE) == 5
        assert store.read_table("s", "profiles", where={"user_id": "alice"}).is_empty()
    finally:
        store.close()


def test_compute_and_store_profiles_through_sqlite(
    tmp_path: Path, events: pl.DataFrame, items: pl.DataFrame
) -> None:
    store = _shop_store(tmp_path, events, items)
    try:
        assert compute_and_store_profiles(store, "s", as_of=A, half_life_days=HALF_LIFE) == 6
        assert compute_and_store_profiles(store, "s", as_of=A, half_life_days=HALF_LIFE) == 6
        assert store.count("s", "profiles") == 6
        stored = store.read_table("s", "profiles", where={"user_id": "alice"})
    finally:
        store.close()
    assert stored.height == 1
    alice = profile_from_storage(stored.row(0, named=True))
    direct = _by_user(compute_profiles(events, items, as_of=A, half_life_days=HALF_LIFE))
    assert {k: v for k, v in alice.items() if k != "computed_at"} == direct["alice"]
    assert (alice["rfm_segment"], alice["lifecycle"]) == ("promising", "active")

    console = Console(record=True, width=120)
    console.print(format_profile(alice))
    text = console.export_text()
    for snippet in ("User alice", "promising", "R4 F1 M1", "Women > Dresses > Maxi 88%",
                    "price-sensitive / 价格敏感", "peak 12:00", "peak Thu"):
        assert snippet in text


def test_format_profile_tolerates_missing_values(profiles: dict[str, dict[str, Any]]) -> None:
    console = Console(record=True, width=120)
    console.print(format_profile(profiles["erin"]))
    console.print(format_profile({"user_id": "ghost"}))
    text = console.export_text()
    assert "User erin" in text and "User ghost" in text and "—" in text


def test_profile_rules_refuse_inconsistent_thresholds() -> None:
    with pytest.raises(InputError, match="activity_bins"):
        ProfileRules(activity_bins=(5, 1, 20))
    with pytest.raises(InputError, match="price_band_edges"):
        ProfileRules(price_band_edges=(0.5, 0.25, 0.95))
    with pytest.raises(InputError, match="night_hours"):
        ProfileRules(night_hours=(24,))


def test_custom_rules_change_buckets_and_tags(events: pl.DataFrame, items: pl.DataFrame) -> None:
    rules = ProfileRules(activity_bins=(1, 2, 3), window_shopper_min_views=11)
    bob = _by_user(compute_profiles(events, items, as_of=A, rules=rules))["bob"]
    assert bob["activity_level"] == "high" and "window-shopper" not in bob["tags"]
