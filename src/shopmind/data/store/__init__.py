"""Stores: one interface, SQLite (embedded default) and PostgreSQL backends.

Use :func:`open_store` to get the backend a URL names.
"""

from __future__ import annotations

from shopmind.data.store.base import Chunk, IngestProgress, Store
from shopmind.errors import ConfigError

__all__ = ["Chunk", "IngestProgress", "Store", "open_store"]


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store at ``url`` (``sqlite:///PATH`` or ``postgresql://…``), migrated to head.

    >>> store = open_store("sqlite:////tmp/shopmind-doctest.db")
    >>> store.close()
    """
    store: Store
    if url.startswith("sqlite:///"):
        from shopmind.data.store.sqlite import SQLiteStore

        store = SQLiteStore(url.removeprefix("sqlite:///"))
    elif url.startswith(("postgresql://", "postgres://")):
        from shopmind.data.store.postgres import PostgresStore

        store = PostgresStore(url)
    else:
        raise ConfigError(f"unknown store URL {url!r}: use sqlite:///PATH or postgresql://…")
    if migrate:
        store.migrate()
    return store
