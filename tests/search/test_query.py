"""Query understanding: prices, colours, sizes, brands and categories in zh and en."""

from __future__ import annotations

import pytest

from shopmind.search.analyze import analyze
from shopmind.search.query import parse_query


@pytest.mark.parametrize(("query", "low", "high", "text"), [
    ("running shoes under 200", None, 200.0, "running shoes"),
    ("below $50 headphones", None, 50.0, "headphones"),
    ("$50-100 headphones", 50.0, 100.0, "headphones"),
    ("between 20 and 30 dollars", 20.0, 30.0, ""),
    ("over $1k laptop", 1000.0, None, "laptop"),
    ("200元以下 红色连衣裙", None, 200.0, "红色连衣裙"),
    ("耳机 100-300元", 100.0, 300.0, "耳机"),
    ("100到200元的耳机", 100.0, 200.0, "的耳机"),
    ("跑步鞋 500以内", None, 500.0, "跑步鞋"),
    ("低于99块 炒锅", None, 99.0, "炒锅"),
    ("1000元以上 手机", 1000.0, None, "手机"),
    ("max $50 mouse", None, 50.0, "mouse"),
    ("between 2 and 2k", 2.0, 2000.0, ""),  # each number keeps its own "k"
    ("between 2k and 3k", 2000.0, 3000.0, ""),
])
def test_price_constraints_in_both_languages(query: str, low: float | None,
                                             high: float | None, text: str) -> None:
    parsed = parse_query(query)
    assert (parsed.min_price, parsed.max_price) == (low, high)
    assert parsed.text == text


@pytest.mark.parametrize("query", [
    "iphone pro max 256gb", "airpods max 2", "delivery within 3 days", "up to 50% off",
    "under 50% cotton", "3天以内 发货",
])
def test_numbers_of_other_things_are_not_prices(query: str) -> None:
    parsed = parse_query(query)
    assert (parsed.min_price, parsed.max_price) == (None, None)
    assert parsed.text == query


@pytest.mark.parametrize(("query", "colors"), [
    ("蛋白粉", []), ("黑胡椒", []), ("白酒", []), ("蓝牙耳机", []), ("红米手机", []),
    ("红裙子", ["red"]), ("红色 蓝牙耳机", ["red"]), ("粉色卫衣", ["pink"]),
])
def test_a_one_character_chinese_colour_must_be_a_word_of_its_own(
        query: str, colors: list[str]) -> None:
    assert parse_query(query).colors == colors


def test_a_size_range_is_not_a_price() -> None:
    parsed = parse_query("2-4 ft bolt")
    assert parsed.min_price is None and parsed.max_price is None
    assert parsed.text == "2-4 ft bolt"


@pytest.mark.parametrize(("query", "brands", "colors", "sizes"), [
    ("Nike black shoes size 10", ["nike"], ["black"], ["10"]),
    ("耐克 红色 跑步鞋 42码", ["耐克"], ["red"], ["42"]),
    ("acme dress XL", ["acme"], [], ["xl"]),
    ("blue dress", [], ["blue"], []),
])
def test_brand_colour_and_size_intents(query: str, brands: list[str], colors: list[str],
                                       sizes: list[str]) -> None:
    parsed = parse_query(query, brands=["nike", "耐克", "acme"])
    assert parsed.brands == brands
    assert parsed.colors == colors
    assert parsed.sizes == sizes


def test_category_intent_and_constraint_order() -> None:
    parsed = parse_query("red dresses under 50", categories=["dresses", "shoes"])
    assert parsed.categories == ["dresses"]
    assert parsed.constraints == ["color", "category", "price"]


def test_analyzer_stems_english_and_segments_chinese() -> None:
    assert analyze("Running Shoes for the trail") == ["run", "shoe", "trail"]
    assert {"红色", "连衣裙"} <= set(analyze("红色连衣裙"))
    assert analyze("ＡＢＣ") == ["abc"]  # full-width folded
