"""``shopmind search`` over items ingested into the store (hashing backend: no model)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from shopmind.cli import app
from shopmind.config import Settings, override_settings


def test_search_command_finds_ingested_items(items: pl.DataFrame, tmp_path: Path,
                                             isolated_settings: Settings) -> None:
    override_settings(isolated_settings.model_copy(
        update={"search_embedding_backend": "hashing"}))
    path = tmp_path / "items.csv"
    items.drop("color").write_csv(path)
    runner = CliRunner()
    ingested = runner.invoke(app, ["ingest", str(path), "--table", "items"])
    assert ingested.exit_code == 0, ingested.output
    result = runner.invoke(app, ["search", "红色连衣裙 200元以下", "-k", "3"],
                           terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "d1" in result.output and "d2" not in result.output  # d2 costs 359
    assert "user given" in result.output  # (the reason may wrap inside its cell)
    assert "category:" in result.output and "price:" in result.output  # facets
    with_user = runner.invoke(app, ["search", "连衣裙", "--user", "u-none"],
                              terminal_width=200)
    assert with_user.exit_code == 0 and "for this user" in with_user.output
    long = runner.invoke(app, ["search", "dress " * 200])
    assert long.exit_code == 0 and "query cut to its first 512 characters" in long.output
    other_shop = runner.invoke(app, ["search", "dress", "--shop", "elsewhere"])
    assert other_shop.exit_code != 0
    assert "shops with data: default (pick one with --shop)" in str(other_shop.exception)


def test_search_without_items_is_a_clear_error(isolated_settings: Settings) -> None:
    result = CliRunner().invoke(app, ["search", "dress"])
    assert result.exit_code != 0
    assert "has no items" in str(result.exception)


@pytest.fixture(autouse=True)
def _restore(isolated_settings: Settings) -> None:
    override_settings(isolated_settings)
