"""An event answered 2xx is never lost: SIGKILL the server mid-stream, restart, count."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
from tests.serve.server import Server, free_port, running_server

from shopmind.data.store import open_store
from shopmind.serve.keys import create_key

STREAMS = 4
BATCH = 20


def _stream(url: str, key: str, stream: int, acked: list[str], stop: threading.Event) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=5) as http:
        batch_no = 0
        while not stop.is_set():
            ids = [f"s{stream}-b{batch_no}-e{i}" for i in range(BATCH)]
            body = {"events": [{"user_id": f"dur-{stream}", "item_id": f"i{i % 50}",
                                "type": "view", "event_id": eid}
                               for i, eid in enumerate(ids)]}
            try:
                response = http.post("/v1/events", json=body)
            except httpx.HTTPError:
                return  # the server died: this batch was never acknowledged
            if response.status_code == 201:
                acked.extend(ids)
            batch_no += 1


def _stored_ids(data_dir: Path) -> list[str]:
    store = open_store(f"sqlite:///{data_dir / 'shopmind.db'}")
    try:
        return store.read_table("a", "events", columns=["event_id"])["event_id"].to_list()
    finally:
        store.close()


def test_sigkill_while_streaming_loses_no_acknowledged_event(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key, _ = create_key(data_dir / "api_keys.json", "a", "write")
    port = free_port()
    server = Server(data_dir, port, {})
    server.wait_ready()
    acked: list[str] = []
    stop = threading.Event()
    threads = [threading.Thread(target=_stream, args=(server.url, key, s, acked, stop))
               for s in range(STREAMS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(acked) < 400 and time.monotonic() < deadline:  # well into the stream
        threads[0].join(0.05)
    server.kill()
    stop.set()
    for thread in threads:
        thread.join(10)
    assert len(acked) >= 400
    stored = _stored_ids(data_dir)
    assert set(acked) <= set(stored)  # nothing acknowledged is missing …
    assert len(stored) == len(set(stored))  # … and nothing is there twice
    # after a restart, clients retrying what they sent are not stored again
    with running_server(data_dir, port=port) as restarted:
        headers = {"Authorization": f"Bearer {key}"}
        retry = [{"user_id": "dur-0", "item_id": "i1", "type": "view", "event_id": eid}
                 for eid in acked[:BATCH * 2]]
        response = httpx.post(restarted.url + "/v1/events", json={"events": retry},
                              headers=headers, timeout=10)
        assert response.status_code == 201 and response.json()["accepted"] == 0
    again = _stored_ids(data_dir)
    assert len(again) == len(set(again)) == len(set(stored))
