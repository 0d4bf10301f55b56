"""The searchable catalog: keyword + dense indexes, fusion and the learned re-ranker.

Modes of :meth:`SearchIndex.rank`:

* ``bm25`` — field-weighted BM25 alone;
* ``dense`` — the embedding ANN alone;
* ``rrf`` — reciprocal-rank fusion of the two candidate lists;
* ``hybrid`` (default) — the union of both candidate lists (:data:`CANDIDATES` each),
  re-scored by the learned re-ranker; RRF when no re-ranker is available.

Documents are embedded through :mod:`shopmind.text.embeddings` (one backend for the whole
project, vectors cached by content hash); :meth:`SearchIndex.upsert` adds or replaces items
(the dense index in place, the BM25 fields are re-indexed: bm25s has no delta update).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from shopmind.errors import InputError
from shopmind.search.analyze import analyze
from shopmind.search.catalog import dense_texts, normalize_catalog
from shopmind.search.dense import DenseIndex
from shopmind.search.features import DocumentTerms, candidate_features
from shopmind.search.fusion import reciprocal_rank_fusion
from shopmind.search.keyword import KeywordIndex, top_k
from shopmind.search.reranker import Reranker
from shopmind.text.embeddings import Backend

logger = logging.getLogger(__name__)

Mode = Literal["hybrid", "rrf", "bm25", "dense"]
MODES: tuple[str, ...] = ("hybrid", "rrf", "bm25", "dense")
CANDIDATES = 100  # rows each retriever contributes to fusion and re-ranking
MAX_QUERY_CHARS = 512  # longer queries are cut: nobody types more, and cost grows with it


@dataclass
class Candidates:
    """One query's fused candidates with their re-ranker features."""

    rows: np.ndarray  # (n,) catalog rows in RRF order
    rrf: np.ndarray  # (n,)
    features: np.ndarray  # (n, n_features)


@dataclass
class BuildStats:
    """What building an index cost."""

    items: int
    seconds_keyword: float
    seconds_embed: float
    seconds_dense: float


