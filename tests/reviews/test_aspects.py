"""Aspects on hand-written reviews, with per-clause sentiment and summaries."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest

from shopmind.reviews.aspects import aspect_sentiment, detect_aspects
from shopmind.reviews.summaries import aspect_complaint_trend, aspect_summary


@pytest.mark.parametrize(("text", "aspects"), [
    ("物流很快，但是包装破了", {"delivery", "packaging"}),
    ("质量不错，性价比很高", {"quality", "price"}),
    ("客服态度很差，退货很麻烦", {"service"}),
    ("尺码偏小，颜色和图片一样好看", {"size", "appearance"}),
    ("苹果很新鲜，味道很甜", {"taste_smell"}),
    ("电池续航太短，充电很慢", {"performance"}),
    ("Great sound quality but shipping took two weeks", {"quality", "performance",
                                                        "delivery"}),
    ("Too expensive for what it is, and the box was crushed", {"price", "packaging"}),
    ("Runs small, order a size up. Love the color!", {"size", "appearance"}),
    ("Customer service gave me a refund right away", {"service"}),
    ("Smells wonderful and the battery lasts all day", {"taste_smell", "performance"}),
    ("房间很干净，早餐也不错", {"room_environment"}),
])
def test_detects_hand_labelled_aspects(text: str, aspects: set[str]) -> None:
    assert {m.aspect for m in detect_aspects(text)} == aspects


def test_nothing_in_empty_emoji_or_aspectless_text() -> None:
    for text in ("", "😀😀👍", "好", "ok"):
        assert detect_aspects(text) == []


def test_clause_sentiment_follows_each_clause() -> None:
    def scorer(texts: list[str]) -> np.ndarray:
        return np.array([0.1 if any(w in t for w in ("破", "slow", "差")) else 0.9
                         for t in texts])

    frame = aspect_sentiment(["a", "b"], ["物流很快，但是包装破了",
                                          "Great price, but delivery was slow"], scorer)
    got = {(r, a): p for r, a, p in frame.select("review_id", "aspect", "p_positive").rows()}
    assert got == {("a", "delivery"): 0.9, ("a", "packaging"): 0.1,
                   ("b", "price"): 0.9, ("b", "delivery"): 0.1}


def test_summaries_per_item_and_trend() -> None:
    aspects = pl.DataFrame({"review_id": ["1", "2", "3", "4", "5"],
                            "aspect": ["quality", "quality", "delivery", "delivery", "delivery"],
                            "p_positive": [0.9, 0.8, 0.2, 0.1, 0.7]})
    reviews = pl.DataFrame({
        "review_id": ["1", "2", "3", "4", "5"], "item_id": ["i"] * 5,
        "ts": [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3, 30, 31)]})
    summary = aspect_summary(aspects, reviews).rows_by_key("aspect", named=True)
    assert summary["quality"][0]["summary"] == "100% positive on quality (2 mentions)"
    assert summary["delivery"][0]["negative_mentions"] == 2
    trend = aspect_complaint_trend(aspects, reviews, window_days=7)
    assert trend.filter(pl.col("aspect") == "delivery")["complaints_recent"].item() == 1


@pytest.mark.parametrize(("text", "aspects"), [
    ("物流速度很快", ["delivery"]),
    ("I look forward to using it", []),
    ("洗得很干净", []),
    ("质量太烂了", ["quality"]),
    ("不但便宜而且质量好", ["price", "quality"]),
    ("price is $19.99", ["price"]),
])
def test_cues_inside_other_phrases_name_no_other_aspect(text: str, aspects: list[str]) -> None:
    found = detect_aspects(text)
    assert sorted({m.aspect for m in found}) == sorted(aspects)
    assert len({m.clause for m in found}) <= 1  # one clause each
