"""API keys: created once, shown once, stored only as SHA-256 hashes, scoped to one shop.

A key reads ``sm_<key id>_<secret>``; the key id (12 hex characters) finds the record,
the hash of the whole key proves it. Keys live in one JSON file (``Settings.api_keys_path``,
next to the models that every replica shares), rewritten atomically; a serving process
re-reads it when it changes, so ``shopmind keys create/revoke`` takes effect without a
restart.

Roles are ordered: ``read`` < ``write`` < ``admin`` (a write key may also read).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, get_args

import orjson

from shopmind.errors import InputError, NotFoundError

Role = Literal["read", "write", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
_PREFIX = "sm_"


@dataclass(frozen=True)
class ApiKey:
    """The stored form of a key (never the key itself)."""

    key_id: str
    shop_id: str
    role: str
    key_hash: str
    name: str
    created_at: str
    revoked_at: str | None = None

    def allows(self, needed: str) -> bool:
        """Whether this key's role covers ``needed``.

        >>> ApiKey("k", "s", "write", "h", "", "").allows("read")
        True
        """
        return ROLES.index(self.role) >= ROLES.index(needed)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _key_id(token: str) -> str | None:
    parts = token.split("_")
    if len(parts) != 3 or f"{parts[0]}_" != _PREFIX or len(parts[1]) != 12:
        return None
    return parts[1]


def _read(path: Path) -> dict[str, ApiKey]:
    if not path.is_file():
        return {}
    raw = orjson.loads(path.read_bytes())
    return {k["key_id"]: ApiKey(**k) for k in raw.get("keys", [])}


def _write(path: Path, keys: dict[str, ApiKey]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(orjson.dumps({"keys": [asdict(k) for k in keys.values()]},
                                 option=orjson.OPT_INDENT_2))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def create_key(path: Path, shop_id: str, role: str, name: str = "") -> tuple[str, ApiKey]:
    """Create a key for ``shop_id`` with ``role``; return (the key, shown once; its record).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "keys.json"
    >>> token, record = create_key(path, "shop1", "read")
    >>> KeyRing(path).authenticate(token).shop_id
    'shop1'
    """
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if not shop_id or len(shop_id) > 256:
        raise InputError("shop must be a non-empty id of at most 256 characters")
    key_id = secrets.token_hex(6)
    token = f"{_PREFIX}{key_id}_{secrets.token_urlsafe(24).replace('_', '-')}"
    record = ApiKey(key_id, shop_id, role, _hash(token), name,
                    datetime.now(UTC).isoformat(timespec="seconds"))
    keys = _read(path)
    keys[key_id] = record
    _write(path, keys)
    return token, record


def revoke_key(path: Path, key_id: str) -> ApiKey:
    """Revoke the key with id ``key_id`` (the middle part of the key); return its record."""
    keys = _read(path)
    if key_id not in keys:
        raise NotFoundError(f"no API key with id {key_id!r} in {path}")
    record = keys[key_id]
    if record.revoked_at is None:
        record = ApiKey(**{**asdict(record),
                           "revoked_at": datetime.now(UTC).isoformat(timespec="seconds")})
        keys[key_id] = record
        _write(path, keys)
    return record


def list_keys(path: Path) -> list[ApiKey]:
    """Every key record (hashes only), oldest first."""
    return sorted(_read(path).values(), key=lambda k: k.created_at)


class KeyRing:
    """The keys of a serving process, re-read from ``path`` when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._keys: dict[str, ApiKey] = {}

    def _refresh(self) -> dict[str, ApiKey]:
        try:
            stat = self.path.stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            with self._lock:
                self._keys = _read(self.path) if stamp else {}
                self._stamp = stamp
        return self._keys

    def authenticate(self, token: str) -> ApiKey | None:
        """The live (not revoked) key record of ``token``, else ``None``."""
        key_id = _key_id(token)
        if key_id is None:
            return None
        record = self._refresh().get(key_id)
        if record is None or record.revoked_at is not None:
            return None
        if not hmac.compare_digest(record.key_hash, _hash(token)):
            return None
        return record
