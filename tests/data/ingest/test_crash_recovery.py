"""A SIGKILL in the middle of an ingest leaves a consistent store; re-running completes it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

from shopmind.data.store import open_store

N_ROWS = 400_000
CHUNK_ROWS = 5_000


def _events_file(path: Path) -> Path:
    rng = np.random.default_rng(7)
    pl.DataFrame({
        "user_id": rng.integers(0, 5_000, N_ROWS).astype(str),
        "item_id": rng.integers(0, 2_000, N_ROWS).astype(str),
        "type": rng.choice(["view", "cart", "purchase"], N_ROWS),
        "ts": (1_700_000_000 + np.arange(N_ROWS)).astype(str),  # every row distinct
    }).write_csv(path)
    return path


def _progress(db: Path) -> tuple[int, int] | None:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            row = conn.execute("SELECT chunks_done, rows_done FROM ingest_progress").fetchone()
    except sqlite3.Error:
        return None
    return row


def _ingest_command(data_dir: Path, path: Path) -> list[str]:
    code = "from shopmind.cli import main; main()"
    return [sys.executable, "-c", code, "--data-dir", str(data_dir), "ingest", str(path),
            "--shop", "s"]


def test_sigkill_mid_ingest_then_rerun(tmp_path: Path) -> None:
    path = _events_file(tmp_path / "events.csv")
    data_dir = tmp_path / "data"
    db = data_dir / "shopmind.db"
    env = {**os.environ, "SHOPMIND_INGEST_CHUNK_ROWS": str(CHUNK_ROWS)}

    process = subprocess.Popen(_ingest_command(data_dir, path), env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        progress = _progress(db)
        if progress and progress[0] >= 3:
            break
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    store = open_store(f"sqlite:///{db}")
    stored = store.read_table("s", "events", columns=["event_key"])
    committed = store.ingest_progress("s", _only_source_key(db))
    assert committed is not None and not committed.finished
    assert 0 < committed.rows_done < N_ROWS, "the kill must land mid-ingest"
    # Consistent: exactly the committed chunks are there, no half chunk.
    assert stored.height == committed.rows_done
    store.close()

    rerun = subprocess.run(_ingest_command(data_dir, path), env=env, capture_output=True,
                           text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    store = open_store(f"sqlite:///{db}")
    events = store.read_table("s", "events", columns=["event_key", "ts"])
    assert events.height == N_ROWS  # nothing lost
    assert events["event_key"].n_unique() == N_ROWS  # no duplicates
    assert store.ingest_progress("s", _only_source_key(db)).finished
    store.close()


def _only_source_key(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        (key,) = conn.execute("SELECT source_key FROM ingest_progress").fetchone()
    return key
