"""Product understanding: category path and tags from an item's title and description."""

from shopmind.catalog_ml.classifier import (
    CategoryClassifier,
    labelled_items,
    train_shop_classifier,
    zero_shot_categories,
)
from shopmind.catalog_ml.tagging import autotag_items, extract_tags, extract_tags_column

__all__ = ["CategoryClassifier", "autotag_items", "extract_tags", "extract_tags_column",
           "labelled_items", "train_shop_classifier", "zero_shot_categories"]
