"""Offline evaluation with full ranking: leave-one-out and temporal splits share one runner.

Fit on a split's training view, score every item for every user's training history, mask
the history, rank the held-out target(s) (ties count against the model) and report
metrics. The model only ever sees the training view of the stage it is evaluated on: for
the test stage that is every item but the test target, so a model that tunes or stops
early holds out the last item of each training history itself — which *is* the
validation target — and never sees a test target.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from shopmind.errors import InputError
from shopmind.evaluation.metrics import (
    average_recommendation_popularity,
    catalog_coverage,
    exposure_share,
    hit_rate_at_k,
    intra_list_diversity,
    mrr,
    ndcg_at_k,
    novelty,
    recall_at_k,
    target_ranks,
)
from shopmind.evaluation.protocols import LeaveOneOut, TemporalSplit
from shopmind.recommend.base import Histories, Recommender, TrainingData, top_k

ModelFactory = Callable[[], Recommender]
Split = LeaveOneOut | TemporalSplit
#: Called after each scored batch with (users done, users in total).
ProgressHook = Callable[[int, int], None]
#: Scores (B, n_items) of the given user rows from their histories; replaces
#: ``model.score(histories)`` for peers that keep per-user factors.
Scorer = Callable[[np.ndarray, Histories], np.ndarray]

#: Share of the most popular items that form the "head" for the exposure metric.
HEAD_SHARE = 0.2
_MAX_CELLS = 1 << 24  # bound on (target pairs × items) compared at once


@dataclass
class LooResult:
    """Metrics of one model on one stage (``valid`` or ``test``) of a split.

    ``ranks`` holds one rank per target; with several targets per user, user ``u``'s ranks
    are ``ranks[indptr[u]:indptr[u + 1]]`` (``indptr`` is None for one target per user).
    ``recommended`` holds each evaluated user's top-``K`` list (K ≥ 20).
    """

    stage: str
    n_users: int
    metrics: dict[str, float]
    train_seconds: float
    predict_seconds: float
    ranks: np.ndarray = field(repr=False)
    indptr: np.ndarray | None = field(default=None, repr=False)
    recommended: np.ndarray | None = field(default=None, repr=False)
    model: Recommender | None = field(default=None, repr=False)


def rank_targets(model: Recommender, data: TrainingData, targets: np.ndarray,
                 *, coverage_k: int = 10, batch_size: int = 1024
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Ranks of ``targets`` (users with target -1 skipped) and the top-``coverage_k`` lists."""
    users = np.flatnonzero(targets >= 0)
    ranks = np.empty(len(users), dtype=np.float64)
    tops = np.empty((len(users), coverage_k), dtype=np.int64)
    for start in range(0, len(users), batch_size):
        rows = users[start:start + batch_size]
        histories = data.histories.take(rows)
        scores = model.score(histories)
        seen_rows = np.repeat(np.arange(len(rows)), histories.lengths())
        scores[seen_rows, histories.items] = -np.inf
        ranks[start:start + len(rows)] = target_ranks(scores, targets[rows])
        tops[start:start + len(rows)] = top_k(scores, coverage_k)[0]
    return ranks, tops


def as_target_sets(targets: np.ndarray | Histories) -> Histories:
    """Leave-one-out targets (one item index or -1 per user) as one-item target sets."""
    if isinstance(targets, Histories):
        return targets
    has = targets >= 0
    indptr = np.zeros(len(targets) + 1, dtype=np.int64)
    np.cumsum(has, out=indptr[1:])
    return Histories(indptr=indptr, items=targets[has].astype(np.int32))


