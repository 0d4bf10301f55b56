"""``POST /v1/sessions/recommendations``: recommendations for an anonymous visitor."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from shopmind.data.store.redis_state import SessionEvent
from shopmind.serve.deps import ModelDep, RuntimeDep
from shopmind.serve.history import session_history
from shopmind.serve.lists import recommendation_list, request_rules
from shopmind.serve.schemas import ErrorOut, RecommendationsOut, SessionRecommendationsIn

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])


@router.post("/recommendations", response_model=RecommendationsOut,
             responses={422: {"model": ErrorOut}})
async def session_recommendations(body: SessionRecommendationsIn, model: ModelDep,
                                  runtime: RuntimeDep) -> RecommendationsOut:
    """A list for the session's events (sent in the body, oldest first; nothing stored)."""
    now = datetime.now(UTC)
    events = [SessionEvent(e.item_id, e.type, (e.ts or now).astimezone(UTC))
              for e in body.events]
    history = session_history(events, model.item_index)
    rules = request_rules(body.category, body.price_max, body.exclude)
    return await recommendation_list(runtime, model, history, None, body.k, rules)
