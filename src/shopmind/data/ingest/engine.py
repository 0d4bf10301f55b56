"""The ingest engine: batches in, validated rows stored, rejected rows quarantined.

For every batch: validate column-wise, auto-tag items and PII-scrub reviews, key the rows,
drop in-batch duplicates, apply the unknown-reference policy, then commit rows + quarantine +
progress marker in one transaction (:meth:`Store.apply_chunk`). Re-running an ingest is
idempotent (events are keyed on their content, entities upserted by id) and resumes after the
last committed chunk, so a crash mid-ingest never leaves half a chunk or a duplicate behind.

Invariant of every run: ``accepted + quarantined + duplicates == read``.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import orjson
import polars as pl

from shopmind.data.ingest.keys import event_keys, stable_keys
from shopmind.data.ingest.mapping import ColumnMapping
from shopmind.data.ingest.readers import read_batches
from shopmind.data.ingest.validate import ROW, validate_frame
from shopmind.data.schema import TABLES, Shop, TableSpec
from shopmind.data.store.base import Chunk, IngestProgress, Store
from shopmind.errors import InputError
from shopmind.text.pii import scrub_column

UnknownPolicy = Literal["placeholder", "quarantine"]
ProgressCallback = Callable[[int], None]


@dataclass
class IngestSummary:
    """Counts of one ingest run; ``accepted + quarantined + duplicates == read``."""

    source: str
    table: str
    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    placeholders: int = 0
    uncategorized: int = 0  # accepted items without a category
    resumed_after_rows: int = 0
    seconds: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def merge(self, other: IngestSummary) -> None:
        self.read += other.read
        self.accepted += other.accepted
        self.quarantined += other.quarantined
        self.duplicates += other.duplicates
        self.placeholders += other.placeholders
        self.uncategorized += other.uncategorized
        self.reasons.update(other.reasons)


def _now_us() -> int:
    return int(time.time() * 1_000_000)


def _reason_kind(reason: str) -> str:
    """A reason without the quoted value, for the summary's tally."""
    return reason.split(", got ")[0].split(": ")[0][:120]


def quarantine_frame(rejected: pl.DataFrame, source: str, table: str) -> pl.DataFrame:
    texts = rejected.select(
        pl.concat_str([pl.lit(f"{table}\x1f{source}\x1f"), pl.col("row_number").cast(pl.String)])
    ).to_series()
    return rejected.select(
        stable_keys(texts).alias("quarantine_key"),
        pl.lit(source).alias("source"),
        "row_number",
        "field",
        (pl.lit(f"{table}: ") + pl.col("reason")).alias("reason"),
        "raw",
        pl.lit(_now_us(), pl.Int64).alias("created_at"),
    )


def _dedupe(frame: pl.DataFrame, key: list[str], keep: Literal["first", "last"]) -> pl.DataFrame:
    return frame.unique(subset=key, keep=keep, maintain_order=True)


def _placeholders(ids: pl.Series, name: str, id_column: str) -> pl.DataFrame:
    unique = ids.drop_nulls().unique()
    now = _now_us()
    return pl.DataFrame({id_column: unique}).with_columns(
        pl.lit(now, pl.Int64).alias("created_at"),
        pl.lit(now, pl.Int64).alias("updated_at"),
        pl.lit(True).alias("placeholder"),
        *([pl.lit("").alias("title")] if name == "items" else []),
    )


