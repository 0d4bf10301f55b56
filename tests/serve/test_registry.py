"""Model registry: versions with metadata, hot swap under load with zero errors, rollback."""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from tests.serve.conftest import ServedShops, auth, light_config
from tests.serve.server import running_server

from shopmind.data.store import open_store
from shopmind.recommend.artifacts import models_dir, new_version_dir, publish
from shopmind.serve.retrain import Retrainer, parse_interval, train_and_publish


def _wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.05)


def test_retrain_publishes_a_version_the_server_swaps_to_and_can_roll_back(
        client: TestClient, served: ServedShops) -> None:
    headers = auth(served.keys["b-admin"])
    before = client.get("/v1/models", headers=headers).json()
    store = open_store(served.settings.resolved_store_url)
    try:
        folder = train_and_publish(store, served.settings.data_dir, "b", light_config())
    finally:
        store.close()
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    _wait_for(lambda: runtime.registry.get("b").version == folder.name)
    versions = client.get("/v1/models", headers=headers).json()
    assert len(versions) == len(before) + 1 and versions[-1]["active"]
    assert versions[-1]["watermark_us"] > 0 and "candidate_recall" in versions[-1]["metrics"]
    rolled = client.post("/v1/models/rollback", headers=headers)
    assert rolled.status_code == 200 and rolled.json()["version"] == versions[-2]["version"]
    recs = client.get("/v1/users/b-u000001/recommendations", headers=headers).json()
    assert recs["model_version"] == versions[-2]["version"]
    again = client.post(f"/v1/models/{folder.name}/activate", headers=headers)
    assert again.status_code == 200 and again.json()["active"]
    assert runtime.registry.get("b").version == folder.name
    assert 'shopmind_model_info{shop="b",version="' + folder.name in \
        client.get("/metrics").text


def _isolated_copy(served: ServedShops, tmp_path: Path) -> tuple[Path, str]:
    """A data dir with shop a's published model and the keys, but its own store."""
    data_dir = tmp_path / "data"
    source = models_dir(served.settings.data_dir, "a")
    active = (source / "LATEST").read_text().strip()
    target = models_dir(data_dir, "a")
    shutil.copytree(source / active, target / active)
    publish(target / active)
    shutil.copy(served.settings.api_keys_path, data_dir / "api_keys.json")
    return data_dir, active


def _load(url: str, key: str, stop: threading.Event, statuses: Counter[int],
          versions: Counter[str]) -> None:
    with httpx.Client(base_url=url, headers=auth(key), timeout=10) as http:
        n = 0
        while not stop.is_set():
            try:
                response = http.get(f"/v1/users/u{n % 300:06d}/recommendations?k=10")
            except httpx.HTTPError:
                statuses[-1] += 1
                continue
            statuses[response.status_code] += 1
            if response.status_code == 200:
                versions[response.json()["model_version"]] += 1
            n += 1


def test_hot_swap_under_load_drops_no_request(served: ServedShops, tmp_path: Path) -> None:
    data_dir, old = _isolated_copy(served, tmp_path)
    new = new_version_dir(data_dir, "a").name  # a later version, as a retrain would make
    with running_server(data_dir) as server:
        stop = threading.Event()
        statuses: Counter[int] = Counter()
        versions: Counter[str] = Counter()
        threads = [threading.Thread(target=_load, args=(server.url, served.keys["a-read"], stop,
                                                        statuses, versions))
                   for _ in range(4)]
        for thread in threads:
            thread.start()
        _wait_for(lambda: sum(statuses.values()) > 30)
        shutil.copytree(models_dir(data_dir, "a") / old, models_dir(data_dir, "a") / new)
        publish(models_dir(data_dir, "a") / new)
        _wait_for(lambda: versions[new] > 30)
        admin = auth(served.keys["a-admin"])
        rolled = httpx.post(server.url + "/v1/models/rollback", headers=admin, timeout=30)
        assert rolled.status_code == 200 and rolled.json()["version"] == old
        seen_old = versions[old]
        _wait_for(lambda: versions[old] > seen_old + 30)
        stop.set()
        for thread in threads:
            thread.join(10)
    assert set(statuses) == {200}, statuses  # zero errors across two swaps
    assert versions[old] > 30 and versions[new] > 30


def test_scheduled_retraining_keeps_the_shop_config_and_is_swapped_in(
        client: TestClient, served: ServedShops) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    before = runtime.registry.get("b")
    url = served.settings.resolved_store_url
    retrainer = Retrainer(lambda: open_store(url), served.settings.data_dir, ["b"],
                          every_s=0.2).start()
    try:
        _wait_for(lambda: retrainer.runs >= 1, timeout=60)
    finally:
        retrainer.stop()
    _wait_for(lambda: runtime.registry.get("b").version != before.version)
    after = runtime.registry.get("b")
    assert after.pipeline.config.generators == before.pipeline.config.generators
    recs = client.get("/v1/users/b-u000001/recommendations", headers=auth(served.keys["b-read"]))
    assert recs.status_code == 200 and recs.json()["model_version"] == after.version


def test_retrain_interval_parsing() -> None:
    assert parse_interval("1h") == 3600 and parse_interval("30m") == 1800
    assert parse_interval("2d") == 172_800 and parse_interval("45s") == 45
    for bad in ("", "1w", "-1h", "0m", "soon"):
        try:
            parse_interval(bad)
        except Exception as exc:
            assert "--retrain-every" in str(exc)
        else:
            raise AssertionError(f"{bad!r} was accepted")


def test_a_broken_version_keeps_the_old_one_serving(client: TestClient,
                                                    served: ServedShops) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    good = runtime.registry.get("b").version
    broken = new_version_dir(served.settings.data_dir, "b")
    broken.mkdir(parents=True)
    (broken / "pipeline.json").write_text("{not json")
    publish(broken)
    try:
        time.sleep(4 * served.settings.serve_model_poll_s)
        assert runtime.registry.get("b").version == good
        recs = client.get("/v1/users/b-u000001/recommendations",
                          headers=auth(served.keys["b-read"]))
        assert recs.status_code == 200 and recs.json()["model_version"] == good
        publish(models_dir(served.settings.data_dir, "b") / good)
        answer = client.post(f"/v1/models/{broken.name}/activate",
                             headers=auth(served.keys["b-admin"]))
        assert answer.status_code == 400 and "could not be loaded" in answer.text
        pointer = (models_dir(served.settings.data_dir, "b") / "LATEST").read_text().strip()
        assert pointer == good and runtime.registry.get("b").version == good
    finally:
        publish(models_dir(served.settings.data_dir, "b") / good)
        shutil.rmtree(broken)
