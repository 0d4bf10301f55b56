"""Two shops in one store never see each other's rows, on SQLite and on PostgreSQL.

Both shops store rows with the *same* keys (same item, user, event and order ids) but
different contents, so any read, count or write that forgot the shop would show up.
"""

from __future__ import annotations

import polars as pl
import pytest

from shopmind.data.store.base import Chunk, IngestProgress, Store
from shopmind.data.store.layout import STORED_TABLES

A, B = "shop-a", "shop-b"


def _mark(frame: pl.DataFrame, name: str, tag: str) -> pl.DataFrame:
    """``frame`` with every non-key text column prefixed by ``tag`` (keys stay the same)."""
    key = STORED_TABLES[name].key
    return frame.with_columns(
        (pl.lit(tag) + pl.col(c)).alias(c)
        for c, dtype in frame.schema.items()
        if dtype == pl.String and c not in key and c not in ("user_id", "item_id", "order_id")
    )


@pytest.fixture
def two_shops(store: Store, samples: dict[str, pl.DataFrame]) -> Store:
    store.apply_chunk(A, Chunk(frames={n: _mark(f, n, "A:") for n, f in samples.items()},
                               progress=IngestProgress("src", "a.csv", "events", 1, 3)))
    # shop B holds only one row of each table, with the same keys as shop A's first row
    store.apply_chunk(B, Chunk(frames={n: _mark(f.head(1), n, "B:") for n, f in samples.items()},
                               progress=IngestProgress("src", "b.csv", "events", 7, 1)))
    return store


@pytest.mark.parametrize("name", sorted(STORED_TABLES))
def test_reads_and_counts_see_only_their_shop(
    two_shops: Store, samples: dict[str, pl.DataFrame], name: str
) -> None:
    a, b = two_shops.read_table(A, name), two_shops.read_table(B, name)
    assert a.height == samples[name].height and b.height == 1
    assert two_shops.count(A, name) == a.height and two_shops.count(B, name) == 1
    text = [c for c, t in b.schema.items() if t == pl.String and not c.endswith("_id")]
    for column in text:
        assert not any(v.startswith("A:") for v in b[column].drop_nulls()), column
        assert not any(v.startswith("B:") for v in a[column].drop_nulls()), column
    assert two_shops.read_table("shop-c", name).height == 0
    assert two_shops.count("shop-c", name) == 0


def test_writes_with_the_same_keys_do_not_touch_the_other_shop(two_shops: Store) -> None:
    # the same event key is new for shop C, and an update in B leaves A's row alone
    event = two_shops.read_table(A, "events").head(1)
    assert two_shops.apply_chunk("shop-c", Chunk(frames={"events": event})) == {"events": 1}
    item = pl.DataFrame({"item_id": ["i1"], "title": ["B's new title"], "placeholder": [False]})
    assert two_shops.apply_chunk(B, Chunk(frames={"items": item})) == {"items": 1}
    assert two_shops.read_table(A, "items", where={"item_id": "i1"})["title"].to_list() == [
        "A:Red dress 红色连衣裙"
    ]
    # a placeholder for a key only shop A has is inserted in B
    ph = pl.DataFrame({"item_id": ["i2"], "placeholder": [True]})
    assert two_shops.apply_chunk(B, Chunk(placeholders={"items": ph})) == {"items_placeholders": 1}


def test_existing_keys_are_per_shop(two_shops: Store) -> None:
    keys = pl.Series(["i1", "i2", "商品-3"])
    assert sorted(two_shops.existing_keys(A, "items", keys).to_list()) == ["i1", "i2", "商品-3"]
    assert two_shops.existing_keys(B, "items", keys).to_list() == ["i1"]
    assert two_shops.existing_keys("shop-c", "items", keys).to_list() == []


def test_ingest_progress_is_per_shop(two_shops: Store) -> None:
    a, b = two_shops.ingest_progress(A, "src"), two_shops.ingest_progress(B, "src")
    assert a is not None and b is not None
    assert (a.source, a.chunks_done) == ("a.csv", 1)
    assert (b.source, b.chunks_done) == ("b.csv", 7)
    assert two_shops.ingest_progress("shop-c", "src") is None


def test_delete_user_erases_only_in_its_shop(two_shops: Store) -> None:
    deleted = two_shops.delete_user(B, "u1")
    assert deleted["events"] == 1 and deleted["users"] == 1 and deleted["order_lines"] == 1
    for name in ("events", "reviews", "orders", "profiles", "user_pii", "users"):
        assert "u1" in two_shops.read_table(A, name)["user_id"].to_list(), name
        assert two_shops.read_table(B, name, where={"user_id": "u1"}).height == 0, name
    assert two_shops.count(A, "order_lines") == 3
    assert two_shops.count(B, "order_lines") == 0
