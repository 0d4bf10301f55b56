"""``/healthz`` (the process answers), ``/readyz`` (it can serve), ``/metrics``."""

from __future__ import annotations

import os

from fastapi import APIRouter, Response

from shopmind.serve.deps import RuntimeDep
from shopmind.serve.http import error_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(runtime: RuntimeDep) -> dict[str, object] | Response:
    """Readiness: the store and realtime state answer and every shop's model is loaded.

    ``worker`` identifies the answering process (its pid), so a deployment tool can
    wait until every worker behind one port is ready, not just the first."""
    problems = runtime.ready()
    if problems:
        return error_response(503, "not ready: " + ", ".join(
            f"{k}: {v}" for k, v in sorted(problems.items())))
    return {"status": "ready", "shops": runtime.registry.shops(), "worker": os.getpid()}


@router.get("/metrics", include_in_schema=False)
def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus text format."""
    return Response(runtime.metrics.render(), media_type="text/plain; version=0.0.4")
