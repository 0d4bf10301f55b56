"""The forgiving CSV reader of the evaluation contracts."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from shopmind.data.string_csv import read_string_csv
from shopmind.errors import InputError

NEED = ("product_id", "title")


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("p.csv", b"product_id,title\n1,Red shoe\n2,24\" Dell monitor\n"),  # inch mark
        ("p.csv", b"\xef\xbb\xbfproduct_id,title\r\n1,Red shoe\r\n\r\n2,24\" Dell monitor\r\n\n"),
        ("p.tsv", b"product_id\ttitle\n1\tRed shoe\n2\t24\" Dell monitor\n"),
        ("p.csv", b"product_id;title\n1;Red shoe\n2;24\" Dell monitor\n"),
        ("p.csv", b"product_id , title \n 1 , Red shoe \n2,24\" Dell monitor\n"),
        ("p.csv.gz", gzip.compress(b"product_id,title\n1,Red shoe\n2,24\" Dell monitor\n")),
    ],
)
def test_what_spreadsheets_write_reads_the_same(tmp_path: Path, name: str, data: bytes) -> None:
    frame = read_string_csv(_write(tmp_path, name, data), NEED, trim=NEED)
    assert frame.drop("_row").rows() == [("1", "Red shoe"), ("2", '24" Dell monitor')]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"product_id,title,title\n1,a,b\n", "'title' appear more than once"),
        (b"product_id,name\n1,a\n", "missing column(s) title"),
        (b'product_id,title\n1,"Red shoe\n2,Blue\n', "unclosed quote"),
        (b"product_id,title\n1,a,extra\n", "line 2: 3 fields but the header has 2"),
        ("product_id,title\n1,红鞋\n".encode("gbk"), "line 2: not UTF-8 text"),
        (gzip.compress(b"product_id,title\n" + b"1,a\n" * 500)[:40], "truncated gzip"),
    ],
)
def test_what_cannot_be_read_is_explained(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=r"p\.csv") as error:
        read_string_csv(_write(tmp_path, "p.csv", data), NEED)
    assert message in str(error.value)


def test_empty_values_are_null_and_a_directory_is_named(tmp_path: Path) -> None:
    frame = read_string_csv(_write(tmp_path, "p.csv", b"product_id,title\n1,  \n"), NEED)
    assert frame.rows() == [(2, "1", "  ")]  # text as written; only trim columns trimmed
    with pytest.raises(InputError, match="is a directory"):
        read_string_csv(tmp_path, NEED)


@pytest.mark.parametrize(("data", "rows"), [
    (b"product_id,title,,\n1,a,,\n", [(2, "1", "a", None, None)]),  # trailing empties
    (b"product_id,title,c,c\n1,a,x,y\n", [(2, "1", "a", "x", "y")]),  # unused repeats
    (b'"product_id","ti\ntle, x",title\n1,b,a\n', [(2, "1", "b", "a")]),  # odd header
    (b"product_id,title\r1,a\r2,b\r", [(2, "1", "a"), (3, "2", "b")]),  # CR line ends
    (b"product_id,title\n\n\n1,a\n", [(4, "1", "a")]),  # rows counted as in a sheet
])
def test_headers_and_line_ends_exports_write(tmp_path: Path, data: bytes,
                                             rows: list[tuple[object, ...]]) -> None:
    assert read_string_csv(_write(tmp_path, "p.csv", data), NEED).rows() == rows


def test_the_separator_is_the_one_that_names_the_columns(tmp_path: Path) -> None:
    comma_in_tsv = _write(tmp_path, "p.tsv", b"product_id,title\n1,a\n")
    assert read_string_csv(comma_in_tsv, NEED).drop("_row").rows() == [("1", "a")]
    semicolon = _write(tmp_path, "s.csv", b"x,y;product_id;title\n1;2;a\n")
    assert read_string_csv(semicolon, NEED).drop("_row").rows() == [("1", "2", "a")]
