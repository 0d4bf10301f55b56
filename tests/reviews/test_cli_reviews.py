"""CLI: the eval-sentiment contract on a tiny fixture; reviews train → analyze → alerts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from shopmind.cli import app
from shopmind.data.store import open_store

CONTRACT_KEYS = {"accuracy", "macro_f1", "n_test", "model", "train_seconds", "texts_per_s"}


def _write(texts: list[str], labels: np.ndarray, path: Path) -> Path:
    pl.DataFrame({"review": texts, "label": labels}).write_csv(path)
    return path


def test_eval_sentiment_contract(bilingual_sample: tuple[list[str], np.ndarray],
                                 tmp_path: Path) -> None:
    texts, labels = bilingual_sample
    train = _write(texts[:400], labels[:400], tmp_path / "train.csv")
    test = _write(texts[400:500], labels[400:500], tmp_path / "test.csv")
    out = tmp_path / "out" / "result.json"
    result = CliRunner().invoke(app, ["eval-sentiment", "--train", str(train), "--test",
                                      str(test), "--text-col", "review", "--label-col",
                                      "label", "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert set(data) >= CONTRACT_KEYS
    assert data["n_test"] == 100 and data["model"] == "stack"
    assert 0.6 <= data["accuracy"] <= 1 and 0 < data["macro_f1"] <= 1
    assert data["train_seconds"] > 0 and data["texts_per_s"] > 0


@pytest.mark.parametrize(("train", "test", "fragment"), [
    ("review,label\na,pos\nb,neg\n", None, "row 2: field `label` must be 0 or 1, got 'pos'"),
    ("review,label\na,1\nb,\nc,0\n", None, "row 3: field `label` must be 0 or 1, got None"),
    ("review,label\n", None, "no rows"),
    ("review,label\na,1\nb,1\n", None, "train.csv: "),  # one class: the file is named
    ("review,label\na,1\nb,0\n", "review,label\n", "test.csv: no rows"),
    ('review,label\n"abc,1\nx,0\n', None, "check for an unclosed quote"),
])
def test_eval_sentiment_rejects_bad_input_before_training(
        tmp_path: Path, train: str, test: str | None, fragment: str) -> None:
    (tmp_path / "train.csv").write_text(train)
    (tmp_path / "test.csv").write_text(test or train)
    result = CliRunner().invoke(app, ["eval-sentiment", "--train", str(tmp_path / "train.csv"),
                                      "--test", str(tmp_path / "test.csv"),
                                      "--json", str(tmp_path / "o.json")])
    assert result.exit_code != 0
    assert fragment in str(result.exception)


def test_eval_sentiment_refuses_a_directory_as_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval-sentiment", "--train", str(tmp_path / "x.csv"),
                                      "--test", str(tmp_path / "x.csv"), "--json",
                                      str(tmp_path)])
    assert result.exit_code != 0 and "is a directory" in str(result.exception)


def test_train_analyze_alerts_on_a_store(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    start = datetime(2026, 1, 5, tzinfo=UTC)
    good = ["质量很好，物流很快，很满意", "Great quality, fast delivery, love it",
            "包装很好，性价比高", "Works great, sound is amazing"]
    bad = ["质量太差，用两天就坏了", "Terrible quality, broke in a week",
           "物流太慢，包装破损", "Stopped working, waste of money"]
    rows = []
    for week in range(12):
        spike = week == 11
        for j in range(40):
            negative = rng.random() < (0.6 if spike else 0.1)
            text = (bad if negative else good)[j % 4]
            rows.append({"review_id": f"r{week}_{j}", "item_id": "i1",
                         "rating": 1.0 if negative else 5.0, "text": text,
                         "ts": (start + timedelta(weeks=week, hours=j)).isoformat()})
    rows[0]["text"] += " 有问题打我电话 13812345678"
    reviews_csv = tmp_path / "reviews.csv"
    pl.DataFrame(rows).write_csv(reviews_csv)
    data = tmp_path / "data"
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, ["--data-dir", str(data), *args])
        assert result.exit_code == 0, result.output + repr(result.exception)
        return result.output

    run("ingest", str(reviews_csv), "--table", "reviews", "--shop", "s")
    with open_store(f"sqlite:///{data / 'shopmind.db'}") as store:
        stored = store.read_table("s", "reviews", where={"review_id": "r0_0"})["text"].item()
    assert stored.endswith("[PHONE]")  # scrubbed before it was stored
    assert "Trained 'ngram'" in run("reviews", "train", "--shop", "s", "--model", "ngram")
    assert "480 reviews scored" in run("reviews", "analyze", "--shop", "s")
    scores = pl.read_parquet(data / "reviews" / "s" / "scores.parquet")
    assert {"p_positive", "label", "text", "language"} <= set(scores.columns)
    output = run("reviews", "alerts", "--shop", "s")
    assert "item_id" in output and "i1" in output
    alerts = json.loads((data / "reviews" / "s" / "alerts.json").read_text())["alerts"]
    assert alerts[0]["window_start"].startswith("2026-03-23")
    assert Path(alerts[0]["plot"]).is_file()


def test_classify_from_the_shops_labelled_items(tmp_path: Path) -> None:
    items = pl.DataFrame({
        "item_id": [f"i{k}" for k in range(8)],
        "title": ["red summer dress", "floral maxi dress", "black evening dress", "连衣裙 夏",
                  "usb-c phone charger", "fast wall charger 65w", "car charger dual usb",
                  "充电器 快充"],
        "category": ["Clothing > Dresses"] * 4 + ["Electronics > Chargers"] * 4})
    path = tmp_path / "items.csv"
    items.write_csv(path)
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path / "d")]
    assert runner.invoke(app, [*base, "ingest", str(path), "--table", "items", "--shop",
                               "s"]).exit_code == 0
    result = runner.invoke(app, [*base, "classify", "wireless charger pad", "--shop", "s"])
    assert result.exit_code == 0, result.output
    assert "Chargers" in result.output and "feature:wireless" in result.output
    empty = runner.invoke(app, [*base, "classify", "x", "--shop", "none"])
    assert empty.exit_code != 0 and "--categories" in str(empty.exception)


def test_classify_zero_shot_from_category_names(tmp_path: Path) -> None:
    names = tmp_path / "categories.txt"
    names.write_text("Clothing > Dresses\nElectronics > Chargers\n\n")
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path / "d")]
    for option in ("Clothing > Dresses, Electronics > Chargers", f"@{names}"):
        result = runner.invoke(app, [*base, "classify", "fast usb chargers",
                                     "--categories", option], terminal_width=200)
        assert result.exit_code == 0, result.output
        assert "Electronics > Chargers" in result.output
    one = runner.invoke(app, [*base, "classify", "x", "--categories", "Dresses"])
    assert one.exit_code != 0 and "at least 2 category names" in str(one.exception)
    missing = runner.invoke(app, [*base, "classify", "x", "--categories",
                                  f"@{tmp_path / 'none.txt'}"])
    assert missing.exit_code != 0 and "file not found" in str(missing.exception)


def test_eval_sentiment_names_a_missing_column_and_a_missing_file(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.csv"
    pl.DataFrame({"text": ["好", "差"], "label": [1, 0]}).write_csv(wrong)
    out = tmp_path / "o.json"
    result = CliRunner().invoke(app, ["eval-sentiment", "--train", str(wrong), "--test",
                                      str(wrong), "--json", str(out)])
    assert result.exit_code != 0 and "missing column(s) review" in str(result.exception)
    missing = CliRunner().invoke(app, ["eval-sentiment", "--train", str(tmp_path / "no.csv"),
                                       "--test", str(wrong), "--json", str(out)])
    assert missing.exit_code != 0 and "no such file" in str(missing.exception)
    assert not out.exists()  # nothing half-written


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"review,label,label\nok,1,0\n", "appear more than once"),
        ("review,label\n好,1\n".encode("gb18030"), "not UTF-8 text"),
        (b"PK\x03\x04rest", "not a CSV file"),
    ],
)
def test_eval_sentiment_explains_files_it_cannot_read(tmp_path: Path, content: bytes,
                                                      message: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    result = CliRunner().invoke(app, ["eval-sentiment", "--train", str(bad), "--test",
                                      str(bad), "--json", str(tmp_path / "o.json")])
    assert result.exit_code != 0 and message in str(result.exception)


@pytest.mark.parametrize(
    "rows",
    [
        [(f"great product number {i}, love it", 1) for i in range(20)] + [("broke", 0)],
        [("", i % 2) for i in range(20)],
        [("good", 1), ("bad", 0)],
    ],
)
def test_eval_sentiment_with_too_few_texts_of_a_class_says_so(tmp_path: Path,
                                                              rows: list[tuple[str, int]]
                                                              ) -> None:
    train = tmp_path / "train.csv"
    pl.DataFrame(rows, orient="row", schema=["review", "label"]).write_csv(train)
    result = CliRunner().invoke(app, ["eval-sentiment", "--train", str(train), "--test",
                                      str(train), "--json", str(tmp_path / "o.json")])
    assert result.exit_code != 0
    assert "needs at least 2 different texts of each class" in str(result.exception)
