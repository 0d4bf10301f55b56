"""The default sentiment model: n-gram NB-SVM and embedding head, combined if that wins.

Stacking (Wolpert, *Stacked Generalization*, 1992) on a held-out slice of the training data:

1. split the training texts (stratified) into a fitting part and a validation part
   (``val_fraction``), or, for small sets, into 5 folds scored out-of-fold;
2. fit :class:`~shopmind.reviews.ngram_model.NgramSentiment` and
   :class:`~shopmind.reviews.embedding_model.EmbeddingSentiment` on the fitting part and
   score the validation part;
3. on the validation part, compare the n-gram model, the embedding model and a logistic
   regression on their two logits (the combiner's own scores come from 5-fold
   cross-validation there, so it is not judged on what it was fitted to); keep the best by
   macro-F1 and its macro-F1-maximizing decision threshold;
4. refit the base models the winner needs on all training texts.

``validation_`` records every candidate's validation accuracy and macro-F1 and the winner.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split

from shopmind.reviews.base import (
    SentimentModel,
    prefixed,
    register_model,
    sub_arrays,
)
from shopmind.reviews.embedding_model import EmbeddingSentiment
from shopmind.reviews.metrics import best_threshold, binary_scores
from shopmind.reviews.ngram_model import NgramSentiment

logger = logging.getLogger(__name__)
CANDIDATES = ("ngram", "embedding", "stack")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


@register_model("stack")
class StackedSentiment(SentimentModel):
    """N-gram NB-SVM + sentence-embedding head, combined by a validated logistic blend.

    Parameters
    ----------
    C_grid : tuple of float, default (1, 4, 16)
        Regularization strengths of the n-gram model tried on the validation texts (the
        best by macro-F1 is kept as ``C_``).
    backend : str, default "use"
        Embedding backend of the embedding model.
    val_fraction : float, default 0.2
        Share of the training texts held out to choose and weigh the models (large sets).
    kfold_max_rows : int, default 20000
        Up to this many training texts, 5-fold out-of-fold scores replace the hold-out
        (small sets give too few validation reviews, e.g. 30 negatives, to choose on).
    cache_dir : str or None
        Embedding cache folder.
    random_state : int, default 0
    """

    def __init__(self, *, C_grid: tuple[float, ...] = (1.0, 4.0, 16.0), backend: str = "use",
                 val_fraction: float = 0.2, kfold_max_rows: int = 20_000,
                 cache_dir: str | None = None, random_state: int = 0) -> None:
        self.C_grid = C_grid
        self.backend = backend
        self.val_fraction = val_fraction
        self.kfold_max_rows = kfold_max_rows
        self.cache_dir = cache_dir
        self.random_state = random_state

    def _bases(self, C: float) -> tuple[NgramSentiment, EmbeddingSentiment]:
        return (NgramSentiment(C=C),
                EmbeddingSentiment(backend=self.backend, cache_dir=self.cache_dir,
                                   random_state=self.random_state))

    def _validation_logits(self, texts: list[str], vectors: np.ndarray, y: np.ndarray
                           ) -> tuple[np.ndarray, np.ndarray]:
        """Out-of-sample logits (n_val, 2) of both base models and the rows they belong to.

        Up to ``kfold_max_rows`` texts every text is scored by models fitted on the other
        folds (5-fold); above it, one stratified hold-out of ``val_fraction`` is enough.
        """
        rows = np.arange(len(texts))
        if len(texts) <= self.kfold_max_rows:
            splits = list(StratifiedKFold(5, shuffle=True, random_state=self.random_state)
                          .split(rows, y))
        else:
            fit_rows, val_rows = train_test_split(rows, test_size=self.val_fraction,
                                                  stratify=y, random_state=self.random_state)
            splits = [(fit_rows, val_rows)]
        parts = []
        for fit_rows, val_rows in splits:
            features = NgramSentiment()._features()
            X_fit = features.fit_transform([texts[i] for i in fit_rows])  # once for all C
            X_val = features.transform([texts[i] for i in val_rows])
            by_c = [NgramSentiment(C=c).fit_matrix(X_fit, y[fit_rows], features)
                    .decision_matrix(X_val) for c in self.C_grid]
            emb = self._bases(self.C_grid[0])[1]
            emb.fit_vectors(vectors[fit_rows], y[fit_rows])
            parts.append(np.c_[np.stack(by_c, axis=1),
                               _logit(emb.proba_vectors(vectors[val_rows])), val_rows])
        stacked = np.concatenate(parts)  # (n_val, len(C_grid) + 2)
        val_rows = stacked[:, -1].astype(np.int64)
        f1_by_c = [binary_scores(y[val_rows], stacked[:, j] >= 0)["macro_f1"]
                   for j in range(len(self.C_grid))]
        best = int(np.argmax(f1_by_c))
        self.C_ = float(self.C_grid[best])
        return stacked[:, [best, -2]], val_rows

    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        vectors = self._bases(self.C_grid[0])[1].embed(texts)  # (n, d), embedded once
        z, val_rows = self._validation_logits(texts, vectors, y)  # (n_val, 2)
        y_val = y[val_rows]
        folds = StratifiedKFold(5, shuffle=True, random_state=self.random_state)
        meta = LogisticRegression()
        scores = {"ngram": 1 / (1 + np.exp(-z[:, 0])), "embedding": 1 / (1 + np.exp(-z[:, 1])),
                  "stack": cross_val_predict(meta, z, y_val, cv=folds,
                                             method="predict_proba")[:, 1]}
        report: dict[str, Any] = {}
        for name, p in scores.items():
            threshold = best_threshold(y_val, p)
            report[name] = {**binary_scores(y_val, p >= threshold), "threshold": threshold}
        self.mode_ = max(CANDIDATES, key=lambda n: report[n]["macro_f1"])
        runner_up = max((n for n in CANDIDATES if n != self.mode_),
                        key=lambda n: report[n]["macro_f1"])
        self.validation_ = {"n_validation": len(val_rows), "ngram_C": self.C_, "candidates": report,
                            "winner": self.mode_, "runner_up": runner_up,
                            "margin_macro_f1": report[self.mode_]["macro_f1"]
                            - report[runner_up]["macro_f1"]}
        self.threshold_ = report[self.mode_]["threshold"]
        meta.fit(z, y_val)
        self.blend_ = np.r_[meta.coef_.ravel(), meta.intercept_].astype(np.float64)
        logger.info("sentiment validation: %s wins by %.4f macro-F1 over %s",
                    self.mode_, self.validation_["margin_macro_f1"], runner_up)
        # refit what the winner uses on every training text
        self.ngram_, self.embedding_ = self._bases(self.C_)
        if self.mode_ != "embedding":
            self.ngram_._fit(texts, y)
        if self.mode_ != "ngram":
            self.embedding_.fit_vectors(vectors, y)

    def _proba(self, texts: list[str]) -> np.ndarray:
        if self.mode_ == "ngram":
            return self.ngram_._proba(texts)
        if self.mode_ == "embedding":
            return self.embedding_._proba(texts)
        # One after the other: the encoder's BLAS threads take every core, and n-gram
        # hashing beside them (one more thread) made both several times slower.
        ngram_logits = self.ngram_.decision(texts)
        logits = self.blend_[0] * ngram_logits + \
            self.blend_[1] * _logit(self.embedding_._proba(texts)) + self.blend_[2]
        return 1.0 / (1.0 + np.exp(-logits))

    def _state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays: dict[str, np.ndarray] = {"blend": self.blend_}
        info: dict[str, Any] = {"mode": self.mode_, "C": self.C_, "validation": self.validation_}
        for prefix, model in (("ngram", self.ngram_), ("embedding", self.embedding_)):
            if model.fitted:  # the winner may need only one of the two
                sub, sub_info = model._state()
                arrays.update(prefixed(sub, prefix))
                info[prefix] = sub_info
        return arrays, info

    def _restore(self, arrays: dict[str, np.ndarray], info: dict[str, Any]) -> None:
        self.mode_ = info["mode"]
        self.validation_ = info["validation"]
        self.blend_ = arrays["blend"]
        self.C_ = float(info["C"])
        self.ngram_, self.embedding_ = self._bases(self.C_)
        for prefix, model in (("ngram", self.ngram_), ("embedding", self.embedding_)):
            if prefix in info:
                model._restore(sub_arrays(arrays, prefix), info[prefix])
                model.fitted_ = True
