"""Dependencies shared by the routers, as ``Annotated`` aliases.

``ReadKey`` / ``WriteKey`` / ``AdminKey`` authenticate the request's API key
(``Authorization: Bearer KEY`` or ``X-API-Key: KEY``), check its role, apply its rate limit
and give the key's record, whose ``shop_id`` scopes everything the handler touches. A
request may name a shop (``X-Shop-Id`` header or ``shop`` query parameter) only to state
its intent: naming any shop other than the key's is answered 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from shopmind.serve.http import ApiError
from shopmind.serve.keys import ApiKey
from shopmind.serve.model import ServedModel
from shopmind.serve.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.headers.get("x-api-key")


def require(role: str) -> Callable[..., ApiKey]:
    """A dependency that admits keys whose role covers ``role``."""

    def check(request: Request, runtime: RuntimeDep) -> ApiKey:
        token = _token(request)
        if not token:
            raise ApiError(401, "an API key is required: send `Authorization: Bearer KEY`",
                           headers={"WWW-Authenticate": "Bearer"})
        key = runtime.keys.authenticate(token)
        if key is None:
            raise ApiError(401, "the API key is not valid (unknown or revoked)",
                           headers={"WWW-Authenticate": "Bearer"})
        if not runtime.limiter.allow(key.key_id):
            raise ApiError(429, "rate limit exceeded for this API key; retry later",
                           headers={"Retry-After": str(runtime.limiter.retry_after())})
        named = request.headers.get("x-shop-id") or request.query_params.get("shop")
        if named is not None and named != key.shop_id:
            raise ApiError(403, "this API key belongs to another shop")
        if not key.allows(role):
            raise ApiError(403, f"this API key has role '{key.role}'; this route needs "
                                f"'{role}' or higher")
        return key

    return check


ReadKey = Annotated[ApiKey, Depends(require("read"))]
WriteKey = Annotated[ApiKey, Depends(require("write"))]
AdminKey = Annotated[ApiKey, Depends(require("admin"))]


def served_model(runtime: Runtime, shop_id: str) -> ServedModel:
    """The shop's active model, or 503 when it has none yet."""
    model = runtime.registry.get(shop_id)
    if model is None:
        raise ApiError(503, "this shop has no trained model yet; run `shopmind train` "
                            "(the server picks it up within seconds)")
    return model


def read_model(key: ReadKey, runtime: RuntimeDep) -> ServedModel:
    return served_model(runtime, key.shop_id)


ModelDep = Annotated[ServedModel, Depends(read_model)]
