"""Store fixtures: every store test runs on SQLite and on PostgreSQL, realtime tests on both
the in-process state and Redis.

PostgreSQL (``SHOPMIND_TEST_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``)
and Redis (``SHOPMIND_TEST_REDIS_URL``, default ``redis://127.0.0.1:6379/0``) run on the dev
machines and in CI, so an unreachable service fails the tests; it never skips them. Each
PostgreSQL test gets a fresh schema (dropped afterwards); each Redis test a unique key prefix.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import psycopg
import pytest
import redis
from sqlalchemy import Engine, create_engine

from shopmind.data.store.base import Store
from shopmind.data.store.postgres import PostgresStore
from shopmind.data.store.redis_state import (
    InMemoryRealtimeState,
    RealtimeState,
    RedisRealtimeState,
)
from shopmind.data.store.sqlite import SQLiteStore

POSTGRES_URL = os.environ.get(
    "SHOPMIND_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("SHOPMIND_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[psycopg.Connection[Any]]:
    """A superuser-ish connection that creates and drops the per-test schemas."""
    try:
        conn = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_URL} ({exc}). Start it, or point "
            "SHOPMIND_TEST_POSTGRES_URL at one; these tests must not be skipped.",
            pytrace=False,
        )
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def postgres_url(pg_admin: psycopg.Connection[Any]) -> str:
    """The test server's URL (checked to be reachable)."""
    return POSTGRES_URL


@pytest.fixture(scope="session")
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL} ({exc}). Start it, or point "
            "SHOPMIND_TEST_REDIS_URL at one; these tests must not be skipped.",
            pytrace=False,
        )
    yield client
    client.close()


# -- stores ----------------------------------------------------------------------------
@dataclass
class StoreFactory:
    """Opens (unmigrated) stores on one backend's fresh database; all open the same one."""

    backend: str
    sqlite_path: Path
    pg_schema: str | None
    opened: list[Store] = field(default_factory=list)

    def open(self) -> Store:
        store: Store
        if self.backend == "sqlite":
            store = SQLiteStore(self.sqlite_path)
        else:
            store = PostgresStore(POSTGRES_URL, schema=self.pg_schema)
        self.opened.append(store)
        return store

    @property
    def url(self) -> str:
        """The store's URL, as a user would give it to ``open_store``."""
        if self.backend == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        sep = "&" if "?" in POSTGRES_URL else "?"
        return f"{POSTGRES_URL}{sep}schema={self.pg_schema}"

    def sql_engine(self) -> Engine:
        """A SQLAlchemy engine on the same database, for raw SQL as an old ShopMind wrote."""
        if self.backend == "sqlite":
            return create_engine(f"sqlite:///{self.sqlite_path}")
        url = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)
        return create_engine(url, connect_args={"options": f"-csearch_path={self.pg_schema}"})


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    schema = None
    admin = None
    if request.param == "postgres":
        admin = request.getfixturevalue("pg_admin")
        schema = f"shopmind_test_{uuid.uuid4().hex[:12]}"
    factory = StoreFactory(request.param, tmp_path / "store.db", schema)
    yield factory
    for store in factory.opened:
        store.close()
    if admin is not None:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    """A migrated, empty store on each backend."""
    opened = store_factory.open()
    opened.migrate()
    return opened


