"""Ranking and beyond-accuracy metrics: plain vectorized functions, one module for all.

Conventions
-----------
``ranks``
    1-based positions of held-out targets in the full ranking of the catalog (``np.inf``
    when a target cannot be ranked, e.g. it was masked as history). With one target per
    user (leave-one-out) ``ranks`` has one entry per user. With several targets per user
    (temporal split) pass ``indptr``: user ``u``'s target ranks are
    ``ranks[indptr[u]:indptr[u + 1]]``; users without targets must be left out beforehand.
``recommended``
    (U, K) item indices, best first, padded with ``-1`` where a list is shorter.

Ranking metrics follow RecBole's ``evaluator/metrics.py`` and ``implicit``'s
``ndcg_at_k``; beyond-accuracy metrics follow Kaminskas & Bridge, "Diversity, Serendipity,
Novelty, and Coverage" (ACM TiiS 2016), Abdollahpouri et al., "Managing Popularity Bias in
Recommender Systems with Personalized Re-ranking" (FLAIRS 2019) and Singh & Joachims,
"Fairness of Exposure in Rankings" (KDD 2018).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "average_recommendation_popularity",
    "catalog_coverage",
    "exposure_share",
    "graded_ndcg_at_k",
    "hit_rate_at_k",
    "intra_list_diversity",
    "mrr",
    "ndcg_at_k",
    "novelty",
    "recall_at_k",
    "target_ranks",
]


def target_ranks(scores: np.ndarray, targets: np.ndarray, seen_mask: np.ndarray | None = None
                 ) -> np.ndarray:
    """1-based rank of each target in its row of ``scores``; ties count against the model.

    rank = 1 + #{j ≠ t : s_j > s_t} + #{j ≠ t : s_j = s_t}. Items set to ``-inf`` (excluded
    history) never outrank a finite target; a target scored ``-inf`` gets rank ``inf``.
    ``seen_mask`` (optional, boolean like ``scores``) marks items to exclude first.

    >>> target_ranks(np.array([[0.5, 0.9, 0.5]]), np.array([0]))
    array([3.])
    """
    if seen_mask is not None:
        scores = np.where(seen_mask, -np.inf, scores)
    rows = np.arange(len(targets))
    target_scores = scores[rows, targets][:, None]
    higher_or_equal = (scores >= target_scores).sum(axis=1) - 1  # minus the target itself
    ranks = 1.0 + higher_or_equal
    ranks[~np.isfinite(target_scores[:, 0])] = np.inf
    return ranks.astype(np.float64)


# ----------------------------------------------------------------------- ranking metrics


def _per_user(values: np.ndarray, indptr: np.ndarray | None, how: str) -> np.ndarray:
    """Reduce per-target ``values`` to one value per user (``sum``, ``max`` or ``min``)."""
    if indptr is None:
        return values
    lengths = np.diff(indptr)
    if (lengths == 0).any():
        raise ValueError("indptr has users without targets; leave them out before scoring")
    ufunc = {"sum": np.add, "max": np.maximum, "min": np.minimum}[how]
    return ufunc.reduceat(values, indptr[:-1]) if len(values) else values


def _n_targets(ranks: np.ndarray, indptr: np.ndarray | None) -> np.ndarray:
    return np.ones(len(ranks)) if indptr is None else np.diff(indptr).astype(np.float64)


def recall_at_k(ranks: np.ndarray, k: int, *, indptr: np.ndarray | None = None) -> float:
    """Recall@K = mean over users of |{t ∈ T_u : rank_t ≤ K}| / |T_u|.

    With one target per user this equals HitRate@K = mean(rank ≤ K).

    >>> recall_at_k(np.array([1.0, 12.0]), 10)
    0.5
    >>> recall_at_k(np.array([1.0, 12.0, 3.0]), 10, indptr=np.array([0, 2, 3]))
    0.75
    """
    if not len(ranks):
        return 0.0
    hits = _per_user((ranks <= k).astype(np.float64), indptr, "sum")
    return float(np.mean(hits / _n_targets(hits, indptr)))


def hit_rate_at_k(ranks: np.ndarray, k: int, *, indptr: np.ndarray | None = None) -> float:
    """HitRate@K = share of users with at least one target in the top K.

    >>> hit_rate_at_k(np.array([1.0, 12.0, 30.0]), 10, indptr=np.array([0, 2, 3]))
    0.5
    """
    if not len(ranks):
        return 0.0
    return float(np.mean(_per_user((ranks <= k).astype(np.float64), indptr, "max")))


def ndcg_at_k(ranks: np.ndarray, k: int, *, indptr: np.ndarray | None = None) -> float:
    """NDCG@K with binary relevance, averaged over users.

    DCG_u = Σ_{t ∈ T_u, rank_t ≤ K} 1 / log2(rank_t + 1);
    IDCG_u = Σ_{i=1}^{min(|T_u|, K)} 1 / log2(i + 1); NDCG@K = mean_u DCG_u / IDCG_u.
    With one target per user: mean(1 / log2(rank + 1) if rank ≤ K else 0).

    >>> round(ndcg_at_k(np.array([1.0, 3.0, 20.0]), 10), 4)
    0.5
    """
    if not len(ranks):
        return 0.0
    gains = np.where(ranks <= k, 1.0 / np.log2(np.minimum(ranks, 1e12) + 1.0), 0.0)
    dcg = _per_user(gains, indptr, "sum")
    if indptr is None:
        return float(np.mean(dcg))
    ideal_len = np.minimum(np.diff(indptr), k)
    ideal_cumsum = np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))
    return float(np.mean(dcg / ideal_cumsum[ideal_len - 1]))


def graded_ndcg_at_k(ranked_gains: np.ndarray, ideal_gains: np.ndarray, k: int) -> float:
    """NDCG@K with graded (linear) gains, averaged over queries.

    ``ranked_gains`` (Q, ≥K): gain of the item at each position of a query's ranking
    (0 for unjudged); ``ideal_gains`` (Q, m): every judged gain of the query, any order,
    zero-padded. DCG_q = Σ_{i ≤ K} g_{q,i} / log2(i + 1); IDCG_q is the DCG of the gains
    sorted descending; queries with IDCG 0 score 0.

    >>> round(graded_ndcg_at_k(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]]), 10), 4)
    0.6309
    """
    ranked = np.asarray(ranked_gains, dtype=np.float64)[:, :k]
    ideal = -np.sort(-np.asarray(ideal_gains, dtype=np.float64), axis=1)[:, :k]
    if not len(ranked):
        return 0.0
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = ranked @ discount[:ranked.shape[1]]
    idcg = ideal @ discount[:ideal.shape[1]]
    return float(np.mean(np.where(idcg > 0, dcg / np.where(idcg > 0, idcg, 1.0), 0.0)))


def mrr(ranks: np.ndarray, *, indptr: np.ndarray | None = None) -> float:
    """Mean reciprocal rank of each user's best-ranked target: mean_u 1 / min_t rank_t.

    >>> mrr(np.array([2.0, 4.0]))
    0.375
    """
    if not len(ranks):
        return 0.0
    return float(np.mean(1.0 / _per_user(ranks, indptr, "min")))


# ----------------------------------------------------------------- beyond-accuracy metrics


def _slots(recommended: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat (item, 0-based position) of every filled slot of ``recommended`` (U, K)."""
    filled = recommended >= 0
    positions = np.broadcast_to(np.arange(recommended.shape[1]), recommended.shape)
    return recommended[filled], positions[filled]


