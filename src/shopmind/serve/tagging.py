"""Auto-tagging of items posted to ``/v1/items``, before they are stored.

Every upserted item gets its tags (:func:`shopmind.catalog_ml.tagging.extract_tags`, cheap
cue matching) at once. An item posted without a category also gets one predicted by the
shop's :class:`~shopmind.catalog_ml.classifier.CategoryClassifier`, trained on the shop's
own labelled items. Training embeds the catalog, so it never runs on a request: the first
upsert of a shop starts it in a background thread (and so does an upsert after
``refresh_s``), and items posted meanwhile are tagged without a category guess.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import polars as pl

from shopmind.catalog_ml import CategoryClassifier, autotag_items, train_shop_classifier
from shopmind.errors import InputError

logger = logging.getLogger(__name__)

#: Reads a shop's items (item_id, title, description, category, placeholder,
#: attributes).
ItemReader = Callable[[str], pl.DataFrame]
#: Reads the stored rows (item_id, title, description, category, attributes) of some of
#: a shop's items.
StoredItemReader = Callable[[str, pl.Series], pl.DataFrame]


class ItemTagger:
    """Per-shop category classifiers, trained in the background, and the tagging step."""

    def __init__(self, read_items: ItemReader, *, read_stored: StoredItemReader | None = None,
                 backend: str = "use", refresh_s: float = 3600.0, min_items: int = 20
                 ) -> None:
        self.read_items = read_items
        self.read_stored = read_stored
        self.backend = backend
        self.refresh_s = refresh_s
        self.min_items = min_items
        self._models: dict[str, tuple[float, CategoryClassifier | None]] = {}
        self._training: set[str] = set()
        self._lock = threading.Lock()

    def tag(self, shop_id: str, items: pl.DataFrame) -> pl.DataFrame:
        """``items`` with tags in ``attributes`` and, once the shop's classifier is trained,
        a predicted category (with its confidence) where none was given or stored; a
        partial update keeps the stored category and attributes (``read_stored``)."""
        stored = (self.read_stored(shop_id, items["item_id"])
                  if self.read_stored is not None and "item_id" in items.columns else None)
        return autotag_items(items, self.classifier(shop_id), stored=stored)

    def classifier(self, shop_id: str) -> CategoryClassifier | None:
        """The shop's classifier if trained (None before; a stale one starts a refresh)."""
        with self._lock:
            trained_at, model = self._models.get(shop_id, (float("-inf"), None))
            stale = time.monotonic() - trained_at >= self.refresh_s
            if stale and shop_id not in self._training:
                self._training.add(shop_id)
                threading.Thread(target=self.train, args=(shop_id,), daemon=True,
                                 name=f"shopmind-tagger-{shop_id}").start()
        return model

    def train(self, shop_id: str) -> CategoryClassifier | None:
        """Fit the shop's classifier on its labelled items now (None: too few of them)."""
        model: CategoryClassifier | None = None
        try:
            model = train_shop_classifier(self.read_items(shop_id), backend=self.backend,
                                          min_items=self.min_items)
            logger.info("tagging: category classifier of shop %r trained (%d categories)",
                        shop_id, len(model.classes_))
        except InputError as exc:  # too few labelled items: tags only, no category guesses
            logger.info("tagging: no category classifier for shop %r: %s", shop_id, exc)
        except Exception:  # tags still work; categories wait for the next attempt
            logger.exception("tagging: training the category classifier of %r failed", shop_id)
        finally:
            with self._lock:
                self._models[shop_id] = (time.monotonic(), model)
                self._training.discard(shop_id)
        return model
