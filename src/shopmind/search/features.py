"""Features of (query, candidate) pairs for the learned re-ranker.

Lexical (BM25 per field and weighted, its rank), dense (cosine, its rank, its gap to the
query's best), field match (share of query terms in the title / anywhere, exact phrase,
adjacent-pair matches, numbers), brand and colour named in the query, and popularity.
Scores are also given relative to the query's best candidate, so one model transfers
between catalogs whose raw BM25 scales differ.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from shopmind.search.analyze import analyze, normalize
from shopmind.search.catalog import TEXT_FIELDS

FEATURE_NAMES: tuple[str, ...] = (
    *(f"bm25_{f}" for f in TEXT_FIELDS),
    "bm25", "bm25_rel", "bm25_log_rank", "cos", "cos_gap", "cos_log_rank", "rrf",
    "title_coverage", "any_coverage", "title_phrase", "title_pairs", "numbers_match",
    "query_terms", "title_terms", "brand_in_query", "color_in_query", "description_chars",
    "log_popularity", "title_idf_coverage", "any_idf_coverage", "cos_z",
    "title_trigram_containment", "title_trigram_jaccard",
)


def trigram_codes(terms: list[str]) -> np.ndarray:
    """Sorted distinct character trigrams of terms, word boundaries marked, as int64 codes
    (three 21-bit code points: exact, no hashing) for a spelling-tolerant match.

    >>> [code_text(c) for c in trigram_codes(["drill"])]
    [' dr', 'dri', 'ill', 'll ', 'ril']
    """
    codes: set[int] = set()
    for term in terms:
        o = [ord(c) for c in f" {term} "]
        codes.update((o[i] << 42) | (o[i + 1] << 21) | o[i + 2] for i in range(len(o) - 2))
    return np.array(sorted(codes), dtype=np.int64)


def code_text(code: int) -> str:
    """The trigram a :func:`trigram_codes` code stands for."""
    mask = (1 << 21) - 1
    return "".join(chr((int(code) >> shift) & mask) for shift in (42, 21, 0))


def shared_trigrams(query: np.ndarray, documents: list[np.ndarray]) -> np.ndarray:
    """(len(documents),) how many of the ``query`` codes each document's codes hold."""
    if not documents:
        return np.zeros(0)
    lengths = np.fromiter((len(d) for d in documents), dtype=np.int64, count=len(documents))
    hits = np.isin(np.concatenate(documents), query)
    owner = np.repeat(np.arange(len(documents)), lengths)
    return np.bincount(owner, weights=hits, minlength=len(documents))


@dataclass
class DocumentTerms:
    """Per-document analysed terms, computed once when the index is built."""

    title: list[list[str]]
    title_grams: list[np.ndarray]  # trigram_codes of each title, built once
    anywhere: list[frozenset[str]]
    brand: list[str]
    color: list[str]
    description_chars: np.ndarray
    log_popularity: np.ndarray
    document_frequency: Counter[str] = field(default_factory=Counter)

    def idf(self, term: str) -> float:
        """``log(1 + n / (1 + df))`` over titles and short fields."""
        return math.log1p(len(self.title) / (1 + self.document_frequency.get(term, 0)))

    @classmethod
    def from_catalog(cls, catalog: pl.DataFrame) -> DocumentTerms:
        """Analyse title and all fields of a normalized catalog."""
        title = [analyze(t) for t in catalog["title"].to_list()]
        other = [analyze(" ".join(parts)) for parts in
                 catalog.select("brand", "color", "category").iter_rows()]
        anywhere = [frozenset(t) | frozenset(o) for t, o in zip(title, other, strict=True)]
        return cls(
            title=title,
            title_grams=[trigram_codes(t) for t in title],
            anywhere=anywhere,
            brand=[normalize(b) for b in catalog["brand"].to_list()],
            color=[normalize(c) for c in catalog["color"].to_list()],
            description_chars=np.log1p(catalog["description"].str.len_chars().to_numpy()
                                       ).astype(np.float32),
            log_popularity=np.log1p(catalog["popularity"].to_numpy()).astype(np.float32),
            document_frequency=Counter(t for terms in anywhere for t in terms),
        )

    def extend(self, other: DocumentTerms) -> None:
        """Append the terms of new documents (incremental upsert)."""
        self.title += other.title
        self.title_grams += other.title_grams
        self.anywhere += other.anywhere
        self.brand += other.brand
        self.color += other.color
        self.description_chars = np.concatenate([self.description_chars,
                                                 other.description_chars])
        self.log_popularity = np.concatenate([self.log_popularity, other.log_popularity])
        self.document_frequency.update(other.document_frequency)

    def replace(self, rows: list[int], other: DocumentTerms) -> None:
        """Overwrite the terms of existing documents at ``rows``."""
        for i, row in enumerate(rows):
            self.document_frequency.subtract(self.anywhere[row])
            self.document_frequency.update(other.anywhere[i])
            self.title[row] = other.title[i]
            self.title_grams[row] = other.title_grams[i]
            self.anywhere[row] = other.anywhere[i]
            self.brand[row] = other.brand[i]
            self.color[row] = other.color[i]
            self.description_chars[row] = other.description_chars[i]
            self.log_popularity[row] = other.log_popularity[i]


