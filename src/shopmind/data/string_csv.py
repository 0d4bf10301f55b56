"""Read a small user-supplied CSV as strings, forgiving what spreadsheets write.

The evaluation contracts (``eval-search``, ``eval-sentiment``) take files that other tools
and people export. This reader accepts what those commonly produce and explains the rest
in one line naming the file (and the line, where there is one):

- gzip (by content), a UTF-8 byte-order mark, CRLF or CR line ends;
- comma, tab or semicolon separators: the one under which the header holds the required
  columns (``.tsv`` files try tab first);
- blank lines (skipped), spaces around header names and around the values of the
  ``trim`` columns (ids, gains, labels; text columns are kept as written);
- a double quote inside an unquoted field (``24" monitor``): read as Python's ``csv``
  module reads it, where Polars' stricter parser refuses the file;
- repeated or blank names of columns that are not required (``a,b,,``): renamed apart;
- refused with the reason: a required column missing or repeated, a file that is not
  UTF-8 text (a GBK or Latin-1 export), a spreadsheet (``.xlsx``), a row with more or
  fewer fields than the header, an unclosed quote.

Every frame has a ``_row`` column: the record's row as a spreadsheet numbers it (the
header is row 1), for error messages after blank lines were dropped.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections import Counter
from pathlib import Path

import polars as pl

from shopmind.data.ingest.readers import input_file
from shopmind.errors import InputError

ROW = "_row"
_ZIP_MAGIC = b"PK\x03\x04"
_GZIP_MAGIC = b"\x1f\x8b"
_HEADER_BYTES = 1 << 20  # a header is read from the first MB


def read_string_csv(path: str | Path, required: tuple[str, ...],
                    trim: tuple[str, ...] = ()) -> pl.DataFrame:
    """Every column as strings (null where empty), with ``required`` columns and ``_row``.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / "p.csv").write_text('product_id ; title\\n 7 ;24" monitor\\n\\n')
    36
    >>> read_string_csv(folder / "p.csv", ("product_id", "title"), trim=("product_id",)
    ...                 ).rows()
    [(2, '7', '24" monitor')]
    """
    path = input_file(path, "give a CSV file")
    raw = _plain_bytes(path)
    separator, names = _header(path, raw, required)
    try:
        frame = pl.read_csv(raw, separator=separator, infer_schema=False, new_columns=names)
    except pl.exceptions.PolarsError:
        frame = _python_csv(path, _utf8(path, raw), separator, names)
    frame = frame.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
    frame = frame.with_columns(
        [pl.col(c).str.strip_chars() for c in trim if c in frame.columns]).with_columns(
        [pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
         for c in trim if c in frame.columns])
    data = [c for c in frame.columns if c != ROW]
    blank = pl.all_horizontal([pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "")
                               for c in data])
    return frame.filter(~blank)  # blank lines


def _plain_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped and without a byte-order mark."""
    raw = path.read_bytes()
    if raw.startswith(_ZIP_MAGIC):
        raise InputError(f"{path}: a zip archive or spreadsheet (.xlsx), not a CSV file; "
                         "export it as CSV (UTF-8)")
    if raw.startswith(_GZIP_MAGIC):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{path}: damaged or truncated gzip file ({exc})") from None
    return raw.removeprefix(b"\xef\xbb\xbf")


def _utf8(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(f"{path} line {line}: not UTF-8 text (byte {raw[exc.start]:#04x}); "
                         "re-save the file as UTF-8 (a GBK/GB18030 or Latin-1 export "
                         "reads like this)") from None


def _header(path: Path, raw: bytes, required: tuple[str, ...]) -> tuple[str, list[str]]:
    """The separator under which the first record names every ``required`` column, and
    the column names (trimmed; other repeated or blank names made unique)."""
    head = _utf8(path, raw[:_HEADER_BYTES]) if len(raw) <= _HEADER_BYTES else \
        raw[:_HEADER_BYTES].decode("utf-8", errors="ignore")
    tsv = any(s.lower() in (".tsv", ".tab") for s in path.suffixes)
    tried: list[list[str]] = []
    for separator in ("\t", ",", ";") if tsv else (",", "\t", ";"):
        try:
            header = next(csv.reader(io.StringIO(head, newline=""), delimiter=separator), [])
        except csv.Error as exc:
            raise InputError(f"{path} line 1: header not readable as CSV ({exc})") from None
        names = [name.strip() for name in header]
        tried.append(names)
        if all(c in names for c in required):
            return separator, _unique(path, names, required)
    names = max(tried, key=len)
    missing = [c for c in required if c not in names]
    raise InputError(f"{path}: missing column(s) {', '.join(missing)}; expected "
                     f"{', '.join(required)}, got {', '.join(names) or 'no header'}")


def _unique(path: Path, names: list[str], required: tuple[str, ...]) -> list[str]:
    counts = Counter(names)
    repeated = sorted(c for c in required if counts[c] > 1)
    if repeated:
        raise InputError(f"{path}: column(s) {', '.join(map(repr, repeated))} appear more "
                         "than once in the header; keep one of each")
    out: list[str] = []
    for i, name in enumerate(names):
        unique = name or f"column_{i + 1}"
        while unique in out or (unique != name and unique in counts):
            unique = f"{unique}_{i + 1}"
        out.append(unique)
    return out


def _python_csv(path: Path, text: str, separator: str, names: list[str]) -> pl.DataFrame:
    """Rows as Python's ``csv`` module reads them. Polars refused the file, so a row with
    more or fewer fields than the header is an error naming its line (an unclosed quote
    swallows the lines after it into one field and ends up here too)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    next(reader, None)
    columns: list[list[str | None]] = [[] for _ in names]
    try:
        for row in reader:
            if not row:
                for column in columns:
                    column.append(None)  # a blank line: dropped later, keeps row numbers
                continue
            if len(row) != len(names):
                raise InputError(
                    f"{path} line {reader.line_num}: {len(row)} fields but the header has "
                    f"{len(names)}; quote fields that contain {separator!r} or line "
                    "breaks, and check for an unclosed quote")
            for column, value in zip(columns, row, strict=True):
                column.append(value or None)
    except csv.Error as exc:
        raise InputError(f"{path} line {reader.line_num}: not readable as CSV ({exc}); "
                         "check for an unclosed quote") from None
    return pl.DataFrame({n: pl.Series(n, c, dtype=pl.String)
                         for n, c in zip(names, columns, strict=True)})
