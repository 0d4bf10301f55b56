"""Product understanding: category path and tags from an item's title and description."""

from shopmind.catalog_ml.classifier import CategoryClassifier, zero_shot_categories
from shopmind.catalog_ml.tagging import autotag_items, extract_tags

__all__ = ["CategoryClassifier", "autotag_items", "extract_tags", "zero_shot_categories"]
