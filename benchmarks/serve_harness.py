"""What the serving benchmarks share: a shop in a fresh data dir, a server process on a
free loopback port, an async load generator and latency summaries.

The load generator runs in the benchmark process, the server in its own process(es), on the
same machine: the numbers include the client's CPU share, as any loopback test does.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import polars as pl

from shopmind.cpu import machine_info
from shopmind.data.ingest.engine import ingest_batches
from shopmind.data.store import open_store
from shopmind.recommend.pipeline import PipelineConfig
from shopmind.serve.keys import create_key
from shopmind.serve.retrain import train_and_publish

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load_tables(data_dir: Path, shop_id: str, tables: dict[str, pl.DataFrame]) -> None:
    """Ingest ``tables`` (items, users, events; any subset) through the validation path."""
    store = open_store(f"sqlite:///{data_dir / 'shopmind.db'}")
    try:
        for name in ("items", "users", "events"):
            if name in tables:
                ingest_batches(store, shop_id=shop_id, table=name,
                               batches=[tables[name]], source=f"bench:{name}")
    finally:
        store.close()


def train(data_dir: Path, shop_id: str, config: PipelineConfig) -> float:
    """Train and publish the shop's pipeline; the seconds it took."""
    started = time.perf_counter()
    store = open_store(f"sqlite:///{data_dir / 'shopmind.db'}")
    try:
        train_and_publish(store, data_dir, shop_id, config)
    finally:
        store.close()
    return time.perf_counter() - started


def demo_tables(scale: float, seed: int = 42) -> dict[str, pl.DataFrame]:
    from shopmind.data.datasets.demo import generate_demo_shop

    shop = generate_demo_shop(seed=seed, scale=scale)
    return {"items": shop.items, "users": shop.users, "events": shop.events}


def api_key(data_dir: Path, shop_id: str, role: str = "write") -> str:
    return create_key(data_dir / "api_keys.json", shop_id, role, name="benchmark")[0]


@dataclass
class ServerProcess:
    url: str
    process: subprocess.Popen[str]


@contextmanager
def server(data_dir: Path, *, workers: int = 1, realtime: str = "memory://",
           env: dict[str, str] | None = None) -> Iterator[ServerProcess]:
    """``shopmind serve`` on a free port, ready (every worker's models loaded), stopped
    with SIGINT afterwards."""
    port = free_port()
    code = "from shopmind.cli import main; main()"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "--data-dir", str(data_dir), "serve", "--port", str(port),
         "--workers", str(workers), "--realtime", realtime],
        env={**os.environ, "SHOPMIND_SERVE_RATE_LIMIT_RPS": "1000000",
             "SHOPMIND_SERVE_RATE_LIMIT_BURST": "1000000",
             # These benchmarks measure recommendations and events, not search (see
             # search_quality.py): the search index is built with the quick backend so
             # the server is ready (/readyz) in seconds, not after embedding the catalog.
             "SHOPMIND_SEARCH_EMBEDDING_BACKEND": "hashing", **(env or {})},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        ready: set[int] = set()  # pids of the workers that answered ready
        deadline = time.monotonic() + 300
        while len(ready) < workers:  # a worker still loading would take the first load
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            try:
                answer = httpx.get(url + "/readyz", timeout=2)  # a new connection each time
                if answer.status_code == 200:
                    ready.add(int(answer.json()["worker"]))
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        yield ServerProcess(url, process)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def summary(latencies_s: list[float], elapsed_s: float, errors: int) -> dict[str, Any]:
    """rps, p50/p95/p99 in milliseconds, counts."""
    ms = np.asarray(latencies_s, dtype=np.float64) * 1000
    if not len(ms):
        return {"rps": 0.0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "n": 0,
                "errors": errors}
    return {"rps": round(len(ms) / elapsed_s, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "n": len(ms), "errors": errors}


class _Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol.

    httpx's async pool costs milliseconds of client CPU per request at 32 connections
    (a trivial endpoint measured 145 req/s through it against 500 with 4), which would
    make the load generator the bottleneck; raw asyncio streams cost a few microseconds.
    """

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: Any) -> int:
        """Send one request and read its answer; a kept-alive connection the server has
        closed meanwhile (idle timeout) is reopened and the request sent again, as HTTP
        clients do."""
        reused = self.writer is not None
        try:
            return await self._exchange(method, path, body)
        except (ConnectionError, IndexError, asyncio.IncompleteReadError):
            if not reused:
                raise
            self.close()
            return await self._exchange(method, path, body)

    async def _exchange(self, method: str, path: str, body: Any) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        payload = orjson.dumps(body) if body is not None else b""
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.extra}"
                f"Content-Length: {len(payload)}\r\n")
        if payload:
            head += "Content-Type: application/json\r\n"
        self.writer.write(head.encode() + b"\r\n" + payload)
        assert self.reader is not None
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _load(url: str, headers: dict[str, str], request: Callable[[random.Random],
                                                                     tuple[str, str, Any]],
                concurrency: int, duration_s: float, warmup_s: float
                ) -> tuple[list[float], float, int]:
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    measure_from = start + warmup_s
    stop_at = measure_from + duration_s

    async def worker(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        connection = _Connection(host, int(port), headers)
        try:
            while (now := time.perf_counter()) < stop_at:
                method, path, body = request(rng)
                try:
                    ok = await connection.request(method, path, body) < 400
                except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                    connection.close()
                    connection = _Connection(host, int(port), headers)
                    ok = False
                done = time.perf_counter()
                if now >= measure_from:
                    if ok:
                        latencies.append(done - now)
                    else:
                        errors += 1
        finally:
            connection.close()

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return latencies, time.perf_counter() - measure_from, errors


def run_load(url: str, key: str | None,
             request: Callable[[random.Random], tuple[str, str, Any]], *,
             concurrency: int, duration_s: float, warmup_s: float = 3.0) -> dict[str, Any]:
    """Closed-loop load: ``concurrency`` clients, each sending its next request as soon as
    the previous one returns; summary of the requests that started after the warm-up."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    latencies, elapsed, errors = asyncio.run(
        _load(url, headers, request, concurrency, duration_s, warmup_s))
    return {**summary(latencies, elapsed, errors), "concurrency": concurrency,
            "duration_s": duration_s}