class _BatchWriter:
    """Turns one validated batch into a :class:`Chunk` for its table."""

    def __init__(self, store: Store, shop_id: str, spec: TableSpec, policy: UnknownPolicy):
        self.store, self.shop_id, self.spec, self.policy = store, shop_id, spec, policy
        # ids this run already made sure exist, so each placeholder is sent only once
        self._ensured: dict[str, pl.Series] = {}

    def reject_unknown_references(
        self, frame: pl.DataFrame, accepted: pl.DataFrame, rejected: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Move rows naming users/items the store does not know from accepted to rejected."""
        problems = []
        for column, table in (("user_id", "users"), ("item_id", "items")):
            if column not in accepted.columns or self.spec.name in (table, "user_pii"):
                continue
            known = self.store.existing_keys(self.shop_id, table, accepted[column])
            unknown = accepted.filter(
                pl.col(column).is_not_null() & ~pl.col(column).is_in(known.implode())
            )
            problems.append(unknown.select(
                pl.col(ROW).alias("row_number"),
                pl.lit(column).alias("field"),
                pl.format(f"unknown {column} '{{}}' (policy: quarantine; ingest {table} "
                          "first or use --unknown placeholder)", pl.col(column)).alias("reason"),
            ))
        if not problems:
            return accepted, rejected
        refs = pl.concat(problems).unique("row_number", keep="first", maintain_order=True)
        if refs.is_empty():
            return accepted, rejected
        bad_rows = refs["row_number"].implode()
        raw_json = frame.filter(pl.col(ROW).is_in(bad_rows)).select(
            pl.col(ROW).alias("row_number"),
            pl.struct(pl.exclude(ROW).cast(pl.String)).struct.json_encode().alias("raw"),
        )
        rejected = pl.concat([rejected, _scrub_rejected(refs.join(raw_json, on="row_number"),
                                                         self.spec.name)])
        return accepted.filter(~pl.col(ROW).is_in(bad_rows)), rejected

    def _new_placeholders(self, ids: pl.Series, table: str) -> pl.DataFrame:
        unique = ids.drop_nulls().unique()
        seen = self._ensured.get(table)
        if seen is not None:
            unique = unique.filter(~unique.is_in(seen.implode()))
            self._ensured[table] = pl.concat([seen, unique])
        else:
            self._ensured[table] = unique
        return _placeholders(unique, table, ids.name)

    def chunk(self, accepted: pl.DataFrame) -> tuple[Chunk, int]:
        """(chunk to write, in-batch duplicates dropped)."""
        name = self.spec.name
        chunk = Chunk()
        now = _now_us()
        if name == "events":
            keyed = accepted.with_columns(event_keys(accepted))
            unique = _dedupe(keyed, ["event_key"], "first")
            chunk.frames["events"] = unique
            dropped = keyed.height - unique.height
        elif name == "orders":
            unique = _dedupe(accepted, ["order_id", "item_id"], "last")
            dropped = accepted.height - unique.height
            chunk.frames.update(_split_orders(unique))
        else:
            key = list(self.spec.key)
            unique = _dedupe(accepted, key, "last")
            dropped = accepted.height - unique.height
            if name in ("items", "users"):
                unique = unique.with_columns(
                    pl.col("created_at").fill_null(pl.lit(now).cast(pl.Datetime("us", "UTC"))),
                    pl.lit(now, pl.Int64).alias("updated_at"),
                    pl.lit(False).alias("placeholder"),
                )
            chunk.frames[name] = unique
        if self.policy == "placeholder" and name not in ("items", "users", "user_pii"):
            for column, table in (("user_id", "users"), ("item_id", "items")):
                if column in accepted.columns:
                    chunk.placeholders[table] = self._new_placeholders(accepted[column], table)
        return chunk, dropped


def validated_chunk(store: Store, shop_id: str, table: str, accepted: pl.DataFrame,
                    unknown: UnknownPolicy = "placeholder") -> tuple[Chunk, int]:
    """The chunk :func:`ingest_batches` writes for rows that are already valid.

    For records validated one by one at an edge against the same schema (the HTTP API's
    pydantic models): ``accepted`` holds the table's canonical, typed columns. Keys,
    in-batch de-duplication and placeholders are exactly those of an ingest; rows naming
    unknown users/items under the ``quarantine`` policy are not handled here (use
    :func:`ingest_batches`). Returns the chunk and the in-batch duplicates dropped.
    """
    if unknown != "placeholder":
        raise InputError("validated_chunk creates placeholders; use ingest_batches for the "
                         "'quarantine' policy")
    return _BatchWriter(store, shop_id, _table_spec(table), unknown).chunk(accepted)


def _split_orders(rows: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Order rows (one per line) → ``orders`` (one per order) and ``order_lines``."""
    lines = rows.filter(pl.col("item_id").is_not_null()).select(
        "order_id", pl.col("item_id").alias("line_key"), "item_id",
        pl.col("quantity").fill_null(1), "unit_price",
    )
    orders = rows.group_by("order_id", maintain_order=True).agg(
        pl.col("user_id").first(),
        pl.col("status").drop_nulls().last().fill_null("created"),
        pl.col("created_at").min(),
        pl.col("updated_at").max(),
        pl.coalesce(
            pl.col("total").drop_nulls().first(),
            (pl.col("quantity").fill_null(1) * pl.col("unit_price")).sum(),
        ).alias("total"),
        pl.col("currency").drop_nulls().first(),
    )
    return {"orders": orders, "order_lines": lines}


def ingest_batches(
    store: Store,
    *,
    shop_id: str,
    table: str,
    batches: Iterable[pl.DataFrame],
    source: str,
    source_key: str | None = None,
    mapping: ColumnMapping | None = None,
    unknown: UnknownPolicy = "placeholder",
    quarantine_file: Path | None = None,
    on_rows: ProgressCallback | None = None,
    spec: TableSpec | None = None,
) -> IngestSummary:
    """Validate and store ``batches`` for ``table`` of ``shop_id``.

    Parameters
    ----------
    batches
        Frames of source rows (a ``__row`` column gives their 1-based source row numbers).
    source
        Name used in messages and quarantine rows (usually the file path).
    source_key
        Identity of this source for resuming; when a previous run of the same key stopped
        part-way, rows up to its last committed chunk are skipped.
    unknown
        An event, review or order naming a user or item the store does not know gets a
        placeholder row created (``placeholder``) or is quarantined (``quarantine``).
    quarantine_file
        JSONL file to which every rejected row is appended (the store's ``quarantine`` table
        holds them too).
    """
    spec = spec or _table_spec(table)
    mapping = mapping or ColumnMapping()
    store.ensure_shop(Shop(shop_id=shop_id))
    summary = IngestSummary(source=source, table=table)
    started = time.perf_counter()
    previous = store.ingest_progress(shop_id, source_key) if source_key else None
    skip_rows = previous.rows_done if previous and not previous.finished else 0
    summary.resumed_after_rows = skip_rows
    writer = _BatchWriter(store, shop_id, spec, unknown)
    chunks_done = previous.chunks_done if previous is not None and skip_rows else 0
    rows_done = skip_rows

    def prepared() -> Iterator[_Prepared]:
        """Read, map and validate (pure work, run ahead in a thread while the store writes)."""
        first = True
        numbered = 0  # rows seen so far, for sources that do not number their rows
        for raw in batches:
            if ROW not in raw.columns:
                raw = raw.with_row_index(ROW, offset=numbered + 1)
            numbered = int(raw[ROW].max() or numbered)  # type: ignore[arg-type]
            if skip_rows:
                raw = raw.filter(pl.col(ROW) > skip_rows)
            if raw.is_empty():
                continue
            if first:
                summary.ignored_columns = mapping.ignored_columns(raw, spec)
                first = False
            frame = mapping.apply(raw, spec, source=source)
            result = validate_frame(spec, frame, source=source)
            accepted = _prepare_rows(spec.name, result.accepted)
            prepared_batch = _Prepared(raw.height, numbered, frame, accepted,
                                       _scrub_rejected(result.rejected, spec.name))
            if unknown != "quarantine" and spec.name != "items":
                # Keys, in-batch dedupe and placeholders need no store reads under this
                # policy, so they run ahead too, overlapping with the store's write
                # (items are tagged against their stored rows first, below).
                prepared_batch.chunk, prepared_batch.dropped = writer.chunk(accepted)
            yield prepared_batch

    for batch in _run_ahead(prepared()):
        accepted, rejected = batch.accepted, batch.rejected
        if batch.chunk is not None:
            chunk, dropped = batch.chunk, batch.dropped
        else:
            if spec.name == "items":
                accepted = _tag_items(store, shop_id, accepted)
            if unknown == "quarantine" and not accepted.is_empty():
                accepted, rejected = writer.reject_unknown_references(
                    batch.frame, accepted, rejected)
            chunk, dropped = writer.chunk(accepted)
        chunk.frames["quarantine"] = quarantine_frame(rejected, source, spec.name)
        fresh = None  # rows an earlier ingest of the same file had not quarantined yet
        if quarantine_file is not None and rejected.height:
            keys = chunk.frames["quarantine"]["quarantine_key"]
            fresh = ~keys.is_in(store.existing_keys(shop_id, "quarantine", keys).implode())
        rows_done = batch.last_row
        chunks_done += 1
        if source_key:
            chunk.progress = IngestProgress(source_key, source, spec.name, chunks_done, rows_done)
        changed = store.apply_chunk(shop_id, chunk)
        if spec.name == "events":
            stored = chunk.frames["events"].height
            summary.accepted += changed["events"]
            summary.duplicates += dropped + stored - changed["events"]
        else:
            summary.accepted += accepted.height - dropped
            summary.duplicates += dropped
        summary.read += batch.rows_read
        summary.quarantined += rejected.height
        summary.placeholders += sum(v for k, v in changed.items() if k.endswith("_placeholders"))
        if spec.name == "items":
            summary.uncategorized += chunk.frames["items"].filter(
                pl.col("category").fill_null("").str.strip_chars() == "").height
        summary.reasons.update(_reason_kind(r) for r in rejected["reason"].to_list())
        if quarantine_file is not None and fresh is not None and fresh.any():
            _append_quarantine_file(quarantine_file, shop_id, source, spec.name,
                                    rejected.filter(fresh))
        if on_rows is not None:
            on_rows(batch.rows_read)
    if source_key:
        store.apply_chunk(shop_id, Chunk(progress=IngestProgress(
            source_key, source, spec.name, chunks_done, rows_done, finished=True)))
    summary.seconds = time.perf_counter() - started
    return summary


def _scrub_rejected(rejected: pl.DataFrame, table: str) -> pl.DataFrame:
    """Rejected rows with PII scrubbed from their raw values and reason: a row is kept for
    the user to fix, never with personal data in it. A ``user_pii`` row is personal data
    throughout (names have no pattern to find), so its values are not kept at all."""
    if table == "user_pii" and not rejected.is_empty():
        rejected = rejected.with_columns(
            pl.lit('{"withheld": "user_pii values are not kept in the quarantine"}')
            .alias("raw"),
            pl.col("reason").map_elements(_reason_kind, return_dtype=pl.String))
    return scrub_column(scrub_column(rejected, "raw"), "reason")


def _prepare_rows(table: str, accepted: pl.DataFrame) -> pl.DataFrame:
    """Accepted rows as they are stored: reviews PII-scrubbed (items: :func:`_tag_items`)."""
    if table == "reviews":
        return scrub_column(accepted, "text")
    return accepted


def _tag_items(store: Store, shop_id: str, accepted: pl.DataFrame) -> pl.DataFrame:
    """Items with their tags (cue matching, no classifier, so nothing is embedded here),
    added to what the store holds for them: a partial update keeps its stored category and
    attributes. Missing categories are filled after the ingest
    (:mod:`shopmind.data.ingest.categories`)."""
    from shopmind.catalog_ml.tagging import autotag_items  # sklearn: items ingests only

    if accepted.is_empty():
        return accepted
    stored = store.read_keys(shop_id, "items", accepted["item_id"],
                             columns=["item_id", "title", "description", "category",
                                      "attributes"])
    return autotag_items(accepted, stored=stored)


@dataclass
class _Prepared:
    rows_read: int
    last_row: int
    frame: pl.DataFrame
    accepted: pl.DataFrame
    rejected: pl.DataFrame
    chunk: Chunk | None = None  # built ahead when no store read is needed
    dropped: int = 0


_DONE = object()


def _run_ahead(items: Iterator[_Prepared], depth: int = 1) -> Iterator[_Prepared]:
    """Produce ``items`` in a background thread, ``depth`` ahead of the consumer.

    Polars releases the GIL while it parses and validates, and SQLite releases it while it
    writes, so reading batch N+1 overlaps with storing batch N on the second core.
    """
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        slots.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            slots.put(exc)

    worker = threading.Thread(target=produce, name="shopmind-ingest-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=5)


def _append_quarantine_file(
    path: Path, shop_id: str, source: str, table: str, rejected: pl.DataFrame
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).isoformat()
    with path.open("ab") as handle:
        for row in rejected.iter_rows(named=True):
            handle.write(orjson.dumps({
                "shop_id": shop_id, "table": table, "source": source, "at": stamp, **row,
            }) + b"\n")


def _table_spec(table: str) -> TableSpec:
    try:
        return TABLES[table]
    except KeyError:
        raise InputError(
            f"unknown table {table!r}; choose one of {', '.join(sorted(TABLES))}"
        ) from None


def file_source_key(path: Path, shop_id: str, table: str, mapping: ColumnMapping) -> str:
    """Identity of one ingest of one file: its content, the shop, the table and the mapping."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    digest.update(f"\x1f{shop_id}\x1f{table}\x1f{mapping!r}".encode())
    return digest.hexdigest()


def ingest_file(
    store: Store,
    path: str | Path,
    *,
    shop_id: str,
    table: str,
    mapping: ColumnMapping | None = None,
    unknown: UnknownPolicy = "placeholder",
    chunk_rows: int = 250_000,
    quarantine_file: Path | None = None,
    on_rows: ProgressCallback | None = None,
) -> IngestSummary:
    """Ingest a CSV, JSONL or Parquet file (``.gz`` allowed) into ``table`` of ``shop_id``.

    >>> import tempfile, pathlib
    >>> from shopmind.data.store import open_store
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "e.csv").write_text(
    ...     "user_id,item_id,type,ts\\nu1,i1,view,2026-01-01T10:00:00Z\\nu1,i1,oops,x\\n")
    >>> store = open_store(f"sqlite:///{folder / 's.db'}")
    >>> s = ingest_file(store, folder / "e.csv", shop_id="demo", table="events")
    >>> (s.read, s.accepted, s.quarantined, s.duplicates)
    (2, 1, 1, 0)
    """
    path = Path(path)
    mapping = mapping or ColumnMapping()
    key = file_source_key(path, shop_id, table, mapping) if path.is_file() else None
    return ingest_batches(
        store, shop_id=shop_id, table=table, batches=_lazy(path, chunk_rows), source=str(path),
        source_key=key, mapping=mapping, unknown=unknown, quarantine_file=quarantine_file,
        on_rows=on_rows,
    )


def _lazy(path: Path, chunk_rows: int) -> Iterator[pl.DataFrame]:
    yield from read_batches(path, chunk_rows=chunk_rows)
