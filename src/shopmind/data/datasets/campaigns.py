"""Randomized e-mail campaign data: Kevin Hillstrom's MineThatData challenge (2008).

64,000 customers split at random into Mens e-mail, Womens e-mail and no e-mail, outcomes
tracked for two weeks — the standard uplift-modelling benchmark. Columns: ``customer_id,
recency, history_segment, history, mens, womens, zip_code, newbie, channel, segment, visit,
conversion, spend``.

Mapping: ``users`` (``user_id`` = ``customer_id``; the pre-campaign features, typed, in
``attributes``) and the auxiliary ``campaign_responses`` (``treatment`` = ``segment``,
``control`` = it is ``No E-Mail``; ``visit``/``conversion`` as booleans; ``spend`` in USD).
The upstream spelling ``Surburban`` is kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from shopmind.data.datasets.records import AUXILIARY_TABLES
from shopmind.data.datasets.registry import (
    DatasetTable,
    PublicDataset,
    chunked,
    read_csv_text,
    register_dataset,
)
from shopmind.data.schema import TABLES

CAMPAIGN_ID = "hillstrom_2008"
CONTROL_ARM = "No E-Mail"

#: Pre-campaign features kept in ``User.attributes``, with their JSON types.
_FEATURES: dict[str, type[pl.DataType]] = {
    "recency": pl.Int64, "history_segment": pl.String, "history": pl.Float64,
    "mens": pl.Boolean, "womens": pl.Boolean, "zip_code": pl.String, "newbie": pl.Boolean,
    "channel": pl.String,
}


def _typed(column: str, dtype: type[pl.DataType]) -> pl.Expr:
    # A 0/1 flag goes through Int8: Polars does not parse "1" as a Boolean.
    if dtype is pl.Boolean:
        return pl.col(column).cast(pl.Int8).cast(pl.Boolean)
    return pl.col(column).cast(dtype)


def _users(path: Path) -> Iterator[pl.DataFrame]:
    attributes = pl.struct(*(_typed(c, t) for c, t in _FEATURES.items())).struct.json_encode()
    return chunked(read_csv_text(path).select(
        pl.col("customer_id").alias("user_id"), attributes.alias("attributes")
    ))


def _responses(path: Path) -> Iterator[pl.DataFrame]:
    return chunked(read_csv_text(path).select(
        pl.lit(CAMPAIGN_ID).alias("campaign_id"),
        pl.col("customer_id").alias("user_id"),
        pl.col("segment").alias("treatment"),
        (pl.col("segment") == CONTROL_ARM).alias("control"),
        "visit",
        "conversion",
        "spend",
    ))


@register_dataset("hillstrom_email")
def build(folder: Path) -> PublicDataset:
    """Hillstrom: ``users`` with pre-campaign features and their ``campaign_responses``."""
    path = folder / "hillstrom.csv.gz"
    return PublicDataset(
        name="hillstrom_email",
        description="Hillstrom MineThatData randomized e-mail campaign (uplift benchmark).",
        tables=[
            DatasetTable("users", TABLES["users"], str(path), lambda: _users(path), 51_208),
            DatasetTable("campaign_responses", AUXILIARY_TABLES["campaign_responses"],
                         str(path), lambda: _responses(path), 51_208,
                         expected_distinct={"treatment": 3}),
        ],
        readme=folder / "README.md",
    )
