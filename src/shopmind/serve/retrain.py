"""Training a shop's pipeline from the store and publishing it, once or on a schedule.

Serving processes watch the ``LATEST`` pointers, so publishing is all a retrain has to do:
every replica swaps to the new version within ``Settings.serve_model_poll_s``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from shopmind.data.store import Store
from shopmind.errors import InputError
from shopmind.recommend.artifacts import latest_version_dir, new_version_dir, publish
from shopmind.recommend.catalog import CATALOG_COLUMNS
from shopmind.recommend.pipeline import PipelineConfig, RecommendationPipeline

logger = logging.getLogger(__name__)

EVENT_COLUMNS = ["user_id", "item_id", "type", "ts", "value"]
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> float:
    """Seconds in an interval written like ``90s``, ``30m``, ``1h`` or ``1d``.

    >>> parse_interval("1h"), parse_interval("90s")
    (3600.0, 90.0)
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise InputError(f"--retrain-every: expected a duration like 30m, 1h or 1d, "
                         f"got {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def train_and_publish(store: Store, data_dir: Path, shop_id: str,
                      config: PipelineConfig | None = None) -> Path:
    """Train the pipeline on the shop's stored events and catalog, save, publish.

    Returns the new version's folder. ``config`` defaults to the active version's
    config (so a retrain keeps the shop's choices), else :class:`PipelineConfig`.
    """
    if config is None:
        config = _active_config(data_dir, shop_id)
    events = store.read_table(shop_id, "events", columns=EVENT_COLUMNS)
    if events.is_empty():
        raise InputError(f"shop '{shop_id}' has no events to train on")
    items = store.read_table(shop_id, "items", columns=list(CATALOG_COLUMNS))
    pipeline = RecommendationPipeline(config).fit(events, items)
    folder = pipeline.save(new_version_dir(data_dir, shop_id))
    publish(folder)
    return folder


def _active_config(data_dir: Path, shop_id: str) -> PipelineConfig:
    try:
        folder = latest_version_dir(data_dir, shop_id)
    except Exception:
        return PipelineConfig()
    return RecommendationPipeline.load(folder).config


class Retrainer:
    """A thread retraining the given shops every ``every_s`` seconds (first run after one
    period), each from its own store connection."""

    def __init__(self, open_store: Callable[[], Store], data_dir: Path, shops: list[str],
                 every_s: float) -> None:
        self._open_store = open_store
        self.data_dir, self.shops, self.every_s = data_dir, shops, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shopmind-retrain", daemon=True)
        self.runs = 0

    def start(self) -> Retrainer:
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Stop scheduling; wait up to ``timeout`` seconds (None: until a running training
        has finished)."""
        self._stop.set()
        self._thread.join(timeout=timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            store = self._open_store()
            try:
                for shop_id in self.shops:
                    if self._stop.is_set():
                        break
                    started = time.perf_counter()
                    try:
                        folder = train_and_publish(store, self.data_dir, shop_id)
                    except Exception as exc:
                        logger.error("retraining shop %s failed: %s", shop_id, exc)
                        continue
                    logger.info("retrained shop %s in %.0f s: %s", shop_id,
                                time.perf_counter() - started, folder.name)
            finally:
                store.close()
            self.runs += 1
