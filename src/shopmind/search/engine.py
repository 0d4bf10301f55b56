"""Product search as a shopper sees it: understand the query, retrieve with filters,
correct spelling, relax constraints when nothing matches, personalize, add facets.

Examples
--------
>>> import polars as pl
>>> from shopmind.text.embeddings import HashingBackend
>>> items = pl.DataFrame({"item_id": ["1", "2"], "title": ["red dress", "blue dress"],
...                       "price": [30.0, 300.0]})
>>> engine = SearchEngine.build(items, HashingBackend(dim=64), reranker=None)
>>> [r.item_id for r in engine.search("dress under 100").results]
['1']
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from shopmind.errors import InputError
from shopmind.search.analyze import analyze, normalize, script_parts
from shopmind.search.filters import Filters, allowed_mask, facets, filter_columns
from shopmind.search.index import MAX_QUERY_CHARS, Mode, SearchIndex
from shopmind.search.keyword import top_k
from shopmind.search.personalize import NO_PROFILE, NO_USER, OFF, personal_boosts, personalize
from shopmind.search.query import COLORS, ParsedQuery, parse_query
from shopmind.search.reranker import Reranker, shipped_reranker
from shopmind.search.spelling import SpellChecker
from shopmind.search.suggest import Suggester
from shopmind.text.embeddings import Backend

_POOL = 100  # results ranked before personalization, facets and the final cut
_DEFAULT = object()


@dataclass
class SearchHit:
    """One result with the reason for its place."""

    item_id: str
    title: str
    brand: str
    category: str
    price: float | None
    in_stock: bool
    score: float
    reason: str


@dataclass
class SearchResponse:
    """Results plus what the engine understood and changed."""

    query: str
    results: list[SearchHit]
    total: int
    facets: dict[str, Any]
    filters: dict[str, Any]
    mode: str
    did_you_mean: str | None = None
    relaxed: list[str] = field(default_factory=list)
    message: str | None = None
    personalized: bool = False
    took_ms: float = 0.0


class SearchEngine:
    """A :class:`SearchIndex` with query understanding, spelling, autocomplete and
    personalization."""

    def __init__(self, index: SearchIndex, *, searches: Iterable[str] = ()) -> None:
        self.index = index
        self.searches = list(searches)
        self._refresh()

    @classmethod
    def build(cls, items: pl.DataFrame, backend: Backend, *,
              reranker: Reranker | object | None = _DEFAULT,
              cache_dir: str | Path | None = None, searches: Iterable[str] = (),
              vectors: np.ndarray | None = None) -> SearchEngine:
        """Index ``items``; ``reranker`` defaults to the model shipped in the package;
        ``vectors`` are precomputed document vectors (see :meth:`SearchIndex.fit`)."""
        chosen = shipped_reranker() if reranker is _DEFAULT else reranker
        index = SearchIndex(backend, reranker=chosen,  # type: ignore[arg-type]
                            cache_dir=cache_dir).fit(items, vectors)
        return cls(index, searches=searches)

    def _refresh(self) -> None:
        catalog = self.index.catalog_
        self.filter_columns_ = filter_columns(catalog)
        self.brands_ = sorted({normalize(b) for b in catalog["brand"].to_list() if b})
        leaves = {normalize(c.rsplit(">", 1)[-1]) for c in catalog["category"].to_list() if c}
        # "连衣裙 Dresses": either language names the category
        self.categories_ = sorted(leaves | {p for leaf in leaves for p in script_parts(leaf)})
        self.speller_ = SpellChecker().fit(
            catalog.select(pl.concat_str(["title", "brand", "category"], separator=" "))
            .to_series().to_list())
        self.suggester_ = Suggester().fit(titles=catalog["title"].to_list(),
                                          brands=catalog["brand"].to_list(),
                                          categories=self.categories_,
                                          searches=self.searches)

    def upsert(self, items: pl.DataFrame) -> SearchEngine:
        """Add or replace items and refresh vocabulary and suggestions."""
        self.index.upsert(items)
        self._refresh()
        return self

    def record_search(self, query: str) -> None:
        """Remember a past search for autocomplete (refreshed on the next upsert)."""
        if query.strip():
            self.searches.append(query)

    def suggest(self, prefix: str, k: int = 8) -> list[str]:
        """Autocomplete ``prefix`` from catalog phrases and past searches."""
        return self.suggester_.suggest(prefix, k)

    def search(self, query: str, *, k: int = 10, filters: Filters | None = None,
               profile: Mapping[str, Any] | None = None, personalized: bool = True,
               mode: Mode = "hybrid") -> SearchResponse:
        """Search the catalog; see the module docstring for the steps.

        ``profile`` is None when no user is given, and an empty mapping for a user without
        a profile (the results' reasons say which).
        """
        start = time.perf_counter()
        if k < 1 or k > _POOL:
            raise InputError(f"k must be between 1 and {_POOL}, got {k}")
        filters = filters or Filters()
        query = " ".join((query or "").split())[:MAX_QUERY_CHARS]
        if not query and not filters.active:
            raise InputError("query must not be empty (give a query or at least one filter)")
        parsed = parse_query(query, brands=self.brands_, categories=self.categories_)
        text = parsed.text
        corrected = self.speller_.correct(text) if text else text
        did_you_mean = corrected if corrected != normalize(text) else None
        understood = Filters.from_query(parsed)
        rows, scores, relaxed = self._retrieve(corrected, filters, understood, parsed, mode)
        notes = [f"showing results for '{did_you_mean}'"] if did_you_mean else []
        if relaxed and len(rows):
            notes.append("no results matched " + ", ".join(relaxed) + "; showing results "
                         "without " + ("it" if len(relaxed) == 1 else "them"))
        elif not len(rows):
            notes = ["no results" + (f" (also tried without {', '.join(relaxed)})"
                                     if relaxed else "")]
        message = "; ".join(notes) or None
        reasons = [OFF] * len(rows)
        if personalized and profile and len(rows):
            part = self.index.catalog_[rows]
            boosts, reasons = personal_boosts(profile, part["brand"].to_list(),
                                              part["category"].to_list(),
                                              part["price"].to_list())
            scores = personalize(scores, boosts)
            order = np.lexsort((np.arange(len(rows)), -scores))
            rows, scores, reasons = rows[order], scores[order], [reasons[i] for i in order]
        elif personalized:
            reasons = [NO_USER if profile is None else NO_PROFILE] * len(rows)
        hits = self._hits(rows[:k], scores[:k], reasons[:k])
        return SearchResponse(
            query=query, results=hits, total=len(rows),
            facets=facets(self.index.catalog_, rows),
            filters=_describe(filters, understood, relaxed),
            mode=mode, did_you_mean=did_you_mean, relaxed=relaxed, message=message,
            personalized=bool(personalized and profile),
            took_ms=round((time.perf_counter() - start) * 1000, 2))

    def _retrieve(self, text: str, asked: Filters, understood: Filters,
                  parsed: ParsedQuery, mode: Mode) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Rank under the caller's filters *and* the query's own constraints. If nothing
        passes, relax as few of the query's constraints as will do (one at a time in the
        order size, colour, brand, category, price; then two, ...); the caller's never."""
        vector: np.ndarray | None = None  # embedded once, reused by every relaxed retry
        required = allowed_mask(self.index.catalog_, asked, self.filter_columns_)
        names = parsed.constraints
        tried: list[str] = []
        # the query's other words ("dress" of "red dress"): results that pass the
        # constraints but name none of them (a red bicycle) are kept only as a fallback
        # while relaxing finds results that do (dresses in other colours)
        named = [*parsed.sizes, *parsed.brands, *parsed.categories]
        named += [name for colour in parsed.colors for name in (colour, *COLORS[colour])]
        frequency = self.index.docs_.document_frequency  # words the catalog never uses
        residual = {t for t in set(analyze(text)) - set(analyze(" ".join(named)))
                    if frequency.get(t)}  # cannot be found by relaxing anything
        fallback: tuple[np.ndarray, np.ndarray, list[str]] | None = None
        for dropped in itertools.chain.from_iterable(
                itertools.combinations(names, n) for n in range(len(names) + 1)):
            if fallback is not None and len(dropped) > 1:
                break  # for the other words, one constraint at a time is enough to try
            current = understood
            for name in dropped:
                current = current.without(name)
            allowed = required & allowed_mask(self.index.catalog_, current,
                                              self.filter_columns_)
            tried.extend(n for n in dropped if n not in tried)
            if not allowed.any():
                continue
            if text:
                if vector is None and mode != "bm25":
                    vector = self.index.embed_query(text)
                rows, scores = self.index.rank(text, _POOL, mode, vector=vector,
                                               allowed=None if allowed.all() else allowed)
            else:  # only constraints ("200元以下"): most popular matching items
                pop = np.where(allowed, self.index.catalog_["popularity"].to_numpy(), -np.inf)
                rows = top_k(pop, _POOL)
                rows = rows[np.isfinite(pop[rows])]
                scores = pop[rows]
            if len(rows):
                found = rows, np.asarray(scores, dtype=np.float64), list(dropped)
                if not residual or any(residual & self.index.docs_.anywhere[r]
                                       for r in rows[:_MENTION_DEPTH].tolist()):
                    return found
                fallback = fallback or found
        return fallback or (np.zeros(0, np.int64), np.zeros(0), tried)

    def _hits(self, rows: np.ndarray, scores: np.ndarray, reasons: list[str]
              ) -> list[SearchHit]:
        part = self.index.catalog_[rows] if len(rows) else self.index.catalog_.clear()
        return [SearchHit(item_id=r["item_id"], title=r["title"], brand=r["brand"],
                          category=r["category"], price=r["price"], in_stock=r["in_stock"],
                          score=round(float(s), 4), reason=reason)
                for r, s, reason in zip(part.iter_rows(named=True), scores, reasons,
                                        strict=True)]


#: How many top results are checked for a word of the query besides its constraints.
_MENTION_DEPTH = 10


def _describe(asked: Filters, understood: Filters, relaxed: list[str]) -> dict[str, Any]:
    """Every constraint in force (the caller's and the query's; both must hold), the
    query's own apart, and what was relaxed."""
    def tighter(a: float | None, b: float | None, pick: Any) -> float | None:
        return a if b is None else b if a is None else pick(a, b)

    def union(a: list[str], b: list[str]) -> list[str]:
        return list(dict.fromkeys(a + b))

    return {"categories": union(asked.categories, understood.categories),
            "brands": union(asked.brands, understood.brands),
            "min_price": tighter(asked.min_price, understood.min_price, max),
            "max_price": tighter(asked.max_price, understood.max_price, min),
            "in_stock": asked.in_stock, "colors": union(asked.colors, understood.colors),
            "sizes": union(asked.sizes, understood.sizes),
            "from_query": understood.describe(), "relaxed": relaxed}
