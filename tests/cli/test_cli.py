"""The command line: help for every command, one clear line for every user mistake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopmind.cli import app

runner = CliRunner()
COMMANDS = ("demo", "ingest", "profiles", "profile", "datasets", "quarantine")


def _shopmind(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    code = "from shopmind.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=120)


def test_help_lists_every_command_with_a_description() -> None:
    result = runner.invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    for command in COMMANDS:
        line = next(line for line in result.output.splitlines() if f" {command} " in line)
        assert len(line.split(command, 1)[1].strip(" │")) > 10, line
    for command in COMMANDS:
        assert runner.invoke(app, [command, "--help"]).exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "missing.csv"], "no such file"),
        (["ingest", "--dataset", "nope"], "unknown data set 'nope'; registered data sets:"),
        (["ingest"], "give either a FILE or --dataset NAME"),
        (["ingest", "x.csv", "--unknown", "drop"], "--unknown must be"),
        (["profile", "u1"], "no profile for user 'u1' in shop 'default': the shop has no data"),
        (["profiles"], "shop 'default' has no events or orders"),
        (["--store", "mysql://x", "quarantine"], "invalid setting (store_url"),
        (["train", "--generators", "popular=0"], "counts of at least 1"),
        (["ingest", "."], "is a directory"),
    ],
)
def test_user_mistakes_give_one_line_and_exit_1(
    args: list[str], message: str, tmp_path: Path
) -> None:
    result = _shopmind(*args, data_dir=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


def test_ingest_a_file_then_see_its_quarantine(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("user_id,item_id,type,ts\nu1,i1,view,2026-01-01T10:00:00Z\nu2,i2,fly,x\n")
    result = _shopmind("ingest", str(path), "--shop", "s", data_dir=tmp_path / "d")
    assert result.returncode == 0, result.stderr
    assert "Ingest summary" in result.stdout
    shown = _shopmind("quarantine", "--shop", "s", data_dir=tmp_path / "d")
    assert shown.returncode == 0 and "1 quarantined rows" in shown.stdout
    assert (tmp_path / "d" / "quarantine.jsonl").is_file()


def test_repeated_item_ids_are_explained_under_the_summary(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("item_id,title,price\ni1,Old title,5\ni1,New title,6\ni2,Other,7\n")
    result = runner.invoke(app, ["--data-dir", str(tmp_path / "d"), "ingest", str(path),
                                 "--shop", "s", "--table", "items"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "the last one is kept" in " ".join(result.output.split())
