"""Realtime state for the serving layer: recent session events, seen event ids and a cache.

One small interface, :class:`RealtimeState`, with two implementations: Redis
(:class:`RedisRealtimeState`, for several serving replicas) and an in-process one
(:class:`InMemoryRealtimeState`, the embedded default). Every key is namespaced by shop,
``{prefix}:{shop}:{kind}:{name}`` with the shop and name percent-encoded, so two shops never
read or overwrite each other's state, whatever characters their ids hold.

Three kinds of state, each with its own time to live:

- ``session``: a user's most recent events (item, type, time), capped in length; the TTL is
  renewed by every new event, so an idle session disappears.
- ``seen``: event ids already accepted, for idempotent event intake
  (:meth:`RealtimeState.mark_event_seen` answers ``True`` only the first time).
- ``cache``: opaque bytes under a name (e.g. a rendered recommendation list).
"""

from __future__ import annotations

import abc
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import orjson

from shopmind.data.schema import EVENT_TYPES
from shopmind.errors import ConfigError, InputError, StoreError

DEFAULT_PREFIX = "shopmind"


@dataclass(frozen=True)
class SessionEvent:
    """One event of a user's recent session, as kept in realtime state."""

    item_id: str
    event_type: str
    ts: datetime  # timezone-aware, UTC


def _encode(event: SessionEvent) -> bytes:
    micros = int(event.ts.timestamp() * 1_000_000)
    return orjson.dumps([event.item_id, event.event_type, micros])


def _decode(raw: bytes | str) -> SessionEvent:
    item_id, event_type, micros = orjson.loads(raw)
    return SessionEvent(item_id, event_type, datetime.fromtimestamp(micros / 1e6, tz=UTC))


def _positive(name: str, value: float) -> float:
    if not value > 0:
        raise ConfigError(f"{name} must be > 0, got {value!r}")
    return value


