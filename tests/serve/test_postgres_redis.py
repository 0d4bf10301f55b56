"""The production setup for real: entities and events in PostgreSQL, sessions in Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient
from tests.serve.conftest import light_config, load_shop

from shopmind.client import ShopMindClient
from shopmind.config import Settings
from shopmind.data.datasets.demo import generate_demo_shop
from shopmind.data.store import open_store
from shopmind.data.store.redis_state import RedisRealtimeState
from shopmind.serve import create_app
from shopmind.serve.keys import create_key
from shopmind.serve.retrain import train_and_publish

POSTGRES_URL = os.environ.get("SHOPMIND_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SHOPMIND_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, str]]:
    schema = f"shopmind_serve_{uuid.uuid4().hex[:10]}"
    prefix = f"shopmind-test-{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5)
        redis.Redis.from_url(REDIS_URL).ping()
    except (psycopg.Error, redis.RedisError) as exc:
        pytest.fail(f"PostgreSQL/Redis not reachable ({exc}); these tests must not be skipped",
                    pytrace=False)
    settings = Settings(data_dir=tmp_path_factory.mktemp("prod") / "data",
                        store_url=f"{POSTGRES_URL}?schema={schema}", realtime_url=REDIS_URL,
                        serve_rate_limit_rps=10_000, serve_rate_limit_burst=10_000)
    shop = generate_demo_shop(n_items=300, n_users=200, days=21, seed=11)
    tables = {"items": shop.items, "users": shop.users, "events": shop.events}
    load_shop(settings.resolved_store_url, "pg", tables)
    store = open_store(settings.resolved_store_url)
    try:
        train_and_publish(store, settings.data_dir, "pg", light_config())
    finally:
        store.close()
    try:
        yield settings, prefix
    finally:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()
        RedisRealtimeState(REDIS_URL, prefix=prefix).clear_shop("pg")


def _app(settings: Settings, prefix: str) -> TestClient:
    return TestClient(create_app(settings, realtime=RedisRealtimeState(REDIS_URL,
                                                                        prefix=prefix)))


def test_events_land_in_postgres_and_sessions_in_redis(production: tuple[Settings, str],
                                                       tmp_path: Path) -> None:
    settings, prefix = production
    key, _ = create_key(settings.api_keys_path, "pg", "write")
    other, _ = create_key(settings.api_keys_path, "other-shop", "write")
    with _app(settings, prefix) as http:
        api = ShopMindClient(api_key=key, http=http)
        assert http.get("/readyz").json()["shops"] == ["pg"]
        before = api.recommendations("pg-new-user", k=5)
        assert before.cold_start
        done = api.post_events([{"user_id": "pg-new-user", "item_id": "i000007",
                                 "type": "view", "event_id": "pg-evt-1"}])
        assert done.accepted == 1
        after = api.recommendations("pg-new-user", k=5)
        assert not after.cold_start and after.item_ids != before.item_ids
        assert http.post("/v1/events", headers={"Authorization": f"Bearer {other}"}, json={
            "user_id": "pg-new-user", "item_id": "i000007", "type": "view"}).status_code == 201
    raw = redis.Redis.from_url(REDIS_URL)
    assert raw.llen(f"{prefix}:pg:session:pg-new-user") == 1
    store = open_store(settings.resolved_store_url)
    try:
        stored = store.read_table("pg", "events", where={"user_id": "pg-new-user"})
        assert stored["event_id"].to_list() == ["pg-evt-1"]
        assert store.read_table("other-shop", "events", where={"user_id": "pg-new-user"}
                                ).height == 1
    finally:
        store.close()
    # a second process (here: a second app) sees the session at once, through Redis
    with _app(settings, prefix) as http:
        api = ShopMindClient(api_key=key, http=http)
        again = api.recommendations("pg-new-user", k=5)
        assert not again.cold_start and again.item_ids == after.item_ids
        repeat = api.post_events([{"user_id": "pg-new-user", "item_id": "i000007",
                                   "type": "view", "event_id": "pg-evt-1"}])
        assert (repeat.accepted, repeat.duplicates) == (0, 1)
