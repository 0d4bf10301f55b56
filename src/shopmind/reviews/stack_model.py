"""The default sentiment model: n-gram NB-SVM and sentence-encoder heads, combined if that wins.

Stacking (Wolpert, *Stacked Generalization*, 1992) on a held-out slice of the training data:

1. split the training texts (stratified, identical texts kept on one side) into a fitting
   part and a validation part (``val_fraction``), or, for small sets, into 5 folds scored
   out-of-fold;
2. fit :class:`~shopmind.reviews.ngram_model.NgramSentiment` and one
   :class:`~shopmind.reviews.embedding_model.EmbeddingSentiment` per encoder in ``backends``
   on the fitting part and score the validation part;
3. on the validation part, compare every base model alone and logistic regressions on the
   logits of n-grams + each encoder and of all of them (a combiner's own scores come from
   5-fold cross-validation there, so it is not judged on what it was fitted to); keep the
   best by macro-F1 and its macro-F1-maximizing decision threshold;
4. refit the base models the winner needs on all training texts;
5. when the winner blends n-grams with an encoder, choose a :mod:`~shopmind.reviews.cascade`
   band on the same validation texts: clear texts are then decided by n-grams alone and
   only the others are embedded (``cascade_tolerance``; None turns it off).

``validation_`` records every candidate's validation accuracy and macro-F1 and the winner.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

from shopmind.errors import InputError
from shopmind.reviews.base import (
    SentimentModel,
    prefixed,
    register_model,
    sub_arrays,
)
from shopmind.reviews.cascade import Band, choose_band
from shopmind.reviews.embedding_model import EmbeddingSentiment
from shopmind.reviews.metrics import best_threshold, binary_scores
from shopmind.reviews.ngram_model import NgramSentiment

logger = logging.getLogger(__name__)
NGRAM = "ngram"
#: Encoders of ``backends=None`` for training sets up to / above ``kfold_max_rows`` texts.
SMALL_SET_BACKENDS = ("e5-fast",)
LARGE_SET_BACKENDS = ("use",)
#: Training texts shorter than this in all (characters) embed in well under a minute: their
#: e5 cost is not estimated (Alexa's 1,753 reviews hold ~230k).
ESTIMATE_MIN_CHARS = 1_000_000


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _finite(value: float) -> float | None:
    """``value``, or None for ±inf (an open side of the cascade band; JSON has no inf)."""
    return value if np.isfinite(value) else None


def _duplicate_groups(texts: list[str]) -> np.ndarray:
    """(n,) group id per text, equal for identical texts.

    Validation folds keep copies of a review together: review sets repeat short texts
    ("love it!" 40 times), and a copy on both sides rewards the model that memorizes
    (n-grams) over the one that generalizes, which unseen reviews then punish.
    """
    return np.unique(np.asarray(texts, dtype=object).astype(str), return_inverse=True)[1]


def _fold_count(texts: list[str], y: np.ndarray, most: int = 5) -> int:
    """Folds for out-of-fold scores: up to ``most``, no more than the distinct texts of
    the rarer class (each fold needs both classes); fewer than 2 is an error.

    >>> _fold_count(["a", "b", "c", "d", "e", "a"], np.array([1, 1, 1, 0, 0, 0]))
    3
    """
    distinct = {label: len({t for t, v in zip(texts, y, strict=True) if v == label})
                for label in (0, 1)}
    rarer = min(distinct, key=lambda label: distinct[label])
    if distinct[rarer] < 2:
        raise InputError("the stacked sentiment model needs at least 2 different texts of "
                         f"each class to validate on; class {rarer} has {distinct[rarer]} "
                         "(add labelled reviews, or train --model ngram)")
    return min(most, distinct[rarer])


@register_model("stack")
class StackedSentiment(SentimentModel):
    """N-gram NB-SVM + sentence-encoder heads, combined by a validated logistic blend.

    Parameters
    ----------
    C_grid : tuple of float, default (1, 4, 16)
        Regularization strengths of the n-gram model tried on the validation texts (the
        best by macro-F1 is kept as ``C_``).
    backends : tuple of str or None, default None
        Embedding backends, one head each (see :mod:`shopmind.text.embeddings`). None
        picks by training-set size: e5-small (``e5-fast``) up to ``kfold_max_rows`` texts,
        where few labels make the pretrained encoder's knowledge count most (Alexa,
        1.9k reviews: macro-F1 on unseen texts 0.838 vs 0.767 with USE); the 6x cheaper
        multilingual USE above it, where the n-grams carry the model and either encoder
        adds the same (online_shopping_10_cats, 50k reviews: 0.9419 accuracy with either,
        USE in 5 minutes, e5 in 20).
    val_fraction : float, default 0.2
        Share of the training texts held out to choose and weigh the models (large sets).
    encoder_budget_s : float or None, default 600
        Longest the small-set encoder (e5) may take, estimated on a sample, to embed the
        training texts; longer (long reviews on a CPU without bfloat16: 20k reviews of 300
        tokens take ~50 minutes in float32 on two AVX2 cores) and the large-set one is used,
        so ``eval-sentiment`` stays inside its 30 minutes. None: no estimate.
    kfold_max_rows : int, default 20000
        Up to this many training texts, 5-fold out-of-fold scores replace the hold-out
        (small sets give too few validation reviews, e.g. 30 negatives, to choose on).
    cache_dir : str or None
        Embedding cache folder.
    cascade_tolerance : float or None, default 0.001
        Macro-F1 the n-gram-first cascade may lose on the validation texts (see
        :mod:`~shopmind.reviews.cascade`); an encoder alone also gives way to its blend
        with n-grams when that blend is within this much of it, since only a blend can be
        cascaded. None embeds every text.
    random_state : int, default 0
    """

    def __init__(self, *, C_grid: tuple[float, ...] = (1.0, 4.0, 16.0),
                 backends: tuple[str, ...] | None = None, val_fraction: float = 0.2,
                 kfold_max_rows: int = 20_000, encoder_budget_s: float | None = 600.0,
                 cache_dir: str | None = None,
                 cascade_tolerance: float | None = 0.001, random_state: int = 0) -> None:
        self.C_grid = C_grid
        self.backends = backends
        self.val_fraction = val_fraction
        self.kfold_max_rows = kfold_max_rows
        self.encoder_budget_s = encoder_budget_s
        self.cache_dir = cache_dir
        self.cascade_tolerance = cascade_tolerance
        self.random_state = random_state

    encoder_estimate_s_: float | None = None  # the last e5 cost estimate (None: none made)

    def _head(self, backend: str) -> EmbeddingSentiment:
        return EmbeddingSentiment(backend=backend, cache_dir=self.cache_dir,
                                  random_state=self.random_state)

    @property
    def _part_names(self) -> list[str]:
        return [NGRAM, *self.backends_]

    def _choose_backends(self, texts: list[str]) -> tuple[str, ...]:
        if self.backends is not None:
            return tuple(self.backends)
        if len(texts) > self.kfold_max_rows:
            return LARGE_SET_BACKENDS
        budget = self.encoder_budget_s
        if budget is not None and sum(map(len, texts)) > ESTIMATE_MIN_CHARS:
            self.encoder_estimate_s_ = self._head(SMALL_SET_BACKENDS[0]).seconds_to_embed(texts)
            if self.encoder_estimate_s_ > budget:
                logger.info("sentiment: e5 would take ~%.0f s to embed the training texts "
                            "(budget %.0f s); using %s", self.encoder_estimate_s_, budget,
                            ", ".join(LARGE_SET_BACKENDS))
                return LARGE_SET_BACKENDS
        return SMALL_SET_BACKENDS

    def _validation_logits(self, texts: list[str], vectors: dict[str, np.ndarray],
                           y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Out-of-sample logits (n_val, 1 + len(backends)) of every base model and their rows.

        Up to ``kfold_max_rows`` texts every text is scored by models fitted on the other
        folds (5-fold); above it, one stratified hold-out of ``val_fraction`` is enough.
        """
        rows, groups = np.arange(len(texts)), _duplicate_groups(texts)
        if len(texts) <= self.kfold_max_rows:
            splits = list(self._folds(self.n_folds_).split(rows, y, groups))
        else:
            n_splits = max(2, round(1 / self.val_fraction))
            splits = [next(self._folds(n_splits).split(rows, y, groups))]
        parts = []
        for fit_rows, val_rows in splits:
            features = NgramSentiment()._features()
            X_fit = features.fit_transform([texts[i] for i in fit_rows])  # once for all C
            X_val = features.transform([texts[i] for i in val_rows])
            by_c = [NgramSentiment(C=c).fit_matrix(X_fit, y[fit_rows], features)
                    .decision_matrix(X_val) for c in self.C_grid]
            heads = []
            for backend in self.backends_:
                head = self._head(backend).fit_vectors(vectors[backend][fit_rows], y[fit_rows])
                heads.append(_logit(head.proba_vectors(vectors[backend][val_rows])))
            parts.append(np.c_[np.stack(by_c, axis=1), np.stack(heads, axis=1), val_rows])
        stacked = np.concatenate(parts)  # (n_val, len(C_grid) + len(backends) + 1)
        val_rows = stacked[:, -1].astype(np.int64)
        n_c = len(self.C_grid)
        f1_by_c = [binary_scores(y[val_rows], stacked[:, j] >= 0)["macro_f1"]
                   for j in range(n_c)]
        best = int(np.argmax(f1_by_c))
        self.C_ = float(self.C_grid[best])
        return stacked[:, [best, *range(n_c, n_c + len(self.backends_))]], val_rows

    def _folds(self, n_splits: int) -> StratifiedGroupKFold:
        return StratifiedGroupKFold(n_splits, shuffle=True, random_state=self.random_state)

    def _candidates(self) -> dict[str, list[int]]:
        """Candidate name → columns of the validation logits it uses."""
        out: dict[str, list[int]] = {name: [j] for j, name in enumerate(self._part_names)}
        for j, backend in enumerate(self.backends_, start=1):
            out[f"{NGRAM}+{backend}"] = [0, j]
        if len(self.backends_) > 1:
            out["+".join(self._part_names)] = list(range(len(self._part_names)))
        return out

    def _fit(self, texts: list[str], y: np.ndarray) -> None:
        tolerance = self.cascade_tolerance
        if tolerance is not None and not 0.0 <= tolerance < 1.0:
            raise InputError(f"cascade_tolerance must be in [0, 1) or None, got {tolerance}")
        self.n_folds_ = _fold_count(texts, y)
        self.encoder_estimate_s_ = None
        self.backends_ = self._choose_backends(texts)
        vectors = {b: self._head(b).embed(texts) for b in self.backends_}  # embedded once
        z, val_rows = self._validation_logits(texts, vectors, y)
        y_val = y[val_rows]
        folds = list(self._folds(min(self.n_folds_, _fold_count(
            [texts[i] for i in val_rows], y_val))).split(val_rows, y_val, _duplicate_groups(
            [texts[i] for i in val_rows])))
        report: dict[str, Any] = {}
        for name, cols in self._candidates().items():
            p = (_sigmoid(z[:, cols[0]]) if len(cols) == 1 else
                 cross_val_predict(LogisticRegression(), z[:, cols], y_val, cv=folds,
                                   method="predict_proba")[:, 1])
            threshold = best_threshold(y_val, p)
            report[name] = {**binary_scores(y_val, p >= threshold), "threshold": threshold}
        ranked = sorted(report, key=lambda n: -report[n]["macro_f1"])
        faster = f"{NGRAM}+{ranked[0]}"  # an encoder alone: its cascaded blend, if as good
        if (self.cascade_tolerance is not None and faster in report
                and report[faster]["macro_f1"] >= report[ranked[0]]["macro_f1"]
                - self.cascade_tolerance):
            ranked.remove(faster)
            ranked.insert(0, faster)
        self.mode_, runner_up = ranked[0], ranked[1]
        cols = self._candidates()[self.mode_]
        self.validation_ = {"n_validation": len(val_rows), "ngram_C": self.C_,
                            "encoder_estimate_s": self.encoder_estimate_s_,
                            "candidates": report, "winner": self.mode_, "runner_up": runner_up,
                            "margin_macro_f1": report[self.mode_]["macro_f1"]
                            - report[runner_up]["macro_f1"]}
        self.threshold_ = report[self.mode_]["threshold"]
        self.band_, self.ngram_calibration_ = Band.off(), np.r_[1.0, 0.0]
        if len(cols) == 1:  # a base model alone: its own logit
            self.blend_ = np.r_[1.0, 0.0]
        else:
            meta = LogisticRegression().fit(z[:, cols], y_val)
            self.blend_ = np.r_[meta.coef_.ravel(), meta.intercept_].astype(np.float64)
            if cols[0] == 0 and self.cascade_tolerance is not None:
                self._fit_cascade(z[:, cols], y_val)
        logger.info("sentiment validation: %s wins by %.4f macro-F1 over %s",
                    self.mode_, self.validation_["margin_macro_f1"], runner_up)
        # refit what the winner uses on every training text
        self.parts_ = [self._part_names[j] for j in cols]
        self.models_: dict[str, SentimentModel] = {}
        for name in self.parts_:
            if name == NGRAM:
                ngram = NgramSentiment(C=self.C_)
                ngram._fit(texts, y)
                self.models_[name] = ngram
            else:
                self.models_[name] = self._head(name).fit_vectors(vectors[name], y)

    def _fit_cascade(self, z: np.ndarray, y: np.ndarray) -> None:
        """Band on the n-gram logit ``z[:, 0]`` and its calibration for skipped texts."""
        full = _sigmoid(z @ self.blend_[:-1] + self.blend_[-1]) >= self.threshold_
        self.band_ = choose_band(z[:, 0], full, y, tolerance=float(self.cascade_tolerance or 0))
        alone = LogisticRegression().fit(z[:, :1], y)
        self.ngram_calibration_ = np.r_[alone.coef_.ravel(), alone.intercept_]
        self.validation_["cascade"] = {
            "low": _finite(self.band_.low), "high": _finite(self.band_.high),  # JSON-safe
            "skip_share": self.band_.skip_share, "macro_f1": self.band_.macro_f1,
            "full_macro_f1": self.band_.full_macro_f1}
        logger.info("sentiment cascade: n-grams alone decide %.0f%% of validation texts "
                    "(macro-F1 %.4f vs %.4f)", 100 * self.band_.skip_share,
                    self.band_.macro_f1, self.band_.full_macro_f1)

    def _part_logits(self, name: str, texts: list[str]) -> np.ndarray:
        model = self.models_[name]
        if isinstance(model, NgramSentiment):
            return model.decision(texts)
        return _logit(model._proba(texts))

    def _proba(self, texts: list[str]) -> np.ndarray:
        # One part after the other: an encoder's threads take every core, and n-gram
        # hashing beside them (one more thread) made both several times slower.
        logits = np.full(len(texts), self.blend_[-1])
        if self.parts_[0] != NGRAM or len(self.parts_) == 1:
            for weight, name in zip(self.blend_[:-1], self.parts_, strict=True):
                logits += weight * self._part_logits(name, texts)
            return _sigmoid(logits)
        ngram = self._part_logits(NGRAM, texts)
        send = self.band_.needs_encoder(ngram)  # the cascade: clear texts stop here
        logits += self.blend_[0] * ngram
        sent = [texts[i] for i in np.flatnonzero(send)]
        for weight, name in zip(self.blend_[1:-1], self.parts_[1:], strict=True):
            if sent:
                logits[send] += weight * self._part_logits(name, sent)
        proba = _sigmoid(logits)
        a, b = self.ngram_calibration_
        alone = _sigmoid(a * ngram + b)  # skipped texts: n-gram probability, on its side
        low, high = ngram <= self.band_.low, ngram >= self.band_.high
        proba[low] = np.minimum(alone[low], np.nextafter(self.threshold_, 0.0))
        proba[high] = np.maximum(alone[high], self.threshold_)
        return proba

    def _state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays: dict[str, np.ndarray] = {
            "blend": self.blend_, "ngram_calibration": self.ngram_calibration_,
            "band": np.array([self.band_.low, self.band_.high])}
        info: dict[str, Any] = {"mode": self.mode_, "C": self.C_, "parts": self.parts_,
                                "backends": list(self.backends_),
                                "validation": self.validation_}
        for name, model in self.models_.items():
            sub, sub_info = model._state()
            arrays.update(prefixed(sub, name))
            info[f"part:{name}"] = sub_info
        return arrays, info

    def _restore(self, arrays: dict[str, np.ndarray], info: dict[str, Any]) -> None:
        self.mode_ = info["mode"]
        self.validation_ = info["validation"]
        self.blend_ = arrays["blend"]
        low, high = arrays.get("band", (-np.inf, np.inf))
        self.band_ = Band(float(low), float(high), float("nan"), float("nan"), float("nan"))
        self.ngram_calibration_ = arrays.get("ngram_calibration", np.r_[1.0, 0.0])
        self.C_ = float(info["C"])
        self.parts_ = list(info["parts"])
        self.backends_ = tuple(info["backends"])
        self.models_ = {}
        for name in self.parts_:
            model: SentimentModel = NgramSentiment(C=self.C_) if name == NGRAM \
                else self._head(name)
            model._restore(sub_arrays(arrays, name), info[f"part:{name}"])
            model.fitted_ = True
            self.models_[name] = model
