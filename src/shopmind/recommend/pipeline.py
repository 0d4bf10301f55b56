"""The two-stage recommendation pipeline: candidates → learned ranker → rules → reasons.

Training (:meth:`RecommendationPipeline.fit`) splits the event log in time: generators are
fitted on events before a cut, candidates are generated for users who are active after it,
and the LightGBM ranker learns which candidates they went on to view, cart or buy. The
generators are then refitted on the whole log for serving. Serving
(:meth:`RecommendationPipeline.recommend`) scores a batch of user contexts end to end.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from shopmind import __version__
from shopmind.errors import InputError, NotFittedError
from shopmind.features.idmap import IdMap
from shopmind.recommend.base import Recommender, create_model
from shopmind.recommend.candidates import Columns, generate_candidates
from shopmind.recommend.catalog import ItemCatalog
from shopmind.recommend.context import UserContext
from shopmind.recommend.data import from_events
from shopmind.recommend.explain import Reason, explain_user
from shopmind.recommend.ranker import LABEL_GRADES, LearnedRanker, RankerConfig
from shopmind.recommend.ranking_features import ItemStats, feature_columns, ranking_features
from shopmind.recommend.rules import (
    BusinessRules,
    allowed_items,
    boost_factors,
    diversify,
    place_pins_and_promotions,
)

logger = logging.getLogger(__name__)
_DAY_US = 86_400 * 1_000_000
#: Candidate columns the serving path keeps per user: the item and what reasons read.
_REASON_COLUMNS = ("item", "ui_events", "ui_carted", "uc_share", "item_trend")


def default_generators() -> dict[str, int]:
    """Candidate generators and how many candidates each proposes (≈ 200 in all)."""
    return {"recent": 30, "covisit": 80, "popular": 20, "als": 60, "itemknn": 50}


@dataclass
class PipelineConfig:
    generators: dict[str, int] = field(default_factory=default_generators)
    generator_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    label_days: float | None = None  # default: the last 15% of the log, at least 1 day
    label_windows: int = 2  # consecutive label windows the ranker learns from
    max_train_users: int = 20_000
    replenishable_categories: tuple[str, ...] = ()
    ranker: RankerConfig = field(default_factory=RankerConfig)
    random_state: int = 0


@dataclass(frozen=True)
class Recommendation:
    item_id: str
    score: float
    reason: Reason
    origin: str  # ranked, pinned or promoted


def _catalog_ids(events: pl.DataFrame, items: pl.DataFrame | None) -> IdMap:
    ids = events["item_id"].drop_nulls()
    if items is not None and items.height:
        ids = pl.concat([items["item_id"], ids])
    return IdMap.from_series(ids.unique())


class RecommendationPipeline:
    """Candidates from several models, a learned ranker, business rules and reasons."""

    def __init__(self, config: PipelineConfig | None = None) -> None:
        self.config = config or PipelineConfig()
        self.models_: dict[str, Recommender] = {}
        self.ranker_: LearnedRanker | None = None
        self.catalog_: ItemCatalog | None = None
        self.stats_: ItemStats | None = None
        self.watermark_us_: int = 0
        self.metadata_: dict[str, Any] = {}
        self.catalog_frame_: pl.DataFrame | None = None

    # -- training ------------------------------------------------------------------------
    def _fit_generators(self, events: pl.DataFrame, items: pl.DataFrame) -> dict[str, Recommender]:
        data = from_events(events, items)
        models = {}
        for name in self.config.generators:
            started = time.perf_counter()
            models[name] = create_model(name, **self.config.generator_params.get(name, {}))
            models[name].fit(data)
            logger.info("generator %s fitted in %.1f s", name, time.perf_counter() - started)
        return models

    def fit(
        self, events: pl.DataFrame, items: pl.DataFrame | None = None
    ) -> RecommendationPipeline:
        """Train on an event log (user_id, item_id, type, ts[, value]) and the catalog."""
        if events.is_empty():
            raise InputError("cannot train a recommendation pipeline on an empty event log")
        ids = _catalog_ids(events, items)
        catalog_frame = pl.DataFrame({"item_id": ids.ids})
        if items is not None and items.height:
            catalog_frame = catalog_frame.join(items.unique("item_id", keep="last"),
                                               on="item_id", how="left", maintain_order="left")
        self.catalog_ = ItemCatalog.build(ids, catalog_frame,
                                          self.config.replenishable_categories)
        self.catalog_frame_ = catalog_frame
        ts = events["ts"].dt.epoch("us")
        start_us, end_us = int(ts.min()), int(ts.max())  # type: ignore[arg-type]
        label_us = int(self.config.label_days * _DAY_US) if self.config.label_days else max(
            _DAY_US, int(0.15 * (end_us - start_us)))
        frames, users_seen, hits = [], 0, []
        for window in range(self.config.label_windows):
            cut_us = end_us - label_us * (window + 1)
            until_us = end_us + 1 if window == 0 else cut_us + label_us  # newest event included
            part = self._training_groups(events, catalog_frame, ids, cut_us, until_us)
            if part is None:
                break
            frames.append(part.with_columns(pl.col("row") + users_seen))
            n_users = int(part["row"].max()) + 1  # type: ignore[arg-type]
            users_seen += n_users
            hits.append(part.group_by("row").agg(pl.col("label").max())["label"].gt(0).mean())
        if not frames:
            raise InputError("the event log spans too little time to learn a ranker; "
                             "give more history or set label_days")
        frame = pl.concat(frames)
        self.ranker_ = LearnedRanker(self.config.ranker).fit(frame, feature_columns(frame))
        recall = float(np.mean(np.asarray(hits, dtype=np.float64)))
        self.metadata_ = {"candidate_recall": recall, "train_users": users_seen,
                          "candidates_per_user": frame.height / max(users_seen, 1),
                          "label_windows": len(frames)}
        logger.info("ranker trained; %.1f%% of users have a positive among candidates",
                    100 * self.metadata_["candidate_recall"])
        # Serve with generators and statistics refitted on the whole log.
        self.models_ = self._fit_generators(events, catalog_frame)
        self.stats_ = ItemStats.from_context(UserContext.from_events(
            events, events["user_id"].unique(), ids, now_us=end_us, max_len=10_000), len(ids))
        self.watermark_us_ = end_us
        return self

    def _training_groups(self, events: pl.DataFrame, catalog_frame: pl.DataFrame, ids: IdMap,
                         cut_us: int, until_us: int) -> pl.DataFrame | None:
        """Labelled candidates of users active in ``[cut, until)``, from generators
        and statistics fitted on the events before ``cut`` (``None`` if either side is empty).
        """
        epoch = pl.col("ts").dt.epoch("us")
        before = events.filter(epoch < cut_us)
        after = events.filter((epoch >= cut_us) & (epoch < until_us))
        if before.is_empty() or after.is_empty():
            return None
        models = self._fit_generators(before, catalog_frame)
        users = after.join(before.select("user_id").unique(), on="user_id")[
            "user_id"].unique().sort()
        if users.is_empty():
            return None
        if len(users) > self.config.max_train_users:
            users = users.sample(self.config.max_train_users,
                                 seed=self.config.random_state).sort()
        context = UserContext.from_events(before, users, ids, now_us=cut_us)
        self.stats_ = ItemStats.from_context(UserContext.from_events(
            before, before["user_id"].unique(), ids, now_us=cut_us, max_len=10_000), len(ids))
        frame = pl.DataFrame(self._features(models, context))
        labels = self._labels(after, users, ids)
        return frame.join(labels, on=["row", "item"], how="left").with_columns(
            pl.col("label").fill_null(0))

    def _features(self, models: dict[str, Recommender], context: UserContext,
                  allowed: np.ndarray | None = None,
                  exclude: Any = None) -> Columns:
        assert self.catalog_ is not None and self.stats_ is not None
        candidates = generate_candidates(models, self.config.generators, context,
                                         exclude=exclude, allowed=allowed)
        return ranking_features(candidates, context, self.catalog_, self.stats_)

    @staticmethod
    def _labels(after: pl.DataFrame, users: pl.Series, ids: IdMap) -> pl.DataFrame:
        order = pl.DataFrame({"user_id": users}).with_row_index("row")
        graded = after.filter(pl.col("type").is_in(list(LABEL_GRADES))).join(order, on="user_id")
        graded = graded.with_columns(
            ids.to_index_series(graded["item_id"]).alias("item"),
            pl.col("type").replace_strict(LABEL_GRADES, return_dtype=pl.Int32).alias("label"),
        ).filter(pl.col("item").is_not_null())
        return graded.group_by("row", "item").agg(pl.col("label").max()).with_columns(
            pl.col("row").cast(pl.Int32), pl.col("item").cast(pl.Int32))

    # -- serving -------------------------------------------------------------------------
    def context_for(self, events: pl.DataFrame, user_ids: list[str],
                    now_us: int | None = None) -> UserContext:
        """Contexts of ``user_ids`` from their events (unknown users get empty contexts)."""
        self._check_fitted()
        assert self.catalog_ is not None
        return UserContext.from_events(events, user_ids, self.catalog_.ids,
                                       now_us=now_us or self.watermark_us_)

    def recommend(self, context: UserContext, k: int = 10,
                  rules: BusinessRules | None = None, *, explain: bool = True
                  ) -> list[list[Recommendation]]:
        """Final recommendation lists (with reasons) for every user of ``context``."""
        self._check_fitted()
        assert self.catalog_ is not None and self.ranker_ is not None
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        rules = rules or BusinessRules()
        catalog = self.catalog_
        allowed = allowed_items(catalog, rules)
        bought = context.purchased()
        if rules.exclude_purchased:
            keep = ~catalog.replenishable[bought.items]
            bought = bought.where(keep)
        frame = self._features(self.models_, context, allowed=allowed,
                               exclude=bought if rules.exclude_purchased else None)
        rows = frame["row"]
        scores = self.ranker_.predict(frame) if len(rows) else np.zeros(0, dtype=np.float32)
        order = np.lexsort((-scores, rows))  # by user, best score first
        bounds = np.searchsorted(rows[order], np.arange(len(context) + 1))
        columns = {c: frame[c][order] for c in _REASON_COLUMNS}
        columns["_score"] = scores[order]
        neighbour = self.models_.get("covisit")
        results: list[list[Recommendation]] = []
        for row in range(len(context)):
            group = {c: v[bounds[row]:bounds[row + 1]] for c, v in columns.items()}
            items = group["item"]
            if not len(items):
                results.append([])
                continue
            s = group["_score"] * boost_factors(catalog, items, rules)
            picked = diversify(catalog, items, s, k, rules)
            slots = place_pins_and_promotions(catalog, items[picked].tolist(), k, rules, allowed)
            results.append(self._with_reasons(row, group, slots, context, neighbour, explain))
        return results

    def _with_reasons(self, row: int, group: dict[str, np.ndarray],
                      slots: list[tuple[int, str]], context: UserContext,
                      neighbour: Recommender | None, explain: bool) -> list[Recommendation]:
        assert self.catalog_ is not None
        catalog = self.catalog_
        items = np.array([i for i, _ in slots], dtype=np.int64)
        origins = [o for _, o in slots]
        # align the candidates' features with the final slots (pins may not be candidates)
        position = {int(item): i for i, item in enumerate(group["item"])}
        rows = np.array([position.get(int(i), -1) for i in items], dtype=np.int64)
        feats: dict[str, np.ndarray] = {"item": items}
        for column in ("_score", *_REASON_COLUMNS[1:]):
            values = np.nan_to_num(group[column].astype(np.float64))
            feats[column] = np.where(rows >= 0, values[np.maximum(rows, 0)], 0.0) if len(
                values) else np.zeros(len(items))
        if explain:
            start, end = context.histories.indptr[row], context.histories.indptr[row + 1]
            reasons = explain_user(items, origins, feats, context.histories.items[start:end],
                                   context.types[start:end], catalog, neighbour)
        else:
            reasons = [Reason("ranked", "")] * len(items)
        ids = catalog.ids.to_ids(items)
        return [Recommendation(str(ids[i]), float(feats["_score"][i]), reasons[i], origins[i])
                for i in range(len(items))]

    # -- persistence ---------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if self.ranker_ is None or self.catalog_ is None:
            raise NotFittedError("the pipeline is not trained: call fit() or load() first")

    def save(self, folder: str | Path) -> Path:
        """Save generators, ranker, statistics and the catalog under ``folder``."""
        self._check_fitted()
        assert self.ranker_ is not None and self.catalog_ is not None and self.stats_ is not None
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, model in self.models_.items():
            model.save(folder / "models" / name)
        self.ranker_.save(folder)
        np.savez(folder / "stats.npz", **self.stats_.state())  # type: ignore[arg-type]
        self.catalog_.ids.save(folder / "items.ids.npz")
        if self.catalog_frame_ is not None:
            self.catalog_frame_.write_parquet(folder / "catalog.parquet")
        config = asdict(self.config)
        (folder / "pipeline.json").write_text(json.dumps({
            "config": config, "watermark_us": self.watermark_us_, "metadata": self.metadata_,
            "shopmind": __version__}, indent=2, default=str))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> RecommendationPipeline:
        folder = Path(folder)
        try:
            meta = json.loads((folder / "pipeline.json").read_text())
        except FileNotFoundError:
            raise InputError(f"{folder} holds no trained pipeline; run `shopmind train`") from None
        raw = meta["config"]
        config = PipelineConfig(**{**raw, "ranker": RankerConfig(**raw["ranker"]),
                                   "replenishable_categories":
                                       tuple(raw["replenishable_categories"])})
        pipeline = cls(config)
        pipeline.models_ = {name: Recommender.load(folder / "models" / name)
                            for name in config.generators}
        pipeline.ranker_ = LearnedRanker.load(folder)
        with np.load(folder / "stats.npz", allow_pickle=False) as npz:
            pipeline.stats_ = ItemStats.from_state({k: npz[k] for k in npz.files})
        ids = IdMap.load(folder / "items.ids.npz")
        catalog_path = folder / "catalog.parquet"
        items = pl.read_parquet(catalog_path) if catalog_path.is_file() else None
        pipeline.catalog_ = ItemCatalog.build(ids, items, config.replenishable_categories)
        pipeline.catalog_frame_ = items
        pipeline.watermark_us_ = int(meta["watermark_us"])
        pipeline.metadata_ = meta.get("metadata", {})
        return pipeline
