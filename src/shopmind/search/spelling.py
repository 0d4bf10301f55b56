"""Spelling tolerance: correct query words that the catalog never uses ("did you mean").

Symmetric-delete candidate generation (Garbe, SymSpell, 2012): every catalog word is
indexed under itself and its one-character deletions; a query word's own deletions
look candidates up, which finds every word within Damerau–Levenshtein distance 2 of it
in O(len) lookups. Among candidates the closest, then the most frequent, wins. Only
Latin words of four or more letters are corrected; Chinese is left alone.

Examples
--------
>>> speller = SpellChecker().fit(["wireless headphones", "running shoes"])
>>> speller.correct("wireles headphons")
'wireless headphones'
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from shopmind.search.analyze import normalize, words

_MIN_LEN = 4


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance (Levenshtein plus adjacent transpositions)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


class SpellChecker:
    """Catalog-vocabulary spelling correction."""

    def fit(self, texts: Iterable[str]) -> SpellChecker:
        """Learn the vocabulary and word frequencies of ``texts``."""
        self.counts_: Counter[str] = Counter(w for t in texts for w in words(t))
        self.lookup_: dict[str, set[str]] = defaultdict(set)
        for word in self.counts_:
            if len(word) >= _MIN_LEN and word.isalpha() and word.isascii():
                self.lookup_[word].add(word)
                for d in _deletes(word):
                    self.lookup_[d].add(word)
        return self

    def suggest(self, word: str) -> str:
        """The best correction of one word (the word itself when known or hopeless)."""
        if (word in self.counts_ or len(word) < _MIN_LEN or not word.isalpha()
                or not word.isascii()):
            return word
        candidates: set[str] = set(self.lookup_.get(word, ()))
        for d in _deletes(word):
            candidates |= self.lookup_.get(d, set())
        limit = 1 if len(word) <= 5 else 2
        # the first letter is kept: typos there are rare, and an unknown name is more
        # often a word of its own than a slip ("iphone" is not "phone", "price" not "rice")
        scored = [(edit_distance(word, c), -self.counts_[c], c) for c in candidates
                  if c[:1] == word[:1]]
        scored = [s for s in scored if s[0] <= limit]
        return min(scored)[2] if scored else word

    def correct(self, query: str) -> str:
        """``query`` (normalized) with unknown words replaced by their corrections."""
        text = normalize(query)
        out = text
        for word in set(words(text)):
            fixed = self.suggest(word)
            if fixed != word:
                out = " ".join(fixed if w == word else w for w in out.split(" "))
        return out
