"""Turning a history and a request's filters into the answer of a recommendation route.

Shared by the user and the anonymous-session routes: the pipeline's list (through the
batcher), then items new since training that fit the history take the last slots.
"""

from __future__ import annotations

from collections.abc import Sequence

from shopmind.recommend.rules import BusinessRules, empty_list_message
from shopmind.serve.history import History
from shopmind.serve.model import ServedModel
from shopmind.serve.runtime import Runtime
from shopmind.serve.schemas import ReasonOut, RecommendationOut, RecommendationsOut

MAX_EXCLUDE = 1_000


def request_rules(category: str | None, price_max: float | None,
                  exclude: Sequence[str]) -> BusinessRules:
    """Business rules from query parameters (``exclude`` items may be comma-separated)."""
    ids = tuple(dict.fromkeys(part.strip() for value in exclude for part in value.split(",")
                              if part.strip()))
    return BusinessRules(category=category or None, price_max=price_max,
                         exclude_items=ids[:MAX_EXCLUDE])


def _new_slots(k: int) -> int:
    return max(1, k // 5)


async def recommendation_list(runtime: Runtime, model: ServedModel, history: History,
                              user_id: str | None, k: int, rules: BusinessRules
                              ) -> RecommendationsOut:
    """The route's answer: ranked list with reasons, plus fitting new items."""
    recs = await runtime.recommend(model, history, k, rules)
    items = [RecommendationOut(item_id=r.item_id, score=r.score, origin=r.origin,
                               reason=ReasonOut(kind=r.reason.kind, text=r.reason.text,
                                                related_item=r.reason.related_item))
             for r in recs]
    fresh = model.new_arrivals(history, _new_slots(k), rules)
    if fresh:
        chosen = [f for f, _ in fresh if f.item_id not in {i.item_id for i in items}]
        keep = items[: max(0, min(len(items), k - len(chosen)))]
        floor = min((i.score for i in keep), default=0.0)
        items = keep + [RecommendationOut(
            item_id=f.item_id, score=floor, origin="new",
            reason=ReasonOut(kind="new_arrival", text="New arrival for you · 新品推荐"))
            for f in chosen[: k - len(keep)]]
    return RecommendationsOut(user_id=user_id, model_version=model.version,
                              cold_start=len(history) == 0, items=items,
                              message=None if items else empty_list_message(rules))