def _log_rank(rows: np.ndarray, ranked: np.ndarray, missing: int) -> np.ndarray:
    position = {r: i for i, r in enumerate(ranked.tolist())}
    return np.log1p(np.array([position.get(r, missing) for r in rows.tolist()],
                             dtype=np.float32))


def candidate_features(query: str, rows: np.ndarray, field_scores: np.ndarray,
                       weights: np.ndarray, cosines: np.ndarray, keyword_ranked: np.ndarray,
                       dense_ranked: np.ndarray, rrf: np.ndarray, docs: DocumentTerms
                       ) -> np.ndarray:
    """(len(rows), len(FEATURE_NAMES)) float32 features of one query's candidates.

    ``field_scores`` is (n_fields, len(rows)) BM25 per field, ``cosines`` the candidates'
    dense similarities, ``keyword_ranked``/``dense_ranked`` each retriever's ranked rows.
    """
    n = len(rows)
    terms = analyze(query)
    term_set = set(terms)
    pairs = set(itertools.pairwise(terms))
    numbers = {t for t in terms if t.isdigit()}
    query_grams = trigram_codes(terms)
    idf = {t: docs.idf(t) for t in term_set}
    idf_total = max(sum(idf.values()), 1e-6)
    text = normalize(query)
    bm25 = weights @ field_scores
    out = np.zeros((n, len(FEATURE_NAMES)), dtype=np.float32)
    out[:, :len(TEXT_FIELDS)] = field_scores.T
    col = len(TEXT_FIELDS)
    out[:, col] = bm25
    out[:, col + 1] = bm25 / max(float(bm25.max(initial=0.0)), 1e-6)
    out[:, col + 2] = _log_rank(rows, keyword_ranked, 1000)
    out[:, col + 3] = cosines
    out[:, col + 4] = cosines - float(cosines.max(initial=0.0))
    out[:, col + 5] = _log_rank(rows, dense_ranked, 1000)
    out[:, col + 6] = rrf
    for i, row in enumerate(rows.tolist()):
        title = docs.title[row]
        title_set = set(title)
        out[i, col + 7] = len(term_set & title_set) / max(len(term_set), 1)
        out[i, col + 8] = len(term_set & docs.anywhere[row]) / max(len(term_set), 1)
        out[i, col + 9] = float(bool(terms) and " ".join(terms) in " ".join(title))
        out[i, col + 10] = (len(pairs & set(itertools.pairwise(title)))
                            / max(len(pairs), 1))
        out[i, col + 11] = len(numbers & title_set) / len(numbers) if numbers else -1.0
        out[i, col + 13] = len(title)
        out[i, col + 18] = sum(idf[t] for t in term_set & title_set) / idf_total
        out[i, col + 19] = sum(idf[t] for t in term_set & docs.anywhere[row]) / idf_total
        brand, color = docs.brand[row], docs.color[row]
        out[i, col + 14] = float(bool(brand) and brand in text) - float(not brand)
        out[i, col + 15] = float(bool(color) and color in text) - float(not color)
    title_grams = [docs.title_grams[row] for row in rows.tolist()]
    shared = shared_trigrams(query_grams, title_grams)
    union = len(query_grams) + np.array([len(g) for g in title_grams]) - shared
    out[:, col + 21] = shared / max(len(query_grams), 1)
    out[:, col + 22] = shared / np.maximum(union, 1)
    out[:, col + 12] = len(terms)
    out[:, col + 16] = docs.description_chars[rows]
    out[:, col + 17] = docs.log_popularity[rows]
    if n:
        out[:, col + 20] = (cosines - cosines.mean()) / max(float(cosines.std()), 1e-6)
    return out
