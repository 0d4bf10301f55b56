"""Text → index terms for Chinese and English: jieba segmentation, Snowball stemming.

Runs of CJK characters are segmented with jieba's search mode (words and their sub-words,
so 连衣裙 matches 连衣 / 衣裙 queries too); other runs are split into letters/digits,
lower-cased, stripped of a few English stop words and stemmed with the Snowball English
stemmer (PyStemmer) when it is installed. The same function analyses documents and
queries, so both sides agree.

Examples
--------
>>> analyze("Red Running Shoes")
['red', 'run', 'shoe']
>>> "连衣裙" in analyze("红色连衣裙")
True
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from typing import Any

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
STOP_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of",
    "on", "or", "the", "to", "with", "without"})


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    try:
        import Stemmer  # PyStemmer: Snowball in C
    except ImportError:  # stemming is a refinement, not a requirement
        return None
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba  # imported lazily: loading its dictionary takes about a second

    jieba.setLogLevel(logging.WARNING)
    return jieba


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), lower case, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text or "").lower().split())


def words(text: str) -> list[str]:
    """Surface words of ``text`` (normalized, unstemmed), CJK runs segmented by jieba."""
    out: list[str] = []
    for chunk in re.split(f"({_CJK.pattern})", normalize(text)):
        if not chunk:
            continue
        if _CJK.fullmatch(chunk):
            out.extend(w for w in _jieba().lcut_for_search(chunk) if w.strip())
        else:
            out.extend(_WORD.findall(chunk))
    return out


def segments(text: str) -> list[str]:
    """``text`` cut into words with its spaces kept, so ``"".join`` gives it back.

    Chinese runs are cut by jieba's default (not search) mode, other text at spaces.

    >>> segments("red 连衣裙")
    ['red', ' ', '连衣裙']
    """
    if not has_cjk(text):
        return re.split("( )", text)
    return [word for word, _, _ in _jieba().tokenize(text)]


def stem(tokens: list[str]) -> list[str]:
    """Stem Latin tokens (CJK and digits pass through unchanged)."""
    stemmer = _stemmer()
    if stemmer is None:
        return tokens
    return [t if _CJK.search(t) or t.isdigit() else stemmer.stemWord(t) for t in tokens]


def analyze(text: str) -> list[str]:
    """Index terms of ``text``: :func:`words` without stop words, stemmed."""
    return stem([w for w in words(text) if w not in STOP_WORDS])


def script_parts(text: str) -> list[str]:
    """A bilingual name split by script: its Chinese runs and its other-script remainder.

    >>> script_parts("连衣裙 Dresses")
    ['连衣裙', 'dresses']
    """
    text = normalize(text)
    latin = " ".join(_CJK.sub(" ", text).split())
    return [*_CJK.findall(text), *([latin] if latin else [])]


def has_cjk(text: str) -> bool:
    """Whether ``text`` contains Chinese characters."""
    return _CJK.search(text or "") is not None
