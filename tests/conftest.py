"""Shared fixtures: an isolated data directory and settings for every test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shopmind.config import Settings, get_settings, override_settings


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path) -> Iterator[Settings]:
    """Every test gets its own data directory; the public data sets stay where they are."""
    datasets_dir = get_settings().datasets_dir
    settings = Settings(data_dir=tmp_path / "shopmind", datasets_dir=datasets_dir)
    override_settings(settings)
    yield settings
    override_settings(None)


@pytest.fixture
def datasets_dir(isolated_settings: Settings) -> Path:
    """The shared public data sets; CI has them, so a missing folder is an error, not a skip."""
    path = isolated_settings.datasets_dir
    if not path.is_dir():
        pytest.fail(f"public data sets not found at {path}; set SHOPMIND_DATA")
    return path
