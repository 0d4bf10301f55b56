"""Train-on-train, score-on-test evaluation of a sentiment model (the `eval-sentiment` contract).

The result keys are a stable contract other tools read:
``{"accuracy", "macro_f1", "n_test", "model", "train_seconds", "texts_per_s"}``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from shopmind.data.string_csv import ROW, read_string_csv
from shopmind.errors import InputError
from shopmind.reviews.base import SentimentModel, check_training_data, create_model
from shopmind.reviews.metrics import binary_scores

DEFAULT_MODEL = "stack"


def evaluate_model(model: SentimentModel, train_texts: Sequence[str],
                   train_labels: Sequence[int] | np.ndarray, test_texts: Sequence[str],
                   test_labels: Sequence[int] | np.ndarray) -> dict[str, Any]:
    """Fit ``model`` on the training texts only, then score the test texts.

    ``texts_per_s`` is test texts over the wall time of ``predict`` (features, embeddings
    and classifier, no cache). Besides the contract keys the result holds
    ``train_cpu_seconds`` (CPU time of the process, all threads) and, for the stacked
    model, its ``validation`` report.

    Examples
    --------
    >>> from shopmind.reviews.ngram_model import NgramSentiment
    >>> r = evaluate_model(NgramSentiment(n_features=2**10), ["good", "bad"] * 5,
    ...                    [1, 0] * 5, ["good", "bad"], [1, 0])
    >>> r["accuracy"], r["n_test"]
    (1.0, 2)
    """
    y_test = np.asarray(test_labels)
    if y_test.size and not np.isin(y_test, (0, 1)).all():
        raise InputError("test labels must be 0 or 1")
    start, cpu_start = time.perf_counter(), time.process_time()
    model.fit(train_texts, train_labels)
    train_seconds = time.perf_counter() - start
    train_cpu = time.process_time() - cpu_start  # on a shared machine, wall time overstates
    start = time.perf_counter()
    predicted = model.predict(test_texts)
    predict_seconds = max(time.perf_counter() - start, 1e-9)
    result: dict[str, Any] = {**binary_scores(y_test, predicted), "n_test": len(test_texts),
                              "model": model.name, "train_seconds": round(train_seconds, 3),
                              "texts_per_s": round(len(test_texts) / predict_seconds, 1),
                              "train_cpu_seconds": round(train_cpu, 3)}
    validation = getattr(model, "validation_", None)
    if validation is not None:
        result["validation"] = validation
    return result


def read_labelled_csv(path: str | Path, text_col: str, label_col: str
                      ) -> tuple[list[str], np.ndarray]:
    """Texts and 0/1 labels from a CSV (``.csv`` or ``.csv.gz``); clear errors otherwise."""
    frame = read_string_csv(path, (text_col, label_col), trim=(label_col,))
    if frame.is_empty():
        raise InputError(f"{path}: no rows (only a header)")
    labels = frame[label_col]
    bad = frame.filter(~labels.is_in(["0", "1"]).fill_null(False))
    if bad.height:
        first = bad.row(0, named=True)
        raise InputError(f"{path} row {first[ROW]}: field `{label_col}` must be 0 or "
                         f"1, got {first[label_col]!r} ({bad.height} bad rows)")
    return frame[text_col].fill_null("").to_list(), labels.cast(pl.Int64).to_numpy()


def eval_sentiment(train_csv: str | Path, test_csv: str | Path, *, text_col: str = "review",
                   label_col: str = "label", model: str = DEFAULT_MODEL,
                   **params: Any) -> dict[str, Any]:
    """The ``shopmind eval-sentiment`` contract: default model, trained on ``train_csv``."""
    train_texts, train_y = read_labelled_csv(train_csv, text_col, label_col)
    try:
        check_training_data(train_texts, train_y)
    except InputError as exc:
        raise InputError(f"{train_csv}: {exc}") from None
    test_texts, test_y = read_labelled_csv(test_csv, text_col, label_col)
    return evaluate_model(create_model(model, **params), train_texts, train_y,
                          test_texts, test_y)
