"""PostgreSQL backend: the production store for entities and events.

Bulk writes never go row by row. Each frame of a chunk is written as CSV by Polars (in
Rust), ``COPY``-ed into a temporary staging table and merged into its table with one
``INSERT … SELECT … ON CONFLICT`` statement; the whole chunk, its placeholders and its
ingest progress marker commit in one transaction. Reads stream ``COPY (SELECT …) TO STDOUT``
into Polars' CSV reader.

The store can live in its own PostgreSQL schema (namespace): pass ``schema="name"`` or add
``?schema=name`` to the URL, and every table, including Alembic's version table, is created
and read there (the schema is created by :meth:`PostgresStore.migrate` if it is missing).
A ``search_path`` given in libpq's own ``options`` parameter
(``?options=-csearch_path%3Dname``) works too, but then the schema must already exist.
"""

from __future__ import annotations

import io
import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import polars as pl
import psycopg
from psycopg import sql
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from shopmind.data.schema import Shop
from shopmind.data.store.base import (
    USER_TABLES,
    Chunk,
    IngestProgress,
    Store,
    from_storage_frame,
    read_request,
    run_migrations,
    single_key,
    stored_table,
    to_storage_frame,
)
from shopmind.data.store.layout import StoredTable, storage_dtypes
from shopmind.errors import ConfigError, StoreError

#: Prefixed to every non-NULL text value read through CSV, so that an empty string (which
#: PostgreSQL writes as ``""``) stays apart from NULL (written as nothing) in Polars' reader.
_TEXT_SENTINEL = "."


def _split_url(url: str) -> tuple[str, str | None]:
    """Split a store URL into a libpq connection URI and the ``schema`` query parameter."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]  # postgresql+psycopg:// is SQLAlchemy's spelling
    if scheme not in ("postgresql", "postgres"):
        raise ConfigError(f"PostgreSQL store URL must start with postgresql://, got {url!r}")
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for key, value in query if key == "schema"]
    rest = urlencode([(k, v) for k, v in query if k != "schema"], quote_via=quote)
    conninfo = urlunsplit(("postgresql", parts.netloc, parts.path, rest, parts.fragment))
    return conninfo, (schemas[-1] if schemas else None)


def _redact(url: str) -> str:
    """``url`` without its password, for error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _ident(*names: str) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def _merge_sql(table: StoredTable, stage: str, policy: str) -> sql.Composed:
    columns = _ident(*table.columns)
    insert = "INSERT INTO {table} (shop_id, {columns}) SELECT %s, {columns} FROM {stage}"
    query = sql.SQL(insert).format(
        table=sql.Identifier(table.name), columns=columns, stage=sql.Identifier(stage)
    )
    updates = [c for c in table.columns if c not in table.key]
    if policy == "ignore" or not updates:
        return query + sql.SQL(" ON CONFLICT DO NOTHING")
    return query + sql.SQL(" ON CONFLICT (shop_id, {key}) DO UPDATE SET {sets}").format(
        key=_ident(*table.key),
        sets=sql.SQL(", ").join(
            sql.SQL("{c} = ").format(c=sql.Identifier(c))
            + sql.SQL(table.update_expression(f'"{c}"', f'"{table.name}"', "EXCLUDED"))
            for c in updates
        ),
    )


def _cast_to_storage(table: StoredTable, frame: pl.DataFrame) -> pl.DataFrame:
    """Give every column its storage dtype, so the CSV text is what PostgreSQL expects."""
    dtypes = storage_dtypes(table)
    try:
        return frame.cast({c: getattr(pl, dtypes[c]) for c in frame.columns}, strict=True)
    except pl.exceptions.PolarsError as exc:
        raise StoreError(
            f"table {table.name!r}: a column cannot be stored with its storage dtype "
            f"{dtypes}: {exc}"
        ) from exc


def _csv_bytes(frame: pl.DataFrame) -> bytes:
    # "non_numeric" quotes every string: "" stays an empty string while NULL is written as
    # nothing (COPY's CSV NULL), and a lone "\." can never pass for COPY's end-of-data mark.
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False, quote_style="non_numeric")
    return buffer.getvalue()


def _nul_message(name: str, frame: pl.DataFrame) -> str | None:
    """Explain a COPY refused for NUL characters, which PostgreSQL text cannot hold."""
    columns = [
        c for c, dtype in frame.schema.items()
        if dtype == pl.String and frame[c].str.contains("\x00", literal=True).any()
    ]
    if not columns:
        return None
    return (
        f"table {name!r}: column(s) {columns} hold NUL (\\x00) characters, which PostgreSQL "
        "text cannot store; strip them or quarantine those rows before writing"
    )


