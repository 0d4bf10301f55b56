"""The shop's data model: one pydantic model per entity, and the column specs derived from it.

The pydantic models validate single records at the edges (HTTP, the Python API). Batch paths
(ingestion, training) never build one object per row: they validate Polars columns against
the :class:`TableSpec` that :func:`table_spec` derives from the same model, so the rules live
in one place.

Timestamps are timezone-aware at the edges and stored as UTC microseconds since the epoch.
Ids are strings at the edges; dense integers exist only inside models (see
``shopmind.features.idmap``). Personal fields live in :class:`UserPII`, apart from behaviour.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args, get_origin

import annotated_types
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic.fields import FieldInfo

EventType = Literal[
    "view", "click", "cart", "remove_cart", "purchase", "favorite", "search", "rate"
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)

OrderStatus = Literal[
    "created", "paid", "shipped", "delivered", "completed", "cancelled", "returned", "refunded"
]
ORDER_STATUSES: tuple[str, ...] = get_args(OrderStatus)

def _no_nul(value: str) -> str:
    """The same rule as the batch validator: PostgreSQL cannot store a NUL character, and
    one row it refuses would fail the whole group commit it shares with other clients."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256),
               AfterValidator(_no_nul)]
ShortText = Annotated[str, StringConstraints(max_length=2_000), AfterValidator(_no_nul)]
LongText = Annotated[str, StringConstraints(max_length=100_000), AfterValidator(_no_nul)]

#: Timestamps outside this window are rejected as impossible (the upper end is "now + 1 day").
EARLIEST_TIMESTAMP = datetime(1990, 1, 1, tzinfo=UTC)
CATEGORY_SEPARATOR = " > "


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Shop(_Record):
    """A tenant. Every other row carries its ``shop_id``; nothing crosses between shops."""

    shop_id: Id
    name: ShortText = ""
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)] = "CNY"


class Item(_Record):
    """A catalog item. ``category`` is a path joined by `` > `` (e.g. ``服装 > 女装 > 连衣裙``)."""

    item_id: Id
    title: ShortText = ""
    description: LongText | None = None
    category: Annotated[str, StringConstraints(max_length=1_000)] | None = None
    brand: Annotated[str, StringConstraints(max_length=256)] | None = None
    price: Annotated[float, Field(ge=0, le=1e9)] | None = None
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)] | None = None
    stock: Annotated[int, Field(ge=0, le=10**12)] | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    created_at: AwareDatetime | None = None


class User(_Record):
    """A shopper: behaviour-side attributes only (personal fields live in :class:`UserPII`)."""

    user_id: Id
    attributes: dict[str, Any] = Field(default_factory=dict)
    consent_personalization: bool = True
    consent_marketing: bool = False
    created_at: AwareDatetime | None = None


class UserPII(_Record):
    """Personal fields, stored in their own table so erasure never touches behaviour rows."""

    user_id: Id
    name: Annotated[str, StringConstraints(max_length=256)] | None = None
    email: Annotated[str, StringConstraints(max_length=320)] | None = None
    phone: Annotated[str, StringConstraints(max_length=64)] | None = None
    address: Annotated[str, StringConstraints(max_length=1_000)] | None = None


class Event(_Record):
    """One behaviour event. ``search`` carries ``query``; ``rate`` carries ``value``."""

    user_id: Id
    item_id: Id | None = None
    type: EventType
    ts: AwareDatetime
    value: Annotated[float, Field(ge=-1e9, le=1e9)] | None = None
    session_id: Annotated[str, StringConstraints(max_length=256)] | None = None
    query: Annotated[str, StringConstraints(max_length=1_000)] | None = None
    event_id: Annotated[str, StringConstraints(max_length=256)] | None = None

    @model_validator(mode="after")
    def _type_specific_fields(self) -> Event:
        for problem in event_rule_violations(self.type, self.item_id, self.query, self.value):
            raise ValueError(problem)
        return self


def event_rule_violations(
    event_type: str, item_id: str | None, query: str | None, value: float | None
) -> list[str]:
    """Cross-field rules of one event (the batch validator applies the same ones column-wise)."""
    problems = []
    if event_type != "search" and item_id is None:
        problems.append(f"item_id is required for a {event_type!r} event")
    if event_type == "search" and not query:
        problems.append("query is required for a 'search' event")
    if event_type == "rate" and value is None:
        problems.append("value is required for a 'rate' event")
    if event_type == "rate" and value is not None and not 0 <= value <= 10:
        problems.append(f"a rating value must be between 0 and 10, got {value}")
    return problems


class Review(_Record):
    """A product review; ``rating`` is 1–5 stars."""

    review_id: Id
    item_id: Id
    user_id: Id | None = None
    rating: Annotated[float, Field(ge=1, le=5)] | None = None
    text: LongText = ""
    ts: AwareDatetime | None = None


