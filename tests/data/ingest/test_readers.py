"""Readers stream every supported format in chunks with source row numbers."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest

from shopmind.data.ingest.readers import count_records, detect_format, read_batches
from shopmind.errors import InputError


def test_csv_chunks_keep_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("a,b\n" + "".join(f"{i},x{i}\n" for i in range(10)))
    batches = list(read_batches(path, chunk_rows=4))
    assert sum(b.height for b in batches) == 10
    rows = pl.concat(batches)["__row"].to_list()
    assert rows == list(range(1, 11))
    assert all(b.schema["a"] == pl.String for b in batches)  # no type guessing
    assert count_records(path) == 10


def test_tsv_gzip_jsonl_and_parquet(tmp_path: Path) -> None:
    frame = pl.DataFrame({"a": ["1", "2"], "b": ["x", "y"]})
    frame.write_csv(tmp_path / "f.tsv", separator="\t")
    with gzip.open(tmp_path / "f.csv.gz", "wb") as handle:
        handle.write(b"a,b\n1,x\n2,y\n")
    (tmp_path / "f.jsonl").write_text('{"a": "1", "b": "x"}\n\n{"a": "2", "b": "y"}\n')
    frame.write_parquet(tmp_path / "f.parquet")
    for name in ("f.tsv", "f.csv.gz", "f.jsonl", "f.parquet"):
        out = pl.concat(list(read_batches(tmp_path / name)))
        assert out.select("a", "b").equals(frame), name


def test_invalid_utf8_is_flagged_not_dropped(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(b"a,b\n1,ok\n2,bad\xff\n")
    out = pl.concat(list(read_batches(path)))
    assert out.height == 2 and "\ufffd" in out["b"][1]


def test_bad_json_lines_become_reader_errors(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text('{"a": "1"}\n[1, 2]\n{not json\n{"a": "4"}\n')
    out = pl.concat(list(read_batches(path)))
    assert out["__row"].to_list() == [1, 2, 3, 4]
    errors = out["__reader_error"].to_list()
    assert errors[0] is None and errors[3] is None
    assert "not a JSON object" in errors[1] and "not valid JSON" in errors[2]


def test_a_json_lines_file_without_any_object_is_all_reader_errors(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text("not json\n[1, 2]\n")
    out = pl.concat(list(read_batches(path)))
    assert out.columns == ["__row", "__reader_error"] and out.height == 2


def test_a_truncated_gzip_is_a_clear_error(tmp_path: Path) -> None:
    body = "user_id,item_id\n" + "".join(f"u{i},i{i}\n" for i in range(5_000))
    path = tmp_path / "e.csv.gz"
    path.write_bytes(gzip.compress(body.encode())[:2_000])
    with pytest.raises(InputError, match="cannot read it to the end"):
        list(read_batches(path))


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot tell the format"):
        detect_format(tmp_path / "data.xlsx")
    with pytest.raises(InputError, match="no such file"):
        list(read_batches(tmp_path / "missing.csv"))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert list(read_batches(empty)) == []
