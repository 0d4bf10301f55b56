"""Public data loaders on the real files: README row counts, and zero rejected rows."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from shopmind.data.datasets import AUXILIARY_TABLES, PublicDataset, get_dataset, list_datasets
from shopmind.data.datasets.registry import CHUNK_ROWS
from shopmind.data.datasets.sequences import read_interaction_pairs, read_sequences
from shopmind.data.ingest.validate import validate_frame
from shopmind.data.schema import TABLES
from shopmind.errors import DatasetUnavailableError, InputError, UnknownNameError

Loaded = tuple[PublicDataset, dict[str, list[pl.DataFrame]]]

#: The data sets of ../shared/datasets that issue 3 names; each must have a loader.
REQUIRED = {
    "taobao_userbehavior", "amazon_beauty", "ml_1m", "online_shopping_10_cats",
    "amazon_alexa_reviews", "hillstrom_email", "cdnow_transactions",
    "esci_us_with_product_text", "homedepot_search_relevance", "amazon_qa_appliances",
    "abcd_customer_service",
}


@pytest.fixture(scope="module")
def _cache() -> dict[str, Loaded]:
    return {}


@pytest.fixture
def load(datasets_dir: Path, _cache: dict[str, Loaded]) -> Callable[[str], Loaded]:
    """Read a data set's tables once per module (ML-1M has a million rows)."""

    def _load(name: str) -> Loaded:
        if name not in _cache:
            dataset = get_dataset(name, datasets_dir)
            _cache[name] = dataset, {t.table: list(t.read()) for t in dataset.tables}
        return _cache[name]

    return _load


def test_every_required_data_set_is_registered() -> None:
    assert set(list_datasets()) >= REQUIRED


@pytest.mark.parametrize("name", list_datasets())
def test_row_counts_equal_the_readme(name: str, load: Callable[[str], Loaded]) -> None:
    dataset, chunks = load(name)
    readme = dataset.readme.read_text(encoding="utf-8")
    for table in dataset.tables:
        assert f"{table.expected_rows:,}" in readme, f"{table.table}: count not in README"
        frame = pl.concat(chunks[table.table])
        assert frame.height == table.expected_rows, table.table
        assert all(len(chunk) <= CHUNK_ROWS for chunk in chunks[table.table])
        assert set(frame.columns) <= set(table.spec.names), table.table
        distinct = {column: frame[column].n_unique() for column in table.expected_distinct}
        assert distinct == table.expected_distinct, table.table


@pytest.mark.parametrize("name", list_datasets())
def test_every_row_passes_validation(name: str, load: Callable[[str], Loaded]) -> None:
    dataset, chunks = load(name)
    for table in dataset.tables:
        assert table.spec is (TABLES.get(table.table) or AUXILIARY_TABLES[table.table])
        offset = 0
        for chunk in chunks[table.table]:
            result = validate_frame(table.spec, chunk, source=table.source, row_offset=offset)
            assert result.rejected.is_empty(), result.rejected.head(3).to_dicts()
            assert len(result.accepted) == len(chunk)
            offset += len(chunk)


@pytest.mark.parametrize(
    ("name", "table", "column", "counts"),
    [  # value counts stated in the READMEs, after our mapping
        ("taobao_userbehavior", "events", "type",
         {"view": 55_167, "cart": 3_253, "favorite": 1_670, "purchase": 1_328}),
        ("online_shopping_10_cats", "review_sentiment", "sentiment", {"1": 28_552, "0": 27_927}),
        ("amazon_alexa_reviews", "reviews", "rating",
         {"1": 133, "2": 81, "3": 124, "4": 349, "5": 1_796}),
        ("esci_us_with_product_text", "search_judgments", "label",
         {"E": 2_426, "S": 1_540, "C": 267, "I": 809}),
        ("hillstrom_email", "campaign_responses", "treatment",
         {"Mens E-Mail": 17_089, "Womens E-Mail": 17_058, "No E-Mail": 17_061}),
    ],
)
def test_mapped_values_match_the_readme(
    name: str, table: str, column: str, counts: dict[str, int], load: Callable[[str], Loaded]
) -> None:
    frame = pl.concat(load(name)[1][table])
    found = frame[column].cast(pl.String).value_counts()
    assert dict(found.iter_rows()) == counts


def test_synthetic_timestamps_keep_each_users_order(load: Callable[[str], Loaded]) -> None:
    events = pl.concat(load("amazon_beauty")[1]["events"])
    steps = events.select(pl.col("ts").diff().over("user_id").dt.total_seconds().alias("step"))
    assert steps["step"].drop_nulls().eq(1).all()


def test_read_sequences_parses_gzip_blank_lines_and_tabs(tmp_path: Path) -> None:
    path = tmp_path / "seq.txt.gz"
    path.write_bytes(gzip.compress(b"u1 a b\tc\n\n  u2   d \r\n"))
    frame = read_sequences(path)
    assert frame.rows() == [("u1", "a", 0), ("u1", "b", 1), ("u1", "c", 2), ("u2", "d", 0)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"u1 a b\nu2 c\nu3\nu4 d\n", r"line 3: expected `user_id item_id"),
        (b"u1 a\nu2 b\nu1 c\n", r"line 3: user 'u1' already has a sequence on line 1"),
        (b"u1 a\nu2 \xff\n", r"line 2: invalid UTF-8"),
    ],
)
def test_read_sequences_names_the_bad_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "seq.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_sequences(path)


def test_read_interaction_pairs_rejects_a_line_with_three_fields(tmp_path: Path) -> None:
    path = tmp_path / "pairs.txt"
    path.write_text("1 10\n1 11\n2 12 13\n")
    with pytest.raises(InputError, match=r"line 3: expected `user_id item_id`"):
        read_interaction_pairs(path)


def test_unknown_data_set_lists_the_valid_names() -> None:
    with pytest.raises(UnknownNameError, match="taobao_userbehavior") as caught:
        get_dataset("taobao")
    assert "'taobao'" in str(caught.value)


def test_missing_folder_names_the_path_and_the_setting(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailableError, match="SHOPMIND_DATA") as caught:
        get_dataset("ml-1m", tmp_path)
    assert str(tmp_path / "ml-1m") in str(caught.value)
