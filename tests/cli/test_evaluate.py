"""``shopmind evaluate``: the contract's JSON on tiny files, and one clear line on mistakes."""

from __future__ import annotations

import gzip
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopmind.cli import app
from shopmind.data.datasets.sequences import read_sequences
from shopmind.evaluation.loo import evaluate_stage
from shopmind.evaluation.protocols import leave_one_out
from shopmind.recommend.base import create_model
from shopmind.recommend.data import from_sequences

runner = CliRunner()
CONTRACT_KEYS = ["model", "dataset", "n_users", "n_items", "train_seconds", "metrics"]
CONTRACT_METRICS = ["recall@10", "ndcg@10", "recall@20", "ndcg@20", "mrr", "coverage@10"]
# Test view (last item held out): u1 [a b] → c, u2 [a c] → b, u3 [b a] → d, u4 [c] → a.
# Popularity a 3 > b 2 = c 2 > d 0, history masked: ranks 1, 1, 2 (d after c), 1.
SEQUENCES = "u1 a b c\nu2 a c b\n\nu3 b a d\nu4 c a\n"


@pytest.fixture
def sequences(tmp_path: Path) -> Path:
    path = tmp_path / "tiny_shop.txt.gz"
    path.write_bytes(gzip.compress(SEQUENCES.encode()))
    return path


def _evaluate(*args: str) -> dict:
    result = runner.invoke(app, ["evaluate", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = Path(args[args.index("--json") + 1])
    return json.loads(out.read_text())


def _shopmind(*args: str) -> subprocess.CompletedProcess[str]:
    code = "from shopmind.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120)


def test_popular_writes_the_contract_json_with_hand_computed_values(
    sequences: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "popular.json"
    payload = _evaluate("--sequences", str(sequences), "--protocol", "loo", "--model",
                        "popular", "--k", "10", "--json", str(out))
    assert list(payload)[:6] == CONTRACT_KEYS
    assert list(payload["metrics"]) == CONTRACT_METRICS
    assert (payload["model"], payload["dataset"]) == ("popular", "tiny_shop")
    assert (payload["n_users"], payload["n_items"]) == (4, 4)
    assert payload["train_seconds"] >= 0
    expected = {"recall@10": 1.0, "ndcg@10": (3 + 1 / math.log2(3)) / 4, "recall@20": 1.0,
                "ndcg@20": (3 + 1 / math.log2(3)) / 4, "mrr": (3 + 0.5) / 4,
                "coverage@10": 1.0}
    assert payload["metrics"] == pytest.approx(expected)
    assert payload["protocol"] == "loo" and payload["params"] == {"half_life_days": None}


@pytest.mark.parametrize("model", ["itemknn", "ease"])
def test_another_model_matches_the_library_evaluation(
    model: str, sequences: Path, tmp_path: Path
) -> None:
    text = tmp_path / "text.csv"
    text.write_text("item_id,title\na,red lipstick\nb,blue mascara\n")
    out = tmp_path / f"{model}.json"
    payload = _evaluate("--sequences", str(sequences), "--model", model, "--json", str(out),
                        "--item-text", str(text), "--valid")
    split = leave_one_out(from_sequences(read_sequences(sequences)))
    library = evaluate_stage(lambda: create_model(model), split, "test")
    assert payload["metrics"] == pytest.approx(library.metrics)
    assert list(payload["valid_metrics"]) == CONTRACT_METRICS
    assert payload["n_eval_users"] == 4


def test_training_epochs_are_reported_on_stderr_when_it_is_not_a_terminal(
    sequences: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sasrec.json"
    done = _shopmind("evaluate", "--sequences", str(sequences), "--model", "sasrec", "--param",
                     "max_epochs=2", "--param", "hidden=8", "--json", str(out))
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("train sasrec:")]
    assert [line.split(" loss ")[0] for line in lines] == [
        "train sasrec: epoch 1", "train sasrec: epoch 2"]
    assert json.loads(out.read_text())["model"] == "sasrec"


def test_model_params_and_a_temporal_split(tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_text(
        "user_id,item_id,type,ts\n"
        "u,a,view,2017-11-25T10:00:00Z\nu,b,cart,2017-11-26T10:00:00Z\n"
        "v,a,view,2017-11-25T11:00:00Z\nv,c,view,2017-11-26T11:00:00Z\n"
        "u,c,purchase,2017-11-27T10:00:00Z\nv,b,view,2017-11-27T12:00:00Z\n")
    out = tmp_path / "temporal.json"
    payload = _evaluate("--events", str(events), "--protocol", "temporal", "--model",
                        "trending", "--param", "half_life_days=2", "--json", str(out))
    assert payload["dataset"] == "events" and payload["protocol"] == "temporal"
    assert payload["params"] == {"half_life_days": 2}
    assert payload["n_eval_users"] == 2 and payload["metrics"]["recall@10"] == 1.0


def test_a_malformed_line_gives_one_error_line_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("u1 a b c\nu2\nu3 a b\n")
    result = _shopmind("evaluate", "--sequences", str(bad), "--model", "popular",
                       "--json", str(tmp_path / "x.json"))
    assert result.returncode == 1
    assert f"{bad} line 2: expected `user_id item_id" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "x.json").exists()


def test_an_unknown_model_lists_the_available_ones(sequences: Path) -> None:
    result = _shopmind("evaluate", "--sequences", str(sequences), "--model", "nope")
    assert result.returncode == 1
    assert "unknown model 'nope'; available models:" in result.stderr
    assert "popular" in result.stderr and "ease" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "popular"], "--protocol loo needs --sequences FILE"),
        (["--model", "popular", "--protocol", "x"], "--protocol must be one of"),
        (["--model", "popular", "--param", "depth"], "--param must look like KEY=VALUE"),
        (["--model", "popular", "--param", "depth=3"], "has no parameter(s) ['depth']"),
    ],
)
def test_flag_mistakes(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["evaluate", *args])
    assert result.exit_code == 1
    assert message in str(result.exception)
