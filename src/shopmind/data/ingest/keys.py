"""Stable row keys: the same row always gets the same 63-bit key, in any run and version.

Events have no natural id, so re-ingesting a file is made idempotent by keying each event on
its content (or on the client's ``event_id`` when it sends one). Polars' own ``hash`` is not
stable across versions, so keys are XXH64 digests (a fixed, published algorithm, seed 0) of a
canonical text form of the row, computed column-wise by the ``polars-hash`` plugin.
"""

from __future__ import annotations

import polars as pl
import polars_hash as plh

_SEPARATOR = "\x1f"
_NULL = "\x00"
_MASK = (1 << 63) - 1


def canonical_text(frame: pl.DataFrame, columns: list[str]) -> pl.Series:
    """One text per row joining ``columns`` (datetimes as epoch µs, nulls marked)."""
    parts = []
    for column in columns:
        expr = pl.col(column)
        if isinstance(frame.schema[column], pl.Datetime):
            expr = expr.dt.epoch("us")
        parts.append(expr.cast(pl.String).fill_null(_NULL))
    return frame.select(pl.concat_str(parts, separator=_SEPARATOR)).to_series()


def stable_keys(texts: pl.Series) -> pl.Series:
    """63-bit non-negative XXH64 keys of ``texts`` (Int64).

    >>> int(stable_keys(pl.Series(["abc"]))[0]) == 0x44BC2CF5AD770999 & ((1 << 63) - 1)
    True
    """
    frame = pl.DataFrame({"t": texts.cast(pl.String)})
    keys = frame.select((plh.col("t").nchash.xxhash64() & _MASK).cast(pl.Int64)).to_series()
    return keys.alias("key")


def event_keys(events: pl.DataFrame) -> pl.Series:
    """Keys for validated events: the client ``event_id`` if given, else the content.

    >>> import polars as pl
    >>> e = pl.DataFrame({"event_id": [None, "abc"], "user_id": ["u", "u"],
    ...                   "item_id": ["i", "i"], "type": ["view", "view"],
    ...                   "ts": [1, 1], "value": [None, None], "query": [None, None]})
    >>> k = event_keys(e)
    >>> bool(k[0] != k[1]), bool(event_keys(e)[0] == k[0])
    (True, True)
    """
    content = canonical_text(events, ["user_id", "item_id", "type", "ts", "value", "query"])
    by_id = pl.lit("id" + _SEPARATOR) + pl.col("event_id")
    texts = pl.DataFrame({"event_id": events["event_id"], "content": content}).select(
        pl.when(pl.col("event_id").is_not_null()).then(by_id).otherwise(pl.col("content"))
    ).to_series()
    return stable_keys(texts).alias("event_key")
