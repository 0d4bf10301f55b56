"""Re-ranker features: the trigram match computed from codes built once per title."""

from __future__ import annotations

import numpy as np

from shopmind.search.features import code_text, shared_trigrams, trigram_codes


def _grams(terms: list[str]) -> set[str]:
    return {f" {t} "[i:i + 3] for t in terms for i in range(len(t))}


def test_codes_are_exactly_the_trigrams_of_the_terms() -> None:
    terms = ["cordless", "drill", "红色", "连衣裙", "x", "🙂ok"]
    assert {code_text(c) for c in trigram_codes(terms)} == _grams(terms)
    assert trigram_codes([]).dtype == np.int64 and len(trigram_codes([])) == 0


def test_shared_counts_match_set_intersections() -> None:
    query = ["cordless", "drill", "18v"]
    titles = [["dewalt", "cordless", "drill"], [], ["drills"], ["红色", "连衣裙"], ["18v"]]
    shared = shared_trigrams(trigram_codes(query), [trigram_codes(t) for t in titles])
    assert shared.tolist() == [len(_grams(query) & _grams(t)) for t in titles]
    assert shared_trigrams(trigram_codes(query), []).tolist() == []
