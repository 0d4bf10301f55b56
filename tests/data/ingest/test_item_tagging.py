"""Items are auto-tagged on ingest; missing categories are filled after it (issue 7)."""

from __future__ import annotations

from pathlib import Path

import orjson
import polars as pl
import pytest
from typer.testing import CliRunner

from shopmind.cli import app
from shopmind.config import Settings, override_settings
from shopmind.data.ingest.engine import ingest_file
from shopmind.data.store import Store, open_store

CATEGORIES = {  # category → titles, distinct enough for a tiny classifier
    "Clothing > Dresses": ["red cotton dress", "summer floral dress", "long evening dress",
                           "black party dress", "linen midi dress", "silk wrap dress",
                           "pink maxi dress", "striped shirt dress"],
    "Electronics > Chargers": ["usb c charger 65w", "fast wall charger", "wireless charger pad",
                               "car charger dual usb", "gan charger 100w",
                               "travel charger adapter", "magnetic charger cable",
                               "solar charger power"],
    "Kitchen > Mugs": ["ceramic coffee mug", "stainless travel mug", "glass tea mug",
                       "enamel camping mug", "large soup mug", "espresso mug set",
                       "insulated mug with lid", "hand painted mug"],
}
UNLABELLED = {"n1": "blue cotton dress", "n2": "usb charger 30w", "n3": "white coffee mug"}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.close()


@pytest.fixture
def hashing(isolated_settings: Settings) -> Settings:
    """The no-model embedding backend, so the category fill takes a second, not minutes."""
    settings = isolated_settings.model_copy(update={"catalog_text_backend": "hashing"})
    override_settings(settings)
    return settings


def _attributes(store: Store, shop_id: str) -> dict[str, dict[str, object]]:
    items = store.read_table(shop_id, "items", columns=["item_id", "attributes"])
    return {i: orjson.loads(a) if a else {} for i, a in items.iter_rows()}


def _catalog(path: Path, labelled_per_category: int = 8) -> Path:
    rows = [(f"{category[:3]}{j}", title, category)
            for category, titles in CATEGORIES.items()
            for j, title in enumerate(titles[:labelled_per_category])]
    rows += [(item_id, title, None) for item_id, title in UNLABELLED.items()]
    pl.DataFrame(rows, schema=["item_id", "title", "category"], orient="row").write_csv(path)
    return path


