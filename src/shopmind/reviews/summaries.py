"""Per-product and per-category aspect summaries: "82% positive on quality (45 mentions)".

A mention counts as positive when its clause's P(positive) ≥ ``threshold``. Trends compare
the latest window with the one before ("delivery complaints up this month").
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from shopmind.errors import InputError


def aspect_summary(aspects: pl.DataFrame, reviews: pl.DataFrame, by: str = "item_id",
                   threshold: float = 0.5, min_mentions: int = 1) -> pl.DataFrame:
    """Mentions and positive share of every aspect per ``by`` group.

    Parameters
    ----------
    aspects : polars.DataFrame
        ``review_id, aspect, p_positive`` (from :func:`~shopmind.reviews.aspects.aspect_sentiment`).
    reviews : polars.DataFrame
        ``review_id`` and the grouping column ``by`` (``item_id``, ``category``, ``brand`` …).
    by : str
        Grouping column of ``reviews``.

    Returns
    -------
    polars.DataFrame
        ``by, aspect, mentions, positive_share, negative_mentions, summary`` sorted by group
        and mentions; ``summary`` reads like "82% positive on quality (45 mentions)".

    Examples
    --------
    >>> a = pl.DataFrame({"review_id": ["r1", "r2"], "aspect": ["quality"] * 2,
    ...                   "p_positive": [0.9, 0.2]})
    >>> r = pl.DataFrame({"review_id": ["r1", "r2"], "item_id": ["i1", "i1"]})
    >>> aspect_summary(a, r)["summary"].to_list()
    ['50% positive on quality (2 mentions)']
    """
    if by not in reviews.columns:
        raise InputError(f"reviews have no column {by!r} to group by; columns: {reviews.columns}")
    joined = aspects.join(reviews.select("review_id", by), on="review_id", how="inner")
    return (joined.group_by(by, "aspect")
            .agg(pl.len().alias("mentions"),
                 (pl.col("p_positive") >= threshold).mean().alias("positive_share"),
                 (pl.col("p_positive") < threshold).sum().alias("negative_mentions"))
            .filter(pl.col("mentions") >= min_mentions)
            .with_columns(pl.format("{}% positive on {} ({} mentions)",
                                    (pl.col("positive_share") * 100).round(0).cast(pl.Int64),
                                    pl.col("aspect"), pl.col("mentions")).alias("summary"))
            .sort([by, "mentions", "aspect"], descending=[False, True, False]))


def aspect_complaint_trend(aspects: pl.DataFrame, reviews: pl.DataFrame, by: str = "item_id",
                           window_days: int = 30, threshold: float = 0.5) -> pl.DataFrame:
    """Negative mentions per aspect in the latest ``window_days`` vs the window before.

    ``reviews`` needs ``review_id``, ``ts`` and ``by``. ``change`` is the difference of the
    two counts; ``summary`` reads "delivery complaints up (7 vs 2)".
    """
    if "ts" not in reviews.columns:
        raise InputError("reviews need a `ts` column for trends")
    end = reviews["ts"].max()
    if not isinstance(end, datetime):
        return pl.DataFrame()
    window = timedelta(days=window_days)
    joined = (aspects.filter(pl.col("p_positive") < threshold)
              .join(reviews.select("review_id", "ts", by), on="review_id"))
    recent = (pl.col("ts") > end - window)
    before = (pl.col("ts") <= end - window) & (pl.col("ts") > end - 2 * window)
    out = (joined.group_by(by, "aspect")
           .agg(recent.sum().alias("complaints_recent"), before.sum().alias("complaints_before"))
           .with_columns((pl.col("complaints_recent") - pl.col("complaints_before"))
                         .alias("change")))
    direction = (pl.when(pl.col("change") > 0).then(pl.lit("up"))
                 .when(pl.col("change") < 0).then(pl.lit("down")).otherwise(pl.lit("flat")))
    return out.with_columns(pl.format("{} complaints {} ({} vs {})", pl.col("aspect"), direction,
                                      pl.col("complaints_recent"), pl.col("complaints_before"))
                            .alias("summary")).sort([by, "change"], descending=[False, True])
