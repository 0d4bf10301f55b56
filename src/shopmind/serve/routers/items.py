"""``/v1/items``: catalog upserts, similar items and items bought together."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import orjson
import polars as pl
from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool

from shopmind.serve.deps import ModelDep, RuntimeDep, WriteKey
from shopmind.serve.fresh import FreshItem, item_text
from shopmind.serve.http import ApiError, check_batch_size
from shopmind.serve.lists import request_rules
from shopmind.serve.schemas import Accepted, ErrorOut, ItemListOut, ItemScoreOut, ItemsIn

router = APIRouter(prefix="/v1/items", tags=["items"])
ItemId = Annotated[str, Path(min_length=1, max_length=256)]
K = Annotated[int, Query(ge=1, le=200)]


def items_frame(body: ItemsIn) -> pl.DataFrame:
    """The items as stored rows; a field left out is null, so an update keeps its value."""
    rows = [item.model_dump(exclude_unset=True) for item in body.items]
    for row in rows:
        if "attributes" in row:
            row["attributes"] = orjson.dumps(row["attributes"]).decode()
    return pl.DataFrame(rows, schema={
        "item_id": pl.String, "title": pl.String, "description": pl.String,
        "category": pl.String, "brand": pl.String, "price": pl.Float64, "currency": pl.String,
        "stock": pl.Int64, "attributes": pl.String, "created_at": pl.Datetime("us", "UTC")})


@router.post("", response_model=Accepted, status_code=201,
             responses={413: {"model": ErrorOut}, 422: {"model": ErrorOut}})
async def upsert_items(body: ItemsIn, key: WriteKey, runtime: RuntimeDep) -> Accepted:
    """Insert or update catalog items. A new item is recommendable at once (by its text).

    Items are auto-tagged before they are stored: tags from their title and description
    in ``attributes["tags"]``, and, for an item without a category, the category the
    shop's classifier predicts (with ``attributes["category_confidence"]``).
    """
    check_batch_size(len(body.items), runtime.settings.serve_max_batch, "items")
    frame = await run_in_threadpool(runtime.tagger.tag, key.shop_id, items_frame(body))
    await runtime.store_rows(key.shop_id, "items", frame)
    model = runtime.registry.get(key.shop_id)
    if model is not None:
        model.update_known_items(frame)
        new = [FreshItem(i["item_id"], i["title"], i["category"], i["price"], i["stock"],
                         item_text(i["title"], i["brand"], i["category"], i["description"]))
               for i in frame.iter_rows(named=True) if i["item_id"] not in model.item_index]
        await run_in_threadpool(model.fresh.add, new)  # embedding may take a while
    unique = len({row.item_id for row in body.items})
    return Accepted(accepted=unique, duplicates=len(body.items) - unique)


def _item_list(model: ModelDep, item_id: str, neighbours: Callable[..., Any], k: int
               ) -> ItemListOut:
    """``neighbours(item_id, k, rules)`` of a known item as the answer (404 if unknown)."""
    if not model.knows_item(item_id):
        raise ApiError(404, f"item '{item_id}' is not in this shop's catalog")
    found = neighbours(item_id, k, request_rules(None, None, ()))
    return ItemListOut(item_id=item_id, model_version=model.version,
                       items=[ItemScoreOut(item_id=s.item_id, score=s.score) for s in found])


@router.get("/{item_id:path}/similar", response_model=ItemListOut,
            responses={404: {"model": ErrorOut}})
def similar(item_id: ItemId, model: ModelDep, k: K = 10) -> ItemListOut:
    """Items most like this one (item kNN on behaviour; text for items new since training)."""
    return _item_list(model, item_id, model.similar, k)


@router.get("/{item_id:path}/bought-together", response_model=ItemListOut,
            responses={404: {"model": ErrorOut}})
def bought_together(item_id: ItemId, model: ModelDep, k: K = 10) -> ItemListOut:
    """Items shoppers interact with in the same sessions as this one (co-visitation)."""
    return _item_list(model, item_id, model.bought_together, k)
