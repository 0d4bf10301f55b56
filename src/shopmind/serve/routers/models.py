"""``/v1/models``: the shop's model versions, activation and rollback (admin keys)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool

from shopmind.serve.deps import AdminKey, RuntimeDep
from shopmind.serve.schemas import ErrorOut, ModelVersionOut

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get("", response_model=list[ModelVersionOut])
def versions(key: AdminKey, runtime: RuntimeDep) -> list[ModelVersionOut]:
    """Every saved version, oldest first, with its metrics and training-data watermark."""
    return [ModelVersionOut(**v) for v in runtime.registry.versions(key.shop_id)]


@router.post("/{version}/activate", response_model=ModelVersionOut,
             responses={404: {"model": ErrorOut}})
async def activate(version: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")],
                   key: AdminKey, runtime: RuntimeDep) -> ModelVersionOut:
    """Serve ``version`` (swapped in atomically: requests in flight are not dropped)."""
    model = await run_in_threadpool(runtime.registry.activate, key.shop_id, version)
    return _active(runtime, key.shop_id, model.version)


@router.post("/rollback", response_model=ModelVersionOut, responses={404: {"model": ErrorOut}})
async def rollback(key: AdminKey, runtime: RuntimeDep) -> ModelVersionOut:
    """Serve the version saved before the active one."""
    model = await run_in_threadpool(runtime.registry.rollback, key.shop_id)
    return _active(runtime, key.shop_id, model.version)


def _active(runtime: RuntimeDep, shop_id: str, version: str) -> ModelVersionOut:
    info = next(v for v in runtime.registry.versions(shop_id) if v["version"] == version)
    return ModelVersionOut(**info)
