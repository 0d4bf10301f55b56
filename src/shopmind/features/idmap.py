"""Id maps: string ids at the edges, dense ``int32`` indices inside models.

An :class:`IdMap` owns the translation in both directions. Index ``i`` is the position of
the id in :attr:`IdMap.ids`; ids unknown to the map translate to ``-1`` (NumPy) or ``null``
(Polars). Translation is vectorized: a Polars ``Enum`` cast one way, NumPy fancy indexing
the other. Maps are saved with :func:`numpy.savez` as UTF-8 bytes plus offsets, so loading
never needs pickle.

Examples
--------
>>> import polars as pl
>>> users = IdMap.from_series(pl.Series(["u2", "u1", "u2"]))
>>> users.ids.to_list()
['u1', 'u2']
>>> users.to_index(pl.Series(["u2", "nobody"])).tolist()
[1, -1]
>>> users.to_ids([0, 1]).tolist()
['u1', 'u2']
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from shopmind.errors import InputError

_FORMAT_VERSION = 1


class IdMap:
    """A bijection between string ids and the dense indices ``0 … len(map) - 1``.

    Parameters
    ----------
    ids : polars.Series or sequence of str
        The ids in index order. They must be unique and non-null; use
        :meth:`from_series` to build a map from a column with repeats.
    """

    def __init__(self, ids: pl.Series | Sequence[str]) -> None:
        series = pl.Series("id", ids, dtype=pl.String) if not isinstance(ids, pl.Series) else ids
        series = series.cast(pl.String).rename("id")
        if series.null_count():
            raise InputError(f"IdMap ids must not be null; got {series.null_count()} null id(s)")
        if series.n_unique() != len(series):
            dupes = series.filter(series.is_duplicated()).unique().head(3).to_list()
            raise InputError(
                f"IdMap ids must be unique; duplicated: {dupes}. "
                "Use IdMap.from_series(...) to build a map from a column with repeats."
            )
        self._ids = series
        self._enum = pl.Enum(series)
        self._as_objects: npt.NDArray[np.object_] | None = None

    @classmethod
    def from_series(cls, values: pl.Series | Sequence[str], *, sort: bool = True) -> IdMap:
        """Build a map from a column of ids with repeats and nulls (nulls are skipped).

        Parameters
        ----------
        values : polars.Series or sequence of str
            Ids, e.g. ``events["user_id"]``.
        sort : bool, default True
            Order indices by sorted id (deterministic whatever the row order); with
            ``False`` indices follow first appearance.
        """
        series = values if isinstance(values, pl.Series) else pl.Series(values, dtype=pl.String)
        unique = series.cast(pl.String).drop_nulls().unique(maintain_order=not sort)
        return cls(unique.sort() if sort else unique)

    # -- introspection ---------------------------------------------------------------
    @property
    def ids(self) -> pl.Series:
        """The ids in index order (a String series named ``id``)."""
        return self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and bool(self.to_index([item])[0] >= 0)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdMap) and self._ids.equals(other._ids)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        head = ", ".join(repr(i) for i in self._ids.head(3).to_list())
        more = ", …" if len(self) > 3 else ""
        return f"IdMap(n={len(self)}, ids=[{head}{more}])"

    # -- translation -----------------------------------------------------------------
    def to_index_series(self, values: pl.Series | Sequence[str | None]) -> pl.Series:
        """Indices of ``values`` as an ``Int32`` series, ``null`` where the id is unknown."""
        series = values if isinstance(values, pl.Series) else pl.Series(values, dtype=pl.String)
        codes = series.cast(pl.String).cast(self._enum, strict=False).to_physical()
        return codes.cast(pl.Int32).rename(series.name)

    def to_index(self, values: pl.Series | Sequence[str | None]) -> npt.NDArray[np.int32]:
        """Indices of ``values`` as an ``int32`` array, ``-1`` where the id is unknown or null.

        Examples
        --------
        >>> IdMap(["a", "b"]).to_index(["b", None, "z"]).tolist()
        [1, -1, -1]
        """
        return self.to_index_series(values).fill_null(-1).to_numpy().astype(np.int32, copy=False)

    def to_ids(self, indices: npt.ArrayLike) -> npt.NDArray[np.object_]:
        """Ids at ``indices`` (any shape), as an object array of ``str`` of the same shape.

        Raises
        ------
        InputError
            If an index lies outside ``0 … len(self) - 1`` (``-1`` included: filter
            unknowns out first).
        """
        idx = np.asarray(indices)
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise InputError(f"IdMap.to_ids expects integer indices, got dtype {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise InputError(
                f"IdMap.to_ids: indices must lie in [0, {len(self) - 1}], got "
                f"[{idx.min()}, {idx.max()}]; drop the -1 entries of unknown ids first"
            )
        if self._as_objects is None:
            self._as_objects = self._ids.to_numpy().astype(object)
        return self._as_objects[idx.astype(np.intp, copy=False)]

    # -- persistence -----------------------------------------------------------------
    def save(self, file: str | Path | IO[bytes]) -> None:
        """Write the map with :func:`numpy.savez` (UTF-8 bytes + int64 offsets; no pickle).

        As with :func:`numpy.savez`, a path without the ``.npz`` suffix gets one.
        """
        array = self._ids.to_arrow().cast(pa.large_string())
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        _, offsets_buf, data_buf = array.buffers()
        start = array.offset
        offsets = np.frombuffer(offsets_buf, dtype=np.int64)[start : start + len(array) + 1]
        data = (
            np.frombuffer(data_buf, dtype=np.uint8)[offsets[0] : offsets[-1]]
            if data_buf is not None
            else np.zeros(0, dtype=np.uint8)
        )
        np.savez(
            file,
            format_version=np.array(_FORMAT_VERSION),
            offsets=offsets - offsets[0],
            data=data,
        )

    @classmethod
    def load(cls, file: str | Path | IO[bytes]) -> IdMap:
        """Read a map written by :meth:`save` (``numpy.load(allow_pickle=False)``)."""
        with np.load(file, allow_pickle=False) as archive:
            arrays: dict[str, Any] = {key: archive[key] for key in archive.files}
        missing = {"format_version", "offsets", "data"} - arrays.keys()
        if missing:
            raise InputError(f"{file!s} is not an IdMap file: missing {sorted(missing)}")
        version = int(arrays["format_version"])
        if version != _FORMAT_VERSION:
            raise InputError(
                f"{file!s}: IdMap format version {version} is not supported "
                f"(this ShopMind reads version {_FORMAT_VERSION})"
            )
        offsets = np.ascontiguousarray(arrays["offsets"], dtype=np.int64)
        data = np.ascontiguousarray(arrays["data"], dtype=np.uint8)
        array = pa.LargeStringArray.from_buffers(
            len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(data)
        )
        return cls(pl.Series("id", array).cast(pl.String))