def _ingest(settings: Settings, path: Path, *flags: str) -> tuple[str, Store]:
    result = CliRunner().invoke(app, ["ingest", str(path), "--table", "items", "--shop", "s",
                                      *flags], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output, open_store(settings.resolved_store_url)


def test_ingested_items_get_tags_and_keep_their_attributes(store: Store,
                                                            tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    pl.DataFrame({
        "item_id": ["zh", "en", "plain", "own"],
        "title": ["红色纯棉连衣裙", "Waterproof red jacket", "Mug", "Wool scarf for kids"],
        "category": ["服装 > 连衣裙", None, "Kitchen", ""],
        "attributes": [None, None, '{"volume_ml":350}', '{"size":"M","tags":["winter"]}'],
    }).write_csv(path)
    summary = ingest_file(store, path, shop_id="s", table="items")
    assert (summary.accepted, summary.uncategorized) == (4, 2)
    attrs = _attributes(store, "s")
    assert attrs["zh"] == {"tags": ["colour:red", "material:cotton"]}
    assert attrs["en"] == {"tags": ["colour:red", "feature:waterproof"]}
    assert attrs["plain"] == {"volume_ml": 350, "tags": []}
    assert attrs["own"] == {"size": "M", "tags": ["winter", "material:wool", "audience:kids"]}
    categories = dict(store.read_table("s", "items", columns=["item_id", "category"]).rows())
    assert categories["zh"] == "服装 > 连衣裙" and categories["en"] is None  # no guess at ingest


def test_a_partial_item_update_keeps_the_stored_category_and_attributes(
        store: Store, tmp_path: Path) -> None:
    full = tmp_path / "items.csv"
    pl.DataFrame({"item_id": ["a"], "title": ["Wool scarf"], "category": ["Accessories"],
                  "attributes": ['{"weight_g":120,"tags":["winter"]}']}).write_csv(full)
    ingest_file(store, full, shop_id="s", table="items")
    partial = tmp_path / "descriptions.csv"
    pl.DataFrame({"item_id": ["a"], "description": ["Waterproof lining"]}).write_csv(partial)
    ingest_file(store, partial, shop_id="s", table="items")
    assert _attributes(store, "s")["a"] == {
        "weight_g": 120, "tags": ["winter", "material:wool", "feature:waterproof"]}
    stored = store.read_table("s", "items", columns=["category", "title"]).row(0)
    assert stored == ("Accessories", "Wool scarf")


def test_found_tags_are_found_afresh_and_the_shops_own_stay(store: Store,
                                                           tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    pl.DataFrame({"item_id": ["a"], "title": ["Red phone case"],
                  "attributes": ['{"tags":["sale","colour:red"]}']}).write_csv(first)
    ingest_file(store, first, shop_id="s", table="items")
    renamed = tmp_path / "renamed.csv"
    pl.DataFrame({"item_id": ["a"], "title": ["Blue phone case"]}).write_csv(renamed)
    ingest_file(store, renamed, shop_id="s", table="items")
    assert _attributes(store, "s")["a"] == {"tags": ["sale", "colour:blue"]}


def test_jsonl_attributes_are_tagged_and_non_objects_quarantined(store: Store,
                                                                  tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text(
        '{"item_id": "a", "title": "Black leather wallet", "attributes": {"slots": 6}}\n'
        '{"item_id": "b", "title": "Bluetooth speaker", "attributes": null}\n'
        '{"item_id": "c", "title": "Lamp", "attributes": 3}\n'
    )
    summary = ingest_file(store, path, shop_id="s", table="items")
    assert (summary.accepted, summary.quarantined) == (2, 1)
    attrs = _attributes(store, "s")
    assert attrs["a"] == {"slots": 6, "tags": ["colour:black", "material:leather"]}
    assert attrs["b"] == {"tags": ["feature:wireless"]}
    reason = store.read_table("s", "quarantine")["reason"][0]
    assert "`attributes` must be a JSON object, got '3'" in reason


def test_placeholder_items_are_not_tagged(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("user_id,item_id,type,ts\nu1,red-dress,view,2026-01-01T10:00:00Z\n")
    ingest_file(store, path, shop_id="s", table="events")
    item = store.read_table("s", "items").row(0, named=True)
    assert item["placeholder"] and item["attributes"] is None


def test_fill_categories_predicts_the_missing_ones(hashing: Settings, tmp_path: Path) -> None:
    output, store = _ingest(hashing, _catalog(tmp_path / "items.csv"), "--fill-categories")
    with store:
        items = store.read_table("s", "items", columns=["item_id", "category", "attributes"])
    assert "Filled the category of 3 item(s), predicted from 24 labelled items" in output
    filled = items.filter(pl.col("item_id").is_in(list(UNLABELLED)))
    assert dict(filled.select("item_id", "category").rows()) == {
        "n1": "Clothing > Dresses", "n2": "Electronics > Chargers", "n3": "Kitchen > Mugs"}
    for raw in filled["attributes"]:
        attributes = orjson.loads(raw)
        assert 0 < attributes["category_confidence"] <= 1 and "tags" in attributes
    given = items.filter(~pl.col("item_id").is_in(list(UNLABELLED)))
    assert not any("category_confidence" in a for a in given["attributes"])


def test_fill_is_on_by_default_only_when_a_category_is_missing(hashing: Settings,
                                                               tmp_path: Path) -> None:
    output, store = _ingest(hashing, _catalog(tmp_path / "items.csv"))
    store.close()
    assert "Filled the category of 3 item(s)" in output
    complete = tmp_path / "complete.csv"
    pl.read_csv(tmp_path / "items.csv").drop_nulls("category").write_csv(complete)
    output, store = _ingest(hashing, complete)
    store.close()
    assert "categor" not in output.lower()  # a fully categorized catalog costs nothing extra
    output, store = _ingest(hashing, _catalog(tmp_path / "again.csv"), "--no-fill-categories")
    store.close()
    assert "categor" not in output.lower()


def test_fill_with_too_few_labelled_items_says_so_and_ingest_succeeds(
        hashing: Settings, tmp_path: Path) -> None:
    path = _catalog(tmp_path / "items.csv", labelled_per_category=2)
    output, store = _ingest(hashing, path, "--fill-categories")
    with store:
        items = store.read_table("s", "items", columns=["item_id", "category"])
    assert "Missing categories not filled" in output
    assert "6 item(s) in 3 categories, need at least 20" in output
    assert items.height == 9 and items["category"].null_count() == 3
