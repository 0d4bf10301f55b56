"""A two-stage cascade: n-grams decide the clear texts, the encoder only the unclear ones.

Most reviews are easy: "质量很好，物流快" or "love it, works great" are decided by their
n-grams alone, and the sentence encoder — 5 to 10 times slower per text — changes the
decision of almost none of them. The cascade (Viola & Jones, CVPR 2001, for the idea of
cheap stages that pass on only what they cannot settle) keeps the encoder for texts whose
n-gram logit falls inside a band ``(low, high)``; outside it the n-gram decision stands.

The band is chosen on the stack's validation texts, never on test data: the widest skip
(most texts decided by n-grams) whose validation macro-F1 stays within ``tolerance`` of
the full model's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shopmind.reviews.metrics import binary_scores

#: Quantiles of the n-gram logits tried as band edges, from each end of the distribution.
EDGE_QUANTILES = np.round(np.linspace(0.0, 0.5, 51), 3)


@dataclass(frozen=True)
class Band:
    """N-gram logits ``≤ low`` are negative and ``≥ high`` positive without the encoder."""

    low: float
    high: float
    skip_share: float  # validation share decided by n-grams alone
    macro_f1: float  # validation macro-F1 of the cascade
    full_macro_f1: float  # validation macro-F1 of the full model

    def needs_encoder(self, ngram_logits: np.ndarray) -> np.ndarray:
        """(n,) bool: texts whose n-gram logit is inside the band."""
        return (ngram_logits > self.low) & (ngram_logits < self.high)

    @classmethod
    def off(cls) -> Band:
        """The band that sends every text to the encoder."""
        return cls(-np.inf, np.inf, 0.0, float("nan"), float("nan"))


def choose_band(ngram_logits: np.ndarray, full_pred: np.ndarray, y: np.ndarray, *,
                tolerance: float = 0.001) -> Band:
    """The band with the largest skip share whose macro-F1 is ≥ the full model's − tolerance.

    ``full_pred`` are the full model's 0/1 decisions on the validation texts, ``y`` their
    labels. Edges are quantiles of ``ngram_logits`` (:data:`EDGE_QUANTILES`); a lower edge
    above an upper one is never tried, so a text is either skipped one way or sent on.

    >>> z = np.array([-3.0, -2.0, -0.1, 0.1, 2.0, 3.0])
    >>> band = choose_band(z, np.array([0, 0, 1, 0, 1, 1]), np.array([0, 0, 1, 0, 1, 1]))
    >>> band.skip_share, band.macro_f1
    (0.6666666666666666, 1.0)
    """
    z = np.asarray(ngram_logits, dtype=np.float64)
    full_pred = np.asarray(full_pred).astype(bool)
    full_f1 = binary_scores(y, full_pred)["macro_f1"]
    lows = [-np.inf, *np.quantile(z, EDGE_QUANTILES[1:])] if len(z) else [-np.inf]
    highs = [np.inf, *np.quantile(z, 1 - EDGE_QUANTILES[1:])] if len(z) else [np.inf]
    best = Band(-np.inf, np.inf, 0.0, full_f1, full_f1)
    for low in lows:
        for high in highs:
            if low >= high:
                continue
            pred = full_pred.copy()
            pred[z <= low] = False
            pred[z >= high] = True
            f1 = binary_scores(y, pred)["macro_f1"]
            skip = float(np.mean((z <= low) | (z >= high)))
            if f1 >= full_f1 - tolerance and (skip, f1) > (best.skip_share, best.macro_f1):
                best = Band(float(low), float(high), skip, f1, full_f1)
    return best
