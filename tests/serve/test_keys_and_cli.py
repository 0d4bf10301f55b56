"""API keys (hashed, scoped, revocable), the ``keys`` and ``serve`` commands, small parts."""

from __future__ import annotations

import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from shopmind.cli import app
from shopmind.cli.demo_serve import curl_examples
from shopmind.data.store.redis_state import SessionEvent
from shopmind.errors import NotFoundError
from shopmind.serve.history import History, session_history
from shopmind.serve.keys import KeyRing, create_key, list_keys, revoke_key
from shopmind.serve.ratelimit import RateLimiter

runner = CliRunner()


def _shopmind(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    code = "from shopmind.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=60)


def test_keys_are_stored_hashed_and_can_be_revoked(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    token, record = create_key(path, "shop-1", "write", name="checkout")
    assert token.startswith(f"sm_{record.key_id}_") and token not in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ring = KeyRing(path)
    key = ring.authenticate(token)
    assert key is not None and key.shop_id == "shop-1"
    assert key.allows("read") and key.allows("write") and not key.allows("admin")
    assert ring.authenticate(token[:-1] + ("x" if token[-1] != "x" else "y")) is None
    assert ring.authenticate(f"sm_{record.key_id}") is None
    revoke_key(path, record.key_id)
    assert ring.authenticate(token) is None  # picked up without a restart
    assert [k.revoked_at is not None for k in list_keys(path)] == [True]


def test_keys_commands(tmp_path: Path) -> None:
    created = runner.invoke(app, ["--data-dir", str(tmp_path), "keys", "create", "--shop", "s1",
                                  "--role", "admin"], terminal_width=200)
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    key = KeyRing(tmp_path / "api_keys.json").authenticate(token)
    assert key is not None and key.role == "admin" and key.shop_id == "s1"
    listed = runner.invoke(app, ["--data-dir", str(tmp_path), "keys", "list"],
                           terminal_width=200)
    assert key.key_id in listed.output and token not in listed.output
    revoked = runner.invoke(app, ["--data-dir", str(tmp_path), "keys", "revoke", key.key_id])
    assert revoked.exit_code == 0 and "Revoked" in revoked.output
    assert KeyRing(tmp_path / "api_keys.json").authenticate(token) is None


def test_key_and_serve_mistakes_are_one_line(tmp_path: Path) -> None:
    for args, message in (
        (["keys", "create", "--shop", "s", "--role", "owner"], "role must be one of"),
        (["serve", "--workers", "2"], "--workers above 1 needs shared realtime state"),
    ):
        result = _shopmind(*args, data_dir=tmp_path)
        assert result.returncode == 1, result
        assert message in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_key_id_cannot_be_revoked(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--data-dir", str(tmp_path), "keys", "revoke", "nope"])
    assert isinstance(result.exception, NotFoundError)
    assert "no API key with id 'nope'" in str(result.exception)


def test_serve_and_keys_have_help() -> None:
    for command in (["serve", "--help"], ["keys", "--help"], ["keys", "create", "--help"],
                    ["demo", "--help"]):
        result = runner.invoke(app, command, terminal_width=200)
        assert result.exit_code == 0
    assert "--no-serve" in runner.invoke(app, ["demo", "--help"], terminal_width=200).output


def test_demo_curl_examples_carry_the_key() -> None:
    commands = curl_examples("http://127.0.0.1:8000", "sm_abc_def", "u1", "i2")
    assert len(commands) == 3 and all("Bearer sm_abc_def" in c for c in commands)
    assert "/v1/users/u1/recommendations" in commands[0] and "/v1/events" in commands[1]


def test_rate_limiter_refills_per_key() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=2, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]
    assert limiter.allow("b")
    now[0] = 0.5
    assert limiter.allow("a") and not limiter.allow("a")


def test_session_events_join_the_stored_history_once() -> None:
    t = [datetime(2026, 1, 1, 10, m, tzinfo=UTC) for m in range(4)]
    micros = [int(x.timestamp() * 1e6) for x in t]
    stored = History(np.array([0, 1], np.int32), np.array([0, 0], np.int8),
                     np.array(micros[:2], np.int64))
    session = [SessionEvent("i1", "view", t[1]),  # already stored: counted once
               SessionEvent("i3", "purchase", t[3]), SessionEvent("new-item", "view", t[2]),
               SessionEvent("i2", "cart", t[2])]
    merged = session_history(session, {"i0": 0, "i1": 1, "i2": 2, "i3": 3}, stored)
    assert merged.items.tolist() == [0, 1, 2, 3]
    assert merged.types.tolist() == [0, 0, 3, 4]
    assert merged.times_us.tolist() == micros
