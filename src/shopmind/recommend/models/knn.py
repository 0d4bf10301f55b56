"""Neighbourhood collaborative filtering: ``itemknn`` and ``userknn``.

Item-based kNN (Sarwar et al., "Item-based collaborative filtering recommendation
algorithms", WWW 2001; Deshpande & Karypis, "Item-based top-N recommendation algorithms",
TOIS 2004) scores item ``j`` for a history ``h`` as ``Σ_{i ∈ h} sim(i, j)`` over the top-k
neighbours of each history item. User-based kNN (Herlocker et al., SIGIR 1999) finds the k
training users most similar to the history and sums their interactions, weighted by
similarity. Both offer two similarities on the binary interaction matrix ``X``:

* ``cosine``: ``x_i·x_j / (‖x_i‖ ‖x_j‖ + shrink)``;
* ``pearson``: the mean-centred form, ``cov(x_i, x_j) / (σ_i σ_j + shrink)`` with means and
  variances over *all* rows (zeros included — with implicit feedback, centring on observed
  entries only would make every vector zero). It is computed on the sparse co-occurrence
  pattern without densifying ``X``: ``cov = x_i·x_j − n μ_i μ_j``.

``shrink`` damps similarities supported by few co-occurrences (Koren, KDD 2008; the
``shrink`` term of Dacrema et al., RecSys 2019). Negative similarities are dropped. Items a
history gives no score rank below all scored items, by popularity.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from shopmind.errors import InputError
from shopmind.recommend.base import Histories, Recommender, TrainingData, register

SIMILARITIES = ("cosine", "pearson")


# ------------------------------------------------------------------ sparse helpers (shared)


def keep_top_n(matrix: sp.spmatrix, n: int) -> sp.csr_matrix:
    """The ``n`` largest entries of each row of ``matrix`` (float32 CSR, zeros dropped).

    >>> m = sp.csr_matrix(np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]]))
    >>> keep_top_n(m, 2).toarray().tolist()
    [[3.0, 0.0, 2.0], [0.0, 5.0, 4.0]]
    """
    m = sp.csr_matrix(matrix, dtype=np.float32)
    m.sum_duplicates()
    m.eliminate_zeros()
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    order = np.lexsort((-m.data, rows))  # row by row, largest first
    rank = np.arange(m.nnz) - m.indptr[rows]  # rows[order] == rows: order keeps row blocks
    keep = order[rank < n]
    return sp.csr_matrix((m.data[keep], (rows[keep], m.indices[keep])), shape=m.shape,
                         dtype=np.float32)


def with_popularity_fallback(scores: np.ndarray, popularity: np.ndarray) -> np.ndarray:
    """Rank items a history left unscored (score ≤ 0) below the scored ones, by popularity.

    Scores must be non-negative; unscored items get ``popularity / max − 1 ∈ [−1, 0)``.
    """
    fallback = (popularity / max(float(popularity.max()), 1.0) - 1.0).astype(np.float32)
    unscored = scores <= 0
    scores[unscored] = np.broadcast_to(fallback, scores.shape)[unscored]
    return scores


def csr_state(prefix: str, matrix: sp.csr_matrix) -> dict[str, np.ndarray]:
    """A CSR matrix as plain arrays for :func:`numpy.savez` (no pickle)."""
    return {f"{prefix}_data": matrix.data, f"{prefix}_indices": matrix.indices,
            f"{prefix}_indptr": matrix.indptr, f"{prefix}_shape": np.asarray(matrix.shape)}


def csr_from_state(prefix: str, state: dict[str, np.ndarray]) -> sp.csr_matrix:
    """Inverse of :func:`csr_state`."""
    return sp.csr_matrix(
        (state[f"{prefix}_data"], state[f"{prefix}_indices"], state[f"{prefix}_indptr"]),
        shape=tuple(int(s) for s in state[f"{prefix}_shape"]),
    )


def _check_similarity(similarity: str, shrink: float, k: int) -> None:
    if similarity not in SIMILARITIES:
        raise InputError(f"similarity must be one of {SIMILARITIES}, got {similarity!r}")
    if shrink < 0:
        raise InputError(f"shrink must be >= 0, got {shrink!r}")
    if k < 1:
        raise InputError(f"k (neighbours) must be at least 1, got {k!r}")


def _norms(squares: np.ndarray, sums: np.ndarray, n: int, similarity: str
           ) -> tuple[np.ndarray, np.ndarray]:
    """(norm, centre) per vector: ``sim = (dot − centre_a·centre_b) / (norm_a·norm_b + shrink)``.

    Cosine: ``norm = ‖x‖``, ``centre = 0``. Pearson over all ``n`` entries:
    ``norm = sqrt(Σx² − n·mean²)``, ``centre = sqrt(n)·mean`` (so ``cov = dot − n·μ_a·μ_b``).
    """
    if similarity == "cosine":
        return np.sqrt(squares), np.zeros_like(squares)
    mean = sums / n
    return np.sqrt(np.maximum(squares - n * mean ** 2, 0.0)), np.sqrt(n) * mean


def _sparse_similarity(dots: sp.spmatrix, a: tuple[np.ndarray, np.ndarray],
                       b: tuple[np.ndarray, np.ndarray], shrink: float) -> sp.csr_matrix:
    """Similarities on the stored entries of ``dots`` only (pairs that co-occur)."""
    (norm_a, centre_a), (norm_b, centre_b) = a, b
    coo = dots.tocoo()
    r, c = coo.row, coo.col
    v = (coo.data - centre_a[r] * centre_b[c]) / (norm_a[r] * norm_b[c] + shrink + 1e-12)
    return sp.csr_matrix((v.astype(np.float32), (r, c)), shape=dots.shape)


def _dense_similarity(dots: np.ndarray, a: tuple[np.ndarray, np.ndarray],
                      b: tuple[np.ndarray, np.ndarray], shrink: float) -> np.ndarray:
    (norm_a, centre_a), (norm_b, centre_b) = a, b
    out = np.asarray(dots, dtype=np.float64) - np.outer(centre_a, centre_b)
    out /= np.outer(norm_a, norm_b) + shrink + 1e-12
    return out.astype(np.float32)


# ------------------------------------------------------------------------------ models


@register("itemknn")
class ItemKNN(Recommender):
    """Item-based kNN: the history's items vote for their ``k`` most similar items.

    Parameters
    ----------
    similarity : {"cosine", "pearson"}, default "pearson"
    k : int, default 100
        Neighbours kept per item.
    shrink : float, default 30.0
        Added to the similarity's denominator.
    """

    similarity_: sp.csr_matrix  # (n_items, n_items), row i = neighbours of item i

    def __init__(self, *, similarity: str = "pearson", k: int = 100,
                 shrink: float = 30.0) -> None:
        self.similarity = similarity
        self.k = k
        self.shrink = shrink

    def _fit(self, data: TrainingData) -> None:
        _check_similarity(self.similarity, self.shrink, self.k)
        x = data.matrix(binary=True).astype(np.float64)  # (U, I)
        gram = (x.T @ x).tocsr()  # (I, I) co-occurrence counts
        counts = np.asarray(x.sum(axis=0)).ravel()  # binary: sum == squared norm
        norms = _norms(counts, counts, x.shape[0], self.similarity)
        sim = _sparse_similarity(gram, norms, norms, self.shrink).tocoo()
        keep = (sim.row != sim.col) & (sim.data > 0)  # no self-similarity, no negatives
        sim = sp.csr_matrix((sim.data[keep], (sim.row[keep], sim.col[keep])), shape=sim.shape)
        self.similarity_ = keep_top_n(sim, self.k)

    def _score(self, histories: Histories) -> np.ndarray:
        query = histories.to_csr(self.n_items_, binary=True)
        scores = (query @ self.similarity_).toarray()
        return with_popularity_fallback(scores, self.item_popularity_)

    def _state(self) -> dict[str, np.ndarray]:
        return csr_state("similarity", self.similarity_)

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.similarity_ = csr_from_state("similarity", state)


@register("userknn")
class UserKNN(Recommender):
    """User-based kNN: the ``k`` training users most similar to a history vote for items.

    Parameters
    ----------
    similarity : {"cosine", "pearson"}, default "cosine"
    k : int, default 100
        Neighbouring users per history.
    shrink : float, default 10.0
        Added to the similarity's denominator.
    """

    user_items_: sp.csr_matrix  # (n_users, n_items) binary training matrix

    def __init__(self, *, similarity: str = "cosine", k: int = 100,
                 shrink: float = 10.0) -> None:
        self.similarity = similarity
        self.k = k
        self.shrink = shrink

    def _fit(self, data: TrainingData) -> None:
        _check_similarity(self.similarity, self.shrink, self.k)
        self.user_items_ = data.matrix(binary=True).astype(np.float32)

    def _score(self, histories: Histories) -> np.ndarray:
        x = self.user_items_
        query = histories.to_csr(self.n_items_, binary=True)
        dots = (query @ x.T).toarray()  # (B, U)
        q_counts = np.asarray(query.sum(axis=1), dtype=np.float64).ravel()
        u_counts = np.diff(x.indptr).astype(np.float64)
        sim = _dense_similarity(
            dots, _norms(q_counts, q_counts, self.n_items_, self.similarity),
            _norms(u_counts, u_counts, self.n_items_, self.similarity), self.shrink)
        k = min(self.k, sim.shape[1])
        top = np.argpartition(-sim, k - 1, axis=1)[:, :k]  # (B, k) neighbour users
        top_sim = np.maximum(np.take_along_axis(sim, top, axis=1), 0.0)
        rows = np.repeat(np.arange(len(histories)), k)
        neighbours = sp.csr_matrix((top_sim.ravel(), (rows, top.ravel())), shape=sim.shape)
        scores = (neighbours @ x).toarray()
        return with_popularity_fallback(scores, self.item_popularity_)

    def _state(self) -> dict[str, np.ndarray]:
        return csr_state("user_items", self.user_items_)

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.user_items_ = csr_from_state("user_items", state)
