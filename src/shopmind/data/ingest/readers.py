"""Stream CSV, JSONL and Parquet files in chunks of rows, as Polars frames.

Every frame carries ``__row`` (the 1-based record number in the file, header excluded).
Text is decoded leniently (invalid UTF-8 bytes become U+FFFD, which the validator rejects
with a reason), and a record the parser cannot split (a ragged CSV line, a JSONL line that is
not a JSON object) arrives as a row whose ``__reader_error`` says why: nothing is dropped.
CSV values all arrive as strings; the validator parses them.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

import orjson
import polars as pl
import polars.exceptions as plx

from shopmind.data.ingest.validate import READER_ERROR, ROW
from shopmind.errors import InputError

FORMATS = {".csv": "csv", ".tsv": "tsv", ".txt": "csv", ".jsonl": "jsonl",
           ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


def detect_format(path: Path) -> str:
    """``csv``, ``tsv``, ``jsonl`` or ``parquet`` from the file name (``.gz`` allowed)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        raise InputError(
            f"{path}: cannot tell the format from the name; use one of "
            f"{', '.join(sorted(FORMATS))} (optionally .gz)"
        )
    return fmt


def _open_binary(path: Path) -> IO[bytes]:
    if path.suffix.lower() == ".gz":
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def count_records(path: Path) -> int | None:
    """Approximate record count (newlines) for a progress bar; ``None`` for compressed files."""
    if path.suffix.lower() == ".gz" or detect_format(path) == "parquet":
        return None
    lines = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 24):
            lines += block.count(b"\n")
    return max(lines - (1 if detect_format(path) in ("csv", "tsv") else 0), 0)


def input_file(path: str | Path, directory_hint: str = "give a file") -> Path:
    """``path`` as a Path if it is an existing file; else an :class:`InputError` saying
    what it is (missing, or a directory: then ``directory_hint``)."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a directory; {directory_hint}")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    return path


def read_batches(path: str | Path, *, chunk_rows: int = 250_000) -> Iterator[pl.DataFrame]:
    """Yield the records of ``path`` in frames of at most ``chunk_rows`` rows.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = p.write_text("user_id,item_id\\nu1,i1\\nu2,i2\\n")
    >>> [f.shape for f in read_batches(p)]
    [(2, 3)]
    """
    path = input_file(path, "give a file (ingest one file at a time)")
    fmt = detect_format(path)
    try:
        if fmt in ("csv", "tsv"):
            yield from _read_csv(path, separator="\t" if fmt == "tsv" else ",",
                                 chunk_rows=chunk_rows)
        elif fmt == "jsonl":
            yield from _read_jsonl(path, chunk_rows=chunk_rows)
        else:
            yield from _read_parquet(path, chunk_rows=chunk_rows)
    except (OSError, EOFError) as exc:  # a truncated or corrupt gzip, an unreadable file
        raise InputError(f"{path}: cannot read it to the end ({exc}); fix or re-create the "
                         "file and ingest it again (rows already stored are not stored "
                         "twice)") from exc


def _read_csv(path: Path, *, separator: str, chunk_rows: int) -> Iterator[pl.DataFrame]:
    lazy = pl.scan_csv(
        path, separator=separator, infer_schema=False, encoding="utf8-lossy",
        raise_if_empty=False,
    ).with_row_index(ROW, offset=1)
    emitted = 0
    try:
        for batch in lazy.collect_batches(chunk_size=chunk_rows):
            emitted += batch.height
            yield batch.with_columns(pl.col(ROW).cast(pl.Int64))
    except (plx.ComputeError, plx.NoDataError, plx.SchemaError) as exc:
        # Polars cannot split this file (ragged lines, odd quoting): fall back to the
        # csv module, which reports every bad record instead of failing the whole file.
        if "empty" in str(exc).lower() and emitted == 0:
            return
        yield from _read_csv_fallback(path, separator, chunk_rows, skip=emitted)


def _read_csv_fallback(
    path: Path, separator: str, chunk_rows: int, *, skip: int
) -> Iterator[pl.DataFrame]:
    with _open_binary(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        reader = csv.reader(text, delimiter=separator)
        header = next(reader, None)
        if header is None:
            return
        width = len(header)
        rows: list[list[str | None]] = []
        errors: list[str | None] = []
        numbers: list[int] = []
        for number, record in enumerate(reader, start=1):
            if number <= skip:
                continue
            if len(record) == width:
                rows.append(list(record))
                errors.append(None)
            else:
                rows.append([None] * width)
                errors.append(f"record has {len(record)} fields, the header has {width}: "
                              f"{separator.join(record)[:200]!r}")
            numbers.append(number)
            if len(rows) >= chunk_rows:
                yield _frame_from_records(header, rows, errors, numbers)
                rows, errors, numbers = [], [], []
        if rows:
            yield _frame_from_records(header, rows, errors, numbers)


def _frame_from_records(
    header: list[str], rows: list[list[str | None]], errors: list[str | None],
    numbers: list[int],
) -> pl.DataFrame:
    columns = {name: [r[i] for r in rows] for i, name in enumerate(header)}
    frame = pl.DataFrame(columns, schema={name: pl.String for name in header})
    return frame.with_columns(
        pl.Series(ROW, numbers, dtype=pl.Int64),
        pl.Series(READER_ERROR, errors, dtype=pl.String),
    )


def _read_jsonl(path: Path, *, chunk_rows: int) -> Iterator[pl.DataFrame]:
    with _open_binary(path) as handle:
        lines: list[bytes] = []
        start = 1
        for line in handle:
            lines.append(line)
            if len(lines) >= chunk_rows:
                yield _jsonl_frame(lines, start)
                start += len(lines)
                lines = []
        if lines:
            yield _jsonl_frame(lines, start)


def _jsonl_frame(lines: list[bytes], start: int) -> pl.DataFrame:
    decoded = [line.decode("utf-8", errors="replace").strip() for line in lines]
    numbers = [start + i for i, text in enumerate(decoded) if text]
    texts = [text for text in decoded if text]
    try:
        frame = pl.read_ndjson(io.StringIO("\n".join(texts)), infer_schema_length=None)
        if frame.height == len(texts):
            return frame.with_columns(pl.Series(ROW, numbers, dtype=pl.Int64))
    except (plx.ComputeError, plx.SchemaError, ValueError, TypeError):
        pass
    # Some line is not a JSON object: parse line by line so the others still get in.
    records: list[dict[str, object]] = []
    errors: list[str | None] = []
    error: str | None
    for text in texts:
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            value, error = None, f"not valid JSON ({exc}): {text[:200]!r}"
        else:
            error = None if isinstance(value, dict) else f"not a JSON object: {text[:200]!r}"
        records.append(value if isinstance(value, dict) else {})
        errors.append(error)
    keys = sorted({k for record in records for k in record})
    return pl.DataFrame([  # (built from series: no line may hold an object at all)
        *(pl.Series(k, [_as_text(r.get(k)) for r in records], dtype=pl.String) for k in keys),
        pl.Series(ROW, numbers, dtype=pl.Int64), pl.Series(READER_ERROR, errors, dtype=pl.String),
    ])


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _read_parquet(path: Path, *, chunk_rows: int) -> Iterator[pl.DataFrame]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from exc
    start = 1
    for batch in parquet.iter_batches(batch_size=chunk_rows):
        frame = cast(pl.DataFrame, pl.from_arrow(batch))
        yield frame.with_row_index(ROW, offset=start).with_columns(pl.col(ROW).cast(pl.Int64))
        start += frame.height
