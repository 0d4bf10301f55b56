"""The search router mounted on a small app: status codes first, then fields; 4xx paths."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shopmind.data.schema import Event
from shopmind.search.api import create_search_router
from shopmind.search.engine import SearchEngine


@pytest.fixture
def recorded() -> list[tuple[str, Event]]:
    return []


@pytest.fixture
def client(engine: SearchEngine, recorded: list[tuple[str, Event]]) -> TestClient:
    profiles = {"u1": {"top_brands": [{"name": "素衣", "weight": 1.0}],
                       "typical_price": 350.0}}
    app = FastAPI()
    app.include_router(create_search_router(
        lambda shop: engine if shop == "default" else None,
        get_profile=lambda shop, user: profiles.get(user),
        record_event=lambda shop, event: recorded.append((shop, event))))
    return TestClient(app)


def test_search_returns_results_facets_and_records_the_event(
        client: TestClient, recorded: list[tuple[str, Event]]) -> None:
    response = client.get("/v1/search", params={"q": "红色连衣裙", "user_id": "u1"})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert body["results"][0]["item_id"] in {"d1", "d2"}
    assert body["personalized"] is True
    assert {"category", "brand", "price", "in_stock"} <= set(body["facets"])
    assert recorded[0][0] == "default"
    assert (recorded[0][1].type, recorded[0][1].query) == ("search", "红色连衣裙")


def test_filters_in_the_query_string(client: TestClient) -> None:
    response = client.get("/v1/search", params={"q": "dress", "max_price": 100,
                                                 "brand": "Acme", "personalize": "false"})
    assert response.status_code == 200
    body = response.json()
    assert [r["item_id"] for r in body["results"]] == ["d3"]
    assert body["results"][0]["reason"].startswith("not personalized")


def test_suggest(client: TestClient) -> None:
    response = client.get("/v1/search/suggest", params={"q": "hongse"})
    assert response.status_code == 200
    assert "红色连衣裙 夏季" in response.json()["suggestions"]


@pytest.mark.parametrize("query", ["'; DROP TABLE items; --", "👗 dress 🔥", "1 OR 1=1"])
def test_odd_queries_are_answered(client: TestClient, query: str) -> None:
    assert client.get("/v1/search", params={"q": query}).status_code == 200


@pytest.mark.parametrize(("path", "params", "fragment"), [
    ("/v1/search", {"q": ""}, "query must not be empty"),
    ("/v1/search", {"q": "x" * 10_000}, "at most 512"),
    ("/v1/search", {"q": "dress", "k": 0}, "greater than or equal"),
    ("/v1/search", {"q": "dress", "min_price": 10, "max_price": 5}, "must not exceed"),
    ("/v1/search", {"q": "dress", "min_price": -1}, "greater than or equal"),
    ("/v1/search", {"q": "dress", "mode": "magic"}, "hybrid"),
    ("/v1/search/suggest", {"q": "x" * 101}, "at most 100"),
])
def test_bad_requests_are_clear_422s(client: TestClient, path: str, params: dict[str, Any],
                                     fragment: str) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 422
    assert fragment in response.text


def test_unknown_shop_is_404(client: TestClient) -> None:
    response = client.get("/v1/search", params={"q": "dress", "shop": "other"})
    assert response.status_code == 404
    assert "no search index" in response.json()["detail"]
