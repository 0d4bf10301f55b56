"""Shop-level statistics for summaries and dashboards: counts, funnel, top categories."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from shopmind.data.schema import CATEGORY_SEPARATOR


@dataclass(frozen=True)
class Funnel:
    """Session funnel: of sessions with a view, the share that carted, and of those, bought.

    Event-level ratios (carts per view, purchases per cart) are given too.
    """

    sessions: int
    view_sessions: int
    cart_sessions: int
    purchase_sessions: int
    carts_per_view: float
    purchases_per_cart: float

    @property
    def view_to_cart(self) -> float:
        return self.cart_sessions / self.view_sessions if self.view_sessions else 0.0

    @property
    def cart_to_purchase(self) -> float:
        return self.purchase_sessions / self.cart_sessions if self.cart_sessions else 0.0


def funnel(events: pl.DataFrame) -> Funnel:
    """The view → cart → purchase funnel of ``events`` (columns user_id, type, session_id).

    Events with no session id are grouped per user and day.
    """
    if events.is_empty():
        return Funnel(0, 0, 0, 0, 0.0, 0.0)
    session = pl.coalesce(
        pl.col("session_id"),
        pl.concat_str([pl.col("user_id"), pl.col("ts").dt.date().cast(pl.String)], separator="|"),
    ).alias("session")
    flags = events.with_columns(session).group_by("session").agg(
        (pl.col("type") == "view").any().alias("viewed"),
        (pl.col("type") == "cart").any().alias("carted"),
        (pl.col("type") == "purchase").any().alias("bought"),
    )
    counts = dict(events.group_by("type").len().iter_rows())
    views, carts, buys = (counts.get(t, 0) for t in ("view", "cart", "purchase"))
    viewed = flags.filter("viewed")
    carted = viewed.filter("carted")
    return Funnel(
        sessions=flags.height,
        view_sessions=viewed.height,
        cart_sessions=carted.height,
        purchase_sessions=carted.filter("bought").height,
        carts_per_view=carts / views if views else 0.0,
        purchases_per_cart=buys / carts if carts else 0.0,
    )


def top_categories(events: pl.DataFrame, items: pl.DataFrame, k: int = 5) -> pl.DataFrame:
    """Top-level categories by purchases (views as tie-break): category, purchases, views."""
    top = pl.col("category").str.split(CATEGORY_SEPARATOR).list.first().alias("category")
    joined = events.select("item_id", "type").join(
        items.select("item_id", top), on="item_id", how="inner"
    )
    return (
        joined.filter(pl.col("category").is_not_null())
        .group_by("category")
        .agg(
            (pl.col("type") == "purchase").sum().alias("purchases"),
            (pl.col("type") == "view").sum().alias("views"),
        )
        .sort(["purchases", "views"], descending=True)
        .head(k)
    )
