"""``shopmind profiles`` (compute, in batch) and ``shopmind profile USER_ID`` (print one)."""

from __future__ import annotations

from typing import Annotated

import typer

from shopmind.cli.common import console, settings_store
from shopmind.config import get_settings
from shopmind.errors import NotFoundError


def profiles(
    shop: Annotated[str | None, typer.Option("--shop", help="Shop (tenant) id.")] = None,
    half_life_days: Annotated[
        float, typer.Option(min=0.1, help="Half-life of the time decay on affinities.")
    ] = 30.0,
    tz: Annotated[
        str, typer.Option("--tz", help="The shop's time zone, for active hours and weekdays.")
    ] = "UTC",
) -> None:
    """Compute and store every user's profile for a shop."""
    from shopmind.features.profiles import compute_and_store_profiles

    shop_id = shop or get_settings().default_shop
    with settings_store() as store, console.status("computing profiles…"):
        n = compute_and_store_profiles(
            store, shop_id, half_life_days=half_life_days, tz=tz)
    console.print(f"Stored {n:,} profiles for shop '{shop_id}'.")


def profile(
    user_id: Annotated[str, typer.Argument(help="The user's id in the shop.")],
    shop: Annotated[str | None, typer.Option("--shop", help="Shop (tenant) id.")] = None,
) -> None:
    """Print one user's stored profile (run `shopmind profiles` first)."""
    from shopmind.cli.profile_view import format_profile
    from shopmind.features.profiles import profile_from_storage

    shop_id = shop or get_settings().default_shop
    with settings_store() as store:
        rows = store.read_table(shop_id, "profiles", where={"user_id": user_id})
        if rows.is_empty():
            known = store.count(shop_id, "profiles")
            hint = ("run `shopmind profiles` first" if known == 0
                    else f"the shop has {known:,} profiles; check the id")
            raise NotFoundError(f"no profile for user '{user_id}' in shop '{shop_id}': {hint}")
    row = rows.row(0, named=True)
    console.print(format_profile(profile_from_storage(row)))
