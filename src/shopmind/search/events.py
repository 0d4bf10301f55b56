"""Search events: a search becomes an :class:`~shopmind.data.schema.Event` of type
``search`` carrying the query text (and the clicked item, when there is one), so searches
feed profiles and recommendations like every other behaviour.

Examples
--------
>>> search_event("红色连衣裙", user_id="u1").type
'search'
"""

from __future__ import annotations

from datetime import UTC, datetime

from shopmind.data.schema import Event

_MAX_QUERY = 1_000  # Event.query's limit


def search_event(query: str, *, user_id: str, ts: datetime | None = None,
                 session_id: str | None = None, item_id: str | None = None) -> Event:
    """The ``search`` event of ``user_id`` searching ``query`` (cut to 1,000 characters)."""
    return Event(user_id=user_id, type="search", ts=ts or datetime.now(UTC),
                 session_id=session_id, query=" ".join(query.split())[:_MAX_QUERY],
                 item_id=item_id)
