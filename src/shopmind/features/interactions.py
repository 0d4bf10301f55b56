"""Batch readers: events frames → SciPy sparse user×item matrices and per-user sequences.

Every model trains on one of two shapes built here, never on rows in Python:

* :func:`build_interactions` — a CSR matrix ``X`` of shape ``(n_users, n_items)`` with

  .. math::

      X_{ui} = \\sum_{e \\in E(u, i)} w_{\\mathrm{type}(e)} \\cdot
               2^{-\\max(0,\\, t_{\\mathrm{ref}} - t_e) / h}

  where :math:`w` is the per-type weight (:data:`DEFAULT_WEIGHTS`; ``"value"`` means the
  event's own ``value``, used for ratings) and :math:`h` the half-life in days (no decay
  when ``half_life_days`` is ``None``).
* :func:`user_sequences` — each user's item indices in time order, as CSR-style
  ``offsets`` + ``indices`` arrays (for sequence models).

Both return :class:`~shopmind.features.idmap.IdMap` objects for the user and item axes; pass
existing maps to align a test split with a training split (rows with ids unknown to a given
map are dropped).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Literal

import numpy as np
import numpy.typing as npt
import polars as pl
import scipy.sparse as sp

from shopmind.data.schema import EVENT_TYPES
from shopmind.errors import InputError
from shopmind.features.idmap import IdMap

EventWeight = float | Literal["value"]

#: Weight of each event type; types absent here (``search``, ``remove_cart``) are ignored,
#: and ``"value"`` takes the event's own ``value`` (a rating).
DEFAULT_WEIGHTS: Mapping[str, EventWeight] = MappingProxyType(
    {"view": 1.0, "click": 1.0, "favorite": 2.0, "cart": 3.0, "purchase": 5.0, "rate": "value"}
)

_US_PER_DAY = 86_400 * 1_000_000


# --------------------------------------------------------------------------- shared helpers


def require_columns(frame: pl.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise :class:`InputError` naming the columns of ``frame`` that ``what`` needs."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"{what}: the frame is missing column(s) {missing}; it has {frame.columns}"
        )


def to_epoch_us(moment: datetime) -> int:
    """Microseconds since the epoch of a timezone-aware ``datetime``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InputError(
            f"expected a timezone-aware datetime, got naive {moment.isoformat()}; "
            "pass e.g. datetime(..., tzinfo=UTC)"
        )
    return int(pl.Series([moment]).dt.epoch("us").item())


def ts_us(column: str, frame: pl.DataFrame) -> pl.Expr:
    """``column`` of ``frame`` as Int64 µs since the epoch (Datetime or stored Int64 form)."""
    dtype = frame.schema[column]
    if isinstance(dtype, pl.Datetime):
        return pl.col(column).dt.epoch("us")
    if dtype.is_integer() or dtype == pl.Null:
        return pl.col(column).cast(pl.Int64)
    raise InputError(f"column {column!r} must be a datetime or Int64 µs, got {dtype}")


def event_weight(weights: Mapping[str, EventWeight]) -> pl.Expr:
    """Expression giving each event's weight from its ``type`` (null: the type is ignored).

    Examples
    --------
    >>> frame = pl.DataFrame({"type": ["view", "rate", "search"], "value": [None, 4.0, None]})
    >>> frame.select(event_weight(DEFAULT_WEIGHTS)).to_series().to_list()
    [1.0, 4.0, None]
    """
    unknown = sorted(set(weights) - set(EVENT_TYPES))
    if unknown:
        raise InputError(
            f"weights name unknown event type(s) {unknown}; valid types: {list(EVENT_TYPES)}"
        )
    fixed = {t: float(w) for t, w in weights.items() if w != "value"}
    by_value = [t for t, w in weights.items() if w == "value"]
    bad = [t for t, w in weights.items() if w != "value" and not isinstance(w, int | float)]
    if bad:
        raise InputError(f"weights for {bad} must be numbers or 'value'")
    weight = pl.col("type").cast(pl.String).replace_strict(
        fixed, default=None, return_dtype=pl.Float64
    )
    if by_value:
        value = pl.col("value").cast(pl.Float64)
        weight = pl.when(pl.col("type").is_in(by_value)).then(value).otherwise(weight)
    return weight


