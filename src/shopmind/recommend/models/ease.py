"""EASE: the embarrassingly shallow autoencoder, an item-item model in closed form.

Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019. With the binary
interaction matrix ``X`` (users × items) and ``P = (XᵀX + λI)⁻¹``, the item-item weights that
minimise ``‖X − XB‖² + λ‖B‖²`` subject to ``diag(B) = 0`` are

    B = I − P · diag(1 / diag(P)),  i.e.  B_ij = −P_ij / P_jj  (i ≠ j),

and a history ``x`` is scored ``x B``. The Gram matrix is dense (n_items²), so the model
refuses catalogs larger than ``max_items`` with a clear error instead of exhausting memory.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.linalg

from shopmind.errors import InputError
from shopmind.recommend.base import Histories, Recommender, TrainingData, register

logger = logging.getLogger(__name__)

_BLOCK = 2048  # rows handled at once when post-processing the inverse


def ease_weights(gram: np.ndarray, l2: float) -> np.ndarray:
    """The EASE item-item matrix ``B`` from the Gram matrix ``XᵀX`` (float32, C order).

    Overwrites ``gram`` (float32 or float64): a Cholesky factorisation and inverse in place,
    so the only other n_items² buffer is the float32 result.

    >>> ease_weights(np.array([[2.0, 1.0], [1.0, 2.0]]), 1.0).astype(float).round(4).tolist()
    [[0.0, 0.3333], [0.3333, 0.0]]
    """
    gram[np.diag_indices_from(gram)] += l2
    # A symmetric matrix equals its transpose: hand LAPACK the Fortran-ordered view so it
    # works in place instead of copying.
    potrf, potri = scipy.linalg.lapack.get_lapack_funcs(("potrf", "potri"), (gram,))
    factor, info = potrf(gram.T, lower=1, overwrite_a=1, clean=0)
    if info != 0:
        raise InputError(f"ease: XᵀX + l2·I is not positive definite (l2={l2}); raise l2")
    precision, info = potri(factor, lower=1, overwrite_c=1)
    if info != 0:
        raise InputError(f"ease: could not invert XᵀX + l2·I (LAPACK info {info})")
    n = precision.shape[0]
    for start in range(0, n, _BLOCK):  # potri fills the lower triangle: mirror it by blocks
        stop = min(start + _BLOCK, n)
        precision[start:stop, stop:] = precision[stop:, start:stop].T
        block = precision[start:stop, start:stop]
        block[np.triu_indices(stop - start, 1)] = block.T[np.triu_indices(stop - start, 1)]
    scale = -np.diag(precision).copy()
    weights = np.empty((n, n), dtype=np.float32)
    for start in range(0, n, _BLOCK):  # B_ij = -P_ij / P_jj, zero diagonal
        stop = min(start + _BLOCK, n)
        weights[start:stop] = precision[start:stop] / scale
        weights[np.arange(start, stop), np.arange(start, stop)] = 0.0
    return weights


@register("ease")
class EASE(Recommender):
    """Closed-form linear item-item autoencoder (Steck 2019).

    Parameters
    ----------
    l2 : float, default 100.0
        Ridge penalty λ on the weights.
    max_items : int, default 30000
        Largest catalog accepted: fitting holds two float32 n_items² matrices, 8·n_items²
        bytes (30k items ≈ 7 GiB).
    """

    weights_: np.ndarray  # (n_items, n_items) float32, zero diagonal

    def __init__(self, *, l2: float = 100.0, max_items: int = 30_000) -> None:
        self.l2 = l2
        self.max_items = max_items

    def _fit(self, data: TrainingData) -> None:
        if not self.l2 > 0:
            raise InputError(f"ease: l2 must be positive, got {self.l2!r}")
        if data.n_items > self.max_items:
            gib = 8 * data.n_items ** 2 / 2 ** 30  # two float32 n_items² buffers
            raise InputError(
                f"ease: the catalog has {data.n_items} items, more than max_items="
                f"{self.max_items}; its dense Gram matrix would need about {gib:.1f} GiB. "
                "Use covisit or itemknn for catalogs this large, or raise max_items if the "
                "machine has the memory"
            )
        x = data.matrix(binary=True).astype(np.float32)
        # float32 is exact for co-occurrence counts below 2**24 and halves the memory.
        gram = (x.T @ x).toarray()
        logger.info("ease: inverting a %d x %d Gram matrix", *gram.shape)
        self.weights_ = ease_weights(gram, float(self.l2))

    def _score(self, histories: Histories) -> np.ndarray:
        query = histories.to_csr(self.n_items_, binary=True)
        return np.asarray(query @ self.weights_, dtype=np.float32)

    def _state(self) -> dict[str, np.ndarray]:
        return {"weights_": self.weights_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.weights_ = state["weights_"]
