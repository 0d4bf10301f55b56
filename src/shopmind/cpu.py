"""How many CPU cores this process may use without fighting other work for them.

On a shared machine, more BLAS/torch threads than free cores is not a little slower but
several times slower (threads spin waiting for a descheduled sibling), so ShopMind's
defaults use only the cores nobody else is using: the idle ones plus those this process is
busy on itself.

Where Linux's ``/proc/stat`` is readable, idle time is *measured*: the CPU time the kernel
counted as idle (or waiting on I/O) since the previous reading. The 1-minute load average,
the fallback elsewhere, counts runnable and uninterruptible tasks instead, and on some
virtual machines it stays near 1 while a core sits idle (measured on this project's 2-core
VM: load 2.1 with one busy thread and 0.97 cores idle), which made every torch job run
on one core of two.

Examples
--------
>>> 1 <= idle_cores() <= (os.cpu_count() or 1)
True
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

#: Shortest window (seconds) between two readings; calls in between reuse the last answer.
MIN_WINDOW_S = 1.0
#: Window of the very first reading, taken on the spot.
FIRST_WINDOW_S = 0.05


@dataclass(frozen=True)
class _Reading:
    wall: float  # monotonic seconds
    own_cpu: float  # this process's CPU seconds
    total: int  # all CPU time, in clock ticks, every core
    idle: int  # idle + iowait ticks, every core


def cpu_times(path: str = "/proc/stat") -> tuple[int, int] | None:
    """``(total, idle)`` clock ticks of all cores from ``/proc/stat`` (None: unreadable).

    Idle counts ``idle`` and ``iowait``; guest time is already inside ``user``.
    """
    try:
        with open(path, encoding="ascii") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu" or len(fields) < 6:
        return None
    ticks = [int(x) for x in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return sum(ticks), ticks[3] + ticks[4]


def free_cores(cores: int, idle_share: float, own_share: float) -> int:
    """Cores idle plus cores used by this process, rounded, in ``[1, cores]``.

    ``idle_share``: fraction of all CPU time that was idle; ``own_share``: this process's
    CPU seconds per wall second.

    >>> free_cores(2, 0.49, 0.98), free_cores(2, 0.0, 1.0), free_cores(4, 1.0, 0.0)
    (2, 1, 4)
    """
    return max(1, min(cores, int(cores * idle_share + own_share + 0.5)))


class _Sampler:
    """This process's CPU use and, where readable, all cores' idle time, between readings
    at least :data:`MIN_WINDOW_S` apart (calls in between reuse the last shares)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last: _Reading | None = None
        self.shares: tuple[float | None, float] = (None, 0.0)

    @staticmethod
    def read() -> _Reading:
        total, idle = cpu_times() or (-1, -1)
        return _Reading(time.monotonic(), time.process_time(), total, idle)

    def shares_now(self) -> tuple[float | None, float]:
        """``(idle share of all CPU time or None, own CPU seconds per wall second)``."""
        with self.lock:
            if self.last is None:
                self.last = self.read()
                time.sleep(FIRST_WINDOW_S)
            elif time.monotonic() - self.last.wall < MIN_WINDOW_S:
                return self.shares
            now = self.read()
            total = now.total - self.last.total
            measured = now.total >= 0 and self.last.total >= 0
            idle_share = (now.idle - self.last.idle) / total if measured and total > 0 else None
            own_share = (now.own_cpu - self.last.own_cpu) / max(now.wall - self.last.wall, 1e-9)
            self.last, self.shares = now, (idle_share, own_share)
            return self.shares


_SAMPLER = _Sampler()


def idle_cores() -> int:
    """CPU cores not busy with *other* work (at least 1), measured since the last call.

    Linux: idle CPU time from ``/proc/stat`` plus this process's own use. Elsewhere:
    ``cpu_count`` minus the 1-minute load average net of this process's own recent CPU
    use (the load average counts this process too: without taking its share out, a job
    re-reading this during its own work, SASRec every epoch, would see its own threads as
    somebody else's and shrink to one thread).
    """
    cores = os.cpu_count() or 1
    idle_share, own_share = _SAMPLER.shares_now()
    if idle_share is not None:
        return free_cores(cores, idle_share, own_share)
    try:
        busy = os.getloadavg()[0]
    except OSError:  # not available on this platform
        busy = 0.0
    others = max(0.0, busy - own_share)
    return max(1, min(cores, int(cores - others + 0.5)))


#: Instruction sets that change how fast the models run (bfloat16 / int8 matrix units).
NOTABLE_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_int8")


def machine_info(path: str = "/proc/cpuinfo") -> dict[str, object]:
    """The CPU a measurement ran on: model name, core count and notable instruction sets.

    Timed results (epochs in a time budget, texts per second) depend on it several-fold:
    an ML-1M SASRec epoch took 13.5 s on a Xeon with AMX and 35-40 s on an AVX2-only
    EPYC. Where ``path`` cannot be read, only the core count is known.

    >>> sorted(machine_info("/nonexistent"))
    ['cpus']
    """
    info: dict[str, object] = {"cpus": os.cpu_count()}
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return info
    fields: dict[str, str] = {}
    for line in text.splitlines():  # the first core's lines
        key, colon, value = line.partition(":")
        if colon and key.strip() in ("model name", "flags"):
            fields.setdefault(key.strip(), value.strip())
    if "model name" in fields:
        info["cpu"] = fields["model name"]
    if "flags" in fields:
        flags = set(fields["flags"].split())
        info["isa"] = [f for f in NOTABLE_FLAGS if f in flags]
    return info