def decay(ts_us_expr: pl.Expr, reference_us: int, half_life_days: float) -> pl.Expr:
    """``2 ** (-max(0, reference - ts) / half_life)``, ages in days."""
    if not half_life_days > 0:
        raise InputError(f"half_life_days must be > 0, got {half_life_days}")
    age_days = (pl.lit(reference_us) - ts_us_expr).clip(lower_bound=0) / _US_PER_DAY
    return pl.lit(2.0).pow(-age_days / half_life_days)


def _with_value(events: pl.DataFrame) -> pl.DataFrame:
    return events if "value" in events.columns else events.with_columns(value=pl.lit(None))


# --------------------------------------------------------------------------- interactions


@dataclass(frozen=True)
class Interactions:
    """A user×item matrix with the id maps of its two axes.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix
        ``(n_users, n_items)`` float32, duplicates summed, explicit zeros removed.
    users, items : IdMap
        Row and column ids.
    """

    matrix: sp.csr_matrix
    users: IdMap
    items: IdMap

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.users), len(self.items))


def build_interactions(
    events: pl.DataFrame,
    *,
    weights: Mapping[str, EventWeight] = DEFAULT_WEIGHTS,
    half_life_days: float | None = None,
    reference_time: datetime | None = None,
    users: IdMap | None = None,
    items: IdMap | None = None,
) -> Interactions:
    """Build the weighted, optionally time-decayed user×item CSR matrix.

    Parameters
    ----------
    events : polars.DataFrame
        Columns ``user_id``, ``item_id``, ``type``, ``ts`` (Datetime or Int64 µs) and
        optionally ``value``.
    weights : mapping, default :data:`DEFAULT_WEIGHTS`
        Event type → weight, or ``"value"`` to use the event's ``value``.
    half_life_days : float, optional
        Half-life :math:`h` of the decay ``2 ** (-age / h)``; ``None`` disables decay.
    reference_time : datetime, optional
        Time the ages are measured from (default: the latest ``ts``). Events after it
        count as age 0.
    users, items : IdMap, optional
        Fixed axes; events of ids outside them are dropped. Default: built from the events
        with a non-zero weight (ids sorted).

    Returns
    -------
    Interactions

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> ev = pl.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["a", "a", "b"],
    ...                    "type": ["view", "purchase", "cart"],
    ...                    "ts": [datetime(2024, 1, 1, tzinfo=UTC)] * 3})
    >>> build_interactions(ev).matrix.toarray().tolist()
    [[6.0, 0.0], [0.0, 3.0]]
    """
    require_columns(events, ["user_id", "item_id", "type", "ts"], "build_interactions")
    events = _with_value(events)
    weight = event_weight(weights)
    if half_life_days is not None:
        ts = ts_us("ts", events)
        if reference_time is not None:
            reference_us = to_epoch_us(reference_time)
        else:
            latest = events.select(ts.max()).item()
            reference_us = int(latest) if latest is not None else 0
        weight = weight * decay(ts, reference_us, half_life_days)
    kept = events.select("user_id", "item_id", w=weight).filter(
        pl.col("w").is_not_null() & (pl.col("w") != 0) & pl.col("user_id").is_not_null()
        & pl.col("item_id").is_not_null()
    )
    users = users if users is not None else IdMap.from_series(kept["user_id"])
    items = items if items is not None else IdMap.from_series(kept["item_id"])
    coded = pl.DataFrame(
        {"u": users.to_index_series(kept["user_id"]), "i": items.to_index_series(kept["item_id"]),
         "w": kept["w"]}
    ).drop_nulls()
    matrix = sp.csr_matrix(
        (coded["w"].to_numpy(), (coded["u"].to_numpy(), coded["i"].to_numpy())),
        shape=(len(users), len(items)),
        dtype=np.float64,  # sum duplicates in float64, store float32
    ).astype(np.float32)
    matrix.eliminate_zeros()
    matrix.sort_indices()
    return Interactions(matrix=matrix, users=users, items=items)