class PostgresStore(Store):
    """A :class:`Store` in a PostgreSQL database (psycopg 3).

    Parameters
    ----------
    url : str
        ``postgresql://[user[:password]@]host[:port]/database[?param=value…]``; any libpq
        parameter may be given, plus ``schema`` (see ``schema`` below).
    schema : str, optional
        The PostgreSQL schema that holds this store's tables (it becomes the connection's
        ``search_path``). Overrides a ``schema`` query parameter in ``url``. ``None`` uses
        the server's default search path (normally ``public``).

    Examples
    --------
    >>> store = PostgresStore("postgresql://127.0.0.1/test", schema="shop_a")  # doctest: +SKIP
    >>> store.migrate()  # doctest: +SKIP
    >>> store.close()  # doctest: +SKIP
    """

    def __init__(self, url: str, *, schema: str | None = None) -> None:
        self._conninfo, url_schema = _split_url(url)
        self.schema = schema if schema is not None else url_schema
        if self.schema is not None and not 0 < len(self.schema) < 64:
            raise ConfigError(f"schema must be 1 to 63 characters, got {self.schema!r}")
        self.url = url
        self._stage_ids = itertools.count()
        # tables for which a plain COPY of new rows is still worth trying (see _write)
        self._copy_direct: dict[str, bool] = {}
        self._conn = self._connect(autocommit=True)

    def _connect(self, *, autocommit: bool) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self._conninfo, autocommit=autocommit, client_encoding="utf8")
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to PostgreSQL store {_redact(self.url)}: {exc}"
            ) from exc
        # Staging tables of a 250k-row chunk stay in memory instead of spilling to disk.
        conn.execute("SET temp_buffers = '64MB'")
        if self.schema is not None:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        if not autocommit:
            conn.commit()
        return conn

    # -- lifecycle ---------------------------------------------------------------------
    def migrate(self, revision: str = "head") -> None:
        if self.schema is not None:
            with self._errors(f"creating schema {self.schema!r}"):
                self._conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
        engine = create_engine(
            "postgresql+psycopg://",
            creator=lambda: self._connect(autocommit=False),
            poolclass=NullPool,
        )
        try:
            with engine.begin() as connection:
                # Two processes opening the same new store must not both create its tables.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                    {"key": f"shopmind-migrate:{self.schema or ''}"},
                )
                run_migrations(connection, revision)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot migrate {_redact(self.url)} to {revision}: {exc}") from exc
        finally:
            engine.dispose()

    def schema_revision(self) -> str | None:
        with self._errors("reading the schema revision"):
            if self._conn.execute("SELECT to_regclass('alembic_version')").fetchone() == (None,):
                return None
            row = self._conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as exc:
            raise StoreError(f"{what} failed: {exc}") from exc

    @contextmanager
    def _transaction(self, what: str) -> Iterator[psycopg.Cursor[Any]]:
        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                yield cur
        except psycopg.Error as exc:
            raise StoreError(f"{what} failed and was rolled back: {exc}") from exc

    # -- shops -------------------------------------------------------------------------
    def ensure_shop(self, shop: Shop) -> None:
        with self._errors(f"creating shop {shop.shop_id!r}"):
            self._conn.execute(
                "INSERT INTO shops (shop_id, name, currency, created_at) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (shop.shop_id, shop.name, shop.currency, int(time.time() * 1e6)),
            )

    def list_shops(self) -> list[str]:
        with self._errors("listing shops"):
            rows = self._conn.execute("SELECT shop_id FROM shops ORDER BY shop_id").fetchall()
        return [r[0] for r in rows]

    # -- writes ------------------------------------------------------------------------
    def _copy_in(self, cur: psycopg.Cursor[Any], like: StoredTable, columns: tuple[str, ...],
                 frame: pl.DataFrame) -> str:
        """COPY ``frame`` into a new temporary table typed like ``like``; return its name."""
        stage = f"_shopmind_stage_{next(self._stage_ids)}"
        cur.execute(
            sql.SQL("CREATE TEMP TABLE {stage} ON COMMIT DROP AS "
                    "SELECT {columns} FROM {table} WITH NO DATA").format(
                stage=sql.Identifier(stage), columns=_ident(*columns),
                table=sql.Identifier(like.name),
            )
        )
        copy_sql = sql.SQL("COPY {stage} ({columns}) FROM STDIN (FORMAT csv)").format(
            stage=sql.Identifier(stage), columns=_ident(*columns)
        )
        with cur.copy(copy_sql) as copy:
            copy.write(_csv_bytes(frame))
        return stage

    def _copy_new_rows(self, cur: psycopg.Cursor[Any], shop_id: str, table: StoredTable,
                       rows: pl.DataFrame) -> int | None:
        """COPY ``rows`` straight into ``table`` if none of their keys is stored yet.

        The fast path of an append-only log: no staging table, no merge. It runs inside a
        savepoint; when a key is already stored the COPY fails with a unique violation,
        the savepoint rolls back and ``None`` tells the caller to merge instead.
        """
        frame = rows.select(pl.lit(shop_id).alias("shop_id"), *table.columns)
        copy_sql = sql.SQL("COPY {table} ({columns}) FROM STDIN (FORMAT csv)").format(
            table=sql.Identifier(table.name), columns=_ident("shop_id", *table.columns)
        )
        try:
            with cur.connection.transaction(), cur.copy(copy_sql) as copy:
                copy.write(_csv_bytes(frame))
        except psycopg.errors.UniqueViolation:
            return None
        except psycopg.errors.CharacterNotInRepertoire as exc:
            raise StoreError(_nul_message(table.name, rows) or str(exc)) from exc
        return rows.height

    def _write(self, cur: psycopg.Cursor[Any], shop_id: str, name: str, frame: pl.DataFrame,
               policy: str, *, optimistic: bool = False) -> int:
        table = stored_table(name)
        rows = _cast_to_storage(table, to_storage_frame(name, frame))
        if policy == "update":
            # One INSERT … ON CONFLICT DO UPDATE cannot touch a row twice; SQLite applies the
            # rows in order, so keep the last row of each key, as it does.
            rows = rows.unique(subset=list(table.key), keep="last", maintain_order=True)
        if rows.is_empty():
            return 0
        # In key order, concurrent writers lock rows in the same order (no deadlocks) and the
        # index inserts land near each other. Stable, so the first of equal keys stays first.
        rows = rows.sort(list(table.key), maintain_order=True)
        if optimistic and self._copy_direct.get(name, True):
            written = self._copy_new_rows(cur, shop_id, table, rows)
            if written is not None:
                return written
            # Some rows were there already: merge this chunk, and the next ones until a
            # chunk turns out to hold only new rows again.
        try:
            stage = self._copy_in(cur, table, table.columns, rows)
        except psycopg.errors.CharacterNotInRepertoire as exc:
            raise StoreError(_nul_message(name, rows) or str(exc)) from exc
        cur.execute(_merge_sql(table, stage, policy), (shop_id,))
        if optimistic:
            # All rows new again (a fresh file after a re-ingest): go back to plain COPY.
            self._copy_direct[name] = cur.rowcount == rows.height
        return cur.rowcount

    def apply_chunk(self, shop_id: str, chunk: Chunk) -> dict[str, int]:
        changed: dict[str, int] = {}
        with self._transaction(f"writing a chunk for shop {shop_id!r}") as cur:
            for name, frame in chunk.placeholders.items():
                changed[f"{name}_placeholders"] = self._write(cur, shop_id, name, frame, "ignore")
            for name, frame in chunk.frames.items():
                policy = stored_table(name).on_conflict
                # Events are an append-only log keyed by content: a new file's rows are
                # nearly always new, so they are first tried with a plain COPY.
                changed[name] = self._write(cur, shop_id, name, frame, policy,
                                            optimistic=name == "events")
            if chunk.progress is not None:
                p = chunk.progress
                cur.execute(
                    "INSERT INTO ingest_progress (shop_id, source_key, source, table_name, "
                    "chunks_done, rows_done, finished, updated_at) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (shop_id, source_key) DO UPDATE SET "
                    "chunks_done = EXCLUDED.chunks_done, rows_done = EXCLUDED.rows_done, "
                    "finished = EXCLUDED.finished, updated_at = EXCLUDED.updated_at",
                    (shop_id, p.source_key, p.source, p.table_name, p.chunks_done,
                     p.rows_done, p.finished, int(time.time() * 1e6)),
                )
        return changed

    def delete_user(self, shop_id: str, user_id: str) -> dict[str, int]:
        deleted: dict[str, int] = {}
        with self._transaction(f"erasing user {user_id!r} of shop {shop_id!r}") as cur:
            cur.execute(
                "DELETE FROM order_lines WHERE shop_id = %s AND order_id IN "
                "(SELECT order_id FROM orders WHERE shop_id = %s AND user_id = %s)",
                (shop_id, shop_id, user_id),
            )
            deleted["order_lines"] = cur.rowcount
            for table in USER_TABLES:
                cur.execute(
                    sql.SQL("DELETE FROM {} WHERE shop_id = %s AND user_id = %s").format(
                        sql.Identifier(table)
                    ),
                    (shop_id, user_id),
                )
                deleted[table] = cur.rowcount
        return deleted

    # -- reads -------------------------------------------------------------------------
    def read_table(
        self,
        shop_id: str,
        name: str,
        *,
        columns: list[str] | None = None,
        where: dict[str, Any] | None = None,
    ) -> pl.DataFrame:
        request = read_request(name, columns, where)
        dtypes, selected, filters = request.dtypes, request.columns, request.filters

        exprs, read_schema = [], {}
        for i, column in enumerate(selected):
            alias, dtype = sql.Identifier(f"c{i}"), dtypes[column]
            if dtype == "String":
                expr = sql.SQL("{} || {} AS {}").format(
                    sql.Literal(_TEXT_SENTINEL), sql.Identifier(column), alias
                )
            elif dtype == "Boolean":
                expr = sql.SQL("{}::int AS {}").format(sql.Identifier(column), alias)
            else:
                expr = sql.SQL("{} AS {}").format(sql.Identifier(column), alias)
            exprs.append(expr)
            read_schema[f"c{i}"] = pl.Int8 if dtype == "Boolean" else getattr(pl, dtype)
        query = sql.SQL("SELECT {} FROM {} WHERE shop_id = %s").format(
            sql.SQL(", ").join(exprs), sql.Identifier(name)
        )
        query += sql.SQL("").join(
            sql.SQL(" AND {} = %s").format(sql.Identifier(c)) for c in filters
        )
        data = io.BytesIO()
        try:
            with self._conn.cursor() as cur, cur.copy(
                sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(query),
                (shop_id, *filters.values()),
            ) as copy:
                for block in copy:
                    data.write(block)
        except psycopg.Error as exc:
            raise StoreError(f"reading table {name!r} of shop {shop_id!r} failed: {exc}") from exc
        data.seek(0)
        raw = pl.read_csv(
            data, has_header=False, new_columns=list(read_schema), schema=read_schema,
            raise_if_empty=False,
        )
        frame = raw.select(
            (
                pl.col(f"c{i}").str.slice(len(_TEXT_SENTINEL))
                if dtypes[c] == "String"
                else pl.col(f"c{i}").cast(getattr(pl, dtypes[c]))
            ).alias(c)
            for i, c in enumerate(selected)
        )
        return from_storage_frame(name, frame)

    def read_keys(self, shop_id: str, name: str, keys: pl.Series, *,
                  columns: list[str]) -> pl.DataFrame:
        key = single_key(name, "read_keys")
        request = read_request(name, columns, None)
        schema = {c: getattr(pl, request.dtypes[c]) for c in request.columns}
        unique = keys.drop_nulls().unique().to_list()
        rows: list[tuple[Any, ...]] = []
        if unique:
            query = sql.SQL("SELECT {} FROM {} WHERE shop_id = %s AND {} = ANY(%s)").format(
                sql.SQL(", ").join(map(sql.Identifier, request.columns)),
                sql.Identifier(name), sql.Identifier(key))
            with self._errors(f"reading rows of {name!r} by key"):
                rows = self._conn.execute(query, (shop_id, unique)).fetchall()
        return from_storage_frame(name, pl.DataFrame(rows, schema=schema, orient="row"))

    def existing_keys(self, shop_id: str, name: str, keys: pl.Series) -> pl.Series:
        table = stored_table(name)
        key = single_key(name, "existing_keys")
        unique = keys.drop_nulls().unique()
        if unique.is_empty():
            return unique
        probe = _cast_to_storage(table, unique.rename(key).to_frame())
        with self._transaction(f"looking up keys of {name!r}") as cur:
            stage = self._copy_in(cur, table, (key,), probe)
            cur.execute(
                sql.SQL("SELECT s.{key} FROM {stage} s WHERE EXISTS (SELECT 1 FROM {table} t "
                        "WHERE t.shop_id = %s AND t.{key} = s.{key})").format(
                    key=sql.Identifier(key), stage=sql.Identifier(stage),
                    table=sql.Identifier(name),
                ),
                (shop_id,),
            )
            found = [r[0] for r in cur.fetchall()]
        return pl.Series(keys.name, found, dtype=probe.schema[key]).cast(keys.dtype)

    def count(self, shop_id: str, name: str) -> int:
        stored_table(name)
        query = sql.SQL("SELECT COUNT(*) FROM {} WHERE shop_id = %s").format(sql.Identifier(name))
        with self._errors(f"counting {name!r} of shop {shop_id!r}"):
            row = self._conn.execute(query, (shop_id,)).fetchone()
        return int(row[0]) if row else 0

    def ingest_progress(self, shop_id: str, source_key: str) -> IngestProgress | None:
        with self._errors(f"reading ingest progress of {source_key!r}"):
            row = self._conn.execute(
                "SELECT source_key, source, table_name, chunks_done, rows_done, finished "
                "FROM ingest_progress WHERE shop_id = %s AND source_key = %s",
                (shop_id, source_key),
            ).fetchone()
        if row is None:
            return None
        key, source, table_name, chunks_done, rows_done, finished = row
        return IngestProgress(key, source, table_name, chunks_done, rows_done, bool(finished))
