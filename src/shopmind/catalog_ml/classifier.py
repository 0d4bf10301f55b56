"""Category path classifier: sentence-embedding + n-gram features, multinomial regression.

Trained on the shop's own labelled items (their ``category`` path). Features are the item
text's multilingual USE vector (meaning, across languages) next to hashed character and
word n-grams (brand names, model numbers, exact product words); one multinomial logistic
regression predicts the full path. With no labels, :func:`zero_shot_categories` assigns the
category whose name embeds closest to the item text (cosine similarity).

>>> clf = CategoryClassifier(backend="hashing", n_features=2**10).fit(
...     ["red cotton dress", "summer dress", "usb charger", "fast phone charger"],
...     ["Fashion > Dresses", "Fashion > Dresses", "Electronics > Chargers",
...      "Electronics > Chargers"])
>>> clf.predict(["blue dress"])[0]
'Fashion > Dresses'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from shopmind.errors import InputError, NotFittedError
from shopmind.reviews.ngrams import NgramFeatures
from shopmind.reviews.text import normalize_all
from shopmind.text.embeddings import load_backend


def item_texts(items: pl.DataFrame, max_description: int = 300) -> list[str]:
    """``title + description`` (description cut to ``max_description`` characters)."""
    desc = (items["description"].fill_null("").str.slice(0, max_description)
            if "description" in items.columns else pl.Series([""] * items.height))
    return [f"{t} {d}".strip() for t, d in
            zip(items["title"].fill_null("").to_list(), desc.to_list(), strict=True)]


class CategoryClassifier:
    """Predict a category path from item text.

    Parameters
    ----------
    backend : str, default "use"
        Embedding backend (``hashing`` is the no-model fallback).
    n_features : int, default 2**16
        Hash buckets per n-gram block.
    C : float, default 10.0
        Inverse L2 strength.
    embedding_weight : float, default 1.0
        Scale of the dense block relative to the (unit-norm) n-gram block.
    """

    def __init__(self, *, backend: str = "use", n_features: int = 2**16, C: float = 10.0,
                 embedding_weight: float = 1.0, cache_dir: str | None = None) -> None:
        self.backend = backend
        self.n_features = n_features
        self.C = C
        self.embedding_weight = embedding_weight
        self.cache_dir = cache_dir
        self._encoder: Any = None

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self._encoder is None:
            self._encoder = load_backend(self.backend)
        return self._encoder.embed(texts, cache_dir=Path(self.cache_dir) if self.cache_dir
                                   else None)

    def _matrix(self, texts: Sequence[str], fit: bool = False) -> sp.csr_matrix:
        norm = normalize_all(texts)
        grams = (self.features_.fit_transform(norm) if fit
                 else self.features_.transform(norm))
        dense = sp.csr_matrix(self._embed(list(texts)) * self.embedding_weight)
        return sp.hstack([grams, dense], format="csr")

    def fit(self, texts: Sequence[str], categories: Sequence[str]) -> CategoryClassifier:
        """Learn from item texts and their category paths; returns ``self``."""
        if len(texts) != len(categories):
            raise InputError(f"got {len(texts)} texts but {len(categories)} categories")
        labels = np.asarray(categories, dtype=object)
        if len(set(labels.tolist())) < 2:
            raise InputError("need items from at least 2 categories to train a classifier; "
                             "use zero_shot_categories without labels")
        self.features_ = NgramFeatures(n_features=self.n_features, min_df=1)
        self.model_ = LogisticRegression(C=self.C, max_iter=300)
        self.model_.fit(self._matrix(texts, fit=True), labels)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(n, n_classes) probabilities, columns in ``classes_`` order."""
        if not hasattr(self, "model_"):
            raise NotFittedError("CategoryClassifier used before fit")
        if len(texts) == 0:
            return np.zeros((0, len(self.classes_)))
        return self.model_.predict_proba(self._matrix(texts))

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The most probable category path of each text."""
        proba = self.predict_proba(texts)
        return [str(self.classes_[i]) for i in proba.argmax(axis=1)] if len(proba) else []


def labelled_items(items: pl.DataFrame) -> pl.DataFrame:
    """A shop's items whose category a person gave: real (not placeholder) items with a
    category that was not predicted (``category_confidence`` marks a prediction)."""
    keep = pl.col("category").is_not_null() & (pl.col("category").str.strip_chars() != "")
    if "placeholder" in items.columns:
        keep &= ~pl.col("placeholder").fill_null(False)
    if "attributes" in items.columns and items.schema["attributes"] == pl.String:
        keep &= ~pl.col("attributes").str.contains('"category_confidence"', literal=True
                                                   ).fill_null(False)
    return items.filter(keep)


def train_shop_classifier(items: pl.DataFrame, *, backend: str = "use", min_items: int = 20,
                          min_categories: int = 2, cache_dir: str | None = None
                          ) -> CategoryClassifier:
    """A :class:`CategoryClassifier` fitted on a shop's :func:`labelled_items`.

    ``items`` holds the shop's catalog (``title``, ``category``; ``description``,
    ``placeholder`` and ``attributes`` are used when present).

    Raises
    ------
    InputError
        If fewer than ``min_items`` items are labelled, or they span fewer than
        ``min_categories`` categories.

    >>> items = pl.DataFrame({"title": ["red dress", "blue dress", "usb charger", "cable"],
    ...                       "category": ["Dresses", "Dresses", "Chargers", "Chargers"]})
    >>> train_shop_classifier(items, backend="hashing", min_items=4).classes_.tolist()
    ['Chargers', 'Dresses']
    """
    labelled = labelled_items(items)
    n_categories, min_categories = labelled["category"].n_unique(), max(min_categories, 2)
    if labelled.height < min_items or n_categories < min_categories:
        raise InputError(
            f"too few labelled items to learn categories from: {labelled.height} item(s) in "
            f"{n_categories} categor{'y' if n_categories == 1 else 'ies'}, need at least "
            f"{min_items} items in at least {min_categories} categories; ingest more items "
            "with a `category` first")
    return CategoryClassifier(backend=backend, cache_dir=cache_dir).fit(
        item_texts(labelled), labelled["category"].to_list())


def zero_shot_categories(texts: Sequence[str], categories: Sequence[str],
                         backend: str = "use") -> tuple[list[str], np.ndarray]:
    """Assign each text the category whose name is most similar (no labels needed).

    A path ``A > B > C`` is embedded as ``"C (A, B)"`` so the leaf dominates.

    Returns
    -------
    (predicted, similarity) : list of str and (n,) float array
    """
    if not categories:
        raise InputError("zero-shot classification needs at least one category name")
    encoder = load_backend(backend)
    names = []
    for path in categories:
        parts = [p.strip() for p in path.split(">")]
        names.append(f"{parts[-1]} ({', '.join(parts[:-1])})" if len(parts) > 1 else parts[0])
    sims = encoder.embed(list(texts)) @ encoder.embed(names).T  # (n, n_categories)
    best = sims.argmax(axis=1)
    return [categories[i] for i in best], sims[np.arange(len(best)), best]
