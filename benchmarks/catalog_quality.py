"""Product classification benchmark: category path from title + description.

* ``demo`` — the generated demo shop (2,000 items, 89 leaf paths, seed 42); the model
  predicts the full 3-level path.
* ``esci`` — ``esci_us_with_product_text/products.csv.gz`` items with a category; its
  paths have up to 8 levels and 950 distinct values for ~4,800 items, so the target is
  the path cut to 2 levels (160 classes); level-1 accuracy (33 classes) is reported too.

Split: stratified 80/20 (``random_state=0``; classes with one item go to training).
Models: ``supervised`` (:class:`shopmind.catalog_ml.CategoryClassifier`: USE vector +
hashed n-grams, multinomial LR), ``zero_shot`` (similarity to the category names, no
labels), and two ablations: n-grams only (``backend=hashing``) and USE vector only.

Usage::

    python benchmarks/catalog_quality.py --json benchmarks/results/catalog_quality.json
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from shopmind.catalog_ml.classifier import CategoryClassifier, item_texts, zero_shot_categories
from shopmind.config import get_settings
from shopmind.data.datasets.demo import generate_demo_shop
from shopmind.text.embeddings import load_backend

logger = logging.getLogger("catalog_quality")


def _cut(paths: list[str], levels: int) -> list[str]:
    return [" > ".join(p.split(" > ")[:levels]) for p in paths]


def split(labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    counts = Counter(labels)
    single = {label for label, n in counts.items() if n < 2}
    rows = np.arange(len(labels))
    keep = np.array([lab not in single for lab in labels])
    train, test = train_test_split(rows[keep], test_size=0.2, random_state=0,
                                   stratify=[labels[i] for i in rows[keep]])
    return np.concatenate([train, rows[~keep]]), test


def accuracy(pred: list[str], truth: list[str], levels: int | None = None) -> float:
    if levels is not None:
        pred, truth = _cut(pred, levels), _cut(truth, levels)
    return float(np.mean([p == t for p, t in zip(pred, truth, strict=True)]))


def run(name: str, texts: list[str], labels: list[str]) -> dict[str, Any]:
    train, test = split(labels)
    tr_t, te_t = [texts[i] for i in train], [texts[i] for i in test]
    tr_y, te_y = [labels[i] for i in train], [labels[i] for i in test]
    out: dict[str, Any] = {"items": len(texts), "classes": len(set(labels)),
                           "n_train": len(train), "n_test": len(test), "models": {}}
    for model_name, backend in (("supervised", "use"), ("ngrams_only", "hashing")):
        start = time.perf_counter()
        clf = CategoryClassifier(backend=backend).fit(tr_t, tr_y)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        pred = clf.predict(te_t)
        out["models"][model_name] = {"accuracy": accuracy(pred, te_y),
                                     "level1_accuracy": accuracy(pred, te_y, 1),
                                     "train_seconds": round(fit_s, 2),
                                     "items_per_s": round(len(te_t) / (time.perf_counter()
                                                                       - start), 1)}
    encoder = load_backend("use")
    vectors = encoder.embed(texts)
    lr = LogisticRegression(C=10.0, max_iter=1000).fit(vectors[train], tr_y)
    pred = lr.predict(vectors[test]).tolist()
    out["models"]["use_only"] = {"accuracy": accuracy(pred, te_y),
                                 "level1_accuracy": accuracy(pred, te_y, 1)}
    pred, _ = zero_shot_categories(te_t, sorted(set(labels)))
    out["models"]["zero_shot"] = {"accuracy": accuracy(pred, te_y),
                                  "level1_accuracy": accuracy(pred, te_y, 1)}
    for model, row in out["models"].items():
        logger.info("%s %s: %s", name, model, row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    results: dict[str, Any] = {"created": datetime.now(UTC).isoformat(timespec="seconds")}
    items = generate_demo_shop().items
    results["demo"] = run("demo", item_texts(items), items["category"].to_list())
    products = pl.read_csv(get_settings().datasets_dir / "esci_us_with_product_text"
                           / "products.csv.gz").filter(pl.col("category").is_not_null())
    texts = [f"{t} {b or ''}".strip() for t, b in zip(
        products["title"].fill_null("").to_list(),
        products["bullet_points"].fill_null("").str.slice(0, 300).to_list(), strict=True)]
    results["esci_level2"] = run("esci", texts, _cut(products["category"].to_list(), 2))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
