"""What did users do next? Compare the full pipeline with single models on an event log.

Global temporal protocol for shop event logs: everything before ``cut`` is training, and
for every user active on both sides, the targets are the distinct items they interacted
with after the cut (views included: in a shop, coming back to an item is what a good list
enables). Every method ranks the whole catalog except the items the user already bought
(the pipeline's rule), so single models and the pipeline face the same task. Lists are
compared with the metrics of :mod:`shopmind.evaluation.metrics` (several targets per user:
Recall@K, NDCG@K with the ideal DCG over min(K, |T|) targets, HitRate@K).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from shopmind.evaluation.metrics import hit_rate_at_k, ndcg_at_k, recall_at_k
from shopmind.recommend.base import create_model
from shopmind.recommend.context import UserContext
from shopmind.recommend.data import INTERACTION_TYPES, from_events
from shopmind.recommend.pipeline import PipelineConfig, RecommendationPipeline, _catalog_ids


def list_ranks(tops: np.ndarray, targets: list[set[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Rank of every target in its user's list (``inf`` when absent) and the CSR offsets.

    >>> list_ranks(np.array([[1, 2, 3]]), [{2, 9}])[0].tolist()
    [2.0, inf]
    """
    ranks: list[float] = []
    indptr = [0]
    for row, wanted in zip(tops, targets, strict=True):
        position = {int(item): r for r, item in enumerate(row.tolist(), start=1) if item >= 0}
        ranks.extend(float(position.get(t, np.inf)) for t in sorted(wanted))
        indptr.append(len(ranks))
    return np.asarray(ranks, dtype=np.float64), np.asarray(indptr, dtype=np.int64)


def list_metrics(tops: np.ndarray, targets: list[set[int]], k: int) -> dict[str, float]:
    """Recall, NDCG and HitRate at ``k`` of ranked lists against target sets
    (the definitions of :mod:`shopmind.evaluation.metrics`, several targets per user).

    >>> list_metrics(np.array([[1, 2, 3]]), [{2, 9}], 3)["recall@3"]
    0.5
    """
    ranks, indptr = list_ranks(tops, targets)
    return {f"recall@{k}": recall_at_k(ranks, k, indptr=indptr),
            f"ndcg@{k}": ndcg_at_k(ranks, k, indptr=indptr),
            f"hit_rate@{k}": hit_rate_at_k(ranks, k, indptr=indptr)}


@dataclass
class NextItemsReport:
    """Metrics per method (``pipeline`` and each single model), plus timing and counts."""

    cut: datetime
    n_users: int
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    fit_seconds: dict[str, float] = field(default_factory=dict)
    lists: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    users: list[str] = field(default_factory=list, repr=False)
    targets: list[set[int]] = field(default_factory=list, repr=False)
    pipeline: RecommendationPipeline | None = field(default=None, repr=False)
    history: pl.DataFrame | None = field(default=None, repr=False)  # events before the cut

    def best_single(self) -> tuple[str, float]:
        singles = {m: v["ndcg@10"] for m, v in self.metrics.items() if m != "pipeline"}
        name = max(singles, key=lambda m: singles[m])
        return name, singles[name]


def evaluate_next_items(
    events: pl.DataFrame,
    items: pl.DataFrame | None,
    cut: datetime,
    *,
    models: tuple[str, ...] = ("popular", "recent", "covisit", "als", "itemknn"),
    model_params: dict[str, dict[str, Any]] | None = None,
    config: PipelineConfig | None = None,
    k: int = 10,
    max_users: int = 5_000,
    seed: int = 0,
) -> NextItemsReport:
    """Fit every method on events before ``cut`` and score what users did after it."""
    before = events.filter(pl.col("ts") < cut)
    after = events.filter((pl.col("ts") >= cut) & pl.col("type").is_in(INTERACTION_TYPES)
                          & pl.col("item_id").is_not_null())
    users = after.join(before.select("user_id").unique(), on="user_id")["user_id"].unique().sort()
    if len(users) > max_users:
        users = users.sample(max_users, seed=seed).sort()
    ids = _catalog_ids(events, items)
    catalog = pl.DataFrame({"item_id": ids.ids})
    if items is not None and items.height:
        catalog = catalog.join(items.unique("item_id", keep="last"), on="item_id", how="left",
                               maintain_order="left")
    user_list = users.to_list()
    cut_us = int(cut.timestamp() * 1_000_000)
    context = UserContext.from_events(before, user_list, ids, now_us=cut_us)
    future = after.filter(pl.col("user_id").is_in(users.implode()))
    future = future.select("user_id", ids.to_index_series(future["item_id"]).alias("i"))
    grouped = dict(future.drop_nulls().group_by("user_id").agg(pl.col("i").unique())
                   .iter_rows())
    bought = context.purchased()
    # items already bought are excluded from every list, so they cannot count as targets
    targets = [set(grouped.get(u, [])) - set(bought[row].tolist())
               for row, u in enumerate(user_list)]
    keep = np.array([bool(t) for t in targets])
    report = NextItemsReport(cut=cut, n_users=int(keep.sum()),
                             users=[u for u, t in zip(user_list, targets, strict=True) if t],
                             targets=[t for t in targets if t])

    data = from_events(before, catalog)
    histories = context.histories
    for name in models:
        started = time.perf_counter()
        model = create_model(name, **(model_params or {}).get(name, {})).fit(data)
        report.fit_seconds[name] = time.perf_counter() - started
        tops, _ = model.recommend(histories, k, exclude_seen=False, exclude=bought)
        report.lists[name] = tops[keep]
        report.metrics[name] = list_metrics(tops[keep], report.targets, k)

    started = time.perf_counter()
    pipeline = RecommendationPipeline(config or PipelineConfig()).fit(before, items)
    report.fit_seconds["pipeline"] = time.perf_counter() - started
    recs = pipeline.recommend(context, k, explain=False)
    tops = np.full((len(recs), k), -1, dtype=np.int64)
    for row, rec in enumerate(recs):
        index = ids.to_index([r.item_id for r in rec])
        tops[row, : len(index)] = index
    report.lists["pipeline"] = tops[keep]
    report.pipeline, report.history = pipeline, before
    report.metrics["pipeline"] = list_metrics(tops[keep], report.targets, k)
    return report
