"""A small typed Python client of the ShopMind HTTP API (sync and async, over httpx).

Examples
--------
>>> client = ShopMindClient("http://127.0.0.1:8000", api_key="sm_…")  # doctest: +SKIP
>>> client.post_events([{"user_id": "u1", "item_id": "i9", "type": "view"}])  # doctest: +SKIP
Accepted(accepted=1, duplicates=0)
>>> [r.item_id for r in client.recommendations("u1", k=3).items]  # doctest: +SKIP
['i12', 'i4', 'i31']

Each method maps to one route; non-2xx answers raise :class:`ApiError` with the status, the
error code, the message and the field-level problems. An ``httpx.Client`` (or FastAPI's
``TestClient``) can be passed as ``http`` to reuse its connections or transport.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

#: Send small requests at once: without it a POST's body waits for the ACK of its headers
#: (Nagle's algorithm against delayed ACKs: ~40 ms per request on Linux).
NODELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]


class ApiError(Exception):
    """A non-2xx answer of the API."""

    def __init__(self, status: int, code: str, message: str,
                 fields: list[dict[str, str]] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.fields = fields or []


@dataclass(frozen=True)
class Accepted:
    accepted: int
    duplicates: int = 0


@dataclass(frozen=True)
class Recommendation:
    item_id: str
    score: float
    reason_kind: str
    reason: str
    related_item: str | None
    origin: str


@dataclass(frozen=True)
class Recommendations:
    user_id: str | None
    model_version: str
    cold_start: bool
    items: list[Recommendation] = field(default_factory=list)

    @property
    def item_ids(self) -> list[str]:
        return [r.item_id for r in self.items]


@dataclass(frozen=True)
class ItemList:
    model_version: str
    items: list[tuple[str, float]]

    @property
    def item_ids(self) -> list[str]:
        return [i for i, _ in self.items]


@dataclass(frozen=True)
class _Call:
    method: str
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None


def _filters(k: int, category: str | None, price_max: float | None,
             exclude: Iterable[str] = ()) -> dict[str, Any]:
    params: dict[str, Any] = {"k": k}
    if category is not None:
        params["category"] = category
    if price_max is not None:
        params["price_max"] = price_max
    excluded = list(exclude)
    if excluded:
        params["exclude"] = excluded
    return params


def _recommendations(data: dict[str, Any]) -> Recommendations:
    return Recommendations(data["user_id"], data["model_version"], data["cold_start"], [
        Recommendation(r["item_id"], r["score"], r["reason"]["kind"], r["reason"]["text"],
                       r["reason"].get("related_item"), r["origin"]) for r in data["items"]])


def _item_list(data: dict[str, Any]) -> ItemList:
    return ItemList(data["model_version"], [(i["item_id"], i["score"]) for i in data["items"]])


def _check(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            error = {"code": "error", "message": response.text[:200]}
        raise ApiError(response.status_code, error.get("code", "error"),
                       error.get("message", ""), error.get("fields"))
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    return response.text


class _Calls:
    """The request of every route (shared by the sync and async clients)."""

    @staticmethod
    def post_events(events: Sequence[Mapping[str, Any]]) -> _Call:
        return _Call("POST", "/v1/events", json={"events": list(events)})

    @staticmethod
    def upsert_items(items: Sequence[Mapping[str, Any]]) -> _Call:
        return _Call("POST", "/v1/items", json={"items": list(items)})

    @staticmethod
    def upsert_users(users: Sequence[Mapping[str, Any]]) -> _Call:
        return _Call("POST", "/v1/users", json={"users": list(users)})

    @staticmethod
    def recommendations(user_id: str, k: int, category: str | None, price_max: float | None,
                        exclude: Iterable[str]) -> _Call:
        return _Call("GET", f"/v1/users/{user_id}/recommendations",
                     params=_filters(k, category, price_max, exclude))

    @staticmethod
    def session(events: Sequence[Mapping[str, Any]], k: int, category: str | None,
                price_max: float | None, exclude: Iterable[str]) -> _Call:
        body = {"events": list(events), **_filters(k, category, price_max)}
        body["exclude"] = list(exclude)
        return _Call("POST", "/v1/sessions/recommendations", json=body)


class ShopMindClient:
    """Synchronous client (see the module docstring)."""

    def __init__(self, base_url: str = "http://127.0.0.1:8000", api_key: str | None = None,
                 *, timeout: float = 10.0, http: httpx.Client | None = None) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = http or httpx.Client(
            base_url=base_url, timeout=timeout,
            transport=httpx.HTTPTransport(socket_options=NODELAY))
        self._headers = headers

    def _do(self, call: _Call) -> Any:
        return _check(self._http.request(call.method, call.path, params=call.params,
                                         json=call.json, headers=self._headers))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ShopMindClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def post_events(self, events: Sequence[Mapping[str, Any]]) -> Accepted:
        """Store events (each a dict of the ``EventIn`` fields)."""
        return Accepted(**self._do(_Calls.post_events(events)))

    def upsert_items(self, items: Sequence[Mapping[str, Any]]) -> Accepted:
        return Accepted(**self._do(_Calls.upsert_items(items)))

    def upsert_users(self, users: Sequence[Mapping[str, Any]]) -> Accepted:
        return Accepted(**self._do(_Calls.upsert_users(users)))

    def recommendations(self, user_id: str, k: int = 10, *, category: str | None = None,
                        price_max: float | None = None, exclude: Iterable[str] = ()
                        ) -> Recommendations:
        return _recommendations(self._do(_Calls.recommendations(
            user_id, k, category, price_max, exclude)))

    def session_recommendations(self, events: Sequence[Mapping[str, Any]], k: int = 10, *,
                                category: str | None = None, price_max: float | None = None,
                                exclude: Iterable[str] = ()) -> Recommendations:
        return _recommendations(self._do(_Calls.session(events, k, category, price_max,
                                                        exclude)))

    def similar(self, item_id: str, k: int = 10) -> ItemList:
        return _item_list(self._do(_Call("GET", f"/v1/items/{item_id}/similar", {"k": k})))

    def bought_together(self, item_id: str, k: int = 10) -> ItemList:
        return _item_list(self._do(_Call("GET", f"/v1/items/{item_id}/bought-together",
                                         {"k": k})))

    def trending(self, k: int = 10, *, category: str | None = None,
                 price_max: float | None = None) -> ItemList:
        return _item_list(self._do(_Call("GET", "/v1/trending",
                                         _filters(k, category, price_max))))

    def profile(self, user_id: str) -> dict[str, Any]:
        return dict(self._do(_Call("GET", f"/v1/users/{user_id}/profile")))

    def models(self) -> list[dict[str, Any]]:
        return list(self._do(_Call("GET", "/v1/models")))

    def activate(self, version: str) -> dict[str, Any]:
        return dict(self._do(_Call("POST", f"/v1/models/{version}/activate")))

    def rollback(self) -> dict[str, Any]:
        return dict(self._do(_Call("POST", "/v1/models/rollback")))

    def ready(self) -> bool:
        return self._http.get("/readyz").status_code == 200


class AsyncShopMindClient:
    """Asynchronous client for load generators (the routes they exercise)."""

    def __init__(self, base_url: str = "http://127.0.0.1:8000", api_key: str | None = None,
                 *, timeout: float = 10.0, max_connections: int = 100) -> None:
        limits = httpx.Limits(max_connections=max_connections,
                              max_keepalive_connections=max_connections)
        self._http = httpx.AsyncClient(
            base_url=base_url, timeout=timeout,
            transport=httpx.AsyncHTTPTransport(limits=limits, socket_options=NODELAY))
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    async def _do(self, call: _Call) -> Any:
        return _check(await self._http.request(call.method, call.path, params=call.params,
                                               json=call.json, headers=self._headers))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def post_events(self, events: Sequence[Mapping[str, Any]]) -> Accepted:
        return Accepted(**await self._do(_Calls.post_events(events)))

    async def recommendations(self, user_id: str, k: int = 10, *, category: str | None = None,
                              price_max: float | None = None, exclude: Iterable[str] = ()
                              ) -> Recommendations:
        return _recommendations(await self._do(_Calls.recommendations(
            user_id, k, category, price_max, exclude)))

    async def get(self, path: str) -> Any:
        """Any GET route (e.g. the trivial ``/healthz`` used as the HTTP-stack peer)."""
        return await self._do(_Call("GET", path))
