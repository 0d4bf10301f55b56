"""Item metadata as arrays aligned with item indices: what rules, features and reasons read."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import orjson
import polars as pl

from shopmind.data.schema import CATEGORY_SEPARATOR
from shopmind.features.idmap import IdMap

#: Item columns the catalog reads from the store.
CATALOG_COLUMNS = ("item_id", "title", "description", "category", "brand", "price", "stock",
                   "created_at", "attributes", "placeholder")


def _codes(values: pl.Series) -> tuple[np.ndarray, list[str]]:
    """Dense codes (-1 for null/empty) and the names they stand for."""
    clean = values.cast(pl.String).fill_null("")
    names = sorted(n for n in clean.unique().to_list() if n)
    lookup = {name: i for i, name in enumerate(names)}
    codes = clean.replace_strict(lookup, default=-1, return_dtype=pl.Int32).to_numpy()
    return codes.astype(np.int32), names


@dataclass
class ItemCatalog:
    """Per-item arrays, index-aligned with the models' item indices."""

    ids: IdMap
    titles: list[str]
    top_category: np.ndarray  # int32 code, -1 unknown
    top_names: list[str]
    leaf_category: np.ndarray
    leaf_names: list[str]
    brand: np.ndarray
    brand_names: list[str]
    price: np.ndarray  # float32, nan unknown
    stock: np.ndarray  # float32, nan unknown (unknown counts as in stock)
    created_us: np.ndarray  # int64, 0 unknown
    replenishable: np.ndarray  # bool
    # False for placeholder items (created for events naming an unknown item: no title,
    # no price), which are never recommended
    listed: np.ndarray  # bool

    @classmethod
    def build(cls, ids: IdMap, items: pl.DataFrame | None,
              replenishable_categories: tuple[str, ...] = ()) -> ItemCatalog:
        """Align ``items`` (item_id plus any of title, category, brand, price, stock,
        created_at, attributes) with ``ids``; missing columns become unknowns.

        An item is replenishable (may be recommended again after purchase) when its
        ``attributes`` JSON says ``"replenishable": true`` or its category path starts with
        one of ``replenishable_categories``.
        """
        frame = pl.DataFrame({"item_id": ids.ids})
        if items is not None and items.height:
            frame = frame.join(items.unique("item_id", keep="last"), on="item_id", how="left",
                               maintain_order="left")

        def column(name: str, dtype: pl.DataType | type[pl.DataType]) -> pl.Series:
            if name in frame.columns:
                return frame[name].cast(dtype)
            return pl.Series(name, [None] * frame.height, dtype=dtype)

        category = column("category", pl.String)
        top, top_names = _codes(category.str.split(CATEGORY_SEPARATOR).list.first())
        leaf, leaf_names = _codes(category)
        brand, brand_names = _codes(column("brand", pl.String))
        created = column("created_at", pl.Datetime("us", "UTC")).dt.epoch("us").fill_null(0)
        replenish = np.zeros(frame.height, dtype=bool)
        for prefix in replenishable_categories:
            replenish |= category.str.starts_with(prefix).fill_null(False).to_numpy()
        attributes = column("attributes", pl.String)
        flagged = attributes.str.contains('"replenishable"', literal=True).fill_null(False)
        for i in np.flatnonzero(flagged.to_numpy()):  # few items carry the flag
            replenish[i] |= bool(orjson.loads(attributes[int(i)]).get("replenishable"))
        return cls(
            ids=ids,
            titles=column("title", pl.String).fill_null("").to_list(),
            top_category=top, top_names=top_names, leaf_category=leaf, leaf_names=leaf_names,
            brand=brand, brand_names=brand_names,
            price=column("price", pl.Float64).fill_null(np.nan).to_numpy().astype(np.float32),
            stock=column("stock", pl.Float64).fill_null(np.nan).to_numpy().astype(np.float32),
            created_us=created.to_numpy().astype(np.int64),
            replenishable=replenish,
            listed=~column("placeholder", pl.Boolean).fill_null(False).to_numpy(),
        )

    def refresh(self, items: pl.DataFrame) -> None:
        """Apply the current price, stock and placeholder flag of known items in place
        (rules see them at once; a model trained yesterday filters today's stock)."""
        rows = self.ids.to_index(items["item_id"].to_list())
        known = rows >= 0
        for name, target in (("price", self.price), ("stock", self.stock)):
            if name in items.columns:
                values = items[name].cast(pl.Float64).to_numpy()
                given = known & ~np.isnan(values)
                target[rows[given]] = values[given]
        if "placeholder" in items.columns:
            flags = items["placeholder"].cast(pl.Boolean).to_numpy()
            given = known & np.array([f is not None for f in flags])
            self.listed[rows[given]] = ~flags[given].astype(bool)

    def __len__(self) -> int:
        return len(self.titles)

    def label(self, item: int) -> str:
        """A short human label for an item: its title, else its id."""
        title = self.titles[item]
        return title if title else str(self.ids.ids[item])

    def category_name(self, item: int) -> str | None:
        code = self.top_category[item]
        return self.top_names[code] if code >= 0 else None