class RealtimeState(abc.ABC):
    """Per-shop realtime state; see the module docstring for the three kinds of state.

    Parameters
    ----------
    prefix : str
        First part of every key (tests use a unique prefix to stay apart).
    max_session_events : int
        How many recent events a user's session keeps (older ones are dropped).
    session_ttl_s : float
        Seconds a session lives after its last event.
    seen_ttl_s : float
        Seconds an event id is remembered by :meth:`mark_event_seen`.
    """

    def __init__(
        self,
        *,
        prefix: str = DEFAULT_PREFIX,
        max_session_events: int = 50,
        session_ttl_s: float = 1800.0,
        seen_ttl_s: float = 86400.0,
    ) -> None:
        if not prefix:
            raise ConfigError("prefix must be a non-empty string")
        self.prefix = prefix
        self.max_session_events = int(_positive("max_session_events", max_session_events))
        self.session_ttl_s = _positive("session_ttl_s", session_ttl_s)
        self.seen_ttl_s = _positive("seen_ttl_s", seen_ttl_s)

    def key(self, shop_id: str, kind: str, name: str = "") -> str:
        """The namespaced key of ``name`` in ``kind`` state of ``shop_id``.

        >>> InMemoryRealtimeState().key("shop:1", "session", "u/7")
        'shopmind:shop%3A1:session:u%2F7'
        """
        return f"{self._shop_prefix(shop_id)}{kind}:{quote(name, safe='')}"

    def _shop_prefix(self, shop_id: str) -> str:
        if not shop_id:
            raise InputError("shop_id must be a non-empty string")
        return f"{self.prefix}:{quote(shop_id, safe='')}:"

    # -- sessions ----------------------------------------------------------------------
    def append_event(
        self, shop_id: str, user_id: str, item_id: str, event_type: str,
        ts: datetime | None = None,
    ) -> None:
        """Append an event to the user's session (dropping the oldest past the cap).

        Parameters
        ----------
        shop_id, user_id, item_id : str
            Whose session, and the item the event is about.
        event_type : str
            One of :data:`shopmind.data.schema.EVENT_TYPES`.
        ts : datetime, optional
            Timezone-aware event time; now when omitted.

        Examples
        --------
        >>> state = InMemoryRealtimeState()
        >>> state.append_event("s1", "u1", "i9", "view")
        >>> [e.item_id for e in state.recent_events("s1", "u1")]
        ['i9']
        """
        if event_type not in EVENT_TYPES:
            raise InputError(
                f"event_type must be one of {', '.join(EVENT_TYPES)}, got {event_type!r}"
            )
        if ts is None:
            ts = datetime.now(UTC)
        elif ts.tzinfo is None:
            raise InputError(f"ts must be timezone-aware, got naive {ts.isoformat()}")
        event = SessionEvent(item_id, event_type, ts.astimezone(UTC))
        self._append(self.key(shop_id, "session", user_id), _encode(event))

    def recent_events(self, shop_id: str, user_id: str, n: int | None = None) -> list[SessionEvent]:
        """The user's last ``n`` session events (all kept ones when ``None``), oldest first."""
        if n is not None and n <= 0:
            return []
        return [_decode(raw) for raw in self._tail(self.key(shop_id, "session", user_id), n)]

    def clear_session(self, shop_id: str, user_id: str) -> None:
        """Forget the user's session (e.g. on erasure)."""
        self._delete(self.key(shop_id, "session", user_id))

    # -- idempotency -------------------------------------------------------------------
    def mark_event_seen(self, shop_id: str, event_id: str) -> bool:
        """Remember ``event_id``; ``True`` the first time within ``seen_ttl_s``, else ``False``.

        >>> state = InMemoryRealtimeState()
        >>> state.mark_event_seen("s1", "e1"), state.mark_event_seen("s1", "e1")
        (True, False)
        """
        return self._set(self.key(shop_id, "seen", event_id), b"1", self.seen_ttl_s, only_new=True)

    # -- cache -------------------------------------------------------------------------
    def cache_get(self, shop_id: str, name: str) -> bytes | None:
        """The cached value of ``name``, or ``None`` if absent or expired."""
        return self._get(self.key(shop_id, "cache", name))

    def cache_set(self, shop_id: str, name: str, value: bytes | str, ttl_s: float) -> None:
        """Cache ``value`` (``str`` is stored as UTF-8) under ``name`` for ``ttl_s`` seconds."""
        data = value.encode() if isinstance(value, str) else bytes(value)
        self._set(self.key(shop_id, "cache", name), data, _positive("ttl_s", ttl_s), only_new=False)

    def cache_delete(self, shop_id: str, name: str) -> None:
        """Drop ``name`` from the cache (no error if absent)."""
        self._delete(self.key(shop_id, "cache", name))

    # -- shop --------------------------------------------------------------------------
    def clear_shop(self, shop_id: str) -> int:
        """Delete every key of ``shop_id``; return how many were deleted."""
        return self._delete_prefix(self._shop_prefix(shop_id))

    def close(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Release connections (nothing to do for the in-process state)."""

    def __enter__(self) -> RealtimeState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- primitives each backend implements --------------------------------------------
    @abc.abstractmethod
    def _append(self, key: str, value: bytes) -> None:
        """Append to the list at ``key``, keep its last ``max_session_events``, renew TTL."""

    @abc.abstractmethod
    def _tail(self, key: str, n: int | None) -> list[bytes]: ...

    @abc.abstractmethod
    def _set(self, key: str, value: bytes, ttl_s: float, *, only_new: bool) -> bool:
        """Set ``key`` with a TTL; with ``only_new``, only if absent. ``True`` if it was set."""

    @abc.abstractmethod
    def _get(self, key: str) -> bytes | None: ...

    @abc.abstractmethod
    def _delete(self, key: str) -> None: ...

    @abc.abstractmethod
    def _delete_prefix(self, prefix: str) -> int: ...


class InMemoryRealtimeState(RealtimeState):
    """Realtime state in this process (thread-safe); for a single embedded server.

    ``clock`` returns monotonic seconds; tests pass a fake one to step over TTLs.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, **options: Any) -> None:
        super().__init__(**options)
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Any]] = {}  # key -> (expires_at, value)
        self._writes = 0

    def _live(self, key: str) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[key]
            return None
        return entry[1]

    def _put(self, key: str, value: Any, ttl_s: float) -> None:
        now = self._clock()
        self._entries[key] = (now + ttl_s, value)
        self._writes += 1
        if self._writes % 4096 == 0:  # sweep now and then, so expired keys do not pile up
            for stale in [k for k, (expires, _) in self._entries.items() if expires <= now]:
                del self._entries[stale]

    def _append(self, key: str, value: bytes) -> None:
        with self._lock:
            events = self._live(key) or deque(maxlen=self.max_session_events)
            events.append(value)
            self._put(key, events, self.session_ttl_s)

    def _tail(self, key: str, n: int | None) -> list[bytes]:
        with self._lock:
            events = list(self._live(key) or ())
        return events if n is None else events[-n:]

    def _set(self, key: str, value: bytes, ttl_s: float, *, only_new: bool) -> bool:
        with self._lock:
            if only_new and self._live(key) is not None:
                return False
            self._put(key, value, ttl_s)
            return True

    def _get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._live(key)
        return value if isinstance(value, bytes) else None

    def _delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def _delete_prefix(self, prefix: str) -> int:
        with self._lock:
            doomed = [k for k in self._entries if k.startswith(prefix)]
            for key in doomed:
                del self._entries[key]
        return len(doomed)


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


