"""Taobao UserBehavior (Alibaba Tianchi): a multi-behaviour event log with item categories.

Zhu et al., "Learning Tree-based Deep Model for Recommender Systems", KDD 2018. The shared
file is a contiguous-user slice (see its README): ``user_id, item_id, category_id,
behavior_type, timestamp, event_time``.

Mapping: ``pv`` → ``view``, ``cart`` → ``cart``, ``fav`` → ``favorite``, ``buy`` →
``purchase``; ``ts`` from the unix seconds. Items carry only their category (the data set
has no titles or prices); an item seen under two categories keeps the one of its latest
event.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from shopmind.data.datasets.registry import (
    DatasetTable,
    PublicDataset,
    chunked,
    read_csv_text,
    register_dataset,
)
from shopmind.data.schema import TABLES

#: Taobao behaviour codes → ShopMind event types (anything else is left for the validator
#: to reject with a reason, never guessed).
BEHAVIOUR_TYPES = {"pv": "view", "cart": "cart", "fav": "favorite", "buy": "purchase"}


def read_events(path: Path) -> Iterator[pl.DataFrame]:
    """Events of a UserBehavior CSV, canonical columns, in chunks.

    Examples
    --------
    >>> frame = next(read_events(folder / "events.csv.gz"))  # doctest: +SKIP
    >>> frame.columns  # doctest: +SKIP
    ['user_id', 'item_id', 'type', 'ts']
    """
    raw = read_csv_text(path)
    events = raw.select(
        "user_id",
        "item_id",
        pl.col("behavior_type").replace(BEHAVIOUR_TYPES).alias("type"),
        pl.col("timestamp").alias("ts"),  # unix seconds; the validator parses epoch values
    )
    return chunked(events)


def read_items(path: Path) -> Iterator[pl.DataFrame]:
    """One item per ``item_id`` with ``category`` = the category id of its latest event."""
    raw = read_csv_text(path)
    items = (
        raw.with_columns(pl.col("timestamp").cast(pl.Int64, strict=False).alias("__t"))
        .sort("__t", maintain_order=True)
        .unique("item_id", keep="last", maintain_order=True)
        .select("item_id", pl.col("category_id").alias("category"))
    )
    return chunked(items)


@register_dataset("taobao_userbehavior")
def build(folder: Path) -> PublicDataset:
    """Taobao UserBehavior: ``events`` and category-only ``items``."""
    path = folder / "events.csv.gz"
    return PublicDataset(
        name="taobao_userbehavior",
        description="Taobao UserBehavior slice: views, carts, favourites, purchases (2017).",
        tables=[
            DatasetTable("items", TABLES["items"], str(path), lambda: read_items(path), 41_862),
            DatasetTable(
                "events", TABLES["events"], str(path), lambda: read_events(path), 61_418,
                expected_distinct={"user_id": 814, "item_id": 41_862},
            ),
        ],
        readme=folder / "README.md",
    )
