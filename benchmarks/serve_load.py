"""Load on ``GET /v1/users/{id}/recommendations``: the full two-stage pipeline trained on
Amazon Beauty, ``shopmind serve`` with 2 uvicorn workers (sessions in Redis), and in the
same run the trivial ``/healthz`` endpoint of the same server as the HTTP stack's bound.

    .venv/bin/python benchmarks/serve_load.py --json benchmarks/results/serve_load.json

Amazon Beauty has no real times: each user's sequence becomes purchase events an hour
apart with everyone's newest at the same instant (as in ``rec_quality_pipeline.py``), and
the ranker learns from the newest item of each history (``label_days`` = 30 minutes).
Three passes on the pipeline:

* ``pipeline`` — open loop at the goal's rate (``--rate``, 300 requests/s): requests are due
  on a fixed schedule whatever the answers do, and latency runs from the moment a request
  was due, so queueing shows (no coordinated omission). This answers the goal's question:
  at 300 req/s, what is p99?
* ``pipeline_max_throughput`` — closed loop, ``--concurrency`` clients each sending the next
  request when the previous returns: the saturation throughput, whose latency is mostly
  queueing (Little's law: mean latency = clients / throughput);
* ``pipeline_light_load`` — closed loop with 2 clients: one request on a quiet server.

Writes ``{"pipeline": {"rps", "p50_ms", "p95_ms", "p99_ms", …}, "trivial": {…}, "ratio"}``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from results_io import write_results
from serve_harness import api_key, load_tables, machine, run_load, run_paced, server, train
from shopmind.config import get_settings
from shopmind.data.datasets.sequences import read_sequences
from shopmind.recommend.pipeline import PipelineConfig

SHOP = "beauty"
ALIGNED_END = datetime(2020, 1, 1, tzinfo=UTC)


def beauty_tables(folder: Path) -> dict[str, pl.DataFrame]:
    """Items (titles) and right-aligned purchase events of Amazon Beauty 5-core."""
    sequences = read_sequences(folder / "beauty_5core_sequences.txt.gz")
    back = pl.col("position").max().over("user_id") - pl.col("position")
    events = sequences.select(
        "user_id", "item_id", pl.lit("purchase").alias("type"),
        (pl.lit(ALIGNED_END) - pl.duration(hours=back)).alias("ts"))
    text = pl.read_csv(folder / "beauty_item_text.csv.gz", infer_schema=False)
    items = text.select("item_id", pl.col("title").fill_null(""))
    return {"items": items, "events": events}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, required=True, help="where to write results")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds measured")
    parser.add_argument("--rate", type=float, default=300.0,
                        help="requests/s of the open-loop pass (the goal's rate)")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="clients of the closed-loop (saturation) pass")
    parser.add_argument("--latency-concurrency", type=int, default=2,
                        help="clients of a second, light pass: latency without queueing")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="keep the store and model here (reused when already trained)")
    args = parser.parse_args()

    folder = get_settings().datasets_dir / "amazon-beauty"
    config = PipelineConfig(label_days=0.5 / 24, label_windows=1, max_train_users=5000,
                            random_state=0)
    with tempfile.TemporaryDirectory(prefix="shopmind-serve-load-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        started = time.perf_counter()
        tables = beauty_tables(folder)
        train_s = 0.0
        if not (data_dir / "models" / SHOP / "LATEST").is_file():
            load_tables(data_dir, SHOP, tables)
            train_s = train(data_dir, SHOP, config)
        prepare_s = time.perf_counter() - started
        key = api_key(data_dir, SHOP, "read")
        users = tables["events"]["user_id"].unique().sort().to_list()

        def recommend(rng):  # type: ignore[no-untyped-def]
            return "GET", f"/v1/users/{rng.choice(users)}/recommendations?k=10", None

        def trivial(_rng):  # type: ignore[no-untyped-def]
            return "GET", "/healthz", None

        with server(data_dir, workers=args.workers,
                    realtime="redis://127.0.0.1:6379/0") as running:
            pipeline = run_paced(running.url, key, recommend, rate=args.rate,
                                 duration_s=args.duration)
            saturated = run_load(running.url, key, recommend, concurrency=args.concurrency,
                                 duration_s=args.duration)
            light = run_load(running.url, key, recommend,
                             concurrency=args.latency_concurrency, duration_s=args.duration / 2)
            peer = run_load(running.url, None, trivial, concurrency=args.concurrency,
                            duration_s=args.duration / 2)
    result = {
        "pipeline": pipeline, "trivial": peer, "pipeline_max_throughput": saturated,
        "pipeline_light_load": light,
        "ratio_trivial_over_pipeline_rps": round(peer["rps"] / max(saturated["rps"], 1e-9), 2),
        "goal": {"rps": 300, "p99_ms": 30},
        # met when 300/s were offered, answered without errors at (about) that rate —
        # the server kept up — and the 99th percentile stayed within 30 ms
        "goal_met": bool(args.rate >= 300 and pipeline["errors"] == 0
                         and pipeline["rps"] >= 0.98 * args.rate
                         and pipeline["p99_ms"] is not None and pipeline["p99_ms"] <= 30),
        "setup": {"dataset": "amazon-beauty 5-core", "events": tables["events"].height,
                  "items": tables["items"].height, "users": len(users),
                  "generators": config.generators, "workers": args.workers,
                  "realtime": "redis", "store": "sqlite", "k": 10,
                  "client": "asyncio keep-alive HTTP/1.1 connections, same machine: open loop "
                            "at --rate for `pipeline`, closed loop for the others",
                  "prepare_s": round(prepare_s, 1), "train_s": round(train_s, 1)},
        "machine": machine(),
    }
    write_results(args.json, result)


if __name__ == "__main__":
    main()
