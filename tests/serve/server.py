"""A real ``shopmind serve`` process on a free loopback port, for crash and load tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A running server; ``url`` to call it, ``kill()`` to SIGKILL it."""

    def __init__(self, data_dir: Path, port: int, env: dict[str, str]) -> None:
        self.url = f"http://127.0.0.1:{port}"
        code = "from shopmind.cli import main; main()"
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, "--data-dir", str(data_dir), "serve", "--port",
             str(port)], env={**os.environ, "SHOPMIND_SERVE_RATE_LIMIT_RPS": "100000",
                              "SHOPMIND_SERVE_RATE_LIMIT_BURST": "100000",
                              "SHOPMIND_SERVE_MODEL_POLL_S": "0.2",
                              # search indexes build before /readyz: keep that quick
                              "SHOPMIND_SEARCH_EMBEDDING_BACKEND": "hashing", **env},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stdout.read()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError("server not ready")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> str:
        """Stop with SIGINT (as Ctrl-C) and return the server's output."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.stdout.read() if self.process.stdout else ""


@contextmanager
def running_server(data_dir: Path, env: dict[str, str] | None = None,
                   port: int | None = None) -> Iterator[Server]:
    server = Server(data_dir, port or free_port(), env or {})
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
