"""Reciprocal-rank fusion of ranked lists.

Cormack, Clarke & Büttcher, *Reciprocal Rank Fusion outperforms Condorcet and individual
Rank Learning Methods*, SIGIR 2009: ``score(d) = Σ_lists 1 / (k + rank_list(d))`` with
ranks from 1 and ``k = 60``.

Examples
--------
>>> rows, scores = reciprocal_rank_fusion([np.array([3, 1]), np.array([1, 2])])
>>> rows.tolist()
[1, 3, 2]
"""

from __future__ import annotations

import numpy as np

RRF_K = 60.0


def reciprocal_rank_fusion(lists: list[np.ndarray], *, k: float = RRF_K,
                           weights: list[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fuse ranked row lists (best first); returns rows and fused scores, best first."""
    weights = weights or [1.0] * len(lists)
    scores: dict[int, float] = {}
    for ranked, weight in zip(lists, weights, strict=True):
        for rank, row in enumerate(np.asarray(ranked).tolist(), start=1):
            scores[row] = scores.get(row, 0.0) + weight / (k + rank)
    if not scores:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    rows = np.fromiter(scores, dtype=np.int64, count=len(scores))
    fused = np.fromiter(scores.values(), dtype=np.float64, count=len(scores))
    order = np.lexsort((rows, -fused))
    return rows[order], fused[order]
