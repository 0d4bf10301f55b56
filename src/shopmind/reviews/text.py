"""Text preparation shared by every review model: normalization, tokens, language, clauses.

Chinese has no spaces, so words come from ``jieba`` (imported lazily, once); Latin-script
words come out of the same call. Every function is pure and works on a list at a time.

>>> normalize("ＧＯＯＤ  quality！")
'good quality!'
>>> language("质量很好") , language("great sound"), language("音质 great")
('zh', 'en', 'mixed')
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from functools import cache
from typing import Any, Literal

Language = Literal["zh", "en", "mixed", "none"]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_WORDLIKE = re.compile(r"\w", re.UNICODE)
# a full stop or comma between digits ($19.99, 1,299) and 但 in 不但 ("not only") split
# nothing; 就是 ("it is just") is no contrast of its own
_CLAUSE_SPLIT = re.compile(r"(?:(?<!\d)[,.]|[,.](?!\d)|[;!?，。；！？、\n])+"
                           r"|\s+(?:but|however|though|although)\s+"
                           r"|(?<!不)但是|不过|可是|(?<!不)但|然而")

#: Longest text (characters) a model reads; the rest of a 1 MB paste adds nothing.
MAX_CHARS = 5_000


def encodable(text: str) -> str:
    """``text`` with lone surrogates (which no UTF-8 encoder accepts) replaced by ``?``.

    >>> encodable("good \\ud800")
    'good ?'
    """
    return text.encode("utf-8", "replace").decode("utf-8")


def normalize(text: str | None) -> str:
    """NFKC (full-width → half-width), lower case, collapsed whitespace, capped length."""
    cut = encodable(unicodedata.normalize("NFKC", text or "")[:MAX_CHARS])
    return " ".join(cut.lower().split())


@cache
def _jieba() -> Any:
    import jieba  # optional heavy import: dictionary loads on first use

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokens(text: str) -> list[str]:
    """Words of a normalized text (jieba for Chinese, whole words for Latin scripts).

    >>> tokens("not good 不好用")
    ['not', 'good', '不好', '用']
    >>> tokens("works w/ wi-fi, 5.0 stars: 100% café")
    ['works', 'w', 'wi', 'fi', '5.0', 'stars', '100%', 'caf', 'é']
    """
    if _CJK.search(text) or _JIEBA_ASCII_WORD_CHARS.search(text):
        return [t for t in _jieba().lcut(text) if _WORDLIKE.search(t)]
    return [t for t in _latin_pieces(text) if _WORDLIKE.search(t)]


#: Every multi-character ASCII word of jieba's dictionary (AT&T, C#, C++) holds one of these.
_JIEBA_ASCII_WORD_CHARS = re.compile(r"[#+&]")
_JIEBA_BLOCK = re.compile(r"([\u4E00-\u9FD5a-zA-Z0-9+#&._%\-]+)")  # jieba's re_han_default
_JIEBA_ALNUM = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")  # jieba.finalseg's re_skip


def _latin_pieces(text: str) -> list[str]:
    """jieba's pieces of a text without Chinese characters, without its dictionary walk.

    jieba cuts runs of ``[a-zA-Z0-9+#&._%-]`` into letter/digit words (a decimal and a
    percent sign stay on) and whatever lies between them, and every other character into
    itself. Same output as ``jieba.lcut`` on 68k English reviews, titles, questions and
    support messages, 6x faster; jieba's few ASCII dictionary words are left to jieba.
    """
    pieces: list[str] = []
    for block in _JIEBA_BLOCK.split(text):
        if not block:
            continue
        if _JIEBA_BLOCK.fullmatch(block):
            pieces.extend(p for p in _JIEBA_ALNUM.split(block) if p)
        else:
            pieces.extend(block)
    return pieces


def language(text: str) -> Language:
    """``zh``/``en``/``mixed`` by the scripts present (``none``: neither, e.g. emoji only)."""
    has_cjk, has_latin = bool(_CJK.search(text)), bool(_LATIN.search(text))
    if has_cjk and has_latin:
        # a product name inside a Chinese sentence is still a Chinese review
        latin = len(_LATIN.findall(text))
        return "zh" if latin < 2 * len(_CJK.findall(text)) else "mixed"
    return "zh" if has_cjk else "en" if has_latin else "none"


def clauses(text: str) -> list[str]:
    """Split a review into clauses at punctuation and contrast words (but, 但是 …).

    >>> clauses("物流很快，但是包装破了")
    ['物流很快', '包装破了']
    >>> clauses("不但便宜而且质量好. price is $19.99, worth it")
    ['不但便宜而且质量好', 'price is $19.99', 'worth it']
    """
    return [c.strip() for c in _CLAUSE_SPLIT.split(text) if c and c.strip()]


def has_words(text: str) -> bool:
    """Whether ``text`` holds a letter, digit or Chinese character (emoji and punctuation
    alone do not count).

    >>> has_words("ok!"), has_words("😀😀🔥 !!"), has_words("")
    (True, False, False)
    """
    return _WORDLIKE.search(text) is not None


def normalize_all(texts: Sequence[str | None]) -> list[str]:
    """:func:`normalize` over a batch."""
    return [normalize(t) for t in texts]
