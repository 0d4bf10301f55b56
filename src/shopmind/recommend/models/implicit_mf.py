"""Matrix factorization through the ``implicit`` library: ``als`` and ``bpr``.

* ``als``: weighted matrix factorization for implicit feedback (Hu, Koren & Volinsky,
  "Collaborative Filtering for Implicit Feedback Datasets", ICDM 2008), with the conjugate
  gradient solver of Takács, Pilászy & Tikk (RecSys 2011) — ``implicit.cpu.als``.
* ``bpr``: Bayesian personalized ranking (Rendle et al., UAI 2009) — ``implicit.cpu.bpr``.

Training is implicit's; this module only adapts it to the :class:`Recommender` protocol.
Because models here score *histories* rather than trained user ids, every history is folded
in against the fixed item factors:

* ALS: implicit's ``recalculate_user``, the exact least-squares step for that user (Hu et
  al. §4) — as good as the trained user factors (Beauty validation NDCG@10 0.0352 vs 0.0353);
* BPR: implicit has no fold-in, and the least-squares step on BPR's item vectors ranks
  no better than chance (validation NDCG@10 0.0001 on Beauty). A history is instead the
  normalised sum of its item vectors, ``u = Σ_{i∈h} v_i / |h| ** fold_in_exponent``, the
  item-based user of NSVD / FISM (Paterek, KDD Cup 2007; Kabbur, Ning & Karypis, KDD 2013),
  plus BPR's item bias — which beats BPR's own trained user vectors on the validation
  targets (Beauty 0.0261 vs 0.0229, ML-1M 0.0360 vs 0.0330, with 64 factors).

Defaults were tuned on the validation items of Amazon Beauty and ML-1M together: wide
factors (256) with strong ridge (ALS) or weak L2 (BPR), and ALS's confidence scaled to the
density of the data (sparse shop logs need a much larger α than dense rating logs).
Threads are explicit (``num_threads``) and BLAS is held to one thread while implicit works,
as implicit recommends.
"""

from __future__ import annotations

import abc
import logging
from contextlib import AbstractContextManager
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from shopmind.errors import InputError
from shopmind.recommend.base import Histories, Recommender, TrainingData, register

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    # Scanning the loaded libraries costs milliseconds: do it once, not on every request.
    return ThreadpoolController()


def _one_blas_thread() -> AbstractContextManager[Any]:
    """Limit BLAS to one thread (implicit's solvers parallelize themselves)."""
    return _controller().limit(limits=1, user_api="blas")


