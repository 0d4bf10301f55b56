"""Offline search evaluation: every judged query ranks the whole products file.

NDCG@10 uses linear gains with the ideal ranking built from all the query's judgments;
recall@100 is the share of a query's relevant (gain > 0) products in its top 100 — for
``hybrid`` that is the fused candidate list the re-ranker reorders, i.e. the candidate
stage. Latency is wall time per query, embedding the query included.

Examples
--------
>>> from shopmind.text.embeddings import HashingBackend
>>> import polars as pl
>>> products = pl.DataFrame({"product_id": ["1", "2"], "title": ["red dress", "laptop"]})
>>> judgments = pl.DataFrame({"query_id": ["q"], "query": ["dress"], "product_id": ["1"],
...                           "gain": [1.0]})
>>> evaluate_search(judgments, products, backend=HashingBackend(dim=64))["ndcg@10"]
1.0
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from shopmind.errors import InputError
from shopmind.evaluation.metrics import graded_ndcg_at_k
from shopmind.search.index import CANDIDATES, MODES, SearchIndex
from shopmind.search.judgments import QuerySet
from shopmind.search.reranker import Reranker
from shopmind.text.embeddings import Backend

logger = logging.getLogger(__name__)


def evaluate_index(index: SearchIndex, queries: QuerySet, mode: str = "hybrid",
                   progress: Callable[[int], None] | None = None,
                   vectors: np.ndarray | None = None) -> dict[str, Any]:
    """NDCG@10, recall@100 and per-query latency of ``mode`` on a built index.

    ``vectors``: query vectors embedded beforehand (then latency excludes embedding);
    by default each query is embedded inside its timed call.
    """
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    rankings: list[list[str]] = []
    candidates: list[list[str]] = []
    seconds = np.zeros(len(queries.queries))
    for q, query in enumerate(queries.queries):
        start = time.perf_counter()
        vector = (vectors[q] if vectors is not None else
                  None if mode == "bm25" else index.embed_query(query))  # once, timed
        rows, _ = index.rank(query, k=CANDIDATES, mode=mode,  # type: ignore[arg-type]
                             vector=vector)
        seconds[q] = time.perf_counter() - start
        rankings.append(index.item_ids(rows))
        if mode == "hybrid":  # recall of the candidate stage the re-ranker reorders
            rows, _ = index.rank(query, k=CANDIDATES, mode="rrf", vector=vector)
            candidates.append(index.item_ids(rows))
        if progress is not None:
            progress(q + 1)
    ndcg = graded_ndcg_at_k(queries.ranked_gains(rankings, 10), queries.ideal_gains(), 10)
    return {
        "ndcg@10": round(ndcg, 4),
        "recall@100": round(queries.recall(candidates or rankings, 100), 4),
        "n_queries": len(queries.queries),
        "n_queries_without_relevant": queries.without_relevant(),
        "mode": mode,
        "p99_ms": round(float(np.percentile(seconds, 99) * 1000), 2) if len(seconds) else 0.0,
        "p50_ms": round(float(np.percentile(seconds, 50) * 1000), 2) if len(seconds) else 0.0,
        "reranker": mode == "hybrid" and index.reranker is not None,
        "latency_includes_embedding": vectors is None and mode != "bm25",
    }


def evaluate_search(judgments: pl.DataFrame, products: pl.DataFrame, *, mode: str = "hybrid",
                    backend: Backend | None, reranker: Reranker | None = None,
                    cache_dir: str | Path | None = None,
                    progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Build an index of ``products`` and evaluate ``mode`` on ``judgments``.

    Nothing is learned from ``judgments``: the re-ranker is given (the shipped model).
    ``backend`` None (enough for ``bm25``) skips embedding the products.
    """
    start = time.perf_counter()
    index = SearchIndex(backend, reranker=reranker, cache_dir=cache_dir).fit(products)
    built = time.perf_counter() - start
    result = evaluate_index(index, QuerySet.from_judgments(judgments), mode, progress)
    result["n_products"] = index.catalog_.height
    result["index_seconds"] = round(built, 1)
    result["backend"] = backend.name if backend is not None else None
    return result