# --------------------------------------------------------------------------- sequences


@dataclass(frozen=True)
class UserSequences:
    """Each user's item indices in time order, stored CSR-style.

    User ``u``'s sequence is ``indices[offsets[u]:offsets[u + 1]]`` with event times
    ``timestamps[offsets[u]:offsets[u + 1]]`` (µs since the epoch, non-decreasing).
    """

    users: IdMap
    items: IdMap
    offsets: npt.NDArray[np.int64]
    indices: npt.NDArray[np.int32]
    timestamps: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.users)

    def __getitem__(self, user: int) -> npt.NDArray[np.int32]:
        return self.indices[self.offsets[user] : self.offsets[user + 1]]

    def lengths(self) -> npt.NDArray[np.int64]:
        """Sequence length per user."""
        return np.diff(self.offsets)

    def to_list(self) -> list[npt.NDArray[np.int32]]:
        """One array per user (views into :attr:`indices`)."""
        return np.split(self.indices, self.offsets[1:-1]) if len(self) else []


def user_sequences(
    events: pl.DataFrame,
    *,
    types: Iterable[str] | None = None,
    users: IdMap | None = None,
    items: IdMap | None = None,
) -> UserSequences:
    """Chronological item-index sequences per user.

    Parameters
    ----------
    events : polars.DataFrame
        Columns ``user_id``, ``item_id``, ``type``, ``ts``.
    types : iterable of str, optional
        Event types to keep (default: every event that names an item).
    users, items : IdMap, optional
        Fixed axes (events with other ids are dropped); default: built from the events.

    Returns
    -------
    UserSequences
        Ties in ``ts`` keep the frame's row order.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> t = [datetime(2024, 1, d, tzinfo=UTC) for d in (3, 1, 2)]
    >>> ev = pl.DataFrame({"user_id": ["u", "u", "u"], "item_id": ["c", "a", "b"],
    ...                    "type": ["view"] * 3, "ts": t})
    >>> user_sequences(ev)[0].tolist()
    [0, 1, 2]
    """
    require_columns(events, ["user_id", "item_id", "type", "ts"], "user_sequences")
    keep = pl.col("item_id").is_not_null() & pl.col("user_id").is_not_null()
    if types is not None:
        wanted = list(types)
        unknown = sorted(set(wanted) - set(EVENT_TYPES))
        if unknown:
            raise InputError(f"unknown event type(s) {unknown}; valid: {list(EVENT_TYPES)}")
        keep = keep & pl.col("type").cast(pl.String).is_in(wanted)
    kept = events.filter(keep).select("user_id", "item_id", t=ts_us("ts", events))
    users = users if users is not None else IdMap.from_series(kept["user_id"])
    items = items if items is not None else IdMap.from_series(kept["item_id"])
    coded = (
        pl.DataFrame(
            {"u": users.to_index_series(kept["user_id"]),
             "i": items.to_index_series(kept["item_id"]), "t": kept["t"]}
        )
        .drop_nulls()
        .sort("u", "t", maintain_order=True)
    )
    counts = np.bincount(coded["u"].to_numpy(), minlength=len(users))
    offsets = np.zeros(len(users) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return UserSequences(
        users=users,
        items=items,
        offsets=offsets,
        indices=coded["i"].to_numpy().astype(np.int32, copy=False),
        timestamps=coded["t"].to_numpy().astype(np.int64, copy=False),
    )
