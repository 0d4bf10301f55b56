"""What the ranker knows about each user at request time, built column-wise from events.

A :class:`UserContext` holds, for a batch of users, their recent history as item indices
(with event types and times), from which :mod:`shopmind.recommend.ranking_features` derives
user×item and user×category features and :mod:`shopmind.recommend.explain` derives reasons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from shopmind.features.idmap import IdMap
from shopmind.recommend.base import Histories

#: Event type codes used inside contexts (order matters: index = code).
TYPE_CODES = ("view", "click", "favorite", "cart", "purchase", "rate", "remove_cart", "search")
TYPE_WEIGHT = np.array([1.0, 1.0, 2.0, 3.0, 5.0, 2.0, 0.0, 0.0], dtype=np.float32)


@dataclass(frozen=True)
class UserContext:
    """Chronological histories of a batch of users with event types and times (CSR layout)."""

    histories: Histories  # item indices; weights = TYPE_WEIGHT of each event
    types: np.ndarray  # int8 code per entry (TYPE_CODES)
    times_us: np.ndarray  # int64 per entry
    now_us: int  # the reference time of the request / evaluation

    def __len__(self) -> int:
        return len(self.histories)

    @classmethod
    def from_events(cls, events: pl.DataFrame, users: list[str] | pl.Series, items: IdMap,
                    *, now_us: int | None = None, max_len: int = 200) -> UserContext:
        """Contexts for ``users`` (in that order) from their events, latest ``max_len`` kept.

        Events on items unknown to ``items`` are dropped; unknown users get empty contexts.
        """
        order = pl.DataFrame({"user_id": pl.Series(users, dtype=pl.String)}).with_row_index("_r")
        ev = events.filter(pl.col("item_id").is_not_null() & pl.col("type").is_in(TYPE_CODES))
        ev = ev.join(order, on="user_id", how="inner")
        ev = ev.with_columns(
            items.to_index_series(ev["item_id"]).alias("_i"),
            pl.col("type").replace_strict({t: i for i, t in enumerate(TYPE_CODES)},
                                          return_dtype=pl.Int8).alias("_t"),
            pl.col("ts").dt.epoch("us").alias("_ts"),
        ).filter(pl.col("_i").is_not_null())
        ev = ev.sort(["_r", "_ts"], maintain_order=True)
        ev = ev.with_columns(pl.int_range(pl.len()).reverse().over("_r").alias("_back"))
        ev = ev.filter(pl.col("_back") < max_len)
        counts = ev.group_by("_r").len()
        lengths = np.zeros(order.height, dtype=np.int64)
        lengths[counts["_r"].to_numpy()] = counts["len"].to_numpy()
        indptr = np.zeros(order.height + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        types = ev["_t"].to_numpy().astype(np.int8)
        times = ev["_ts"].to_numpy().astype(np.int64)
        hist = Histories(indptr=indptr, items=ev["_i"].to_numpy().astype(np.int32),
                         weights=TYPE_WEIGHT[types])
        if now_us is None:
            now_us = int(times.max()) if len(times) else 0
        return cls(histories=hist, types=types, times_us=times, now_us=now_us)

    @classmethod
    def from_histories(cls, histories: Histories, now_us: int = 0) -> UserContext:
        """A context from plain histories (all events counted as views, times unknown)."""
        n = len(histories.items)
        types = np.zeros(n, dtype=np.int8)
        return cls(histories=Histories(histories.indptr, histories.items,
                                       histories.weights if histories.weights is not None
                                       else TYPE_WEIGHT[types]),
                   types=types, times_us=np.full(n, now_us, dtype=np.int64), now_us=now_us)

    def long_frame(self) -> pl.DataFrame:
        """One row per history entry: row (user position), item, type code, time, weight."""
        lengths = self.histories.lengths()
        return pl.DataFrame({
            "row": np.repeat(np.arange(len(self), dtype=np.int32), lengths),
            "item": self.histories.items,
            "type": self.types,
            "ts": self.times_us,
            "w": self.histories.weights if self.histories.weights is not None
            else np.ones(len(self.types), dtype=np.float32),
        })

    def purchased(self) -> Histories:
        """Only the purchase entries of each history."""
        return self.histories.where(self.types == TYPE_CODES.index("purchase"))
