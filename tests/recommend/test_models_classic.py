"""Known answers of the classic models: hand-computed cases and brute-force references."""

from __future__ import annotations

import numpy as np
import pytest

from shopmind.errors import InputError
from shopmind.recommend.base import Histories, TrainingData
from shopmind.recommend.models.covisit import CoVisitation, covisitation_counts
from shopmind.recommend.models.ease import EASE
from shopmind.recommend.models.implicit_mf import ALS, BPR
from shopmind.recommend.models.knn import ItemKNN, UserKNN, keep_top_n
from shopmind.recommend.models.popular import Popular, Trending

from .conftest import cluster_histories, make_data

DAY_US = 86_400 * 1_000_000

# ------------------------------------------------------------------------------ popular


def test_popular_counts_and_trending_decays() -> None:
    # item 0: three interactions 30 days before the latest event; item 1: one, just now.
    data = make_data([[0], [0], [0, 1]], 3, timestamps=np.array([0, 0, 0, 30 * DAY_US]))
    popular = Popular().fit(data)
    trending = Trending(half_life_days=7.0).fit(data)
    assert popular.scores_.tolist() == pytest.approx([1.0, 1 / 3, 0.0])
    # 3 · 0.5 ** (30 / 7) ≈ 0.1545 < 1: the recent item wins
    assert trending.scores_.tolist() == pytest.approx([3 * 0.5 ** (30 / 7), 1.0, 0.0], rel=1e-5)
    cold = Histories.from_lists([[]])
    assert popular.recommend(cold, 2)[0].tolist() == [[0, 1]]
    assert trending.recommend(cold, 2)[0].tolist() == [[1, 0]]


def test_trending_without_timestamps_is_popular_and_weights_count() -> None:
    data = make_data([[0, 1], [1]], 2, weights=[[5.0, 1.0], [1.0]])
    assert Trending().fit(data).scores_.tolist() == pytest.approx([1.0, 0.4])
    with pytest.raises(InputError, match="half_life_days"):
        Popular(half_life_days=0).fit(data)


# ------------------------------------------------------------------------------ covisit


def _brute_force_counts(histories: list[list[int]], weights: list[list[float]], n: int,
                        window: int, gap_decay: float, backward: float) -> np.ndarray:
    counts = np.zeros((n, n))
    for seq, w in zip(histories, weights, strict=True):
        for a in range(len(seq)):
            for b in range(a + 1, min(a + window + 1, len(seq))):
                if seq[a] == seq[b]:
                    continue
                decay = gap_decay ** (b - a - 1)
                counts[seq[a], seq[b]] += decay * w[b]
                counts[seq[b], seq[a]] += backward * decay * w[a]
    return counts


def test_covisit_pair_weights_by_hand() -> None:
    # view (1) → cart (3) → purchase (5), window 2, gap decay 0.5, backward 0.25
    hist = Histories.from_lists([[0, 1, 2]], [[1.0, 3.0, 5.0]])
    counts = covisitation_counts(hist, 3, window=2, gap_decay=0.5, backward_weight=0.25)
    np.testing.assert_allclose(counts.toarray(), [
        [0.0, 3.0, 0.5 * 5.0],
        [0.25 * 1.0, 0.0, 5.0],
        [0.25 * 0.5 * 1.0, 0.25 * 3.0, 0.0],
    ])


def test_covisit_counts_match_a_brute_force_loop() -> None:
    rng = np.random.default_rng(7)
    lists = [rng.integers(0, 12, size=rng.integers(0, 15)).tolist() for _ in range(40)]
    weights = [rng.choice([1.0, 3.0, 5.0], size=len(x)).tolist() for x in lists]
    got = covisitation_counts(Histories.from_lists(lists, weights), 12, window=4,
                              gap_decay=0.7, backward_weight=0.4).toarray()
    expected = _brute_force_counts(lists, weights, 12, 4, 0.7, 0.4)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_covisit_normalises_prunes_and_scores_by_recency() -> None:
    data = make_data([[0, 1, 2]], 3)
    model = CoVisitation(window=2, gap_decay=0.5, backward_weight=0.25, alpha=0.5,
                         shrink=0.0, history_decay=0.5, n_neighbours=3).fit(data)
    # every item occurs once, so normalisation divides by 1: neighbours are the counts
    expected = np.array([[0, 1, 0.5], [0.25, 0, 1], [0.125, 0.25, 0]])
    np.testing.assert_allclose(model.neighbours_.toarray(), expected)
    scores = model.score(Histories.from_lists([[0, 1]]))  # item 1 weighs 1, item 0 weighs 0.5
    np.testing.assert_allclose(scores[0], 0.5 * expected[0] + expected[1])
    pruned = CoVisitation(window=2, gap_decay=0.5, backward_weight=0.25,
                          shrink=0.0, n_neighbours=1).fit(data)
    np.testing.assert_allclose(pruned.neighbours_.toarray(),
                               np.array([[0, 1, 0], [0, 0, 1], [0, 0.25, 0]]))