def catalog_coverage(recommended: np.ndarray, n_items: int) -> float:
    """Share of the catalog in at least one list: |∪_u L_u| / n_items.

    >>> catalog_coverage(np.array([[0, 1], [1, -1]]), 4)
    0.5
    """
    valid = recommended[recommended >= 0]
    return float(np.unique(valid).size / n_items) if n_items else 0.0


def intra_list_diversity(
    recommended: np.ndarray,
    *,
    item_vectors: np.ndarray | None = None,
    item_categories: npt.ArrayLike | None = None,
) -> float:
    """Intra-list diversity: mean pairwise distance inside each list, averaged over lists.

    ILD(L) = 2 / (|L| (|L| − 1)) Σ_{i<j ∈ L} d(i, j), with d = 1 − cos(v_i, v_j) given
    ``item_vectors`` (n_items, D), or d = 1[c_i ≠ c_j] given ``item_categories`` (one
    label per item). Lists with fewer than two items are skipped (Ziegler et al., WWW 2005).

    >>> intra_list_diversity(np.array([[0, 1, 2]]), item_categories=["a", "a", "b"])
    0.6666666666666666
    """
    if (item_vectors is None) == (item_categories is None):
        raise ValueError("give exactly one of item_vectors or item_categories")
    lengths = (recommended >= 0).sum(axis=1)
    rows = recommended[lengths >= 2]
    if not len(rows):
        return 0.0
    n = (rows >= 0).sum(axis=1)
    safe = np.where(rows >= 0, rows, 0)
    valid = rows >= 0
    pair_valid = valid[:, :, None] & valid[:, None, :]
    if item_vectors is not None:
        vectors = np.asarray(item_vectors, dtype=np.float64)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit = vectors / np.where(norms > 0, norms, 1.0)
        v = unit[safe]  # (U, K, D)
        distance = 1.0 - np.einsum("ukd,ujd->ukj", v, v)
    else:
        _, codes = np.unique(np.asarray(item_categories).astype(str), return_inverse=True)
        c = codes[safe]
        distance = (c[:, :, None] != c[:, None, :]).astype(np.float64)
    # The diagonal is 0 for both distances, so summing the full matrix counts each pair twice.
    totals = np.where(pair_valid, distance, 0.0).sum(axis=(1, 2))
    return float(np.mean(totals / (n * (n - 1))))


