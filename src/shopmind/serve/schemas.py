"""Request and response bodies of the HTTP API (separate models for each direction).

Write bodies take one record or a batch: ``{"events": [...]}`` or a single event object
(which is read as a batch of one, so field errors always read ``events.0.type``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from shopmind.data.schema import (
    EARLIEST_TIMESTAMP,
    EventType,
    Id,
    Item,
    User,
    event_rule_violations,
)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _one_or_many(key: str, data: Any) -> Any:
    if isinstance(data, dict) and key not in data:
        return {key: [data]}
    return data


class EventIn(_In):
    """One behaviour event; ``ts`` defaults to the time the server receives it."""

    user_id: Id
    item_id: Id | None = None
    type: EventType
    ts: AwareDatetime | None = None
    value: Annotated[float, Field(ge=-1e9, le=1e9)] | None = None
    session_id: Annotated[str, Field(max_length=256)] | None = None
    query: Annotated[str, Field(max_length=1_000)] | None = None
    event_id: Id | None = Field(
        default=None, description="Client id: an event sent again with the same id is "
                                  "stored and counted once.")

    @model_validator(mode="after")
    def _type_rules(self) -> EventIn:
        for problem in event_rule_violations(self.type, self.item_id, self.query, self.value):
            raise ValueError(problem)
        return self

    @field_validator("ts")
    @classmethod
    def _possible_time(cls, ts: datetime | None) -> datetime | None:
        # the ingest validator's window: 1990 up to a day from now
        if ts is not None and not EARLIEST_TIMESTAMP <= ts <= datetime.now(UTC) + timedelta(
                days=1):
            raise ValueError("ts must lie between 1990-01-01 and a day from now")
        return ts


class EventsIn(_In):
    events: list[EventIn] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _single(cls, data: Any) -> Any:
        return _one_or_many("events", data)


class ItemsIn(_In):
    items: list[Item] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _single(cls, data: Any) -> Any:
        return _one_or_many("items", data)


class UsersIn(_In):
    users: list[User] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _single(cls, data: Any) -> Any:
        return _one_or_many("users", data)


class SessionEventIn(_In):
    item_id: Id
    type: EventType = "view"
    ts: AwareDatetime | None = None


class SessionRecommendationsIn(_In):
    """An anonymous visitor's session, oldest event first, and what to return."""

    events: list[SessionEventIn] = Field(default_factory=list)
    k: Annotated[int, Field(ge=1, le=200)] = 10
    category: Annotated[str, Field(max_length=1_000)] | None = None
    price_max: Annotated[float, Field(ge=0)] | None = None
    exclude: list[Id] = Field(default_factory=list, max_length=1_000)


class Accepted(BaseModel):
    accepted: int = Field(description="Records stored by this request.")
    duplicates: int = Field(0, description="Events already stored (same event_id, or the "
                                          "same content without one): not stored again; "
                                          "for items and users, rows repeating an id of the "
                                          "same request (the last one counts).")


class ReasonOut(BaseModel):
    kind: str
    text: str
    related_item: str | None = None


class RecommendationOut(BaseModel):
    item_id: str
    score: float
    reason: ReasonOut
    origin: str = Field(description="ranked, pinned, promoted or new (posted since training)")


class RecommendationsOut(BaseModel):
    user_id: str | None
    model_version: str
    cold_start: bool
    items: list[RecommendationOut]
    message: str | None = None  # why the list is empty, when it is


class ItemScoreOut(BaseModel):
    item_id: str
    score: float


class ItemListOut(BaseModel):
    item_id: str | None = None
    model_version: str
    items: list[ItemScoreOut]


class ProfileOut(BaseModel):
    user_id: str
    computed_at: datetime | None
    profile: dict[str, Any]


class ModelVersionOut(BaseModel):
    version: str
    active: bool
    watermark_us: int | None
    metrics: dict[str, Any]


class FieldError(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: list[FieldError] = Field(default_factory=list)


class ErrorOut(BaseModel):
    error: ErrorBody
