"""Filters (category, brand, price range, in stock, colour, size) and result facets.

Filters become one Polars expression evaluated over the whole catalog, so retrieval can
search only the allowed items instead of filtering a short list after the fact.

Examples
--------
>>> import polars as pl
>>> from shopmind.search.catalog import normalize_catalog
>>> items = normalize_catalog(pl.DataFrame({"item_id": ["a", "b"], "title": ["x", "y"],
...                                         "price": [5.0, 50.0]}))
>>> allowed_mask(items, Filters(max_price=10)).tolist()
[True, False]
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl

from shopmind.errors import InputError
from shopmind.search.query import COLORS, ParsedQuery

PRICE_BUCKETS = (0, 25, 50, 100, 200, 500, 1000, 5000)


@dataclass
class Filters:
    """Hard constraints on results; empty lists / None mean "any"."""

    categories: list[str] = field(default_factory=list)
    brands: list[str] = field(default_factory=list)
    min_price: float | None = None
    max_price: float | None = None
    in_stock: bool = False
    colors: list[str] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, parsed: ParsedQuery) -> Filters:
        """The constraints understood from the query's own words."""
        return cls(categories=list(parsed.categories), brands=list(parsed.brands),
                   min_price=parsed.min_price, max_price=parsed.max_price,
                   colors=list(parsed.colors), sizes=list(parsed.sizes))

    def describe(self) -> dict[str, object]:
        """The filters as plain values (a response's ``filters``)."""
        return {"categories": self.categories, "brands": self.brands,
                "min_price": self.min_price, "max_price": self.max_price,
                "in_stock": self.in_stock, "colors": self.colors, "sizes": self.sizes}

    def without(self, name: str) -> Filters:
        """A copy with constraint ``name`` (size, color, brand, category, price) removed."""
        if name == "price":
            return replace(self, min_price=None, max_price=None)
        if name not in ("size", "color", "brand", "category"):
            raise InputError(f"unknown constraint {name!r}; expected size, color, brand, "
                             "category or price")
        if name == "size":
            return replace(self, sizes=[])
        if name == "color":
            return replace(self, colors=[])
        if name == "brand":
            return replace(self, brands=[])
        return replace(self, categories=[])

    @property
    def active(self) -> bool:
        return bool(self.categories or self.brands or self.colors or self.sizes
                    or self.in_stock or self.min_price is not None
                    or self.max_price is not None)


def filter_columns(catalog: pl.DataFrame) -> pl.DataFrame:
    """The columns filters read, lower-cased once (an index keeps this frame, so a query
    does not lower-case every title of the catalog again)."""
    low_title = pl.col("title").str.to_lowercase()
    return catalog.select(
        low_title.alias("title"),
        pl.col("category").str.to_lowercase().alias("category"),
        pl.col("brand").str.to_lowercase().alias("brand"),
        pl.concat_str([pl.col("color").str.to_lowercase(), low_title], separator=" "
                      ).alias("color_title"),
        "price", "in_stock")


def _expression(filters: Filters) -> pl.Expr:
    """Rows passing ``filters``, over :func:`filter_columns`."""
    conditions = [pl.lit(True)]
    title = pl.col("title")
    if filters.categories:
        conditions.append(pl.any_horizontal(
            [pl.col("category").str.contains(c.lower(), literal=True)
             for c in filters.categories]))
    if filters.brands:
        conditions.append(pl.any_horizontal(
            [(pl.col("brand") == b.lower()) | title.str.starts_with(b.lower())
             for b in filters.brands]))
    if filters.min_price is not None:
        conditions.append(pl.col("price") >= filters.min_price)
    if filters.max_price is not None:
        conditions.append(pl.col("price") <= filters.max_price)
    if filters.in_stock:
        conditions.append(pl.col("in_stock"))
    if filters.colors:
        words = [w.lower() for c in filters.colors for w in COLORS.get(c, (c,))]
        conditions.append(pl.any_horizontal([pl.col("color_title").str.contains(w, literal=True)
                                             for w in words]))
    if filters.sizes:
        pattern = "|".join(rf"\b{s}\b" for s in filters.sizes)
        conditions.append(title.str.contains(f"(?i){pattern}|(?:{pattern})码"))
    return pl.all_horizontal(conditions).fill_null(False)


def allowed_mask(catalog: pl.DataFrame, filters: Filters,
                 columns: pl.DataFrame | None = None) -> np.ndarray:
    """Boolean mask of catalog rows that pass ``filters``; ``columns`` is
    :func:`filter_columns` of ``catalog`` when the caller keeps it."""
    if not filters.active:
        return np.ones(catalog.height, dtype=bool)
    frame = filter_columns(catalog) if columns is None else columns
    return frame.select(_expression(filters)).to_series().to_numpy()


def facets(catalog: pl.DataFrame, rows: np.ndarray, top: int = 10) -> dict[str, object]:
    """Counts over result ``rows``: top categories, brands, price buckets, in stock."""
    part = catalog[np.asarray(rows, dtype=np.int64)] if len(rows) else catalog.clear()

    def counts(column: str) -> list[dict[str, object]]:
        values = part.filter(pl.col(column) != "")[column]
        if column == "category":
            values = values.str.split(" > ").list.first()
        vc = values.value_counts(sort=True).head(top)
        return [{"value": v, "count": int(n)} for v, n in vc.iter_rows()]

    prices = part["price"].drop_nulls().to_numpy()
    edges = np.array((*PRICE_BUCKETS, np.inf))
    hist = np.histogram(prices, bins=edges)[0] if len(prices) else np.zeros(len(edges) - 1)
    buckets = [{"min": float(lo), "max": None if np.isinf(hi) else float(hi),
                "count": int(n)} for lo, hi, n in zip(edges[:-1], edges[1:], hist,
                                                      strict=True) if n]
    return {"category": counts("category"), "brand": counts("brand"), "price": buckets,
            "in_stock": int(part["in_stock"].sum())}
