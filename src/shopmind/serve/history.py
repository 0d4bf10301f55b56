"""Users' histories at request time: a stored snapshot joined with the live session.

The snapshot is every stored event of the shop, read once (at model load, then every
``Settings.serve_snapshot_refresh_s``) into flat arrays sorted by user and time, so a request
never queries the store. Events that arrived since are in the realtime session
(:mod:`shopmind.data.store.redis_state`), which lives longer than the refresh period, so
together they always hold everything. An event present in both (stored *and* still in the
session) counts once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from shopmind.data.store.redis_state import SessionEvent
from shopmind.recommend.base import Histories
from shopmind.recommend.context import TYPE_CODES, TYPE_WEIGHT, UserContext

_TYPE_CODE = {t: i for i, t in enumerate(TYPE_CODES)}
MAX_HISTORY = 200  # newest events of a user the ranker reads (as in UserContext.from_events)


@dataclass(frozen=True)
class History:
    """One user's chronological history: item indices, type codes, times (µs)."""

    items: np.ndarray  # int32
    types: np.ndarray  # int8
    times_us: np.ndarray  # int64

    @classmethod
    def empty(cls) -> History:
        return cls(np.zeros(0, np.int32), np.zeros(0, np.int8), np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.items)


class HistorySnapshot:
    """Stored histories of one shop, by user, as slices of three flat arrays."""

    def __init__(self, events: pl.DataFrame, item_index: dict[str, int]) -> None:
        """Index ``events`` (user_id, item_id, type, ts) against the model's items."""
        frame = events.filter(pl.col("item_id").is_not_null()
                              & pl.col("type").is_in(TYPE_CODES))
        frame = frame.with_columns(
            pl.col("item_id").replace_strict(item_index, default=-1,
                                             return_dtype=pl.Int32).alias("_i"),
            pl.col("type").replace_strict(_TYPE_CODE, return_dtype=pl.Int8).alias("_t"),
            pl.col("ts").dt.epoch("us").alias("_ts"),
        ).filter(pl.col("_i") >= 0).sort(["user_id", "_ts"], maintain_order=True)
        self.items = frame["_i"].to_numpy().astype(np.int32)
        self.types = frame["_t"].to_numpy().astype(np.int8)
        self.times_us = frame["_ts"].to_numpy().astype(np.int64)
        runs = frame.group_by("user_id", maintain_order=True).len()
        ends = np.cumsum(runs["len"].to_numpy())
        starts = ends - runs["len"].to_numpy()
        self._spans = dict(zip(runs["user_id"].to_list(),
                               zip(starts.tolist(), ends.tolist(), strict=True), strict=True))
        self.n_events = len(self.items)

    def __contains__(self, user_id: object) -> bool:
        return user_id in self._spans

    @property
    def n_users(self) -> int:
        return len(self._spans)

    def get(self, user_id: str) -> History:
        """The stored history of ``user_id`` (empty for a user the snapshot does not hold)."""
        span = self._spans.get(user_id)
        if span is None:
            return History.empty()
        start, end = span
        start = max(start, end - MAX_HISTORY)
        return History(self.items[start:end], self.types[start:end], self.times_us[start:end])


def session_history(events: Sequence[SessionEvent], item_index: dict[str, int],
                    stored: History | None = None) -> History:
    """``stored`` followed by the session ``events`` it does not already hold.

    Events on items the model does not know (new items) are left out; they reach the list
    through :mod:`shopmind.serve.fresh` instead.
    """
    stored = stored if stored is not None else History.empty()
    seen = set(zip(stored.items[-64:].tolist(), stored.types[-64:].tolist(),
                   stored.times_us[-64:].tolist(), strict=True))
    last = int(stored.times_us[-1]) if len(stored) else -1
    items, types, times = [], [], []
    for event in events:
        index = item_index.get(event.item_id)
        code = _TYPE_CODE.get(event.event_type)
        if index is None or code is None:
            continue
        micros = int(event.ts.timestamp() * 1_000_000)
        if micros <= last and (index, code, micros) in seen:
            continue
        items.append(index)
        types.append(code)
        times.append(micros)
    if not items:
        return stored
    order = np.argsort(np.asarray(times, dtype=np.int64), kind="stable")
    merged = History(
        np.concatenate([stored.items, np.asarray(items, np.int32)[order]]),
        np.concatenate([stored.types, np.asarray(types, np.int8)[order]]),
        np.concatenate([stored.times_us, np.asarray(times, np.int64)[order]]),
    )
    if len(merged) and np.any(np.diff(merged.times_us) < 0):  # a late event: re-sort
        order = np.argsort(merged.times_us, kind="stable")
        merged = History(merged.items[order], merged.types[order], merged.times_us[order])
    keep = slice(max(0, len(merged) - MAX_HISTORY), None)
    return History(merged.items[keep], merged.types[keep], merged.times_us[keep])


def batch_context(histories: Sequence[History], now_us: int) -> UserContext:
    """One :class:`UserContext` for a batch of histories (one row each, in order)."""
    lengths = np.fromiter((len(h) for h in histories), dtype=np.int64, count=len(histories))
    indptr = np.zeros(len(histories) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    if indptr[-1]:
        items = np.concatenate([h.items for h in histories])
        types = np.concatenate([h.types for h in histories])
        times = np.concatenate([h.times_us for h in histories])
    else:
        items, types, times = (np.zeros(0, np.int32), np.zeros(0, np.int8),
                               np.zeros(0, np.int64))
    return UserContext(histories=Histories(indptr, items, TYPE_WEIGHT[types]),
                       types=types, times_us=times, now_us=now_us)
