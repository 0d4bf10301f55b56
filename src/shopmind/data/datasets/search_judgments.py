"""Search relevance judgments with their products: Amazon ESCI and Home Depot.

* ESCI (Reddy et al., arXiv:2206.06588, 2022) with ESCI-S product text: ``judgments``
  (``query_id, query, product_id, product_locale, esci_label, gain``) and ``products``
  (``product_id, title, brand, color, category, price, rating, rating_count, is_book,
  bullet_points, description, image``). Items: ``description`` = bullet points, a blank
  line, then the description; ``currency`` USD where a price is given; colour, rating,
  rating count, is_book and image URL in ``attributes``. Four products (one title, three
  descriptions) hold U+FFFD where the scrape lost an apostrophe (``Men� s``, ``can� t``,
  ``Women�s``); it is restored as ``’`` — the validator would otherwise reject these rows as
  undecodable text, and every occurrence in the file was checked to be an apostrophe.
  Judgments keep the source gain
  (E 1.0, S 0.1, C 0.01, I 0.0) and the letter as ``label``; ``judgment_id`` =
  ``{query_id}-{product_id}``.
* Home Depot Product Search Relevance (Kaggle, 2016): ``judgments`` (``kaggle_id, query_id,
  query, product_uid, relevance``) and ``products`` (``product_uid, product_title``). Gain =
  ``relevance − 1`` (0 irrelevant … 2 perfect); ``judgment_id`` = ``kaggle_id``, because
  normalised queries merge a few raw ones, so (query_id, item) is not unique (4 rows).
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

JUDGMENTS = AUXILIARY_TABLES["search_judgments"]
_LOST_APOSTROPHE = "\ufffd ?"


def _esci_items(path: Path) -> Iterator[pl.DataFrame]:
    description = pl.concat_str(
        [pl.col("bullet_points"), pl.col("description")], separator="\n\n", ignore_nulls=True
    )
    attributes = pl.struct(
        "color",
        pl.col("rating").cast(pl.Float64),
        pl.col("rating_count").cast(pl.Float64).cast(pl.Int64),
        pl.col("is_book").replace_strict({"True": True, "False": False}, return_dtype=pl.Boolean),
        "image",
    ).struct.json_encode()
    items = read_csv_text(path).with_columns(
        pl.col("title", "description").str.replace_all(_LOST_APOSTROPHE, "’")
    ).select(
        pl.col("product_id").alias("item_id"),
        "title",
        "brand",
        "category",
        "price",
        pl.when(pl.col("price").is_not_null()).then(pl.lit("USD")).alias("currency"),
        pl.when(description != "").then(description).alias("description"),
        attributes.alias("attributes"),
    )
    return chunked(items)


def _esci_judgments(path: Path) -> Iterator[pl.DataFrame]:
    return chunked(read_csv_text(path).select(
        pl.format("{}-{}", "query_id", "product_id").alias("judgment_id"),
        "query_id",
        "query",
        pl.col("product_id").alias("item_id"),
        "gain",
        pl.col("esci_label").alias("label"),
    ))


@register_dataset("esci_us_with_product_text")
def build_esci(folder: Path) -> PublicDataset:
    """ESCI (US): ``items`` with text and ``search_judgments`` with E/S/C/I grades."""
    products, judgments = folder / "products.csv.gz", folder / "judgments.csv.gz"
    return PublicDataset(
        name="esci_us_with_product_text",
        description="Amazon ESCI shopping queries (US, 115 queries) with product text.",
        tables=[
            DatasetTable("items", TABLES["items"], str(products), lambda: _esci_items(products),
                         4_977),
            DatasetTable("search_judgments", JUDGMENTS, str(judgments),
                         lambda: _esci_judgments(judgments), 5_042,
                         expected_distinct={"query_id": 115, "item_id": 4_977}),
        ],
        readme=folder / "README.md",
    )


def _homedepot_items(path: Path) -> Iterator[pl.DataFrame]:
    return chunked(read_csv_text(path).select(
        pl.col("product_uid").alias("item_id"), pl.col("product_title").alias("title")
    ))


def _homedepot_judgments(path: Path) -> Iterator[pl.DataFrame]:
    return chunked(read_csv_text(path).select(
        pl.col("kaggle_id").alias("judgment_id"),
        "query_id",
        "query",
        pl.col("product_uid").alias("item_id"),
        (pl.col("relevance").cast(pl.Float64) - 1).round(4).alias("gain"),
    ))


@register_dataset("homedepot_search_relevance")
def build_homedepot(folder: Path) -> PublicDataset:
    """Home Depot: title-only ``items`` and ``search_judgments`` (gain = relevance − 1)."""
    products, judgments = folder / "products.csv.gz", folder / "judgments.csv.gz"
    return PublicDataset(
        name="homedepot_search_relevance",
        description="Home Depot product search relevance: graded (query, product) pairs.",
        tables=[
            DatasetTable("items", TABLES["items"], str(products),
                         lambda: _homedepot_items(products), 45_744),
            DatasetTable("search_judgments", JUDGMENTS, str(judgments),
                         lambda: _homedepot_judgments(judgments), 59_158,
                         expected_distinct={"query_id": 9_428, "item_id": 45_744}),
        ],
        readme=folder / "README.md",
    )
