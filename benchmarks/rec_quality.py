"""Recommendation quality benchmark: every registered model, the pipeline and PyPI peers.

Data sets and protocols (full ranking over the catalog, ties count against the model):

* ``amazon-beauty`` — S3-Rec's Beauty 5-core sequences, leave-one-out (the contract);
* ``ml-1m`` — SASRec's ML-1M interaction pairs, leave-one-out;
* ``taobao_userbehavior`` — a global temporal split of the event log: test = 2017-12-01,
  validation = 2017-11-30 (+08:00); targets = every item a user with history interacted
  with (any event type) after the cut and not before (see
  :func:`shopmind.evaluation.protocols.temporal_split`).

Each (data set, model) pair runs in its own Python process (``--job``), so peak memory
(``ru_maxrss``) belongs to that model alone and a stuck model is stopped by a timeout.
Models are fitted on the test view only; those that tune or stop early hold out the
newest training item themselves (the validation item), never the test item.

Peers as a user would install them from PyPI, in the same run: ``implicit`` ALS and BPR
with their default parameters, and RecBole's SASRec run from a separate virtual
environment (``--recbole-python``; see ``benchmarks/rec_quality_recbole.py``).

Usage::

    python benchmarks/rec_quality.py --json benchmarks/results/rec_quality.json
    python benchmarks/rec_quality.py --quick --datasets amazon-beauty --models popular,ease
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rec_quality_data import DATASETS, load_dataset, recbole_peer
from shopmind.cpu import machine_info

logger = logging.getLogger("rec_quality")
ROOT = Path(__file__).resolve().parents[1]
PEERS = ("implicit-als", "implicit-bpr", "recbole-sasrec")
#: --quick: parameters that bound training time, applied to models that have them.
QUICK_PARAMS = {"max_epochs": 1, "time_budget_s": 30.0, "iterations": 3, "max_items": 10_000}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


# ------------------------------------------------------------------------- one job


def _implicit_scorer(kind: str, data: Any, threads: int) -> Callable[..., Any]:
    """Fit an ``implicit`` model with its default parameters; score users by their factors."""
    if kind == "implicit-als":
        from implicit.cpu.als import AlternatingLeastSquares as Model
    else:
        from implicit.cpu.bpr import BayesianPersonalizedRanking as Model
    model = Model(num_threads=threads, random_state=0)
    model.fit(data.matrix(), show_progress=False)
    users, items = model.user_factors, model.item_factors
    return lambda rows, _histories: users[rows] @ items.T


def run_job(dataset: str, model_name: str, *, quick: bool, threads: int
            ) -> list[dict[str, Any]]:
    """Fit and evaluate one model on one data set (in this process); its result rows."""
    from shopmind.evaluation.loo import (
        beyond_accuracy,
        evaluate_stage,
        hit_rates,
        rank_target_sets,
        result_from_ranks,
        stage_view,
    )
    from shopmind.recommend.base import create_model, model_class

    loaded = load_dataset(dataset, quick=quick)
    data, targets = stage_view(loaded.split, "test")
    base_rss = _rss_mb()
    row: dict[str, Any] = {"dataset": dataset, "model": model_name}
    if model_name.startswith("implicit-"):
        started = time.perf_counter()
        scorer = _implicit_scorer(model_name, data, threads)
        train_seconds = time.perf_counter() - started
        started = time.perf_counter()
        ranks, indptr, tops = rank_target_sets(None, data, targets, scorer=scorer)
        result = result_from_ranks(ranks, indptr, tops, data.n_items,
                                   train_seconds=train_seconds,
                                   predict_seconds=time.perf_counter() - started)
        row.update(kind="peer", params={"defaults": True, "num_threads": threads})
    elif model_name == "recbole-sasrec":
        return [{**row, **recbole_peer(loaded, quick=quick, threads=threads)}]
    elif model_name == "pipeline":
        from rec_quality_pipeline import run_pipeline

        return [{**row, **r, "peak_rss_mb": _rss_mb(), "peak_rss_over_data_mb":
                 _rss_mb() - base_rss} for r in run_pipeline(loaded, quick=quick)]
    else:
        cls = model_class(model_name)
        params = ({k: v for k, v in QUICK_PARAMS.items() if k in cls.param_names()}
                  if quick else {})
        result = evaluate_stage(lambda: create_model(model_name, **params), loaded.split,
                                "test")
        row.update(kind="pipeline" if model_name == "pipeline" else "shopmind",
                   params=result.model.get_params() if result.model else {})
    if result.recommended is None:
        raise RuntimeError("evaluation returned no top lists")
    row.update(
        metrics=result.metrics, hit_rate=hit_rates(result),
        beyond_accuracy=beyond_accuracy(result.recommended, data,
                                        item_categories=loaded.categories),
        n_eval_users=result.n_users, train_seconds=result.train_seconds,
        predict_seconds=result.predict_seconds, peak_rss_mb=_rss_mb(),
        peak_rss_over_data_mb=_rss_mb() - base_rss,
    )
    return [row]


# ---------------------------------------------------------------------- orchestrator

COLUMNS = {"model": "model", "metrics.ndcg@10": "NDCG@10", "metrics.recall@10": "Recall@10",
           "metrics.ndcg@20": "NDCG@20", "metrics.recall@20": "Recall@20", "metrics.mrr": "MRR",
           "metrics.coverage@10": "Cov@10", "beyond_accuracy.novelty@10": "Novelty",
           "beyond_accuracy.arp@10": "ARP", "beyond_accuracy.ild@10": "ILD",
           "beyond_accuracy.tail_exposure@10": "Tail exp.", "train_seconds": "Train s",
           "peak_rss_mb": "Peak MB"}
START, END = "<!-- rec_quality:start -->", "<!-- rec_quality:end -->"


def write_markdown(path: Path, payload: dict[str, Any]) -> None:
    """Replace the text between the result markers of ``path`` with one table per data set."""
    from shopmind.evaluation.report import markdown_table

    parts = [f"Generated by `benchmarks/rec_quality.py` on {payload['created']}"
             f"{' (--quick: subsampled users, bounded epochs)' if payload['quick'] else ''}."]
    for dataset, protocol in payload["protocols"].items():
        rows = [r for r in payload["results"] if r["dataset"] == dataset]
        if not rows:
            continue
        flat = []
        for r in sorted(rows, key=lambda r: -r.get("metrics", {}).get("ndcg@10", -1.0)):
            cell = {c: _get(r, c) for c in COLUMNS}
            if "error" in r:
                cell["model"] = f"{r['model']} (failed: {r['error'][:120]})"
            elif r.get("kind") == "peer":
                cell["model"] = f"{r['model']} (peer)"
            flat.append(cell)
        parts += [f"### {dataset}\n\n{protocol}",
                  markdown_table(flat, list(COLUMNS), headers=list(COLUMNS.values()))]
    if payload["notes"]:
        parts.append("\n".join(f"- {note}" for note in payload["notes"]))
    block = "\n\n".join(parts)
    text = path.read_text() if path.exists() else f"# Recommendation benchmarks\n\n{START}\n{END}\n"
    if START not in text:
        text += f"\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    path.write_text(f"{head}{START}\n{block}\n{END}{rest.split(END, 1)[1]}")


def _job_model(row_model: str) -> str:
    """The job that produced a result row (``pipeline`` also yields ``pipeline-nodiversity``)."""
    return "pipeline" if row_model.startswith("pipeline") else row_model


def _get(row: dict[str, Any], dotted: str) -> Any:
    value: Any = row
    for key in dotted.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _registered_models() -> tuple[list[str], list[str]]:
    """Every registered model, plus ``pipeline`` when ``shopmind.recommend.pipeline`` exists."""
    import importlib.util

    from shopmind.recommend.base import available_models

    names, notes = available_models(), []
    if importlib.util.find_spec("shopmind.recommend.pipeline") is not None:
        names.append("pipeline")
    else:
        notes.append("full pipeline not benchmarked: shopmind.recommend.pipeline is absent")
    return names, notes


def _spawn(dataset: str, model: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    command = [sys.executable, __file__, "--job", f"{dataset}:{model}",
               "--threads", str(args.threads)] + (["--quick"] if args.quick else [])
    if args.recbole_python:
        command += ["--recbole-python", args.recbole_python]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads),
           "MKL_NUM_THREADS": str(args.threads), "OPENBLAS_NUM_THREADS": "1"}
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env,
                              timeout=args.timeout_s)
    except subprocess.TimeoutExpired:
        return [{"dataset": dataset, "model": model,
                 "error": f"timed out after {args.timeout_s}s"}]
    sys.stderr.write(done.stderr[-4000:])
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return [{"dataset": dataset, "model": model,
                 "error": f"exit {done.returncode}: {tail}"}]
    rows = json.loads(lines[-1])
    for row in rows:
        row["wall_seconds"] = time.perf_counter() - started
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/rec_quality.json")
    parser.add_argument("--markdown", type=Path, default=ROOT / "docs/recommendation_benchmarks.md")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--models", default="all",
                        help="Comma-separated registered names and peers, or 'all'.")
    parser.add_argument("--quick", action="store_true",
                        help="Subsample users and bound epochs: proves the run works.")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout-s", type=float, default=3600.0)
    parser.add_argument("--recbole-python", default="/tmp/recbole-venv/bin/python",
                        help="Python of a venv with recbole and torch==2.13.0.")
    parser.add_argument("--merge", action="store_true",
                        help="Keep the rows of --json for (data set, model) pairs not re-run "
                             "now, so a long benchmark can run in parts.")
    parser.add_argument("--job", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s",
                        stream=sys.stderr)
    if args.job:
        dataset, model = args.job.split(":", 1)
        os.environ["REC_QUALITY_RECBOLE_PYTHON"] = args.recbole_python or ""
        print(json.dumps(run_job(dataset, model, quick=args.quick, threads=args.threads),
                         default=float))
        return 0

    registered, notes = _registered_models()
    wanted = registered + list(PEERS) if args.models == "all" else args.models.split(",")
    unknown = set(wanted) - set(registered) - set(PEERS)
    if unknown:
        parser.error(f"unknown model(s) {sorted(unknown)}; choose from "
                     f"{', '.join(registered + list(PEERS))}")
    datasets = args.datasets.split(",")
    if set(datasets) - set(DATASETS):
        parser.error(f"unknown data set(s); choose from {', '.join(DATASETS)}")
    started = time.perf_counter()
    rows = []
    for dataset in datasets:
        for model in wanted:
            logger.info("== %s / %s", dataset, model)
            for row in _spawn(dataset, model, args):
                rows.append(row)
                logger.info("   %s: %s", row["model"], row.get("metrics", row.get("error")))
    if args.merge and args.json.is_file():
        earlier = json.loads(args.json.read_text())
        if earlier.get("quick") == args.quick:
            rerun = {(dataset, model) for dataset in datasets for model in wanted}
            kept = [r for r in earlier["results"]
                    if (r["dataset"], _job_model(r["model"])) not in rerun]
            rows = kept + rows
            notes = sorted(set(earlier.get("notes", [])) | set(notes))
    payload = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": {"cpus": os.cpu_count(), "threads": args.threads,
                    "python": platform.python_version(), "platform": platform.platform(),
                    **machine_info()},
        "protocols": {name: spec.protocol for name, spec in DATASETS.items()},
        "notes": notes,
        "total_seconds": time.perf_counter() - started,
        "results": rows,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    if args.markdown:
        write_markdown(args.markdown, payload)
    logger.info("wrote %s and %s", args.json, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
