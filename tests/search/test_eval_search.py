"""The eval-search contract on a tiny fixture (CLI), and the metric it reports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from shopmind.cli import app
from shopmind.evaluation.metrics import graded_ndcg_at_k

PRODUCTS = [
    ("p1", "Red summer dress", "Acme", "red", "Clothing > Dresses", "Light cotton dress."),
    ("p2", "Blue denim jacket", "Acme", "blue", "Clothing > Jackets", ""),
    ("p3", "Wireless headphones", "Sonic", "black", "Electronics > Audio", "Noise cancelling"),
    ("p4", "Cordless drill 20V", "Forge", "", "Tools > Power tools", "Two batteries."),
    ("p5", "红色连衣裙", "素衣", "red", "服装 > 连衣裙", ""),
]
JUDGMENTS = [
    ("1", "red dress", "p1", 1.0), ("1", "red dress", "p2", 0.0),
    ("1", "red dress", "p5", 0.1),
    ("2", "cordless drill", "p4", 2.0), ("2", "cordless drill", "p3", 0.0),
    ("3", "红色连衣裙", "p5", 1.0),
]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    products = tmp_path / "products.csv"
    pl.DataFrame(PRODUCTS, orient="row", schema=["product_id", "title", "brand", "color",
                                                 "category", "description"]
                 ).write_csv(products)
    judgments = tmp_path / "judgments.csv"
    pl.DataFrame(JUDGMENTS, orient="row", schema=["query_id", "query", "product_id", "gain"]
                 ).write_csv(judgments)
    return judgments, products


@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_eval_search_writes_the_contract_keys(files: tuple[Path, Path], tmp_path: Path,
                                              mode: str) -> None:
    judgments, products = files
    out = tmp_path / "out" / "result.json"
    result = CliRunner().invoke(app, [
        "eval-search", "--judgments", str(judgments), "--products", str(products),
        "--json", str(out), "--mode", mode, "--backend", "hashing"])
    assert result.exit_code == 0, result.output
    body = json.loads(out.read_text())
    assert {"ndcg@10", "recall@100", "n_queries", "mode", "p99_ms"} <= set(body)
    assert body["n_queries"] == 3 and body["mode"] == mode
    assert body["n_queries_without_relevant"] == 0
    assert 0.0 <= body["ndcg@10"] <= 1.0 and body["p99_ms"] >= 0
    if mode == "bm25":
        assert body["ndcg@10"] > 0.9 and body["recall@100"] == 1.0


def test_eval_search_reads_what_exports_write(files: tuple[Path, Path],
                                             tmp_path: Path) -> None:
    """A spreadsheet's stock column, an item_id besides product_id, padded values."""
    judgments, products = files
    frame = pl.read_csv(products)
    exported = tmp_path / "exported.csv"
    frame.with_columns(item_id=pl.Series([str(i) for i in range(frame.height)]),
                       stock=pl.Series(["12.0", "", "In Stock", "0", "3"]),
                       product_id=" " + pl.col("product_id") + " ").write_csv(exported)
    outs = [tmp_path / "plain.json", tmp_path / "exported.json"]
    for path, out in zip((products, exported), outs, strict=True):
        result = CliRunner().invoke(app, [
            "eval-search", "--judgments", str(judgments), "--products", str(path),
            "--json", str(out), "--mode", "bm25"])
        assert result.exit_code == 0, result.output
    plain, padded = (json.loads(out.read_text()) for out in outs)
    assert padded["ndcg@10"] == plain["ndcg@10"] > 0.9
    assert padded["latency_includes_embedding"] is False  # bm25 embeds nothing


def test_eval_search_rejects_bad_input(files: tuple[Path, Path], tmp_path: Path) -> None:
    judgments, products = files
    def write(name: str, text: str) -> str:
        (tmp_path / name).write_text(text)
        return str(tmp_path / name)

    header = "query_id,query,product_id,gain\n"
    bad = write("bad.csv", header + "1,x,p1,lots\n")
    runner = CliRunner()
    for args, fragment in (
        (["--judgments", bad, "--products", str(products)], "row 2: field `gain`"),
        (["--judgments", write("inf.csv", header + "1,x,p1,1\n1,x,p2,inf\n"),
          "--products", str(products)], "row 3: field `gain` must be a finite number"),
        (["--judgments", write("empty.csv", header), "--products", str(products)],
         "no rows"),
        (["--judgments", write("noid.csv", header + "1,x,,1\n"), "--products",
          str(products)], "row 2: field `product_id` must be present"),
        (["--judgments", str(judgments), "--products",
          write("dup.csv", "product_id,title\np1,a\np2,b\np1,c\n")],
         "field `product_id` must be unique"),
        (["--judgments", write("other.csv", header + "1,x,zz,1\n"), "--products",
          str(products)], "none of the 1 product ids judged"),
        (["--judgments", str(judgments), "--products", str(products), "--json",
          str(tmp_path)], "is a directory"),
        (["--judgments", str(judgments), "--products", str(tmp_path / "none.csv")],
         "no such file"),
        (["--judgments", str(products), "--products", str(products)], "missing column"),
        (["--judgments", str(judgments), "--products", str(products), "--mode", "x"],
         "--mode must be one of"),
        (["--judgments", str(judgments), "--products", str(products), "--mode", "bm25",
          "--backend", "nope"], "--backend must be one of"),
    ):
        # a repeated option takes its last value: ``args`` may override --json
        result = runner.invoke(app, ["eval-search", "--json", str(tmp_path / "o.json"),
                                     "--backend", "hashing", *args])
        assert result.exit_code != 0
        assert fragment in str(result.exception) + result.output


def test_graded_ndcg_matches_a_hand_computation() -> None:
    ranked = np.array([[0.1, 1.0, 0.0]])
    ideal = np.array([[1.0, 0.1, 0.0]])
    dcg = 0.1 + 1.0 / np.log2(3)
    idcg = 1.0 + 0.1 / np.log2(3)
    assert graded_ndcg_at_k(ranked, ideal, 10) == pytest.approx(dcg / idcg)
