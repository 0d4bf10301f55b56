"""Training data for the re-ranker from judged queries, query-grouped cross-validation,
and the shipped model.

Every judged query contributes its fused candidates (:meth:`SearchIndex.candidates`) with
graded labels (unjudged candidates are 0, as in the metric). Cross-validation splits
*queries* into folds, so no query is scored by a model that saw it; with several data
sets, each fold trains on the other folds of all of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shopmind.errors import InputError
from shopmind.evaluation.metrics import graded_ndcg_at_k
from shopmind.search.index import SearchIndex
from shopmind.search.judgments import QuerySet
from shopmind.search.reranker import Reranker, RerankerConfig, gains_to_grades

logger = logging.getLogger(__name__)


@dataclass
class TrainingSet:
    """Candidates of one data set's judged queries, ordered by query."""

    name: str
    queries: QuerySet
    features: np.ndarray  # (rows, n_features)
    grades: np.ndarray  # (rows,)
    groups: np.ndarray  # (n_queries,) candidates per query
    item_ids: list[str]  # (rows,)

    @property
    def offsets(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.groups)])


def collect(name: str, index: SearchIndex, queries: QuerySet,
            cache_dir: str | Path | None = None) -> TrainingSet:
    """Candidates, features and grades of every query in ``queries``."""
    if index.backend is None:
        raise InputError("re-ranker training needs an index with an embedding backend")
    vectors = index.backend.embed_queries(queries.queries, cache_dir=cache_dir)
    max_gain = max((max(g.values(), default=0.0) for g in queries.gains), default=0.0)
    features, grades, groups, ids = [], [], [], []
    for q, query in enumerate(queries.queries):
        found = index.candidates(query, vectors[q])
        items = index.item_ids(found.rows)
        gains = np.array([queries.gains[q].get(i, 0.0) for i in items])
        features.append(found.features)
        grades.append(gains_to_grades(gains, max_gain))
        groups.append(len(items))
        ids.extend(items)
    width = len(features[0][0]) if features and len(features[0]) else 0
    return TrainingSet(name, queries,
                       np.concatenate(features) if features else np.zeros((0, width)),
                       np.concatenate(grades) if grades else np.zeros(0, dtype=np.int32),
                       np.array(groups, dtype=np.int64), ids)


def _subset(data: TrainingSet, queries: np.ndarray) -> tuple[np.ndarray, ...]:
    offsets = data.offsets
    rows = np.concatenate([np.arange(offsets[q], offsets[q + 1]) for q in queries]
                          ) if len(queries) else np.zeros(0, dtype=np.int64)
    return data.features[rows], data.grades[rows], data.groups[queries]


def _weights(sets: list[tuple[TrainingSet, np.ndarray]]) -> list[np.ndarray]:
    """Per-query weights: each data set's total weight ∝ √(its queries), so a small set
    is not drowned by a large one nor overfitted."""
    out = []
    for _, queries in sets:
        n = max(len(queries), 1)
        out.append(np.full(len(queries), 1.0 / np.sqrt(n)))
    scale = sum(len(q) for _, q in sets) / max(sum(w.sum() for w in out), 1e-12)
    return [w * scale for w in out]


def fit_reranker(sets: list[tuple[TrainingSet, np.ndarray]],
                 config: RerankerConfig | None = None) -> Reranker:
    """Fit one re-ranker on the chosen queries of each training set."""
    parts = [_subset(data, queries) for data, queries in sets]
    weights = _weights(sets)
    keep = [i for i, p in enumerate(parts) if len(p[2])]
    return Reranker(config).fit(
        np.concatenate([parts[i][0] for i in keep]),
        np.concatenate([parts[i][1] for i in keep]),
        np.concatenate([parts[i][2] for i in keep]),
        np.concatenate([weights[i] for i in keep]))


def ndcg_of_scores(data: TrainingSet, queries: np.ndarray, scores: np.ndarray,
                   k: int = 10) -> float:
    """NDCG@k of ranking each query's candidates by ``scores`` (rows of ``queries``)."""
    rankings, pos = [], 0
    for q in queries:
        n = int(data.groups[q])
        start = int(data.offsets[q])
        order = np.lexsort((np.arange(n), -scores[pos:pos + n]))
        rankings.append([data.item_ids[start + i] for i in order[:k]])
        pos += n
    sub = QuerySet([data.queries.query_ids[q] for q in queries],
                   [data.queries.queries[q] for q in queries],
                   [data.queries.gains[q] for q in queries])
    return graded_ndcg_at_k(sub.ranked_gains(rankings, k), sub.ideal_gains(), k)


def cross_validate(sets: list[TrainingSet], folds: int = 5, random_state: int = 0,
                   config: RerankerConfig | None = None) -> dict[str, float]:
    """Query-grouped ``folds``-fold NDCG@10 of the re-ranker on each training set."""
    rng = np.random.default_rng(random_state)
    assignment = [rng.permutation(len(s.groups)) % folds for s in sets]
    predictions = [np.zeros(len(s.grades)) for s in sets]
    for fold in range(folds):
        train = [(s, np.flatnonzero(a != fold)) for s, a in zip(sets, assignment, strict=True)]
        model = fit_reranker(train, config)
        for s, a, pred in zip(sets, assignment, predictions, strict=True):
            offsets = s.offsets
            for q in np.flatnonzero(a == fold):
                lo, hi = offsets[q], offsets[q + 1]
                pred[lo:hi] = model.predict(s.features[lo:hi])
        logger.info("re-ranker fold %d/%d done", fold + 1, folds)
    return {s.name: round(ndcg_of_scores(s, np.arange(len(s.groups)), pred), 4)
            for s, pred in zip(sets, predictions, strict=True)}
