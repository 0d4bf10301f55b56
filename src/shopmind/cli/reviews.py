"""``shopmind reviews train|analyze|alerts`` and ``shopmind eval-sentiment``."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import polars as pl
import typer
from rich.markup import escape
from rich.table import Table

from shopmind.cli.common import ShopOption, console, output_file, settings_store
from shopmind.config import get_settings
from shopmind.errors import InputError

reviews_app = typer.Typer(no_args_is_help=True, add_completion=False)


def _store_training_data(shop_id: str) -> tuple[list[str], np.ndarray]:
    """Rated reviews with text: ≥ 4 stars positive, ≤ 2 negative, 3 left out."""
    with settings_store() as store:
        reviews = store.read_table(shop_id, "reviews", columns=["text", "rating"])
    rated = reviews.filter(pl.col("rating").is_not_null() & (pl.col("rating") != 3)
                           & (pl.col("text").fill_null("").str.len_chars() > 0))
    if rated.is_empty():
        raise InputError(f"shop '{shop_id}' has no rated reviews with text to learn from; "
                         "ingest reviews or pass --csv FILE --label-col COLUMN")
    return rated["text"].to_list(), (rated["rating"] >= 4).cast(pl.Int64).to_numpy()


@reviews_app.command("train")
def train(
    shop: ShopOption = None,
    csv: Annotated[Path | None, typer.Option(help="Labelled CSV to learn from instead of the "
                                             "shop's rated reviews.")] = None,
    text_col: Annotated[str, typer.Option(help="Text column of --csv.")] = "review",
    label_col: Annotated[str, typer.Option(help="0/1 label column of --csv.")] = "label",
    model: Annotated[str, typer.Option(help="Sentiment model: stack (n-grams + language-model "
                                            "embeddings, chosen on validation), ngram or "
                                            "embedding.")] = "stack",
) -> None:
    """Train the shop's sentiment model and save it under DATA_DIR/models/SHOP/sentiment."""
    from shopmind.reviews import create_model
    from shopmind.reviews.analyze import sentiment_model_dir
    from shopmind.reviews.evaluate import read_labelled_csv

    settings = get_settings()
    shop_id = shop or settings.default_shop
    texts, labels = (read_labelled_csv(csv, text_col, label_col) if csv is not None
                     else _store_training_data(shop_id))
    logging.getLogger("shopmind").setLevel(logging.INFO)
    started = time.perf_counter()
    with console.status(f"training on {len(texts):,} reviews…"):
        fitted = create_model(model).fit(texts, labels)
        folder = fitted.save(sentiment_model_dir(settings.data_dir, shop_id))
    summary = getattr(fitted, "validation_", None)
    detail = (f"; validation: {summary['winner']} wins by {summary['margin_macro_f1']:.4f} "
              f"macro-F1 over {summary['runner_up']}" if summary else "")
    console.print(f"Trained '{model}' on {len(texts):,} reviews in "
                  f"{time.perf_counter() - started:.1f} s{detail}. Saved to {escape(str(folder))}")


@reviews_app.command("analyze")
def analyze(shop: ShopOption = None,
            top: Annotated[int, typer.Option(help="Aspect rows to print.")] = 15) -> None:
    """Score every review of the shop (PII scrubbed) and summarize aspects per category."""
    from shopmind.reviews import load_model
    from shopmind.reviews.analyze import (
        analyze_reviews,
        reviews_dir,
        save_analysis,
        sentiment_model_dir,
    )
    from shopmind.reviews.summaries import aspect_summary

    settings = get_settings()
    shop_id = shop or settings.default_shop
    model = load_model(sentiment_model_dir(settings.data_dir, shop_id))
    with settings_store() as store:
        reviews = store.read_table(shop_id, "reviews")
        items = store.read_table(shop_id, "items", columns=["item_id", "category", "brand"])
    if reviews.is_empty():
        raise InputError(f"shop '{shop_id}' has no reviews; ingest some first")
    with console.status(f"analyzing {reviews.height:,} reviews…"):
        scores, aspects = analyze_reviews(reviews, model, items)
        folder = reviews_dir(settings.data_dir, shop_id)
        save_analysis(scores, aspects, folder)
    negative = float((scores["label"] == 0).sum()) / max(scores.height, 1)
    console.print(f"{scores.height:,} reviews scored ({negative:.1%} negative), "
                  f"{aspects.height:,} aspect mentions. Saved to {escape(str(folder))}")
    by = "category" if scores["category"].null_count() < scores.height else "item_id"
    summary = aspect_summary(aspects, scores, by=by, min_mentions=3).sort(
        "mentions", descending=True).head(top)
    table = Table(by, "aspect", "mentions", "summary")
    for row in summary.iter_rows(named=True):
        table.add_row(escape(str(row[by])), row["aspect"], str(row["mentions"]),
                      escape(row["summary"]))
    console.print(table)


