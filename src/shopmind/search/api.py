"""HTTP surface of product search: a FastAPI ``APIRouter`` factory.

``GET /v1/search?q=&user_id=&brand=&category=&min_price=&max_price=&in_stock=&k=``
returns results (each with the reason for its place), facets, the filters understood,
"did you mean" and any relaxed constraints; ``GET /v1/search/suggest?q=`` returns
autocomplete suggestions. The app decides where engines, profiles and events live: it
passes three callables, so this module needs no store, no auth and no app state.

Examples
--------
>>> from fastapi import FastAPI
>>> app = FastAPI()
>>> app.include_router(create_search_router(lambda shop: None))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, params
from pydantic import BaseModel

from shopmind.data.schema import Event
from shopmind.errors import InputError
from shopmind.search.engine import SearchEngine, SearchResponse
from shopmind.search.events import search_event
from shopmind.search.filters import Filters
from shopmind.search.index import MAX_QUERY_CHARS

EngineLookup = Callable[[str], SearchEngine | None]
ProfileLookup = Callable[[str, str], Mapping[str, Any] | None]
EventSink = Callable[[str, Event], None]


class SuggestOut(BaseModel):
    query: str
    suggestions: list[str]


def create_search_router(
    get_engine: EngineLookup, *, get_profile: ProfileLookup | None = None,
    record_event: EventSink | None = None, default_shop: str = "default",
    dependencies: Sequence[params.Depends] | None = None,
    shop_dependency: Callable[..., str] | None = None,
) -> APIRouter:
    """The ``/v1/search`` router.

    Parameters
    ----------
    get_engine : callable
        Shop id → its :class:`SearchEngine` (None: the shop has no search index → 404).
    get_profile : callable, optional
        (shop id, user id) → the user's profile dict, for personalization.
    record_event : callable, optional
        (shop id, event) → store a ``search`` event for a known user.
    default_shop : str
        Shop used when the request names none.
    dependencies : list, optional
        Router-wide dependencies (authentication, rate limits) supplied by the app.
    shop_dependency : callable, optional
        A FastAPI dependency giving the request's shop (the serving app takes it from the
        API key); by default the ``shop`` query parameter, else ``default_shop``.
    """
    router = APIRouter(prefix="/v1/search", tags=["search"],
                       dependencies=list(dependencies or []))

    def shop_parameter(shop: Annotated[str | None, Query(max_length=64)] = None) -> str:
        return shop or default_shop

    shop_of_request = Depends(shop_dependency or shop_parameter)

    def engine_for(shop: str) -> SearchEngine:
        engine = get_engine(shop)
        if engine is None:
            raise HTTPException(404, f"shop '{shop}' has no search index; ingest items first")
        return engine

    @router.get("", response_model=SearchResponse)
    def search(
        q: Annotated[str, Query(max_length=MAX_QUERY_CHARS, description="The query.")] = "",
        user_id: Annotated[str | None, Query(max_length=256)] = None,
        brand: Annotated[list[str] | None, Query(max_length=256)] = None,
        category: Annotated[list[str] | None, Query(max_length=1000)] = None,
        min_price: Annotated[float | None, Query(ge=0)] = None,
        max_price: Annotated[float | None, Query(ge=0)] = None,
        in_stock: bool = False,
        personalize: bool = True,
        mode: Literal["hybrid", "rrf", "bm25", "dense"] = "hybrid",
        k: Annotated[int, Query(ge=1, le=100)] = 10,
        shop: str = shop_of_request,
    ) -> SearchResponse:
        """Search the catalog; results carry the reason for their place."""
        engine = engine_for(shop)
        if min_price is not None and max_price is not None and min_price > max_price:
            raise HTTPException(422, f"min_price ({min_price}) must not exceed max_price "
                                f"({max_price})")
        filters = Filters(categories=category or [], brands=brand or [], min_price=min_price,
                          max_price=max_price, in_stock=in_stock)
        profile = None
        if user_id:  # a user without a profile: {} (the reasons say "no profile")
            profile = (get_profile(shop, user_id) if get_profile else None) or {}
        try:
            found = engine.search(q, k=k, filters=filters, profile=profile,
                                  personalized=personalize, mode=mode)
        except InputError as exc:
            raise HTTPException(422, str(exc)) from None
        if q.strip():
            engine.record_search(q)
            if record_event is not None and user_id:
                record_event(shop, search_event(q, user_id=user_id))
        return found

    @router.get("/suggest", response_model=SuggestOut)
    def suggest(
        q: Annotated[str, Query(max_length=100, description="What was typed so far.")] = "",
        k: Annotated[int, Query(ge=1, le=20)] = 8,
        shop: str = shop_of_request,
    ) -> SuggestOut:
        """Autocomplete from catalog phrases and past searches (pinyin works too)."""
        return SuggestOut(query=q, suggestions=engine_for(shop).suggest(q, k))

    return router
