"""Every metric against values computed by hand on tiny lists."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shopmind.evaluation.metrics import (
    average_recommendation_popularity,
    catalog_coverage,
    exposure_share,
    hit_rate_at_k,
    intra_list_diversity,
    mrr,
    ndcg_at_k,
    novelty,
    recall_at_k,
    target_ranks,
)

INV_LOG2_3 = 1 / math.log2(3)  # gain at rank 2: 0.6309…
ONE_TARGET = np.array([1.0, 3.0, 20.0, np.inf])  # 4 users, one target each


def test_target_ranks_count_ties_against_the_model() -> None:
    scores = np.array([[0.5, 0.9, 0.5, 0.1], [0.2, 0.1, 0.3, -np.inf]])
    assert target_ranks(scores, np.array([0, 1])).tolist() == [3.0, 3.0]
    # Excluding item 1 (history) moves item 0 up by one; a -inf target is never ranked.
    seen = np.array([[False, True, False, False], [False, False, False, False]])
    assert target_ranks(scores, np.array([0, 3]), seen).tolist() == [2.0, math.inf]


def test_single_target_ranking_metrics() -> None:
    assert recall_at_k(ONE_TARGET, 10) == 0.5  # ranks 1 and 3 of 4 users
    assert hit_rate_at_k(ONE_TARGET, 10) == 0.5
    assert recall_at_k(ONE_TARGET, 1) == 0.25
    assert ndcg_at_k(ONE_TARGET, 10) == pytest.approx((1 + 0.5) / 4)  # 1/log2(4) = 0.5
    assert ndcg_at_k(ONE_TARGET, 2) == pytest.approx(1 / 4)
    assert mrr(ONE_TARGET) == pytest.approx((1 + 1 / 3 + 1 / 20 + 0) / 4)


def test_multi_target_ranking_metrics() -> None:
    ranks = np.array([1.0, 4.0, 2.0, 30.0, 50.0])  # user A: {1, 4}, user B: {2, 30, 50}
    indptr = np.array([0, 2, 5])
    assert recall_at_k(ranks, 10, indptr=indptr) == pytest.approx((2 / 2 + 1 / 3) / 2)
    assert hit_rate_at_k(ranks, 10, indptr=indptr) == 1.0
    assert hit_rate_at_k(ranks, 1, indptr=indptr) == 0.5
    ndcg_a = (1 + 1 / math.log2(5)) / (1 + INV_LOG2_3)
    ndcg_b = INV_LOG2_3 / (1 + INV_LOG2_3 + 0.5)
    assert ndcg_at_k(ranks, 10, indptr=indptr) == pytest.approx((ndcg_a + ndcg_b) / 2)
    # With K = 2 the ideal list of B has only two slots.
    assert ndcg_at_k(ranks, 2, indptr=indptr) == pytest.approx(
        (1 / (1 + INV_LOG2_3) + INV_LOG2_3 / (1 + INV_LOG2_3)) / 2)
    assert mrr(ranks, indptr=indptr) == pytest.approx((1 + 1 / 2) / 2)


def test_multi_target_metrics_equal_single_target_ones_for_one_target_each() -> None:
    indptr = np.arange(len(ONE_TARGET) + 1)
    for k in (1, 5, 10):
        assert ndcg_at_k(ONE_TARGET, k, indptr=indptr) == pytest.approx(ndcg_at_k(ONE_TARGET, k))
        assert recall_at_k(ONE_TARGET, k, indptr=indptr) == recall_at_k(ONE_TARGET, k)
    assert mrr(ONE_TARGET, indptr=indptr) == pytest.approx(mrr(ONE_TARGET))


def test_empty_and_invalid_inputs() -> None:
    empty = np.array([])
    assert recall_at_k(empty, 10) == ndcg_at_k(empty, 10) == mrr(empty) == 0.0
    with pytest.raises(ValueError, match="without targets"):
        recall_at_k(np.array([1.0]), 10, indptr=np.array([0, 0, 1]))


def test_catalog_coverage() -> None:
    assert catalog_coverage(np.array([[0, 1], [1, -1]]), 4) == 0.5
    assert catalog_coverage(np.array([[0, 1]]), 0) == 0.0


def test_intra_list_diversity_by_category() -> None:
    lists = np.array([[0, 1, 2], [0, 1, -1], [3, -1, -1]])  # the last list has < 2 items
    categories = ["a", "a", "b", "c"]
    # List 1: pairs (0,1)=0, (0,2)=1, (1,2)=1 → 2/3; list 2: one pair, same category → 0.
    assert intra_list_diversity(lists, item_categories=categories) == pytest.approx(1 / 3)


def test_intra_list_diversity_by_vectors() -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    half = 1 - 1 / math.sqrt(2)  # cosine distance of an axis and the diagonal
    value = intra_list_diversity(np.array([[0, 1, 2]]), item_vectors=vectors)
    assert value == pytest.approx((1 + 2 * half) / 3)
    with pytest.raises(ValueError, match="exactly one"):
        intra_list_diversity(np.array([[0, 1]]))


def test_novelty_is_mean_self_information() -> None:
    popularity = np.array([4.0, 1.0, 0.0])  # users per item, out of 4 users
    # −log2(4/4) = 0, −log2(1/4) = 2, unseen item counts as one user → 2.
    assert novelty(np.array([[0, 1, 2]]), popularity, 4) == pytest.approx(4 / 3)
    assert novelty(np.array([[-1, -1]]), popularity, 4) == 0.0


def test_average_recommendation_popularity() -> None:
    popularity = np.array([10.0, 2.0])
    # User 1: (10 + 2) / 2 = 6; user 2: 2 / 1 = 2 → ARP = 4.
    assert average_recommendation_popularity(np.array([[0, 1], [1, -1]]), popularity) == 4.0
    assert average_recommendation_popularity(np.array([[-1]]), popularity) == 0.0


def test_exposure_share_per_group() -> None:
    lists = np.array([[0, 1], [0, 2]])
    groups = ["big", "small", "small", "mid"]  # item 3 (mid) is never recommended
    assert exposure_share(lists, groups) == {"big": 0.5, "mid": 0.0, "small": 0.5}
    # Position-discounted: big fills both first slots (weight 1), small both second slots
    # (weight 1/log2(3)).
    discounted = exposure_share(lists, groups, discount=True)
    assert discounted["big"] == pytest.approx(2 / (2 + 2 * INV_LOG2_3))
    assert discounted["small"] == pytest.approx(2 * INV_LOG2_3 / (2 + 2 * INV_LOG2_3))
    assert sum(discounted.values()) == pytest.approx(1.0)
