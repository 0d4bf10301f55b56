"""A bilingual training sample from the public review sets, and a model fitted on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from shopmind.reviews.ngram_model import NgramSentiment


@pytest.fixture(scope="session")
def bilingual_sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], np.ndarray]:
    """5,000 Chinese reviews and every 1–2 / 4–5 star Alexa review, shuffled."""
    from shopmind.config import get_settings

    folder = Path(get_settings().datasets_dir)
    if not folder.is_dir():
        pytest.fail(f"public data sets not found at {folder}; set SHOPMIND_DATA")
    zh = pl.read_csv(folder / "online_shopping_10_cats" / "reviews.csv.gz").sample(
        5_000, seed=0)
    en = (pl.read_csv(folder / "amazon_alexa_reviews" / "reviews.csv.gz")
          .filter((pl.col("rating") != 3) & pl.col("review").is_not_null())
          .with_columns((pl.col("rating") >= 4).cast(pl.Int64).alias("label")))
    both = pl.concat([zh.select("review", "label"), en.select("review", "label")]).sample(
        fraction=1.0, shuffle=True, seed=0)
    return both["review"].to_list(), both["label"].to_numpy()


@pytest.fixture(scope="session")
def ngram_model(bilingual_sample: tuple[list[str], np.ndarray]) -> NgramSentiment:
    texts, labels = bilingual_sample
    return NgramSentiment(n_features=2**18).fit(texts, labels)
