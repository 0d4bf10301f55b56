"""``shopmind keys create/revoke/list``: API keys for the HTTP API (stored hashed)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from shopmind.cli.common import console
from shopmind.config import get_settings

keys_app = typer.Typer(help="Create, revoke and list API keys (one shop and one role each).",
                       no_args_is_help=True)


@keys_app.command("create")
def create(
    shop: Annotated[str | None, typer.Option("--shop", help="Shop (tenant) the key may use.")
                    ] = None,
    role: Annotated[str, typer.Option(help="read, write (also reads) or admin (everything).")
                    ] = "read",
    name: Annotated[str, typer.Option(help="A note saying who uses the key.")] = "",
) -> None:
    """Create a key and print it once (only its hash is kept)."""
    from shopmind.serve.keys import create_key

    settings = get_settings()
    token, record = create_key(settings.api_keys_path, shop or settings.default_shop, role,
                               name)
    console.print(f"Created {record.role} key {record.key_id} for shop "
                  f"'{escape(record.shop_id)}'. Store it now; it is not shown again:")
    typer.echo(token)


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key id (the part after sm_).")]
           ) -> None:
    """Revoke a key; serving processes refuse it from their next request."""
    from shopmind.serve.keys import revoke_key

    record = revoke_key(get_settings().api_keys_path, key_id)
    console.print(f"Revoked key {record.key_id} of shop '{escape(record.shop_id)}'.")


@keys_app.command("list")
def list_(shop: Annotated[str | None, typer.Option("--shop", help="Only this shop's keys.")
                          ] = None) -> None:
    """List keys (ids, shops, roles; never the keys themselves)."""
    from shopmind.serve.keys import list_keys

    table = Table(title="API keys")
    for column in ("key id", "shop", "role", "name", "created", "revoked"):
        table.add_column(column)
    for key in list_keys(get_settings().api_keys_path):
        if shop is None or key.shop_id == shop:
            table.add_row(key.key_id, escape(key.shop_id), key.role, escape(key.name),
                          key.created_at, key.revoked_at or "")
    console.print(table)
