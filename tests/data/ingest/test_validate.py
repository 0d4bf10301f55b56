"""Column-wise validation: each column kind, each rule, typed output."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from shopmind.data.ingest.validate import parse_datetime_column, validate_frame
from shopmind.data.schema import TABLES
from shopmind.errors import MappingError


def _reasons(table: str, **columns: list[object]) -> list[str | None]:
    frame = pl.DataFrame(columns)
    result = validate_frame(TABLES[table], frame, source="t.csv")
    by_row = dict(zip(result.rejected["row_number"], result.rejected["reason"], strict=True))
    return [by_row.get(i + 1) for i in range(frame.height)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-01T10:00:00Z", datetime(2026, 1, 1, 10, tzinfo=UTC)),
        ("2026-01-01T18:00:00+08:00", datetime(2026, 1, 1, 10, tzinfo=UTC)),
        ("2026-01-01 10:00:00", datetime(2026, 1, 1, 10, tzinfo=UTC)),
        ("2026-01-01T10:00:00.250", datetime(2026, 1, 1, 10, 0, 0, 250_000, tzinfo=UTC)),
        ("2026-01-01", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026/01/01", datetime(2026, 1, 1, tzinfo=UTC)),
        ("1767261600", datetime(2026, 1, 1, 10, tzinfo=UTC)),
        ("1767261600000", datetime(2026, 1, 1, 10, tzinfo=UTC)),
        ("1767261600000000", datetime(2026, 1, 1, 10, tzinfo=UTC)),
        ("yesterday", None),
        ("2026-02-30", None),
        ("", None),
    ],
)
def test_datetime_spellings(value: str, expected: datetime | None) -> None:
    # mixed with a differently spelled first value, so the slow path is exercised too
    parsed = parse_datetime_column(pl.Series(["2020-05-05T00:00:00Z", value]))
    assert parsed[1] == expected


def test_typed_datetime_columns_become_utc() -> None:
    naive = pl.Series([datetime(2026, 1, 1, 10)])
    shanghai = naive.dt.replace_time_zone("Asia/Shanghai")
    assert parse_datetime_column(naive)[0] == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert parse_datetime_column(shanghai)[0] == datetime(2026, 1, 1, 2, tzinfo=UTC)


def test_numbers_ranges_and_whole_numbers() -> None:
    reasons = _reasons("items", item_id=["a", "b", "c", "d", "e", "f"],
                       price=["9.5", "-1", "abc", "inf", "", "1e12"],
                       stock=["3", "1", "1", "1", "2.5", "1"])
    assert reasons[0] is None and reasons[4] is not None and "whole number" in reasons[4]
    assert "≥ 0" in reasons[1] and "'-1'" in reasons[1]
    assert "must be a number" in reasons[2] and "'abc'" in reasons[2]
    assert "finite" in reasons[3]
    assert "≤" in reasons[5]


def test_ids_text_lengths_and_utf8() -> None:
    reasons = _reasons("items", item_id=["  a  ", "x" * 300, "ok\ufffd", None, "b"],
                       title=["t", "t", "t", "t", "nul\x00byte"])
    assert "NUL character" in reasons[4]
    assert reasons[0] is None
    assert "too long: 300 characters" in reasons[1]
    assert "invalid UTF-8" in reasons[2]
    assert "required field `item_id`" in reasons[3]
    accepted = validate_frame(TABLES["items"], pl.DataFrame({"item_id": ["  a  "]}),
                              source="x").accepted
    assert accepted["item_id"].to_list() == ["a"]  # ids are stripped


def test_enums_aliases_and_booleans() -> None:
    result = validate_frame(
        TABLES["events"],
        pl.DataFrame({"user_id": ["u"] * 4, "item_id": ["i"] * 4,
                      "type": ["PV", "buy", "Add_To_Cart", "jump"],
                      "ts": ["2026-01-01"] * 4}),
        source="x",
    )
    assert result.accepted["type"].to_list() == ["view", "purchase", "cart"]
    assert "must be one of" in result.rejected["reason"][0]
    users = validate_frame(TABLES["users"], pl.DataFrame(
        {"user_id": ["a", "b", "c"], "consent_marketing": ["yes", "0", "maybe"]}), source="x")
    assert users.accepted["consent_marketing"].to_list() == [True, False]
    assert "true/false" in users.rejected["reason"][0]


def test_event_rules() -> None:
    reasons = _reasons(
        "events", user_id=["u"] * 4, item_id=[None, None, "i", "i"],
        type=["search", "view", "rate", "rate"], ts=["2026-01-01"] * 4,
        query=["red dress", None, None, None], value=[None, None, "11", None],
    )
    assert reasons[0] is None
    assert "item_id is required for a 'view' event" in reasons[1]
    assert "between 0 and 10" in reasons[2]
    assert "value is required" in reasons[3]


def test_json_attributes() -> None:
    reasons = _reasons("items", item_id=["a", "b", "c"],
                       attributes=['{"colour": "红"}', "[1, 2]", "{broken"])
    assert reasons[0] is None
    assert "JSON object" in reasons[1] and "JSON object" in reasons[2]


def test_typed_json_values_that_are_not_objects_are_rejected() -> None:
    """JSONL gives numbers, booleans and arrays their own types; none is a JSON object."""
    assert "got '3'" in _reasons("items", item_id=["a", "b"], attributes=[3, None])[0]
    assert "got 'true'" in _reasons("items", item_id=["a"], attributes=[True])[0]
    assert _reasons("items", item_id=["a", "b"], attributes=[[1, 2], None]) == [
        "field `attributes` must be a JSON object, got a JSON array", None]
    objects = validate_frame(TABLES["items"], pl.DataFrame(
        {"item_id": ["a", "b"], "attributes": [{"k": 1}, None]}), source="t.jsonl")
    assert objects.accepted["attributes"].to_list() == ['{"k":1}', None]


def test_every_row_is_accounted_for_and_typed() -> None:
    frame = pl.DataFrame({"item_id": ["a", "", "c"], "price": ["1", "2", "x"]})
    result = validate_frame(TABLES["items"], frame, source="x")
    assert result.accepted.height + result.rejected.height == frame.height
    assert result.accepted.schema["price"] == pl.Float64
    assert result.accepted.schema["created_at"] == pl.Datetime("us", "UTC")
    assert result.rejected.columns == ["row_number", "field", "reason", "raw"]


def test_missing_required_column_is_a_mapping_error() -> None:
    with pytest.raises(MappingError, match="`user_id`"):
        validate_frame(TABLES["events"], pl.DataFrame({"item_id": ["i"]}), source="e.csv")
