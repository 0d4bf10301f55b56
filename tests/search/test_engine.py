"""End-to-end search on the tiny bilingual catalog: right answers, filters, spelling,
relaxation, personalization, facets and hostile queries."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from shopmind.errors import InputError
from shopmind.search.engine import SearchEngine
from shopmind.search.filters import Filters
from shopmind.search.personalize import NO_PROFILE, NO_USER, OFF


def ids(engine: SearchEngine, query: str, **kwargs: object) -> list[str]:
    return [hit.item_id for hit in engine.search(query, **kwargs).results]  # type: ignore[arg-type]


@pytest.mark.parametrize(("query", "best"), [
    ("红色连衣裙", "d1"),
    ("蓝色 连衣裙", "d2"),
    ("无线耳机", "h2"),
    ("跑步鞋", "s2"),
    ("不锈钢炒锅", "k2"),
    ("red dress", "d3"),
    ("wireless headphones", "h1"),
    ("running shoe", "s1"),
    ("chef knives", "k1"),
])
def test_chinese_and_english_queries_find_the_right_item(engine: SearchEngine, query: str,
                                                          best: str) -> None:
    assert ids(engine, query)[0] == best


def test_every_mode_answers(engine: SearchEngine) -> None:
    for mode in ("hybrid", "rrf", "bm25", "dense"):
        assert ids(engine, "headphones", mode=mode)[0] == "h1"


def test_price_in_the_query_becomes_a_filter(engine: SearchEngine) -> None:
    found = engine.search("连衣裙 200元以下")
    assert [h.item_id for h in found.results][:1] == ["d1"]
    assert all(h.price is not None and h.price <= 200 for h in found.results)
    assert found.filters["max_price"] == 200.0
    english = engine.search("dress under $50")
    assert {h.item_id for h in english.results} == {"d3"}


def test_explicit_filters_and_facets(engine: SearchEngine) -> None:
    found = engine.search("shoes", filters=Filters(in_stock=True, brands=["Peakline"]))
    assert {h.item_id for h in found.results} == {"s1", "l1"} & {h.item_id for h in
                                                                 found.results}
    assert all(h.in_stock and h.brand == "Peakline" for h in found.results)
    assert found.facets["brand"][0]["value"] == "Peakline"
    assert found.facets["in_stock"] == found.total


def test_brand_in_the_query_is_understood(engine: SearchEngine) -> None:
    found = engine.search("耐克 跑步鞋")
    assert found.filters["brands"] == ["耐克"]
    assert [h.item_id for h in found.results] == ["s2"]


def test_did_you_mean_corrects_misspellings(engine: SearchEngine) -> None:
    found = engine.search("wireles headphons")
    assert found.did_you_mean == "wireless headphones"
    assert found.results[0].item_id == "h1"
    assert "showing results for" in (found.message or "")


def test_a_correction_and_a_relaxation_are_both_said(engine: SearchEngine) -> None:
    found = engine.search("wireles headphons under 10")
    assert found.message is not None
    assert "showing results for 'wireless headphones'" in found.message
    assert "no results matched price" in found.message


def test_spelling_keeps_the_first_letter_of_unknown_names() -> None:
    from shopmind.search.spelling import SpellChecker

    speller = SpellChecker().fit(["phone case", "rice cooker", "wireless headphones"])
    assert speller.correct("iphone price") == "iphone price"  # not "phone rice"
    assert speller.correct("wireles headphons") == "wireless headphones"


def test_zero_results_relax_constraints_and_say_so(engine: SearchEngine) -> None:
    found = engine.search("chef knife under 10")
    assert found.relaxed == ["price"]
    assert found.results[0].item_id == "k1"
    assert "no results matched price" in (found.message or "")


def test_the_callers_filters_hold_with_the_querys_and_are_never_relaxed(
        engine: SearchEngine) -> None:
    # the query names the dress category, the caller asks for shoes: both must hold
    found = engine.search("连衣裙", filters=Filters(categories=["鞋"]))
    assert all("鞋" in h.category for h in found.results)
    # a brand typed in the query does not widen the caller's brand
    found = engine.search("耐克 跑步鞋", filters=Filters(brands=["Peakline"]))
    assert found.results and all(h.brand == "Peakline" for h in found.results)
    # the query's price is relaxed, the caller's ceiling is not
    found = engine.search("连衣裙 over 300", filters=Filters(max_price=200))
    assert found.relaxed == ["price"]
    assert [h.item_id for h in found.results][:1] == ["d1"]
    assert all(h.price is not None and h.price <= 200 for h in found.results)
    assert found.filters["max_price"] == 200 and found.filters["from_query"]["min_price"] == 300
    # nothing at all: said plainly, not "showing results without ..."
    found = engine.search("chef knife", filters=Filters(brands=["NoSuchBrand"]))
    assert found.results == [] and found.message == "no results"


def test_only_constraints_returns_popular_matching_items(engine: SearchEngine) -> None:
    found = engine.search("100元以下")
    assert found.results and all(h.price is not None and h.price <= 100
                                 for h in found.results)


def test_personalization_reorders_with_reasons_and_can_be_switched_off(
        engine: SearchEngine) -> None:
    profile = {"top_brands": [{"name": "素衣", "weight": 1.0}], "typical_price": 350.0}
    plain = engine.search("连衣裙", profile=profile, personalized=False)
    assert all(h.reason == OFF for h in plain.results)
    personal = engine.search("连衣裙", profile=profile)
    assert personal.personalized
    assert personal.results[0].item_id == "d2"  # same brand as d1, but at the usual price
    assert personal.results[0].reason == "you often choose 素衣; near your usual price"
    assert all(h.reason == NO_USER for h in engine.search("dress").results)
    assert all(h.reason == NO_PROFILE for h in engine.search("dress", profile={}).results)


@pytest.mark.parametrize("query", [
    "x" * 10_000, "'; DROP TABLE items; --", "1 OR 1=1", "👗👠 dress 🔥", "🙂", "%%%", "\x00",
    "<script>alert(1)</script>",
])
def test_hostile_queries_get_clean_answers(engine: SearchEngine, query: str) -> None:
    found = engine.search(query)
    assert isinstance(found.results, list)
    assert len(found.query) <= 512


def test_empty_query_without_filters_is_an_input_error(engine: SearchEngine) -> None:
    with pytest.raises(InputError, match="query must not be empty"):
        engine.search("   ")
    assert engine.search("", filters=Filters(brands=["Acme"])).results[0].item_id == "d3"


def test_upsert_adds_and_replaces_items(items: pl.DataFrame) -> None:
    from shopmind.text.embeddings import HashingBackend

    engine = SearchEngine.build(items, HashingBackend(dim=128), reranker=None)
    engine.upsert(pl.DataFrame({"item_id": ["n1", "k1"],
                                "title": ["Garden hose 30m", "Bread knife serrated"]}))
    assert ids(engine, "garden hose")[0] == "n1"
    assert ids(engine, "bread knife")[0] == "k1"
    assert len(engine.index.catalog_) == len(items) + 1
    assert np.isclose(np.linalg.norm(engine.index.dense_.vectors_[-1]), 1.0)


def test_an_index_without_a_backend_serves_bm25_only(items: pl.DataFrame) -> None:
    from shopmind.search.index import SearchIndex

    index = SearchIndex(None).fit(items)
    rows, _ = index.rank("headphones", 3, "bm25")
    assert index.item_ids(rows)[0] == "h1"
    with pytest.raises(InputError, match="only mode 'bm25'"):
        index.rank("headphones", 3, "hybrid")


@pytest.mark.parametrize("mode", ["hybrid", "rrf", "bm25", "dense"])
def test_filters_hold_in_every_mode(engine: SearchEngine, mode: str) -> None:
    found = engine.search("dress", filters=Filters(max_price=100), mode=mode)  # type: ignore[arg-type]
    assert found.results
    assert all(h.price is not None and h.price <= 100 for h in found.results)


def test_bilingual_category_names_are_understood(engine: SearchEngine) -> None:
    assert "连衣裙" in engine.categories_
    found = engine.search("连衣裙 300元以下")
    assert found.filters["categories"] == ["连衣裙"]
    assert [h.item_id for h in found.results] == ["d1"]


def test_matches_that_name_nothing_else_the_query_asks_for_are_relaxed_away(
        engine: SearchEngine) -> None:
    # no black dress: black items exist but none is a dress, so the colour goes
    found = engine.search("black dress", k=3)
    assert found.relaxed == ["color"]
    assert found.results[0].item_id == "d3"
    # a black backpack exists: the colour holds
    kept = engine.search("black backpack", k=3)
    assert kept.relaxed == [] and kept.results[0].item_id == "l1"
