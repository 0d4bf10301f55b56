"""Ingestion: read files in chunks, map columns, validate column-wise, quarantine, store.

Notes for contributors (the shared API around ingestion):

## Shared API you build on (already in the repo or being written right now by the lead)
- `shopmind.data.schema`: pydantic models `Item, User, UserPII, Event, Review, OrderRow, Shop`;
  `TABLES: dict[str, TableSpec]` (ingestible entities: items, users, user_pii, events, reviews,
  orders); `table_spec(name, model, key)` derives a `TableSpec` (column kinds, required, ranges)
  from any pydantic model; `EVENT_TYPES`, `ORDER_STATUSES`, `CATEGORY_SEPARATOR = " > "`.
- `shopmind.data.store`: `open_store(url) -> Store` (`sqlite:///PATH` or `postgresql://…`,
  migrated to head). `Store` (base.py) methods: `migrate`, `schema_revision`, `ensure_shop(Shop)`,
  `list_shops`, `apply_chunk(shop_id, Chunk) -> dict[table, rows changed]` (atomic),
  `delete_user`, `read_table(shop_id, name, columns=, where=) -> pl.DataFrame` (time columns as
  UTC datetimes), `existing_keys`, `count`, `ingest_progress`. Storage layout (columns per
  table, time columns as Int64 µs): `shopmind.data.store.layout.STORED_TABLES`.
- `shopmind.data.ingest.validate.validate_frame(spec: TableSpec, frame: pl.DataFrame, *,
  source: str, row_offset: int = 0) -> Validated` where `Validated.accepted` is a typed
  frame (ids str, floats
  Float64, datetimes `Datetime("us","UTC")`, json as str) and `Validated.rejected` has
  `row_number, field, reason, raw`. Input columns may be strings (parsed: ISO-8601 or epoch
  seconds/ms for datetimes) or already typed. A column `__row` (1-based source row number) is
  honoured if present.
- `shopmind.data.ingest.engine.ingest_batches(store, *, shop_id, table, batches, source,
  source_key, ...) -> IngestSummary(read, accepted, quarantined, duplicates, ...)` validates and
  writes; `ingest_file(store, path, *, shop_id, table, mapping=None)` reads CSV/JSONL/Parquet.
- `shopmind.config.get_settings()`: `Settings` with `datasets_dir` (env `SHOPMIND_DATA`, default
  `../shared/datasets`), `data_dir`, `resolved_store_url`, `default_shop`.
- `shopmind.errors`: `ShopMindError` tree (`InputError`, `UnknownNameError`,
  `DatasetUnavailableError`, `StoreError`, …).
- tests/conftest.py: autouse `isolated_settings` (tmp data dir) and a `datasets_dir` fixture.
"""
