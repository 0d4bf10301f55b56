"""Binary classification metrics for sentiment, vectorized, formulas in the docstrings."""

from __future__ import annotations

import numpy as np


def binary_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Accuracy and macro-F1 of 0/1 predictions.

    ``accuracy = mean(ŷ = y)``; ``F1_c = 2·TP_c / (2·TP_c + FP_c + FN_c)`` for each class
    ``c ∈ {0, 1}``, ``macro_f1 = (F1_0 + F1_1) / 2`` (a class with no support and no
    predictions scores 1).

    >>> binary_scores(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0]))
    {'accuracy': 0.75, 'macro_f1': 0.7333333333333334}
    """
    y = np.asarray(y_true).astype(bool)
    p = np.asarray(y_pred).astype(bool)
    f1s = []
    for cls_true, cls_pred in ((y, p), (~y, ~p)):
        tp = float(np.sum(cls_true & cls_pred))
        denom = 2 * tp + float(np.sum(~cls_true & cls_pred)) + float(np.sum(cls_true & ~cls_pred))
        f1s.append(2 * tp / denom if denom else 1.0)
    return {"accuracy": float(np.mean(y == p)) if y.size else 0.0,
            "macro_f1": float(np.mean(f1s))}


def best_threshold(y_true: np.ndarray, proba: np.ndarray,
                   grid: np.ndarray | None = None) -> float:
    """The decision threshold on ``proba`` with the highest macro-F1 (ties → nearest 0.5).

    >>> best_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.7, 0.9]))
    0.61
    """
    grid = np.round(np.linspace(0.05, 0.95, 91), 4) if grid is None else grid
    scores = np.array([binary_scores(y_true, proba >= t)["macro_f1"] for t in grid])
    best = np.flatnonzero(scores >= scores.max() - 1e-12)
    return float(grid[best[np.argmin(np.abs(grid[best] - 0.5))]])
