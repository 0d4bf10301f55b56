"""Review CSVs: Chinese ``online_shopping_10_cats`` and English Amazon Alexa reviews.

* ``online_shopping_10_cats`` (SophonPlus ChineseNlpCorpus): ``review_id, category, label,
  review``. The reviews name no product, so ``item_id`` is the category (``书籍`` …). The
  source has a polarity label, not stars: the review's ``rating`` stays empty and the label
  goes to the auxiliary ``review_sentiment`` table (``sentiment`` 1 = positive, 0 =
  negative) rather than inventing a 5-or-1 star rating.
* Amazon Alexa reviews (Kaggle, 2018): ``review_id, rating, date, variation, review,
  feedback``. ``item_id`` is the product variant (``Charcoal Fabric`` …), ``ts`` the review
  date at 00:00 UTC; ``feedback`` (rating ≥ 3) is derivable and dropped.

Empty review texts stay empty strings (``Review.text`` defaults to ``""``).
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


def _online_shopping_reviews(path: Path) -> Iterator[pl.DataFrame]:
    return chunked(read_csv_text(path).select(
        "review_id",
        pl.col("category").alias("item_id"),
        pl.col("review").fill_null("").alias("text"),
    ))


def _online_shopping_sentiment(path: Path) -> Iterator[pl.DataFrame]:
    return chunked(read_csv_text(path).select("review_id", pl.col("label").alias("sentiment")))


@register_dataset("online_shopping_10_cats")
def build_online_shopping(folder: Path) -> PublicDataset:
    """``reviews`` (Chinese, item = category) and their ``review_sentiment`` labels."""
    path = folder / "reviews.csv.gz"
    return PublicDataset(
        name="online_shopping_10_cats",
        description="Chinese e-commerce reviews in 10 categories with a 0/1 sentiment label.",
        tables=[
            DatasetTable("reviews", TABLES["reviews"], str(path),
                         lambda: _online_shopping_reviews(path), 56_479,
                         expected_distinct={"item_id": 10}),
            DatasetTable("review_sentiment", AUXILIARY_TABLES["review_sentiment"], str(path),
                         lambda: _online_shopping_sentiment(path), 56_479),
        ],
        readme=folder / "README.md",
    )


def _alexa_reviews(path: Path) -> Iterator[pl.DataFrame]:
    return chunked(read_csv_text(path).select(
        "review_id",
        pl.col("variation").alias("item_id"),
        "rating",
        pl.col("review").fill_null("").alias("text"),
        pl.col("date").alias("ts"),  # YYYY-MM-DD; the validator reads it as 00:00 UTC
    ))


@register_dataset("amazon_alexa_reviews")
def build_alexa(folder: Path) -> PublicDataset:
    """``reviews`` of Echo/Alexa devices with 1–5 stars (item = product variant)."""
    path = folder / "reviews.csv.gz"
    return PublicDataset(
        name="amazon_alexa_reviews",
        description="English Amazon Alexa device reviews with 1-5 star ratings (2018).",
        tables=[
            DatasetTable("reviews", TABLES["reviews"], str(path), lambda: _alexa_reviews(path),
                         2_483),
        ],
        readme=folder / "README.md",
    )
