"""The item catalog the rules read: placeholders are never shown; today's stock applies."""

from __future__ import annotations

import polars as pl

from shopmind.features.idmap import IdMap
from shopmind.recommend.catalog import ItemCatalog
from shopmind.recommend.rules import BusinessRules, allowed_items


def _catalog() -> ItemCatalog:
    items = pl.DataFrame({"item_id": ["a", "b", "c"], "title": ["Shirt", None, "Hat"],
                          "price": [10.0, None, 5.0], "stock": [3, None, 2],
                          "placeholder": [False, True, None]})
    return ItemCatalog.build(IdMap(["a", "b", "c", "d"]), items)


def test_placeholder_items_are_never_allowed() -> None:
    # b was created for an event naming an unknown item; d has no metadata at all (a
    # benchmark without an items file): only the placeholder is hidden
    assert allowed_items(_catalog(), BusinessRules()).tolist() == [True, False, True, True]


def test_refresh_applies_todays_stock_price_and_listing() -> None:
    catalog = _catalog()
    catalog.refresh(pl.DataFrame({"item_id": ["a", "b", "zz"], "stock": [0, 4, 1],
                                  "price": [None, 7.0, 1.0],
                                  "placeholder": [None, False, False]}))
    assert allowed_items(catalog, BusinessRules()).tolist() == [False, True, True, True]
    assert catalog.price.tolist()[:2] == [10.0, 7.0]  # a null price keeps the old one