def rank_target_sets(
    model: Recommender | None, data: TrainingData, targets: Histories, *, top_n: int = 20,
    batch_size: int = 1024, progress: ProgressHook | None = None, scorer: Scorer | None = None,
    exclude: Histories | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rank every target of every user with at least one target, over the full catalog.

    Returns ``ranks`` (one per target), ``indptr`` (per evaluated user) and the (U, top_n)
    top lists, all without the items ``exclude`` names per user (None: the user's whole
    training history). Scores come from ``model.score(histories)`` or, when given,
    ``scorer(user_rows, histories)``.
    """
    if scorer is None:
        if model is None:
            raise InputError("rank_target_sets needs a model or a scorer")
        scorer = lambda _rows, histories: model.score(histories)  # noqa: E731
    users = np.flatnonzero(targets.lengths() > 0)
    subset = targets.take(users)
    ranks = np.empty(len(subset.items), dtype=np.float64)
    tops = np.full((len(users), min(top_n, data.n_items)), -1, dtype=np.int64)
    for start in range(0, len(users), batch_size):
        rows = users[start:start + batch_size]
        histories = data.histories.take(rows)
        scores = np.asarray(scorer(rows, histories), dtype=np.float32)
        if not scores.flags.writeable:
            scores = scores.copy()
        masked = histories if exclude is None else exclude.take(rows)
        seen_rows = np.repeat(np.arange(len(rows)), masked.lengths())
        scores[seen_rows, masked.items] = -np.inf
        batch_targets = subset.take(np.arange(start, start + len(rows)))
        pair_rows = np.repeat(np.arange(len(rows)), batch_targets.lengths())
        offset = subset.indptr[start]
        step = max(1, _MAX_CELLS // max(data.n_items, 1))
        for lo in range(0, len(pair_rows), step):
            r = pair_rows[lo:lo + step]
            ranks[offset + lo:offset + lo + len(r)] = target_ranks(
                scores[r], batch_targets.items[lo:lo + step].astype(np.int64))
        ids, values = top_k(scores, tops.shape[1])
        ids[np.isneginf(values)] = -1
        tops[start:start + len(rows)] = ids
        if progress is not None:
            progress(min(start + len(rows), len(users)), len(users))
    return ranks, subset.indptr, tops


def metrics_from_ranks(ranks: np.ndarray, tops: np.ndarray, n_items: int, *,
                       indptr: np.ndarray | None = None, k: int = 10) -> dict[str, float]:
    """The contract's metric set, plus ``recall@k``, ``ndcg@k``, ``coverage@k`` for other k."""
    metrics = {
        "recall@10": recall_at_k(ranks, 10, indptr=indptr),
        "ndcg@10": ndcg_at_k(ranks, 10, indptr=indptr),
        "recall@20": recall_at_k(ranks, 20, indptr=indptr),
        "ndcg@20": ndcg_at_k(ranks, 20, indptr=indptr),
        "mrr": mrr(ranks, indptr=indptr),
        "coverage@10": catalog_coverage(tops[:, :10], n_items),
    }
    if k not in (10, 20):
        metrics[f"recall@{k}"] = recall_at_k(ranks, k, indptr=indptr)
        metrics[f"ndcg@{k}"] = ndcg_at_k(ranks, k, indptr=indptr)
        metrics[f"coverage@{k}"] = catalog_coverage(tops[:, :k], n_items)
    return metrics


def popularity_groups(item_popularity: np.ndarray, head_share: float = HEAD_SHARE
                      ) -> np.ndarray:
    """``"head"`` for the ``head_share`` most popular items, ``"tail"`` for the rest."""
    n_head = int(np.ceil(head_share * len(item_popularity)))
    order = np.argsort(-item_popularity, kind="stable")
    groups = np.full(len(item_popularity), "tail", dtype=object)
    groups[order[:n_head]] = "head"
    return groups


def beyond_accuracy(recommended: np.ndarray, data: TrainingData, *, k: int = 10,
                    item_categories: np.ndarray | None = None) -> dict[str, float]:
    """Novelty, ARP, diversity and tail exposure of the top-``k`` lists.

    Popularity = number of training users per item. ``tail_exposure@k`` is the share of
    slots given to the 80 % least popular items (head = top 20 %, Abdollahpouri et al.
    2019); ``ild@k`` needs ``item_categories`` (one label per item).
    """
    lists = recommended[:, :k]
    popularity = data.item_popularity()
    out = {
        f"novelty@{k}": novelty(lists, popularity, data.n_users),
        f"arp@{k}": average_recommendation_popularity(lists, popularity),
        f"tail_exposure@{k}": exposure_share(lists, popularity_groups(popularity))
        .get("tail", 0.0),
    }
    if item_categories is not None:
        out[f"ild@{k}"] = intra_list_diversity(lists, item_categories=item_categories)
    return out


def stage_view(split: Split, stage: str) -> tuple[TrainingData, Histories]:
    """The training view and target sets of ``stage`` (``valid`` or ``test``)."""
    if stage not in ("valid", "test"):
        raise InputError(f"stage must be 'valid' or 'test', got {stage!r}")
    if stage == "valid":
        return split.valid_train, as_target_sets(split.valid_targets)
    return split.test_train, as_target_sets(split.test_targets)


def stage_exclude(split: Split, stage: str) -> Histories | None:
    """Items masked per user at ``stage`` (None: the user's whole training history)."""
    if isinstance(split, LeaveOneOut):
        return None
    return split.valid_exclude if stage == "valid" else split.test_exclude


def evaluate_stage(
    factory: ModelFactory, split: Split, stage: str, *, k: int = 10,
    fit: Callable[[Recommender, TrainingData], None] | None = None,
    progress: ProgressHook | None = None,
) -> LooResult:
    """Fit a fresh model on the ``stage`` view (``valid`` or ``test``) and score its targets.

    ``fit`` (optional) replaces ``model.fit(data)``, e.g. to attach a progress display; it
    receives only the training view, never the targets.
    """
    data, targets = stage_view(split, stage)
    model = factory()
    started = time.perf_counter()
    if fit is None:
        model.fit(data)
    else:
        fit(model, data)
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    ranks, indptr, tops = rank_target_sets(model, data, targets, top_n=max(20, k),
                                           progress=progress,
                                           exclude=stage_exclude(split, stage))
    predict_seconds = time.perf_counter() - started
    return result_from_ranks(ranks, indptr, tops, data.n_items, stage=stage, k=k,
                             train_seconds=train_seconds, predict_seconds=predict_seconds,
                             model=model)


def result_from_ranks(
    ranks: np.ndarray, indptr: np.ndarray, tops: np.ndarray, n_items: int, *,
    stage: str = "test", k: int = 10, train_seconds: float = 0.0,
    predict_seconds: float = 0.0, model: Recommender | None = None,
) -> LooResult:
    """A result from target ranks grouped by ``indptr`` (one group per evaluated user)."""
    grouped = None if bool(np.all(np.diff(indptr) == 1)) else indptr
    return LooResult(
        stage=stage, n_users=len(indptr) - 1,
        metrics=metrics_from_ranks(ranks, tops, n_items, indptr=grouped, k=k),
        train_seconds=train_seconds, predict_seconds=predict_seconds, ranks=ranks,
        indptr=grouped, recommended=tops, model=model)


def hit_rates(result: LooResult, ks: tuple[int, ...] = (1, 5, 10, 20)) -> dict[str, float]:
    """HitRate@K of a result for several K."""
    return {f"hit_rate@{k}": hit_rate_at_k(result.ranks, k, indptr=result.indptr) for k in ks}