class OrderLine(_Record):
    item_id: Id | None = None
    quantity: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    unit_price: Annotated[float, Field(ge=0, le=1e9)] | None = None


class Order(_Record):
    """An order with its lines. ``total`` defaults to the sum of the lines."""

    order_id: Id
    user_id: Id
    status: OrderStatus = "created"
    created_at: AwareDatetime
    updated_at: AwareDatetime | None = None
    total: Annotated[float, Field(ge=0, le=1e12)] | None = None
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)] | None = None
    lines: list[OrderLine] = Field(default_factory=list)


class OrderRow(_Record):
    """The flat, file-friendly form of an order: one row per order line (or per order)."""

    order_id: Id
    user_id: Id
    status: OrderStatus = "created"
    created_at: AwareDatetime
    updated_at: AwareDatetime | None = None
    total: Annotated[float, Field(ge=0, le=1e12)] | None = None
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)] | None = None
    item_id: Id | None = None
    quantity: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    unit_price: Annotated[float, Field(ge=0, le=1e9)] | None = None


# --------------------------------------------------------------------------- column specs

ColumnKind = Literal["id", "text", "float", "int", "bool", "datetime", "enum", "json"]


@dataclass(frozen=True)
class ColumnSpec:
    """What the batch validator checks for one column."""

    name: str
    kind: ColumnKind
    required: bool
    max_length: int | None = None
    ge: float | None = None
    le: float | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    """The columns of one ingestible entity and the columns that identify a row."""

    name: str
    model: type[BaseModel]
    key: tuple[str, ...]
    columns: tuple[ColumnSpec, ...] = field(default_factory=tuple)

    def column(self, name: str) -> ColumnSpec:
        for spec in self.columns:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.columns)


def _unwrap(annotation: Any) -> tuple[Any, list[Any], bool]:
    """(base type, constraint metadata, optional?) of a pydantic field annotation."""
    metadata: list[Any] = []
    optional = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation, *extra = get_args(annotation)
            metadata.extend(extra)
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(get_args(annotation))
            annotation = args[0]
        else:
            return annotation, metadata, optional


def _column_spec(name: str, annotation: Any, required: bool, extra: list[Any]) -> ColumnSpec:
    base, metadata, _ = _unwrap(annotation)
    metadata = [*metadata, *extra]
    flat: list[Any] = []
    for meta in metadata:  # Field(ge=…) inside Annotated carries its own metadata list
        flat.extend(meta.metadata if isinstance(meta, FieldInfo) else [meta])
    kwargs: dict[str, Any] = {}
    for meta in flat:
        has_max_length = isinstance(meta, StringConstraints) and meta.max_length is not None
        if has_max_length or isinstance(meta, annotated_types.MaxLen):
            kwargs["max_length"] = meta.max_length
        elif isinstance(meta, annotated_types.Ge):
            kwargs["ge"] = float(meta.ge)  # type: ignore[arg-type]
        elif isinstance(meta, annotated_types.Le):
            kwargs["le"] = float(meta.le)  # type: ignore[arg-type]
    kind: ColumnKind
    if get_origin(base) is Literal:
        kind, kwargs["choices"] = "enum", get_args(base)
    elif base is str:
        is_id = name.endswith("_id") and name not in ("session_id",)
        kind = "id" if is_id else "text"
    elif base is float:
        kind = "float"
    elif base is int:
        kind = "int"
    elif base is bool:
        kind = "bool"
    elif base in (datetime, AwareDatetime):
        kind = "datetime"
    elif get_origin(base) is dict or base is dict:
        kind = "json"
    else:  # pragma: no cover - a new field type needs a decision here
        raise TypeError(f"no column kind for field {name!r} of type {base!r}")
    return ColumnSpec(name=name, kind=kind, required=required, **kwargs)


def table_spec(name: str, model: type[BaseModel], key: tuple[str, ...]) -> TableSpec:
    """Derive a :class:`TableSpec` from a pydantic model (list fields are skipped)."""
    columns = []
    for field_name, info in model.model_fields.items():
        if get_origin(info.annotation) is list:
            continue
        columns.append(
            _column_spec(field_name, info.annotation, info.is_required(), list(info.metadata))
        )
    return TableSpec(name=name, model=model, key=key, columns=tuple(columns))


#: The entities a file can be ingested into, by name.
TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        table_spec("items", Item, ("item_id",)),
        table_spec("users", User, ("user_id",)),
        table_spec("user_pii", UserPII, ("user_id",)),
        table_spec("events", Event, ("event_key",)),
        table_spec("reviews", Review, ("review_id",)),
        table_spec("orders", OrderRow, ("order_id", "item_id")),
    )
}
