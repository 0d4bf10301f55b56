"""Synthetic review streams with known spikes, to measure the spike detector.

>>> frame = simulate_reviews(groups=2, weeks=3, rate=0.1, seed=0)
>>> sorted(frame.columns)
['item_id', 'p_positive', 'ts']
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

#: A Monday, so weekly windows (``1w``) start exactly on simulated weeks.
START = datetime(2025, 1, 6, tzinfo=UTC)


def simulate_reviews(groups: int, weeks: int, rate: float, seed: int,
                     spike: tuple[int, int, float] | None = None,
                     per_week: float = 40.0) -> pl.DataFrame:
    """Reviews of ``groups`` products over ``weeks``.

    Each product gets Poisson(``per_week``) reviews a week, each negative with probability
    ``rate`` (``p_positive`` 0.1) or positive (0.9). ``spike = (group, week, rate)`` sets
    one window's rate. Product ``k`` is ``item_id == f"g{k}"``.
    """
    rng = np.random.default_rng(seed)
    n = rng.poisson(per_week, size=(groups, weeks))
    p = np.full((groups, weeks), rate)
    if spike is not None:
        p[spike[0], spike[1]] = spike[2]
    negatives = rng.binomial(n, p)
    g, w = np.nonzero(n)
    counts = n[g, w]
    rows = np.repeat(np.arange(len(g)), counts)
    offset = np.concatenate([np.arange(c) for c in counts]) if len(counts) else np.zeros(0, int)
    is_negative = offset < np.repeat(negatives[g, w], counts)
    minutes = (w[rows] * 7 * 24 * 60 + offset).astype(np.int64)
    return pl.DataFrame({
        "item_id": pl.Series([f"g{i}" for i in g[rows]], dtype=pl.String),
        "ts": pl.Series(minutes * 60_000_000 + int(START.timestamp() * 1e6))
        .cast(pl.Datetime("us", "UTC")),
        "p_positive": np.where(is_negative, 0.1, 0.9),
    })