def test_covisit_is_direction_aware_and_respects_time_gaps() -> None:
    forward = CoVisitation(backward_weight=0.2).fit(make_data([[0, 1, 2]] * 3, 3))
    assert forward.recommend(Histories.from_lists([[1]]), 1)[0].tolist() == [[2]]
    ts = np.array([0, 48 * 3_600 * 1_000_000])  # two days apart: no pair at 24 h
    far = CoVisitation(max_gap_hours=24.0).fit(make_data([[0, 1]], 2, timestamps=ts))
    assert far.neighbours_.nnz == 0
    near = CoVisitation(max_gap_hours=None).fit(make_data([[0, 1]], 2, timestamps=ts))
    assert near.neighbours_.nnz == 2


def test_covisit_rejects_bad_parameters() -> None:
    with pytest.raises(InputError, match="window=0"):
        CoVisitation(window=0).fit(make_data([[0, 1]], 2))


def test_keep_top_n_keeps_the_largest_per_row() -> None:
    import scipy.sparse as sp

    m = sp.csr_matrix(np.array([[1.0, 5.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0], [2.0, 0, 0, 9.0]]))
    assert keep_top_n(m, 2).toarray().tolist() == [[0, 5, 3, 0], [0, 0, 0, 0], [2, 0, 0, 9]]


# ------------------------------------------------------------------------------ kNN


def _knn_data() -> TrainingData:
    # 4 users: item 0 ← {u0, u1}, item 1 ← {u0, u1, u2}, item 2 ← {u2, u3}
    return make_data([[0, 1], [0, 1], [1, 2], [2]], 3)


def test_itemknn_cosine_and_pearson_by_hand() -> None:
    cosine = ItemKNN(similarity="cosine", shrink=0.0).fit(_knn_data())
    pearson = ItemKNN(similarity="pearson", shrink=0.0).fit(_knn_data())
    c01, c12 = 2 / np.sqrt(6), 1 / np.sqrt(6)
    np.testing.assert_allclose(cosine.similarity_.toarray(),
                               [[0, c01, 0], [c01, 0, c12], [0, c12, 0]], rtol=1e-6)
    # cov(0,1) = 2 − 2·3/4 = 0.5, var0 = 2 − 4/4 = 1, var1 = 3 − 9/4 = 0.75;
    # items 1–2 and 0–2 are negatively correlated and dropped.
    p01 = 0.5 / np.sqrt(0.75)
    np.testing.assert_allclose(pearson.similarity_.toarray(),
                               [[0, p01, 0], [p01, 0, 0], [0, 0, 0]], rtol=1e-6)
    shrunk = ItemKNN(similarity="cosine", shrink=1.0).fit(_knn_data())
    assert shrunk.similarity_[0, 1] == pytest.approx(2 / (np.sqrt(6) + 1), rel=1e-6)


def test_itemknn_pearson_matches_numpy_corrcoef() -> None:
    rng = np.random.default_rng(3)
    lists = [rng.choice(15, size=rng.integers(1, 8), replace=False).tolist()
             for _ in range(60)]
    data = make_data(lists, 15)
    model = ItemKNN(similarity="pearson", shrink=0.0, k=15).fit(data)
    dense = data.matrix(binary=True).toarray()
    expected = np.corrcoef(dense.T)
    np.fill_diagonal(expected, 0.0)
    expected[(expected < 0) | (dense.T @ dense == 0)] = 0.0
    np.testing.assert_allclose(model.similarity_.toarray(), expected, atol=1e-5)


