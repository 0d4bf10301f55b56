"""Item tags from title and description, and auto-tagging of items on upsert.

Tags come from a bilingual cue list (colours, materials, audience, features); the category
path comes from a :class:`~shopmind.catalog_ml.classifier.CategoryClassifier` when the item
has none. Tags go into ``attributes["tags"]``, the prediction's confidence into
``attributes["category_confidence"]`` so a shop can review low-confidence guesses.

>>> extract_tags("Red cotton T-shirt for kids, 防水")
['colour:red', 'material:cotton', 'audience:kids', 'feature:waterproof']
"""

from __future__ import annotations

import json
import re

import polars as pl

from shopmind.catalog_ml.classifier import CategoryClassifier, item_texts

#: tag → (Chinese cues, English cues)
TAGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "colour:red": (("红色", "红"), ("red",)), "colour:black": (("黑色",), ("black",)),
    "colour:white": (("白色",), ("white",)), "colour:blue": (("蓝色",), ("blue", "navy")),
    "colour:green": (("绿色",), ("green",)), "colour:pink": (("粉色",), ("pink",)),
    "colour:grey": (("灰色",), ("grey", "gray")),
    "material:cotton": (("纯棉", "棉质"), ("cotton",)),
    "material:leather": (("真皮", "皮革"), ("leather",)),
    "material:wool": (("羊毛",), ("wool", "cashmere")),
    "material:stainless": (("不锈钢",), ("stainless",)),
    "material:wood": (("实木", "木质"), ("wooden", "wood")),
    "audience:kids": (("儿童", "宝宝", "婴儿"), ("kids", "kid", "baby", "children", "toddler")),
    "audience:women": (("女士", "女款", "女装"), ("women", "womens", "ladies")),
    "audience:men": (("男士", "男款", "男装"), ("men", "mens")),
    "feature:waterproof": (("防水",), ("waterproof", "water resistant")),
    "feature:wireless": (("无线", "蓝牙"), ("wireless", "bluetooth")),
    "feature:organic": (("有机",), ("organic",)),
    "feature:portable": (("便携",), ("portable",)),
    "feature:smart": (("智能",), ("smart",)),
    "feature:eco": (("环保", "节能"), ("eco", "energy saving", "recyclable")),
}
_EN = {tag: re.compile(rf"\b(?:{'|'.join(map(re.escape, en))})\b", re.IGNORECASE)
       for tag, (_, en) in TAGS.items()}


def extract_tags(text: str) -> list[str]:
    """Tags whose cue words occur in ``text`` (Chinese as substrings, English as words)."""
    return [tag for tag, (zh, _) in TAGS.items()
            if any(c in text for c in zh) or _EN[tag].search(text)]


def autotag_items(items: pl.DataFrame, classifier: CategoryClassifier | None = None,
                  overwrite_category: bool = False) -> pl.DataFrame:
    """``items`` with tags added to ``attributes`` and missing categories predicted.

    Call it on the frame being upserted (ingest, API), before it is stored. Items that
    already have a category keep it unless ``overwrite_category``.
    """
    texts = item_texts(items)
    attrs = (items["attributes"].fill_null("{}").to_list() if "attributes" in items.columns
             else ["{}"] * items.height)
    current = (items["category"].to_list() if "category" in items.columns
               else [None] * items.height)
    predicted: list[str | None] = [None] * items.height
    confidence: list[float | None] = [None] * items.height
    todo = [i for i, c in enumerate(current) if overwrite_category or not c]
    if classifier is not None and todo:
        proba = classifier.predict_proba([texts[i] for i in todo])
        for j, i in enumerate(todo):
            predicted[i] = str(classifier.classes_[proba[j].argmax()])
            confidence[i] = float(proba[j].max())
    out_attrs = []
    for i, raw in enumerate(attrs):
        data = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
        data["tags"] = extract_tags(texts[i])
        score = confidence[i]
        if score is not None:
            data["category_confidence"] = round(score, 4)
        out_attrs.append(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    category = [p if p is not None else c for p, c in zip(predicted, current, strict=True)]
    return items.with_columns(pl.Series("attributes", out_attrs, dtype=pl.String),
                              pl.Series("category", category, dtype=pl.String))
