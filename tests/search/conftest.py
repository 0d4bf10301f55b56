"""A tiny bilingual catalog whose right answers are known, indexed with the hashing
backend (no language model: fast and deterministic)."""

from __future__ import annotations

import polars as pl
import pytest

from shopmind.search.engine import SearchEngine
from shopmind.text.embeddings import HashingBackend

ITEMS = [
    ("d1", "红色连衣裙 夏季", "素衣", "服装 > 女装 > 连衣裙", 159.0, 10, "red"),
    ("d2", "蓝色连衣裙 长款", "素衣", "服装 > 女装 > 连衣裙", 359.0, 5, "blue"),
    ("d3", "Red summer dress", "Acme", "Clothing > Women > Dresses", 45.0, 3, "red"),
    ("h1", "Wireless noise cancelling headphones", "Sonic", "Electronics > Audio", 199.0, 7,
     "black"),
    ("h2", "无线蓝牙耳机 降噪", "声浪", "数码 > 音频 > 耳机", 299.0, 0, "white"),
    ("s1", "Trail running shoes", "Peakline", "Sports > Shoes", 89.0, 12, "grey"),
    ("s2", "跑步鞋 男款 透气", "耐克", "运动 > 鞋 > 跑步鞋", 499.0, 4, "black"),
    ("k1", "Stainless steel chef knife", "Forge", "Home > Kitchen", 60.0, 8, "silver"),
    ("k2", "不锈钢 炒锅", "厨神", "家居 > 厨房 > 锅具", 129.0, 9, "silver"),
    ("l1", "Laptop backpack waterproof", "Peakline", "Bags > Backpacks", 75.0, 2, "black"),
]


@pytest.fixture(scope="session")
def items() -> pl.DataFrame:
    return pl.DataFrame(
        ITEMS, schema=["item_id", "title", "brand", "category", "price", "stock", "color"],
        orient="row")


@pytest.fixture(scope="session")
def engine(items: pl.DataFrame) -> SearchEngine:
    backend = HashingBackend(dim=256).fit(items["title"].to_list())
    return SearchEngine.build(items, backend, reranker=None,
                              searches=["red dress", "red dress", "running shoes"])
