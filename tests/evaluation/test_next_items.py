"""Pipeline vs single models on what users did next (temporal holdout)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from shopmind.data.datasets.demo import generate_demo_shop
from shopmind.evaluation.next_items import evaluate_next_items, list_metrics
from shopmind.recommend.pipeline import PipelineConfig


def test_list_metrics_by_hand() -> None:
    tops = np.array([[5, 1, 2], [7, 8, 9]])
    out = list_metrics(tops, [{1, 4}, {9}], 3)
    assert out["recall@3"] == (0.5 + 1.0) / 2
    assert out["hit_rate@3"] == 1.0
    first = (1 / np.log2(3)) / (1 + 1 / np.log2(3))  # hit at rank 2 of 2 targets
    second = (1 / np.log2(4)) / 1.0
    assert abs(out["ndcg@3"] - (first + second) / 2) < 1e-12


def test_personalized_methods_beat_popularity_on_the_demo_shop() -> None:
    shop = generate_demo_shop(n_items=500, n_users=1200, days=40, seed=5)
    cut = shop.events["ts"].max() - timedelta(days=5)
    config = PipelineConfig(generators={"recent": 20, "popular": 20, "itemknn": 50})
    report = evaluate_next_items(shop.events, shop.items, cut,
                                 models=("popular", "itemknn"), config=config)
    assert report.n_users > 100
    assert set(report.metrics) == {"popular", "itemknn", "pipeline"}
    popular = report.metrics["popular"]["ndcg@10"]
    assert report.metrics["itemknn"]["ndcg@10"] > 2 * popular
    assert report.metrics["pipeline"]["ndcg@10"] > 2 * popular
