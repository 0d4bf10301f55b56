"""Learned re-ranker over fused candidates: LightGBM ``lambdarank`` (Burges, *From RankNet
to LambdaRank to LambdaMART*, MSR-TR-2010-82) on :mod:`shopmind.search.features`.

Labels are graded judgments mapped to integers 0…:data:`GRADES` − 1 relative to the
largest gain of their data set, with linear label gains (as the NDCG we report). The
shipped model (``search/model/reranker.txt.gz`` + ``reranker.json``) was trained on the shared
judgments by ``benchmarks/search_quality.py --ship-model``; it is LightGBM's text format,
never a pickle, and is only *read* by ``eval-search``, never refitted on its input.
"""

from __future__ import annotations

import gzip
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shopmind.errors import InputError, NotFittedError
from shopmind.search.features import FEATURE_NAMES

logger = logging.getLogger(__name__)

GRADES = 7
#: LightGBM text model, gzip-compressed (the text is 1 MB, the file ~5× smaller).
SHIPPED_MODEL = Path(__file__).parent / "model" / "reranker.txt.gz"


def _meta_path(path: Path) -> Path:
    """``model/reranker.txt.gz`` → ``model/reranker.json`` (config, features, metadata)."""
    return path.parent / (path.name.split(".")[0] + ".json")


def gains_to_grades(gains: np.ndarray, max_gain: float) -> np.ndarray:
    """Integer grades 0…GRADES−1 proportional to ``gains / max_gain``.

    >>> gains_to_grades(np.array([0.0, 0.1, 1.0]), 1.0).tolist()
    [0, 1, 6]
    """
    if max_gain <= 0:
        return np.zeros(len(gains), dtype=np.int32)
    scaled = np.clip(np.asarray(gains, dtype=np.float64) / max_gain, 0.0, 1.0)
    grades = np.rint(scaled * (GRADES - 1)).astype(np.int32)
    return np.where((scaled > 0) & (grades == 0), 1, grades)  # any gain beats none


@dataclass
class RerankerConfig:
    n_estimators: int = 300
    learning_rate: float = 0.05
    num_leaves: int = 31
    min_data_in_leaf: int = 50
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    random_state: int = 0
    n_jobs: int = 1


class Reranker:
    """LightGBM lambdarank over candidate features; ``fit`` / ``predict`` / ``save`` / ``load``."""

    def __init__(self, config: RerankerConfig | None = None) -> None:
        self.config = config or RerankerConfig()
        self.booster_: Any = None

    def fit(self, features: np.ndarray, grades: np.ndarray, groups: np.ndarray,
            weights: np.ndarray | None = None) -> Reranker:
        """Fit on candidate rows ordered by query; ``groups`` are rows per query,
        ``weights`` optional per-query weights."""
        import lightgbm as lgb

        if features.shape[1] != len(FEATURE_NAMES):
            raise InputError(f"features must have {len(FEATURE_NAMES)} columns "
                             f"({', '.join(FEATURE_NAMES)}), got {features.shape[1]}")
        if int(np.sum(groups)) != len(features) or len(grades) != len(features):
            raise InputError("groups must sum to the number of feature rows and grades must "
                             "have one value per row")
        c = self.config
        params = {
            "objective": "lambdarank", "metric": "ndcg", "eval_at": [10],
            "label_gain": list(range(GRADES)), "lambdarank_truncation_level": 20,
            "learning_rate": c.learning_rate, "num_leaves": c.num_leaves,
            "min_data_in_leaf": c.min_data_in_leaf, "feature_fraction": c.feature_fraction,
            "bagging_fraction": c.bagging_fraction, "bagging_freq": 1,
            "seed": c.random_state, "num_threads": c.n_jobs, "verbosity": -1,
        }
        row_weights = None if weights is None else np.repeat(weights, groups)
        data = lgb.Dataset(features, grades, group=groups, weight=row_weights,
                           feature_name=list(FEATURE_NAMES))
        self.booster_ = lgb.train(params, data, num_boost_round=c.n_estimators)
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Scores of candidate rows (higher is better)."""
        if self.booster_ is None:
            raise NotFittedError("Reranker is not fitted; call fit or load a saved model")
        if len(features) == 0:
            return np.zeros(0, dtype=np.float64)
        return np.asarray(self.booster_.predict(features, num_threads=1), dtype=np.float64)

    def save(self, path: str | Path, **metadata: Any) -> Path:
        """Write ``path`` (LightGBM text, gzip when it ends in .gz) and the metadata JSON."""
        if self.booster_ is None:
            raise NotFittedError("Reranker is not fitted; nothing to save")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = self.booster_.model_to_string()
        if path.suffix == ".gz":
            path.write_bytes(gzip.compress(text.encode(), mtime=0))
        else:
            path.write_text(text)
        meta = {"features": list(FEATURE_NAMES), "config": asdict(self.config), **metadata}
        _meta_path(path).write_text(json.dumps(meta, indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path = SHIPPED_MODEL) -> Reranker:
        """Read a saved model; its feature list must match this version's features."""
        import lightgbm as lgb

        path = Path(path)
        if not path.is_file():
            raise InputError(f"no re-ranker model at {path}; train one with "
                             "benchmarks/search_quality.py --ship-model")
        meta = json.loads(_meta_path(path).read_text())
        if meta.get("features") != list(FEATURE_NAMES):
            raise InputError(f"re-ranker at {path} was trained on other features; retrain it")
        model = cls(RerankerConfig(**meta.get("config", {})))
        text = (gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz"
                else path.read_text())
        model.booster_ = lgb.Booster(model_str=text)
        return model


def shipped_reranker() -> Reranker | None:
    """The model shipped in the package, or None (then hybrid falls back to RRF)."""
    try:
        return Reranker.load(SHIPPED_MODEL)
    except InputError as exc:
        logger.warning("%s; hybrid search uses plain reciprocal-rank fusion", exc)
        return None
