"""The generated demo shop: a deterministic, seeded, bilingual (Chinese + English) shop.

It needs no downloaded data. A hidden world is drawn first (:mod:`.demo_world`): a catalog
in a three-level category tree with brands, log-normal prices, quality and long-tailed
popularity, and shoppers with a few interests, favourite brands, a price level, and tastes
that drift during the window. Sessions are then played on it (:mod:`.demo_sim`): views led
by the shopper's interests, a view → cart → purchase funnel driven by how well the item fits,
daily and weekly seasonality, searches, favourites, orders with statuses, and ratings and
reviews whose stars and text follow the item's quality. ``docs/demo_shop.md`` documents the
rates and conventions.

The frames use exactly the columns of :data:`shopmind.data.schema.TABLES`; :attr:`DemoShop.truth`
keeps the hidden structure so tests and docs can check what a model should learn.

>>> shop = generate_demo_shop(n_items=400, n_users=300, days=14, seed=7)
>>> sorted(shop.tables())
['events', 'items', 'orders', 'reviews', 'user_pii', 'users']
>>> shop.items.height, shop.users.height
(400, 300)
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
from scipy import sparse

from shopmind.data.datasets import demo_text as text
from shopmind.data.datasets.demo_sim import TYPE_ORDER, Rates, simulate
from shopmind.data.datasets.demo_world import (
    SECOND,
    Catalog,
    Clock,
    People,
    drift_weight,
    leaf_table,
    make_catalog,
    make_people,
)
from shopmind.errors import InputError

DEFAULT_END = datetime(2026, 11, 1, tzinfo=UTC)
#: Items needed for every leaf category to hold at least three.
MIN_ITEMS = 3 * len(leaf_table())


@dataclass(frozen=True)
class DemoRates:
    """Behaviour rates of the simulated shop; the defaults give the documented funnel.

    Probabilities are per session (``search_share``), per view (``click_share``,
    ``mission_stay``, ``exploration``) or per cart (``remove_share``); ``*_bias`` and
    ``*_fit`` are the intercept and slope of a logistic in the shopper–item fit.
    """

    sessions_per_user_day: float = 0.06
    view_stop: float = 0.3  # after each view the session ends with this chance
    search_share: float = 0.3
    click_share: float = 0.35
    mission_stay: float = 0.7
    exploration: float = 0.15
    candidates: int = 8
    cart_bias: float = -3.0
    cart_fit: float = 0.8
    favorite_bias: float = -3.8
    favorite_fit: float = 0.6
    buy_bias: float = -1.5
    buy_fit: float = 0.5
    remove_share: float = 0.3
    cancel_share: float = 0.04
    refund_share: float = 0.01
    rate_share: float = 0.5
    review_text_share: float = 0.75
    drift_ramp: float = 0.15  # window fraction a shopper takes to move to the later tastes
    weekend_lift: float = 1.3
    growth: float = 0.1  # traffic grows by this share over the window
    utc_offset_hours: float = 8.0  # the shop's local time (seasonality) is UTC+8
    new_item_share: float = 0.08
    new_user_share: float = 0.2
    zh_item_share: float = 0.5
    zh_user_share: float = 0.55


@dataclass(frozen=True, eq=False)
class DemoTruth:
    """The hidden structure, aligned with the rows of ``shop.items`` and ``shop.users``.

    Attributes
    ----------
    leaf_paths, leaf_prior : category path of each leaf and its share of attention.
    item_leaf, item_brand : leaf index and brand index (into ``brand_names``) of each item.
    item_quality : standard-normal quality; drives carts, purchases, ratings and returns.
    item_popularity : long-tailed (log-normal) weight of the item within its leaf.
    item_price_z : log price relative to the leaf median, in steps of 0.5.
    user_interests, user_interest_weights, user_brands : (n_users, 2, 3) arrays; axis 1 is
        (early, late) tastes, axis 2 the three interests (leaf, weight, favourite brand).
    user_price_level : (n_users, 2) preferred ``item_price_z``, early and late.
    user_brand_loyalty, user_price_sensitivity, user_activity : per shopper.
    user_drift_onset : window fraction where the move to the late tastes starts.
    exploration, drift_ramp : the rates used.
    """

    leaf_paths: tuple[str, ...]
    leaf_prior: np.ndarray
    brand_names: tuple[str, ...]
    item_leaf: np.ndarray
    item_brand: np.ndarray
    item_quality: np.ndarray
    item_popularity: np.ndarray
    item_price_z: np.ndarray
    user_interests: np.ndarray
    user_interest_weights: np.ndarray
    user_brands: np.ndarray
    user_price_level: np.ndarray
    user_brand_loyalty: np.ndarray
    user_price_sensitivity: np.ndarray
    user_activity: np.ndarray
    user_drift_onset: np.ndarray
    exploration: float
    drift_ramp: float

    def taste(self, when: float = 1.0) -> sparse.csr_matrix:
        """Each shopper's share of visits per leaf at window fraction ``when`` (0 to 1).

        Rows sum to ``1 - exploration``; the rest of the visits go to leaves ∝ ``leaf_prior``.
        """
        n = len(self.user_drift_onset)
        late = drift_weight(when, self.user_drift_onset, self.drift_ramp)[:, None]
        weights = np.concatenate([(1 - late) * self.user_interest_weights[:, 0],
                                  late * self.user_interest_weights[:, 1]], axis=1)
        rows = np.repeat(np.arange(n), 6)
        matrix = sparse.csr_matrix(
            (weights.reshape(-1) * (1 - self.exploration),
             (rows, self.user_interests.reshape(n, 6).reshape(-1))),
            shape=(n, len(self.leaf_paths)),
        )
        matrix.sum_duplicates()
        return matrix

    def oracle_scores(self, users: np.ndarray, when: float = 1.0) -> np.ndarray:
        """Log-odds-like scores (len(users), n_items) of the generator's own choice model.

        The leaf a shopper visits, times the item's popularity in that leaf, times
        exp(brand loyalty · favourite brand − sensitivity · price distance² / 2 + 0.3 ·
        quality). Ranking by it is the best a recommender can do; tests use it as a ceiling.
        """
        users = np.asarray(users)
        leaf_share = self.taste(when)[users].toarray() + self.exploration * self.leaf_prior
        pop_in_leaf = np.bincount(self.item_leaf, self.item_popularity)[self.item_leaf]
        late = drift_weight(when, self.user_drift_onset[users], self.drift_ramp)
        state = (late >= 0.5).astype(np.int64)
        level = self.user_price_level[users, 0] + late * np.diff(self.user_price_level[users],
                                                                   axis=1)[:, 0]
        favourite = self.user_brands[users, state]  # (n, 3)
        brand_hit = (self.item_brand[None, :, None] == favourite[:, None, :]).any(axis=2)
        fit = (self.user_brand_loyalty[users, None] * brand_hit
               - 0.5 * self.user_price_sensitivity[users, None]
               * (self.item_price_z[None, :] - level[:, None]) ** 2
               + 0.3 * self.item_quality[None, :])
        return (np.log(leaf_share[:, self.item_leaf]) + np.log(self.item_popularity / pop_in_leaf)
                + fit)


@dataclass(frozen=True, eq=False)
class DemoShop:
    """Frames with the canonical columns of :data:`shopmind.data.schema.TABLES`, plus truth.

    Times are ``Datetime("us", "UTC")``; JSON attributes are compact JSON text; ``orders``
    holds one row per order line.
    """

    items: pl.DataFrame
    users: pl.DataFrame
    user_pii: pl.DataFrame
    events: pl.DataFrame
    reviews: pl.DataFrame
    orders: pl.DataFrame
    truth: DemoTruth

    def tables(self) -> dict[str, pl.DataFrame]:
        """The frames by table name (the keys of :data:`~shopmind.data.schema.TABLES`)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "truth"}

    def write(
        self, directory: str | Path, *, fmt: Literal["parquet", "csv", "jsonl"] = "parquet"
    ) -> dict[str, Path]:
        """Write one file per table (``items.parquet``, …) and return their paths."""
        if fmt not in ("parquet", "csv", "jsonl"):
            raise InputError(f"fmt must be 'parquet', 'csv' or 'jsonl', got {fmt!r}")
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        paths = {}
        for name, frame in self.tables().items():
            path = paths[name] = folder / f"{name}.{fmt}"
            if fmt == "parquet":
                frame.write_parquet(path)
            elif fmt == "csv":
                frame.write_csv(path)
            else:
                frame.write_ndjson(path)
        return paths


