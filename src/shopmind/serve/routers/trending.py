"""``GET /v1/trending``: what the shop's shoppers turn to now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from shopmind.serve.deps import ModelDep
from shopmind.serve.lists import request_rules
from shopmind.serve.schemas import ItemListOut, ItemScoreOut

router = APIRouter(prefix="/v1/trending", tags=["trending"])


@router.get("", response_model=ItemListOut)
def trending(model: ModelDep, k: Annotated[int, Query(ge=1, le=200)] = 10,
             category: Annotated[str | None, Query(max_length=1_000)] = None,
             price_max: Annotated[float | None, Query(ge=0)] = None) -> ItemListOut:
    """Items with the most recent interaction mass (one-week half-life), filtered."""
    found = model.trending(k, request_rules(category, price_max, ()))
    return ItemListOut(model_version=model.version,
                       items=[ItemScoreOut(item_id=s.item_id, score=s.score) for s in found])
