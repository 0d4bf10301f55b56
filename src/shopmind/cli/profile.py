"""``shopmind profiles`` (compute, in batch) and ``shopmind profile USER_ID`` (print one)."""

from __future__ import annotations

from typing import Annotated

import typer

from shopmind.cli.common import ShopOption, console, other_shops_hint, settings_store
from shopmind.config import get_settings
from shopmind.data.store import Store
from shopmind.errors import InputError, NotFoundError


def profiles(
    shop: ShopOption = None,
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
        if store.count(shop_id, "events") == 0 and store.count(shop_id, "orders") == 0:
            raise InputError(f"shop '{shop_id}' has no events or orders to build profiles "
                             f"from{other_shops_hint(store, shop_id)}")
        n = compute_and_store_profiles(
            store, shop_id, half_life_days=half_life_days, tz=tz)
    console.print(f"Stored {n:,} profiles for shop '{shop_id}'.")


def profile(
    user_id: Annotated[str, typer.Argument(help="The user's id in the shop.")],
    shop: ShopOption = None,
) -> None:
    """Print one user's stored profile (run `shopmind profiles` first)."""
    from shopmind.cli.profile_view import format_profile
    from shopmind.features.profiles import profile_from_storage

    shop_id = shop or get_settings().default_shop
    with settings_store() as store:
        rows = store.read_table(shop_id, "profiles", where={"user_id": user_id})
        if rows.is_empty():
            raise NotFoundError(f"no profile for user '{user_id}' in shop '{shop_id}': "
                                f"{_why_no_profile(store, shop_id, user_id)}")
    row = rows.row(0, named=True)
    console.print(format_profile(profile_from_storage(row)))


def _why_no_profile(store: Store, shop_id: str, user_id: str) -> str:
    """The likeliest reason a user has no stored profile, with what to do."""
    if store.count(shop_id, "profiles") == 0:
        if store.count(shop_id, "events") == 0:
            return "the shop has no data" + (other_shops_hint(store, shop_id) or
                                             "; ingest some first")
        return f"run `shopmind profiles --shop {shop_id}` first"
    users = store.read_table(shop_id, "users", where={"user_id": user_id},
                             columns=["consent_personalization"])
    if users.height and users["consent_personalization"][0] is False:
        return "the user opted out of personalization"
    if users.height or store.read_table(shop_id, "events", where={"user_id": user_id},
                                        columns=["user_id"]).height:
        return ("the user has no events in the profile window, or joined after the last "
                f"`shopmind profiles --shop {shop_id}`")
    return "no such user in this shop; check the id"
