"""The one `Store` interface that every backend (SQLite, PostgreSQL) implements.

Writes go through :meth:`Store.apply_chunk`, which is atomic: the rows of a chunk, its
quarantined rows and the ingest progress marker commit together or not at all, so a crash
mid-ingest leaves the store consistent and a re-run resumes without duplicates.
Reads hand back Polars frames (whole columns), never one Python object per row.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from shopmind.data.schema import Shop
from shopmind.data.store.layout import STORED_TABLES, StoredTable
from shopmind.errors import InputError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class IngestProgress:
    """How far an ingest of one source got: chunks and rows committed so far."""

    source_key: str
    source: str
    table_name: str
    chunks_done: int
    rows_done: int
    finished: bool = False


@dataclass
class Chunk:
    """Everything one ingest step writes, committed atomically by :meth:`Store.apply_chunk`.

    ``frames`` maps a stored table name to rows in storage form (the columns of
    :data:`~shopmind.data.store.layout.STORED_TABLES`, without ``shop_id``; time columns as
    Int64 microseconds; JSON columns as strings). ``placeholders`` are inserted only where no
    row with that key exists (they never overwrite real catalog rows).
    """

    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    placeholders: dict[str, pl.DataFrame] = field(default_factory=dict)
    progress: IngestProgress | None = None


def stored_table(name: str) -> StoredTable:
    try:
        return STORED_TABLES[name]
    except KeyError:
        raise InputError(
            f"unknown table {name!r}; valid tables: {', '.join(sorted(STORED_TABLES))}"
        ) from None


def single_key(name: str, operation: str) -> str:
    """The one key column of table ``name`` (``operation`` needs a single-column key)."""
    from shopmind.errors import StoreError

    table = stored_table(name)
    if len(table.key) != 1:
        raise StoreError(f"{operation} needs a single-column key; {name} has {table.key}")
    return table.key[0]


#: Tables holding a user's rows, erased by ``delete_user`` (order lines go with their orders).
USER_TABLES = ("events", "reviews", "orders", "profiles", "user_pii", "users")


@dataclass(frozen=True)
class ReadRequest:
    """A validated ``read_table`` request: columns to select and equality filters."""

    table: StoredTable
    dtypes: dict[str, str]
    columns: list[str]
    filters: dict[str, Any]


def read_request(name: str, columns: list[str] | None, where: dict[str, Any] | None
                 ) -> ReadRequest:
    """Check ``columns`` and ``where`` against the stored layout of table ``name``."""
    from shopmind.data.store.layout import storage_dtypes
    from shopmind.errors import StoreError

    table = stored_table(name)
    dtypes = storage_dtypes(table)
    selected = columns or list(table.columns)
    unknown = [c for c in selected if c not in dtypes]
    if unknown:
        raise StoreError(f"table {name!r} has no column(s) {unknown}")
    filters = dict(where or {})
    bad = [c for c in filters if c not in dtypes]
    if bad:
        raise StoreError(f"table {name!r} has no column(s) {bad} to filter on")
    return ReadRequest(table, dtypes, selected, filters)


def to_storage_frame(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Select and order the stored columns of ``name``; time columns become Int64 µs."""
    table = stored_table(name)
    exprs = []
    for column in table.columns:
        if column == "placeholder" and column not in frame.columns:
            exprs.append(pl.lit(False).alias(column))  # a real row unless said otherwise
        elif column not in frame.columns:
            exprs.append(pl.lit(None).alias(column))
        elif column in table.time_columns and frame.schema[column] != pl.Int64:
            dtype = frame.schema[column]
            if isinstance(dtype, pl.Datetime):
                exprs.append(pl.col(column).dt.epoch("us").alias(column))
            else:
                exprs.append(pl.col(column).cast(pl.Int64).alias(column))
        else:
            exprs.append(pl.col(column))
    return frame.select(exprs)


def from_storage_frame(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Turn Int64 µs time columns back into timezone-aware UTC datetimes."""
    table = stored_table(name)
    return frame.with_columns(
        pl.col(c).cast(pl.Int64).cast(pl.Datetime("us", "UTC"))
        for c in table.time_columns
        if c in frame.columns
    )


def run_migrations(connection: Connection, revision: str = "head") -> None:
    """Upgrade the schema behind ``connection`` to ``revision`` with Alembic."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


class Store(abc.ABC):
    """A shop-scoped store of entities and events. Every method takes the ``shop_id``."""

    url: str

    # -- lifecycle ---------------------------------------------------------------------
    @abc.abstractmethod
    def migrate(self, revision: str = "head") -> None:
        """Create or upgrade the schema (Alembic), so a newer ShopMind opens an older store."""

    @abc.abstractmethod
    def schema_revision(self) -> str | None:
        """The Alembic revision the store is at (``None`` for an empty store)."""

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- shops -------------------------------------------------------------------------
    @abc.abstractmethod
    def ensure_shop(self, shop: Shop) -> None:
        """Create the shop if it does not exist (an existing shop is left as it is)."""

    @abc.abstractmethod
    def list_shops(self) -> list[str]: ...

    # -- writes ------------------------------------------------------------------------
    @abc.abstractmethod
    def apply_chunk(self, shop_id: str, chunk: Chunk) -> dict[str, int]:
        """Write a chunk atomically; return the number of rows changed per table.

        Tables whose ``on_conflict`` is ``ignore`` (events, quarantine) count only new rows,
        so the count tells how many were duplicates of stored rows.
        """

    @abc.abstractmethod
    def delete_user(self, shop_id: str, user_id: str) -> dict[str, int]:
        """Erase a user's rows in every table (events, reviews, orders, profile, PII)."""

    # -- reads -------------------------------------------------------------------------
    @abc.abstractmethod
    def read_table(
        self,
        shop_id: str,
        name: str,
        *,
        columns: list[str] | None = None,
        where: dict[str, Any] | None = None,
    ) -> pl.DataFrame:
        """A table of one shop as a Polars frame (time columns as UTC datetimes).

        ``where`` holds equality filters, e.g. ``{"user_id": "u1"}``.
        """

    @abc.abstractmethod
    def existing_keys(self, shop_id: str, name: str, keys: pl.Series) -> pl.Series:
        """The subset of ``keys`` (single-column keys) that is already stored."""

    @abc.abstractmethod
    def read_keys(self, shop_id: str, name: str, keys: pl.Series, *,
                  columns: list[str]) -> pl.DataFrame:
        """The stored rows of ``keys`` (single-column keys; unknown keys are absent), with
        ``columns``, typed as :meth:`read_table` types them."""

    @abc.abstractmethod
    def count(self, shop_id: str, name: str) -> int: ...

    @abc.abstractmethod
    def ingest_progress(self, shop_id: str, source_key: str) -> IngestProgress | None: ...
