"""The hidden structure of the generated demo shop: its catalog, its shoppers and its clock.

Items get a leaf category, a brand (with a price tier), a log-normal price, a quality and a
long-tailed popularity. Shoppers get three interests (leaf + favourite brand each), a price
level, brand loyalty and price sensitivity, and a later set of interests and price level
they drift to (:attr:`People.onset`). :mod:`.demo_sim` plays sessions on this world.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from shopmind.data.datasets import demo_text as text
from shopmind.data.datasets import demo_vocab as vocab
from shopmind.data.schema import CATEGORY_SEPARATOR

SECOND = 1_000_000  # timestamps are integer microseconds since the epoch, UTC
HOUR = 3_600 * SECOND
DAY = 24 * HOUR
TIER_PRICE = np.array([0.6, 1.0, 1.75])  # price multiplier of budget, mid and premium brands
PRICE_Z_SCALE = 0.5  # log-price spread within a leaf that counts as one "price step"


@dataclass(frozen=True)
class Clock:
    """The window ``[start, end)`` in µs with its day (weekend lift, growth) and hour weights.

    Days and hours are local shop time (``offset`` µs ahead of UTC).
    """

    start: int
    end: int
    offset: int
    first_day: int  # local epoch day of the window's first local day
    day_cdf: np.ndarray
    hour_cdf: np.ndarray

    @classmethod
    def make(
        cls, end_us: int, days: int, *, offset_hours: float, weekend_lift: float, growth: float
    ) -> Clock:
        start_us = end_us - days * DAY
        offset = round(offset_hours * HOUR)
        first_day = (start_us + offset) // DAY
        n_days = (end_us - 1 + offset) // DAY - first_day + 1
        epoch_day = first_day + np.arange(n_days)
        weekend = (epoch_day + 3) % 7 >= 5  # 1970-01-01 was a Thursday
        weights = np.where(weekend, weekend_lift, 1.0) * (1 + growth * np.arange(n_days) / n_days)
        hours = np.asarray(vocab.HOUR_WEIGHTS)
        return cls(start_us, end_us, offset, first_day, np.cumsum(weights) / weights.sum(),
                   np.cumsum(hours) / hours.sum())

    def sample(self, rng: np.random.Generator, not_before: np.ndarray) -> np.ndarray:
        """One time per entry, on or after the local day of ``not_before``, by day and hour."""
        n = len(not_before)
        day0 = np.clip((not_before + self.offset) // DAY - self.first_day, 0, len(self.day_cdf) - 1)
        low = np.where(day0 > 0, self.day_cdf[np.maximum(day0 - 1, 0)], 0.0)
        day = np.searchsorted(self.day_cdf, low + rng.random(n) * (1 - low), side="right")
        hour = np.searchsorted(self.hour_cdf, rng.random(n), side="right")
        local = ((self.first_day + np.minimum(day, len(self.day_cdf) - 1)) * DAY
                 + np.minimum(hour, 23) * HOUR + (rng.random(n) * HOUR).astype(np.int64))
        return local - self.offset

    def fraction(self, ts: np.ndarray) -> np.ndarray:
        """Where each time lies in the window, from 0 (start) to 1 (end)."""
        return (ts - self.start) / (self.end - self.start)


def categorical(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One draw per row of a (n, k) matrix of non-negative weights."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(cum)) * cum[:, -1]
    return np.minimum((cum <= u[:, None]).sum(axis=1), weights.shape[1] - 1)


def sample_blocks(
    rng: np.random.Generator, cum: np.ndarray, starts: np.ndarray, ends: np.ndarray,
    block: np.ndarray,
) -> np.ndarray:
    """One index per entry of ``block``, drawn inside ``[starts[b], ends[b])`` ∝ weight.

    ``cum`` is the cumulative sum of the weights, laid out block after block.
    """
    lo_idx, hi_idx = starts[block], ends[block] - 1
    low = np.where(lo_idx > 0, cum[np.maximum(lo_idx - 1, 0)], 0.0)
    target = low + rng.random(len(block)) * (cum[hi_idx] - low)
    return np.clip(np.searchsorted(cum, target, side="right"), lo_idx, hi_idx)


def drift_weight(fraction: np.ndarray | float, onset: np.ndarray, ramp: float) -> np.ndarray:
    """How far a shopper has moved to the later tastes: 0 before ``onset``, 1 after the ramp."""
    return np.clip((np.asarray(fraction) - onset) / ramp, 0.0, 1.0)


def leaf_table() -> list[tuple[int, str, vocab.Leaf]]:
    """(top index, bilingual category path, leaf) of every leaf, in catalog order."""
    rows = []
    for t, top in enumerate(vocab.CATALOG):
        for sub in top.subs:
            for leaf in sub.leaves:
                path = CATEGORY_SEPARATOR.join(
                    (f"{top.zh} {top.en}", f"{sub.zh} {sub.en}", f"{leaf.zh} {leaf.en}"))
                rows.append((t, path, leaf))
    return rows


def _blocks(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ends = np.cumsum(sizes)
    return ends - sizes, ends


@dataclass(frozen=True, eq=False)
class Catalog:
    """Items in leaf order (each leaf's items form one block) and their hidden factors."""

    leaf_top: np.ndarray
    leaf_prior: np.ndarray  # share of shoppers' attention each leaf gets
    leaf_start: np.ndarray
    leaf_end: np.ndarray
    brand_names: tuple[str, ...]
    brand_top: np.ndarray
    brand_tier: np.ndarray  # 0 budget, 1 mid-range, 2 premium
    brand_start: np.ndarray  # brands of one top form one block
    brand_end: np.ndarray
    item_leaf: np.ndarray
    item_brand: np.ndarray
    item_price: np.ndarray
    item_price_z: np.ndarray  # log price relative to the leaf median, in price steps
    item_quality: np.ndarray
    item_pop: np.ndarray
    item_created: np.ndarray
    rank: np.ndarray  # position of each item in id order
    frame: pl.DataFrame

    @property
    def item_top(self) -> np.ndarray:
        return self.leaf_top[self.item_leaf]

    @property
    def pop_cum(self) -> np.ndarray:
        return np.cumsum(self.item_pop)


def _round_price(price: np.ndarray) -> np.ndarray:
    """Shop-style prices: 199, 38.9, 4.5."""
    rounded = np.where(price >= 100, np.round(price / 10) * 10 - 1,
                       np.where(price >= 10, np.round(price) - 0.1, np.round(price, 1)))
    return np.maximum(np.round(rounded, 2), 0.9)


def make_catalog(
    rng: np.random.Generator, n_items: int, clock: Clock, *, new_share: float, zh_share: float
) -> Catalog:
    """Draw the catalog: leaves' sizes, brands, prices, quality, popularity, text."""
    leaves = leaf_table()
    leaf_top = np.array([t for t, _, _ in leaves])
    n_leaves = len(leaves)
    top_weight = np.array([t.weight for t in vocab.CATALOG])
    within = rng.gamma(3.0, size=n_leaves)
    leaf_prior = top_weight[leaf_top] * within / np.bincount(leaf_top, within)[leaf_top]
    leaf_prior /= leaf_prior.sum()
    share = leaf_prior**0.6 / (leaf_prior**0.6).sum()
    counts = 3 + rng.multinomial(n_items - 3 * n_leaves, share)
    leaf_start, leaf_end = _blocks(counts)
    item_leaf = np.repeat(np.arange(n_leaves), counts)
    item_top = leaf_top[item_leaf]

    brand_names = tuple(b for top in vocab.CATALOG for b in top.brands)
    brand_top = np.repeat(np.arange(len(vocab.CATALOG)), [len(t.brands) for t in vocab.CATALOG])
    brand_start, brand_end = _blocks(np.bincount(brand_top))
    brand_tier = rng.integers(3, size=len(brand_names))
    brand_pop = rng.lognormal(0.0, 0.6, size=len(brand_names))
    item_brand = sample_blocks(rng, np.cumsum(brand_pop), brand_start, brand_end, item_top)
    tier = brand_tier[item_brand]

    median = np.array([leaf.median_price for _, _, leaf in leaves])[item_leaf]
    price = _round_price(median * TIER_PRICE[tier] * rng.lognormal(0.0, 0.3, size=n_items))
    price_z = np.log(price / median) / PRICE_Z_SCALE
    quality = rng.normal(0.0, 1.0, n_items) + 0.35 * (tier - 1)
    pop = rng.lognormal(0.0, 1.3, n_items) * brand_pop[item_brand]
    new = rng.random(n_items) < new_share
    created = np.where(
        new, clock.start + rng.random(n_items) * 0.9 * (clock.end - clock.start),
        clock.start - (1 + rng.random(n_items) * 720) * DAY,
    ).astype(np.int64)
    stock = rng.poisson(rng.gamma(2.0, 40.0, n_items) * pop**0.3)
    stock[rng.random(n_items) < 0.04] = 0
    rank = rng.permutation(n_items)

    attributes, colour = text.item_attributes(rng, item_top)
    leaf_zh = text.pick([leaf.zh for _, _, leaf in leaves], item_leaf)
    singular = text.pick([leaf.singular for _, _, leaf in leaves], item_leaf)
    band = np.digitize(price_z, [-0.5, 0.5])
    brand = text.pick(brand_names, item_brand)
    title, description = text.item_text(rng, item_top, leaf_zh, singular, brand, band, colour,
                                        rng.random(n_items) < zh_share)
    frame = pl.DataFrame({
        "item_id": text.ids("i", n_items).gather(rank),
        "title": title,
        "description": description,
        "category": text.pick([path for _, path, _ in leaves], item_leaf),
        "brand": brand,
        "price": price,
        "currency": pl.repeat("CNY", n_items, dtype=pl.String, eager=True),
        "stock": pl.Series(stock, dtype=pl.Int64),
        "attributes": attributes,
        "created_at": pl.Series(created).cast(pl.Datetime("us", "UTC")),
    }).sort("item_id")
    return Catalog(leaf_top, leaf_prior, leaf_start, leaf_end, brand_names, brand_top,
                   brand_tier, brand_start, brand_end, item_leaf, item_brand, price, price_z,
                   quality, pop, created, rank, frame)


@dataclass(frozen=True, eq=False)
class People:
    """Shoppers' hidden tastes; axis 1 of the (n, 2, …) arrays is (early, late)."""

    zh: np.ndarray
    activity: np.ndarray
    created: np.ndarray
    interests: np.ndarray  # (n, 2, 3) leaf ids
    weights: np.ndarray  # (n, 2, 3) how often each interest leads a visit
    brands: np.ndarray  # (n, 2, 3) favourite brand per interest
    price_level: np.ndarray  # (n, 2) preferred price_z
    loyalty: np.ndarray  # utility of the favourite brand
    sensitivity: np.ndarray  # utility lost per squared price step away from price_level
    onset: np.ndarray  # window fraction where the drift starts
    frame: pl.DataFrame
    pii: pl.DataFrame


def _interest_leaves(rng: np.random.Generator, cat: Catalog, tops: np.ndarray) -> np.ndarray:
    starts, ends = _blocks(np.bincount(cat.leaf_top))
    return sample_blocks(rng, np.cumsum(cat.leaf_prior), starts, ends, tops)


def _favourite_brands(
    rng: np.random.Generator, cat: Catalog, tops: np.ndarray, price_level: np.ndarray
) -> np.ndarray:
    """A brand of each top, preferring those whose tier suits the shopper's price level."""
    out = np.empty(len(tops), dtype=np.int64)
    for t in range(len(vocab.CATALOG)):
        rows = np.flatnonzero(tops == t)
        brands = np.arange(cat.brand_start[t], cat.brand_end[t])
        fit = -0.7 * (cat.brand_tier[brands][None, :] - 1 - price_level[rows, None]) ** 2
        out[rows] = brands[np.argmax(fit + rng.gumbel(size=(rows.size, brands.size)), axis=1)]
    return out


def make_people(
    rng: np.random.Generator, n_users: int, cat: Catalog, clock: Clock, *,
    new_share: float, zh_share: float,
) -> People:
    """Draw shoppers: demographics, interests and how they drift, price level, PII."""
    n = n_users
    age = rng.choice(len(vocab.AGE_BANDS), size=n, p=vocab.AGE_BAND_SHARES)
    gender = rng.choice(len(vocab.GENDERS), size=n, p=vocab.GENDER_SHARES)
    tier = rng.choice(4, size=n, p=vocab.CITY_TIER_SHARES)
    zh = rng.random(n) < zh_share
    lift = np.array([[*t.lift] for t in vocab.CATALOG]).T  # (2, tops): female, male
    prior = np.array([t.weight for t in vocab.CATALOG])[None, :] * np.vstack(
        [lift, np.ones((1, lift.shape[1]))])[gender]
    prior[:, 6] *= np.where((age == 1) | (age == 2), 2.0, 0.5)  # parents of young children

    tops = np.empty((n, 2, 3), dtype=np.int64)
    tops[:, 0, 0] = categorical(rng, prior)
    tops[:, 0, 1] = np.where(rng.random(n) < 0.5, tops[:, 0, 0], categorical(rng, prior))
    tops[:, 0, 2] = categorical(rng, prior)
    tops[:, 1] = tops[:, 0]
    drift_slot = rng.integers(3, size=n)
    related = np.array(vocab.RELATED_TOPS)[tops[np.arange(n), 0, drift_slot],
                                            rng.integers(2, size=n)]
    tops[np.arange(n), 1, drift_slot] = np.where(rng.random(n) < 0.5, related,
                                                 categorical(rng, prior))
    interests = _interest_leaves(rng, cat, tops.reshape(-1)).reshape(n, 2, 3)
    interests[:, 1] = np.where(np.arange(3) == drift_slot[:, None], interests[:, 1],
                               interests[:, 0])
    weights = np.repeat(rng.gamma(1.0, size=(n, 1, 3)), 2, axis=1)
    weights[np.arange(n), 1, drift_slot] = 1.3 * weights[:, 0].max(axis=1)  # the new passion
    weights /= weights.sum(axis=2, keepdims=True)

    price_level = np.empty((n, 2))
    price_level[:, 0] = 0.35 * (1.5 - tier) + rng.normal(0.0, 0.7, n)
    price_level[:, 1] = price_level[:, 0] + rng.normal(0.0, 0.35, n)
    brands = np.empty((n, 2, 3), dtype=np.int64)
    brands[:, 0] = _favourite_brands(rng, cat, tops[:, 0].reshape(-1),
                                     np.repeat(price_level[:, 0], 3)).reshape(n, 3)
    late = _favourite_brands(rng, cat, tops[:, 1].reshape(-1),
                             np.repeat(price_level[:, 1], 3)).reshape(n, 3)
    brands[:, 1] = np.where(np.arange(3) == drift_slot[:, None], late, brands[:, 0])

    new = rng.random(n) < new_share
    created = np.where(
        new, clock.start + rng.random(n) * 0.9 * (clock.end - clock.start),
        clock.start - (1 + rng.random(n) * 730) * DAY,
    ).astype(np.int64)
    user_ids = text.ids("u", n)
    frame = pl.DataFrame({
        "user_id": user_ids,
        "attributes": text.user_attributes(age, gender, tier, zh),
        "consent_personalization": rng.random(n) < 0.92,
        "consent_marketing": rng.random(n) < 0.55,
        "created_at": pl.Series(created).cast(pl.Datetime("us", "UTC")),
    })
    pii = pl.DataFrame({"user_id": user_ids, **text.personal_fields(rng, zh)})
    return People(
        zh=zh, activity=rng.lognormal(-0.5, 1.0, n), created=created, interests=interests,
        weights=weights, brands=brands, price_level=price_level,
        loyalty=rng.gamma(2.0, 0.8, n), sensitivity=rng.gamma(2.0, 0.5, n),
        onset=rng.uniform(0.0, 0.85, n), frame=frame, pii=pii,
    )