def generate_demo_shop(
    *,
    n_items: int = 2000,
    n_users: int = 5000,
    days: int = 90,
    seed: int = 42,
    scale: float = 1.0,
    end: datetime = DEFAULT_END,
    rates: DemoRates | None = None,
) -> DemoShop:
    """Generate the demo shop; the same arguments always give the same frames.

    Parameters
    ----------
    n_items, n_users : catalog and shopper counts before ``scale``.
    days : length of the behaviour window, which ends (exclusive) at ``end``.
    seed : seed of every random draw.
    scale : multiplies items and users, hence events (``scale=15`` gives about 2 million).
    end : timezone-aware end of the window.
    rates : behaviour rates; :class:`DemoRates` defaults when omitted.

    Returns
    -------
    DemoShop
        The six tables and the hidden :class:`DemoTruth`.

    Examples
    --------
    >>> shop = generate_demo_shop(n_items=300, n_users=100, days=7, seed=1)
    >>> set(shop.events["type"]) <= {"view", "click", "cart", "remove_cart", "purchase",
    ...                              "favorite", "search", "rate"}
    True
    """
    rates = rates or DemoRates()
    n_items_scaled, n_users_scaled = round(n_items * scale), round(n_users * scale)
    _check(n_items_scaled, n_users_scaled, days, scale, end, seed)
    rng_catalog, rng_people, rng_sim = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    clock = Clock.make(round(end.timestamp() * SECOND), days, offset_hours=rates.utc_offset_hours,
                       weekend_lift=rates.weekend_lift, growth=rates.growth)
    catalog = make_catalog(rng_catalog, n_items_scaled, clock, new_share=rates.new_item_share,
                           zh_share=rates.zh_item_share)
    people = make_people(rng_people, n_users_scaled, catalog, clock,
                         new_share=rates.new_user_share, zh_share=rates.zh_user_share)
    sim_rates = Rates(**{f.name: getattr(rates, f.name) for f in fields(Rates)})
    sim = simulate(rng_sim, catalog, people, clock, sim_rates)

    user_ids, item_ids = people.frame["user_id"], catalog.frame["item_id"]
    rank = catalog.rank

    def item_ref(codes: pl.Series) -> pl.Series:
        return text.pick(item_ids, np.where(codes.to_numpy() >= 0, rank[codes.to_numpy()], -1))

    ev = sim.events
    events = pl.DataFrame({
        "user_id": user_ids.gather(ev["u"]),
        "item_id": item_ref(ev["i"]),
        "type": text.pick(TYPE_ORDER, ev["t"].to_numpy()),
        "ts": ev["ts"].cast(pl.Datetime("us", "UTC")),
        "value": ev["v"].fill_nan(None),
        "session_id": text.pick(text.ids("s", sim.n_sessions), ev["s"].to_numpy()),
        "query": ev["query"],
        "event_id": pl.repeat(None, ev.height, dtype=pl.String, eager=True),
    })
    od = sim.orders
    orders = pl.DataFrame({
        "order_id": text.ids("o", len(np.unique(od["o"].to_numpy()))).gather(od["o"]),
        "user_id": user_ids.gather(od["u"]),
        "status": od["status"],
        "created_at": od["created_at"].cast(pl.Datetime("us", "UTC")),
        "updated_at": od["updated_at"].cast(pl.Datetime("us", "UTC")),
        "total": od["total"],
        "currency": pl.repeat("CNY", od.height, dtype=pl.String, eager=True),
        "item_id": item_ref(od["i"]),
        "quantity": od["quantity"],
        "unit_price": od["unit_price"],
    })
    rv = sim.reviews
    reviews = pl.DataFrame({
        "review_id": text.ids("r", rv.height),
        "item_id": item_ref(rv["i"]),
        "user_id": user_ids.gather(rv["u"]),
        "rating": rv["v"],
        "text": rv["text"],
        "ts": rv["ts"].cast(pl.Datetime("us", "UTC")),
    })
    return DemoShop(items=catalog.frame, users=people.frame, user_pii=people.pii, events=events,
                    reviews=reviews, orders=orders, truth=_truth(catalog, people, rates))


