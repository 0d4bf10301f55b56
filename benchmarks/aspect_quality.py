"""Aspect detection measured on a hand-labelled sample of real reviews (zh + en).

Labels: ``benchmarks/data/aspect_labels.json`` (review ids and the aspects a reader
assigned; how they were drawn and labelled is written in the file). The texts come from
the shared data sets at run time. Reports micro and per-aspect precision / recall / F1.

Usage::

    python benchmarks/aspect_quality.py --json benchmarks/results/aspect_quality.json
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl

from shopmind.config import get_settings
from shopmind.reviews.aspects import ASPECTS, detect_aspects

LABELS = Path(__file__).with_name("data") / "aspect_labels.json"


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": round(p, 4), "recall": round(r, 4),
            "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0, "support": tp + fn}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    labels = json.loads(LABELS.read_text())
    folder = get_settings().datasets_dir
    counts: dict[str, Counter[str]] = {a: Counter() for a in ASPECTS}
    per_language: dict[str, Counter[str]] = {}
    errors: list[dict[str, Any]] = []
    for dataset in ("online_shopping_10_cats", "amazon_alexa_reviews"):
        frame = pl.read_csv(folder / dataset / "reviews.csv.gz")
        texts = dict(zip(frame["review_id"].cast(str), frame["review"].fill_null(""),
                         strict=True))
        lang = per_language.setdefault(dataset, Counter())
        for rid, truth in labels[dataset].items():
            found = {m.aspect for m in detect_aspects(texts[rid])}
            for aspect in ASPECTS:
                key = ("tp" if aspect in found and aspect in truth else
                       "fp" if aspect in found else "fn" if aspect in truth else "tn")
                counts[aspect][key] += 1
                lang[key] += 1
            if found != set(truth):
                errors.append({"dataset": dataset, "review_id": rid, "labelled": sorted(truth),
                               "detected": sorted(found)})
    total = sum(counts.values(), Counter())
    result = {
        "n_reviews": sum(len(v) for k, v in labels.items() if k != "how_labelled"),
        "how_labelled": labels["how_labelled"],
        "micro": prf(total["tp"], total["fp"], total["fn"]),
        "by_dataset": {d: prf(c["tp"], c["fp"], c["fn"]) for d, c in per_language.items()},
        "per_aspect": {a: prf(c["tp"], c["fp"], c["fn"]) for a, c in counts.items()
                       if c["tp"] + c["fp"] + c["fn"]},
        "disagreements": errors,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps({k: result[k] for k in ("micro", "by_dataset")}, indent=1))


if __name__ == "__main__":
    main()
