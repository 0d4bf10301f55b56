"""``/v1/users``: user upserts, a user's recommendations and profile."""

from __future__ import annotations

from typing import Annotated

import orjson
import polars as pl
from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool

from shopmind.serve.deps import ModelDep, ReadKey, RuntimeDep, WriteKey
from shopmind.serve.history import session_history
from shopmind.serve.http import ApiError, check_batch_size
from shopmind.serve.lists import recommendation_list, request_rules
from shopmind.serve.schemas import Accepted, ErrorOut, ProfileOut, RecommendationsOut, UsersIn

router = APIRouter(prefix="/v1/users", tags=["users"])
UserId = Annotated[str, Path(min_length=1, max_length=256)]


@router.post("", response_model=Accepted, status_code=201,
             responses={413: {"model": ErrorOut}, 422: {"model": ErrorOut}})
async def upsert_users(body: UsersIn, key: WriteKey, runtime: RuntimeDep) -> Accepted:
    """Insert or update users (behaviour-side attributes and consent; no personal data)."""
    check_batch_size(len(body.users), runtime.settings.serve_max_batch, "users")
    # a field left out is null, so an update keeps its stored value (consent included)
    rows = [user.model_dump(exclude_unset=True) for user in body.users]
    for row in rows:
        if "attributes" in row:
            row["attributes"] = orjson.dumps(row["attributes"]).decode()
    frame = pl.DataFrame(rows, schema={
        "user_id": pl.String, "attributes": pl.String, "consent_personalization": pl.Boolean,
        "consent_marketing": pl.Boolean, "created_at": pl.Datetime("us", "UTC")})
    await runtime.store_rows(key.shop_id, "users", frame)
    runtime.opt_outs.invalidate(key.shop_id)  # a withdrawal applies at once
    unique = len({row.user_id for row in body.users})
    return Accepted(accepted=unique, duplicates=len(body.users) - unique)


@router.get("/{user_id:path}/recommendations", response_model=RecommendationsOut)
async def user_recommendations(
    user_id: UserId, model: ModelDep, runtime: RuntimeDep,
    k: Annotated[int, Query(ge=1, le=200)] = 10,
    category: Annotated[str | None, Query(max_length=1_000)] = None,
    price_max: Annotated[float | None, Query(ge=0)] = None,
    exclude: Annotated[list[str], Query(max_length=1_000)] = [],  # noqa: B006 - FastAPI copies
) -> RecommendationsOut:
    """The user's list with a reason per item; it reflects events posted a moment ago.

    A user the shop has never seen gets a cold-start list (trending in the filters), and
    so does a user who opted out of personalization (``consent_personalization`` false).
    """
    if await run_in_threadpool(runtime.personalization_allowed, model.shop_id, user_id):
        history = await run_in_threadpool(runtime.history, model, user_id)
    else:  # opted out: the list anyone without a history gets, nothing from their events
        history = session_history([], model.item_index, None)
    rules = request_rules(category, price_max, exclude)
    return await recommendation_list(runtime, model, history, user_id, k, rules)


@router.get("/{user_id:path}/profile", response_model=ProfileOut,
            responses={404: {"model": ErrorOut}})
def profile(user_id: UserId, key: ReadKey, runtime: RuntimeDep) -> ProfileOut:
    """The user's stored profile (RFM, affinities, lifecycle, tags; no personal data)."""
    from shopmind.features.profiles import profile_from_storage

    if not runtime.personalization_allowed(key.shop_id, user_id):
        raise ApiError(404, f"user '{user_id}' opted out of personalization: no profile is "
                            "shown or computed")
    with runtime.reading() as store:
        rows = store.read_table(key.shop_id, "profiles", where={"user_id": user_id})
    if rows.is_empty():
        raise ApiError(404, f"no profile for user '{user_id}' in this shop (profiles are "
                            "computed by `shopmind profiles`)")
    data = profile_from_storage(rows.row(0, named=True))
    computed = data.pop("computed_at")
    return ProfileOut(user_id=user_id, computed_at=computed,
                      profile=orjson.loads(orjson.dumps(data, default=str)))
