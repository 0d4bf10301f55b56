"""Read a small user-supplied CSV as strings, forgiving what spreadsheets write.

The evaluation contracts (``eval-search``, ``eval-sentiment``) take files that other tools
and people export. This reader accepts what those commonly produce and explains the rest
in one line naming the file (and the row, where there is one):

- gzip (by content), a UTF-8 byte-order mark, CRLF line ends;
- tab or semicolon separators (``.tsv``, or a header line with no comma);
- blank lines (skipped), spaces around header names and values (trimmed);
- a double quote inside an unquoted field (``24" monitor``): read as Python's ``csv``
  module reads it, where Polars' stricter parser refuses the file;
- refused with the reason: a repeated column name, a missing required column, a file
  that is not UTF-8 text (a GBK or Latin-1 export), a spreadsheet (``.xlsx``), a row
  with more fields than the header.
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

_ZIP_MAGIC = b"PK\x03\x04"
_GZIP_MAGIC = b"\x1f\x8b"


def read_string_csv(path: str | Path, required: tuple[str, ...]) -> pl.DataFrame:
    """Every column as trimmed strings (null where empty), with ``required`` columns.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / "p.csv").write_text('product_id ; title\\n 7 ;24" monitor\\n\\n')
    36
    >>> read_string_csv(folder / "p.csv", ("product_id", "title")).rows()
    [('7', '24" monitor')]
    """
    path = input_file(path, "give a CSV file")
    raw = _utf8_bytes(path)
    first_line = raw.split(b"\n", 1)[0].decode().rstrip("\r")
    separator = _separator(path, first_line)
    header = next(csv.reader([first_line], delimiter=separator), [])
    names = [name.strip() for name in header]
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise InputError(f"{path}: column(s) {', '.join(map(repr, repeated))} appear more "
                         "than once in the header; keep one of each")
    missing = [c for c in required if c not in names]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; expected "
                         f"{', '.join(required)}, got {', '.join(names) or 'no header'}")
    try:
        frame = pl.read_csv(raw, separator=separator, infer_schema=False, new_columns=names)
    except pl.exceptions.PolarsError:
        frame = _python_csv(path, raw.decode(), separator, names)
    strings = [pl.col(c).str.strip_chars() for c in frame.columns]
    frame = frame.with_columns(strings).with_columns(
        [pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
         for c in frame.columns])
    return frame.filter(~pl.all_horizontal(pl.all().is_null()))  # blank lines


def _utf8_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped and without a byte-order mark, checked to be UTF-8."""
    raw = path.read_bytes()
    if raw.startswith(_ZIP_MAGIC):
        raise InputError(f"{path}: a zip archive or spreadsheet (.xlsx), not a CSV file; "
                         "export it as CSV (UTF-8)")
    if raw.startswith(_GZIP_MAGIC):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{path}: damaged or truncated gzip file ({exc})") from None
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        raw.decode("utf-8")
        return raw
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(f"{path} line {line}: not UTF-8 text (byte {raw[exc.start]:#04x}); "
                         "re-save the file as UTF-8 (a GBK/GB18030 or Latin-1 export "
                         "reads like this)") from None


def _separator(path: Path, first: str) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if ".tsv" in suffixes or ".tab" in suffixes:
        return "\t"
    if "," not in first:
        for candidate in ("\t", ";"):
            if candidate in first:
                return candidate
    return ","


def _python_csv(path: Path, text: str, separator: str, names: list[str]) -> pl.DataFrame:
    """Rows as Python's ``csv`` module reads them. Polars refused the file, so a row with
    more or fewer fields than the header is an error naming its line (an unclosed quote
    swallows the lines after it into one field and ends up here too)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    next(reader, None)
    rows: list[list[str]] = []
    try:
        for row in reader:
            if not row:
                continue
            if len(row) != len(names):
                raise InputError(
                    f"{path} line {reader.line_num}: {len(row)} fields but the header has "
                    f"{len(names)}; quote fields that contain {separator!r} or line "
                    "breaks, and check for an unclosed quote")
            rows.append(row)
    except csv.Error as exc:
        raise InputError(f"{path} line {reader.line_num}: not readable as CSV ({exc}); "
                         "check for an unclosed quote") from None
    return pl.DataFrame(rows, schema=dict.fromkeys(names, pl.String), orient="row")
