"""Items posted after the model was trained, recommendable at once through their text.

Every item of the trained catalog and every new item gets a text vector from the same
embedding backend (:mod:`shopmind.text.embeddings`). A user's text profile is the
recency-weighted mean of the vectors of their history (as in the ``text`` model); a new
item close enough to it takes a slot in the list, with the reason "new arrival". Nothing
is retrained: a new item is one more row of vectors.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from shopmind.data.schema import CATEGORY_SEPARATOR
from shopmind.recommend.base import Histories
from shopmind.recommend.models.text import recency_weights

if TYPE_CHECKING:
    from shopmind.text.embeddings import Backend

MIN_SIMILARITY = 0.2  # cosine below which a new item is not offered to a user


@dataclass(frozen=True)
class FreshItem:
    item_id: str
    title: str
    category: str | None
    price: float | None
    stock: int | None
    text: str  # what it is embedded by (:func:`item_text`)


def item_text(title: str | None, brand: str | None, category: str | None,
              description: str | None) -> str:
    """The text an item is embedded by (the same fields, in the order, ``from_events`` uses)."""
    parts = [p for p in (title, brand, category, description) if p]
    return " · ".join(parts)


class FreshItems:
    """New items and their vectors, next to the trained catalog's vectors.

    Parameters
    ----------
    backend
        A fitted :class:`shopmind.text.embeddings.Backend`.
    catalog_vectors
        (n_items, d) L2-normalized vectors of the trained catalog, index-aligned.
    """

    def __init__(self, backend: Backend, catalog_vectors: np.ndarray) -> None:
        self.backend = backend
        self.catalog_vectors = catalog_vectors
        self._lock = threading.Lock()
        self.items: list[FreshItem] = []
        self.vectors = np.zeros((0, catalog_vectors.shape[1]), dtype=np.float32)
        self._position: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._position

    def add(self, items: list[FreshItem]) -> None:
        """Embed and add (or replace) ``items``."""
        if not items:
            return
        vectors = np.asarray(self.backend.embed([i.text for i in items]), dtype=np.float32)
        with self._lock:
            rows, positions = list(self.items), dict(self._position)
            for item in items:
                if item.item_id in positions:
                    rows[positions[item.item_id]] = item
                else:
                    positions[item.item_id] = len(rows)
                    rows.append(item)
            matrix = np.zeros((len(rows), vectors.shape[1]), dtype=np.float32)
            matrix[: len(self.vectors)] = self.vectors
            for item, vector in zip(items, vectors, strict=True):
                matrix[positions[item.item_id]] = vector
            # copy-on-write: a request reading the old lists keeps a consistent view
            self.items, self.vectors, self._position = rows, matrix, positions

    def profile(self, history: np.ndarray) -> np.ndarray | None:
        """The (d,) text profile of a history of catalog item indices (None if empty)."""
        if not len(history):
            return None
        hist = Histories.from_lists([history])
        weights = recency_weights(hist, 3.0)
        mix = sp.csr_matrix((weights, hist.items, hist.indptr),
                            shape=(1, len(self.catalog_vectors)))
        vector = np.asarray(mix @ self.catalog_vectors, dtype=np.float32)[0]
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else None

    def matches(self, profile: np.ndarray | None, n: int, *, category: str | None = None,
                price_max: float | None = None, exclude: frozenset[str] = frozenset(),
                min_similarity: float = MIN_SIMILARITY) -> list[tuple[FreshItem, float]]:
        """Up to ``n`` new items passing the filters, most similar first.

        Without a profile (a cold-start user), the newest items are offered.
        """
        items, vectors = self.items, self.vectors
        if not items or n < 1:
            return []
        if profile is None:
            scores = np.linspace(1.0, 0.5, len(items), dtype=np.float32)[::-1]
        else:
            scores = vectors @ profile
        out = []
        for pos in np.argsort(-scores, kind="stable"):
            item, score = items[int(pos)], float(scores[pos])
            if profile is not None and score < min_similarity:
                break
            if not _passes(item, category, price_max, exclude):
                continue
            out.append((item, score))
            if len(out) == n:
                break
        return out

    def similar_to(self, item_id: str, k: int, catalog_ids: np.ndarray
                   ) -> list[tuple[str, float]]:
        """Catalog and new items closest in text to the new item ``item_id``."""
        at = self._position[item_id]
        vector = self.vectors[at]
        scores = np.concatenate([self.catalog_vectors @ vector, self.vectors @ vector])
        scores[len(self.catalog_vectors) + at] = -np.inf
        ids = list(catalog_ids) + [i.item_id for i in self.items]
        top = np.argsort(-scores, kind="stable")[:k]
        return [(str(ids[i]), float(scores[i])) for i in top if np.isfinite(scores[i])]


def _passes(item: FreshItem, category: str | None, price_max: float | None,
            exclude: frozenset[str]) -> bool:
    if item.item_id in exclude or (item.stock is not None and item.stock <= 0):
        return False
    if price_max is not None and item.price is not None and item.price > price_max:
        return False
    if category:
        path = item.category or ""
        return path.startswith(category) or path.split(CATEGORY_SEPARATOR)[0] == category
    return True
