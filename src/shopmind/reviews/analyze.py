"""Score a shop's reviews: scrub PII, sentiment per review, aspects per clause, saved as Parquet.

Files under ``DATA_DIR/reviews/SHOP/`` (paths from :func:`reviews_dir`):

* ``scores.parquet`` — ``review_id, item_id, category, brand, ts, rating, text`` (PII-
  scrubbed: the raw text is never written), ``language``, ``p_positive``, ``label``;
* ``aspects.parquet`` — ``review_id, aspect, p_positive, clause``;
* ``alerts.json`` and ``alerts/*.png`` — written by :func:`shopmind.reviews.alerts.run_alerts`.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from shopmind.errors import InputError
from shopmind.reviews.aspects import aspect_sentiment
from shopmind.reviews.base import SentimentModel
from shopmind.reviews.text import language
from shopmind.text.pii import scrub_all


def reviews_dir(data_dir: Path, shop_id: str) -> Path:
    """``DATA_DIR/reviews/SHOP``."""
    return Path(data_dir) / "reviews" / shop_id


def sentiment_model_dir(data_dir: Path, shop_id: str) -> Path:
    """Where ``shopmind reviews train`` saves the shop's sentiment model."""
    return Path(data_dir) / "models" / shop_id / "sentiment"


def analyze_reviews(reviews: pl.DataFrame, model: SentimentModel,
                    items: pl.DataFrame | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Scrubbed, scored reviews and their aspect mentions.

    Parameters
    ----------
    reviews : polars.DataFrame
        ``review_id, item_id, text`` and optionally ``ts``, ``rating``.
    model : SentimentModel
        A fitted model.
    items : polars.DataFrame, optional
        ``item_id, category, brand`` to attach (for category/brand monitoring).

    Returns
    -------
    (scores, aspects) : tuple of polars.DataFrame
    """
    missing = [c for c in ("review_id", "item_id", "text") if c not in reviews.columns]
    if missing:
        raise InputError(f"reviews need column(s) {missing}; got {reviews.columns}")
    texts = scrub_all(reviews["text"].fill_null("").to_list())
    proba = model.predict_proba(texts)
    scores = reviews.select(
        "review_id", "item_id",
        *[c for c in ("ts", "rating") if c in reviews.columns],
    ).with_columns(
        pl.Series("text", texts, dtype=pl.String),
        pl.Series("language", [language(t) for t in texts], dtype=pl.String),
        pl.Series("p_positive", proba, dtype=pl.Float64),
        pl.Series("label", (proba >= model.threshold_).astype("int8"), dtype=pl.Int8),
    )
    if items is not None and not items.is_empty():
        extra = [c for c in ("category", "brand") if c in items.columns]
        scores = scores.join(items.select("item_id", *extra), on="item_id", how="left")
    aspects = aspect_sentiment(scores["review_id"].to_list(), texts, model.predict_proba)
    return scores, aspects


def save_analysis(scores: pl.DataFrame, aspects: pl.DataFrame, folder: Path) -> None:
    """Write ``scores.parquet`` and ``aspects.parquet`` atomically into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in (("scores", scores), ("aspects", aspects)):
        tmp = folder / f".{name}.tmp.parquet"
        frame.write_parquet(tmp)
        tmp.replace(folder / f"{name}.parquet")


def load_scores(folder: Path) -> pl.DataFrame:
    """The review scores written by :func:`save_analysis` (clear error if missing)."""
    return _read_analysis(folder / "scores.parquet")


def load_analysis(folder: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The frames written by :func:`save_analysis` (clear error if not analyzed yet)."""
    return load_scores(folder), _read_analysis(folder / "aspects.parquet")


def _read_analysis(path: Path) -> pl.DataFrame:
    if not path.is_file():
        raise InputError(f"no review analysis at {path}; run `shopmind reviews analyze` "
                         "first")
    try:
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.ComputeError) as exc:
        raise InputError(f"{path} is damaged ({exc}); run `shopmind reviews analyze` "
                         "again") from exc