class SearchIndex:
    """Keyword + dense indexes over one catalog, with fusion and re-ranking.

    Parameters
    ----------
    backend : Backend or None
        Text-embedding backend (``e5`` for quality, ``hashing`` in unit tests); None
        builds the keyword side only (mode ``bm25``).
    reranker : Reranker or None
        Learned re-ranker for ``hybrid``; None falls back to RRF.
    cache_dir : path or None
        Where document vectors are cached by content hash.
    """

    def __init__(self, backend: Backend | None, *, reranker: Reranker | None = None,
                 cache_dir: str | Path | None = None) -> None:
        self.backend = backend
        self.reranker = reranker
        self.cache_dir = cache_dir

    def fit(self, items: pl.DataFrame, vectors: np.ndarray | None = None) -> SearchIndex:
        """Index ``items`` (store items or a products CSV frame, see
        :func:`~shopmind.search.catalog.normalize_catalog`).

        ``vectors``: document vectors computed elsewhere (one row per distinct item, in
        order, from this index's backend); by default the items' texts are embedded.
        """
        catalog = normalize_catalog(items)
        if vectors is not None and len(vectors) != catalog.height:
            raise InputError(f"vectors must have one row per item ({catalog.height}), "
                             f"got {len(vectors)}")
        start = time.perf_counter()
        self.keyword_ = KeywordIndex().fit(catalog)
        self.docs_ = DocumentTerms.from_catalog(catalog)
        keyword_done = time.perf_counter()
        if vectors is None and self.backend is not None:
            vectors = self.backend.embed(dense_texts(catalog), cache_dir=self.cache_dir)
        embed_done = time.perf_counter()
        self.dense_: DenseIndex | None = (None if vectors is None else
                       DenseIndex().upsert(np.arange(catalog.height), vectors))
        self.catalog_ = catalog
        self.row_of_ = {item: row for row, item in enumerate(catalog["item_id"].to_list())}
        self.stats_ = BuildStats(catalog.height, keyword_done - start, embed_done - keyword_done,
                                 time.perf_counter() - embed_done)
        return self

    def upsert(self, items: pl.DataFrame) -> SearchIndex:
        """Add new items and replace changed ones (same ``item_id``)."""
        new = normalize_catalog(items)
        known = [self.row_of_.get(i) for i in new["item_id"].to_list()]
        old_rows = [r for r in known if r is not None]
        fresh = new.filter(pl.Series([r is None for r in known]))
        changed = new.filter(pl.Series([r is not None for r in known]))
        catalog = self.catalog_
        if changed.height:
            catalog = catalog.update(changed, on="item_id")
            self.docs_.replace(old_rows, DocumentTerms.from_catalog(changed))
        if fresh.height:
            catalog = pl.concat([catalog, fresh], how="vertical_relaxed")
            self.docs_.extend(DocumentTerms.from_catalog(fresh))
        start = len(self.catalog_)
        rows = np.array(old_rows + list(range(start, start + fresh.height)), dtype=np.int64)
        ordered = pl.concat([changed, fresh], how="vertical_relaxed")
        if self.dense_ is not None and self.backend is not None:
            self.dense_.upsert(rows, self.backend.embed(dense_texts(ordered),
                                                        cache_dir=self.cache_dir))
        self.catalog_ = catalog
        self.row_of_ = {item: row for row, item in enumerate(catalog["item_id"].to_list())}
        self.keyword_ = KeywordIndex().fit(catalog)
        return self

    def embed_query(self, query: str) -> np.ndarray:
        """The query's vector (e5: with the ``query: `` prefix)."""
        if self.backend is None:
            raise InputError("this index has no embedding backend: only mode 'bm25' works")
        return self.backend.embed_queries([clip_query(query)])[0]

    def candidates(self, query: str, vector: np.ndarray | None = None,
                   depth: int = CANDIDATES, allowed: np.ndarray | None = None) -> Candidates:
        """Union of the BM25 and dense top-``depth`` rows with their features.

        ``allowed`` (a boolean mask over the catalog) restricts both retrievers to the
        rows that pass the filters; the dense side then scores those rows exactly.
        """
        query = clip_query(query)
        vector = self.embed_query(query) if vector is None else vector
        dense = self._dense()
        field_scores = self.keyword_.field_scores(analyze(query))
        weights = self.keyword_.weights_
        bm25 = weights @ field_scores
        if allowed is not None:
            bm25 = np.where(allowed, bm25, 0.0)
        keyword_rows = top_k(bm25, depth)
        keyword_rows = keyword_rows[bm25[keyword_rows] > 0]
        if allowed is None:
            dense_rows, _ = dense.search(vector, depth)
        else:
            pool = np.flatnonzero(allowed)
            dense_rows = pool[top_k(dense.similarity(vector, pool), depth)]
        rows, rrf = reciprocal_rank_fusion([keyword_rows, dense_rows])
        features = candidate_features(query, rows, field_scores[:, rows], weights,
                                      dense.similarity(vector, rows), keyword_rows,
                                      dense_rows, rrf.astype(np.float32), self.docs_)
        return Candidates(rows, rrf, features)

    def rank(self, query: str, k: int = 10, mode: Mode = "hybrid",
             vector: np.ndarray | None = None, allowed: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
        """Catalog rows and scores of the ``k`` best items for ``query``, best first."""
        if mode not in MODES:
            raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        query = clip_query(query)
        if mode == "bm25":
            if allowed is None:
                return self.keyword_.search(query, k)
            return _masked_top(self.keyword_.scores(query), allowed, k, positive_only=True)
        vector = self.embed_query(query) if vector is None else vector
        if mode == "dense":
            if allowed is None:
                return self._dense().search(vector, k)
            scores = self._dense().similarity(vector, np.arange(len(self.catalog_)))
            return _masked_top(scores, allowed, k, positive_only=False)
        found = self.candidates(query, vector, max(k, CANDIDATES), allowed)
        if mode == "rrf" or self.reranker is None or len(found.rows) == 0:
            return found.rows[:k], found.rrf[:k]
        scores = self.reranker.predict(found.features)
        order = np.lexsort((np.arange(len(scores)), -scores))[:k]
        return found.rows[order], scores[order]

    def _dense(self) -> DenseIndex:
        if self.dense_ is None:
            raise InputError("this index has no dense side (built without an embedding "
                             "backend): only mode 'bm25' works")
        return self.dense_

    def item_ids(self, rows: np.ndarray) -> list[str]:
        """Item ids of catalog rows."""
        return self.catalog_["item_id"].gather(rows).to_list() if len(rows) else []


def _masked_top(scores: np.ndarray, allowed: np.ndarray, k: int, *, positive_only: bool
                ) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` rows among ``allowed`` (and with a positive score if ``positive_only``)."""
    scores = np.where(allowed, scores, -np.inf)
    rows = top_k(scores, k)
    keep = np.isfinite(scores[rows]) & ((scores[rows] > 0) | (not positive_only))
    return rows[keep], scores[rows[keep]]


def clip_query(query: str) -> str:
    """``query`` cut to :data:`MAX_QUERY_CHARS` characters."""
    return (query or "")[:MAX_QUERY_CHARS]
