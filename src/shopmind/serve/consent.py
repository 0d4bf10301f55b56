"""Who opted out of personalization, per shop, held in memory for the request path.

A recommendation request must not wait on the store to learn whether its user withdrew
consent, so each process keeps the set of opted-out users of a shop and re-reads it at
most every ``ttl_s`` seconds; a process that stores a user update forgets its set at once.
A withdrawal therefore applies immediately where it was posted and within ``ttl_s``
everywhere else.

>>> reads = []
>>> opt_outs = OptOuts(lambda shop: reads.append(shop) or {"u2"}, ttl_s=60)
>>> opt_outs.opted_out("s", "u1"), opt_outs.opted_out("s", "u2"), len(reads)
(False, True, 1)
>>> opt_outs.invalidate("s"); opt_outs.opted_out("s", "u1"); len(reads)
False
2
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class OptOuts:
    """Opted-out user ids per shop, re-read through ``read(shop_id)`` when stale."""

    def __init__(self, read: Callable[[str], set[str]], *, ttl_s: float = 10.0) -> None:
        self._read = read
        self.ttl_s = ttl_s
        self._sets: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def opted_out(self, shop_id: str, user_id: str) -> bool:
        """Whether ``user_id`` of ``shop_id`` withdrew consent to personalization."""
        read_at, users = self._sets.get(shop_id, (float("-inf"), frozenset()))
        if time.monotonic() - read_at >= self.ttl_s:
            with self._lock:
                users = frozenset(self._read(shop_id))
                self._sets[shop_id] = (time.monotonic(), users)
        return user_id in users

    def invalidate(self, shop_id: str) -> None:
        """Forget the shop's set (its users were just updated here)."""
        self._sets.pop(shop_id, None)
