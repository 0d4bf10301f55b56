"""NB-SVM-style sentiment on hashed character and word n-grams.

Wang & Manning, *Baselines and Bigrams: Simple, Good Sentiment and Topic Classification*
(ACL 2012): scale each feature by its naive-Bayes log-count ratio
``r = log((p / |p|₁) / (q / |q|₁))`` (``p``, ``q``: feature sums over positive / negative
texts plus ``alpha``), then fit a linear classifier — here L2 logistic regression with
balanced class weights, so a 92 %-positive set still learns its negatives.

>>> m = NgramSentiment(n_features=2**12).fit(
...     ["great, love it", "love it", "terrible, broke", "broke fast"], [1, 1, 0, 0])
>>> m.predict(["love it", "it broke"]).tolist()
[1, 0]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from shopmind.errors import NotFittedError
from shopmind.reviews.base import SentimentModel, register_model
from shopmind.reviews.ngrams import NgramFeatures


@register_model("ngram")
class NgramSentiment(SentimentModel):
    """Logistic regression on NB-scaled TF-IDF n-grams.

    Parameters
    ----------
    C : float, default 4.0
        Inverse L2 strength of the logistic regression.
    alpha : float, default 1.0
        Smoothing of the naive-Bayes ratios (0 turns NB scaling off: plain TF-IDF + LR).
    n_features : int, default 2**20
        Hash buckets per block (see :class:`~shopmind.reviews.ngrams.NgramFeatures`).
    min_df : int, default 2
        Buckets in fewer training texts are ignored.
    """

    def __init__(self, *, C: float = 4.0, alpha: float = 1.0, n_features: int = 2**20,
                 min_df: int = 2) -> None:
        self.C = C
        self.alpha = alpha
        self.n_features = n_features
        self.min_df = min_df

    def _features(self) -> NgramFeatures:
        return NgramFeatures(n_features=self.n_features, min_df=self.min_df)

    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        features = self._features()
        self.fit_matrix(features.fit_transform(texts), y, features)

    def fit_matrix(self, X: sp.csr_matrix, y: np.ndarray, features: NgramFeatures
                   ) -> NgramSentiment:
        """Fit on features already computed by the fitted ``features`` (shared by a C grid)."""
        self.features_ = features
        if self.alpha > 0:
            p = self.alpha + np.asarray(X[y == 1].sum(axis=0)).ravel()
            q = self.alpha + np.asarray(X[y == 0].sum(axis=0)).ravel()
            self.ratio_ = np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)
        else:
            self.ratio_ = np.ones(X.shape[1], dtype=np.float32)
        clf = LogisticRegression(C=self.C, solver="liblinear", class_weight="balanced",
                                 max_iter=1000)
        clf.fit(X.multiply(self.ratio_).tocsr(), y)
        self.coef_ = (clf.coef_.ravel() * self.ratio_).astype(np.float32)  # fold r into w
        self.intercept_ = float(clf.intercept_[0])
        self.fitted_ = True
        return self

    def decision_matrix(self, X: sp.csr_matrix) -> np.ndarray:
        """(n,) logits of precomputed features."""
        return X @ self.coef_ + self.intercept_

    def decision(self, texts: list[str]) -> np.ndarray:
        """(n,) logits of normalized texts."""
        return self.features_.transform(texts) @ self.coef_ + self.intercept_

    def _proba(self, texts: list[str]) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.decision(texts)))

    def _state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        # only the buckets with a weight are stored: a 2**21 dense vector is mostly zeros
        idf = self.features_.idf_
        if idf is None:
            raise NotFittedError("n-gram features are not fitted")
        nz = np.flatnonzero(idf).astype(np.int64)
        return ({"nz": nz, "coef": self.coef_[nz], "idf": idf[nz]},
                {"intercept": self.intercept_, "dim": int(self.coef_.size)})

    def _restore(self, arrays: dict[str, np.ndarray], info: dict[str, Any]) -> None:
        dim = int(info["dim"])
        self.coef_ = np.zeros(dim, dtype=np.float32)
        self.coef_[arrays["nz"]] = arrays["coef"]
        self.features_ = self._features()
        self.features_.idf_ = np.zeros(dim, dtype=np.float32)
        self.features_.idf_[arrays["nz"]] = arrays["idf"]
        self.intercept_ = float(info["intercept"])
