"""The ingest engine on crafted bad input: nothing crashes, nothing is lost, all is counted."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import polars as pl
import pytest

from shopmind.data.ingest.engine import ingest_batches, ingest_file
from shopmind.data.ingest.mapping import ColumnMapping
from shopmind.data.store import Store, open_store
from shopmind.errors import InputError, MappingError

HEADER = b"user_id,item_id,type,ts,value,query\n"
GOOD = [
    b"u1,i1,view,2026-01-01T10:00:00Z,,\n",
    b"u1,i1,cart,2026-01-01T10:01:00+08:00,,\n",
    b"u2,i2,purchase,1767261600,,\n",
    b"u2,,search,2026-01-01 10:00:00,,red dress\n",
    b"u3,i3,rate,2026-01-02,4.5,\n",
]
BAD = {  # line → the field its rejection must name
    b"u4,i4,view,yesterday,,\n": "ts",  # unparseable timestamp
    b"u4,i4,view,2026-02-30T00:00:00Z,,\n": "ts",  # impossible date
    b"u4,i4,view,1850-01-01,,\n": "ts",  # implausible year
    b",i5,view,2026-01-01T10:00:00Z,,\n": "user_id",  # missing id
    b"u5,,view,2026-01-01T10:00:00Z,,\n": "item_id",  # view without item
    b"u6,i6,teleport,2026-01-01T10:00:00Z,,\n": "type",  # unknown event type
    b"u7,i7,rate,2026-01-01T10:00:00Z,abc,\n": "value",  # wrong type
    b"u8,i\xff\xfe8,view,2026-01-01T10:00:00Z,,\n": "item_id",  # invalid UTF-8 bytes
    b"u9,i9,search,2026-01-01T10:00:00Z,,\n": "query",  # search without query
    b"u10,i10,view,2026-01-01T10:00:00Z,,\"" + b"x" * 10_000_000 + b"\"\n": "query",  # 10 MB
}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.close()


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(HEADER + b"".join(lines))
    return path


def test_crafted_bad_events_file_counts_add_up(store: Store, tmp_path: Path) -> None:
    duplicates = [GOOD[0], GOOD[2]]
    path = _write(tmp_path / "events.csv", [*GOOD, *BAD, *duplicates])
    quarantine_file = tmp_path / "q.jsonl"

    summary = ingest_file(store, path, shop_id="s", table="events",
                          quarantine_file=quarantine_file)

    assert summary.read == len(GOOD) + len(BAD) + len(duplicates)
    assert summary.accepted == len(GOOD)
    assert summary.quarantined == len(BAD)
    assert summary.duplicates == len(duplicates)
    assert summary.accepted + summary.quarantined + summary.duplicates == summary.read
    assert store.count("s", "events") == len(GOOD)

    rows = store.read_table("s", "quarantine").sort("row_number")
    assert rows.height == len(BAD)
    assert rows["reason"].str.len_chars().min() > 10  # every rejection says why
    expected_fields = list(BAD.values())
    assert rows["field"].to_list() == expected_fields
    assert rows["row_number"].to_list() == list(range(len(GOOD) + 1, len(GOOD) + len(BAD) + 1))
    lines = [orjson.loads(line) for line in quarantine_file.read_bytes().splitlines()]
    assert [line["row_number"] for line in lines] == rows["row_number"].to_list()
    assert all(line["source"] == str(path) and line["reason"] for line in lines)
    ten_mb = orjson.loads(lines[-1]["raw"])
    assert ten_mb["user_id"] == "u10" and len(ten_mb["query"]) == 10_000_000  # kept whole
    assert "too long" in lines[-1]["reason"]


def test_typed_values_are_stored_in_utc(store: Store, tmp_path: Path) -> None:
    ingest_file(store, _write(tmp_path / "e.csv", GOOD), shop_id="s", table="events")
    events = store.read_table("s", "events").sort("ts")
    assert str(events.schema["ts"]) == "Datetime(time_unit='us', time_zone='UTC')"
    cart = events.filter(pl.col("type") == "cart")
    assert cart["ts"][0].isoformat() == "2026-01-01T02:01:00+00:00"  # +08:00 → UTC
    assert events.filter(pl.col("type") == "rate")["value"][0] == 4.5
    assert events.filter(pl.col("type") == "search")["query"][0] == "red dress"


def test_reingest_is_idempotent(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path / "e.csv", GOOD)
    first = ingest_file(store, path, shop_id="s", table="events")
    second = ingest_file(store, path, shop_id="s", table="events")
    assert (first.accepted, first.duplicates) == (len(GOOD), 0)
    assert (second.accepted, second.duplicates) == (0, len(GOOD))
    assert store.count("s", "events") == len(GOOD)


def test_reingest_writes_no_quarantine_line_twice(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path / "e.csv", [*GOOD, *BAD])
    quarantine_file = tmp_path / "q.jsonl"
    for _ in range(2):
        ingest_file(store, path, shop_id="s", table="events", quarantine_file=quarantine_file)
    lines = quarantine_file.read_bytes().splitlines()
    assert len(lines) == store.count("s", "quarantine") == len(BAD)


def test_same_rows_in_other_formats_are_duplicates(store: Store, tmp_path: Path) -> None:
    csv_path = _write(tmp_path / "e.csv", GOOD)
    frame = pl.read_csv(csv_path, infer_schema=False)
    frame.write_parquet(tmp_path / "e.parquet")
    with gzip.open(tmp_path / "e.jsonl.gz", "wb") as handle:
        for row in frame.iter_rows(named=True):
            handle.write(orjson.dumps(row) + b"\n")
    ingest_file(store, csv_path, shop_id="s", table="events")
    for name in ("e.parquet", "e.jsonl.gz"):
        again = ingest_file(store, tmp_path / name, shop_id="s", table="events")
        assert (again.read, again.accepted, again.duplicates) == (len(GOOD), 0, len(GOOD))


def test_unknown_reference_policies(store: Store, tmp_path: Path) -> None:
    items = tmp_path / "items.csv"
    items.write_text("item_id,title,price\ni1,Red dress 红色连衣裙,199\n")
    ingest_file(store, items, shop_id="s", table="items")
    events = _write(tmp_path / "e.csv", GOOD[:3])

    strict = ingest_file(store, events, shop_id="s", table="events", unknown="quarantine")
    assert (strict.accepted, strict.quarantined) == (0, 3)  # users u1/u2 unknown
    reasons = store.read_table("s", "quarantine")["reason"].to_list()
    assert all("unknown user_id" in r for r in reasons)

    lenient = ingest_file(store, events, shop_id="t", table="events", unknown="placeholder")
    assert lenient.accepted == 3
    users = store.read_table("t", "users")
    assert sorted(users["user_id"]) == ["u1", "u2"] and users["placeholder"].all()


def test_placeholders_never_overwrite_catalog_rows(store: Store, tmp_path: Path) -> None:
    items = tmp_path / "items.csv"
    items.write_text("item_id,title,price\ni1,Red dress,199\n")
    ingest_file(store, items, shop_id="s", table="items")
    ingest_file(store, _write(tmp_path / "e.csv", GOOD[:1]), shop_id="s", table="events")
    row = store.read_table("s", "items", where={"item_id": "i1"}).row(0, named=True)
    assert (row["title"], row["price"], row["placeholder"]) == ("Red dress", 199.0, False)


def test_items_upsert_and_bad_item_rows(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text(
        '{"item_id": "a", "title": "Lamp", "price": 10, "attributes": {"colour": "red"}}\n'
        '{"item_id": "b", "title": "Desk", "price": -5}\n'
        "not json at all\n"
        '{"item_id": "a", "title": "Lamp v2", "price": 12}\n'
    )
    summary = ingest_file(store, path, shop_id="s", table="items")
    assert (summary.read, summary.accepted, summary.quarantined, summary.duplicates) == (4, 1, 2, 1)
    item = store.read_table("s", "items").row(0, named=True)
    assert (item["item_id"], item["title"], item["price"]) == ("a", "Lamp v2", 12.0)
    reasons = sorted(store.read_table("s", "quarantine")["reason"].to_list())
    assert any("price" in r and "≥ 0" in r for r in reasons)
    assert any("not valid JSON" in r for r in reasons)


def test_ragged_csv_rows_are_quarantined_not_fatal(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(HEADER + GOOD[0] + b"u1,i2,view,2026-01-01T10:00:00Z,,,extra,fields\n"
                     + GOOD[1])
    summary = ingest_file(store, path, shop_id="s", table="events")
    assert (summary.read, summary.accepted, summary.quarantined) == (3, 2, 1)
    row = store.read_table("s", "quarantine").row(0, named=True)
    assert row["row_number"] == 2 and "fields" in row["reason"]


def test_orders_are_split_into_orders_and_lines(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,user_id,status,created_at,item_id,quantity,unit_price\n"
        "o1,u1,paid,2026-01-01T10:00:00Z,i1,2,10.5\n"
        "o1,u1,paid,2026-01-01T10:00:00Z,i2,1,5\n"
        "o2,u2,teleported,2026-01-01T10:00:00Z,i1,1,10.5\n"
    )
    summary = ingest_file(store, path, shop_id="s", table="orders")
    assert (summary.accepted, summary.quarantined) == (2, 1)
    orders = store.read_table("s", "orders")
    assert orders.row(0, named=True)["total"] == pytest.approx(26.0)
    assert store.count("s", "order_lines") == 2


def test_mapping_file_and_flags(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "shop_export.csv"
    path.write_text("uid,sku,action,when,extra\n7,A1,pv,1511539217,x\n8,A2,buy,1511539218,y\n")
    mapping_path = tmp_path / "m.toml"
    mapping_path.write_text(
        'table = "events"\n[columns]\nuser_id = "uid"\nitem_id = "sku"\nts = "when"\n'
        'type = "action"\n[values.type]\npv = "view"\nbuy = "purchase"\n'
    )
    mapping = ColumnMapping.from_file(mapping_path)
    summary = ingest_file(store, path, shop_id="s", table="events", mapping=mapping)
    assert summary.accepted == 2 and summary.ignored_columns == ["extra"]
    assert sorted(store.read_table("s", "events")["type"]) == ["purchase", "view"]

    flags = ColumnMapping.from_flags(["user_id=uid", "item_id=sku", "ts=when", "type:=view"])
    again = ingest_file(store, path, shop_id="t", table="events", mapping=flags)
    assert again.accepted == 2


def test_mapping_errors_name_the_problem(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("uid,sku\n1,2\n")
    with pytest.raises(MappingError, match=r"required column.*`user_id`.*columns found: uid, sku"):
        ingest_file(store, path, shop_id="s", table="events")
    with pytest.raises(MappingError, match="not in the file"):
        ingest_file(store, path, shop_id="s", table="events",
                    mapping=ColumnMapping.from_flags(["user_id=nope"]))
    with pytest.raises(MappingError, match="TARGET=SOURCE"):
        ColumnMapping.from_flags(["user_id"])
    with pytest.raises(InputError, match="unknown table"):
        ingest_file(store, path, shop_id="s", table="nope")


def test_resume_skips_committed_chunks(store: Store) -> None:
    frame = pl.DataFrame({
        "user_id": [f"u{i % 7}" for i in range(5_000)],
        "item_id": [f"i{i % 11}" for i in range(5_000)],
        "type": ["view"] * 5_000,
        "ts": [str(1_700_000_000 + i) for i in range(5_000)],
    })
    chunks = [frame.slice(i, 1_000) for i in range(0, 5_000, 1_000)]

    def crash_after_two() -> object:
        for i, chunk in enumerate(chunks):
            if i == 2:
                raise RuntimeError("simulated crash")
            yield chunk

    with pytest.raises(RuntimeError):
        ingest_batches(store, shop_id="s", table="events", batches=crash_after_two(),
                       source="stream", source_key="k1")
    assert store.count("s", "events") == 2_000
    resumed = ingest_batches(store, shop_id="s", table="events", batches=iter(chunks),
                             source="stream", source_key="k1")
    assert resumed.resumed_after_rows == 2_000
    assert resumed.read == 3_000 and resumed.accepted == 3_000
    assert store.count("s", "events") == 5_000


def test_quarantined_review_rows_keep_no_personal_data(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text("review_id,item_id,user_id,rating,text,ts\n"
                    "q1,i1,u1,abc,电话13812345678 mail li@example.com,2026-10-01T10:00:00Z\n")
    quarantine_file = tmp_path / "q.jsonl"
    summary = ingest_file(store, path, shop_id="s", table="reviews",
                          quarantine_file=quarantine_file, unknown="placeholder")
    assert summary.quarantined == 1
    stored = store.read_table("s", "quarantine")["raw"].to_list()[0]
    for kept in (stored, quarantine_file.read_text()):
        assert "13812345678" not in kept and "li@example.com" not in kept
        assert "[PHONE]" in kept and "[EMAIL]" in kept


def test_quarantined_user_pii_rows_keep_no_values(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "pii.csv"
    path.write_text("user_id,name,email\n,张三,zhangsan at qq.com\n"  # no user_id
                    "u2,Han Meimei,han@example.com,13912345678\n")  # a field too many
    summary = ingest_file(store, path, shop_id="s", table="user_pii")
    assert summary.quarantined >= 1
    for row in store.read_table("s", "quarantine").iter_rows(named=True):
        for kept in (row["raw"], row["reason"]):
            assert not any(v in kept for v in ("张三", "zhangsan", "Han", "han@", "1391"))
