"""Popularity baselines: the global best-sellers and a trending list with time decay.

Every user gets the same ranking. ``popular`` counts interactions (each weighted by its
strength when the data carries event weights, e.g. purchase > view); ``trending`` multiplies
each interaction by ``0.5 ** (age / half_life)``, where the age is measured from the latest
event in the training data, so the list follows what is being bought *now* — the
exponentially time-decayed counts of e.g. Ji et al., "A Re-visit of the Popularity Baseline
in Recommender Systems" (SIGIR 2020).

Examples
--------
>>> from shopmind.recommend.base import Histories
>>> from shopmind.features.idmap import IdMap
>>> import polars as pl
>>> data = TrainingData(users=IdMap.from_series(pl.Series(["a", "b"])),
...                     items=IdMap.from_series(pl.Series(["x", "y", "z"])),
...                     histories=Histories.from_lists([[0, 2], [2]]))
>>> Popular().fit(data).recommend(Histories.from_lists([[]]), 2)[0].tolist()
[[2, 0]]
"""

from __future__ import annotations

import logging

import numpy as np

from shopmind.errors import InputError
from shopmind.recommend.base import Histories, Recommender, TrainingData, register

logger = logging.getLogger(__name__)

_US_PER_DAY = 86_400 * 1_000_000


def decayed_counts(data: TrainingData, half_life_days: float | None) -> np.ndarray:
    """Per-item sum of interaction weights, each decayed by its age (float64, (n_items,)).

    ``weight × 0.5 ** ((t_max − t) / half_life)`` with ``t_max`` the latest timestamp;
    no decay when ``half_life_days`` is None or the data has no timestamps.

    >>> from shopmind.features.idmap import IdMap
    >>> import polars as pl
    >>> h = Histories.from_lists([[0, 1]])
    >>> d = TrainingData(users=IdMap.from_series(pl.Series(["u"])),
    ...                  items=IdMap.from_series(pl.Series(["a", "b"])), histories=h,
    ...                  timestamps=np.array([0, _US_PER_DAY]))
    >>> decayed_counts(d, 1.0).tolist()
    [0.5, 1.0]
    """
    hist = data.histories
    weight = (np.ones(len(hist.items)) if hist.weights is None
              else hist.weights.astype(np.float64))
    if half_life_days is not None and data.timestamps is not None and len(hist.items):
        ts = np.asarray(data.timestamps, dtype=np.float64)
        if len(ts) != len(hist.items):
            raise InputError(
                f"TrainingData.timestamps must have one value per history entry "
                f"({len(hist.items)}), got {len(ts)}"
            )
        age_days = (ts.max() - ts) / _US_PER_DAY
        weight = weight * np.exp2(-age_days / half_life_days)
    elif half_life_days is not None:
        logger.info("no timestamps in the training data: trending falls back to plain counts")
    return np.bincount(hist.items, weights=weight, minlength=data.n_items)


@register("popular")
class Popular(Recommender):
    """Most-interacted items first, optionally with exponential time decay.

    Parameters
    ----------
    half_life_days : float or None, default None
        Age (days before the latest training event) at which an interaction counts half.
        None counts every interaction fully (the global best-seller list).
    """

    scores_: np.ndarray

    def __init__(self, *, half_life_days: float | None = None) -> None:
        self.half_life_days = half_life_days

    def _fit(self, data: TrainingData) -> None:
        if self.half_life_days is not None and not self.half_life_days > 0:
            raise InputError(
                f"half_life_days must be positive or None, got {self.half_life_days!r}"
            )
        counts = decayed_counts(data, self.half_life_days)
        self.scores_ = (counts / max(counts.max(), 1e-300)).astype(np.float32)

    def score(self, histories: Histories) -> np.ndarray:
        """The same (possibly time-decayed) ranking for every history, empty ones included."""
        scores = super().score(histories)
        scores[:] = self.scores_
        return scores

    def _score(self, histories: Histories) -> np.ndarray:
        return np.broadcast_to(self.scores_, (len(histories), self.n_items_)).copy()

    def _state(self) -> dict[str, np.ndarray]:
        return {"scores_": self.scores_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.scores_ = state["scores_"]


@register("trending")
class Trending(Popular):
    """:class:`Popular` with a one-week half-life by default (``half_life_days=7``).

    Without timestamps (plain sequence files) it ranks like ``popular``.
    """

    def __init__(self, *, half_life_days: float | None = 7.0) -> None:
        super().__init__(half_life_days=half_life_days)
