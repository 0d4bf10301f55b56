"""Everything a serving process holds while it runs, built in the app's lifespan.

:class:`Runtime` owns the stores (one connection for reads, one for the writer thread),
the realtime session state, the model registry, the request batcher, the API keys, the
rate limiter and the metrics, plus one background thread that watches ``LATEST`` pointers
and refreshes history snapshots. Routers reach it through :mod:`shopmind.serve.deps` and
call its methods; they hold no state of their own.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import polars as pl

from shopmind.config import Settings
from shopmind.data.store import Store, open_store
from shopmind.data.store.redis_state import RealtimeState, open_realtime_state
from shopmind.recommend.pipeline import Recommendation
from shopmind.recommend.rules import BusinessRules
from shopmind.serve.batcher import RecommendBatcher
from shopmind.serve.consent import OptOuts
from shopmind.serve.history import History, session_history
from shopmind.serve.keys import KeyRing
from shopmind.serve.metrics import Metrics
from shopmind.serve.model import ServedModel
from shopmind.serve.ratelimit import RateLimiter
from shopmind.serve.registry import ModelRegistry
from shopmind.serve.tagging import ItemTagger
from shopmind.serve.writer import StoreWriter

logger = logging.getLogger(__name__)
SNAPSHOT_COLUMNS = ["user_id", "item_id", "type", "ts"]


@dataclass(frozen=True)
class Ingested:
    accepted: int
    duplicates: int


def settle_heap() -> None:
    """Collect garbage once, then exempt every surviving object from future collections.

    A served model and its history snapshot are hundreds of thousands of long-lived
    Python objects; a full (generation 2) collection walks them all — about 180 ms on
    the Amazon Beauty model, a pause every request in flight waits out. Freezing them
    after each load (``gc.freeze``, as Instagram's Django servers do) leaves the
    collector only the objects requests create. Called after start-up, model swaps and
    snapshot refreshes: the one full collection there is the price of dropping the old
    version's objects.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class Runtime:
    """The serving process's state (see the module docstring)."""

    def __init__(self, settings: Settings, *, realtime: RealtimeState | None = None,
                 metrics: Metrics | None = None) -> None:
        self.settings = settings
        url = settings.resolved_store_url
        self.reader: Store = open_store(url)
        self._read_lock = threading.Lock()
        self.writer = StoreWriter(open_store(url, migrate=False),
                                  unknown=settings.unknown_reference_policy)
        self.realtime = realtime or open_realtime_state(settings.realtime_url)
        self.metrics = metrics or Metrics()
        self.keys = KeyRing(settings.api_keys_path)
        self.limiter = RateLimiter(settings.serve_rate_limit_rps,
                                   settings.serve_rate_limit_burst)
        self.registry = ModelRegistry(settings.data_dir, self._read_events,
                                      text_backend=settings.serve_text_backend,
                                      on_swap=self._swapped)
        self.batcher = RecommendBatcher()
        self.tagger = ItemTagger(self._read_items, read_stored=self._read_stored_items,
                                 backend=settings.serve_text_backend)
        self.opt_outs = OptOuts(self._read_opted_out)
        #: More readiness checks (component → problem), e.g. search indexes still building.
        self.readiness_checks: list[Callable[[], dict[str, str]]] = []
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Load every shop's active model, then watch for new versions in the background."""
        self.registry.sync_all()
        settle_heap()
        self._watcher = threading.Thread(target=self._watch, name="shopmind-model-watch",
                                         daemon=True)
        self._watcher.start()

    def close(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
        self.batcher.close()
        self.writer.close()
        self.writer.store.close()
        self.reader.close()
        self.realtime.close()

    def _watch(self) -> None:
        poll, refresh = self.settings.serve_model_poll_s, self.settings.serve_snapshot_refresh_s
        next_refresh = time.monotonic() + refresh
        while not self._stop.wait(poll):
            self.registry.sync_all()
            if time.monotonic() >= next_refresh:
                self.registry.refresh_snapshots()
                settle_heap()
                next_refresh = time.monotonic() + refresh

    def _swapped(self, model: ServedModel) -> None:
        self.metrics.set_model(model.shop_id, model.version, model.pipeline.watermark_us_)
        settle_heap()

    @contextmanager
    def reading(self) -> Iterator[Store]:
        """The read connection, one user at a time."""
        with self._read_lock:
            yield self.reader

    def _read_events(self, shop_id: str) -> pl.DataFrame:
        with self.reading() as store:
            return store.read_table(shop_id, "events", columns=SNAPSHOT_COLUMNS)

    def _read_items(self, shop_id: str) -> pl.DataFrame:
        with self.reading() as store:
            return store.read_table(shop_id, "items", columns=[
                "item_id", "title", "description", "category", "placeholder", "attributes"])

    def _read_stored_items(self, shop_id: str, ids: pl.Series) -> pl.DataFrame:
        with self.reading() as store:
            return store.read_keys(shop_id, "items", ids, columns=[
                "item_id", "title", "description", "category", "attributes"])

    def ready(self) -> dict[str, str]:
        """Problems that make the process unready, by component (empty when ready)."""
        problems = {}
        try:
            with self.reading() as store:
                store.list_shops()
        except Exception as exc:
            problems["store"] = type(exc).__name__
        ping = getattr(self.realtime, "ping", None)
        try:
            if ping is not None:
                ping()
        except Exception as exc:
            problems["realtime"] = type(exc).__name__
        missing = set(self.registry.shops_on_disk()) - set(self.registry.shops())
        if missing:
            problems["models"] = f"{len(missing)} shop(s) not loaded yet"
        for check in self.readiness_checks:
            problems.update(check())
        return problems

    # -- request work --------------------------------------------------------------------
    def personalization_allowed(self, shop_id: str, user_id: str) -> bool:
        """False when the user opted out (``consent_personalization`` false); unknown
        users and users who never said are personalized (the default). Answered from
        memory (:class:`.consent.OptOuts`), not the store."""
        return not self.opt_outs.opted_out(shop_id, user_id)

    def _read_opted_out(self, shop_id: str) -> set[str]:
        with self.reading() as store:
            rows = store.read_table(shop_id, "users", columns=["user_id"],
                                    where={"consent_personalization": False})
        return set(rows["user_id"].to_list())

    def history(self, model: ServedModel, user_id: str) -> History:
        """The user's stored history joined with their live session."""
        stored = model.snapshot.get(user_id)
        self.metrics.cache.labels("hit" if user_id in model.snapshot else "miss").inc()
        session = self.realtime.recent_events(model.shop_id, user_id)
        return session_history(session, model.item_index, stored)

    async def recommend(self, model: ServedModel, history: History, k: int,
                        rules: BusinessRules) -> list[Recommendation]:
        """The pipeline's list for one history, run in a batch with concurrent requests."""
        return await asyncio.wrap_future(self.batcher.submit(model, history, k, rules))

    async def store_rows(self, shop_id: str, table: str, frame: pl.DataFrame) -> pl.Series:
        """Store ``frame`` durably (group commit); returns once it is committed, with a
        per-row flag telling which rows were new (see :meth:`StoreWriter.submit`)."""
        return await asyncio.wrap_future(self.writer.submit(shop_id, table, frame))

    def after_events_stored(self, shop_id: str, frame: pl.DataFrame, new: pl.Series
                            ) -> Ingested:
        """Feed newly stored events to the realtime sessions; count the repeats."""
        fresh = frame.filter(new)
        for user_id, item_id, kind, ts in fresh.select(
                "user_id", "item_id", "type", "ts").iter_rows():
            if item_id is not None:
                self.realtime.append_event(shop_id, user_id, item_id, kind, ts)
        accepted, duplicates = fresh.height, frame.height - fresh.height
        self.metrics.events.labels(shop_id, "accepted").inc(accepted)
        if duplicates:
            self.metrics.events.labels(shop_id, "duplicate").inc(duplicates)
        return Ingested(accepted, duplicates)