def novelty(recommended: np.ndarray, item_popularity: np.ndarray, n_users: int) -> float:
    """Mean self-information of recommended items: mean over slots of −log2 p_i.

    p_i = max(pop_i, 1) / n_users is the share of training users who interacted with item
    i (Zhou et al., PNAS 2010); an item nobody interacted with counts as one user, so its
    self-information is the maximum, log2(n_users). Higher = less obvious items.

    >>> novelty(np.array([[0, 1]]), np.array([4.0, 1.0]), 4)
    1.0
    """
    items, _ = _slots(recommended)
    if not len(items) or n_users <= 0:
        return 0.0
    share = np.maximum(np.asarray(item_popularity, dtype=np.float64)[items], 1.0) / n_users
    return float(np.mean(-np.log2(np.minimum(share, 1.0))))


def average_recommendation_popularity(recommended: np.ndarray,
                                      item_popularity: np.ndarray) -> float:
    """ARP = mean over users of the mean popularity φ(i) of the items in their list.

    ARP = 1/|U| Σ_u Σ_{i ∈ L_u} φ(i) / |L_u| (Abdollahpouri et al., FLAIRS 2019), φ(i) =
    the item's number of training interactions (or users). Empty lists are skipped.

    >>> average_recommendation_popularity(np.array([[0, 1], [1, -1]]), np.array([10.0, 2.0]))
    4.0
    """
    filled = recommended >= 0
    lengths = filled.sum(axis=1)
    keep = lengths > 0
    if not keep.any():
        return 0.0
    pop = np.asarray(item_popularity, dtype=np.float64)
    values = np.where(filled, pop[np.where(filled, recommended, 0)], 0.0)
    return float(np.mean(values[keep].sum(axis=1) / lengths[keep]))


def exposure_share(recommended: np.ndarray, item_groups: npt.ArrayLike, *,
                   discount: bool = False) -> dict[str, float]:
    """Share of recommendation slots (exposure) that each item group receives.

    share_g = Σ_{slots s with group(item_s) = g} w(pos_s) / Σ_s w(pos_s), with
    w = 1 (every slot counts once) or, with ``discount``, w(p) = 1 / log2(p + 1) for the
    1-based position p (the position-based exposure of Singh & Joachims, KDD 2018). Groups
    (e.g. small vs. large brands, head vs. tail items) come as one label per item; every
    group present in ``item_groups`` appears in the result, with 0.0 when never shown.
    Compare with each group's share of the catalog to read over- or under-exposure.

    >>> exposure_share(np.array([[0, 1], [0, -1]]), ["big", "small"])
    {'big': 0.6666666666666666, 'small': 0.3333333333333333}
    """
    labels, codes = np.unique(np.asarray(item_groups).astype(str), return_inverse=True)
    items, positions = _slots(recommended)
    weights = (1.0 / np.log2(positions + 2.0)) if discount else np.ones(len(items))
    totals = np.bincount(codes[items], weights=weights, minlength=len(labels))
    denominator = totals.sum()
    shares = totals / denominator if denominator > 0 else totals
    return {str(label): float(share) for label, share in zip(labels, shares, strict=True)}
