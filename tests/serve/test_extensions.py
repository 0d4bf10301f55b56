"""Search and review routes mounted on the serving app: scoped to the API key's shop."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.serve.conftest import ServedShops, auth

from shopmind.serve.app import create_full_app


@pytest.fixture(scope="module")
def full(served: ServedShops) -> Iterator[TestClient]:
    settings = served.settings.model_copy(update={"search_embedding_backend": "hashing"})
    with TestClient(create_full_app(settings)) as test_client:
        yield test_client


def _first_title_word(served: ServedShops) -> tuple[str, str]:
    item = served.shop_a.items.row(0, named=True)
    return item["item_id"], item["title"]


def test_search_answers_from_the_keys_own_shop_only(full: TestClient,
                                                    served: ServedShops) -> None:
    item_id, title = _first_title_word(served)
    mine = full.get("/v1/search", params={"q": title}, headers=auth(served.keys["a-read"]))
    assert mine.status_code == 200, mine.text
    assert item_id in [hit["item_id"] for hit in mine.json()["results"]]
    theirs = full.get("/v1/search", params={"q": title}, headers=auth(served.keys["b-read"]))
    assert theirs.status_code == 200
    assert all(hit["item_id"].startswith("b-") for hit in theirs.json()["results"])


def test_search_routes_need_a_key_and_refuse_another_shop(full: TestClient,
                                                          served: ServedShops) -> None:
    for path in ("/v1/search", "/v1/search/suggest", "/v1/alerts"):
        assert full.get(path, params={"q": "a"}).status_code == 401
        named = full.get(path, params={"q": "a", "shop": "b"},
                         headers=auth(served.keys["a-read"]))
        assert named.status_code == 403
    body = {"text": "很好"}
    assert full.post("/v1/text/sentiment", json=body).status_code == 401
    assert full.post("/v1/text/sentiment", json=body, params={"shop": "b"},
                     headers=auth(served.keys["a-read"])).status_code == 403


def test_a_users_search_is_stored_as_a_search_event(full: TestClient,
                                                    served: ServedShops) -> None:
    user = served.shop_a.users["user_id"][0]
    response = full.get("/v1/search", params={"q": "unusual-query-xyz", "user_id": user},
                        headers=auth(served.keys["a-read"]))
    assert response.status_code == 200
    from shopmind.data.store import open_store

    store = open_store(served.settings.resolved_store_url)
    try:
        events = store.read_table("a", "events", where={"user_id": user, "type": "search"})
    finally:
        store.close()
    assert "unusual-query-xyz" in events["query"].to_list()


def test_an_unknown_users_search_writes_nothing(full: TestClient, served: ServedShops
                                                ) -> None:
    # a read key may search; it must not create a placeholder user by naming a new one
    response = full.get("/v1/search", params={"q": "dress", "user_id": "nobody-xyz"},
                        headers=auth(served.keys["a-read"]))
    assert response.status_code == 200
    from shopmind.data.store import open_store

    store = open_store(served.settings.resolved_store_url)
    try:
        users = store.read_table("a", "users", where={"user_id": "nobody-xyz"})
        events = store.read_table("a", "events", where={"user_id": "nobody-xyz"})
    finally:
        store.close()
    assert users.is_empty() and events.is_empty()


def test_sentiment_without_a_trained_model_is_a_clear_503(full: TestClient,
                                                         served: ServedShops) -> None:
    response = full.post("/v1/text/sentiment", json={"text": "质量很好"},
                         headers=auth(served.keys["a-read"]))
    assert response.status_code == 503
    assert "reviews train" in response.text


def test_not_ready_while_search_indexes_build(served: ServedShops) -> None:
    import threading

    from shopmind.serve import extensions

    gate = threading.Event()
    original = extensions.ShopSearch.engine

    def slow_engine(self: extensions.ShopSearch, shop_id: str) -> object:
        gate.wait(10)
        return original(self, shop_id)

    settings = served.settings.model_copy(update={"search_embedding_backend": "hashing"})
    extensions.ShopSearch.engine = slow_engine  # type: ignore[method-assign]
    try:
        with TestClient(create_full_app(settings)) as client:
            waiting = client.get("/readyz")
            assert waiting.status_code == 503 and "search" in waiting.text
            gate.set()
            for _ in range(100):
                if client.get("/readyz").status_code == 200:
                    break
                threading.Event().wait(0.1)
            assert client.get("/readyz").status_code == 200
    finally:
        extensions.ShopSearch.engine = original  # type: ignore[method-assign]
        gate.set()
