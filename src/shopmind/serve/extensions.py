"""Product search and review intelligence on the serving app.

Their routers (:mod:`shopmind.search.api`, :mod:`shopmind.reviews.api`) know nothing of
keys, stores or app state; this module binds them to the running :class:`Runtime`:

* the shop of every request is the API key's shop (a key can never search, score or read
  the alerts of another shop), and every route needs at least a ``read`` key;
* each shop's :class:`~shopmind.search.engine.SearchEngine` is built from the store's
  catalog on first use (warmed in the background at start) and refreshed from the store
  every ``refresh_s`` seconds, so items posted to ``/v1/items`` become searchable;
* a search by a known user is stored as a ``search`` event through the same durable
  writer as ``POST /v1/events`` (it feeds recommendations);
* personalization reads the user's stored profile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter

from shopmind.config import Settings
from shopmind.data.schema import Event
from shopmind.serve.deps import ReadKey
from shopmind.serve.routers.events import events_frame
from shopmind.serve.runtime import Runtime, settle_heap
from shopmind.serve.schemas import EventIn

logger = logging.getLogger(__name__)


def shop_of_key(key: ReadKey) -> str:
    """The request's shop: the one its API key belongs to."""
    return key.shop_id


class ShopSearch:
    """Per-shop search engines, profiles and search events, bound to a :class:`Runtime`."""

    def __init__(self, settings: Settings, *, refresh_s: float = 60.0) -> None:
        self.settings = settings
        self.refresh_s = refresh_s
        self.runtime: Runtime | None = None
        self._engines: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._warming = threading.Event()

    def bind(self, runtime: Runtime) -> None:
        """Attach the started runtime and build every shop's index in the background; the
        process reports not ready (``/readyz``) until that is done, so a load balancer
        sends it no traffic while embedding the catalog takes the CPU."""
        self.runtime = runtime
        self._warming.set()
        runtime.readiness_checks.append(self.pending)
        threading.Thread(target=self._warm, name="shopmind-search-warm", daemon=True).start()

    def pending(self) -> dict[str, str]:
        """Readiness problem while the indexes are being built."""
        return {"search": "building search indexes"} if self._warming.is_set() else {}

    def _warm(self) -> None:
        assert self.runtime is not None
        try:
            with self.runtime.reading() as store:
                shops = store.list_shops()
            for shop_id in shops:
                self.engine(shop_id)
        except Exception:  # warming is an optimization: requests build on demand
            logger.exception("search: warming the indexes failed")
        finally:
            settle_heap()  # the indexes are long-lived: keep them out of collections
            self._warming.clear()

    def engine(self, shop_id: str) -> Any:
        """The shop's search engine (None when its catalog is empty)."""
        from shopmind.search.engine import SearchEngine
        from shopmind.text.embeddings import load_backend

        assert self.runtime is not None, "ShopSearch.bind must run at start-up"
        with self._lock:
            built_at, engine = self._engines.get(shop_id, (0.0, None))
            if engine is not None and time.monotonic() - built_at < self.refresh_s:
                return engine
            with self.runtime.reading() as store:
                items = store.read_table(shop_id, "items")
            if items.is_empty():
                return None
            if engine is None:
                engine = SearchEngine.build(
                    items, load_backend(self.settings.search_embedding_backend),
                    cache_dir=self.settings.embedding_cache_dir)
                logger.info("search: indexed %d items of shop %r", items.height, shop_id)
            else:
                engine.upsert(items)  # vectors of unchanged texts come from the cache
            self._engines[shop_id] = (time.monotonic(), engine)
            return engine

    def profile(self, shop_id: str, user_id: str) -> Mapping[str, Any] | None:
        """The user's stored profile, or None."""
        from shopmind.features.profiles import profile_from_storage

        assert self.runtime is not None
        with self.runtime.reading() as store:
            rows = store.read_table(shop_id, "profiles", where={"user_id": user_id})
        return profile_from_storage(rows.row(0, named=True)) if rows.height else None

    def record(self, shop_id: str, event: Event) -> None:
        """Store a known user's search event durably and feed it to their live session.

        A search needs only a read key, so an unknown ``user_id`` is not stored: recording
        it would create a placeholder user, a write a read key must not cause.
        """
        assert self.runtime is not None
        with self.runtime.reading() as store:
            known = store.read_table(shop_id, "users", columns=["user_id"],
                                     where={"user_id": event.user_id})
        if known.is_empty():
            logger.debug("search: user %r of shop %r is unknown; search not recorded",
                         event.user_id, shop_id)
            return
        frame = events_frame([EventIn.model_validate(
            event.model_dump(include={"user_id", "item_id", "type", "ts", "session_id",
                                      "query"}))])
        new = self.runtime.writer.submit(shop_id, "events", frame).result()
        self.runtime.after_events_stored(shop_id, frame, new)


def extension_routers(settings: Settings) -> tuple[list[APIRouter], ShopSearch]:
    """The search and review routers, and the :class:`ShopSearch` to bind at start-up."""
    from shopmind.reviews.api import create_reviews_router
    from shopmind.search.api import create_search_router

    search = ShopSearch(settings)
    routers = [
        create_search_router(search.engine, get_profile=search.profile,
                             record_event=search.record, shop_dependency=shop_of_key),
        create_reviews_router(shop_dependency=shop_of_key),
    ]
    return routers, search
