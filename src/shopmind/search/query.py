"""Query understanding: price, colour, size, brand and category intent → filters.

Price phrases in English and Chinese are parsed and *removed* from the text that is
ranked (so "under 200" does not match items with "200" in their title); colour, size,
brand and category words stay in the text, because they also help ranking.

Examples
--------
>>> parse_query("red dress under 200").max_price
200.0
>>> p = parse_query("200元以下 红色连衣裙")
>>> p.max_price, p.colors, p.text
(200.0, ['red'], '红色连衣裙')
>>> parse_query("$50-100 headphones").min_price
50.0
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from shopmind.search.analyze import has_cjk, normalize, segments

# a number, maybe in thousands ("2k", "2千"), that is not the start of a unit or a share
# ("256gb", "3days", "50%")
_NUM = r"(\d+(?:\.\d+)?)(?:\s*[kK千](?![a-z]))?(?![\d.]|\s*%|[a-jl-z])"
_CUR_BEFORE = r"(?:[$¥￥€£]|usd\s*|rmb\s*)?"
_CUR_WORD = r"\s*(?:元|块钱|块|rmb|usd|dollars?|bucks|yuan)"
_CUR_AFTER = rf"(?:{_CUR_WORD})?"
_CUR_SIGN = r"(?:[$¥￥€£]|usd|rmb)"

# (pattern, kind) — kind: "max", "min" or "range"; the first number is the bound.
_PRICE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), kind) for p, kind in (
        # a bare "2-4" is as often a size as a price: a range needs a currency or "between"
        (rf"(?:between\s+{_CUR_BEFORE}{_NUM}{_CUR_AFTER}\s*(?:and|to|-)\s*{_CUR_BEFORE}{_NUM}"
         rf"{_CUR_AFTER}|[$¥￥€£]\s*{_NUM}\s*(?:-|–|~|to)\s*[$¥￥€£]?\s*{_NUM}|"
         rf"{_NUM}\s*(?:-|–|~|到|至)\s*{_NUM}\s*(?:元|块|rmb|usd|dollars?|yuan))", "range"),
        (rf"(?:under|below|less than|cheaper than|at most|<=?|"
         rf"低于|少于|不超过|不到|小于|最多|以内)\s*{_CUR_BEFORE}{_NUM}{_CUR_AFTER}", "max"),
        # words that bound other things too ("airpods max 2", "within 3 days", "up to 50%
        # off") bound a price only with a currency
        (rf"(?:max(?:imum)?|up to|within)\s*(?:{_CUR_SIGN}\s*{_NUM}{_CUR_AFTER}|"
         rf"{_NUM}{_CUR_WORD})", "max"),
        (rf"{_CUR_BEFORE}{_NUM}{_CUR_AFTER}\s*(?:or less|and under|以下|以内|之内|内)", "max"),
        (rf"(?:over|above|more than|at least|min(?:imum)?|>=?|高于|超过|大于|至少)\s*"
         rf"{_CUR_BEFORE}{_NUM}{_CUR_AFTER}", "min"),
        (rf"{_CUR_BEFORE}{_NUM}{_CUR_AFTER}\s*(?:or more|and up|and above|以上|起)", "min"),
    ))

#: Canonical colour → words naming it (English and Chinese).
COLORS: dict[str, tuple[str, ...]] = {
    "red": ("red", "红色", "红"), "blue": ("blue", "蓝色", "蓝"),
    "green": ("green", "绿色", "绿"), "black": ("black", "黑色", "黑"),
    "white": ("white", "白色", "白"), "yellow": ("yellow", "黄色", "黄"),
    "pink": ("pink", "粉色", "粉红", "粉"), "purple": ("purple", "紫色", "紫"),
    "grey": ("grey", "gray", "灰色", "灰"), "brown": ("brown", "棕色", "咖啡色", "棕"),
    "orange": ("orange", "橙色", "橘色", "橙"), "beige": ("beige", "米色", "米白"),
    "gold": ("gold", "金色"), "silver": ("silver", "银色"), "navy": ("navy", "藏青", "藏蓝"),
}
_SIZE = re.compile(r"(?:\bsize\s*([a-z0-9.]+)\b|尺码\s*([a-z0-9.]+)|\b(xxs|xs|xxl|xxxl|xl)\b|"
                   r"([a-z0-9.]+)\s*码)")


@dataclass
class ParsedQuery:
    """A query split into the text to rank and the constraints it states."""

    raw: str
    text: str
    min_price: float | None = None
    max_price: float | None = None
    colors: list[str] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)
    brands: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)

    @property
    def constraints(self) -> list[str]:
        """Names of the constraints found, in the order they are relaxed."""
        names = []
        for name, present in (("size", self.sizes), ("color", self.colors),
                              ("brand", self.brands), ("category", self.categories),
                              ("price", self.min_price is not None
                               or self.max_price is not None)):
            if present:
                names.append(name)
        return names


def _amounts(match: re.Match[str]) -> list[float]:
    """The numbers a price pattern matched, each times 1,000 if "k" or 千 follows it."""
    out = []
    for group, number in enumerate(match.groups(), start=1):
        if number is None:
            continue
        tail = match.string[match.end(group):match.end()].lstrip()
        out.append(float(number) * (1000 if tail[:1] in ("k", "千") else 1))
    return out


def _names_color(name: str, text: str, chinese_words: set[str]) -> bool:
    """Whether colour word ``name`` occurs in ``text``: English as a whole word, Chinese as
    a substring, except a one-character colour, which must be a word of its own (红 裙子),
    not part of one (白酒, 黑胡椒, 蛋白粉, 蓝牙, 红米 are no colours)."""
    if name.isascii():
        return re.search(rf"\b{name}\b", text) is not None
    return name in chinese_words if len(name) == 1 else name in text


def _find_phrases(text: str, phrases: Iterable[str]) -> list[str]:
    """Catalog phrases (brands, category names) that occur in ``text`` as whole words."""
    found: list[str] = []
    present = {p for p in phrases if p and p in text}  # a whole-word match is a substring
    for phrase in sorted(present, key=len, reverse=True):
        if phrase in " ".join(found):
            continue
        if re.search(r"[\u4e00-\u9fff]", phrase):
            hit = phrase in text
        else:
            hit = re.search(rf"(?<![\w]){re.escape(phrase)}(?![\w])", text) is not None
        if hit:
            found.append(phrase)
    return found


def parse_query(query: str, *, brands: Iterable[str] = (),
                categories: Iterable[str] = ()) -> ParsedQuery:
    """Extract constraints from ``query``.

    Parameters
    ----------
    query : str
        What the shopper typed.
    brands, categories : iterable of str
        Normalized brand names and category names of the catalog (whole-word matches of
        these become brand / category intents).
    """
    text = normalize(query)
    parsed = ParsedQuery(raw=query, text=text)
    for pattern, kind in _PRICE_PATTERNS:
        match = pattern.search(text)
        if match is None:
            continue
        numbers = _amounts(match)
        if kind == "range" and len(numbers) == 2:
            parsed.min_price, parsed.max_price = sorted(numbers)
        elif kind == "max" and parsed.max_price is None:
            parsed.max_price = numbers[0]
        elif kind == "min" and parsed.min_price is None:
            parsed.min_price = numbers[0]
        else:
            continue
        text = (text[:match.start()] + " " + text[match.end():]).strip()
        if kind == "range":
            break
    parsed.text = " ".join(text.split())
    chinese_words = set(segments(text)) if has_cjk(text) else set()
    for canonical, names in COLORS.items():
        if any(_names_color(n, text, chinese_words) for n in names):
            parsed.colors.append(canonical)
    parsed.sizes = [next(g for g in m.groups() if g) for m in _SIZE.finditer(text)]
    parsed.brands = _find_phrases(text, brands)
    parsed.categories = _find_phrases(text, categories)
    return parsed
