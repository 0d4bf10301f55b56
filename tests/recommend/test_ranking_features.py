"""The ranker's features on a hand-computed fixture (two users, four items)."""

from __future__ import annotations

import doctest
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from shopmind.features.idmap import IdMap
from shopmind.recommend import ranking_features as module
from shopmind.recommend.catalog import ItemCatalog
from shopmind.recommend.context import UserContext
from shopmind.recommend.ranking_features import ItemStats, ranking_features

NOW = datetime(2024, 3, 10, tzinfo=UTC)


def _fixture() -> pl.DataFrame:
    ids = IdMap(["a", "b", "c", "d"])
    items = pl.DataFrame({
        "item_id": ["a", "b", "c", "d"],
        "category": ["shoes > run", "shoes > walk", "bags", None],
        "brand": ["x", "y", "x", None],
        "price": [100.0, 50.0, 30.0, None],
    })
    catalog = ItemCatalog.build(ids, items)
    events = pl.DataFrame({
        "user_id": ["u1", "u1", "u1", "u1", "u2"],
        "item_id": ["a", "b", "a", "d", "c"],
        "type": ["view", "view", "cart", "view", "purchase"],
        "ts": [NOW - timedelta(days=d) for d in (4, 3, 2, 1, 5)],
    })
    now_us = int(NOW.timestamp() * 1_000_000)
    context = UserContext.from_events(events, ["u1", "u2", "nobody"], ids, now_us=now_us)
    stats = ItemStats(popularity=np.array([1, 1, 1, 1], dtype=np.float32),
                      trend=np.zeros(4, dtype=np.float32),
                      first_seen_us=np.zeros(4, dtype=np.int64))
    candidates = {"row": np.array([0, 0, 0, 1, 2], dtype=np.int32),
                  "item": np.array([0, 2, 3, 0, 1], dtype=np.int32)}
    return pl.DataFrame(ranking_features(candidates, context, catalog, stats))


def test_user_item_features_count_weigh_and_date_the_users_own_events() -> None:
    frame = _fixture()
    first = frame.row(0, named=True)  # u1 × a: viewed 4 days ago, carted 2 days ago
    assert first["ui_events"] == 2
    assert first["ui_weight"] == 1.0 + 3.0  # view + cart weights
    assert (first["ui_carted"], first["ui_bought"]) == (1, 0)
    assert math.isclose(first["ui_days_since"], 2.0)
    untouched = frame.row(1, named=True)  # u1 × c: never touched
    assert untouched["ui_events"] == 0 and math.isnan(untouched["ui_days_since"])


def test_category_brand_and_price_features_follow_the_users_history() -> None:
    frame = _fixture()
    first, bag, unknown, other, nobody = frame.iter_rows(named=True)
    total = 1.0 + 1.0 + 3.0 + 1.0  # u1: view a, view b, cart a, view d
    assert math.isclose(first["uc_share"], 5.0 / total)  # "shoes": a, b, a
    assert math.isclose(first["uc_days_since"], 2.0)
    assert math.isclose(first["ub_share"], 4.0 / total)  # brand x: a twice
    assert bag["uc_share"] == 0.0 and math.isnan(bag["uc_days_since"])
    assert math.isclose(bag["ub_share"], 4.0 / total)  # c is brand x too
    assert math.isclose(first["price_ratio"], 100.0 / 100.0)  # median of 100, 50, 100
    assert unknown["uc_share"] == 0.0 and math.isnan(unknown["price_ratio"])
    assert math.isclose(other["price_ratio"], 100.0 / 30.0)  # u2 bought c at 30
    assert math.isclose(first["user_days_since"], 1.0) and first["user_events"] == 4
    assert nobody["user_events"] == 0 and math.isnan(nobody["user_days_since"])
    assert nobody["uc_share"] == 0.0 and math.isnan(nobody["price_ratio"])


def test_module_examples_hold() -> None:
    assert doctest.testmod(module).failed == 0
