"""Personalized re-rank of search results from the user's profile, with a reason each.

A result's boost is ``w_cat · affinity(top category) + w_leaf · affinity(leaf category)
+ w_brand · affinity(brand) + w_price · price_fit`` with affinities the profile's weights
(:mod:`shopmind.features.profiles`, each list sums to ≤ 1) and ``price_fit`` = 1 when the
item's price lies within a factor two of the user's typical price. The final score is
the relevance score min-max scaled to [0, 1] plus ``strength · boost``, so
personalization reorders close calls but never lifts a poor match over a good one.

Examples
--------
>>> profile = {"top_brands": [{"name": "Acme", "weight": 0.8}], "typical_price": 20.0}
>>> boosts, reasons = personal_boosts(profile, ["Acme", "Other"], ["", ""], [25.0, 300.0])
>>> reasons[0]
'you often choose Acme; near your usual price'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

WEIGHTS = {"category": 0.5, "leaf": 0.5, "brand": 0.8, "price": 0.2}
STRENGTH = 0.3
OFF = "not personalized: switched off"
NO_PROFILE = "not personalized: no profile for this user"
NO_USER = "not personalized: no user given"


def _affinity(entries: Any) -> dict[str, float]:
    return {str(e["name"]): float(e["weight"]) for e in entries or []}


def personal_boosts(profile: Mapping[str, Any], brands: Sequence[str],
                    categories: Sequence[str], prices: Sequence[float | None]
                    ) -> tuple[np.ndarray, list[str]]:
    """Boost and reason of each result for one user's ``profile``."""
    tops = _affinity(profile.get("top_categories"))
    leaves = _affinity(profile.get("top_leaf_categories"))
    brand_aff = _affinity(profile.get("top_brands"))
    typical = profile.get("typical_price")
    boosts = np.zeros(len(brands))
    reasons = []
    for i, (brand, category, price) in enumerate(zip(brands, categories, prices, strict=True)):
        parts = []
        top = category.split(" > ")[0] if category else ""
        terms = [(WEIGHTS["leaf"], leaves.get(category, 0.0), f"you browse {category}"),
                 (WEIGHTS["category"], tops.get(top, 0.0), f"you like {top}"),
                 (WEIGHTS["brand"], brand_aff.get(brand, 0.0), f"you often choose {brand}")]
        for weight, affinity, reason in terms:
            if affinity > 0:
                boosts[i] += weight * affinity
                parts.append(reason)
        if typical and price is not None and typical / 2 <= price <= typical * 2:
            boosts[i] += WEIGHTS["price"]
            parts.append("near your usual price")
        reasons.append("; ".join(parts) if parts else "no match with your profile")
    return boosts, reasons


def personalize(scores: np.ndarray, boosts: np.ndarray, strength: float = STRENGTH
                ) -> np.ndarray:
    """Relevance scaled to [0, 1] plus ``strength · boosts``."""
    scores = np.asarray(scores, dtype=np.float64)
    if not len(scores):
        return scores
    span = float(scores.max() - scores.min())
    scaled = (scores - scores.min()) / span if span > 0 else np.ones_like(scores)
    return scaled + strength * boosts
