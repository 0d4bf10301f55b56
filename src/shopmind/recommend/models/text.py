"""``text``: content-based recommendations from item text — cold start for new items.

Every item's text (title, brand, category, description: ``TrainingData.item_text``) is
embedded by a text embedding backend (:mod:`shopmind.text.embeddings`, multilingual USE by
default, a hashing fallback without a model). A user is the recency-weighted mean of the
vectors of their history, the newest item weighing most (weight ``0.5 ** (age /
half_life)``, age counted in items); an item's score is its cosine similarity to that
profile. Items nobody has interacted with score like any other, which is what a shop
needs for new products (the content-based profile of Pazzani & Billsus, *Content-Based
Recommendation Systems*, The Adaptive Web, 2007, with sentence embeddings in place of
TF-IDF).

Examples
--------
>>> import polars as pl
>>> from shopmind.features.idmap import IdMap
>>> data = TrainingData(users=IdMap.from_series(pl.Series(["u"])),
...                     items=IdMap.from_series(pl.Series(["a", "b", "c"])),
...                     histories=Histories.from_lists([[0]]),
...                     item_text=["red summer dress", "laptop computer", "red dress"])
>>> model = TextRecommender(backend="hashing").fit(data)
>>> model.recommend(Histories.from_lists([[0]]), 1)[0].tolist()
[[2]]
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from shopmind.errors import InputError
from shopmind.recommend.base import Histories, Recommender, TrainingData, register

logger = logging.getLogger(__name__)


def embed_items(data: TrainingData, backend: str, backend_path: str | None,
                cache_dir: str | None, batch_size: int = 256) -> tuple[np.ndarray, str]:
    """L2-normalized float32 vectors of every item's text, and the backend actually used.

    Raises
    ------
    InputError
        When ``data`` carries no item text.
    """
    from shopmind.text.embeddings import load_backend

    if data.item_text is None:
        raise InputError(
            "this model needs item text: pass the catalog (title/description) when building "
            "TrainingData, e.g. `--item-text CSV` on the command line")
    if len(data.item_text) != data.n_items:
        raise InputError(f"item_text must have one entry per item ({data.n_items}), "
                         f"got {len(data.item_text)}")
    params: dict[str, Any] = {"path": backend_path} if backend_path else {}
    model = load_backend(backend, fallback=True, **params)
    model.fit(data.item_text)
    logger.info("embedding %d item texts with %r", data.n_items, model.name)
    vectors = model.embed(data.item_text, batch_size=batch_size, cache_dir=cache_dir)
    return vectors, model.name


def recency_weights(histories: Histories, half_life: float) -> np.ndarray:
    """Weight of every history entry, ``0.5 ** (age / half_life)``, age 0 = newest.

    >>> recency_weights(Histories.from_lists([[5, 6, 7]]), 1.0).tolist()
    [0.25, 0.5, 1.0]
    """
    lengths = histories.lengths()
    age = np.repeat(histories.indptr[1:] - 1, lengths) - np.arange(len(histories.items))
    return np.exp2(-age / half_life).astype(np.float32)


@register("text")
class TextRecommender(Recommender):
    """Cosine similarity between item text vectors and the user's recency-weighted profile.

    Parameters
    ----------
    backend : str, default "use"
        Embedding backend name (``use``, ``sentence-transformers``, ``hashing``); falls back
        to ``hashing`` with a warning when the model cannot be loaded.
    backend_path : str or None
        Local model folder for path-loaded backends (``sentence-transformers``).
    half_life : float, default 3.0
        History age, in items, at which an item counts half as much as the newest one.
    max_history : int, default 50
        Newest items used for the profile.
    cache_dir : str or None
        Where item vectors are cached by content hash (None: no cache).

    Attributes
    ----------
    item_vectors_ : ndarray of shape (n_items, d)
        L2-normalized item text vectors (zero rows for items without text).
    backend_ : str
        The backend actually used (``hashing`` after a fallback).
    """

    item_vectors_: np.ndarray
    backend_: str

    def __init__(self, *, backend: str = "use", backend_path: str | None = None,
                 half_life: float = 3.0, max_history: int = 50,
                 cache_dir: str | None = None) -> None:
        self.backend = backend
        self.backend_path = backend_path
        self.half_life = half_life
        self.max_history = max_history
        self.cache_dir = cache_dir

    def _fit(self, data: TrainingData) -> None:
        if not self.half_life > 0:
            raise InputError(f"half_life must be positive, got {self.half_life!r}")
        if self.max_history < 1:
            raise InputError(f"max_history must be at least 1, got {self.max_history}")
        cache = str(Path(self.cache_dir)) if self.cache_dir else None
        self.item_vectors_, self.backend_ = embed_items(
            data, self.backend, self.backend_path, cache)

    def user_vectors(self, histories: Histories) -> np.ndarray:
        """(B, d) L2-normalized recency-weighted mean of each history's item vectors."""
        self._check_fitted()
        recent = histories.last(self.max_history)
        weights = recency_weights(recent, self.half_life)
        if recent.weights is not None:  # interaction strength, e.g. purchase > view
            weights = weights * recent.weights
        mix = sp.csr_matrix((weights, recent.items, recent.indptr),
                            shape=(len(recent), self.n_items_))
        users = np.asarray(mix @ self.item_vectors_, dtype=np.float32)  # (B, d)
        norms = np.linalg.norm(users, axis=1, keepdims=True)
        return users / np.maximum(norms, 1e-12)

    def _score(self, histories: Histories) -> np.ndarray:
        return self.user_vectors(histories) @ self.item_vectors_.T

    def _state(self) -> dict[str, np.ndarray]:
        return {"item_vectors_": self.item_vectors_, "backend_": np.asarray(self.backend_)}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.item_vectors_ = state["item_vectors_"]
        self.backend_ = str(state["backend_"])
