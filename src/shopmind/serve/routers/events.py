"""``POST /v1/events``: behaviour events, one or a batch, stored before the answer."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from shopmind.serve.deps import RuntimeDep, WriteKey
from shopmind.serve.http import check_batch_size
from shopmind.serve.schemas import Accepted, ErrorOut, EventIn, EventsIn

router = APIRouter(prefix="/v1/events", tags=["events"])
_COLUMNS = ("user_id", "item_id", "type", "ts", "value", "session_id", "query", "event_id")


def events_frame(events: list[EventIn]) -> pl.DataFrame:
    """The events as a frame in the ingest layout (``ts`` defaulting to now, UTC)."""
    now = datetime.now(UTC)
    rows = {c: [getattr(e, c) for e in events] for c in _COLUMNS}
    rows["ts"] = [(e.ts or now).astimezone(UTC) for e in events]
    return pl.DataFrame(rows, schema={
        "user_id": pl.String, "item_id": pl.String, "type": pl.String,
        "ts": pl.Datetime("us", "UTC"), "value": pl.Float64, "session_id": pl.String,
        "query": pl.String, "event_id": pl.String})


@router.post("", response_model=Accepted, status_code=201,
             responses={413: {"model": ErrorOut}, 422: {"model": ErrorOut}})
async def post_events(body: EventsIn, key: WriteKey, runtime: RuntimeDep) -> Accepted:
    """Store events (durably, before answering) and feed them to the live sessions.

    The user's next recommendation already reflects them. An event carrying an
    ``event_id`` that was stored before (or the same content without an id) is not stored
    again and is counted under ``duplicates``, across restarts too.
    """
    check_batch_size(len(body.events), runtime.settings.serve_max_batch, "events")
    frame = events_frame(body.events)
    new = await runtime.store_rows(key.shop_id, "events", frame)
    done = await run_in_threadpool(runtime.after_events_stored, key.shop_id, frame, new)
    return Accepted(accepted=done.accepted, duplicates=done.duplicates)
