"""Autocomplete: prefix suggestions from catalog phrases and past searches, zh + en.

Every phrase (titles, brands, category names, past queries) is indexed under keys: its
normalized text and the text from each later word on (so "dress" completes "red dress"
and 连衣裙 completes 红色连衣裙: Chinese runs are cut into words by jieba), and, where
it holds Chinese, the full pinyin and pinyin initials of each of those ("hongse" and
"hslyq" → 红色连衣裙; "lianyiqun", or "pingguo" → "apple iphone 15 苹果手机").
Keys live in one sorted list; a prefix is a :func:`bisect` range. The best suggestions
of every one- and two-character prefix are precomputed, so short prefixes (the widest
ranges) cost a dictionary lookup; longer ones take the best-scored keys of their range
with one vectorized partial sort.

Scores: past searches count ``log1p(times searched) + 1`` (what shoppers type beats what
the catalog says), catalog phrases ``1 / (1 + words / 4)`` (short names before long
titles), brands and categories a little more.

Examples
--------
>>> s = Suggester().fit(titles=["红色连衣裙", "Red running shoes"], brands=["Nike"])
>>> s.suggest("hong")
['红色连衣裙']
>>> s.suggest("run")
['red running shoes']
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import numpy as np

from shopmind.search.analyze import has_cjk, normalize, segments

_PRECOMPUTED = 2  # prefixes up to this many characters are answered from a table
_MAX_WORDS = 8  # later-word keys are made for the first words of a title only


@lru_cache(maxsize=1)
def _pinyin() -> Any:
    import pypinyin  # optional: Chinese pinyin keys are skipped without it

    return pypinyin


@lru_cache(maxsize=65536)
def _syllables(word: str) -> tuple[str, ...]:
    """Pinyin syllables of a word (a Latin word stays one piece); words repeat in catalogs."""
    return tuple(s.strip() for s in _pinyin().lazy_pinyin(word))


def _keys(phrase: str) -> set[str]:
    """The keys ``phrase`` is found under: itself, its later words on, their pinyin."""
    words = segments(phrase)
    starts = [i for i, word in enumerate(words) if word.strip()][:_MAX_WORDS]
    keys = {phrase, *("".join(words[i:]) for i in starts)}
    if has_cjk(phrase):
        try:
            _pinyin()
        except ImportError:
            return {k for k in keys if k}
        syllables = [_syllables(word) for word in words]
        for i in starts[:1] + [i for i in starts[1:] if has_cjk(words[i])]:
            rest = [s for word in syllables[i:] for s in word if s]
            keys.add("".join(rest).replace(" ", ""))
            keys.add("".join(s[:1] for s in rest))
    return {k for k in keys if k}


class Suggester:
    """Prefix autocomplete over catalog phrases and past searches."""

    def fit(self, *, titles: Iterable[str] = (), brands: Iterable[str] = (),
            categories: Iterable[str] = (), searches: Iterable[str] = ()) -> Suggester:
        """Index the phrases; ``searches`` may repeat (each repeat counts)."""
        scores: dict[str, float] = {}

        def add(phrase: str, score: float) -> None:
            phrase = normalize(phrase)
            if phrase and len(phrase) <= 200:
                scores[phrase] = max(scores.get(phrase, 0.0), score)

        for title in titles:
            add(title, 1.0 / (1.0 + len(title.split()) / 4))
        for name in brands:
            add(name, 1.2)
        for name in categories:
            add(name, 1.1)
        for query, count in Counter(normalize(s) for s in searches).items():
            add(query, 1.0 + math.log1p(count))
        self.scores_ = scores
        pairs = sorted({(key, phrase) for phrase in scores for key in _keys(phrase)})
        self.keys_ = [k for k, _ in pairs]
        self.phrases_ = [p for _, p in pairs]
        self.key_scores_ = np.array([scores[p] for p in self.phrases_], dtype=np.float64)
        self.table_: dict[str, list[str]] = {}
        best: dict[str, list[tuple[float, str]]] = {}
        for key, phrase in pairs:
            for n in range(1, min(_PRECOMPUTED, len(key)) + 1):
                best.setdefault(key[:n], []).append((-scores[phrase], phrase))
        for prefix, entries in best.items():
            self.table_[prefix] = list(dict.fromkeys(p for _, p in sorted(entries)))[:20]
        return self

    def suggest(self, prefix: str, k: int = 8) -> list[str]:
        """Up to ``k`` completions of ``prefix``, best first."""
        prefix = normalize(prefix)[:100]
        if not prefix or not hasattr(self, "keys_"):
            return []
        if len(prefix) <= _PRECOMPUTED:
            return self.table_.get(prefix, [])[:k]
        start = bisect.bisect_left(self.keys_, prefix)
        stop = bisect.bisect_left(self.keys_, prefix + "\uffff", lo=start)
        window = self.key_scores_[start:stop]
        take = min(len(window), 4 * k)  # a phrase has several keys: leave room for repeats
        if not take:
            return []
        best = np.argpartition(-window, take - 1)[:take]
        found = {self.phrases_[start + int(i)] for i in best}
        return sorted(found, key=lambda p: (-self.scores_[p], p))[:k]