async def _paced(url: str, headers: dict[str, str],
                 request: Callable[[random.Random], tuple[str, str, Any]], rate: float,
                 duration_s: float, warmup_s: float) -> tuple[list[float], float, int, int]:
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = 0
    idle: list[_Connection] = []
    failures: dict[str, int] = {}
    opened = 0
    rng = random.Random(0)
    start = time.perf_counter()
    measure_from = start + warmup_s
    n = int((warmup_s + duration_s) * rate)

    async def one(scheduled: float) -> None:
        nonlocal errors, opened
        connection = idle.pop() if idle else None
        if connection is None:
            connection = _Connection(host, int(port), headers)
            opened += 1
        method, path, body = request(rng)
        try:
            status = await connection.request(method, path, body)
            ok = status < 400
            idle.append(connection)
            if not ok:
                failures[str(status)] = failures.get(str(status), 0) + 1
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
            connection.close()
            ok = False
            failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
        if scheduled >= measure_from:
            if ok:  # from the moment it was due: a late send counts as waiting
                latencies.append(time.perf_counter() - scheduled)
            else:
                errors += 1

    tasks = []
    for i in range(n):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due)))
    await asyncio.gather(*tasks)
    for connection in idle:
        connection.close()
    if failures:
        print(f"paced load: failures {failures}", file=sys.stderr)
    return latencies, time.perf_counter() - measure_from, errors, opened


def run_paced(url: str, key: str | None,
              request: Callable[[random.Random], tuple[str, str, Any]], *, rate: float,
              duration_s: float, warmup_s: float = 3.0) -> dict[str, Any]:
    """Open-loop load: requests are due at a fixed ``rate`` whatever the answers do (a slow
    answer does not hold the next request back, so queueing shows in the latency — no
    coordinated omission); latency runs from the moment a request was due."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    latencies, elapsed, errors, opened = asyncio.run(
        _paced(url, headers, request, rate, duration_s, warmup_s))
    return {**summary(latencies, elapsed, errors), "offered_rps": rate,
            "connections": opened, "duration_s": duration_s}


def machine() -> dict[str, Any]:
    return {**machine_info(), "python": sys.version.split()[0],
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