@reviews_app.command("alerts")
def alerts(
    shop: ShopOption = None,
    every: Annotated[str, typer.Option(
        help="Window length: a whole number and a unit, h (hours), d, w, mo, q or y "
             "(e.g. 1d, 2w, 1mo).")] = "1w",
    alpha: Annotated[float, typer.Option(min=1e-12, max=0.5,
                                         help="Significance level per test.")] = 0.001,
    baseline: Annotated[int, typer.Option(min=1, help="Baseline windows.")] = 8,
    plots: Annotated[bool, typer.Option(help="Write a PNG per alert.")] = True,
) -> None:
    """Detect negative-share spikes per product, brand and category; list the alerts."""
    from shopmind.reviews.alerts import run_alerts
    from shopmind.reviews.analyze import load_scores, reviews_dir
    from shopmind.reviews.monitor import SpikeDetector

    settings = get_settings()
    folder = reviews_dir(settings.data_dir, shop or settings.default_shop)
    scores = load_scores(folder)
    found = run_alerts(scores, folder, SpikeDetector(alpha=alpha, baseline_windows=baseline),
                       every=every, plots=plots)
    if not found:
        console.print("No alerts: no window's negative share is significantly above its "
                      "baseline.")
        return
    table = Table("level", "group", "window", "negative", "baseline", "p", "plot")
    for a in found:
        table.add_row(a["level"], escape(str(a["group"])), f"{a['window_start']:%Y-%m-%d %H:%M}",
                      f"{a['negatives']}/{a['reviews']} ({a['negative_share']:.0%})",
                      f"{a['baseline_share']:.0%}", f"{a['p_value']:.1e}",
                      escape(str(a["plot"] or "")))
    console.print(table)


def _category_names(option: str) -> list[str]:
    """Names from ``--categories``: comma-separated, or ``@FILE`` with one per line."""
    if option.startswith("@"):
        path = Path(option[1:])
        if not path.is_file():
            raise InputError(f"--categories {option}: file not found")
        names = path.read_text(encoding="utf-8").splitlines()
    else:
        names = option.split(",")
    names = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    if len(names) < 2:
        raise InputError(f"--categories needs at least 2 category names, got {len(names)}")
    return names


def eval_sentiment(
    train: Annotated[Path, typer.Option("--train", help="Training CSV.")],
    test: Annotated[Path, typer.Option("--test", help="Test CSV (never used to train).")],
    json_out: Annotated[Path, typer.Option("--json", help="Where to write the result JSON.")],
    text_col: Annotated[str, typer.Option(help="Text column.")] = "review",
    label_col: Annotated[str, typer.Option(help="0/1 label column.")] = "label",
) -> None:
    """Train the default sentiment model on --train, score --test, write JSON.

    Output keys: accuracy, macro_f1, n_test, model, train_seconds, texts_per_s.
    """
    from shopmind.reviews.evaluate import eval_sentiment as run

    output_file(json_out)
    logging.getLogger("shopmind").setLevel(logging.INFO)
    result = run(train, test, text_col=text_col, label_col=label_col)
    json_out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    console.print(f"accuracy {result['accuracy']:.4f} · macro-F1 {result['macro_f1']:.4f} · "
                  f"{result['n_test']:,} test texts · trained in {result['train_seconds']:.0f} s"
                  f" · {result['texts_per_s']:.0f} texts/s → {escape(str(json_out))}")


def classify(
    texts: Annotated[list[str], typer.Argument(help="Product titles (and descriptions).")],
    shop: ShopOption = None,
    categories: Annotated[str | None, typer.Option(
        "--categories", help="Category names for zero-shot classification (no labelled "
        "items needed): comma-separated, or @FILE with one per line; paths as 'A > B'.")
    ] = None,
) -> None:
    """Predict category paths and tags for product texts.

    With --categories, each text gets the most similar category name (zero-shot);
    otherwise a classifier learns the shop's labelled items (at least 2 categories).
    """
    from shopmind.catalog_ml import CategoryClassifier, extract_tags, zero_shot_categories
    from shopmind.catalog_ml.classifier import item_texts

    settings = get_settings()
    if categories is not None:
        names = _category_names(categories)
        with console.status(f"matching {len(texts):,} texts to {len(names):,} category "
                            "names (zero-shot)…"):
            predicted, confidence = zero_shot_categories(
                texts, names, backend=settings.catalog_text_backend)
    else:
        shop_id = shop or settings.default_shop
        with settings_store() as store:
            items = store.read_table(shop_id, "items", columns=[
                "title", "description", "category", "placeholder"])
        labelled = items.filter(pl.col("category").is_not_null() & ~pl.col("placeholder"))
        known = labelled["category"].unique().sort().to_list()
        if len(known) < 2:
            raise InputError(f"shop '{shop_id}' has {len(known)} labelled categor"
                             f"{'y' if len(known) == 1 else 'ies'}; a classifier needs at "
                             "least 2: ingest items with a category, or give --categories "
                             "'A,B,…' to classify zero-shot")
        with console.status(f"learning {len(known):,} categories from "
                            f"{labelled.height:,} items…"):
            clf = CategoryClassifier().fit(item_texts(labelled), labelled["category"].to_list())
            scores = clf.predict_proba(texts)
            predicted = [str(clf.classes_[i]) for i in scores.argmax(axis=1)]
            confidence = scores.max(axis=1)
    table = Table("text", "category", "confidence", "tags")
    for text, category, score in zip(texts, predicted, confidence, strict=True):
        table.add_row(escape(text[:60]), escape(category), f"{score:.2f}",
                      ", ".join(extract_tags(text)))
    console.print(table)
