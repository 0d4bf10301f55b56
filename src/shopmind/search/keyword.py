"""Field-weighted BM25 keyword index (``bm25s``) over title, brand, colour, category, text.

Each field is its own BM25 index (Robertson & Zaragoza, *The Probabilistic Relevance
Framework: BM25 and Beyond*, 2009); a document's score is the weighted sum of its field
scores, title > brand > colour/category > description. Per-field scores are kept apart so
the learned re-ranker can weigh them itself.

Examples
--------
>>> import polars as pl
>>> from shopmind.search.catalog import normalize_catalog
>>> items = normalize_catalog(pl.DataFrame({"item_id": ["a", "b"],
...                                         "title": ["red dress", "blue laptop"]}))
>>> index = KeywordIndex().fit(items)
>>> index.search("dress", k=1)[0].tolist()
[0]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from shopmind.errors import NotFittedError
from shopmind.search.analyze import analyze
from shopmind.search.catalog import TEXT_FIELDS

FIELD_WEIGHTS: dict[str, float] = {"title": 3.0, "brand": 2.0, "color": 1.0,
                                   "category": 1.0, "description": 0.6}


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest ``scores``, best first (ties by index)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.lexsort((part, -scores[part]))]


class KeywordIndex:
    """BM25 per field, combined with ``field_weights``.

    Parameters
    ----------
    field_weights : dict, optional
        Weight per field of :data:`~shopmind.search.catalog.TEXT_FIELDS`
        (default :data:`FIELD_WEIGHTS`).
    k1, b : float
        BM25 term-frequency saturation and length normalization.
    """

    def __init__(self, *, field_weights: dict[str, float] | None = None, k1: float = 1.2,
                 b: float = 0.75) -> None:
        self.field_weights = field_weights
        self.k1 = k1
        self.b = b

    @property
    def weights_(self) -> np.ndarray:
        weights = self.field_weights or FIELD_WEIGHTS
        return np.array([weights.get(f, 0.0) for f in TEXT_FIELDS], dtype=np.float32)

    def fit(self, catalog: pl.DataFrame) -> KeywordIndex:
        """Index a normalized catalog (:func:`~shopmind.search.catalog.normalize_catalog`)."""
        import bm25s  # optional dependency of the search extra

        self.indexes_: list[Any] = []
        for field in TEXT_FIELDS:
            terms = [analyze(text) for text in catalog[field].to_list()]
            index = None  # a field empty in every document scores 0 (bm25s can't index it)
            if any(terms):
                index = bm25s.BM25(k1=self.k1, b=self.b)
                index.index(terms, show_progress=False)
            self.indexes_.append(index)
        self.n_docs_ = catalog.height
        return self

    def field_scores(self, terms: list[str]) -> np.ndarray:
        """(n_fields, n_docs) BM25 scores of analysed query ``terms`` per field."""
        if not hasattr(self, "indexes_"):
            raise NotFittedError("KeywordIndex is not fitted; call fit(catalog) first")
        if not terms:
            return np.zeros((len(TEXT_FIELDS), self.n_docs_), dtype=np.float32)
        zeros = np.zeros(self.n_docs_, dtype=np.float32)
        return np.stack([zeros if ix is None else
                         np.asarray(ix.get_scores(terms), dtype=np.float32)
                         for ix in self.indexes_])

    def scores(self, query: str) -> np.ndarray:
        """(n_docs,) weighted BM25 score of ``query``."""
        return self.weights_ @ self.field_scores(analyze(query))

    def search(self, query: str, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Row indices and scores of the ``k`` best documents (score > 0 only)."""
        scores = self.scores(query)
        rows = top_k(scores, k)
        rows = rows[scores[rows] > 0]
        return rows, scores[rows]
