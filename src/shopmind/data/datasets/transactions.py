"""Customer transaction logs without order ids: CDNOW (Fader, Hardie & Lee, 2005).

Columns ``customer_id, date, quantity, amount_usd``; one row per transaction, several per
customer and day possible (218 rows sit in groups of identical rows; the README keeps them
as separate transactions, and so do we). Each row becomes one order, without item ids:

* ``order_id`` = ``{customer_id}-{date}-{n}``, ``n`` = the row's 1-based rank among that
  customer's rows of that date in file order (deterministic, so re-ingesting adds nothing);
* ``created_at`` = the date at 00:00 UTC, ``total`` = ``amount_usd``, ``currency`` = USD,
  ``quantity`` = the number of CDs, ``status`` = ``completed``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from shopmind.data.datasets.registry import (
    DatasetTable,
    PublicDataset,
    chunked,
    read_csv_text,
    register_dataset,
)
from shopmind.data.schema import TABLES


def read_orders(path: Path) -> Iterator[pl.DataFrame]:
    """Orders of a CDNOW-style transaction CSV, canonical ``orders`` columns, in chunks."""
    raw = read_csv_text(path)
    rank = pl.int_range(1, pl.len() + 1).over("customer_id", "date")
    orders = raw.select(
        pl.format("{}-{}-{}", "customer_id", "date", rank).alias("order_id"),
        pl.col("customer_id").alias("user_id"),
        pl.lit("completed").alias("status"),
        pl.col("date").alias("created_at"),
        pl.col("amount_usd").alias("total"),
        pl.lit("USD").alias("currency"),
        "quantity",
    )
    return chunked(orders)


@register_dataset("cdnow_transactions")
def build(folder: Path) -> PublicDataset:
    """CDNOW: one ``orders`` row per transaction (1997-01-01 … 1997-09-30)."""
    path = folder / "transactions.csv.gz"
    return PublicDataset(
        name="cdnow_transactions",
        description="CDNOW music retailer transactions of the Q1-1997 cohort (RFM, CLV).",
        tables=[
            DatasetTable("orders", TABLES["orders"], str(path), lambda: read_orders(path),
                         49_086, expected_distinct={"user_id": 23_570, "order_id": 49_086}),
        ],
        readme=folder / "README.md",
    )
