"""The store contract: the same tests, run on SQLite and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal, assert_series_equal

from shopmind.data.schema import Shop
from shopmind.data.store.base import (
    Chunk,
    IngestProgress,
    Store,
    from_storage_frame,
    to_storage_frame,
)
from shopmind.data.store.layout import STORED_TABLES, storage_dtypes
from shopmind.errors import InputError, StoreError

SHOP = "shop-a"
T = datetime(2024, 5, 1, tzinfo=UTC)


def expected(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """What reading back ``frame`` must give: all stored columns, storage dtypes, UTC times."""
    dtypes = storage_dtypes(STORED_TABLES[name])
    storage = to_storage_frame(name, frame)
    storage = storage.cast({c: getattr(pl, d) for c, d in dtypes.items()})
    return from_storage_frame(name, storage)


def by_key(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(list(STORED_TABLES[name].key))


def events(*rows: tuple[int, str, str | None, str]) -> pl.DataFrame:
    """Events from (event_key, user_id, item_id, type) tuples, one second apart."""
    return pl.DataFrame(
        {
            "event_key": [r[0] for r in rows],
            "user_id": [r[1] for r in rows],
            "item_id": [r[2] for r in rows],
            "type": [r[3] for r in rows],
            "ts": [T.replace(second=i) for i in range(len(rows))],
        },
        schema_overrides={"item_id": pl.String},
    )


def items(*rows: tuple[str, str | None, bool]) -> pl.DataFrame:
    """Items from (item_id, title, placeholder) tuples."""
    return pl.DataFrame(
        {"item_id": [r[0] for r in rows], "title": [r[1] for r in rows],
         "placeholder": [r[2] for r in rows]},
        schema_overrides={"title": pl.String},
    )


# -- round trip --------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(STORED_TABLES))
def test_every_table_round_trips(
    store: Store, samples: dict[str, pl.DataFrame], name: str
) -> None:
    frame = samples[name]
    changed = store.apply_chunk(SHOP, Chunk(frames={name: frame}))
    assert changed == {name: frame.height}
    got = store.read_table(SHOP, name)
    want = expected(name, frame)
    assert got.schema == want.schema
    assert_frame_equal(by_key(name, got), by_key(name, want))


def test_time_columns_come_back_as_utc_datetimes(store: Store, samples: dict) -> None:
    store.apply_chunk(SHOP, Chunk(frames={"events": samples["events"]}))
    got = store.read_table(SHOP, "events", columns=["ts", "event_key"])
    assert got.columns == ["ts", "event_key"]
    assert got.schema["ts"] == pl.Datetime("us", "UTC")
    assert sorted(got["ts"].to_list()) == sorted(samples["events"]["ts"].to_list())


def test_long_text_keeps_every_character(store: Store, samples: dict) -> None:
    text = samples["items"]["description"][0]
    assert len(text) == 10_000
    store.apply_chunk(SHOP, Chunk(frames={"items": samples["items"]}))
    got = store.read_table(SHOP, "items", where={"item_id": "i1"})
    assert got["description"].to_list() == [text]


def test_empty_table_reads_with_storage_dtypes(store: Store) -> None:
    for name, table in STORED_TABLES.items():
        got = store.read_table(SHOP, name)
        assert got.height == 0
        assert got.columns == list(table.columns)
        assert got.schema == expected(name, pl.DataFrame()).schema


def test_empty_frames_write_nothing(store: Store) -> None:
    changed = store.apply_chunk(SHOP, Chunk(frames={"events": events().clear()}))
    assert changed == {"events": 0}
    assert store.count(SHOP, "events") == 0


# -- conflict policies -------------------------------------------------------------------
def test_ignore_policy_keeps_stored_rows_and_counts_only_new_ones(store: Store) -> None:
    first = events((1, "u1", "i1", "view"), (2, "u1", "i2", "view"))
    assert store.apply_chunk(SHOP, Chunk(frames={"events": first})) == {"events": 2}
    again = events((1, "u9", "i9", "cart"), (2, "u9", "i9", "cart"), (3, "u2", "i3", "view"))
    assert store.apply_chunk(SHOP, Chunk(frames={"events": again})) == {"events": 1}
    got = by_key("events", store.read_table(SHOP, "events"))
    assert got["user_id"].to_list() == ["u1", "u1", "u2"]
    assert got["type"].to_list() == ["view", "view", "view"]


def test_ignore_policy_counts_a_key_repeated_in_one_frame_once(store: Store) -> None:
    frame = events((7, "u1", "i1", "view"), (7, "u2", "i2", "cart"))
    assert store.apply_chunk(SHOP, Chunk(frames={"events": frame})) == {"events": 1}
    assert store.read_table(SHOP, "events")["user_id"].to_list() == ["u1"]


def test_new_old_and_mixed_event_chunks_in_turn_are_each_counted_right(store: Store) -> None:
    # PostgreSQL first tries a plain COPY of events and falls back to a merge on a conflict;
    # whichever path a chunk takes, the counts and the stored rows must be the same.
    sequence = [
        (events((1, "u1", "i1", "view"), (2, "u1", "i2", "view")), 2),  # all new
        (events((2, "u9", "i9", "cart"), (3, "u2", "i3", "view")), 1),  # one stored already
        (events((4, "u3", "i4", "view"), (5, "u3", "i5", "cart")), 2),  # all new again
        (events((1, "u8", "i8", "view"), (5, "u8", "i8", "view")), 0),  # all stored
        (events((6, "u4", "i6", "view")), 1),
    ]
    for frame, new_rows in sequence:
        assert store.apply_chunk(SHOP, Chunk(frames={"events": frame})) == {"events": new_rows}
    got = by_key("events", store.read_table(SHOP, "events"))
    assert got["event_key"].to_list() == [1, 2, 3, 4, 5, 6]
    assert got["user_id"].to_list() == ["u1", "u1", "u2", "u3", "u3", "u4"]
    assert store.apply_chunk("other", Chunk(frames={"events": sequence[0][0]})) == {"events": 2}


def test_update_policy_overwrites_and_counts_inserted_plus_updated(store: Store) -> None:
    first = items(("i1", "old", False), ("i2", "b", False))
    assert store.apply_chunk(SHOP, Chunk(frames={"items": first})) == {"items": 2}
    changed = store.apply_chunk(
        SHOP, Chunk(frames={"items": items(("i1", "new", False), ("i3", "c", False))})
    )
    assert changed == {"items": 2}
    got = by_key("items", store.read_table(SHOP, "items"))
    assert got["title"].to_list() == ["new", "b", "c"]
    assert store.count(SHOP, "items") == 3


def test_update_policy_with_a_key_repeated_in_one_frame_keeps_the_last_row(store: Store) -> None:
    frame = items(("i1", "first", False), ("i1", "last", False))
    store.apply_chunk(SHOP, Chunk(frames={"items": frame}))
    assert store.read_table(SHOP, "items")["title"].to_list() == ["last"]


def test_update_policy_on_a_two_column_key(store: Store, samples: dict) -> None:
    store.apply_chunk(SHOP, Chunk(frames={"order_lines": samples["order_lines"]}))
    update = pl.DataFrame({"order_id": ["o1", "o2"], "line_key": ["2", "2"], "quantity": [9, 1]})
    assert store.apply_chunk(SHOP, Chunk(frames={"order_lines": update})) == {"order_lines": 2}
    got = store.read_table(SHOP, "order_lines").sort("order_id", "line_key")
    assert got.select("order_id", "line_key", "quantity").rows() == [
        ("o1", "1", 2), ("o1", "2", 9), ("o2", "1", None), ("o2", "2", 1)
    ]


def test_an_update_sets_only_the_fields_it_carries_and_keeps_created_at(store: Store
                                                                      ) -> None:
    first = pl.DataFrame({
        "item_id": ["i1"], "title": ["Red dress"], "brand": ["Acme"], "price": [10.0],
        "stock": [5], "created_at": [datetime(2026, 1, 1, tzinfo=UTC)], "placeholder": [False]})
    store.apply_chunk(SHOP, Chunk(frames={"items": first}))
    stock_only = pl.DataFrame({"item_id": ["i1"], "stock": [0],
                               "created_at": [datetime(2026, 6, 1, tzinfo=UTC)]})
    assert store.apply_chunk(SHOP, Chunk(frames={"items": stock_only})) == {"items": 1}
    got = store.read_table(SHOP, "items").row(0, named=True)
    assert (got["title"], got["brand"], got["price"], got["stock"]) == (
        "Red dress", "Acme", 10.0, 0)
    assert got["created_at"] == datetime(2026, 1, 1, tzinfo=UTC)
    opted_out = pl.DataFrame({"user_id": ["u1"], "consent_personalization": [False]})
    store.apply_chunk(SHOP, Chunk(frames={"users": opted_out}))
    store.apply_chunk(SHOP, Chunk(frames={"users": pl.DataFrame(
        {"user_id": ["u1"], "attributes": ['{"city": "Beijing"}']})}))
    user = store.read_table(SHOP, "users").row(0, named=True)
    assert user["consent_personalization"] is False and "Beijing" in user["attributes"]
    opted_out = store.read_table(SHOP, "users", columns=["user_id"],
                                 where={"consent_personalization": False})
    assert opted_out["user_id"].to_list() == ["u1"]  # how the server finds opted-out users


def test_placeholders_never_overwrite_real_rows(store: Store) -> None:
    store.apply_chunk(SHOP, Chunk(frames={"items": items(("i1", "Real dress", False))}))
    placeholders = items(("i1", None, True), ("i9", None, True))
    changed = store.apply_chunk(SHOP, Chunk(placeholders={"items": placeholders}))
    assert changed == {"items_placeholders": 1}
    got = by_key("items", store.read_table(SHOP, "items"))
    assert got.select("item_id", "title", "placeholder").rows() == [
        ("i1", "Real dress", False), ("i9", None, True)
    ]
    # a placeholder again changes nothing; the real row, when it arrives, replaces it
    assert store.apply_chunk(SHOP, Chunk(placeholders={"items": placeholders})) == {
        "items_placeholders": 0
    }
    store.apply_chunk(SHOP, Chunk(frames={"items": items(("i9", "Real shoes", False))}))
    assert store.read_table(SHOP, "items", where={"item_id": "i9"}).select(
        "title", "placeholder"
    ).rows() == [("Real shoes", False)]


def test_real_rows_in_the_same_chunk_win_over_placeholders(store: Store) -> None:
    chunk = Chunk(
        frames={"users": pl.DataFrame({"user_id": ["u1"], "placeholder": [False],
                                       "attributes": ['{"vip": true}']})},
        placeholders={"users": pl.DataFrame({"user_id": ["u1", "u2"], "placeholder": [True] * 2})},
    )
    assert store.apply_chunk(SHOP, chunk) == {"users_placeholders": 2, "users": 1}
    got = by_key("users", store.read_table(SHOP, "users"))
    assert got.select("user_id", "attributes", "placeholder").rows() == [
        ("u1", '{"vip": true}', False), ("u2", None, True)
    ]


# -- atomicity -------------------------------------------------------------------------
def _assert_nothing_written(store: Store) -> None:
    for name in STORED_TABLES:
        assert store.count(SHOP, name) == 0, name
    assert store.ingest_progress(SHOP, "src-1") is None


def test_a_failing_frame_rolls_back_the_whole_chunk(store: Store, samples: dict) -> None:
    bad_events = events((1, "u1", "i1", "view")).drop("user_id")  # user_id is NOT NULL
    chunk = Chunk(
        frames={"items": samples["items"], "users": samples["users"], "events": bad_events},
        placeholders={"items": items(("i77", None, True))},
        progress=IngestProgress("src-1", "events.csv", "events", 1, 100),
    )
    with pytest.raises(StoreError, match="user_id"):
        store.apply_chunk(SHOP, chunk)
    _assert_nothing_written(store)
    # the store is still usable after the failure
    good = Chunk(frames={"events": events((1, "u1", "i1", "view"))},
                 progress=IngestProgress("src-1", "events.csv", "events", 1, 1))
    assert store.apply_chunk(SHOP, good) == {"events": 1}
    assert store.ingest_progress(SHOP, "src-1") is not None


def test_an_unconvertible_column_rolls_back_the_whole_chunk(store: Store, samples: dict) -> None:
    bad = events((1, "u1", "i1", "view")).with_columns(ts=pl.lit("yesterday"))
    chunk = Chunk(frames={"items": samples["items"], "events": bad},
                  progress=IngestProgress("src-1", "events.csv", "events", 1, 1))
    with pytest.raises((StoreError, pl.exceptions.PolarsError), match="yesterday"):
        store.apply_chunk(SHOP, chunk)
    _assert_nothing_written(store)


def test_an_unknown_table_in_a_chunk_rolls_back_the_whole_chunk(store: Store, samples) -> None:
    chunk = Chunk(frames={"items": samples["items"], "clicks": samples["events"]},
                  progress=IngestProgress("src-1", "events.csv", "events", 1, 1))
    with pytest.raises(InputError, match="unknown table 'clicks'"):
        store.apply_chunk(SHOP, chunk)
    _assert_nothing_written(store)


# -- ingest progress -------------------------------------------------------------------
def test_ingest_progress_round_trips_and_advances(store: Store) -> None:
    assert store.ingest_progress(SHOP, "src-1") is None
    first = IngestProgress("src-1", "events.csv", "events", 1, 250_000)
    assert store.apply_chunk(SHOP, Chunk(progress=first)) == {}
    assert store.ingest_progress(SHOP, "src-1") == first
    done = IngestProgress("src-1", "events.csv", "events", 4, 1_000_000, finished=True)
    store.apply_chunk(SHOP, Chunk(progress=done))
    assert store.ingest_progress(SHOP, "src-1") == done
    assert store.ingest_progress(SHOP, "src-2") is None


# -- reads -------------------------------------------------------------------------------
def test_existing_keys_returns_the_stored_subset(store: Store, samples: dict) -> None:
    store.apply_chunk(SHOP, Chunk(frames={"items": samples["items"]}))
    keys = pl.Series("item", ["i1", "nope", None, "商品-3", "i1", ""])
    got = store.existing_keys(SHOP, "items", keys)
    assert got.name == "item" and got.dtype == pl.String
    assert sorted(got.to_list()) == ["i1", "商品-3"]
    assert store.existing_keys(SHOP, "items", pl.Series("item", [], pl.String)).len() == 0


def test_read_keys_returns_the_stored_rows_typed(store: Store, samples: dict) -> None:
    store.apply_chunk(SHOP, Chunk(frames={"items": samples["items"]}))
    keys = pl.Series("item", ["i1", "nope", None, "商品-3", "i1"])
    columns = ["item_id", "title", "price", "created_at"]
    got = store.read_keys(SHOP, "items", keys, columns=columns).sort("item_id")
    expected = store.read_table(SHOP, "items", columns=columns).filter(
        pl.col("item_id").is_in(["i1", "商品-3"])).sort("item_id")
    assert_frame_equal(got, expected)
    empty = store.read_keys(SHOP, "items", pl.Series("item", [], pl.String), columns=columns)
    assert empty.is_empty() and empty.columns == columns


def test_existing_keys_on_an_integer_key(store: Store, samples: dict) -> None:
    store.apply_chunk(SHOP, Chunk(frames={"events": samples["events"]}))
    keys = pl.Series("k", [1, 2, 2**62 + 12345, -(2**62)], dtype=pl.Int64)
    got = store.existing_keys(SHOP, "events", keys)
    assert_series_equal(got.sort(), pl.Series("k", [-(2**62), 1, 2**62 + 12345], pl.Int64))


def test_existing_keys_needs_a_single_column_key(store: Store) -> None:
    with pytest.raises(StoreError, match="single-column key"):
        store.existing_keys(SHOP, "order_lines", pl.Series(["o1"]))


def test_read_table_filters_with_where(store: Store, samples: dict) -> None:
    store.apply_chunk(SHOP, Chunk(frames={"events": samples["events"]}))
    got = store.read_table(SHOP, "events", columns=["event_key", "type"],
                           where={"user_id": "u1"})
    assert sorted(got.rows()) == [(1, "view"), (2**62 + 12345, "rate")]
    both = store.read_table(SHOP, "events", where={"user_id": "u1", "type": "rate"})
    assert both["event_key"].to_list() == [2**62 + 12345]
    assert store.read_table(SHOP, "events", where={"user_id": "nobody"}).height == 0


def test_count_and_list_shops(store: Store, samples: dict) -> None:
    assert store.list_shops() == []
    store.ensure_shop(Shop(shop_id="b-shop", name="B"))
    store.ensure_shop(Shop(shop_id=SHOP, name="A", currency="USD"))
    store.ensure_shop(Shop(shop_id=SHOP, name="renamed"))  # an existing shop stays
    assert store.list_shops() == ["b-shop", SHOP]
    store.apply_chunk(SHOP, Chunk(frames={"quarantine": samples["quarantine"]}))
    assert store.count(SHOP, "quarantine") == 9
    assert store.count(SHOP, "events") == 0


def test_delete_user_erases_every_row_of_that_user_only(store: Store, samples: dict) -> None:
    store.apply_chunk(SHOP, Chunk(frames=samples))
    deleted = store.delete_user(SHOP, "u1")
    assert deleted == {"order_lines": 2, "events": 2, "reviews": 1, "orders": 2,
                       "profiles": 1, "user_pii": 1, "users": 1}
    for name in ("events", "reviews", "orders", "profiles", "user_pii", "users"):
        assert "u1" not in store.read_table(SHOP, name)["user_id"].to_list(), name
    assert store.read_table(SHOP, "order_lines")["order_id"].to_list() == ["o2"]
    assert store.count(SHOP, "events") == 1 and store.count(SHOP, "users") == 2
    assert store.delete_user(SHOP, "u1") == dict.fromkeys(deleted, 0)


# -- errors ------------------------------------------------------------------------------
def test_unknown_table_is_an_input_error_listing_valid_ones(store: Store) -> None:
    for call in (
        lambda: store.read_table(SHOP, "clicks"),
        lambda: store.count(SHOP, "clicks"),
        lambda: store.existing_keys(SHOP, "clicks", pl.Series(["x"])),
    ):
        with pytest.raises(InputError, match=r"unknown table 'clicks'.*events"):
            call()


def test_unknown_columns_are_store_errors(store: Store) -> None:
    with pytest.raises(StoreError, match=r"no column\(s\) \['colour'\]"):
        store.read_table(SHOP, "items", columns=["item_id", "colour"])
    with pytest.raises(StoreError, match="to filter on"):
        store.read_table(SHOP, "items", where={"colour": "red"})
