"""Keyword and dense indexes, fusion and the re-ranker on known inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from shopmind.errors import InputError, NotFittedError
from shopmind.search.catalog import normalize_catalog
from shopmind.search.dense import DenseIndex
from shopmind.search.features import FEATURE_NAMES
from shopmind.search.fusion import reciprocal_rank_fusion
from shopmind.search.keyword import KeywordIndex
from shopmind.search.reranker import Reranker, RerankerConfig, gains_to_grades


def test_title_outweighs_description() -> None:
    items = normalize_catalog(pl.DataFrame({
        "item_id": ["a", "b"], "title": ["lamp", "drill"],
        "description": ["", "a drill that is not a lamp at all"]}))
    rows, _ = KeywordIndex().fit(items).search("lamp", k=2)
    assert rows.tolist() == [0, 1]


def test_dense_upsert_replaces_in_place_and_rebuilds_tombstones() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(50, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = DenseIndex().upsert(np.arange(50), vectors)
    fresh = rng.normal(size=(20, 8)).astype(np.float32)
    fresh /= np.linalg.norm(fresh, axis=1, keepdims=True)
    for _ in range(3):  # repeated replacements pass the rebuild threshold
        index.upsert(np.arange(20), fresh)
    assert len(index) == 50
    rows, scores = index.search(fresh[3], k=1)
    assert rows.tolist() == [3] and scores[0] == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(InputError):
        index.upsert(np.arange(2), vectors[:3])
    with pytest.raises(NotFittedError):
        DenseIndex().search(vectors[0])


def test_rrf_prefers_items_both_lists_agree_on() -> None:
    rows, scores = reciprocal_rank_fusion([np.array([1, 2, 3]), np.array([3, 1, 4])])
    assert rows.tolist()[:2] == [1, 3]
    assert scores[0] == pytest.approx(1 / 61 + 1 / 62)


def test_reranker_learns_a_feature_and_round_trips(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((400, len(FEATURE_NAMES))).astype(np.float32)
    grades = gains_to_grades(x[:, 3], 1.0)
    model = Reranker(RerankerConfig(n_estimators=20, min_data_in_leaf=5)).fit(
        x, grades, np.full(20, 20))
    path = model.save(tmp_path / "r.txt", trained_on=["fixture"])
    loaded = Reranker.load(path)
    assert np.allclose(loaded.predict(x), model.predict(x))
    assert np.corrcoef(loaded.predict(x), x[:, 3])[0, 1] > 0.8
    with pytest.raises(InputError, match="features must have"):
        Reranker().fit(x[:, :3], grades, np.full(20, 20))
