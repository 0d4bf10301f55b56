"""Two small generated shops, trained and published once per session, plus keys and a client.

Shop ``a`` and shop ``b`` are demo shops with disjoint ids (shop b's ids carry a ``b-``
prefix), so a key of one shop touching the other's users or items is detectable.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
import torch
from fastapi.testclient import TestClient

from shopmind.config import Settings, get_settings
from shopmind.data.datasets.demo import DemoShop, generate_demo_shop
from shopmind.data.ingest.engine import ingest_batches
from shopmind.data.store import open_store
from shopmind.features.profiles import compute_and_store_profiles
from shopmind.recommend.pipeline import PipelineConfig
from shopmind.recommend.ranker import RankerConfig
from shopmind.serve import create_app
from shopmind.serve.keys import create_key
from shopmind.serve.retrain import train_and_publish

torch.set_num_threads(1)

TINY_SASREC = {"hidden": 16, "n_blocks": 1, "n_heads": 1, "max_len": 20, "max_epochs": 3,
               "patience": 3, "num_threads": 1, "random_state": 0}


#: A small, single-threaded ranker (threads only fight each other on a shared test machine).
QUICK_RANKER = RankerConfig(n_estimators=60, early_stopping_rounds=10, n_jobs=1)


def serve_config() -> PipelineConfig:
    """A quick pipeline that still has every kind of generator serving relies on."""
    return PipelineConfig(
        generators={"recent": 20, "covisit": 50, "popular": 20, "itemknn": 30, "sasrec": 30},
        generator_params={"sasrec": TINY_SASREC}, label_windows=1, ranker=QUICK_RANKER,
        random_state=0)


def light_config() -> PipelineConfig:
    """The quickest pipeline (shop b only needs to answer, for the tenancy tests)."""
    return PipelineConfig(generators={"recent": 20, "covisit": 50, "popular": 20},
                          label_windows=1, ranker=QUICK_RANKER, random_state=0)


def _prefixed(shop: DemoShop, prefix: str) -> dict[str, pl.DataFrame]:
    tables = {}
    for name in ("items", "users", "events"):
        frame: pl.DataFrame = getattr(shop, name)
        ids = [c for c in ("item_id", "user_id") if c in frame.columns]
        tables[name] = frame.with_columns((pl.lit(prefix) + pl.col(c)).alias(c) for c in ids)
    return tables


@dataclass
class ServedShops:
    settings: Settings
    shop_a: DemoShop
    keys: dict[str, str]  # "a-read", "a-write", "a-admin", "b-read", ...


def load_shop(store_url: str, shop_id: str, tables: dict[str, pl.DataFrame]) -> None:
    """Ingest ``tables`` (items, users, events) into ``shop_id`` and compute profiles."""
    store = open_store(store_url)
    try:
        for name in ("items", "users", "events"):
            ingest_batches(store, shop_id=shop_id, table=name, batches=[tables[name]],
                           source=f"test:{name}")
        compute_and_store_profiles(store, shop_id)
    finally:
        store.close()


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> ServedShops:
    root = tmp_path_factory.mktemp("serve")
    settings = Settings(data_dir=root / "data", datasets_dir=get_settings().datasets_dir,
                        serve_model_poll_s=0.2, serve_rate_limit_rps=10_000,
                        serve_rate_limit_burst=10_000, serve_max_batch=500)
    shop_a = generate_demo_shop(n_items=300, n_users=400, days=30, seed=5)
    shop_b = generate_demo_shop(n_items=300, n_users=300, days=30, seed=6)
    for shop_id, tables, config in (("a", _prefixed(shop_a, ""), serve_config()),
                                    ("b", _prefixed(shop_b, "b-"), light_config())):
        load_shop(settings.resolved_store_url, shop_id, tables)
        store = open_store(settings.resolved_store_url)
        try:
            train_and_publish(store, settings.data_dir, shop_id, config)
        finally:
            store.close()
    keys = {f"{shop}-{role}": create_key(settings.api_keys_path, shop, role)[0]
            for shop in ("a", "b") for role in ("read", "write", "admin")}
    return ServedShops(settings, shop_a, keys)


@pytest.fixture(scope="session")
def client(served: ServedShops) -> Iterator[TestClient]:
    with TestClient(create_app(served.settings)) as test_client:
        yield test_client


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def data_dir(served: ServedShops) -> Path:
    return served.settings.data_dir
