"""Every route through TestClient: the answer's status and fields, then the 4xx paths."""

from __future__ import annotations

import os

import orjson
import polars as pl
import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from tests.serve.conftest import ServedShops, auth

from shopmind.client import ApiError, ShopMindClient
from shopmind.serve import create_app
from shopmind.serve.deps import ReadKey


@pytest.fixture
def api(client: TestClient, served: ServedShops) -> ShopMindClient:
    return ShopMindClient(api_key=served.keys["a-write"], http=client)


def _buyer(served: ServedShops) -> str:
    events = served.shop_a.events
    return str(events.filter(pl.col("type") == "purchase")["user_id"].sort()[0])


def test_user_recommendations_have_reasons_and_obey_filters(api: ShopMindClient,
                                                             served: ServedShops) -> None:
    user = _buyer(served)
    recs = api.recommendations(user, k=8)
    assert not recs.cold_start and len(recs.items) == 8
    assert len(set(recs.item_ids)) == 8 and all(r.reason for r in recs.items)
    items = served.shop_a.items
    prices = dict(items.select("item_id", "price").iter_rows())
    cheap = api.recommendations(user, k=5, price_max=60.0)
    assert cheap.items and all(prices[i] <= 60.0 for i in cheap.item_ids if i in prices)
    top = str(items["category"][0]).split(" > ")[0]
    in_top = api.recommendations(user, k=5, category=top)
    categories = dict(items.select("item_id", "category").iter_rows())
    assert in_top.items and all(categories[i].startswith(top) for i in in_top.item_ids)
    excluded = api.recommendations(user, k=8, exclude=[recs.item_ids[0], recs.item_ids[1]])
    assert not {recs.item_ids[0], recs.item_ids[1]} & set(excluded.item_ids)


def test_unknown_user_gets_a_cold_start_list(api: ShopMindClient) -> None:
    recs = api.recommendations("never-seen-user", k=5)
    assert recs.cold_start and len(recs.items) == 5
    assert all(r.reason_kind in ("trending", "new_arrival") for r in recs.items)


def test_session_recommendations_follow_the_session(api: ShopMindClient,
                                                    served: ServedShops) -> None:
    cold = api.session_recommendations([], k=5)
    assert cold.cold_start and cold.user_id is None and len(cold.items) == 5
    item = str(served.shop_a.events.filter(pl.col("type") == "purchase")["item_id"][0])
    warm = api.session_recommendations([{"item_id": item, "type": "view"}], k=5)
    assert not warm.cold_start and warm.item_ids != cold.item_ids


def test_item_routes_and_trending(api: ShopMindClient, served: ServedShops) -> None:
    popular = served.shop_a.events.drop_nulls("item_id").group_by("item_id").len().sort(
        ["len", "item_id"], descending=[True, False])
    item = str(popular["item_id"][0])
    similar = api.similar(item, k=5)
    assert 0 < len(similar.items) <= 5 and item not in similar.item_ids
    together = api.bought_together(item, k=5)
    assert 0 < len(together.items) <= 5 and item not in together.item_ids
    trending = api.trending(k=5)
    assert len(trending.items) == 5
    scores = [s for _, s in trending.items]
    assert scores == sorted(scores, reverse=True)


def test_profile_and_writes(api: ShopMindClient, served: ServedShops) -> None:
    user = _buyer(served)
    profile = api.profile(user)
    assert profile["user_id"] == user and profile["profile"]["n_purchases"] >= 1
    assert "email" not in str(profile) and "phone" not in str(profile)
    assert api.upsert_users([{"user_id": "api-user-1", "attributes": {"tier": "gold"}}]
                            ).accepted == 1
    assert api.post_events([{"user_id": "api-user-1", "item_id": "i000001", "type": "view"},
                            {"user_id": "api-user-1", "type": "search", "query": "跑鞋"}]
                           ).accepted == 2


