"""Features of (user, candidate item) pairs for the learned ranker, built with Polars joins.

Item side: popularity, trend, age, price. User × item: how often and how recently the user
touched the item, and how (viewed, carted, bought). User × category/brand: the share of the
user's weighted activity in the item's category and brand, and the time since they last
touched that category. Price fit: the item's price over the user's typical price. Every
generator's score and rank come from :mod:`shopmind.recommend.candidates`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from shopmind.recommend.catalog import ItemCatalog
from shopmind.recommend.context import TYPE_CODES, UserContext

_DAY_US = 86_400 * 1_000_000
_CART, _BUY = TYPE_CODES.index("cart"), TYPE_CODES.index("purchase")


@dataclass
class ItemStats:
    """Item-side statistics learned from the training window."""

    popularity: np.ndarray  # users who interacted (float32)
    trend: np.ndarray  # exponentially decayed interaction mass (half-life 7 days)
    first_seen_us: np.ndarray  # int64, 0 when never seen

    @classmethod
    def from_context(cls, context: UserContext, n_items: int,
                     half_life_days: float = 7.0) -> ItemStats:
        frame = context.long_frame()
        age_days = (context.now_us - frame["ts"].to_numpy()) / _DAY_US
        mass = frame["w"].to_numpy() * np.exp2(-np.maximum(age_days, 0) / half_life_days)
        items = frame["item"].to_numpy()
        trend = np.bincount(items, weights=mass, minlength=n_items).astype(np.float32)
        pairs = frame.select("row", "item").unique()
        popularity = np.bincount(pairs["item"].to_numpy(), minlength=n_items).astype(np.float32)
        first = frame.group_by("item").agg(pl.col("ts").min())
        first_seen = np.zeros(n_items, dtype=np.int64)
        first_seen[first["item"].to_numpy()] = first["ts"].to_numpy()
        return cls(popularity=popularity, trend=trend, first_seen_us=first_seen)

    def state(self) -> dict[str, np.ndarray]:
        return {"stats_popularity": self.popularity, "stats_trend": self.trend,
                "stats_first_seen_us": self.first_seen_us}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> ItemStats:
        return cls(state["stats_popularity"], state["stats_trend"], state["stats_first_seen_us"])


def ranking_features(candidates: pl.DataFrame, context: UserContext, catalog: ItemCatalog,
                     stats: ItemStats) -> pl.DataFrame:
    """Add the ranker's features to ``candidates`` (``row``, ``item``, generator columns)."""
    now = context.now_us
    items = candidates["item"].to_numpy()
    created = catalog.created_us[items]
    first_seen = stats.first_seen_us[items]
    born = np.where(created > 0, created, first_seen)
    frame = candidates.with_columns(
        pl.Series("item_popularity", np.log1p(stats.popularity[items])),
        pl.Series("item_trend", np.log1p(stats.trend[items])),
        pl.Series("item_age_days", np.where(born > 0, (now - born) / _DAY_US, np.nan)),
        pl.Series("item_price", np.log1p(catalog.price[items])),
        pl.Series("_top", catalog.top_category[items]),
        pl.Series("_brand", catalog.brand[items]),
    )
    history = context.long_frame()
    hist_items = history["item"].to_numpy()
    history = history.with_columns(
        pl.Series("_top", catalog.top_category[hist_items]),
        pl.Series("_brand", catalog.brand[hist_items]),
        pl.Series("_price", catalog.price[hist_items]),
    )
    user_item = history.group_by("row", "item").agg(
        pl.len().alias("ui_events"),
        pl.col("w").sum().alias("ui_weight"),
        (pl.col("type") == _CART).any().cast(pl.Int8).alias("ui_carted"),
        (pl.col("type") == _BUY).any().cast(pl.Int8).alias("ui_bought"),
        ((now - pl.col("ts").max()) / _DAY_US).alias("ui_days_since"),
    )
    totals = history.group_by("row").agg(
        pl.col("w").sum().alias("_total"),
        pl.len().alias("user_events"),
        ((now - pl.col("ts").max()) / _DAY_US).alias("user_days_since"),
        pl.col("_price").filter(pl.col("_price").is_not_nan()).median().alias("_user_price"),
    )
    user_top = history.filter(pl.col("_top") >= 0).group_by("row", "_top").agg(
        pl.col("w").sum().alias("_top_w"),
        ((now - pl.col("ts").max()) / _DAY_US).alias("uc_days_since"),
    )
    user_brand = history.filter(pl.col("_brand") >= 0).group_by("row", "_brand").agg(
        pl.col("w").sum().alias("_brand_w"))
    frame = (
        frame.join(user_item, on=["row", "item"], how="left")
        .join(totals, on="row", how="left")
        .join(user_top, on=["row", "_top"], how="left")
        .join(user_brand, on=["row", "_brand"], how="left")
        .with_columns(
            (pl.col("_top_w") / pl.col("_total")).fill_null(0.0).alias("uc_share"),
            (pl.col("_brand_w") / pl.col("_total")).fill_null(0.0).alias("ub_share"),
            (pl.Series(catalog.price[items]) / pl.col("_user_price")).alias("price_ratio"),
            pl.col("ui_events", "ui_weight", "ui_carted", "ui_bought").fill_null(0),
            pl.col("user_events").fill_null(0),
        )
    )
    return frame.drop("_top", "_brand", "_total", "_top_w", "_brand_w", "_user_price")


def feature_columns(frame: pl.DataFrame) -> list[str]:
    """The model-input columns of a feature frame (everything but keys and labels)."""
    return [c for c in frame.columns if c not in ("row", "item", "label")]
