"""Sustained ``POST /v1/events`` in batches of 100: events/s accepted, latency, and
afterwards the store holds exactly the events acknowledged.

    .venv/bin/python benchmarks/events_ingest_http.py \
        --json benchmarks/results/events_ingest_http.json

``shopmind serve`` (1 worker, SQLite store, in-process sessions) on a fresh demo shop;
closed-loop clients each post their next batch when the previous one is answered. Every
event carries a unique ``event_id``; a 201 means stored (group commit), so after the run
``count(events) - count before == events acknowledged``. The peer, in the same run, is the
same clients on the trivial ``/healthz`` endpoint.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
from pathlib import Path

from results_io import write_results
from serve_harness import api_key, demo_tables, load_tables, machine, run_load, server
from shopmind.data.store import open_store

SHOP = "demo"
BATCH = 100


def _count(data_dir: Path) -> int:
    store = open_store(f"sqlite:///{data_dir / 'shopmind.db'}")
    try:
        return store.count(SHOP, "events")
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shopmind-ingest-http-") as tmp:
        data_dir = Path(tmp)
        tables = demo_tables(0.2)
        load_tables(data_dir, SHOP, {"items": tables["items"], "users": tables["users"]})
        key = api_key(data_dir, SHOP)
        users = tables["users"]["user_id"].to_list()
        items = tables["items"]["item_id"].to_list()
        counter = itertools.count()
        types = ("view", "view", "view", "click", "cart", "purchase")

        def batch(rng):  # type: ignore[no-untyped-def]
            n = next(counter)
            return "POST", "/v1/events", {"events": [
                {"user_id": rng.choice(users), "item_id": rng.choice(items),
                 "type": rng.choice(types), "event_id": f"bench-{n}-{i}"}
                for i in range(BATCH)]}

        def trivial(_rng):  # type: ignore[no-untyped-def]
            return "GET", "/healthz", None

        with server(data_dir) as running:
            before = _count(data_dir)
            posted = run_load(running.url, key, batch, concurrency=args.concurrency,
                              duration_s=args.duration, warmup_s=0.0)
            peer = run_load(running.url, None, trivial, concurrency=args.concurrency,
                            duration_s=min(15.0, args.duration / 2))
        stored = _count(data_dir) - before
    acknowledged = posted["n"] * BATCH
    result = {
        "events_per_s": round(posted["rps"] * BATCH, 1), "batches_per_s": posted["rps"],
        "p50_ms": posted["p50_ms"], "p95_ms": posted["p95_ms"], "p99_ms": posted["p99_ms"],
        "acknowledged_events": acknowledged, "stored_events": stored,
        "stored_equals_acknowledged": stored == acknowledged, "errors": posted["errors"],
        "batch": BATCH, "concurrency": args.concurrency, "duration_s": args.duration,
        "peer": {**peer, "what": "GET /healthz, same clients"},
        "setup": {"store": "sqlite (WAL, synchronous=NORMAL)", "workers": 1,
                  "realtime": "in-process", "validation": "pydantic per request (the "
                  "schema's rules); the ingest path's stable keys, de-duplication and "
                  "placeholders; one transaction per group commit"},
        "machine": machine(),
    }
    write_results(args.json, result)


if __name__ == "__main__":
    main()
