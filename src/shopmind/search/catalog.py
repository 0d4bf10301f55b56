"""The catalog as search sees it: one Polars frame with fixed columns, from any source.

Search works on ``item_id, title, brand, color, category, description, price, in_stock,
popularity``. :func:`normalize_catalog` builds that frame from the store's ``items`` table
(colour inside ``attributes`` JSON, ``stock``) or from a products CSV of the eval-search
contract (``product_id, title`` plus optional ``brand, color, category, bullet_points,
description``); missing columns become empty strings / nulls.

Examples
--------
>>> import polars as pl
>>> normalize_catalog(pl.DataFrame({"product_id": ["1"], "title": ["Red dress"]})).columns[:3]
['item_id', 'title', 'brand']
"""

from __future__ import annotations

import polars as pl

from shopmind.errors import InputError

TEXT_FIELDS = ("title", "brand", "color", "category", "description")
_DENSE_TEXT_CHARS = 300  # e5 cost grows with tokens; the title and brand carry the meaning


def normalize_catalog(frame: pl.DataFrame) -> pl.DataFrame:
    """Items with the search columns, ids as strings, text fields never null.

    Raises
    ------
    InputError
        When neither ``item_id`` nor ``product_id`` or no ``title`` column is present.
    """
    if "item_id" not in frame.columns and "product_id" in frame.columns:
        frame = frame.rename({"product_id": "item_id"})
    missing = [c for c in ("item_id", "title") if c not in frame.columns]
    if missing:
        raise InputError(f"catalog needs columns item_id (or product_id) and title; missing "
                         f"{missing}, got {frame.columns}")
    if "color" not in frame.columns and "attributes" in frame.columns:
        attributes = pl.col("attributes").cast(pl.String)
        frame = frame.with_columns(pl.coalesce(  # both spellings occur in shop data
            attributes.str.json_path_match("$.color"),
            attributes.str.json_path_match("$.colour")).alias("color"))
    description = [c for c in ("bullet_points", "description") if c in frame.columns]
    text = {c: pl.col(c).cast(pl.String) if c in frame.columns else pl.lit(None, pl.String)
            for c in ("title", "brand", "color", "category")}
    stock = ((pl.col("stock").cast(pl.Float64, strict=False) > 0)  # "12.0", "", "In Stock"
             if "stock" in frame.columns else pl.lit(True))
    popularity = (pl.col("rating_count").cast(pl.Float64, strict=False)
                  if "rating_count" in frame.columns else pl.lit(None, pl.Float64))
    return frame.select(
        pl.col("item_id").cast(pl.String),
        *(expr.fill_null("").alias(name) for name, expr in text.items()),
        (pl.concat_str([pl.col(c).cast(pl.String) for c in description], separator="\n",
                       ignore_nulls=True) if description else pl.lit("")
         ).fill_null("").alias("description"),
        (pl.col("price").cast(pl.Float64, strict=False) if "price" in frame.columns
         else pl.lit(None, pl.Float64)).alias("price"),
        stock.fill_null(True).alias("in_stock"),
        popularity.fill_null(0.0).alias("popularity"),
    ).unique("item_id", keep="last", maintain_order=True)


def dense_text(title: str, brand: str, color: str, category: str) -> str:
    """The short text a document is embedded from: title, then brand, colour and the
    category leaf where the title does not already say them.

    >>> dense_text("Trail shoe", "Acme", "red", "Shoes > Running")
    'Trail shoe, Acme, red, Running'
    """
    parts = [title.strip()]
    low = title.lower()
    for extra in (brand, color, category.rsplit(">", 1)[-1]):
        extra = extra.strip()
        if extra and extra.lower() not in low:
            parts.append(extra)
    return ", ".join(p for p in parts if p)[:_DENSE_TEXT_CHARS]


def dense_texts(catalog: pl.DataFrame) -> list[str]:
    """:func:`dense_text` of every row of a normalized catalog."""
    return [dense_text(*row) for row in
            catalog.select("title", "brand", "color", "category").iter_rows()]
