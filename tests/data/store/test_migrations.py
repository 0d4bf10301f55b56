"""Alembic migrations: a newer ShopMind opens an older store, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import inspect, text

from shopmind.data.store import open_store
from shopmind.data.store.base import Chunk
from shopmind.data.store.layout import STORED_TABLES

# ``store_factory`` (conftest.StoreFactory) opens unmigrated stores on each backend.
SHOP = "old-shop"
TS = 1_700_000_000_123_456  # µs, as revision 0001 stored times


def _write_like_revision_0001(factory: Any) -> None:
    """Rows written with plain SQL, the way a ShopMind at revision 0001 wrote them."""
    engine = factory.sql_engine()
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO shops (shop_id, name, currency, created_at) "
                 "VALUES (:s, 'Old shop', 'CNY', :t)"), {"s": SHOP, "t": TS})
        conn.execute(
            text("INSERT INTO items (shop_id, item_id, title, price, stock, created_at, "
                 "placeholder) VALUES (:s, 'i1', '旧商品', 9.5, 3, :t, false)"),
            {"s": SHOP, "t": TS})
        conn.execute(
            text("INSERT INTO users (shop_id, user_id, consent_marketing, placeholder) "
                 "VALUES (:s, 'u1', true, false)"), {"s": SHOP})
        conn.execute(
            text("INSERT INTO events (shop_id, event_key, user_id, item_id, type, ts, value) "
                 "VALUES (:s, 42, 'u1', 'i1', 'purchase', :t, NULL)"), {"s": SHOP, "t": TS})
        conn.execute(
            text("INSERT INTO ingest_progress (shop_id, source_key, source, table_name, "
                 "chunks_done, rows_done, finished) VALUES (:s, 'k', 'old.csv', 'events', "
                 "2, 10, true)"), {"s": SHOP})
    engine.dispose()


def test_an_old_store_is_upgraded_and_keeps_its_rows(store_factory: Any) -> None:
    old = store_factory.open()
    assert old.schema_revision() is None
    old.migrate("0001")
    assert old.schema_revision() == "0001"
    _write_like_revision_0001(store_factory)
    old.close()

    store = open_store(store_factory.url)  # a newer ShopMind opens it: migrated to head
    try:
        assert store.schema_revision() == "0002"
        assert store.list_shops() == [SHOP]
        item = store.read_table(SHOP, "items").to_dicts()[0]
        assert (item["item_id"], item["title"], item["price"], item["stock"]) == (
            "i1", "旧商品", 9.5, 3
        )
        assert item["created_at"] == datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC)
        assert item["placeholder"] is False
        event = store.read_table(SHOP, "events").row(0, named=True)
        assert (event["event_key"], event["type"], event["value"]) == (42, "purchase", None)
        assert store.read_table(SHOP, "users")["consent_marketing"].to_list() == [True]
        progress = store.ingest_progress(SHOP, "k")
        assert progress is not None and progress.finished and progress.rows_done == 10

        # the table added by 0002 works
        profile = pl.DataFrame({
            "user_id": ["u1"], "computed_at": [datetime(2024, 1, 1, tzinfo=UTC)],
            "rfm_segment": ["loyal"], "lifecycle": ["active"], "data": ['{"r": 1}'],
        })
        assert store.apply_chunk(SHOP, Chunk(frames={"profiles": profile})) == {"profiles": 1}
        assert store.read_table(SHOP, "profiles")["rfm_segment"].to_list() == ["loyal"]
        assert store.delete_user(SHOP, "u1")["profiles"] == 1
    finally:
        store.close()


def test_migrating_twice_is_a_no_op(store_factory: Any) -> None:
    store = store_factory.open()
    store.migrate()
    store.migrate()
    assert store.schema_revision() == "0002"


def test_migrated_schema_has_exactly_the_layout_columns(store_factory: Any) -> None:
    store_factory.open().migrate()
    engine = store_factory.sql_engine()
    try:
        inspector = inspect(engine)
        tables = set(inspector.get_table_names())
        assert {"shops", "ingest_progress", "alembic_version", *STORED_TABLES} <= tables
        for name, table in STORED_TABLES.items():
            columns = [c["name"] for c in inspector.get_columns(name)]
            assert columns == ["shop_id", *table.columns], name
            primary_key = inspector.get_pk_constraint(name)["constrained_columns"]
            assert sorted(primary_key) == sorted(["shop_id", *table.key]), name
    finally:
        engine.dispose()
