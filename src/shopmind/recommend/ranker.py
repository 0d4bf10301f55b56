"""Stage two: a LightGBM learning-to-rank model (``lambdarank``) over candidate features.

Groups are users; labels are graded relevance of what the user did next (purchase 3,
cart/favourite 2, view/click 1, nothing 0). Early stopping uses NDCG@10 on a held-out
share of users. The model is saved as LightGBM's own text format, never pickled.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import polars as pl

from shopmind.errors import InputError, NotFittedError

logger = logging.getLogger(__name__)

#: Relevance grade of each event type in the label window.
LABEL_GRADES = {"purchase": 3, "cart": 2, "favorite": 2, "rate": 2, "click": 1, "view": 1}


@dataclass
class RankerConfig:
    n_estimators: int = 400
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_child_samples: int = 50
    feature_fraction: float = 0.9
    valid_share: float = 0.2
    early_stopping_rounds: int = 30
    random_state: int = 0
    n_jobs: int = 2


class LearnedRanker:
    """LightGBM lambdarank over the feature columns of a candidates frame."""

    def __init__(self, config: RankerConfig | None = None) -> None:
        self.config = config or RankerConfig()
        self.booster_: object | None = None
        self.features_: list[str] = []

    def fit(self, frame: pl.DataFrame, features: list[str]) -> LearnedRanker:
        """Fit on ``frame`` with columns ``row`` (group), ``label`` and ``features``."""
        import lightgbm as lgb

        useful = frame.group_by("row").agg(pl.col("label").max().alias("_best"))
        rows = useful.filter(pl.col("_best") > 0)["row"].sort().to_numpy().copy()
        if len(rows) < 2:
            raise InputError("the ranker needs at least two users with a positive label "
                             "among their candidates; the label window has too little data")
        rng = np.random.default_rng(self.config.random_state)
        rng.shuffle(rows)
        n_valid = max(1, int(len(rows) * self.config.valid_share))
        valid_rows, train_rows = rows[:n_valid], rows[n_valid:]
        if len(train_rows) == 0:
            train_rows = valid_rows

        def dataset(chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            part = frame.filter(pl.col("row").is_in(chosen)).sort("row")
            groups = part.group_by("row", maintain_order=True).len()["len"].to_numpy()
            x = part.select(features).to_numpy().astype(np.float32)
            return x, part["label"].to_numpy(), groups

        x_train, y_train, g_train = dataset(train_rows)
        x_valid, y_valid, g_valid = dataset(valid_rows)
        c = self.config
        params = {
            "objective": "lambdarank", "metric": "ndcg", "eval_at": [10],
            "learning_rate": c.learning_rate, "num_leaves": c.num_leaves,
            "min_data_in_leaf": c.min_child_samples, "feature_fraction": c.feature_fraction,
            "seed": c.random_state, "num_threads": c.n_jobs, "verbosity": -1,
        }
        train_set = lgb.Dataset(x_train, y_train, group=g_train, feature_name=features)
        valid_set = lgb.Dataset(x_valid, y_valid, group=g_valid, reference=train_set)
        booster = lgb.train(
            params, train_set, num_boost_round=c.n_estimators, valid_sets=[valid_set],
            valid_names=["valid"],
            callbacks=[lgb.early_stopping(c.early_stopping_rounds, verbose=False)],
        )
        self.booster_ = booster
        self.features_ = list(features)
        logger.info("ranker: %d trees, valid ndcg@10 %.4f", booster.best_iteration,
                    booster.best_score["valid"]["ndcg@10"])
        return self

    def predict(self, frame: pl.DataFrame | Mapping[str, np.ndarray]) -> np.ndarray:
        """Scores of the rows of ``frame`` (a Polars frame or NumPy columns by name)."""
        if self.booster_ is None:
            raise NotFittedError("the ranker is not fitted")
        x = np.column_stack([np.asarray(frame[name], dtype=np.float32)
                             for name in self.features_])
        booster = self.booster_
        return np.asarray(booster.predict(x, num_iteration=booster.best_iteration or None),  # type: ignore[attr-defined]
                          dtype=np.float32)

    def feature_importance(self) -> dict[str, float]:
        if self.booster_ is None:
            return {}
        gains = self.booster_.feature_importance("gain")  # type: ignore[attr-defined]
        return dict(zip(self.features_, map(float, gains), strict=True))

    def save(self, folder: Path) -> None:
        if self.booster_ is None:
            raise NotFittedError("the ranker is not fitted")
        (folder / "ranker.txt").write_text(self.booster_.model_to_string())  # type: ignore[attr-defined]
        import json

        (folder / "ranker.json").write_text(json.dumps(
            {"config": asdict(self.config), "features": self.features_}, indent=2))

    @classmethod
    def load(cls, folder: Path) -> LearnedRanker:
        import json

        import lightgbm as lgb

        meta = json.loads((folder / "ranker.json").read_text())
        ranker = cls(RankerConfig(**meta["config"]))
        ranker.features_ = meta["features"]
        ranker.booster_ = lgb.Booster(model_str=(folder / "ranker.txt").read_text())
        return ranker
