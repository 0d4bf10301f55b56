"""Item-to-item co-visitation: "people who touched this next touched that".

The workhorse candidate generator of e-commerce recommendation (Linden, Smith & York,
"Amazon.com recommendations: item-to-item collaborative filtering", IEEE Internet
Computing 2003; the co-visitation matrices of the OTTO RecSys Kaggle challenge, 2023).
Each user's chronological sequence contributes item pairs ``(i, j)`` at most ``window``
positions apart:

* **gap:** a pair ``d`` positions apart weighs ``gap_decay ** (d − 1)``;
* **direction:** ``j`` *after* ``i`` counts fully, ``j`` before ``i`` counts
  ``backward_weight`` (what people do next predicts better than what they did before);
* **strength:** the pair is multiplied by the event weight of ``j`` when the data carries
  them (view < cart < purchase), so "viewed i, then bought j" beats "viewed i, viewed j";
* **time:** with timestamps, pairs further apart than ``max_gap_hours`` are skipped.

Counts ``C[i, j]`` are normalised to
``C[i, j] / (pop_i ** (1 − alpha) · pop_j ** alpha + shrink)`` (``pop`` = interactions per
item; ``alpha`` trades the neighbour's popularity against the source's; ``shrink`` damps
pairs seen only a few times, as in item-kNN), and only the ``n_neighbours`` strongest
neighbours of each item are kept. A history is scored as the recency-weighted sum of its
items' neighbour rows: the item ``a`` positions from the end weighs ``history_decay ** a``,
and only the last ``max_history`` items are read — one sparse row product, cheap enough
for real-time serving.

Pairs are built with one vectorized pass per offset ``d = 1 … window`` (never a Python loop
over users or pairs) and accumulated in ``scipy.sparse``.

The defaults were tuned on the validation items of Amazon Beauty and ML-1M (leave-one-out):
order matters on both — a steep history decay (0.7 per step back), a forward-leaning pair
weight (backward 0.3) and a mild popularity penalty (``alpha`` 0.3) each gained 10–40 %
NDCG@10 over the order-blind setting (validation NDCG@10 0.068 on Beauty, 0.163 on ML-1M).
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

from shopmind.errors import InputError
from shopmind.recommend.base import Histories, Recommender, TrainingData, register
from shopmind.recommend.models.knn import (
    csr_from_state,
    csr_state,
    keep_top_n,
    with_popularity_fallback,
)

logger = logging.getLogger(__name__)

_US_PER_HOUR = 3_600 * 1_000_000


def covisitation_counts(
    histories: Histories,
    n_items: int,
    *,
    window: int,
    gap_decay: float,
    backward_weight: float,
    timestamps: np.ndarray | None = None,
    max_gap_hours: float | None = None,
) -> sp.csr_matrix:
    """Weighted co-visitation counts ``C`` (n_items, n_items), before normalisation.

    >>> h = Histories.from_lists([[0, 1, 2]])
    >>> c = covisitation_counts(h, 3, window=2, gap_decay=0.5, backward_weight=0.25)
    >>> c.toarray().tolist()
    [[0.0, 1.0, 0.5], [0.25, 0.0, 1.0], [0.125, 0.25, 0.0]]
    """
    items = histories.items
    n = len(items)
    lengths = histories.lengths()
    # position of every entry inside its own history
    position = np.arange(n) - np.repeat(histories.indptr[:-1], lengths)
    strength = (np.ones(n, dtype=np.float32) if histories.weights is None
                else histories.weights.astype(np.float32))
    counts = sp.csr_matrix((n_items, n_items), dtype=np.float32)
    for d in range(1, window + 1):
        later = np.flatnonzero(position >= d)  # entry j; i = j - d, same user
        earlier = later - d
        keep = items[earlier] != items[later]
        if timestamps is not None and max_gap_hours is not None:
            gap = timestamps[later] - timestamps[earlier]
            keep &= gap <= max_gap_hours * _US_PER_HOUR
        earlier, later = earlier[keep], later[keep]
        if not len(later):
            continue
        decay = np.float32(gap_decay ** (d - 1))
        rows = np.concatenate([items[earlier], items[later]])
        cols = np.concatenate([items[later], items[earlier]])
        vals = np.concatenate([decay * strength[later],
                               np.float32(backward_weight) * decay * strength[earlier]])
        counts = counts + sp.csr_matrix((vals, (rows, cols)), shape=(n_items, n_items),
                                        dtype=np.float32)
    return counts.tocsr()


@register("covisit")
class CoVisitation(Recommender):
    """Item-to-item co-visitation with gap, direction and event-strength weights.

    Parameters
    ----------
    window : int, default 20
        Pairs at most this many positions apart count.
    gap_decay : float, default 0.8
        A pair ``d`` positions apart weighs ``gap_decay ** (d - 1)``.
    backward_weight : float, default 0.3
        Weight of "j came before i" relative to "j came after i".
    alpha : float, default 0.3
        Normalisation exponent: ``C[i, j] / (pop_i ** (1 - alpha) * pop_j ** alpha + shrink)``;
        lower values favour popular neighbours.
    shrink : float, default 30.0
        Added to the normalisation's denominator.
    n_neighbours : int, default 200
        Neighbours kept per item (bounds memory and scoring time).
    history_decay : float, default 0.7
        The history item ``a`` positions from the most recent weighs ``history_decay ** a``.
    max_history : int, default 30
        Only the most recent ``max_history`` items of a history are read.
    max_gap_hours : float or None, default 24.0
        With timestamps, pairs further apart in time are skipped (None: no limit).
    """

    neighbours_: sp.csr_matrix  # (n_items, n_items), row i = normalised neighbours of i

    def __init__(
        self,
        *,
        window: int = 20,
        gap_decay: float = 0.8,
        backward_weight: float = 0.3,
        alpha: float = 0.3,
        shrink: float = 30.0,
        n_neighbours: int = 200,
        history_decay: float = 0.7,
        max_history: int = 30,
        max_gap_hours: float | None = 24.0,
    ) -> None:
        self.window = window
        self.gap_decay = gap_decay
        self.backward_weight = backward_weight
        self.alpha = alpha
        self.shrink = shrink
        self.n_neighbours = n_neighbours
        self.history_decay = history_decay
        self.max_history = max_history
        self.max_gap_hours = max_gap_hours

    def _validate(self) -> None:
        checks = {
            "window": self.window >= 1,
            "gap_decay": 0 < self.gap_decay <= 1,
            "backward_weight": self.backward_weight >= 0,
            "alpha": 0 <= self.alpha <= 1,
            "shrink": self.shrink >= 0,
            "n_neighbours": self.n_neighbours >= 1,
            "history_decay": 0 < self.history_decay <= 1,
            "max_history": self.max_history >= 1,
            "max_gap_hours": self.max_gap_hours is None or self.max_gap_hours > 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise InputError(
                f"covisit: invalid {', '.join(f'{b}={getattr(self, b)!r}' for b in bad)}; "
                "expected window, n_neighbours, max_history >= 1, gap_decay and history_decay "
                "in (0, 1], alpha in [0, 1], backward_weight and shrink >= 0, "
                "max_gap_hours > 0 or None"
            )

    def _fit(self, data: TrainingData) -> None:
        self._validate()
        counts = covisitation_counts(
            data.histories, data.n_items, window=self.window, gap_decay=self.gap_decay,
            backward_weight=self.backward_weight, timestamps=data.timestamps,
            max_gap_hours=self.max_gap_hours,
        ).tocoo()
        pop = np.maximum(np.bincount(data.histories.items, minlength=data.n_items), 1.0)
        norm = (pop[counts.row] ** (1.0 - self.alpha) * pop[counts.col] ** self.alpha
                + self.shrink)
        normalised = sp.csr_matrix((counts.data / norm, (counts.row, counts.col)),
                                   shape=counts.shape)
        self.neighbours_ = keep_top_n(normalised, self.n_neighbours)
        logger.info("covisit: %d item pairs kept (%d before pruning)",
                    self.neighbours_.nnz, counts.nnz)

    def _query_entries(self, histories: Histories) -> tuple[Histories, np.ndarray]:
        """The newest ``max_history`` items of each history and their weights (recency
        decay times event strength)."""
        recent = histories.last(self.max_history)
        lengths = recent.lengths()
        ends = np.repeat(recent.indptr[1:], lengths)
        age = ends - 1 - np.arange(len(recent.items))  # 0 = most recent
        weight = np.power(self.history_decay, age, dtype=np.float64)
        if recent.weights is not None:
            weight = weight * recent.weights
        return recent, weight.astype(np.float32)

    def _query(self, histories: Histories) -> sp.csr_matrix:
        """(B, n_items) recency- and strength-weighted sparse history vectors."""
        recent, weight = self._query_entries(histories)
        query = sp.csr_matrix((weight, recent.items, recent.indptr),
                              shape=(len(recent), self.n_items_), copy=True)
        query.sum_duplicates()
        return query

    def _score(self, histories: Histories) -> np.ndarray:
        scores = (self._query(histories) @ self.neighbours_).toarray()
        return with_popularity_fallback(scores, self.item_popularity_)

    def score_items(self, histories: Histories, items: np.ndarray) -> np.ndarray:
        """Co-visitation scores of ``items`` only (0 where there is none).

        The same sum as :meth:`_score` — recency-weighted neighbour strengths of the
        history's items — looked up pair by pair in the neighbour matrix, whose entries
        are kept as sorted ``row · n_items + column`` keys after the first call: no
        catalog-wide product, no SciPy call overhead.
        """
        self._check_fitted()
        cached = getattr(self, "_pair_keys", None)
        if cached is None or cached[0] is not self.neighbours_:  # first call, or refitted
            matrix = self.neighbours_.sorted_indices()
            rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
            cached = self._pair_keys = (self.neighbours_, rows * self.n_items_ + matrix.indices,
                                        matrix.data)
        _, keys, values = cached
        items = np.asarray(items, dtype=np.int64)
        out = np.zeros((len(histories), len(items)), dtype=np.float32)
        if not len(keys) or not len(items):
            return out
        recent, weight = self._query_entries(histories)
        rows = np.repeat(np.arange(len(recent)), recent.lengths())
        wanted = recent.items.astype(np.int64)[:, None] * self.n_items_ + items[None, :]
        at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        found = np.where(keys[at] == wanted, values[at], 0.0) * weight[:, None]
        np.add.at(out, rows, found.astype(np.float32))
        return out

    def _state(self) -> dict[str, np.ndarray]:
        return csr_state("neighbours", self.neighbours_)

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.neighbours_ = csr_from_state("neighbours", state)
