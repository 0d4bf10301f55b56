"""Re-engagement: the items of the user's own recent history, most recent and strongest first.

In shops a large share of next interactions return to items the user has already viewed or
carted (comparison shopping); this generator makes sure those items reach the ranker, which
then decides — with the purchase and recency features — which are worth showing again.
score(i) = Σ over the history's entries on i of weight × ``decay ** (positions from the end)``.

Examples
--------
>>> import polars as pl
>>> from shopmind.features.idmap import IdMap
>>> data = TrainingData(users=IdMap.from_series(pl.Series(["u"])),
...                     items=IdMap.from_series(pl.Series(["a", "b", "c"])),
...                     histories=Histories.from_lists([[0, 1]]))
>>> model = RecentItems().fit(data)
>>> model.recommend(Histories.from_lists([[0, 1]]), 2, exclude_seen=False)[0].tolist()
[[1, 0]]
"""

from __future__ import annotations

import numpy as np

from shopmind.errors import InputError
from shopmind.recommend.base import Histories, Recommender, TrainingData, register


@register("recent")
class RecentItems(Recommender):
    """Scores each item by its decayed weight in the history itself (0 if absent).

    Parameters
    ----------
    decay
        Multiplier per step back in the history (1.0 = no recency preference).
    """

    def __init__(self, *, decay: float = 0.9) -> None:
        self.decay = decay

    def _fit(self, data: TrainingData) -> None:
        if not 0.0 < self.decay <= 1.0:
            raise InputError(f"decay must be in (0, 1], got {self.decay}")

    def _score(self, histories: Histories) -> np.ndarray:
        lengths = histories.lengths()
        rows = np.repeat(np.arange(len(histories)), lengths)
        back = np.repeat(histories.indptr[1:], lengths) - 1 - np.arange(len(histories.items))
        weights = (np.ones(len(histories.items)) if histories.weights is None
                   else histories.weights.astype(np.float64))
        scores = np.zeros((len(histories), self.n_items_), dtype=np.float64)
        np.add.at(scores, (rows, histories.items), weights * self.decay ** back)
        # tiny popularity prior orders the items the user never touched
        scores += 1e-6 * self.item_popularity_ / max(float(self.item_popularity_.max()), 1.0)
        return scores.astype(np.float32)
