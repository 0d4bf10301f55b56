"""Durable writes for the HTTP layer: group commit through the normal ingest path.

A request hands its rows to :class:`StoreWriter` and waits for the future; one writer
thread takes everything queued, commits it in one transaction per (shop, table) with the
ingest path's keys, de-duplication and placeholders
(:func:`shopmind.data.ingest.engine.validated_chunk`: the rows were validated at the edge
against the same schema; under the ``quarantine`` policy the whole
:func:`~shopmind.data.ingest.engine.ingest_batches` runs), and only then resolves the
futures. So a 2xx always means *stored*, and
under load many requests share one commit (the batching costs no durability: nothing is
acknowledged from memory).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import defaultdict
from concurrent.futures import Future
from dataclasses import dataclass, field

import polars as pl

from shopmind.data.ingest.engine import ingest_batches, validated_chunk
from shopmind.data.ingest.keys import event_keys
from shopmind.data.schema import Shop
from shopmind.data.store import Store

logger = logging.getLogger(__name__)
MAX_GROUP_ROWS = 50_000


@dataclass
class _Job:
    shop_id: str
    table: str
    frame: pl.DataFrame
    done: Future[pl.Series] = field(default_factory=Future)


class StoreWriter:
    """One background thread committing queued rows in groups (see the module docstring).

    Parameters
    ----------
    store
        A store used by this writer only (SQLite and psycopg connections are not shared
        between threads).
    unknown
        Policy for events naming unknown users/items (``placeholder`` or ``quarantine``).
    """

    def __init__(self, store: Store, *, unknown: str = "placeholder") -> None:
        self.store = store
        self.unknown = unknown
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="shopmind-store-writer",
                                        daemon=True)
        self.commits = 0
        self._thread.start()

    def submit(self, shop_id: str, table: str, frame: pl.DataFrame) -> Future[pl.Series]:
        """Queue ``frame`` for ``table`` of ``shop_id``; the future resolves once stored.

        Its result says, per row, whether the row was new: for events, ``False`` marks an
        event already stored (the same ``event_id``, or the same content without one,
        sent before or earlier in the group); entity rows are upserts, always ``True``.
        """
        job = _Job(shop_id, table, frame)
        self._queue.put(job)
        return job.done

    def close(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            jobs, rows = [first], first.frame.height
            while rows < MAX_GROUP_ROWS:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                    break
                jobs.append(job)
                rows += job.frame.height
            self._commit(jobs)

    def _commit(self, jobs: list[_Job]) -> None:
        groups: dict[tuple[str, str], list[_Job]] = defaultdict(list)
        for job in jobs:
            groups[(job.shop_id, job.table)].append(job)
        for (shop_id, table), group in groups.items():
            try:
                frame = pl.concat([j.frame for j in group], how="diagonal_relaxed")
                new = self._new_rows(shop_id, table, frame)
                self._store(shop_id, table, frame)
                self.commits += 1
            except Exception as exc:  # every waiting request learns of the failure
                logger.error("storing %d %s rows failed: %s", frame.height, table,
                             type(exc).__name__)
                for job in group:
                    job.done.set_exception(exc)
                continue
            offset = 0
            for job in group:
                job.done.set_result(new.slice(offset, job.frame.height))
                offset += job.frame.height

    def _store(self, shop_id: str, table: str, frame: pl.DataFrame) -> None:
        if self.unknown == "placeholder":
            self.store.ensure_shop(Shop(shop_id=shop_id))
            chunk, _ = validated_chunk(self.store, shop_id, table, frame)
            self.store.apply_chunk(shop_id, chunk)
            return
        summary = ingest_batches(self.store, shop_id=shop_id, table=table, batches=[frame],
                                 source=f"api:{table}", unknown="quarantine")
        if summary.quarantined:
            logger.warning("%d %s rows of shop %s were quarantined: %s",
                           summary.quarantined, table, shop_id, ", ".join(summary.reasons))

    def _new_rows(self, shop_id: str, table: str, frame: pl.DataFrame) -> pl.Series:
        if table != "events":
            return pl.Series("new", [True] * frame.height)
        keys = event_keys(frame)
        stored = self.store.existing_keys(shop_id, "events", keys)
        return (keys.is_first_distinct() & ~keys.is_in(stored.implode())).alias("new")
