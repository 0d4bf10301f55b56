"""Categories for items ingested without one, predicted after an items ingest.

Ingest tags every item at once (cue matching, cheap), but a category needs a
:class:`~shopmind.catalog_ml.classifier.CategoryClassifier` trained on the shop's labelled
items, which embeds the whole catalog; so it runs once after the ingest, not per chunk, and
only when asked (``shopmind ingest --fill-categories``). Predicted categories are stored like
those of the HTTP API: the category, with ``attributes["category_confidence"]``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import polars as pl

from shopmind.data.store.base import Chunk, Store


@dataclass(frozen=True)
class CategoryFill:
    """What :func:`fill_missing_categories` did: items filled, and what it learned from."""

    filled: int
    labelled: int
    categories: int


def missing_category(items: pl.DataFrame) -> pl.DataFrame:
    """Real (not placeholder) items without a category."""
    return items.filter(~pl.col("placeholder").fill_null(False)
                        & (pl.col("category").fill_null("").str.strip_chars() == ""))


def fill_missing_categories(store: Store, shop_id: str, *, backend: str = "use",
                            min_items: int = 20, cache_dir: str | None = None) -> CategoryFill:
    """Predict the category of every item of ``shop_id`` that has none, and store it.

    The classifier is trained on the shop's labelled items
    (:func:`~shopmind.catalog_ml.classifier.train_shop_classifier`); each filled item gets
    ``attributes["category_confidence"]`` and its tags refreshed.

    Raises
    ------
    InputError
        If the shop has fewer than ``min_items`` labelled items or fewer than 2 categories
        (nothing is written then).
    """
    from shopmind.catalog_ml import autotag_items, labelled_items, train_shop_classifier

    items = store.read_table(shop_id, "items")
    missing = missing_category(items)
    labelled = labelled_items(items)
    n_categories = labelled["category"].n_unique()
    if missing.is_empty():
        return CategoryFill(filled=0, labelled=labelled.height, categories=n_categories)
    classifier = train_shop_classifier(items, backend=backend, min_items=min_items,
                                       cache_dir=cache_dir)
    filled = autotag_items(missing, classifier).with_columns(
        pl.lit(int(time.time() * 1_000_000), pl.Int64).alias("updated_at"))
    store.apply_chunk(shop_id, Chunk(frames={"items": filled}))
    return CategoryFill(filled=int(filled["category"].is_not_null().sum()),
                        labelled=labelled.height,
                        categories=n_categories)
