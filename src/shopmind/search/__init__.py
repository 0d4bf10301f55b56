"""Hybrid product search: BM25 per field + e5 vectors (faiss HNSW) → RRF → learned
re-ranker, with query understanding, spelling, autocomplete, filters, facets and a
personal re-rank. See ``docs/search.md``.

Importing this package loads nothing heavy; the indexes import bm25s, faiss, jieba and
LightGBM when they are first used.
"""

from shopmind.search.engine import SearchEngine, SearchHit, SearchResponse
from shopmind.search.events import search_event
from shopmind.search.filters import Filters
from shopmind.search.index import SearchIndex

__all__ = ["Filters", "SearchEngine", "SearchHit", "SearchIndex", "SearchResponse",
           "search_event"]