def test_health_ready_and_metrics(client: TestClient, api: ShopMindClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and set(ready.json()["shops"]) >= {"a", "b"}
    assert ready.json()["worker"] == os.getpid()  # TestClient runs the app in-process
    api.recommendations("metrics-user", k=3)
    text = client.get("/metrics").text
    assert 'shopmind_request_seconds_bucket{le="0.005",method="GET",' \
           'route="/v1/users/{user_id}/recommendations"' in text
    assert 'shopmind_model_info{shop="a"' in text
    assert "shopmind_history_cache_total" in text and "shopmind_events_ingested" in text
    assert "metrics-user" not in text


def test_openapi_lists_every_versioned_route(client: TestClient) -> None:
    paths = set(client.get("/openapi.json").json()["paths"])
    assert {"/v1/events", "/v1/items", "/v1/users", "/v1/users/{user_id}/recommendations",
            "/v1/sessions/recommendations", "/v1/items/{item_id}/similar",
            "/v1/items/{item_id}/bought-together", "/v1/trending",
            "/v1/users/{user_id}/profile", "/v1/models", "/healthz", "/readyz"} <= paths


# ---------------------------------------------------------------------------- 4xx paths


def _error(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["message"] and "Traceback" not in response.text
    return body


def test_missing_bad_and_revoked_keys_are_401(client: TestClient, served: ServedShops) -> None:
    from shopmind.serve.keys import create_key, revoke_key

    _error(client.get("/v1/trending"), 401)
    _error(client.get("/v1/trending", headers=auth("sm_000000000000_nope")), 401)
    _error(client.get("/v1/trending", headers=auth("garbage")), 401)
    token, record = create_key(served.settings.api_keys_path, "a", "read")
    assert client.get("/v1/trending", headers={"X-API-Key": token}).status_code == 200
    revoke_key(served.settings.api_keys_path, record.key_id)
    _error(client.get("/v1/trending", headers=auth(token)), 401)


@pytest.mark.parametrize(("method", "path", "role"), [
    ("POST", "/v1/events", "a-read"), ("POST", "/v1/items", "a-read"),
    ("POST", "/v1/users", "a-read"), ("GET", "/v1/models", "a-write"),
    ("POST", "/v1/models/rollback", "a-write"),
])
def test_roles_are_enforced(client: TestClient, served: ServedShops, method: str, path: str,
                            role: str) -> None:
    response = client.request(method, path, headers=auth(served.keys[role]), json={})
    assert "role" in _error(response, 403)["message"]


def test_invalid_fields_are_named(client: TestClient, served: ServedShops) -> None:
    headers = auth(served.keys["a-write"])
    body = _error(client.post("/v1/events", headers=headers, json={"events": [
        {"user_id": "u1", "item_id": "i1", "type": "teleport"},
        {"user_id": "u1", "type": "view", "ts": "yesterday"},
        {"user_id": "u1", "item_id": "i1", "type": "view", "ts": "1980-01-01T00:00:00Z"}]}),
        422)
    fields = {f["field"] for f in body["fields"]}
    assert {"events.0.type", "events.1.ts", "events.2.ts"} <= fields
    assert "teleport" not in str(body)  # values sent are never echoed
    body = _error(client.post("/v1/events", headers=headers,
                              json={"user_id": "u1", "type": "view"}), 422)
    assert "item_id is required" in body["fields"][0]["message"]
    body = _error(client.post("/v1/items", headers=headers,
                              json={"items": [{"item_id": "x", "price": -3}]}), 422)
    assert body["fields"][0]["field"] == "items.0.price"
    body = _error(client.get("/v1/users/u1/recommendations?k=0", headers=headers), 422)
    assert body["fields"][0]["field"] == "k"
    _error(client.post("/v1/users", headers=headers, json={"users": []}), 422)
    body = _error(client.post("/v1/events", content='{"events": [}',
                              headers={**headers, "Content-Type": "application/json"}), 422)
    assert body["fields"][0]["field"] == "body"
    assert body["fields"][0]["message"].startswith("not valid JSON at character 12")
    body = _error(client.post("/v1/events", headers=headers, json={
        "user_id": "a\u0000b", "item_id": "i1", "type": "view"}), 422)
    assert body["fields"][0]["field"].endswith("user_id")
    assert "NUL character" in body["fields"][0]["message"]
    body = _error(client.post("/v1/events", headers=headers,
                              content='{"user_id": "u1", "item_id": "i1", "type": "view"}'), 422)
    assert "Content-Type: application/json" in body["fields"][0]["message"]
    _error(client.post("/v1/events", headers=headers, content=b"{not json",
                       ), 422)


def test_oversize_bodies_and_batches_are_413(client: TestClient, served: ServedShops) -> None:
    headers = auth(served.keys["a-write"])
    limit = served.settings.serve_max_batch
    events = [{"user_id": "u1", "item_id": "i000001", "type": "view"}] * (limit + 1)
    assert "at most" in _error(client.post("/v1/events", headers=headers,
                                           json={"events": events}), 413)["message"]
    huge = b'{"events": [' + b'{"user_id": "u1", "type": "view"},' * 40_000 + b"]}"
    assert "limit" in _error(client.post("/v1/events", headers=headers, content=huge,
                                         ), 413)["message"]


def test_unknown_item_is_404_and_missing_profile_is_404(client: TestClient,
                                                        served: ServedShops) -> None:
    headers = auth(served.keys["a-read"])
    _error(client.get("/v1/items/no-such-item/similar", headers=headers), 404)
    _error(client.get("/v1/items/no-such-item/bought-together", headers=headers), 404)
    _error(client.get("/v1/users/nobody/profile", headers=headers), 404)
    _error(client.post("/v1/models/19990101T000000000000Z/activate",
                       headers=auth(served.keys["a-admin"])), 404)


def test_rate_limit_answers_429_per_key(served: ServedShops) -> None:
    settings = served.settings.model_copy(update={"serve_rate_limit_rps": 0.5,
                                                  "serve_rate_limit_burst": 3})
    with TestClient(create_app(settings)) as limited:
        statuses = [limited.get("/v1/trending", headers=auth(served.keys["a-read"])).status_code
                    for _ in range(5)]
        assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
        response = limited.get("/v1/trending", headers=auth(served.keys["a-read"]))
        assert int(response.headers["Retry-After"]) >= 1
        # another key has its own bucket
        assert limited.get("/v1/trending",
                           headers=auth(served.keys["a-write"])).status_code == 200


def test_client_raises_api_error_with_fields(api: ShopMindClient) -> None:
    with pytest.raises(ApiError) as caught:
        api.post_events([{"user_id": "u1", "item_id": "i1", "type": "fly"}])
    assert caught.value.status == 422 and caught.value.fields[0]["field"] == "events.0.type"


def test_extra_routers_share_keys_and_errors_leak_nothing(
        served: ServedShops, caplog: pytest.LogCaptureFixture) -> None:
    router = APIRouter(prefix="/v1/search", tags=["search"])

    @router.get("")
    def search(key: ReadKey, q: str) -> dict[str, str]:
        if q == "boom":
            raise RuntimeError("secret-email@example.com failed")
        return {"shop": key.shop_id, "q": q}

    with TestClient(create_app(served.settings, extra_routers=[router])) as extra:
        assert extra.get("/v1/search?q=x").status_code == 401
        ok = extra.get("/v1/search?q=x", headers=auth(served.keys["b-read"]))
        assert ok.status_code == 200 and ok.json() == {"shop": "b", "q": "x"}
        with caplog.at_level("INFO"):
            boom = extra.get("/v1/search?q=boom", headers=auth(served.keys["a-read"]))
        assert _error(boom, 500)["code"] == "internal"
        assert "secret-email" not in boom.text
        logged = caplog.text
        assert "RuntimeError" in logged and "/v1/search" in logged
        assert "secret-email" not in logged and "Traceback" not in logged


def test_an_upsert_keeps_the_fields_it_leaves_out(client: TestClient,
                                                  served: ServedShops) -> None:
    headers = auth(served.keys["a-write"])
    full = {"item_id": "a-partial", "title": "Linen shirt", "brand": "Acme", "price": 30.0,
            "category": "Clothing > Shirts", "stock": 4}
    assert client.post("/v1/items", headers=headers, json=full).status_code == 201
    twice = client.post("/v1/items", headers=headers, json={"items": [
        {"item_id": "a-partial", "stock": 1}, {"item_id": "a-partial", "stock": 0}]})
    assert twice.status_code == 201 and twice.json() == {"accepted": 1, "duplicates": 1}
    assert client.post("/v1/users", headers=headers, json={
        "user_id": "a-optout", "consent_personalization": False}).status_code == 201
    assert client.post("/v1/users", headers=headers, json={
        "user_id": "a-optout", "attributes": {"city": "Beijing"}}).status_code == 201
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.reading() as store:
        item = store.read_table("a", "items", where={"item_id": "a-partial"}).row(0, named=True)
        user = store.read_table("a", "users", where={"user_id": "a-optout"}).row(0, named=True)
    assert (item["title"], item["brand"], item["price"], item["category"], item["stock"]) == (
        "Linen shirt", "Acme", 30.0, "Clothing > Shirts", 0)
    assert user["consent_personalization"] is False and "Beijing" in user["attributes"]
    # a text-only update: tagged, but the stored category and attributes stay
    assert client.post("/v1/items", headers=headers, json={
        "item_id": "a-partial", "attributes": {"size": "M", "tags": ["sale"]}}
        ).status_code == 201
    assert client.post("/v1/items", headers=headers, json={
        "item_id": "a-partial", "description": "Waterproof cotton"}).status_code == 201
    with runtime.reading() as store:
        item = store.read_table("a", "items", where={"item_id": "a-partial"}).row(0, named=True)
    assert item["category"] == "Clothing > Shirts"
    attributes = orjson.loads(item["attributes"])
    assert attributes["size"] == "M" and attributes["tags"][0] == "sale"
    assert {"material:cotton", "feature:waterproof"} <= set(attributes["tags"])


def test_a_user_who_opted_out_gets_no_personal_list_and_no_profile(
        client: TestClient, served: ServedShops) -> None:
    write, read = auth(served.keys["a-write"]), auth(served.keys["a-read"])
    user = served.shop_a.users["user_id"][0]
    stranger = client.get("/v1/users/never-seen-xyz/recommendations", headers=read).json()
    try:
        assert client.post("/v1/users", headers=write, json={
            "user_id": user, "consent_personalization": False}).status_code == 201
        opted_out = client.get(f"/v1/users/{user}/recommendations", headers=read).json()
        assert [i["item_id"] for i in opted_out["items"]] == [
            i["item_id"] for i in stranger["items"]]
        profile = client.get(f"/v1/users/{user}/profile", headers=read)
        assert profile.status_code == 404 and "opted out" in profile.text
    finally:
        client.post("/v1/users", headers=write, json={
            "user_id": user, "consent_personalization": True})


def test_ids_with_a_slash_can_be_read_back(client: TestClient, served: ServedShops) -> None:
    write, read = auth(served.keys["a-write"]), auth(served.keys["a-read"])
    item = served.shop_a.items["item_id"][0]
    assert client.post("/v1/events", headers=write, json={
        "user_id": "slash/user", "item_id": item, "type": "view"}).status_code == 201
    for path in ("/v1/users/slash%2Fuser/recommendations", "/v1/users/slash/user/recommendations"):
        response = client.get(path, headers=read)
        assert response.status_code == 200, (path, response.text)
        assert response.json()["user_id"] == "slash/user"
    assert client.get(f"/v1/items/{item}/similar", headers=read).status_code == 200


def test_an_empty_list_says_why(client: TestClient, served: ServedShops) -> None:
    user = served.shop_a.users["user_id"][0]
    body = client.get(f"/v1/users/{user}/recommendations",
                      params={"category": "No such category"},
                      headers=auth(served.keys["a-read"])).json()
    assert body["items"] == []
    assert body["message"] == ("no item in stock matches the filters "
                               "(category 'No such category')")
