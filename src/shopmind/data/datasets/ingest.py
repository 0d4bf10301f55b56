"""Ingest a registered public data set: entity tables into the store, auxiliary records
(search judgments, campaign responses, Q&A, policies) validated and kept as Parquet files.

Both go through the same validation path as a user's own files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from shopmind.data.datasets.registry import DatasetTable, get_dataset
from shopmind.data.ingest.engine import (
    IngestSummary,
    ProgressCallback,
    UnknownPolicy,
    file_source_key,
    ingest_batches,
    quarantine_frame,
)
from shopmind.data.ingest.mapping import ColumnMapping
from shopmind.data.ingest.validate import ROW, validate_frame
from shopmind.data.schema import Shop
from shopmind.data.store.base import Chunk, Store

#: Makes a progress callback for one table: (label, expected rows) -> callback(rows done).
ProgressFactory = Callable[[str, int | None], ProgressCallback]


def auxiliary_path(data_dir: Path, dataset: str, table: str) -> Path:
    """Where the validated auxiliary records of ``dataset`` are kept."""
    return data_dir / "datasets" / dataset / f"{table}.parquet"


def _source_key(table: DatasetTable, dataset: str, shop_id: str) -> str | None:
    path = Path(table.source)
    if not path.is_file():
        return None
    return file_source_key(path, shop_id, f"{dataset}:{table.table}", ColumnMapping())


def _ingest_auxiliary(
    store: Store, table: DatasetTable, *, dataset: str, shop_id: str, data_dir: Path,
    on_rows: ProgressCallback | None,
) -> IngestSummary:
    summary = IngestSummary(source=table.source, table=table.table)
    accepted_parts: list[pl.DataFrame] = []
    offset = 0
    for frame in table.read():
        result = validate_frame(table.spec, frame, source=table.source, row_offset=offset)
        offset += frame.height
        accepted_parts.append(result.accepted.drop(ROW))
        if not result.rejected.is_empty():
            store.apply_chunk(shop_id, Chunk(frames={
                "quarantine": quarantine_frame(result.rejected, table.source, table.table)}))
        summary.read += frame.height
        summary.accepted += result.accepted.height
        summary.quarantined += result.rejected.height
        if on_rows is not None:
            on_rows(frame.height)
    target = auxiliary_path(data_dir, dataset, table.table)
    target.parent.mkdir(parents=True, exist_ok=True)
    if accepted_parts:
        pl.concat(accepted_parts).write_parquet(target)
    return summary


def ingest_dataset(
    store: Store,
    name: str,
    *,
    shop_id: str,
    data_dir: Path,
    unknown: UnknownPolicy = "placeholder",
    quarantine_file: Path | None = None,
    datasets_dir: Path | None = None,
    progress: ProgressFactory | None = None,
) -> list[IngestSummary]:
    """Load every table of the public data set ``name`` for ``shop_id``.

    Returns one :class:`IngestSummary` per table, in the data set's ingest order.
    """
    dataset = get_dataset(name, datasets_dir)
    store.ensure_shop(Shop(shop_id=shop_id, name=dataset.name))
    summaries = []
    for table in dataset.tables:
        on_rows = progress(f"{dataset.name}:{table.table}", table.expected_rows) if progress \
            else None
        if table.auxiliary:
            summary = _ingest_auxiliary(store, table, dataset=dataset.name, shop_id=shop_id,
                                        data_dir=data_dir, on_rows=on_rows)
        else:
            summary = ingest_batches(
                store, shop_id=shop_id, table=table.table, batches=table.read(),
                source=table.source, source_key=_source_key(table, dataset.name, shop_id),
                unknown=unknown, quarantine_file=quarantine_file, on_rows=on_rows,
                spec=table.spec,
            )
        summaries.append(summary)
    return summaries
