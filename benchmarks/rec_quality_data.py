"""Data sets of ``rec_quality.py`` and the bridge to RecBole's SASRec (a PyPI peer).

Per-data-set choices (file names, cut times) live here, in the benchmark, never in model
code. ``--quick`` keeps the first users of each file so a whole run takes minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from shopmind.config import get_settings
from shopmind.data.datasets.sequences import read_interaction_pairs, read_sequences
from shopmind.evaluation.loo import beyond_accuracy, metrics_from_ranks
from shopmind.evaluation.protocols import (
    LeaveOneOut,
    TemporalSplit,
    item_categories,
    leave_one_out,
    read_event_log,
    read_item_text,
    temporal_split,
)
from shopmind.recommend.data import from_sequences

SHANGHAI = timezone(timedelta(hours=8))
#: RecBole's training time: the budget the issue gives ShopMind's `best` on each data set.
RECBOLE_BUDGET_S = {"amazon-beauty": 900, "ml-1m": 1800}
QUICK_USERS = {"amazon-beauty": 3000, "ml-1m": 400, "taobao_userbehavior": 400,
               "taobao_userbehavior-new": 400}


@dataclass
class Loaded:
    name: str
    split: LeaveOneOut | TemporalSplit
    categories: np.ndarray | None  # one label per item of the test view, for ILD
    events: pl.DataFrame | None = None  # the event log (temporal splits)
    event_type: str = "purchase"  # what a sequence entry is, for the pipeline's events


@dataclass(frozen=True)
class DatasetSpec:
    protocol: str
    load: Callable[[Path, int | None], Loaded]


def _root() -> Path:
    return get_settings().datasets_dir


def _first_users(frame: pl.DataFrame, n: int | None) -> pl.DataFrame:
    if n is None:
        return frame
    keep = frame["user_id"].unique(maintain_order=True).head(n)
    return frame.filter(pl.col("user_id").is_in(keep.implode()))


def _beauty(root: Path, n_users: int | None) -> Loaded:
    folder = root / "amazon-beauty"
    frame = _first_users(read_sequences(folder / "beauty_5core_sequences.txt.gz"), n_users)
    text = read_item_text(folder / "beauty_item_text.csv.gz")
    return Loaded("amazon-beauty", leave_one_out(from_sequences(frame, item_text=text)), None)


def _ml1m(root: Path, n_users: int | None) -> Loaded:
    folder = root / "ml-1m"
    frame = _first_users(read_interaction_pairs(folder / "ml1m_sasrec_interactions.txt.gz"),
                         n_users)
    items = (pl.read_csv(folder / "ml1m_sasrec_id_map.tsv.gz", separator="\t",
                         quote_char=None, infer_schema=False)
             .filter(pl.col("kind") == "item"))
    data = from_sequences(frame, item_text=dict(zip(items["id"], items["title"], strict=True)))
    genre = dict(zip(items["id"], items["genres"].str.split("|").list.first(), strict=True))
    categories = np.array([genre.get(i, "") for i in data.items.ids.to_list()])
    return Loaded("ml-1m", leave_one_out(data), categories, event_type="view")


def _taobao(exclude: str) -> Callable[[Path, int | None], Loaded]:
    def load(root: Path, n_users: int | None) -> Loaded:
        log = _first_users(read_event_log(root / "taobao_userbehavior/events.csv.gz"), n_users)
        test_cut = datetime(2017, 12, 1, tzinfo=SHANGHAI)
        split = temporal_split(log, test_cut=test_cut, valid_cut=test_cut - timedelta(days=1),
                               exclude=exclude)  # type: ignore[arg-type]
        return Loaded("taobao_userbehavior", split, item_categories(log, split.test_train),
                      events=log)
    return load


_TAOBAO = ("global temporal split: train = events before 2017-12-01 00:00 (+08:00), targets = "
           "the distinct items each user with history interacted with (any event type) on "
           "2017-12-01, validation cut one day earlier; ")
DATASETS = {
    "amazon-beauty": DatasetSpec("leave-one-out (S3-Rec Beauty 5-core)", _beauty),
    "ml-1m": DatasetSpec("leave-one-out (SASRec ML-1M)", _ml1m),
    "taobao_userbehavior": DatasetSpec(
        _TAOBAO + "items bought before the cut are neither targets nor ranked (returning "
        "to a viewed item counts, as in a shop)", _taobao("purchased")),
    "taobao_userbehavior-new": DatasetSpec(
        _TAOBAO + "every item seen before the cut is neither a target nor ranked (new "
        "items only)", _taobao("history")),
}


def load_dataset(name: str, *, quick: bool) -> Loaded:
    return DATASETS[name].load(_root(), QUICK_USERS[name] if quick else None)


# ------------------------------------------------------------------- RecBole's SASRec


def recbole_peer(loaded: Loaded, *, quick: bool, threads: int) -> dict[str, Any]:
    """RecBole's SASRec (its defaults, CE loss) on the same leave-one-out split.

    Training stops at RecBole's own early stopping or at the time budget ShopMind's
    ``best`` has on the data set (``RECBOLE_BUDGET_S``), whichever comes first.

    RecBole gets each user's full sequence as an atomic ``.inter`` file with the position
    as timestamp; its own leave-one-out (``LS: valid_and_test``, order by time) then holds
    out the same two items. Its scores come back per user (history masked) and are ranked
    here with the same code as every other model.
    """
    python = os.environ.get("REC_QUALITY_RECBOLE_PYTHON", "")
    row: dict[str, Any] = {"kind": "peer"}
    if not isinstance(loaded.split, LeaveOneOut):
        return {**row, "error": "RecBole peer runs on the leave-one-out data sets only"}
    if not python or not Path(python).exists():
        return {**row, "error": f"no RecBole environment at {python!r}: create it with "
                "`python3 -m venv /tmp/recbole-venv && /tmp/recbole-venv/bin/pip install "
                "torch==2.13.0 recbole==1.2.1`"}
    split = loaded.split
    data = split.test_train
    script = Path(__file__).with_name("rec_quality_recbole.py")
    with tempfile.TemporaryDirectory(prefix="recbole-") as tmp:
        folder = Path(tmp) / "shopmind"
        folder.mkdir()
        users = np.repeat(np.arange(data.n_users), data.histories.lengths())
        positions = np.arange(len(users)) - np.repeat(data.histories.indptr[:-1],
                                                      data.histories.lengths())
        has = split.test_targets >= 0
        full = pl.concat([
            pl.DataFrame({"u": users, "i": data.histories.items.astype(np.int64),
                          "t": positions}),
            pl.DataFrame({"u": np.flatnonzero(has), "i": split.test_targets[has],
                          "t": data.histories.lengths()[has]}),
        ]).sort(["u", "t"])
        lines = ["user_id:token\titem_id:token\ttimestamp:float"]
        lines += [f"{u}\t{i}\t{t}" for u, i, t in full.iter_rows()]
        (folder / "shopmind.inter").write_text("\n".join(lines) + "\n")
        out = Path(tmp) / "scores.npz"
        command = [python, str(script), "--data", tmp, "--out", str(out),
                   "--threads", str(threads),
                   "--time-budget-s", str(RECBOLE_BUDGET_S.get(loaded.name, 900))]
        command += ["--epochs", "1"] if quick else []
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            tail = " | ".join(done.stderr.strip().splitlines()[-3:]) or "no output"
            return {**row, "error": f"RecBole run failed (exit {done.returncode}): {tail}"}
        with np.load(out, allow_pickle=False) as npz:
            ranks, tops = npz["ranks"], npz["tops"]
            info = json.loads(str(npz["info"]))
    metrics = metrics_from_ranks(ranks, tops, data.n_items)
    return {
        **row, "params": info.get("config", {}), "metrics": metrics,
        "beyond_accuracy": beyond_accuracy(tops, data, item_categories=loaded.categories),
        "n_eval_users": len(ranks), "train_seconds": info.get("train_seconds"),
        "wall_seconds_inner": time.perf_counter() - started,
        "peak_rss_mb": info.get("peak_rss_mb"), "notes": info.get("notes", []),
    }
