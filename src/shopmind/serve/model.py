"""One shop's served model: a trained pipeline plus what serving adds around it.

:class:`ServedModel` bundles the pipeline of one published version with the stored history
snapshot, the text index of items new since training and an id → index dict for the
request path. It is immutable once built except for the snapshot (refreshed in place by
swapping one reference) and the new-item index; the registry swaps whole
:class:`ServedModel` objects, so a request keeps the version it started with.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from shopmind.recommend.base import Histories, Recommender
from shopmind.recommend.models.text import TextRecommender
from shopmind.recommend.pipeline import Recommendation, RecommendationPipeline
from shopmind.recommend.rules import BusinessRules, allowed_items
from shopmind.serve.fresh import FreshItem, FreshItems, item_text
from shopmind.serve.history import History, HistorySnapshot, batch_context

logger = logging.getLogger(__name__)

SIMILAR_MODELS = ("itemknn", "als", "text", "covisit")
BOUGHT_TOGETHER_MODELS = ("covisit", "itemknn")


@dataclass(frozen=True)
class ItemScore:
    item_id: str
    score: float


def _single_threaded(pipeline: RecommendationPipeline) -> None:
    """Serving runs many requests side by side: each model call uses one thread."""
    for model in pipeline.models_.values():
        if "num_threads" in model.param_names():
            model.set_params(num_threads=1)


def _catalog_texts(pipeline: RecommendationPipeline) -> list[str]:
    frame = pipeline.catalog_frame_
    n = len(pipeline.catalog_) if pipeline.catalog_ is not None else 0
    if frame is None:
        return [""] * n

    def column(name: str) -> list[Any]:
        return frame[name].to_list() if name in frame.columns else [None] * n

    return [item_text(*fields) for fields in zip(column("title"), column("brand"),
                                                 column("category"), column("description"),
                                                 strict=True)]


def text_index(pipeline: RecommendationPipeline, backend_name: str,
               cache_dir: Path | None) -> FreshItems:
    """The new-item index: the pipeline's ``text`` model vectors if it has one, else the
    catalog embedded now with ``backend_name``."""
    from shopmind.text.embeddings import load_backend

    model = pipeline.models_.get("text")
    texts = _catalog_texts(pipeline)
    if isinstance(model, TextRecommender) and model.is_fitted:
        backend = load_backend(model.backend_, fallback=True)
        backend.fit(texts)
        return FreshItems(backend, model.item_vectors_)
    backend = load_backend(backend_name, fallback=True)
    backend.fit(texts)
    vectors = backend.embed(texts, cache_dir=cache_dir)
    return FreshItems(backend, vectors)


class ServedModel:
    """A published pipeline version, ready to answer requests for one shop."""

    def __init__(self, shop_id: str, version: str, folder: Path,
                 pipeline: RecommendationPipeline, fresh: FreshItems) -> None:
        if pipeline.catalog_ is None or pipeline.stats_ is None:
            raise ValueError("the pipeline is not trained")
        self.shop_id, self.version, self.folder = shop_id, version, folder
        self.pipeline = pipeline
        self.catalog = pipeline.catalog_
        self.stats = pipeline.stats_
        self.fresh = fresh
        ids = self.catalog.ids.ids.to_list()
        self.item_ids = np.asarray(ids, dtype=object)
        self.item_index: dict[str, int] = {item: i for i, item in enumerate(ids)}
        self.snapshot = HistorySnapshot(pl.DataFrame(schema={
            "user_id": pl.String, "item_id": pl.String, "type": pl.String,
            "ts": pl.Datetime("us", "UTC")}), self.item_index)
        self.loaded_at = time.time()

    @classmethod
    def load(cls, shop_id: str, folder: Path, *, text_backend: str,
             cache_dir: Path | None = None) -> ServedModel:
        """Load the pipeline saved in ``folder`` (a version folder of the registry)."""
        pipeline = RecommendationPipeline.load(folder)
        _single_threaded(pipeline)
        return cls(shop_id, folder.name, folder, pipeline,
                   text_index(pipeline, text_backend, cache_dir))

    @property
    def metadata(self) -> dict[str, Any]:
        return {"version": self.version, "watermark_us": self.pipeline.watermark_us_,
                "metrics": self.pipeline.metadata_, "n_items": len(self.catalog),
                "generators": dict(self.pipeline.config.generators)}

    def set_snapshot(self, events: pl.DataFrame) -> None:
        """Replace the stored-history snapshot (built aside, then one reference swapped)."""
        self.snapshot = HistorySnapshot(events, self.item_index)

    # -- recommendations -------------------------------------------------------------------
    def recommend(self, histories: Sequence[History], k: int, rules: BusinessRules
                  ) -> list[list[Recommendation]]:
        """Final lists for a batch of histories sharing ``k`` and ``rules``."""
        last = [int(h.times_us[-1]) for h in histories if len(h)]
        now_us = max([self.pipeline.watermark_us_, *last])
        context = batch_context(histories, now_us)
        return self.pipeline.recommend(context, k, rules)

    def new_arrivals(self, history: History, n: int, rules: BusinessRules
                     ) -> list[tuple[FreshItem, float]]:
        """New items (posted since training) that fit this history, for up to ``n`` slots."""
        if not len(self.fresh):
            return []
        return self.fresh.matches(self.fresh.profile(history.items), n,
                                  category=rules.category, price_max=rules.price_max,
                                  exclude=frozenset(rules.exclude_items))

    def _neighbours(self, names: Sequence[str], item_id: str, k: int,
                    rules: BusinessRules) -> list[ItemScore]:
        model: Recommender | None = next(
            (self.pipeline.models_[n] for n in names if n in self.pipeline.models_), None)
        index = self.item_index[item_id]
        if model is None:
            return []
        scores = model.score(Histories.from_lists([[index]]))[0]
        scores[index] = -np.inf
        scores[~allowed_items(self.catalog, rules)] = -np.inf
        top = np.argsort(-scores, kind="stable")[:k]
        return [ItemScore(str(self.item_ids[i]), float(scores[i])) for i in top
                if scores[i] > 0]  # no evidence (or negative correlation) is not "similar"

    def similar(self, item_id: str, k: int, rules: BusinessRules) -> list[ItemScore]:
        """Items like ``item_id`` (item kNN, else ALS, text or co-visitation)."""
        if item_id in self.fresh and item_id not in self.item_index:
            return [ItemScore(i, s) for i, s in
                    self.fresh.similar_to(item_id, k, self.item_ids)]
        return self._neighbours(SIMILAR_MODELS, item_id, k, rules)

    def bought_together(self, item_id: str, k: int, rules: BusinessRules) -> list[ItemScore]:
        """Items co-visited with ``item_id`` in the same sessions, strongest first."""
        if item_id not in self.item_index:
            return []
        return self._neighbours(BOUGHT_TOGETHER_MODELS, item_id, k, rules)

    def trending(self, k: int, rules: BusinessRules) -> list[ItemScore]:
        """Items with the most recent interaction mass (one-week half-life)."""
        scores = self.stats.trend.astype(np.float32).copy()
        scores[~allowed_items(self.catalog, rules)] = -np.inf
        top = np.argsort(-scores, kind="stable")[:k]
        return [ItemScore(str(self.item_ids[i]), float(scores[i])) for i in top
                if np.isfinite(scores[i])]

    def knows_item(self, item_id: str) -> bool:
        return item_id in self.item_index or item_id in self.fresh

    def update_known_items(self, frame: pl.DataFrame) -> None:
        """Apply price and stock changes of catalog items in place (filters see them at once)."""
        self.catalog.refresh(frame)