class _ImplicitFactorization(Recommender):
    """Shared parts: confidence matrix, threads, dot-product scores, state."""

    item_factors_: np.ndarray  # (n_items, factors) float32
    item_bias_: np.ndarray  # (n_items,) float32 (zeros for ALS)

    factors: int
    num_threads: int
    random_state: int | None

    def _confidence(self, histories: Histories) -> sp.csr_matrix:
        """(B, n_items) interaction strengths; repeated events add up."""
        return histories.to_csr(self.n_items_).astype(np.float32)

    def _check_common(self) -> None:
        if self.factors < 1:
            raise InputError(f"{self.name}: factors must be at least 1, got {self.factors!r}")
        if self.num_threads < 0:
            raise InputError(
                f"{self.name}: num_threads must be >= 0 (0 = all cores), got {self.num_threads!r}"
            )

    @abc.abstractmethod
    def user_factors(self, histories: Histories) -> np.ndarray:
        """Fold histories in: (B, factors) user vectors against the fixed item factors."""

    def _score(self, histories: Histories) -> np.ndarray:
        users = self.user_factors(histories)  # (B, f)
        return users @ self.item_factors_.T + self.item_bias_  # (B, n_items)

    def _state(self) -> dict[str, np.ndarray]:
        return {"item_factors_": self.item_factors_, "item_bias_": self.item_bias_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.item_factors_ = state["item_factors_"]
        self.item_bias_ = state["item_bias_"]


@register("als")
class ALS(_ImplicitFactorization):
    """Implicit-feedback ALS (``implicit.cpu.als.AlternatingLeastSquares``).

    Parameters
    ----------
    factors : int, default 256
    regularization : float, default 10.0
    alpha : float or None, default None
        Confidence of an observed interaction, ``c = alpha · strength`` (Hu et al.'s α).
        None scales it to the data like scikit-learn's ``gamma="scale"``:
        ``alpha = max(1, AUTO_POSITIVE_SHARE / density)`` (density = observed share of the
        user × item matrix), so observed entries carry a fixed share of the total
        confidence whether the data is sparse (Amazon Beauty: α ≈ 85) or dense (ML-1M: α ≈ 1),
        never less than an unobserved entry's.
    iterations : int, default 15
    num_threads : int, default 0
        Threads for implicit (0 = all cores).
    random_state : int or None, default None

    Attributes
    ----------
    alpha_ : float
        The confidence scale actually used.
    """

    #: Positive-to-negative confidence mass targeted by ``alpha=None`` (tuned on validation).
    AUTO_POSITIVE_SHARE = 0.05

    alpha_: float

    def __init__(self, *, factors: int = 256, regularization: float = 10.0,
                 alpha: float | None = None, iterations: int = 15, num_threads: int = 0,
                 random_state: int | None = None) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.num_threads = num_threads
        self.random_state = random_state

    def user_factors(self, histories: Histories) -> np.ndarray:
        """Least-squares fold-in by implicit's ``recalculate_user`` (B, factors)."""
        self._check_fitted()
        solver = getattr(self, "_solver", None)
        if solver is None or solver.item_factors is not self.item_factors_:
            from implicit.cpu.als import AlternatingLeastSquares

            with _one_blas_thread():
                solver = AlternatingLeastSquares(
                    factors=self.item_factors_.shape[1], regularization=self.regularization,
                    alpha=self.alpha_, num_threads=self.num_threads)
            solver.item_factors = self.item_factors_
            self._solver = solver
        with _one_blas_thread():
            return solver.recalculate_user(np.arange(len(histories)),
                                           self._confidence(histories))

    def _fit(self, data: TrainingData) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        self._check_common()
        if self.alpha is not None and not self.alpha > 0:
            raise InputError(f"als: alpha must be positive or None (auto), got {self.alpha!r}")
        confidence = self._confidence(data.histories)
        density = max(confidence.nnz, 1) / (confidence.shape[0] * confidence.shape[1])
        self.alpha_ = float(self.alpha if self.alpha is not None
                            else max(1.0, self.AUTO_POSITIVE_SHARE / density))
        logger.info("als: confidence alpha %.3g (density %.2g)", self.alpha_, density)
        rng = np.random.default_rng(self.random_state)
        with _one_blas_thread():
            model = AlternatingLeastSquares(
                factors=self.factors, regularization=self.regularization, alpha=self.alpha_,
                iterations=self.iterations, num_threads=self.num_threads, random_state=rng)
            model.fit(confidence, show_progress=False)
        self.item_factors_ = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        self.item_bias_ = np.zeros(self.n_items_, dtype=np.float32)
        self._solver = None

    def _state(self) -> dict[str, np.ndarray]:
        return {**super()._state(), "alpha_": np.asarray(self.alpha_)}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        super()._set_state(state)
        self.alpha_ = float(state["alpha_"])


@register("bpr")
class BPR(_ImplicitFactorization):
    """Bayesian personalized ranking (``implicit.cpu.bpr.BayesianPersonalizedRanking``).

    Parameters
    ----------
    factors : int, default 256
    learning_rate : float, default 0.05
    regularization : float, default 0.001
    iterations : int, default 100
    fold_in_exponent : float, default 0.5
        A history's user vector is the sum of its item vectors divided by
        ``len(history) ** fold_in_exponent``.
    num_threads : int, default 0
        Threads for implicit (0 = all cores).
    random_state : int or None, default None
    """

    def __init__(self, *, factors: int = 256, learning_rate: float = 0.05,
                 regularization: float = 0.001, iterations: int = 100,
                 fold_in_exponent: float = 0.5,
                 num_threads: int = 0, random_state: int | None = None) -> None:
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.fold_in_exponent = fold_in_exponent
        self.num_threads = num_threads
        self.random_state = random_state

    def user_factors(self, histories: Histories) -> np.ndarray:
        """Item-based fold-in: ``Σ_{i∈h} v_i / |h| ** fold_in_exponent`` (B, factors)."""
        self._check_fitted()
        query = histories.to_csr(self.n_items_, binary=True)
        sizes = np.maximum(np.asarray(query.sum(axis=1)).ravel(), 1.0)
        return np.asarray(query @ self.item_factors_) / sizes[:, None] ** self.fold_in_exponent

    def _fit(self, data: TrainingData) -> None:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        self._check_common()
        rng = np.random.default_rng(self.random_state)
        with _one_blas_thread():
            model = BayesianPersonalizedRanking(
                factors=self.factors, learning_rate=self.learning_rate,
                regularization=self.regularization, iterations=self.iterations,
                num_threads=self.num_threads, random_state=rng)
            model.fit(self._confidence(data.histories), show_progress=False)
        # implicit appends the item bias as the last factor (users hold a constant 1 there).
        factors = np.asarray(model.item_factors, dtype=np.float32)
        self.item_factors_ = np.ascontiguousarray(factors[:, :-1])
        self.item_bias_ = np.ascontiguousarray(factors[:, -1])
