"""Where trained pipelines live: ``DATA_DIR/models/SHOP/VERSION/`` plus a ``LATEST`` pointer.

Versions are UTC timestamps, so they sort in training order; the serving layer swaps
between them atomically (a new folder is complete before ``LATEST`` is rewritten).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from shopmind.errors import NotFoundError


def models_dir(data_dir: Path, shop_id: str) -> Path:
    return data_dir / "models" / shop_id


def new_version_dir(data_dir: Path, shop_id: str) -> Path:
    """A fresh, not yet existing folder for a pipeline about to be trained."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return models_dir(data_dir, shop_id) / stamp


def publish(version_dir: Path) -> None:
    """Point ``LATEST`` at ``version_dir`` (atomic rename of the pointer file)."""
    pointer = version_dir.parent / "LATEST"
    tmp = pointer.with_suffix(".tmp")
    tmp.write_text(version_dir.name + "\n")
    os.replace(tmp, pointer)


def latest_version_dir(data_dir: Path, shop_id: str) -> Path:
    """The folder of the newest published pipeline of ``shop_id``."""
    pointer = models_dir(data_dir, shop_id) / "LATEST"
    if not pointer.is_file():
        raise NotFoundError(
            f"no trained pipeline for shop '{shop_id}' under {models_dir(data_dir, shop_id)}; "
            "run `shopmind train` first"
        )
    return pointer.parent / pointer.read_text().strip()
