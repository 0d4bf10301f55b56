"""Relevance judgments of the eval-search contract: read, check, turn into gain matrices.

Judgments CSV: ``query_id, query, product_id, gain`` (gain a float ≥ 0); products CSV:
``product_id, title`` plus optional text columns. Both may be gzip-compressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from shopmind.errors import InputError

JUDGMENT_COLUMNS = ("query_id", "query", "product_id", "gain")


def read_csv(path: str | Path, required: tuple[str, ...]) -> pl.DataFrame:
    """All-string CSV with ``required`` columns, or an :class:`InputError` naming them."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"{path}: not a readable CSV file ({exc})") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; expected "
                         f"{', '.join(required)}, got {', '.join(frame.columns)}")
    return frame


def read_judgments(path: str | Path) -> pl.DataFrame:
    """Judgments with ``gain`` as a float ≥ 0 (rows are checked, not silently dropped)."""
    frame = read_csv(path, JUDGMENT_COLUMNS).with_columns(
        pl.col("gain").cast(pl.Float64, strict=False).alias("_gain"))
    bad = frame.with_row_index("row").filter(
        pl.col("_gain").is_null() | (pl.col("_gain") < 0) | pl.col("_gain").is_nan())
    if bad.height:
        first = bad.row(0, named=True)
        raise InputError(f"{path} row {first['row'] + 2}: field `gain` must be a number ≥ 0, "
                         f"got {first['gain']!r} ({bad.height} bad rows)")
    return frame.select("query_id", pl.col("query").fill_null(""), "product_id",
                        pl.col("_gain").alias("gain"))


def read_products(path: str | Path) -> pl.DataFrame:
    """Products with at least ``product_id`` and ``title``."""
    return read_csv(path, ("product_id", "title"))


@dataclass
class QuerySet:
    """Distinct queries with their judged gains by product id."""

    query_ids: list[str]
    queries: list[str]
    gains: list[dict[str, float]]

    @classmethod
    def from_judgments(cls, judgments: pl.DataFrame) -> QuerySet:
        """Group judgments by ``query_id`` (first query text; max gain per product)."""
        grouped = (judgments.group_by("query_id", "product_id", maintain_order=True)
                   .agg(pl.col("query").first(), pl.col("gain").max())
                   .group_by("query_id", maintain_order=True)
                   .agg(pl.col("query").first(), pl.col("product_id"), pl.col("gain")))
        return cls(grouped["query_id"].to_list(), grouped["query"].to_list(),
                   [dict(zip(p, g, strict=True)) for p, g in
                    zip(grouped["product_id"].to_list(), grouped["gain"].to_list(),
                        strict=True)])

    def ranked_gains(self, rankings: list[list[str]], k: int) -> np.ndarray:
        """(Q, k) gains of each query's top-k product ids (0 when unjudged or missing)."""
        out = np.zeros((len(rankings), k))
        for q, ids in enumerate(rankings):
            judged = self.gains[q]
            out[q, :min(k, len(ids))] = [judged.get(i, 0.0) for i in ids[:k]]
        return out

    def ideal_gains(self) -> np.ndarray:
        """(Q, m) every judged gain per query, zero-padded."""
        width = max((len(g) for g in self.gains), default=1)
        out = np.zeros((len(self.gains), width))
        for q, judged in enumerate(self.gains):
            out[q, :len(judged)] = list(judged.values())
        return out

    def recall(self, rankings: list[list[str]], k: int) -> float:
        """Mean over queries with a relevant (gain > 0) product of the share found in top-k."""
        shares = []
        for q, ids in enumerate(rankings):
            relevant = {p for p, g in self.gains[q].items() if g > 0}
            if relevant:
                shares.append(len(relevant.intersection(ids[:k])) / len(relevant))
        return float(np.mean(shares)) if shares else 0.0
