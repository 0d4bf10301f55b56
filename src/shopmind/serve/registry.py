"""The model registry: published pipeline versions per shop, hot swap and rollback.

Versions are the folders of :mod:`shopmind.recommend.artifacts` (``DATA_DIR/models/SHOP/
VERSION/`` with ``pipeline.json`` holding the config, the training-data watermark and the
ranker's metrics); ``LATEST`` names the active one. Every serving process watches the
pointers: when one changes (a retrain, ``activate``, ``rollback`` — from this process, another
replica or the CLI), the new version is loaded *beside* the old one, its history snapshot
read, and only then the shop's entry swapped — one reference assignment, so requests in
flight finish on the version they started with and none is dropped.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from shopmind.errors import InputError, NotFoundError
from shopmind.recommend.artifacts import models_dir, publish
from shopmind.serve.model import ServedModel

logger = logging.getLogger(__name__)

EventReader = Callable[[str], pl.DataFrame]
SwapListener = Callable[[ServedModel], None]


def _pointer(data_dir: Path, shop_id: str) -> str | None:
    path = models_dir(data_dir, shop_id) / "LATEST"
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def published_shops(data_dir: Path) -> list[str]:
    """Shops with a published model (a ``LATEST`` pointer) under ``data_dir``."""
    root = data_dir / "models"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "LATEST").is_file())


class ModelRegistry:
    """Served models of every shop under ``data_dir``, swapped atomically.

    Parameters
    ----------
    data_dir
        The settings' data directory (models live under ``models/SHOP/``).
    read_events
        Reads a shop's stored events (user_id, item_id, type, ts) for history snapshots.
    text_backend
        Embedding backend for items new since training.
    """

    def __init__(self, data_dir: Path, read_events: EventReader, *, text_backend: str,
                 on_swap: SwapListener | None = None) -> None:
        self.data_dir = data_dir
        self.read_events = read_events
        self.text_backend = text_backend
        self.on_swap = on_swap
        self._models: dict[str, ServedModel] = {}
        self._failed: dict[str, str] = {}  # shop -> version that failed to load (not retried)
        self._lock = threading.Lock()  # one load at a time; reads never wait on it

    def get(self, shop_id: str) -> ServedModel | None:
        """The shop's active model (``None`` when it has none)."""
        return self._models.get(shop_id)

    def shops(self) -> list[str]:
        return sorted(self._models)

    def shops_on_disk(self) -> list[str]:
        return published_shops(self.data_dir)

    def versions(self, shop_id: str) -> list[dict[str, Any]]:
        """Every saved version of the shop, oldest first, with its metadata."""
        root = models_dir(self.data_dir, shop_id)
        active = _pointer(self.data_dir, shop_id)
        out = []
        for folder in sorted(p for p in root.glob("*") if (p / "pipeline.json").is_file()):
            meta = json.loads((folder / "pipeline.json").read_text())
            out.append({"version": folder.name, "active": folder.name == active,
                        "watermark_us": meta.get("watermark_us"),
                        "metrics": meta.get("metadata", {})})
        return out

    # -- loading -------------------------------------------------------------------------
    def _load(self, shop_id: str, version: str) -> ServedModel:
        folder = models_dir(self.data_dir, shop_id) / version
        model = ServedModel.load(shop_id, folder, text_backend=self.text_backend,
                                 cache_dir=self.data_dir / "embeddings")
        model.set_snapshot(self.read_events(shop_id))
        current = self._models.get(shop_id)
        if current is not None:  # new items posted since: keep them recommendable
            fresh = [i for i in current.fresh.items if i.item_id not in model.item_index]
            model.fresh.add(fresh)
        return model

    def sync(self, shop_id: str) -> bool:
        """Load the version ``LATEST`` names if it is not the active one; ``True`` if swapped."""
        with self._lock:
            version = _pointer(self.data_dir, shop_id)
            current = self._models.get(shop_id)
            if version is None or (current is not None and current.version == version):
                return False
            if self._failed.get(shop_id) == version:
                return False
            try:
                model = self._load(shop_id, version)
            except Exception:
                self._failed[shop_id] = version
                raise
            self._models[shop_id] = model  # the swap: one reference assignment
        logger.info("shop %s now serves model version %s", shop_id, version)
        if self.on_swap is not None:
            self.on_swap(model)
        return True

    def sync_all(self) -> list[str]:
        """:meth:`sync` every shop with a ``LATEST`` pointer; the shops that swapped."""
        swapped = []
        for shop_id in self.shops_on_disk():
            try:
                if self.sync(shop_id):
                    swapped.append(shop_id)
            except Exception as exc:  # a broken version must not take the other shops down
                logger.error("loading the model of shop %s failed (%s: %s); keeping the old "
                             "one", shop_id, type(exc).__name__, exc)
        return swapped

    def activate(self, shop_id: str, version: str) -> ServedModel:
        """Point ``LATEST`` at ``version`` and serve it."""
        folder = models_dir(self.data_dir, shop_id) / version
        if not (folder / "pipeline.json").is_file() or "/" in version or version.startswith("."):
            raise NotFoundError(f"shop has no model version {version!r}")
        previous = _pointer(self.data_dir, shop_id)
        publish(folder)
        self._failed.pop(shop_id, None)
        try:
            self.sync(shop_id)
        except Exception as exc:
            if previous is not None:  # leave the pointer where it was
                publish(models_dir(self.data_dir, shop_id) / previous)
            raise InputError(f"model version {version!r} could not be loaded "
                             f"({type(exc).__name__}); still serving {previous!r}") from exc
        return self._models[shop_id]

    def rollback(self, shop_id: str) -> ServedModel:
        """Serve the version saved before the active one."""
        names = [v["version"] for v in self.versions(shop_id)]
        current = _pointer(self.data_dir, shop_id)
        if current not in names or names.index(current) == 0:
            raise NotFoundError("no earlier model version to roll back to")
        return self.activate(shop_id, names[names.index(current) - 1])

    def refresh_snapshots(self) -> None:
        """Re-read every served shop's stored events into a fresh history snapshot."""
        for shop_id, model in list(self._models.items()):
            try:
                model.set_snapshot(self.read_events(shop_id))
            except Exception as exc:
                logger.error("refreshing the history snapshot of shop %s failed: %s",
                             shop_id, type(exc).__name__)
