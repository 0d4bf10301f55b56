"""Stage three: business rules and diversity, applied to one user's ranked candidates.

Rules are plain data (:class:`BusinessRules`): filters (category, price, stock, excluded
items, already bought unless replenishable), multiplicative boosts, pinned items, and
promotions that fill a share of the slots. Diversity is either maximal marginal relevance
(MMR, Carbonell & Goldstein 1998) over category similarity or a per-category cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from shopmind.data.schema import CATEGORY_SEPARATOR
from shopmind.recommend.catalog import ItemCatalog


@dataclass(frozen=True)
class BusinessRules:
    """Merchandising rules for one request (all optional)."""

    category: str | None = None  # keep items whose category path starts with this
    price_min: float | None = None
    price_max: float | None = None
    in_stock_only: bool = True
    exclude_items: tuple[str, ...] = ()
    exclude_purchased: bool = True  # unless the item is replenishable
    boosts: dict[str, float] = field(default_factory=dict)  # "brand:X" / "category:Y" → ×
    pins: dict[int, str] = field(default_factory=dict)  # 0-based slot → item id
    promotions: tuple[str, ...] = ()
    promotion_share: float = 0.0  # share of slots promotions may fill
    diversity: Literal["mmr", "cap", "none"] = "cap"
    category_cap: int = 3  # with "cap": at most this many items per top category
    mmr_lambda: float = 0.7  # with "mmr": relevance weight (1 = no diversity)


def empty_list_message(rules: BusinessRules) -> str:
    """Why a list came back empty: the request's filters, or nothing left to recommend."""
    asked = [f"category {rules.category!r}" if rules.category else "",
             f"price ≥ {rules.price_min:g}" if rules.price_min is not None else "",
             f"price ≤ {rules.price_max:g}" if rules.price_max is not None else "",
             f"{len(rules.exclude_items)} excluded items" if rules.exclude_items else ""]
    named = ", ".join(a for a in asked if a)
    if named:
        return f"no item in stock matches the filters ({named})"
    return "no item in stock is left to recommend"


def allowed_items(catalog: ItemCatalog, rules: BusinessRules) -> np.ndarray:
    """Boolean mask of items that pass the request's filters."""
    mask = catalog.listed.copy()  # placeholders (no title, no price) are never shown
    if rules.category:
        prefix = rules.category
        leaf_ok = np.array([name.startswith(prefix) or name.split(CATEGORY_SEPARATOR)[0] == prefix
                            for name in catalog.leaf_names], dtype=bool)
        codes = catalog.leaf_category
        mask &= np.where(codes >= 0, leaf_ok[np.maximum(codes, 0)] if len(leaf_ok) else False,
                         False)
    price = catalog.price
    if rules.price_min is not None:
        mask &= ~(price < rules.price_min)  # unknown prices pass
    if rules.price_max is not None:
        mask &= ~(price > rules.price_max)
    if rules.in_stock_only:
        mask &= ~(catalog.stock <= 0)  # unknown stock counts as available
    if rules.exclude_items:
        idx = catalog.ids.to_index(list(rules.exclude_items))
        mask[idx[idx >= 0]] = False
    return mask


def boost_factors(catalog: ItemCatalog, items: np.ndarray, rules: BusinessRules) -> np.ndarray:
    """Multiplicative boost per item from ``rules.boosts``."""
    factor = np.ones(len(items), dtype=np.float32)
    for key, value in rules.boosts.items():
        kind, _, name = key.partition(":")
        if kind == "brand" and name in catalog.brand_names:
            factor[catalog.brand[items] == catalog.brand_names.index(name)] *= value
        elif kind == "category" and name in catalog.top_names:
            factor[catalog.top_category[items] == catalog.top_names.index(name)] *= value
    return factor


def _similarity(catalog: ItemCatalog, a: int, others: np.ndarray) -> np.ndarray:
    """1 for the same leaf category, 0.5 for the same top category, else 0."""
    same_leaf = (catalog.leaf_category[others] == catalog.leaf_category[a]) & (
        catalog.leaf_category[a] >= 0)
    same_top = (catalog.top_category[others] == catalog.top_category[a]) & (
        catalog.top_category[a] >= 0)
    return np.where(same_leaf, 1.0, np.where(same_top, 0.5, 0.0))


def diversify(catalog: ItemCatalog, items: np.ndarray, scores: np.ndarray, k: int,
              rules: BusinessRules) -> np.ndarray:
    """Positions into ``items`` (sorted by score, best first) forming the final list."""
    order = np.argsort(-scores, kind="stable")
    if rules.diversity == "none" or len(order) <= 1:
        return order[:k]
    if rules.diversity == "cap":
        taken: list[int] = []
        counts: dict[int, int] = {}
        overflow: list[int] = []
        for pos in order:
            top = int(catalog.top_category[items[pos]])
            if top >= 0 and counts.get(top, 0) >= rules.category_cap:
                overflow.append(int(pos))
                continue
            counts[top] = counts.get(top, 0) + 1
            taken.append(int(pos))
            if len(taken) == k:
                break
        return np.asarray((taken + overflow)[:k], dtype=np.int64)
    # MMR over min-max normalized relevance
    pool = order[: max(k * 5, 50)]
    rel = scores[pool]
    rel = (rel - rel.min()) / (np.ptp(rel) or 1.0)
    chosen: list[int] = []
    remaining = list(range(len(pool)))
    while remaining and len(chosen) < k:
        if chosen:
            sims = np.max([_similarity(catalog, items[pool[c]], items[pool[remaining]])
                           for c in chosen], axis=0)
        else:
            sims = np.zeros(len(remaining))
        value = rules.mmr_lambda * rel[remaining] - (1 - rules.mmr_lambda) * sims
        best = remaining[int(np.argmax(value))]
        chosen.append(best)
        remaining.remove(best)
    return pool[np.asarray(chosen, dtype=np.int64)]


def place_pins_and_promotions(catalog: ItemCatalog, ranked: list[int], k: int,
                              rules: BusinessRules, allowed: np.ndarray) -> list[tuple[int, str]]:
    """The final k slots as (item index, origin) with origin ∈ {ranked, pinned, promoted}."""
    pins = []
    for position, item_id in sorted(rules.pins.items()):
        index = int(catalog.ids.to_index([item_id])[0])
        if index >= 0:
            pins.append((position, index))
    pinned = {index for _, index in pins}
    promoted = [int(i) for i in catalog.ids.to_index(list(rules.promotions))
                if i >= 0 and allowed[i] and int(i) not in pinned] if rules.promotions else []
    n_promo = min(len(promoted), round(rules.promotion_share * k))
    fresh = [i for i in promoted if i not in ranked[: k - len(pins)]][:n_promo]
    # promotions take the last slots of the page, keeping the best-ranked items on top
    room = max(k - len(pins) - len(fresh), 0)
    kept = [i for i in ranked if i not in pinned and i not in fresh][:room]
    slots = [(i, "ranked") for i in kept] + [(i, "promoted") for i in fresh]
    for position, index in pins:
        slots.insert(min(position, len(slots)), (index, "pinned"))
    return slots[:k]