def funnel_rates(events: pl.DataFrame) -> dict[str, float]:
    """Event counts per view and the cart → purchase rate of an events frame.

    >>> events = pl.DataFrame({"type": ["view"] * 10 + ["cart"] * 2 + ["purchase"]})
    >>> funnel_rates(events)["cart_per_view"], funnel_rates(events)["purchase_per_cart"]
    (0.2, 0.5)
    """
    counts = dict(events.group_by("type").len().iter_rows())
    views = max(counts.get("view", 0), 1)
    out = {f"{t}_per_view": counts.get(t, 0) / views for t in TYPE_ORDER if t != "view"}
    out["purchase_per_cart"] = counts.get("purchase", 0) / max(counts.get("cart", 0), 1)
    return out


def _check(n_items: int, n_users: int, days: int, scale: float, end: datetime, seed: int) -> None:
    if not scale > 0:
        raise InputError(f"scale must be > 0, got {scale}")
    if n_items < MIN_ITEMS:
        raise InputError(
            f"n_items × scale must be at least {MIN_ITEMS} (three items per leaf category), "
            f"got {n_items}; use a larger scale (`shopmind demo --scale`)")
    if n_users < 1:
        raise InputError(f"n_users × scale must be at least 1, got {n_users}")
    if days < 1:
        raise InputError(f"days must be at least 1, got {days}")
    if end.tzinfo is None:
        raise InputError(f"end must be timezone-aware (e.g. tzinfo=UTC), got {end.isoformat()}")
    if seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed}")


def _truth(catalog: Catalog, people: People, rates: DemoRates) -> DemoTruth:
    by_id = np.argsort(catalog.rank)  # internal position of the item in each id-order row
    return DemoTruth(
        leaf_paths=tuple(path for _, path, _ in leaf_table()),
        leaf_prior=catalog.leaf_prior,
        brand_names=catalog.brand_names,
        item_leaf=catalog.item_leaf[by_id],
        item_brand=catalog.item_brand[by_id],
        item_quality=catalog.item_quality[by_id],
        item_popularity=catalog.item_pop[by_id],
        item_price_z=catalog.item_price_z[by_id],
        user_interests=people.interests,
        user_interest_weights=people.weights,
        user_brands=people.brands,
        user_price_level=people.price_level,
        user_brand_loyalty=people.loyalty,
        user_price_sensitivity=people.sensitivity,
        user_activity=people.activity,
        user_drift_onset=people.onset,
        exploration=rates.exploration,
        drift_ramp=rates.drift_ramp,
    )


__all__ = ["DEFAULT_END", "DemoRates", "DemoShop", "DemoTruth", "funnel_rates",
           "generate_demo_shop"]
