"""Aspects of a review (quality, price, delivery …) and the sentiment on each, bilingual.

Detection is lexical: every aspect has Chinese and English cue words (Chinese matched as
substrings, English as whole words with simple inflections). A review is cut into clauses
(:func:`shopmind.reviews.text.clauses`), each clause gets the aspects whose cues it
contains, and the clause — not the whole review — is scored by the sentiment model, so
"物流很快，但是包装破了" is positive on delivery and negative on packaging.

>>> [m.aspect for m in detect_aspects("Great sound, but the battery dies fast")]
['performance', 'performance']
>>> sorted({m.aspect for m in detect_aspects("物流很快，但是包装破了")})
['delivery', 'packaging']
>>> [m.aspect for m in detect_aspects("物流速度很快. I look forward to using it")]
['delivery']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from shopmind.reviews.text import clauses, normalize

#: aspect → (Chinese cues, English cues).
ASPECTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "quality": (("质量", "做工", "品质", "材质", "用料", "结实", "耐用", "瑕疵", "粗糙", "正品",
                 "假货", "次品", "开线", "掉色", "起球", "破损", "坏了", "质感"),
                ("quality", "build", "built", "material", "durable", "sturdy", "flimsy",
                 "defective", "defect", "broke", "broken", "craftsmanship", "cheaply made",
                 "fake", "genuine", "stopped working", "falls apart")),
    "price": (("价格", "价钱", "性价比", "便宜", "实惠", "划算", "优惠", "价位", "太贵", "偏贵",
               "不值", "值得", "物有所值", "降价", "保价", "差价", "贵了"),
              ("price", "priced", "value", "worth", "expensive", "cheap", "cheaper", "cost",
               "deal", "money", "overpriced", "affordable", "bargain")),
    "delivery": (("物流", "快递", "发货", "送货", "到货", "配送", "送到", "收到货", "运输",
                  "速度很快", "送货上门", "派送", "包邮"),
                 ("delivery", "delivered", "shipping", "shipped", "ship", "arrived",
                  "arrival", "courier", "came quickly", "on time", "late")),
    "service": (("客服", "服务", "售后", "态度", "退货", "换货", "退款", "商家", "卖家", "店家",
                 "前台", "回复"),
                ("service", "support", "seller", "refund", "return", "returned",
                 "replacement", "warranty", "customer care", "staff", "helpful")),
    "packaging": (("包装", "盒子", "外盒", "瓶盖", "密封", "漏了", "漏液", "压坏", "包裹",
                   "纸箱", "泡沫"),
                  ("packaging", "package", "packaged", "box", "boxed", "wrapped", "sealed",
                   "leaked", "leaking")),
    "appearance": (("外观", "颜色", "好看", "漂亮", "款式", "样子", "色差", "设计", "图片",
                    "颜值", "难看", "样式", "美观"),
                   ("looks", "look", "color", "colour", "design", "beautiful", "pretty",
                    "ugly", "style", "stylish", "sleek", "cute", "appearance")),
    "size": (("尺码", "大小", "合身", "偏大", "偏小", "尺寸", "码数", "太大", "太小", "宽松",
              "紧身", "长度"),
             ("size", "sizes", "fit", "fits", "fitting", "too small", "too big", "tight",
              "loose", "length")),
    "performance": (("性能", "运行", "卡顿", "很卡", "电池", "续航", "充电", "屏幕", "音质",
                     "声音", "信号", "发热", "速度", "反应", "系统", "耗电", "待机", "效果",
                     "功能", "加热", "噪音"),
                    ("performance", "battery", "speed", "lag", "laggy", "sound",
                     "speaker", "speakers", "screen", "wifi", "connection", "connect",
                     "charge", "charging", "volume", "bluetooth", "responsive", "glitch",
                     "works", "working", "audio", "bass", "display")),
    "taste_smell": (("味道", "口感", "好吃", "难吃", "新鲜", "香味", "气味", "甜", "酸", "异味",
                     "清香", "味儿", "变质", "腐烂", "烂果"),
                    ("taste", "tastes", "flavor", "flavour", "smell", "smells", "scent",
                     "fresh", "delicious", "odor", "odour", "stale")),
    "usability": (("使用", "操作", "安装", "方便", "好用", "难用", "说明书", "上手", "简单",
                   "复杂", "设置"),
                  ("easy", "setup", "set up", "install", "installation", "instructions",
                   "user friendly", "use", "app", "interface", "convenient", "simple")),
    "room_environment": (("房间", "环境", "卫生", "隔音", "早餐", "位置", "设施",
                          "床", "装修", "交通"),
                         ("room", "dirty", "location", "breakfast", "noisy",
                          "quiet", "facilities")),
}
#: Phrases holding an aspect's cue that are about something else (物流速度 is delivery,
#: "look forward to" no appearance); removed from a clause before that aspect's cues.
NOT_ASPECTS: dict[str, tuple[str, ...]] = {
    "performance": ("物流速度", "发货速度", "送货速度", "配送速度", "快递速度", "shipping speed",
                    "delivery speed"),
    "appearance": ("look forward", "looking forward", "look for", "looking for"),
}
_NOT = {a: re.compile("|".join(map(re.escape, phrases))) for a, phrases in NOT_ASPECTS.items()}


@dataclass(frozen=True)
class AspectMention:
    """One aspect found in one clause of a review."""

    aspect: str
    clause: str


def _english_pattern(cues: Sequence[str]) -> re.Pattern[str]:
    words = "|".join(sorted((re.escape(c) for c in cues), key=len, reverse=True))
    return re.compile(rf"\b(?:{words})(?:s|es|d|ed)?\b")


_EN = {a: _english_pattern(en) for a, (_, en) in ASPECTS.items()}


def detect_aspects(text: str) -> list[AspectMention]:
    """Aspects mentioned in each clause of ``text``, in clause order (one per clause+aspect).

    Parameters
    ----------
    text : str
        Raw review text (normalized here).
    """
    found = []
    for clause in clauses(normalize(text)):
        for aspect, (zh, _) in ASPECTS.items():
            plain = _NOT[aspect].sub(" ", clause) if aspect in _NOT else clause
            if any(cue in plain for cue in zh) or _EN[aspect].search(plain):
                found.append(AspectMention(aspect, clause))
    return found


Scorer = Callable[[list[str]], np.ndarray]


def aspect_sentiment(review_ids: Sequence[str], texts: Sequence[str], scorer: Scorer,
                     ) -> pl.DataFrame:
    """One row per (review, aspect): the clause and its P(positive) from ``scorer``.

    ``scorer`` maps texts to P(positive) (e.g. ``model.predict_proba``); every clause is
    scored in one batch. When an aspect appears in several clauses of a review, their
    probabilities are averaged.

    Returns
    -------
    polars.DataFrame
        ``review_id``, ``aspect``, ``p_positive``, ``clause`` (first clause seen).

    Examples
    --------
    >>> score = lambda xs: np.array([0.1 if "破" in x else 0.9 for x in xs])
    >>> aspect_sentiment(["r1"], ["物流很快，但是包装破了"], score).sort("aspect").rows()
    [('r1', 'delivery', 0.9, '物流很快'), ('r1', 'packaging', 0.1, '包装破了')]
    """
    rows: list[tuple[str, str, str]] = [
        (rid, m.aspect, m.clause)
        for rid, text in zip(review_ids, texts, strict=True) for m in detect_aspects(text)]
    schema = {"review_id": pl.String, "aspect": pl.String, "p_positive": pl.Float64,
              "clause": pl.String}
    if not rows:
        return pl.DataFrame(schema=schema)
    unique = sorted({c for _, _, c in rows})
    probs = dict(zip(unique, np.asarray(scorer(unique), dtype=np.float64).tolist(),
                     strict=True))
    frame = pl.DataFrame({"review_id": [r for r, _, _ in rows], "aspect": [a for _, a, _ in rows],
                          "p_positive": [probs[c] for _, _, c in rows],
                          "clause": [c for _, _, c in rows]}, schema=schema)
    return (frame.group_by("review_id", "aspect", maintain_order=True)
            .agg(pl.col("p_positive").mean(), pl.col("clause").first()))
