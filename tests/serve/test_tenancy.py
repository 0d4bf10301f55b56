"""A key of shop A can never read or write shop B, on any route."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.serve.conftest import ServedShops, auth

from shopmind.serve.runtime import Runtime

B_USER, B_ITEM = "b-u000003", "b-i000010"


def _b_version(client: TestClient, served: ServedShops) -> str:
    versions = client.get("/v1/models", headers=auth(served.keys["b-admin"])).json()
    return str(versions[0]["version"])


def _routes(b_version: str) -> list[tuple[str, str, Any]]:
    """Every versioned route, with a body where it needs one, aimed at shop b's data."""
    return [
        ("POST", "/v1/events", {"user_id": B_USER, "item_id": B_ITEM, "type": "view"}),
        ("POST", "/v1/items", {"item_id": "b-new", "title": "x"}),
        ("POST", "/v1/users", {"user_id": B_USER}),
        ("GET", f"/v1/users/{B_USER}/recommendations", None),
        ("POST", "/v1/sessions/recommendations", {"events": [{"item_id": B_ITEM}]}),
        ("GET", f"/v1/items/{B_ITEM}/similar", None),
        ("GET", f"/v1/items/{B_ITEM}/bought-together", None),
        ("GET", "/v1/trending", None),
        ("GET", f"/v1/users/{B_USER}/profile", None),
        ("GET", "/v1/models", None),
        ("POST", f"/v1/models/{b_version}/activate", None),
        ("POST", "/v1/models/rollback", None),
    ]


@pytest.mark.parametrize("how", ["header", "query"])
def test_naming_another_shop_is_403_on_every_route(client: TestClient, served: ServedShops,
                                                   how: str) -> None:
    for method, path, body in _routes(_b_version(client, served)):
        headers = auth(served.keys["a-admin"])
        params = {}
        if how == "header":
            headers["X-Shop-Id"] = "b"
        else:
            params["shop"] = "b"
        response = client.request(method, path, headers=headers, params=params, json=body)
        assert response.status_code == 403, (path, response.text)
        assert "another shop" in response.json()["error"]["message"]


def test_reads_with_a_key_of_shop_a_never_see_shop_b(client: TestClient,
                                                     served: ServedShops) -> None:
    headers = auth(served.keys["a-admin"])
    assert client.get(f"/v1/users/{B_USER}/profile", headers=headers).status_code == 404
    assert client.get(f"/v1/items/{B_ITEM}/similar", headers=headers).status_code == 404
    assert client.get(f"/v1/items/{B_ITEM}/bought-together",
                      headers=headers).status_code == 404
    recs = client.get(f"/v1/users/{B_USER}/recommendations", headers=headers).json()
    assert recs["cold_start"]  # shop b's history of this user is invisible
    session = client.post("/v1/sessions/recommendations", headers=headers,
                          json={"events": [{"item_id": B_ITEM}]}).json()
    assert session["cold_start"]
    trending = client.get("/v1/trending?k=50", headers=headers).json()
    for answer in (recs, session, trending):
        assert not any(i["item_id"].startswith("b-") for i in answer["items"])
    b_version = _b_version(client, served)
    versions = client.get("/v1/models", headers=headers).json()
    assert b_version not in {v["version"] for v in versions}
    activate = client.post(f"/v1/models/{b_version}/activate", headers=headers)
    assert activate.status_code == 404


def test_writes_with_a_key_of_shop_a_stay_in_shop_a(client: TestClient,
                                                    served: ServedShops) -> None:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    b_model = runtime.registry.get("b")
    assert b_model is not None
    b_before = client.get(f"/v1/users/{B_USER}/recommendations",
                          headers=auth(served.keys["b-read"])).json()
    with runtime.reading() as store:
        counts = {t: store.count("b", t) for t in ("events", "items", "users")}
    headers = auth(served.keys["a-write"])
    assert client.post("/v1/events", headers=headers, json={
        "user_id": B_USER, "item_id": B_ITEM, "type": "purchase"}).status_code == 201
    assert client.post("/v1/items", headers=headers,
                       json={"item_id": "b-intruder", "title": "x"}).status_code == 201
    assert client.post("/v1/users", headers=headers,
                       json={"user_id": "b-intruder"}).status_code == 201
    with runtime.reading() as store:
        assert {t: store.count("b", t) for t in counts} == counts
        assert store.read_table("a", "events", where={"user_id": B_USER}).height == 1
    assert "b-intruder" not in b_model.fresh
    assert runtime.realtime.recent_events("b", B_USER) == []
    b_after = client.get(f"/v1/users/{B_USER}/recommendations",
                         headers=auth(served.keys["b-read"])).json()
    assert b_after["items"] == b_before["items"]
