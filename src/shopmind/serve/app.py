"""The FastAPI app factory: ``create_app(settings)``.

Models, stores and the realtime state are opened in the lifespan (never at import), one
router per resource is mounted, and other components add theirs through
``extra_routers`` (search and review intelligence mount ``/v1/search``, ``/v1/text/…`` and
``/v1/alerts`` this way). Their handlers can use the same dependencies
(:mod:`shopmind.serve.deps`: ``ReadKey``, ``WriteKey``, ``RuntimeDep``), so keys, shop
scoping, rate limits, error bodies and metrics apply to them unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from shopmind import __version__
from shopmind.config import Settings, get_settings
from shopmind.data.store.redis_state import RealtimeState
from shopmind.serve.http import BodyLimit, ErrorShield, RequestMetrics, install_error_handlers
from shopmind.serve.metrics import Metrics
from shopmind.serve.routers import events, health, items, models, sessions, trending, users
from shopmind.serve.runtime import Runtime

logger = logging.getLogger(__name__)
ROUTERS = (events.router, items.router, users.router, sessions.router, trending.router,
           models.router, health.router)

#: Called with the running :class:`Runtime` after it started (and before it closes).
StartupHook = Callable[[Runtime], Any]


def create_app(
    settings: Settings | None = None,
    *,
    extra_routers: Sequence[APIRouter] = (),
    realtime: RealtimeState | None = None,
    on_startup: Sequence[StartupHook] = (),
) -> FastAPI:
    """Build the ShopMind HTTP app.

    Parameters
    ----------
    settings
        Defaults to :func:`shopmind.config.get_settings`.
    extra_routers
        More routers to mount (e.g. search, review intelligence), after the built-in ones.
    realtime
        Realtime state to use instead of the one ``settings.realtime_url`` names.
    on_startup
        Functions called with the :class:`Runtime` once it has started.

    Examples
    --------
    >>> from fastapi.testclient import TestClient
    >>> app = create_app(Settings(data_dir="/tmp/shopmind-doc"))
    >>> with TestClient(app) as client:  # doctest: +SKIP
    ...     client.get("/healthz").json()
    {'status': 'ok'}
    """
    settings = settings or get_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings, realtime=realtime, metrics=metrics)
        runtime.start()
        app.state.runtime = runtime
        for hook in on_startup:
            hook(runtime)
        try:
            yield
        finally:
            runtime.close()

    app = FastAPI(title="ShopMind", version=__version__, lifespan=lifespan,
                  description="Real-time personalization: events in, recommendations with "
                              "reasons out. Authenticate with `Authorization: Bearer KEY` "
                              "(`shopmind keys create --shop SHOP`).")
    install_error_handlers(app)
    for router in (*ROUTERS, *extra_routers):
        app.include_router(router)
    app.add_middleware(ErrorShield)
    app.add_middleware(RequestMetrics, metrics=metrics)
    app.add_middleware(BodyLimit, max_bytes=settings.serve_max_body_bytes)
    return app


def create_full_app(settings: Settings | None = None, **options: Any) -> FastAPI:
    """:func:`create_app` with product search and review intelligence mounted
    (:mod:`shopmind.serve.extensions`); ``options`` go to :func:`create_app`."""
    from shopmind.serve.extensions import extension_routers

    settings = settings or get_settings()
    routers, search = extension_routers(settings)
    return create_app(settings, extra_routers=[*options.pop("extra_routers", ()), *routers],
                      on_startup=[*options.pop("on_startup", ()), search.bind], **options)


def app_from_env() -> FastAPI:
    """The app for ``uvicorn --factory`` workers: settings from the ``SHOPMIND_*`` env."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                                                   "%(message)s")
    for chatty in ("bm25s", "faiss.loader"):  # index-building chatter, not operations
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return create_full_app(get_settings())
