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
    frame = read_string_csv(_write(tmp_path, name, data), NEED)
    assert frame.rows() == [("1", "Red shoe"), ("2", '24" Dell monitor')]


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
    assert frame.rows() == [("1", None)]
    with pytest.raises(InputError, match="is a directory"):
        read_string_csv(tmp_path, NEED)
