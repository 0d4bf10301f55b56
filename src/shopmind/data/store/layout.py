"""Storage layout: the columns of every stored table, in order, and how each table merges.

The Alembic migrations create exactly these columns (a test checks it). Every table starts
with ``shop_id``; time columns hold UTC microseconds since the epoch (BIGINT).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OnConflict = Literal["ignore", "update"]


@dataclass(frozen=True)
class StoredTable:
    name: str
    columns: tuple[str, ...]  # without shop_id, which every table has first
    key: tuple[str, ...]  # without shop_id
    on_conflict: OnConflict
    time_columns: tuple[str, ...] = ()
    json_columns: tuple[str, ...] = ()
    # an update sets only the fields a row carries (null: keep the stored value) and keeps
    # the first created_at; False: the new row replaces the stored one (computed tables)
    partial: bool = False

    def update_expression(self, column: str, stored: str, new: str) -> str:
        """SQL for ``column``'s value when a row with this key exists: ``stored`` and
        ``new`` name the stored row and the incoming one (``excluded``)."""
        if not self.partial:
            return f"{new}.{column}"
        if column.strip('"') == "created_at":  # (PostgreSQL passes quoted names)
            return f"COALESCE({stored}.{column}, {new}.{column})"
        return f"COALESCE({new}.{column}, {stored}.{column})"


STORED_TABLES: dict[str, StoredTable] = {
    t.name: t
    for t in (
        StoredTable(
            "items",
            (
                "item_id", "title", "description", "category", "brand", "price", "currency",
                "stock", "attributes", "created_at", "updated_at", "placeholder",
            ),
            key=("item_id",),
            on_conflict="update",
            partial=True,
            time_columns=("created_at", "updated_at"),
            json_columns=("attributes",),
        ),
        StoredTable(
            "users",
            (
                "user_id", "attributes", "consent_personalization", "consent_marketing",
                "created_at", "updated_at", "placeholder",
            ),
            key=("user_id",),
            on_conflict="update",
            partial=True,
            time_columns=("created_at", "updated_at"),
            json_columns=("attributes",),
        ),
        StoredTable(
            "user_pii",
            ("user_id", "name", "email", "phone", "address"),
            key=("user_id",),
            on_conflict="update",
            partial=True,
        ),
        StoredTable(
            "events",
            (
                "event_key", "user_id", "item_id", "type", "ts", "value", "session_id",
                "query", "event_id",
            ),
            key=("event_key",),
            on_conflict="ignore",
            time_columns=("ts",),
        ),
        StoredTable(
            "reviews",
            ("review_id", "item_id", "user_id", "rating", "text", "ts"),
            key=("review_id",),
            on_conflict="update",
            partial=True,
            time_columns=("ts",),
        ),
        StoredTable(
            "orders",
            ("order_id", "user_id", "status", "created_at", "updated_at", "total", "currency"),
            key=("order_id",),
            on_conflict="update",
            partial=True,
            time_columns=("created_at", "updated_at"),
        ),
        StoredTable(
            "order_lines",
            ("order_id", "line_key", "item_id", "quantity", "unit_price"),
            key=("order_id", "line_key"),
            on_conflict="update",
            partial=True,
        ),
        StoredTable(
            "quarantine",
            ("quarantine_key", "source", "row_number", "field", "reason", "raw", "created_at"),
            key=("quarantine_key",),
            on_conflict="ignore",
            time_columns=("created_at",),
        ),
        StoredTable(
            "profiles",
            ("user_id", "computed_at", "rfm_segment", "lifecycle", "data"),
            key=("user_id",),
            on_conflict="update",
            time_columns=("computed_at",),
            json_columns=("data",),
        ),
    )
}

#: Polars dtypes of the stored columns that are not text (time columns are Int64 µs).
_NON_TEXT_DTYPES = {
    "price": "Float64", "value": "Float64", "rating": "Float64", "total": "Float64",
    "unit_price": "Float64", "stock": "Int64", "quantity": "Int64", "row_number": "Int64",
    "event_key": "Int64", "quarantine_key": "Int64", "placeholder": "Boolean",
    "consent_personalization": "Boolean", "consent_marketing": "Boolean",
}


def storage_dtypes(table: StoredTable) -> dict[str, str]:
    """Polars dtype names of ``table``'s columns in storage form (``shop_id`` excluded)."""
    return {
        column: "Int64" if column in table.time_columns else _NON_TEXT_DTYPES.get(column, "String")
        for column in table.columns
    }
