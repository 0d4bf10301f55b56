"""Build :class:`~shopmind.recommend.base.TrainingData` from sequences or shop events.

Both paths are vectorized: ids are mapped with :class:`~shopmind.features.idmap.IdMap`,
histories are sorted column-wise, never by a Python loop over rows.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl

from shopmind.features.idmap import IdMap
from shopmind.features.interactions import DEFAULT_WEIGHTS, EventWeight, event_weight
from shopmind.recommend.base import Histories, TrainingData

#: Event types that count as an interaction with an item when training recommenders.
INTERACTION_TYPES = ("view", "click", "cart", "favorite", "purchase", "rate")


def _histories(frame: pl.DataFrame, users: IdMap, items: IdMap, order: list[str],
               weight: str | None) -> tuple[Histories, np.ndarray | None]:
    """CSR histories from a long frame (user_id, item_id, ``order`` columns[, weight])."""
    indexed = frame.with_columns(
        users.to_index_series(frame["user_id"]).alias("_u"),
        items.to_index_series(frame["item_id"]).alias("_i"),
    ).filter(pl.col("_u").is_not_null() & pl.col("_i").is_not_null())
    indexed = indexed.sort(["_u", *order], maintain_order=True)
    counts = indexed.group_by("_u").len()
    lengths = np.zeros(len(users), dtype=np.int64)
    lengths[counts["_u"].to_numpy()] = counts["len"].to_numpy()
    indptr = np.zeros(len(users) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    weights = indexed[weight].to_numpy().astype(np.float32) if weight else None
    hist = Histories(indptr=indptr, items=indexed["_i"].to_numpy().astype(np.int32),
                     weights=weights)
    ts = indexed["ts_us"].to_numpy() if "ts_us" in indexed.columns else None
    return hist, ts


def from_sequences(
    sequences: pl.DataFrame,
    *,
    item_text: Mapping[str, str] | None = None,
    items: IdMap | None = None,
) -> TrainingData:
    """TrainingData from a ``(user_id, item_id, position)`` frame (see ``read_sequences``).

    ``items`` fixes the catalog (e.g. every item of the full file, so a model trained on
    the training part still knows items that only appear later).
    """
    users = IdMap.from_series(sequences["user_id"].unique(maintain_order=True), sort=False)
    items = items or IdMap.from_series(sequences["item_id"])
    hist, _ = _histories(sequences, users, items, ["position"], None)
    text = None
    if item_text is not None:
        text = [item_text.get(i, "") for i in items.ids.to_list()]
    return TrainingData(users=users, items=items, histories=hist, item_text=text)


def from_events(
    events: pl.DataFrame,
    items_frame: pl.DataFrame | None = None,
    *,
    weights: Mapping[str, EventWeight] = DEFAULT_WEIGHTS,
    types: tuple[str, ...] = INTERACTION_TYPES,
) -> TrainingData:
    """TrainingData from shop events (user_id, item_id, type, ts[, value]) and the catalog.

    The catalog (``items_frame``: item_id plus any of title, description, category, brand,
    price) defines the item indices when given, so items without events are still known
    (and recommendable by text).
    """
    usable = events.filter(pl.col("type").is_in(types) & pl.col("item_id").is_not_null())
    if "value" not in usable.columns:
        usable = usable.with_columns(pl.lit(None, pl.Float64).alias("value"))
    usable = usable.with_columns(
        event_weight(weights).cast(pl.Float32).alias("_w"),
        pl.col("ts").dt.epoch("us").alias("ts_us"),
    )
    users = IdMap.from_series(usable["user_id"])
    if items_frame is not None and items_frame.height:
        items = IdMap.from_series(items_frame["item_id"])
    else:
        items = IdMap.from_series(usable["item_id"])
    hist, ts = _histories(usable, users, items, ["ts_us"], "_w")
    text = None
    aligned = None
    if items_frame is not None and items_frame.height:
        aligned = pl.DataFrame({"item_id": items.ids}).join(
            items_frame, on="item_id", how="left", maintain_order="left")
        text_columns = [c for c in ("title", "brand", "category", "description")
                        if c in aligned.columns]
        if text_columns:
            text = aligned.select(
                pl.concat_str([pl.col(c).fill_null("") for c in text_columns], separator=" · ")
                .str.strip_chars(" ·")
            ).to_series().to_list()
    return TrainingData(users=users, items=items, histories=hist, timestamps=ts,
                        item_text=text, item_frame=aligned)
