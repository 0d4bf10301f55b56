"""The `Recommender` contract, checked on every registered model (none skipped).

Compare implicit's ``RecommenderBaseTestMixin`` and scikit-learn's ``parametrize_with_checks``:
each model is fitted once per module on the two-cluster fixture (``conftest.py``), with the
tiny hyperparameters of ``TINY_PARAMS`` where its defaults would be slow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shopmind.errors import InputError, NotFittedError
from shopmind.recommend.base import (
    Histories,
    Recommender,
    TrainingData,
    available_models,
    create_model,
    top_k,
)

from .conftest import (
    CLUSTER_A,
    CLUSTER_B,
    HISTORY_ONLY,
    N_ITEMS,
    NON_PERSONALISED,
    TINY_PARAMS,
)

MODELS = available_models()
QUERIES = Histories.from_lists([[0, 1, 2], [13, 14], [5], [19, 10, 11, 12]])


def build(name: str) -> Recommender:
    return create_model(name, **TINY_PARAMS.get(name, {}))


@pytest.fixture(scope="module", params=MODELS)
def fitted(request: pytest.FixtureRequest, clusters: TrainingData) -> Recommender:
    return build(request.param).fit(clusters)


def test_the_builtin_classics_are_registered() -> None:
    expected = {"popular", "trending", "covisit", "itemknn", "userknn", "ease", "als", "bpr"}
    assert expected <= set(MODELS)


@pytest.mark.parametrize("name", MODELS)
def test_fit_returns_self_and_unfitted_use_raises(name: str, clusters: TrainingData) -> None:
    model = build(name)
    assert not model.is_fitted
    with pytest.raises(NotFittedError):
        model.recommend(QUERIES, 3)
    with pytest.raises(NotFittedError):
        model.similar_items([0], 3)
    with pytest.raises(NotFittedError):
        model.save("unused")
    assert model.fit(clusters) is model
    assert model.is_fitted and model.n_items_ == N_ITEMS


@pytest.mark.parametrize("name", MODELS)
def test_fit_and_score_leave_their_inputs_untouched(name: str, clusters: TrainingData) -> None:
    # Sorting a shared CSR index array in place once scrambled every history's order.
    items, indptr = clusters.histories.items.copy(), clusters.histories.indptr.copy()
    query = Histories.from_lists([[2, 0, 1], [14, 13]])
    query_items = query.items.copy()
    build(name).fit(clusters).recommend(query, 3)
    np.testing.assert_array_equal(clusters.histories.items, items)
    np.testing.assert_array_equal(clusters.histories.indptr, indptr)
    np.testing.assert_array_equal(query.items, query_items)


def test_recommend_shapes_and_ordering(fitted: Recommender) -> None:
    ids, scores = fitted.recommend(QUERIES, 5)
    assert ids.shape == scores.shape == (len(QUERIES), 5)
    assert ids.dtype == np.int64 and scores.dtype == np.float32
    assert ((ids >= 0) & (ids < N_ITEMS)).all()
    assert np.isfinite(scores).all()
    assert (np.diff(scores, axis=1) <= 0).all(), "scores must be sorted best first"
    assert all(len(set(row)) == len(row) for row in ids.tolist()), "no item twice in a list"


def test_scores_are_one_row_per_history(fitted: Recommender) -> None:
    scores = fitted.score(QUERIES)
    assert scores.shape == (len(QUERIES), N_ITEMS) and scores.dtype == np.float32
    one_by_one = np.vstack([fitted.score(QUERIES.take([i])) for i in range(len(QUERIES))])
    np.testing.assert_allclose(scores, one_by_one, rtol=1e-4, atol=1e-5)


def test_scores_of_chosen_items_agree_with_full_scores(fitted: Recommender) -> None:
    items = np.array([3, 0, N_ITEMS - 1, 3])
    full = fitted.score(QUERIES)[:, items]
    chosen = fitted.score_items(QUERIES, items)
    assert chosen.shape == (len(QUERIES), len(items)) and chosen.dtype == np.float32
    evidence = full > 0  # where a model has evidence; elsewhere only "none" (≤ 0) counts
    assert np.allclose(chosen[evidence], full[evidence], rtol=1e-5)
    assert (chosen[~evidence] <= 0).all()


def test_exclude_seen(fitted: Recommender) -> None:
    ids, _ = fitted.recommend(QUERIES, 8)
    for row, history in zip(ids, (QUERIES[i] for i in range(len(QUERIES))), strict=True):
        assert not set(row.tolist()) & set(history.tolist())
    ids_all, _ = fitted.recommend(QUERIES, N_ITEMS, exclude_seen=False)
    assert (ids_all >= 0).all(), "without exclusion every item is a candidate"


def test_exclude_adds_items_to_leave_out(fitted: Recommender) -> None:
    first, _ = fitted.recommend(QUERIES, 1)
    again, _ = fitted.recommend(QUERIES, 3, exclude=Histories.from_lists(first.tolist()))
    assert not (again == first).any()


def test_filter_items(fitted: Recommender) -> None:
    allowed = np.array([3, 7, 15, 20])
    ids, scores = fitted.recommend(QUERIES, 6, filter_items=allowed)
    for row in ids:
        valid = row[row >= 0]
        assert set(valid.tolist()) <= set(allowed.tolist())
        assert (row[len(valid):] == -1).all(), "padding comes after the real items"
    assert (ids[0, :4] >= 0).all() and (ids[0, 4:] == -1).all()
    assert np.isneginf(scores[ids == -1]).all()


def test_k_larger_than_catalog_is_padded(fitted: Recommender) -> None:
    ids, scores = fitted.recommend(QUERIES.take([0]), N_ITEMS + 5)
    n_left = N_ITEMS - len(QUERIES[0])
    assert ids.shape == (1, N_ITEMS + 5)
    assert sorted(ids[0, :n_left].tolist()) == sorted(set(range(N_ITEMS)) - {0, 1, 2})
    assert (ids[0, n_left:] == -1).all() and np.isneginf(scores[0, n_left:]).all()


def test_invalid_k_raises(fitted: Recommender) -> None:
    with pytest.raises(InputError):
        fitted.recommend(QUERIES, 0)


def test_empty_history_gets_popularity(fitted: Recommender) -> None:
    cold = Histories.from_lists([[], [4]])
    ids, scores = fitted.recommend(cold, 5)
    assert (ids[0] >= 0).all() and np.isfinite(scores[0]).all()
    if fitted.name not in NON_PERSONALISED:  # those rank everyone by their own list
        expected, _ = top_k(fitted.item_popularity_[None, :], 5)
        assert ids[0].tolist() == expected[0].tolist()


@pytest.mark.parametrize("bad", [[N_ITEMS], [-1], [0, N_ITEMS + 100]])
def test_unknown_item_index_raises_input_error(fitted: Recommender, bad: list[int]) -> None:
    with pytest.raises(InputError, match="item indices"):
        fitted.recommend(Histories.from_lists([bad]), 3)


def test_save_load_round_trip(fitted: Recommender, tmp_path: Path) -> None:
    folder = fitted.save(tmp_path / "model")
    loaded = Recommender.load(folder)
    assert type(loaded) is type(fitted)
    assert loaded.get_params() == fitted.get_params()
    ids, scores = fitted.recommend(QUERIES, 6)
    ids2, scores2 = loaded.recommend(QUERIES, 6)
    np.testing.assert_array_equal(ids, ids2)
    np.testing.assert_array_equal(scores, scores2)
    sim, _ = fitted.similar_items([0, 12], 4)
    np.testing.assert_array_equal(sim, loaded.similar_items([0, 12], 4)[0])


def test_load_of_missing_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"params\.json"):
        Recommender.load(tmp_path / "nothing-here")


@pytest.mark.parametrize("name", MODELS)
def test_get_and_set_params(name: str) -> None:
    model = create_model(name)
    params = model.get_params()
    assert list(params) == type(model).param_names()
    assert create_model(name, **params).get_params() == params, "params round-trip"
    key = next(iter(params))
    assert model.set_params(**{key: params[key]}) is model
    with pytest.raises(InputError):
        model.set_params(no_such_parameter=1)
    with pytest.raises(InputError, match="no parameter"):
        create_model(name, no_such_parameter=1)


def test_similar_items_exclude_the_item_itself(fitted: Recommender) -> None:
    items = np.array([0, 4, 12])
    ids, _ = fitted.similar_items(items, 5)
    assert ids.shape == (3, 5)
    assert not (ids == items[:, None]).any()


def test_a_cluster_history_gets_its_own_cluster_first(fitted: Recommender) -> None:
    if fitted.name in NON_PERSONALISED:  # the known answer: one list for everyone
        ids, _ = fitted.recommend(QUERIES, 5, exclude_seen=False)
        assert (ids == ids[0]).all()
        return
    if fitted.name in HISTORY_ONLY:  # the known answer: the history itself, newest first
        ids, _ = fitted.recommend(QUERIES, 2, exclude_seen=False)
        assert ids[:, 0].tolist() == [QUERIES[i][-1] for i in range(len(QUERIES))]
        return
    # Top 2, not more: a next-item model is only sure of the next steps of the walk
    # (test_models_classic checks whole clusters for the item-item models).
    ids, _ = fitted.recommend(QUERIES, 2)
    for row, cluster in zip(ids, (CLUSTER_A, CLUSTER_B, CLUSTER_A, CLUSTER_B), strict=True):
        assert set(row.tolist()) <= set(cluster.tolist()), (fitted.name, ids)
    sim, _ = fitted.similar_items([2, 17], 2)
    assert set(sim[0].tolist()) <= set(CLUSTER_A.tolist())
    assert set(sim[1].tolist()) <= set(CLUSTER_B.tolist())
