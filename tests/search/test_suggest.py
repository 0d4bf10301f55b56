"""Autocomplete: catalog phrases and past searches, English, Chinese and pinyin; speed."""

from __future__ import annotations

import time

import numpy as np

from shopmind.search.engine import SearchEngine
from shopmind.search.suggest import Suggester


def test_english_prefixes_and_later_words(engine: SearchEngine) -> None:
    assert engine.suggest("red d")[0] == "red dress"  # a past search (twice) comes first
    assert "wireless noise cancelling headphones" in engine.suggest("wirel")
    assert "trail running shoes" in engine.suggest("runn")  # completes a later word


def test_chinese_and_pinyin_prefixes(engine: SearchEngine) -> None:
    assert "红色连衣裙 夏季" in engine.suggest("红色")
    assert "红色连衣裙 夏季" in engine.suggest("hongse")
    assert "红色连衣裙 夏季" in engine.suggest("hslyq")  # pinyin initials


def test_later_chinese_words_and_their_pinyin_complete_a_phrase() -> None:
    suggester = Suggester().fit(titles=["红色连衣裙 夏季", "Apple iPhone 15 苹果手机 256G"])
    for prefix in ("连衣裙", "lianyiqun", "lyq", "xiaji"):  # a later word, its pinyin
        assert suggester.suggest(prefix) == ["红色连衣裙 夏季"], prefix
    for prefix in ("苹果", "pingguo", "pgsj", "shouji"):  # Chinese inside a Latin title
        assert suggester.suggest(prefix) == ["apple iphone 15 苹果手机 256g"], prefix
    assert suggester.suggest("guo") == []  # pinyin keys start at words, not syllables


def test_nothing_for_unknown_or_empty_prefixes(engine: SearchEngine) -> None:
    assert engine.suggest("") == []
    assert engine.suggest("zzzz") == []
    assert engine.suggest("🙂" * 500) == []


def test_p99_under_10_ms_on_a_20k_phrase_catalog() -> None:
    rng = np.random.default_rng(0)
    words = ["red", "blue", "dress", "shoe", "bag", "lamp", "desk", "红色", "连衣裙", "耳机",
             "跑步鞋", "wireless", "cotton", "kids", "steel"]
    titles = [" ".join(rng.choice(words, size=4)) + f" {i}" for i in range(20_000)]
    suggester = Suggester().fit(titles=titles, searches=["red dress"] * 3)
    prefixes = ["r", "re", "red", "red d", "hong", "lian", "w", "wire", "耳", "连衣", "st",
                "kids c", "zz"] * 20
    timings = []
    for prefix in prefixes:
        start = time.perf_counter()
        suggester.suggest(prefix)
        timings.append(time.perf_counter() - start)
    assert np.percentile(timings, 99) < 0.010
