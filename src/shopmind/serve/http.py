"""HTTP plumbing: error bodies, exception handlers and the two ASGI middlewares.

Every error answers ``{"error": {"code", "message", "fields": [{"field", "message"}]}}``.
Validation errors name each field (``events.0.type``) but never echo the value sent, and
no handler returns or logs a stack trace: an unexpected exception is logged by its type
and route only (request bodies may hold personal data).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shopmind.errors import InputError, NotFoundError, ShopMindError, StoreError
from shopmind.serve.metrics import Metrics

logger = logging.getLogger("shopmind.serve")

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 413: "too_large", 422: "invalid_request",
          429: "rate_limited", 503: "unavailable"}


class ApiError(Exception):
    """An error answer raised by a handler or dependency."""

    def __init__(self, status: int, message: str, *, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.code = code or _CODES.get(status, "error")
        self.headers = headers


def check_batch_size(count: int, limit: int, what: str) -> None:
    """413 when a request carries more than ``limit`` ``what`` (events, items, users)."""
    if count > limit:
        raise ApiError(413, f"a batch holds at most {limit:,} {what}, got {count:,}")


def error_response(status: int, message: str, *, code: str | None = None,
                   fields: list[dict[str, str]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code or _CODES.get(status, "error"), "message": message,
                      "fields": fields or []}}
    return JSONResponse(body, status_code=status, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _message(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":  # loc is ("body", character offset)
        loc = tuple(error.get("loc", ()))
        where = f" at character {loc[1]}" if len(loc) > 1 else ""
        reason = (error.get("ctx") or {}).get("error", "")
        return f"not valid JSON{where}" + (f": {reason}" if reason else "")
    if tuple(error.get("loc", ())) == ("body",) and error.get("type") in (
            "model_attributes_type", "dict_type", "model_type"):
        return "the body must be a JSON object (send it with Content-Type: application/json)"
    msg = str(error.get("msg", "invalid value"))
    return msg.removeprefix("Value error, ")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every failure into the one error body."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [{"field": "body" if e.get("type") == "json_invalid"
                   else _field(tuple(e.get("loc", ()))), "message": _message(e)}
                  for e in exc.errors()]
        return error_response(422, "the request has invalid fields; see `fields`",
                              fields=fields)

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, code=exc.code, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail),
                              headers=getattr(exc, "headers", None))

    @app.exception_handler(ShopMindError)
    async def _library(request: Request, exc: ShopMindError) -> JSONResponse:
        if isinstance(exc, NotFoundError):
            return error_response(404, str(exc))
        if isinstance(exc, InputError):
            return error_response(400, str(exc))
        logger.error("%s on %s", type(exc).__name__, _route(request.scope))
        status = 503 if isinstance(exc, StoreError) else 500
        return error_response(status, "the server could not complete the request",
                              code="unavailable" if status == 503 else "internal")



def _route(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path_format", None) or "unmatched"  # {id}, not {id:path}


class BodyLimit:
    """Answer 413 to a body over ``max_bytes`` (by Content-Length, or while streaming)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._reject(send)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:  # FastAPI re-raises HTTP errors from body reading
                    raise StarletteHTTPException(413, self._message())
            return message

        await self.app(scope, limited, send)

    def _message(self) -> str:
        return f"the request body is over the {self.max_bytes:,}-byte limit"

    async def _reject(self, send: Send) -> None:
        body = orjson.dumps({"error": {"code": "too_large", "message": self._message(),
                                       "fields": []}})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class ErrorShield:
    """Answer 500 to any unexpected exception, logging only its type and route.

    Starlette's own handler for ``Exception`` re-raises after answering, so the server
    would log the traceback (whose values may hold personal data); this one does not.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            logger.error("unexpected %s on %s", type(exc).__name__, _route(scope))
            if not started:
                response = error_response(500, "the server could not complete the request",
                                          code="internal")
                await response(scope, receive, send)


class RequestMetrics:
    """Observe every request's latency by method, route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            self.metrics.latency.labels(scope["method"], _route(scope), str(status)).observe(
                time.perf_counter() - started)