# -- realtime state ----------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class RealtimeFactory:
    """Builds realtime states of one kind that share a unique prefix; ``advance`` moves time."""

    kind: str
    prefix: str
    client: redis.Redis | None
    clock: FakeClock = field(default_factory=FakeClock)
    opened: list[RealtimeState] = field(default_factory=list)

    def make(self, **options: Any) -> RealtimeState:
        options.setdefault("prefix", self.prefix)
        state: RealtimeState
        if self.kind == "memory":
            state = InMemoryRealtimeState(clock=self.clock, **options)
        else:
            state = RedisRealtimeState(REDIS_URL, **options)
        self.opened.append(state)
        return state

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass: a fake clock for the in-process state, real time for Redis."""
        if self.kind == "memory":
            self.clock.now += seconds
        else:
            time.sleep(seconds)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def realtime(request: pytest.FixtureRequest) -> Iterator[RealtimeFactory]:
    client = request.getfixturevalue("redis_client") if request.param == "redis" else None
    factory = RealtimeFactory(request.param, f"shopmind-test-{uuid.uuid4().hex[:12]}", client)
    yield factory
    for state in factory.opened:
        state.close()
    if client is not None:
        keys = list(client.scan_iter(match=f"{factory.prefix}:*"))
        if keys:
            client.delete(*keys)


# -- sample rows -----------------------------------------------------------------------
T0 = datetime(2024, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
#: ~10 kB of text with everything CSV or COPY could trip over.
LONG_TEXT = ('长文本 "quoted", comma, tab\t, back\\slash \\N \\. émoji 🛍️\r\n' * 200)[:10_000]
TRICKY = ["", "\\N", "\\.", "a,b", 'say "hi"', "line1\nline2", "cr\r\nlf", " padded ", "NULL"]


def sample_frames() -> dict[str, pl.DataFrame]:
    """Three rows or more per stored table, with NULLs, empty strings, unicode and long text."""
    ts = [T0, T0 + timedelta(days=1), T0 + timedelta(seconds=1)]
    return {
        "items": pl.DataFrame({
            "item_id": ["i1", "i2", "商品-3"],
            "title": ["Red dress 红色连衣裙", "", None],
            "description": [LONG_TEXT, "two\nlines, \"quoted\"", None],
            "category": ["服装 > 女装 > 连衣裙", None, "Home"],
            "brand": ["Acme", "\\N", ""],
            "price": [199.99, 0.1 + 0.2, None],
            "currency": ["CNY", "USD", None],
            "stock": [5, None, 2**40],
            "attributes": ['{"color": "红", "size": ["S", "M"]}', "{}", None],
            "created_at": ts,
            "updated_at": [None, ts[1], ts[2]],
            "placeholder": [False, False, True],
        }),
        "users": pl.DataFrame({
            "user_id": ["u1", "u2", "u3"],
            "attributes": ['{"tier": "gold"}', None, ""],
            "consent_personalization": [True, False, None],
            "consent_marketing": [None, True, False],
            "created_at": ts,
            "updated_at": [ts[0], None, ts[2]],
            "placeholder": [False, True, False],
        }),
        "user_pii": pl.DataFrame({
            "user_id": ["u1", "u2", "u3"],
            "name": ["张三", "O'Brien, \"Pat\"", None],
            "email": ["zs@example.com", "", None],
            "phone": ["+86 138 0000 0000", None, "\\."],
            "address": ["北京市\n朝阳区", LONG_TEXT, ""],
        }),
        "events": pl.DataFrame({
            "event_key": [1, -(2**62), 2**62 + 12345],
            "user_id": ["u1", "u2", "u1"],
            "item_id": ["i1", None, "商品-3"],
            "type": ["view", "search", "rate"],
            "ts": ts,
            "value": [None, None, 4.5],
            "session_id": ["s1", "", None],
            "query": [None, LONG_TEXT, "red, \"dress\"\n"],
            "event_id": ["e1", None, "e3"],
        }),
        "reviews": pl.DataFrame({
            "review_id": ["r1", "r2", "r3"],
            "item_id": ["i1", "i2", "i1"],
            "user_id": ["u1", None, "u2"],
            "rating": [5.0, 1.0, None],
            "text": ["很好! Great 👍", LONG_TEXT, ""],
            "ts": [ts[0], None, ts[2]],
        }),
        "orders": pl.DataFrame({
            "order_id": ["o1", "o2", "o3"],
            "user_id": ["u1", "u2", "u1"],
            "status": ["paid", None, "cancelled"],
            "created_at": ts,
            "updated_at": [None, ts[1], ts[2]],
            "total": [398.0, 12.5, None],
            "currency": ["CNY", "", None],
        }),
        "order_lines": pl.DataFrame({
            "order_id": ["o1", "o1", "o2"],
            "line_key": ["1", "2", "1"],
            "item_id": ["i1", None, "i2"],
            "quantity": [2, 1, None],
            "unit_price": [199.0, None, 12.5],
        }),
        "quarantine": pl.DataFrame({
            "quarantine_key": [10, 11, 12, 13, 14, 15, 16, 17, 18],
            "source": ["events.csv"] * 9,
            "row_number": [1, 2, 3, 4, 5, 6, 7, 8, None],
            "field": ["ts", None, "price", "", "a", "b", "c", "d", "e"],
            "reason": TRICKY,
            "raw": TRICKY[::-1],
            "created_at": [T0] * 9,
        }),
        "profiles": pl.DataFrame({
            "user_id": ["u1", "u2", "u3"],
            "computed_at": ts,
            "rfm_segment": ["champions", None, ""],
            "lifecycle": ["active", "new", None],
            "data": ['{"affinity": {"服装": 0.9}}', "{}", LONG_TEXT],
        }),
    }


@pytest.fixture
def samples() -> dict[str, pl.DataFrame]:
    """Fresh sample rows of every stored table (see :func:`sample_frames`)."""
    return sample_frames()
