"""``shopmind serve``: the HTTP API under uvicorn, optionally retraining on a schedule."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from shopmind.cli.common import console
from shopmind.config import Settings, get_settings
from shopmind.errors import ConfigError

APP_FACTORY = "shopmind.serve.app:app_from_env"


def export_settings(settings: Settings) -> None:
    """Put the settings in the environment, where uvicorn's worker processes read them."""
    os.environ["SHOPMIND_DATA_DIR"] = str(settings.data_dir)
    os.environ["SHOPMIND_REALTIME_URL"] = settings.realtime_url
    if settings.store_url:
        os.environ["SHOPMIND_STORE_URL"] = settings.store_url
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # requests run side by side: one each


def run_server(settings: Settings, *, host: str, port: int, workers: int = 1,
               retrain_every: str | None = None) -> None:
    """Serve until interrupted (Ctrl-C stops cleanly), retraining every ``retrain_every``."""
    import uvicorn

    from shopmind.data.store import open_store
    from shopmind.serve.retrain import Retrainer, parse_interval
    from shopmind.serve.tcp import NoDelayHTTPProtocol

    if workers > 1 and settings.realtime_url.startswith("memory://"):
        raise ConfigError("--workers above 1 needs shared realtime state: pass "
                          "--realtime redis://HOST:PORT/DB (env SHOPMIND_REALTIME_URL)")
    export_settings(settings)
    retrainer = None
    if retrain_every:
        from shopmind.serve.registry import published_shops

        shops = published_shops(settings.data_dir)
        retrainer = Retrainer(lambda: open_store(settings.resolved_store_url),
                              settings.data_dir, shops or [settings.default_shop],
                              parse_interval(retrain_every)).start()
    try:
        uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers,
                    http=NoDelayHTTPProtocol, access_log=False, log_level="info",
                    timeout_graceful_shutdown=10)
    finally:
        if retrainer is not None:
            retrainer.stop(timeout=5)  # a training still running dies with the process


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="uvicorn worker processes "
                                         "(more than 1 needs --realtime redis://…).")] = 1,
    realtime: Annotated[str | None, typer.Option(
        help="Realtime session state: memory:// or redis://HOST:PORT/DB. "
             "Env: SHOPMIND_REALTIME_URL.", show_default=False)] = None,
    retrain_every: Annotated[str | None, typer.Option(
        help="Retrain every shop's pipeline on this schedule, e.g. 1h or 30m; the server "
             "swaps to each new version without dropping requests.", show_default=False)
    ] = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs) until Ctrl-C."""
    settings = get_settings()
    if realtime:
        settings = Settings(**{**settings.model_dump(), "realtime_url": realtime})
    console.print(f"ShopMind API on http://{host}:{port}  ·  docs: http://{host}:{port}/docs")
    run_server(settings, host=host, port=port, workers=workers, retrain_every=retrain_every)
