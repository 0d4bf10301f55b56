"""The last step of ``shopmind demo``: serve the demo shop and show how to call the API."""

from __future__ import annotations

import shlex
import socket

import polars as pl
from rich.markup import escape

from shopmind.cli.common import console
from shopmind.config import get_settings
from shopmind.data.store import Store


def free_port(host: str, preferred: int) -> int:
    """``preferred`` if nothing listens there, else a free port the OS picks."""
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise OSError(f"no free TCP port on {host}")


def curl_examples(base: str, key: str, user_id: str, item_id: str) -> list[str]:
    """Three commands that work against the demo shop: recommend, post an event, similar."""
    auth = shlex.quote(f"Authorization: Bearer {key}")
    event = shlex.quote(f'{{"user_id": "{user_id}", "item_id": "{item_id}", "type": "view"}}')
    return [
        f"curl -s -H {auth} '{base}/v1/users/{user_id}/recommendations?k=5'",
        f"curl -s -X POST -H {auth} -H 'Content-Type: application/json' -d {event} "
        f"{base}/v1/events",
        f"curl -s -H {auth} '{base}/v1/items/{item_id}/similar?k=5'",
    ]


def example_ids(store: Store, shop_id: str) -> tuple[str, str]:
    """A fairly active user and a purchased item of the shop, for the examples."""
    events = store.read_table(shop_id, "events", columns=["user_id", "item_id", "type"])
    active = events.filter(pl.col("item_id").is_not_null()).group_by("user_id").len().sort(
        ["len", "user_id"], descending=[True, False])
    user_id = str(active["user_id"][min(10, active.height - 1)])
    item_id = str(events.filter(pl.col("type") == "purchase")["item_id"].drop_nulls()[0])
    return user_id, item_id


def demo_serve(shop_id: str, user_id: str, item_id: str, *, host: str = "127.0.0.1",
               port: int = 8000) -> None:
    """Create a key for the demo shop, print the docs URL and curl examples, serve."""
    from shopmind.cli.serve import run_server
    from shopmind.serve.keys import create_key

    settings = get_settings()
    key, _ = create_key(settings.api_keys_path, shop_id, "write", name="demo")
    port = free_port(host, port)
    base = f"http://{host}:{port}"
    console.rule("[bold]Serving the demo shop")
    console.print(f"OpenAPI docs: [bold]{base}/docs[/]   (Ctrl-C stops the server)")
    console.print(f"API key for shop '{escape(shop_id)}' (role write): {key}", soft_wrap=True)
    for command in curl_examples(base, key, user_id, item_id):
        console.print(escape(command), soft_wrap=True)
    run_server(settings, host=host, port=port)
    console.print("Server stopped.")
