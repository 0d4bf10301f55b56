"""Opinion monitoring (舆情监测): negative-share trends and a spike detector with alerts.

**Trend.** Reviews are counted per group (product, brand, category) and time window
(``1w`` by default: a whole number and h, d, w, mo, q or y); a review is negative when
its P(positive) is below the threshold. Windows without reviews count as 0 of 0, so the
grid is complete.

**Spike test.** For window *t* of a group, the ``baseline_windows`` windows before it are
pooled (``x_b`` negatives of ``n_b`` reviews) and compared with the window (``x_t`` of
``n_t``) by a one-sided **Fisher exact test**: under "same negative rate", given the
``K = x_t + x_b`` negatives of ``N = n_t + n_b`` reviews, ``x_t`` is hypergeometric and

    p = P(X ≥ x_t) = hypergeom.sf(x_t − 1, N, K, n_t).

An alert needs ``p < alpha`` *and* practical size: at least ``min_negatives`` negatives,
a share ``≥ min_lift ×`` the baseline share, and ``min_baseline_reviews`` in the baseline.
Conditioning on the pooled count makes the test exact for any baseline rate (a rate
estimated from the baseline and plugged into a binomial test would fire too often).
``tests/reviews/test_monitor.py`` and ``benchmarks/opinion_monitor.py`` measure the false-
alarm rate on stationary noise and the detection rate of injected spikes.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime

import numpy as np
import polars as pl
from scipy.stats import hypergeom

from shopmind.errors import InputError

#: Most windows a trend may have per group (1h windows over a year: 8,760).
MAX_WINDOWS = 10_000
_UNIT_SECONDS = {"h": 3600, "d": 86_400, "w": 7 * 86_400, "mo": 30 * 86_400,
                 "q": 91 * 86_400, "y": 365 * 86_400}
_WINDOW = re.compile(r"([1-9][0-9]{0,3})(h|d|w|mo|q|y)")


def window_seconds(every: str) -> int:
    """About how many seconds an ``every`` window lasts; a clear error if it is not one.

    >>> window_seconds("2w")
    1209600
    >>> window_seconds("1ns")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    shopmind.errors.InputError: window '1ns' is not a whole number from 1 to 9999 and a ...
    """
    match = _WINDOW.fullmatch(str(every).strip())
    if match is None:
        raise InputError(f"window {every!r} is not a whole number from 1 to 9999 and a "
                         "unit h, d, w, mo, q or y (e.g. 1d, 2w, 1mo)")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def negative_share_trend(scores: pl.DataFrame, by: str, every: str = "1w",
                         threshold: float = 0.5) -> pl.DataFrame:
    """Reviews, negatives and negative share per ``by`` group and time window.

    Parameters
    ----------
    scores : polars.DataFrame
        ``ts`` (datetime), ``p_positive`` and the column ``by``.
    by : str
        Group column (``item_id``, ``brand``, ``category`` …).
    every : str
        Window length: a whole number and a unit h, d, w, mo, q or y (``1d``, ``1w``,
        ``1mo``; see :func:`window_seconds`).

    Returns
    -------
    polars.DataFrame
        ``by, window_start, reviews, negatives, negative_share`` for every group × window
        from the first to the last window (empty windows have 0 reviews, share null).
    """
    missing = [c for c in ("ts", "p_positive", by) if c not in scores.columns]
    if missing:
        raise InputError(f"scores need column(s) {missing} for a trend by {by!r}")
    every = str(every).strip()
    window = window_seconds(every)
    data = scores.filter(pl.col("ts").is_not_null() & pl.col(by).is_not_null())
    if data.height:
        first, last = data["ts"].min(), data["ts"].max()
        if isinstance(first, datetime) and isinstance(last, datetime):
            span = last - first
            count = span.total_seconds() / window
            if count > MAX_WINDOWS:
                raise InputError(f"{every!r} windows over {span.days} days of reviews make "
                                 f"{count:,.0f} windows (at most {MAX_WINDOWS:,}); choose "
                                 "a longer window")
    schema: dict[str, pl.DataType] = {by: pl.String(), "window_start": pl.Datetime("us", "UTC"),
                                      "reviews": pl.UInt32(), "negatives": pl.UInt32(),
                                      "negative_share": pl.Float64()}
    if data.is_empty():
        return pl.DataFrame(schema=schema)
    counted = (data.with_columns(pl.col("ts").dt.truncate(every).alias("window_start"))
               .group_by(by, "window_start")
               .agg(pl.len().cast(pl.UInt32).alias("reviews"),
                    (pl.col("p_positive") < threshold).sum().cast(pl.UInt32).alias("negatives")))
    first, last = counted["window_start"].min(), counted["window_start"].max()
    if not isinstance(first, datetime) or not isinstance(last, datetime):
        return pl.DataFrame(schema=schema)
    windows = pl.Series("window_start",
                        pl.datetime_range(first, last, interval=every, eager=True))
    grid = counted.select(pl.col(by).unique()).join(windows.to_frame(), how="cross")
    return (grid.join(counted, on=[by, "window_start"], how="left")
            .with_columns(pl.col("reviews", "negatives").fill_null(0))
            .with_columns((pl.col("negatives") / pl.col("reviews")).alias("negative_share")
                          .fill_nan(None))
            .sort(by, "window_start"))


@dataclass(frozen=True)
class SpikeDetector:
    """One-sided Fisher exact test of each window against its trailing baseline.

    Parameters
    ----------
    alpha : float
        Significance level per (group, window) test.
    baseline_windows : int
        How many earlier windows form the baseline.
    min_negatives : int
        Fewest negative reviews in the window for an alert.
    min_lift : float
        Window share must be at least this multiple of the baseline share.
    min_baseline_reviews : int
        Fewest baseline reviews for the window to be tested at all.
    """

    alpha: float = 0.001
    baseline_windows: int = 8
    min_negatives: int = 5
    min_lift: float = 1.5
    min_baseline_reviews: int = 20

    def test(self, trend: pl.DataFrame, by: str) -> pl.DataFrame:
        """``trend`` plus ``baseline_reviews``, ``baseline_negatives``, ``baseline_share``,
        ``p_value`` (null where untested) and ``alert``."""
        if not 0 < self.alpha < 1 or self.baseline_windows < 1:
            raise InputError(f"alpha must be in (0, 1) and baseline_windows ≥ 1, got {self}")
        k = self.baseline_windows
        out = trend.sort(by, "window_start").with_columns(
            pl.col("reviews").cast(pl.Int64).rolling_sum(k, min_samples=1).shift(1)
            .over(by).fill_null(0).alias("baseline_reviews"),
            pl.col("negatives").cast(pl.Int64).rolling_sum(k, min_samples=1).shift(1)
            .over(by).fill_null(0).alias("baseline_negatives"))
        x_t = out["negatives"].cast(pl.Int64).to_numpy()
        n_t = out["reviews"].cast(pl.Int64).to_numpy()
        x_b = out["baseline_negatives"].to_numpy()
        n_b = out["baseline_reviews"].to_numpy()
        tested = (n_b >= self.min_baseline_reviews) & (n_t > 0)
        p = np.full(len(out), np.nan)
        p[tested] = hypergeom.sf(x_t[tested] - 1, n_t[tested] + n_b[tested],
                                 x_t[tested] + x_b[tested], n_t[tested])
        base_share = np.divide(x_b, n_b, out=np.zeros(len(out)), where=n_b > 0)
        share = np.divide(x_t, n_t, out=np.zeros(len(out)), where=n_t > 0)
        alert = (tested & (p < self.alpha) & (x_t >= self.min_negatives)
                 & (share >= self.min_lift * base_share))
        return out.with_columns(pl.Series("baseline_share", base_share),
                                pl.Series("p_value", p).fill_nan(None),
                                pl.Series("alert", alert))


def find_alerts(scores: pl.DataFrame, by: str, detector: SpikeDetector | None = None,
                every: str = "1w", threshold: float = 0.5) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Test every window of every ``by`` group; return (alerts, tested trend).

    Alerts carry ``level`` (= ``by``), ``group``, ``window_start``, counts, shares,
    ``p_value`` and a one-line ``message``.
    """
    detector = detector or SpikeDetector()
    tested = detector.test(negative_share_trend(scores, by, every, threshold), by)
    alerts = (tested.filter(pl.col("alert"))
              .select(pl.lit(by).alias("level"), pl.col(by).alias("group"), "window_start",
                      "reviews", "negatives", "negative_share", "baseline_share", "p_value")
              .with_columns(pl.format("{} {}: {} of {} reviews negative in the window from {} "
                                      "(baseline {}%), p={}", "level", "group", "negatives",
                                      "reviews", pl.col("window_start").dt.date(),
                                      (pl.col("baseline_share") * 100).round(1),
                                      pl.col("p_value").round_sig_figs(2)).alias("message")))
    return alerts, tested


def detector_params(detector: SpikeDetector) -> dict[str, float]:
    """The detector's settings, for reports."""
    return asdict(detector)
