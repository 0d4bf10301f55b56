"""The full two-stage pipeline (candidates → LightGBM ranker → rules) in ``rec_quality.py``.

The pipeline trains on a time-stamped event log and returns final lists, not scores over
the catalog, so it is evaluated from its lists: a target's rank is its position in the
user's list (``LIST_LENGTH`` long, after removing the items the protocol masks), targets
outside the list count as unranked — Recall/NDCG@10/20 are exact, MRR is truncated there.

* Temporal split (Taobao): fitted on the events before the test cut, with each item's
  category; contexts are the users' events before the cut.
* Leave-one-out (sequence files, no real times): each user's training history becomes
  events with *right-aligned* synthetic times — the newest item at the same instant for
  everyone, each older item one hour earlier — and the pipeline's label window is set to
  30 minutes, so its ranker learns to predict every user's newest training item (the
  validation item) from the rest, and never sees a test item.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl

from shopmind.evaluation.loo import (
    beyond_accuracy,
    hit_rates,
    result_from_ranks,
    stage_exclude,
    stage_view,
)
from shopmind.evaluation.protocols import TemporalSplit
from shopmind.recommend.base import Histories, TrainingData

LIST_LENGTH = 100
_ALIGNED_END = datetime(2020, 1, 1, tzinfo=UTC)


def _aligned_events(data: TrainingData, event_type: str) -> pl.DataFrame:
    """Histories as events, every user's newest item at ``_ALIGNED_END``, one hour apart."""
    lengths = data.histories.lengths()
    users = np.repeat(np.arange(data.n_users), lengths)
    back = np.repeat(data.histories.indptr[1:], lengths) - 1 - np.arange(len(users))
    frame = pl.DataFrame({"user_id": data.users.to_ids(users),
                          "item_id": data.items.to_ids(data.histories.items), "back": back})
    return frame.select("user_id", "item_id", pl.lit(event_type).alias("type"),
                        (pl.lit(_ALIGNED_END) - pl.duration(hours=pl.col("back"))).alias("ts"))


def _items_frame(data: TrainingData, categories: np.ndarray | None) -> pl.DataFrame:
    frame = pl.DataFrame({"item_id": data.items.ids})
    if data.item_text is not None:
        frame = frame.with_columns(pl.Series("title", data.item_text))
    if categories is not None:
        frame = frame.with_columns(pl.Series("category", categories.astype(str)))
    return frame


def run_pipeline(loaded: Any, *, quick: bool) -> list[dict[str, Any]]:
    """Rows for the pipeline as shipped and with diversity off (one fit for both)."""
    from shopmind.recommend.pipeline import PipelineConfig, RecommendationPipeline
    from shopmind.recommend.rules import BusinessRules

    split = loaded.split
    data, targets = stage_view(split, "test")
    exclude = stage_exclude(split, "test") or data.histories
    items = _items_frame(data, loaded.categories)
    config = PipelineConfig(random_state=0)
    if isinstance(split, TemporalSplit):
        events = loaded.events.filter(pl.col("ts") < split.test_cut)
        now = split.test_cut
    else:
        events = _aligned_events(data, loaded.event_type)
        config = replace(config, label_days=0.5 / 24)
        now = _ALIGNED_END
    if quick:
        config = replace(config, max_train_users=2000)
    started = time.perf_counter()
    pipeline = RecommendationPipeline(config).fit(events, items)
    train_seconds = time.perf_counter() - started
    rows = np.flatnonzero(targets.lengths() > 0)
    context = pipeline.context_for(events, data.users.to_ids(rows).tolist(),
                                   now_us=int(now.timestamp() * 1_000_000))
    out = []
    variants = [("pipeline", BusinessRules())]
    if loaded.categories is not None:  # without categories the diversity rule is a no-op
        variants.append(("pipeline-nodiversity", BusinessRules(diversity="none")))
    for label, rules in variants:
        started = time.perf_counter()
        recs = pipeline.recommend(context, LIST_LENGTH + 50, rules, explain=False)
        lists = _masked_lists(recs, data, exclude.take(rows))
        ranks = _list_ranks(lists, targets.take(rows))
        result = result_from_ranks(ranks, targets.take(rows).indptr, lists, data.n_items,
                                   train_seconds=train_seconds,
                                   predict_seconds=time.perf_counter() - started)
        out.append({
            "model": label, "kind": "pipeline", "metrics": result.metrics,
            "hit_rate": hit_rates(result),
            "beyond_accuracy": beyond_accuracy(lists, data, item_categories=loaded.categories),
            "n_eval_users": len(rows), "train_seconds": train_seconds,
            "predict_seconds": result.predict_seconds,
            "params": {"generators": config.generators, "label_days": config.label_days,
                       "diversity": rules.diversity, "list_length": LIST_LENGTH},
            "notes": ["ranks from the pipeline's final list; MRR truncated at its length",
                      *(["leave-one-out: right-aligned synthetic times, ranker labels = "
                         "each user's newest training item"]
                        if not isinstance(split, TemporalSplit) else [])],
            "ranker": pipeline.metadata_,
        })
    return out


def _masked_lists(recs: list[list[Any]], data: TrainingData, exclude: Histories
                  ) -> np.ndarray:
    """(U, LIST_LENGTH) item indices of each final list without the masked items."""
    lists = np.full((len(recs), LIST_LENGTH), -1, dtype=np.int64)
    for row, rec in enumerate(recs):
        index = data.items.to_index([r.item_id for r in rec])
        index = index[(index >= 0) & ~np.isin(index, exclude[row])][:LIST_LENGTH]
        lists[row, :len(index)] = index
    return lists


def _list_ranks(lists: np.ndarray, targets: Histories) -> np.ndarray:
    """1-based position of each target in its user's list, ``inf`` when absent."""
    ranks = np.full(len(targets.items), np.inf)
    for row in range(len(targets)):
        lo, hi = targets.indptr[row], targets.indptr[row + 1]
        where = {int(item): pos + 1 for pos, item in enumerate(lists[row]) if item >= 0}
        ranks[lo:hi] = [where.get(int(t), np.inf) for t in targets.items[lo:hi]]
    return ranks
