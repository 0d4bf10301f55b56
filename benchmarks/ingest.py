"""Ingest throughput: events/s into SQLite and PostgreSQL, with validation on.

Runs end to end by itself, starting from clean stores:

    .venv/bin/python benchmarks/ingest.py --json benchmarks/results/ingest.json

Data: a 2-million-event file generated from the demo shop (``--events``) and the Taobao
UserBehavior events file of ``../shared/datasets`` (mapped with a column mapping, as a shop
would map its own export). Peers, measured in the same run on the same file and machine:

* ``raw_driver``: the storage layer alone, no validation — ``sqlite3.executemany`` into the
  same table layout, and PostgreSQL ``COPY`` of the raw CSV. This is the upper bound of what
  any loader can reach on these backends.
* ``pandas_to_sql``: ``pandas.read_csv`` + ``DataFrame.to_sql`` (chunked, default method),
  the way a Python data team typically loads events (skipped with a note if
  pandas is not installed).

Published figures for context (not measured here): Metarank imports 1–3k events/s; Gorse
inserts 1,000 feedback rows in ~63 ms (~16k rows/s).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from shopmind.config import get_settings  # noqa: E402
from shopmind.data.datasets.demo import generate_demo_shop  # noqa: E402
from shopmind.data.ingest.engine import IngestSummary, ingest_file  # noqa: E402
from shopmind.data.ingest.mapping import ColumnMapping  # noqa: E402
from shopmind.data.store import open_store  # noqa: E402

WORK = ROOT / "benchmarks" / ".work"
PG_SCHEMA = "shopmind_bench"
TAOBAO_MAPPING = ColumnMapping(
    columns={"user_id": "user_id", "item_id": "item_id", "type": "behavior_type",
             "ts": "timestamp"},
)
EVENT_COLUMNS = ["user_id", "item_id", "type", "ts", "value", "session_id", "query"]


def make_events_file(n_events: int) -> Path:
    """The first ``n_events`` events of a scaled-up demo shop, as CSV (ISO timestamps)."""
    path = WORK / f"demo_events_{n_events}.csv"
    if path.is_file():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    scale = 1.0
    while True:
        shop = generate_demo_shop(scale=scale, seed=7)
        if shop.events.height >= n_events:
            break
        scale *= 1.2 * n_events / max(shop.events.height, 1)
    events = shop.events.head(n_events).select(EVENT_COLUMNS)
    events.with_columns(pl.col("ts").dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ")).write_csv(path)
    return path


def _pg_url(base: str) -> str:
    return f"{base}{'&' if '?' in base else '?'}schema={PG_SCHEMA}"


def _reset_postgres(base: str) -> None:
    with psycopg.connect(base.split("?")[0], autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")


def _reset_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def run_shopmind(url: str, path: Path, mapping: ColumnMapping | None) -> IngestSummary:
    store = open_store(url)
    try:
        return ingest_file(store, path, shop_id="bench", table="events", mapping=mapping,
                           chunk_rows=get_settings().ingest_chunk_rows)
    finally:
        store.close()


def _result(summary: IngestSummary) -> dict[str, Any]:
    return {
        "events_per_s": round(summary.read / summary.seconds),
        "seconds": round(summary.seconds, 2),
        "events": summary.read,
        "accepted": summary.accepted,
        "quarantined": summary.quarantined,
        "duplicates": summary.duplicates,
        "validation": True,
    }


def peer_raw_sqlite(path: Path, db: Path) -> dict[str, Any]:
    """sqlite3.executemany of the parsed CSV into the same table layout, no validation."""
    _reset_sqlite(db)
    started = time.perf_counter()
    frame = pl.read_csv(path, infer_schema=False)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE events (shop_id TEXT, event_key INTEGER, user_id TEXT, "
                 "item_id TEXT, type TEXT, ts TEXT, value REAL, session_id TEXT, query TEXT, "
                 "PRIMARY KEY (shop_id, event_key))")
    rows = frame.with_row_index("event_key").select(
        pl.lit("bench"), "event_key", *[c for c in EVENT_COLUMNS if c in frame.columns]
    )
    width = rows.width
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO events VALUES ({', '.join('?' * width)})", rows.iter_rows())
    conn.execute("COMMIT")
    conn.close()
    seconds = time.perf_counter() - started
    return {"events_per_s": round(frame.height / seconds), "seconds": round(seconds, 2),
            "events": frame.height, "validation": False}


def peer_raw_postgres(path: Path, base: str) -> dict[str, Any]:
    """PostgreSQL COPY of the raw CSV file into a bare table, no validation."""
    started = time.perf_counter()
    with psycopg.connect(base.split("?")[0]) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}")
        conn.execute(f"DROP TABLE IF EXISTS {PG_SCHEMA}.raw_events")
        header = path.open(encoding="utf-8").readline().strip().split(",")
        conn.execute(f"CREATE TABLE {PG_SCHEMA}.raw_events ("
                     + ", ".join(f"{c} TEXT" for c in header) + ")")
        with conn.cursor().copy(
            f"COPY {PG_SCHEMA}.raw_events FROM STDIN (FORMAT csv, HEADER true)"
        ) as copy, path.open("rb") as handle:
            while block := handle.read(1 << 20):
                copy.write(block)
        (count,) = conn.execute(f"SELECT count(*) FROM {PG_SCHEMA}.raw_events").fetchone()
    seconds = time.perf_counter() - started
    return {"events_per_s": round(count / seconds), "seconds": round(seconds, 2),
            "events": count, "validation": False}


def peer_pandas(path: Path, url: str) -> dict[str, Any]:
    """pandas.read_csv + DataFrame.to_sql in 100k-row chunks (no validation, no dedup)."""
    try:
        import pandas as pd
        from sqlalchemy import create_engine
    except ImportError:
        return {"skipped": "pandas is not installed"}
    engine = create_engine(url)
    started = time.perf_counter()
    count = 0
    for chunk in pd.read_csv(path, chunksize=100_000, dtype=str):
        chunk.to_sql("pandas_events", engine, if_exists="append", index=False)
        count += len(chunk)
    engine.dispose()
    seconds = time.perf_counter() - started
    return {"events_per_s": round(count / seconds), "seconds": round(seconds, 2),
            "events": count, "validation": False}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, required=True, help="where to write results")
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--postgres", default=os.environ.get(
        "SHOPMIND_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--skip-pandas", action="store_true")
    args = parser.parse_args()

    print(f"preparing a {args.events:,}-event file …", flush=True)
    demo_file = make_events_file(args.events)
    taobao_file = get_settings().datasets_dir / "taobao_userbehavior" / "events.csv.gz"
    sqlite_db = WORK / "bench.db"
    results: dict[str, Any] = {
        "benchmark": "ingest",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "data": {"generated_events": str(demo_file.name), "taobao": str(taobao_file)},
    }

    for name, file, mapping in (("generated", demo_file, None),
                                ("taobao", taobao_file, TAOBAO_MAPPING)):
        if not file.is_file():
            results[name] = {"skipped": f"{file} not found"}
            continue
        _reset_sqlite(sqlite_db)
        sqlite_run = _result(run_shopmind(f"sqlite:///{sqlite_db}", file, mapping))
        print(f"{name} → SQLite: {sqlite_run['events_per_s']:,} events/s", flush=True)
        _reset_postgres(args.postgres)
        pg_run = _result(run_shopmind(_pg_url(args.postgres), file, mapping))
        print(f"{name} → PostgreSQL: {pg_run['events_per_s']:,} events/s", flush=True)
        results[name] = {"sqlite": sqlite_run, "postgres": pg_run}

    peers: dict[str, Any] = {
        "raw_driver": {"sqlite": peer_raw_sqlite(demo_file, WORK / "raw.db"),
                       "postgres": peer_raw_postgres(demo_file, args.postgres)},
    }
    if not args.skip_pandas:
        _reset_sqlite(WORK / "pandas.db")
        peers["pandas_to_sql"] = {
            "sqlite": peer_pandas(demo_file, f"sqlite:///{WORK / 'pandas.db'}"),
            "postgres": peer_pandas(demo_file, args.postgres.replace(
                "postgresql://", "postgresql+psycopg://")
                + f"?options=-csearch_path%3D{PG_SCHEMA}"),
        }
    _reset_postgres(args.postgres)
    results["peers"] = peers
    # The contract: top-level figures are the 2-million-event generated set.
    results["sqlite"] = results["generated"]["sqlite"]
    results["postgres"] = results["generated"]["postgres"]
    ratios = {}
    for peer, by_backend in peers.items():
        for backend, figures in by_backend.items():
            if "events_per_s" in figures:
                ratios[f"{backend}_vs_{peer}"] = round(
                    results[backend]["events_per_s"] / figures["events_per_s"], 3)
    results["ratios"] = ratios
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: results[k] for k in ("sqlite", "postgres", "ratios")}, indent=2))


if __name__ == "__main__":
    main()
