"""Stage four: a human-readable reason for every recommended item.

Reasons come from the evidence that put the item on the list, checked in order of how
personal they are: the shop pinned or promoted it; the user left it in the cart or viewed
it; it is a co-visitation neighbour of something the user bought ("often bought with X") or
viewed ("because you viewed X"); it sits in a category the user favours; it is trending.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shopmind.recommend.base import Histories, Recommender
from shopmind.recommend.catalog import ItemCatalog
from shopmind.recommend.context import TYPE_CODES

_CART, _BUY = TYPE_CODES.index("cart"), TYPE_CODES.index("purchase")


@dataclass(frozen=True)
class Reason:
    kind: str  # pinned, promoted, in_cart, viewed_before, bought_with, viewed_with, ...
    text: str
    related_item: str | None = None


def _short(title: str, limit: int = 40) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"


def explain_user(
    items: np.ndarray,
    origins: list[str],
    features: dict[str, np.ndarray],
    history_items: np.ndarray,
    history_types: np.ndarray,
    catalog: ItemCatalog,
    neighbour_model: Recommender | None,
    *,
    recent: int = 5,
) -> list[Reason]:
    """Reasons for one user's final list.

    ``features`` holds, aligned with ``items``: ``ui_events``, ``ui_carted``, ``uc_share``
    and ``item_trend`` (see :mod:`~shopmind.recommend.ranking_features`).
    """
    evidence = np.zeros((0, len(items)), dtype=np.float32)
    sources: list[int] = []
    if neighbour_model is not None and len(history_items):
        # the last few distinct history items, most recent first
        _, first = np.unique(history_items[::-1], return_index=True)
        sources = [int(history_items[::-1][i]) for i in np.sort(first)[:recent]]
        evidence = neighbour_model.score_items(Histories.from_lists([[s] for s in sources]),
                                               items)
        evidence[~np.isfinite(evidence)] = 0.0
    bought_or_carted = set(history_items[np.isin(history_types, (_CART, _BUY))].tolist())
    trend_cut = np.quantile(features["item_trend"], 0.75) if len(items) else 0.0
    reasons = []
    for pos, item in enumerate(items):
        origin = origins[pos]
        category = catalog.category_name(int(item))
        if not len(history_items):  # cold start: say what the list is
            where = f"in {category} " if category else ""
            reasons.append(Reason("trending", f"Trending {where}now · 当前热门"))
            continue
        if origin == "pinned":
            reasons.append(Reason("pinned", "Featured by the shop · 店铺推荐"))
            continue
        if origin == "promoted":
            reasons.append(Reason("promoted", "On promotion · 促销"))
            continue
        if features["ui_carted"][pos]:
            reasons.append(Reason("in_cart", "Still in your cart · 购物车里的商品"))
            continue
        if features["ui_events"][pos] > 0:
            reasons.append(Reason("viewed_before", "You looked at this recently · 你最近看过"))
            continue
        if len(sources):
            best = int(np.argmax(evidence[:, pos]))
            if evidence[best, pos] > 0:
                source = sources[best]
                title = _short(catalog.label(source))
                source_id = str(catalog.ids.ids[source])
                if source in bought_or_carted:
                    reasons.append(Reason("bought_with", f"Often bought with {title} · "
                                          f"常与「{title}」一起购买", source_id))
                else:
                    reasons.append(Reason("viewed_with", f"Because you viewed {title} · "
                                          f"因为你看过「{title}」", source_id))
                continue
        if category and features["uc_share"][pos] >= 0.25:
            reasons.append(Reason("category_affinity", f"Matches your interest in {category} · "
                                  f"符合你对「{category}」的兴趣"))
            continue
        if category and features["item_trend"][pos] >= trend_cut:
            reasons.append(Reason("trending", f"Popular in {category} this week · "
                                  f"「{category}」本周热销"))
            continue
        reasons.append(Reason("for_you", "Picked for you · 为你精选"))
    return reasons