@pytest.mark.parametrize("similarity", ["cosine", "pearson"])
def test_userknn_matches_a_dense_reference(similarity: str) -> None:
    rng = np.random.default_rng(5)
    lists = [rng.choice(12, size=rng.integers(1, 6), replace=False).tolist()
             for _ in range(30)]
    data = make_data(lists, 12)
    k = 4
    model = UserKNN(similarity=similarity, k=k, shrink=0.0).fit(data)
    x = data.matrix(binary=True).toarray()
    query = np.zeros(12)
    query[[0, 3, 5]] = 1.0
    if similarity == "cosine":
        sim = x @ query / (np.linalg.norm(x, axis=1) * np.linalg.norm(query))
    else:
        sim = np.array([np.corrcoef(row, query)[0, 1] for row in x])
    top = np.argsort(-sim, kind="stable")[:k]
    expected = np.maximum(sim[top], 0) @ x[top]
    got = model._score(Histories.from_lists([[0, 3, 5]]))[0]
    scored = expected > 0
    np.testing.assert_allclose(got[scored], expected[scored], rtol=1e-5)
    assert (got[~scored] < 0).all(), "unscored items fall back below the scored ones"


def test_knn_rejects_unknown_similarity() -> None:
    with pytest.raises(InputError, match="similarity"):
        ItemKNN(similarity="jaccard").fit(_knn_data())


# ------------------------------------------------------------------------------ EASE


def test_ease_matches_the_hand_computed_closed_form() -> None:
    # X = [[1,1,0],[0,1,1],[1,1,1]]; XᵀX + I = [[3,2,1],[2,4,2],[1,2,3]], det 16,
    # P = [[.5,-.25,0],[-.25,.5,-.25],[0,-.25,.5]], B_ij = −P_ij / P_jj.
    data = make_data([[0, 1], [1, 2], [0, 1, 2]], 3)
    model = EASE(l2=1.0).fit(data)
    np.testing.assert_allclose(model.weights_, [[0, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0]],
                               atol=1e-6)
    np.testing.assert_allclose(model._score(Histories.from_lists([[0, 2]]))[0], [0, 1, 0],
                               atol=1e-6)


def test_ease_refuses_large_catalogs_clearly() -> None:
    with pytest.raises(InputError, match="max_items=2"):
        EASE(max_items=2).fit(make_data([[0, 1, 2]], 3))


# ------------------------------------------------------------------------------ implicit


def test_als_fold_in_is_the_least_squares_solution() -> None:
    data = make_data(cluster_histories(), 21)
    model = ALS(factors=4, regularization=0.5, alpha=3.0, iterations=3,
                         num_threads=1, random_state=0).fit(data)
    history = [0, 4, 13]
    v = model.item_factors_.astype(np.float64)
    c = np.ones(21)
    c[history] = 3.0  # confidence alpha · 1 on observed items, 1 elsewhere
    p = np.zeros(21)
    p[history] = 1.0
    expected = np.linalg.solve(v.T @ (c[:, None] * v) + 0.5 * np.eye(4), v.T @ (c * p))
    got = model.user_factors(Histories.from_lists([history]))[0]
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4)


def test_als_auto_alpha_follows_the_density() -> None:
    sparse = make_data([[i] for i in range(100)], 100)  # density 1 / 100
    assert ALS(factors=2, iterations=1, num_threads=1).fit(sparse).alpha_ == pytest.approx(5.0)
    dense = make_data([[0, 1], [1, 0]], 2)  # density 1: never below 1
    assert ALS(factors=2, iterations=1, num_threads=1).fit(dense).alpha_ == 1.0
    assert ALS(factors=2, iterations=1, alpha=7.0, num_threads=1).fit(dense).alpha_ == 7.0


def test_bpr_fold_in_and_determinism() -> None:
    data = make_data(cluster_histories(), 21)
    params: dict[str, int] = {"factors": 4, "iterations": 20, "num_threads": 1,
                              "random_state": 1}
    a = BPR(**params).fit(data)
    b = BPR(**params).fit(data)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
    u = a.user_factors(Histories.from_lists([[2, 5, 7, 9]]))[0]
    np.testing.assert_allclose(u, a.item_factors_[[2, 5, 7, 9]].sum(axis=0) / 2.0, rtol=1e-5)
    with pytest.raises(InputError, match="num_threads"):
        BPR(num_threads=-1).fit(data)
