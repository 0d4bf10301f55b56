"""``shopmind quarantine``: the rows ingestion rejected, with the reason for each."""

from __future__ import annotations

from typing import Annotated

import polars as pl
import typer
from rich.markup import escape
from rich.table import Table

from shopmind.cli.common import ShopOption, console, settings_store
from shopmind.config import get_settings


def quarantine(
    shop: ShopOption = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows to show.")] = 20,
) -> None:
    """Show quarantined rows (source, row, field, reason), newest sources first."""
    shop_id = shop or get_settings().default_shop
    with settings_store() as store:
        rows = store.read_table(shop_id, "quarantine")
    if rows.is_empty():
        console.print(f"No quarantined rows for shop '{shop_id}'.")
        return
    by_reason = (
        rows.group_by(pl.col("reason").str.split(", got ").list.first().alias("reason"))
        .len()
        .sort("len", descending=True)
    )
    console.print(f"{rows.height:,} quarantined rows for shop '{shop_id}'; by reason:")
    for reason, count in by_reason.head(10).iter_rows():
        console.print(f"  {count:>8,}  {escape(reason)}")
    table = Table(title=f"{min(limit, rows.height)} rows, newest ingest first")
    for column in ("source", "row_number", "field", "reason"):
        table.add_column(column, overflow="fold")
    newest = rows.group_by("source").agg(pl.col("created_at").max().alias("_latest"))
    ordered = rows.join(newest, on="source").sort(["_latest", "source", "row_number"],
                                                  descending=[True, False, False])
    for source, row, field, reason in ordered.head(limit).select(
        "source", "row_number", "field", "reason"
    ).iter_rows():
        table.add_row(escape(source), str(row), escape(field or ""), escape(reason))
    console.print(table)
