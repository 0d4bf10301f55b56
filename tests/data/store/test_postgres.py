"""What only the PostgreSQL backend has: URLs, schemas (search_path) and its error messages."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import polars as pl
import psycopg
import pytest

from shopmind.data.store import open_store
from shopmind.data.store.base import Chunk
from shopmind.data.store.postgres import PostgresStore, _redact, _split_url
from shopmind.errors import ConfigError, StoreError

pytestmark = pytest.mark.postgres


def _sep(url: str) -> str:
    return "&" if "?" in url else "?"


@pytest.fixture
def schema(pg_admin: psycopg.Connection[Any]) -> Iterator[str]:
    name = f"shopmind_test_{uuid.uuid4().hex[:12]}"
    yield name
    pg_admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def test_split_url_takes_out_the_schema_and_keeps_libpq_parameters() -> None:
    conninfo, schema = _split_url(
        "postgresql+psycopg://me:pw@db:5433/shop?schema=tenant_1&options=-c%20work_mem%3D64MB"
    )
    assert schema == "tenant_1"
    assert conninfo == "postgresql://me:pw@db:5433/shop?options=-c%20work_mem%3D64MB"
    assert _split_url("postgres://db/shop") == ("postgresql://db/shop", None)
    with pytest.raises(ConfigError, match="must start with postgresql://"):
        _split_url("mysql://db/shop")


def test_redact_hides_the_password() -> None:
    assert _redact("postgresql://me:s3cret@db/shop") == "postgresql://me:***@db/shop"
    assert _redact("postgresql://db/shop") == "postgresql://db/shop"


def test_unreachable_server_is_a_store_error_without_the_password() -> None:
    with pytest.raises(StoreError, match="cannot connect to PostgreSQL store") as info:
        PostgresStore("postgresql://me:s3cret@127.0.0.1:1/shop?connect_timeout=2")
    assert "s3cret" not in str(info.value)


def test_the_schema_keeps_stores_apart(
    pg_admin: psycopg.Connection[Any], postgres_url: str, schema: str
) -> None:
    other = f"{schema}_b"
    try:
        with open_store(f"{postgres_url}{_sep(postgres_url)}schema={schema}") as one, \
                PostgresStore(postgres_url, schema=other) as two:
            two.migrate()
            one.apply_chunk("s", Chunk(frames={"items": pl.DataFrame({"item_id": ["i1"]})}))
            assert one.count("s", "items") == 1 and two.count("s", "items") == 0
        tables = pg_admin.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'items' "
            "AND table_schema IN (%s, %s) ORDER BY 1", (schema, other)
        ).fetchall()
        assert tables == [(schema,), (other,)]
    finally:
        pg_admin.execute(f'DROP SCHEMA IF EXISTS "{other}" CASCADE')


def test_a_search_path_in_libpq_options_works_too(
    pg_admin: psycopg.Connection[Any], postgres_url: str, schema: str
) -> None:
    pg_admin.execute(f'CREATE SCHEMA "{schema}"')
    with open_store(f"{postgres_url}{_sep(postgres_url)}options=-csearch_path%3D{schema}") as store:
        assert store.schema_revision() == "0002"
    assert pg_admin.execute(
        f'SELECT version_num FROM "{schema}".alembic_version'
    ).fetchall() == [("0002",)]


def test_nul_characters_are_refused_with_a_clear_message(postgres_url: str, schema: str) -> None:
    with PostgresStore(postgres_url, schema=schema) as store:
        store.migrate()
        bad = pl.DataFrame({"item_id": ["i1", "i2"], "title": ["ok", "bad\x00title"]})
        with pytest.raises(StoreError, match=r"column\(s\) \['title'\] hold NUL"):
            store.apply_chunk("s", Chunk(frames={"items": bad}))
        assert store.count("s", "items") == 0
