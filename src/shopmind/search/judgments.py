"""Relevance judgments of the eval-search contract: read, check, turn into gain matrices.

Judgments CSV: ``query_id, query, product_id, gain`` (gain a float ≥ 0); products CSV:
``product_id, title`` plus optional text columns. Both may be gzip-compressed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from shopmind.data.string_csv import ROW, read_string_csv
from shopmind.errors import InputError

JUDGMENT_COLUMNS = ("query_id", "query", "product_id", "gain")

logger = logging.getLogger(__name__)


def read_csv(path: str | Path, required: tuple[str, ...], trim: tuple[str, ...] = ()
             ) -> pl.DataFrame:
    """All-string CSV with ``required`` columns and ``_row`` (see
    :mod:`shopmind.data.string_csv`); ``trim`` columns lose surrounding spaces."""
    return read_string_csv(path, required, trim)


def _fail_on(frame: pl.DataFrame, bad: pl.Expr, path: str | Path, field: str,
             expected: str) -> None:
    """An :class:`InputError` naming the file, the first bad row (as a spreadsheet
    numbers it, the header being row 1) and the field, if any row matches ``bad``."""
    found = frame.filter(bad)
    if found.height:
        first = found.row(0, named=True)
        raise InputError(f"{path} row {first[ROW]}: field `{field}` must be "
                         f"{expected}, got {first[field]!r} ({found.height} bad rows)")


def _require_rows(frame: pl.DataFrame, path: str | Path) -> None:
    if frame.is_empty():
        raise InputError(f"{path}: no rows (only a header)")


def read_judgments(path: str | Path) -> pl.DataFrame:
    """Judgments with ``gain`` as a finite float ≥ 0 (rows are checked, never dropped)."""
    frame = read_csv(path, JUDGMENT_COLUMNS, trim=("query_id", "product_id", "gain")
                     ).with_columns(
        pl.col("gain").cast(pl.Float64, strict=False).alias("_gain"))
    _require_rows(frame, path)
    for column in ("query_id", "product_id"):
        _fail_on(frame, pl.col(column).is_null() | (pl.col(column).str.strip_chars() == ""),
                 path, column, "present")
    gain = pl.col("_gain")
    _fail_on(frame, gain.is_null() | gain.is_nan() | gain.is_infinite() | (gain < 0),
             path, "gain", "a finite number ≥ 0")
    return frame.select("query_id", pl.col("query").fill_null(""), "product_id",
                        gain.alias("gain"))


def read_products(path: str | Path) -> pl.DataFrame:
    """Products with at least ``product_id`` and ``title``; ids present and unique."""
    frame = read_csv(path, ("product_id", "title"), trim=("product_id",))
    if "item_id" in frame.columns:  # the contract's id is product_id; ignore another id
        frame = frame.drop("item_id")
    _require_rows(frame, path)
    _fail_on(frame, pl.col("product_id").is_null()
             | (pl.col("product_id").str.strip_chars() == ""), path, "product_id", "present")
    _fail_on(frame, pl.col("product_id").is_duplicated(), path, "product_id",
             "unique (each product once)")
    return frame.drop(ROW)


def check_judged_products(judgments: pl.DataFrame, products: pl.DataFrame,
                          judgments_path: str | Path, products_path: str | Path) -> int:
    """How many judged product ids the products file lacks (they can never be ranked, so
    they only lower the scores; logged); an error when it holds none of them."""
    judged = judgments["product_id"].unique()
    missing = int((~judged.is_in(products["product_id"].implode())).sum())
    if missing == len(judged):
        raise InputError(f"none of the {len(judged):,} product ids judged in "
                         f"{judgments_path} is in {products_path}: are these the right "
                         "files?")
    if missing:
        logger.warning("%d of %d judged product ids are not in %s; they count as "
                       "relevant products never found", missing, len(judged), products_path)
    return missing


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

    def without_relevant(self) -> int:
        """Queries none of whose judged products has a gain above 0: they count as 0 in
        NDCG@10 (and in ``n_queries``) and are left out of recall."""
        return sum(1 for judged in self.gains if not any(g > 0 for g in judged.values()))

    def recall(self, rankings: list[list[str]], k: int) -> float:
        """Mean over queries with a relevant (gain > 0) product of the share found in top-k."""
        shares = []
        for q, ids in enumerate(rankings):
            relevant = {p for p, g in self.gains[q].items() if g > 0}
            if relevant:
                shares.append(len(relevant.intersection(ids[:k])) / len(relevant))
        return float(np.mean(shares)) if shares else 0.0