class RedisRealtimeState(RealtimeState):
    """Realtime state in Redis, shared by every serving replica.

    Parameters
    ----------
    url : str
        ``redis://[:password@]host:port/db``.
    client : redis.Redis, optional
        An existing client to use instead of connecting to ``url``.
    **options
        ``prefix``, ``max_session_events``, ``session_ttl_s``, ``seen_ttl_s`` as in
        :class:`RealtimeState`.

    Examples
    --------
    >>> state = RedisRealtimeState("redis://127.0.0.1:6379/0")  # doctest: +SKIP
    >>> state.mark_event_seen("shop1", "evt-42")  # doctest: +SKIP
    True
    """

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", *, client: Any = None,
                 **options: Any) -> None:
        super().__init__(**options)
        import redis

        self.url = url
        self._redis: redis.Redis = client if client is not None else redis.Redis.from_url(url)
        self._error: type[Exception] = redis.RedisError

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except self._error as exc:
            raise StoreError(f"Redis at {self.url}: {what} failed: {exc}") from exc

    def ping(self) -> None:
        """Check that Redis answers; raise :class:`StoreError` with the reason if not."""
        with self._errors("ping"):
            self._redis.ping()

    def _append(self, key: str, value: bytes) -> None:
        with self._errors("appending a session event"):
            pipe = self._redis.pipeline(transaction=True)
            pipe.rpush(key, value)
            pipe.ltrim(key, -self.max_session_events, -1)
            pipe.pexpire(key, max(1, int(self.session_ttl_s * 1000)))
            pipe.execute()

    def _tail(self, key: str, n: int | None) -> list[bytes]:
        with self._errors("reading a session"):
            raw: list[bytes] = self._redis.lrange(key, -(n or self.max_session_events), -1)  # type: ignore[assignment]
        return raw

    def _set(self, key: str, value: bytes, ttl_s: float, *, only_new: bool) -> bool:
        with self._errors("setting a key"):
            done = self._redis.set(key, value, px=max(1, int(ttl_s * 1000)), nx=only_new)
        return bool(done)

    def _get(self, key: str) -> bytes | None:
        with self._errors("reading a key"):
            value: bytes | None = self._redis.get(key)  # type: ignore[assignment]
        return value

    def _delete(self, key: str) -> None:
        with self._errors("deleting a key"):
            self._redis.delete(key)

    def _delete_prefix(self, prefix: str) -> int:
        deleted = 0
        with self._errors("deleting a shop's keys"):
            batch: list[Any] = []
            for key in self._redis.scan_iter(match=_glob_escape(prefix) + "*", count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    deleted += int(self._redis.delete(*batch))
                    batch = []
            if batch:
                deleted += int(self._redis.delete(*batch))
        return deleted

    def close(self) -> None:
        self._redis.close()


def open_realtime_state(url: str | None = None, **options: Any) -> RealtimeState:
    """The realtime state a URL names: ``redis://…`` or ``memory://`` (also ``None``/empty).

    >>> open_realtime_state("memory://").mark_event_seen("s1", "e1")
    True
    """
    if not url or url == "memory://":
        return InMemoryRealtimeState(**options)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisRealtimeState(url, **options)
    raise ConfigError(f"unknown realtime state URL {url!r}: use redis://HOST:PORT/DB or memory://")
