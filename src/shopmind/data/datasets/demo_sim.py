"""Behaviour of the generated demo shop: sessions, the view → cart → purchase funnel, orders
and ratings, simulated on a :mod:`.demo_world` world.

All steps work on whole arrays (one entry per session, view or order line); the only Python
loops run over chunks of views and over top categories. Results come back with integer
codes (user, item, session positions) that :mod:`.demo` turns into ids.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.special import expit

from shopmind.data.datasets import demo_text as text
from shopmind.data.datasets import demo_vocab as vocab
from shopmind.data.datasets.demo_world import (
    DAY,
    HOUR,
    SECOND,
    Catalog,
    Clock,
    People,
    categorical,
    drift_weight,
    sample_blocks,
)
from shopmind.data.schema import ORDER_STATUSES

#: Event type codes in the order events of one instant are listed.
TYPE_ORDER: tuple[str, ...] = (
    "search", "click", "view", "favorite", "cart", "remove_cart", "purchase", "rate",
)
_CODE = {name: k for k, name in enumerate(TYPE_ORDER)}
_STATUS = {name: k for k, name in enumerate(ORDER_STATUSES)}
_CHUNK = 200_000  # views scored at once (bounds memory at large scales)
_RATING_CUTS = np.array([-0.4, 0.1, 0.6, 1.6])  # satisfaction → 1..5 stars


@dataclass(frozen=True)
class Rates:
    """The knobs of :func:`simulate` (see :class:`shopmind.data.datasets.demo.DemoRates`)."""

    sessions_per_user_day: float
    view_stop: float
    search_share: float
    click_share: float
    mission_stay: float
    exploration: float
    candidates: int
    cart_bias: float
    cart_fit: float
    favorite_bias: float
    favorite_fit: float
    buy_bias: float
    buy_fit: float
    remove_share: float
    cancel_share: float
    refund_share: float
    rate_share: float
    review_text_share: float
    drift_ramp: float


@dataclass(frozen=True, eq=False)
class Simulation:
    """Coded results: ``events`` (u, i, t, ts, s, v, query), ``orders``, ``reviews``."""

    events: pl.DataFrame
    orders: pl.DataFrame
    reviews: pl.DataFrame
    n_sessions: int


def _draw_interest(
    rng: np.random.Generator, people: People, cat: Catalog, user: np.ndarray, late: np.ndarray,
    exploration: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(slot, leaf) of one visit per entry; slot -1 means a look outside the interests."""
    n = len(user)
    state = late.astype(np.int64)
    slot = categorical(rng, people.weights[user, state])
    leaf = people.interests[user, state, slot]
    explore = np.flatnonzero(rng.random(n) < exploration)
    cum = np.cumsum(cat.leaf_prior)
    leaf[explore] = np.minimum(np.searchsorted(cum, rng.random(explore.size) * cum[-1]),
                               len(cum) - 1)
    slot[explore] = -1
    return slot, leaf


def _fit(
    cat: Catalog, people: People, user: np.ndarray, item: np.ndarray, brand: np.ndarray,
    price_level: np.ndarray,
) -> np.ndarray:
    """How well each item suits the shopper: favourite brand, price level, quality."""
    return (people.loyalty[user] * (cat.item_brand[item] == brand)
            - 0.5 * people.sensitivity[user] * (cat.item_price_z[item] - price_level) ** 2
            + 0.3 * cat.item_quality[item])


def _choose_items(
    rng: np.random.Generator, cat: Catalog, people: People, k: int, user: np.ndarray,
    leaf: np.ndarray, brand: np.ndarray, price_level: np.ndarray, ts: np.ndarray,
) -> np.ndarray:
    """Sample ``k`` candidates ∝ popularity from each leaf; the shopper takes the one with the
    best fit plus Gumbel noise (so items are chosen ∝ popularity × exp(fit)). Items not yet
    launched at ``ts`` are skipped; -1 where none of the candidates exists yet."""
    out = np.empty(len(leaf), dtype=np.int64)
    pop_cum = cat.pop_cum
    for lo in range(0, len(leaf), _CHUNK):
        sl = slice(lo, lo + _CHUNK)
        n = len(leaf[sl])
        cand = sample_blocks(rng, pop_cum, cat.leaf_start, cat.leaf_end,
                             np.repeat(leaf[sl], k)).reshape(n, k)
        score = _fit(cat, people, np.repeat(user[sl], k), cand.reshape(-1),
                     np.repeat(brand[sl], k), np.repeat(price_level[sl], k)).reshape(n, k)
        score += rng.gumbel(size=(n, k))
        score[cat.item_created[cand] > ts[sl, None]] = -np.inf
        best = score.argmax(axis=1)
        rows = np.arange(n)
        out[sl] = np.where(np.isfinite(score[rows, best]), cand[rows, best], -1)
    return out


def _events(
    parts: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    queries: pl.Series,
    ratings: np.ndarray,
    clock: Clock,
) -> pl.DataFrame:
    """One coded frame from (type, user, item, ts, session) parts, in time order.

    ``parts`` starts with the searches (whose text is ``queries``) and ends with the ratings
    (whose stars are ``ratings``); events outside the window are dropped.
    """
    ts = np.concatenate([p[3] for p in parts]).astype(np.int64)
    code = np.concatenate([np.full(len(p[1]), _CODE[p[0]], dtype=np.int8) for p in parts])
    user = np.concatenate([p[1] for p in parts]).astype(np.int64)
    inside = np.flatnonzero((ts >= clock.start) & (ts < clock.end))
    order = inside[np.lexsort((user[inside], code[inside], ts[inside]))]
    value = np.full(len(ts), np.nan)
    value[len(ts) - len(ratings):] = ratings
    searched = np.flatnonzero(order < len(queries))
    query = pl.repeat(None, len(order), dtype=pl.String, eager=True)
    return pl.DataFrame({
        "u": user[order], "i": np.concatenate([p[2] for p in parts]).astype(np.int64)[order],
        "t": code[order], "ts": ts[order],
        "s": np.concatenate([p[4] for p in parts]).astype(np.int64)[order], "v": value[order],
        "query": query.scatter(searched, queries.gather(order[searched])),
    })


def simulate(
    rng: np.random.Generator, cat: Catalog, people: People, clock: Clock, rates: Rates
) -> Simulation:
    """Play every shopper's sessions over the window and derive orders and ratings."""
    # ---- sessions: how many per shopper, when, and what each is about
    active_from = np.maximum(people.created + HOUR, clock.start)
    expected = rates.sessions_per_user_day * people.activity * (clock.end - active_from) / DAY
    user = np.repeat(np.arange(len(expected)), rng.poisson(np.maximum(expected, 0.0)))
    start = clock.sample(rng, active_from[user])
    keep = (start >= active_from[user]) & (start < clock.end)
    order = np.lexsort((user[keep], start[keep]))
    user, start = user[keep][order], start[keep][order]
    n_sessions = len(user)
    drift = drift_weight(clock.fraction(start), people.onset[user], rates.drift_ramp)
    late = rng.random(n_sessions) < drift
    level = people.price_level[user, 0] + drift * np.diff(people.price_level[user], axis=1)[:, 0]
    mission_slot, mission_leaf = _draw_interest(rng, people, cat, user, late, rates.exploration)
    n_views = np.minimum(rng.geometric(rates.view_stop, n_sessions), 40)
    searched = rng.random(n_sessions) < rates.search_share

    # ---- views: mostly the session's mission, sometimes another interest
    sess = np.repeat(np.arange(n_sessions), n_views)
    first = np.cumsum(n_views) - n_views
    stay = (np.arange(len(sess)) == first[sess]) | (rng.random(len(sess)) < rates.mission_stay)
    slot, leaf = mission_slot[sess], mission_leaf[sess]
    fresh = np.flatnonzero(~stay)
    slot[fresh], leaf[fresh] = _draw_interest(rng, people, cat, user[sess[fresh]],
                                              late[sess[fresh]], rates.exploration)
    v_user = user[sess]
    brand = np.where(slot >= 0, people.brands[v_user, late[sess].astype(np.int64),
                                              np.maximum(slot, 0)], -1)
    gaps = ((5 + rng.exponential(45.0, len(sess))) * SECOND).astype(np.int64)
    elapsed = np.cumsum(gaps)
    elapsed -= (elapsed[first] - gaps[first])[sess]
    v_ts = start[sess] + searched[sess] * 20 * SECOND + elapsed
    checkout = v_ts[first + n_views - 1] + (rng.uniform(60, 600, n_sessions) * SECOND)
    item = _choose_items(rng, cat, people, rates.candidates, v_user, leaf, brand,
                         level[sess], v_ts)
    ok = item >= 0
    sess, v_user, item, v_ts = sess[ok], v_user[ok], item[ok], v_ts[ok]
    brand, slot = brand[ok], slot[ok]

    # ---- the funnel
    fit = _fit(cat, people, v_user, item, brand, level[sess]) + 0.5 * (slot >= 0)
    n = len(sess)
    clicked = rng.random(n) < rates.click_share
    favored = rng.random(n) < expit(rates.favorite_bias + rates.favorite_fit * fit)
    carted = rng.random(n) < expit(rates.cart_bias + rates.cart_fit * fit)
    bought = carted & (rng.random(n) < expit(rates.buy_bias + rates.buy_fit * fit))
    removed = carted & ~bought & (rng.random(n) < rates.remove_share)
    cart_ts = v_ts + (rng.uniform(10, 60, n) * SECOND).astype(np.int64)
    s_search = np.flatnonzero(searched)
    top = cat.leaf_top[mission_leaf[s_search]]
    any_brand = sample_blocks(rng, np.ones(len(cat.brand_top)).cumsum(), cat.brand_start,
                              cat.brand_end, top)
    s_brand = people.brands[user[s_search], late[s_search].astype(np.int64),
                            np.maximum(mission_slot[s_search], 0)]
    leaves = [leaf for t in vocab.CATALOG for sub in t.subs for leaf in sub.leaves]
    queries = text.search_queries(
        rng, people.zh[user[s_search]], top,
        text.pick([x.zh for x in leaves], mission_leaf[s_search]),
        text.pick([x.en for x in leaves], mission_leaf[s_search]),
        text.pick([x.singular for x in leaves], mission_leaf[s_search]),
        text.pick(cat.brand_names, np.where(mission_slot[s_search] >= 0, s_brand, any_brand)),
        level[s_search],
    )
    lines = pl.DataFrame({"s": sess[bought], "u": v_user[bought], "i": item[bought],
                          "fit": fit[bought]}).unique(["s", "i"], keep="first", maintain_order=True)
    lines = lines.with_columns(ts=checkout[lines["s"].to_numpy()].astype(np.int64))
    lines = lines.filter(pl.col("ts") < clock.end)
    parts: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = [
        ("search", user[s_search], np.full(s_search.size, -1), start[s_search], s_search),
        ("click", v_user[clicked], item[clicked],
         v_ts[clicked] - (rng.uniform(1, 5, clicked.sum()) * SECOND).astype(np.int64),
         sess[clicked]),
        ("view", v_user, item, v_ts, sess),
        ("favorite", v_user[favored], item[favored], v_ts[favored] + 8 * SECOND, sess[favored]),
        ("cart", v_user[carted], item[carted], cart_ts[carted], sess[carted]),
        ("remove_cart", v_user[removed], item[removed],
         cart_ts[removed] + (rng.uniform(30, 600, removed.sum()) * SECOND).astype(np.int64),
         sess[removed]),
        ("purchase", lines["u"].to_numpy(), lines["i"].to_numpy(), lines["ts"].to_numpy(),
         lines["s"].to_numpy()),
    ]
    orders, rated = _orders(rng, cat, clock, rates, lines)
    reviews = rated.filter(pl.col("review"))
    reviews = reviews.with_columns(text=text.review_texts(
        rng, people.zh[reviews["u"].to_numpy()], reviews["v"].to_numpy().astype(np.int64),
        np.array([t.sized for t in vocab.CATALOG])[cat.item_top[reviews["i"].to_numpy()]],
        cat.item_quality[reviews["i"].to_numpy()], cat.item_price_z[reviews["i"].to_numpy()],
    ))
    parts.append(("rate", rated["u"].to_numpy(), rated["i"].to_numpy(), rated["ts"].to_numpy(),
                  np.full(rated.height, -1)))
    events = _events(parts, queries, rated["v"].to_numpy(), clock)
    return Simulation(events, orders, reviews, n_sessions)


def _orders(
    rng: np.random.Generator, cat: Catalog, clock: Clock, rates: Rates, lines: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One order per session with purchases; statuses as of the window's end; ratings."""
    session = lines["s"].to_numpy()
    keys, order = np.unique(session, return_inverse=True)
    n_orders, n_lines = len(keys), len(session)
    item = lines["i"].to_numpy()
    created = np.zeros(n_orders, dtype=np.int64)
    created[order] = lines["ts"].to_numpy()
    consumable = np.array([t.consumable for t in vocab.CATALOG])[cat.item_top[item]]
    u = rng.random(n_lines)
    quantity = 1 + (u < np.where(consumable, 0.3, 0.08)) + (u < np.where(consumable, 0.1, 0.02))
    discount = np.array([0.0, 0.05, 0.1, 0.2])[rng.choice(4, n_lines, p=[0.7, 0.1, 0.12, 0.08])]
    unit_price = np.round(cat.item_price[item] * (1 - discount), 2)
    total = np.round(np.bincount(order, quantity * unit_price, minlength=n_orders), 2)

    satisfaction = (0.9 * cat.item_quality[item] + 0.4 * lines["fit"].to_numpy()
                    + rng.normal(0.0, 0.6, n_lines))
    returned_line = rng.random(n_lines) < expit(-3.2 - 1.5 * satisfaction)

    def later(low_h: float, high_h: float) -> np.ndarray:
        return (rng.uniform(low_h, high_h, n_orders) * HOUR).astype(np.int64)

    shipped = created + later(4, 30)
    delivered = shipped + later(20, 90)
    completed = delivered + 7 * DAY
    cancelled = created + later(0.2, 20)
    returned = delivered + later(24, 168)
    refunded = delivered + later(12, 120)
    cancel = rng.random(n_orders) < rates.cancel_share
    give_back = np.bincount(order, returned_line, minlength=n_orders) > 0
    refund = rng.random(n_orders) < rates.refund_share
    end = clock.end
    conditions = [cancel & (cancelled < end), cancel, give_back & (returned < end),
                  refund & (refunded < end), completed < end, delivered < end, shipped < end]
    names = ["cancelled", "created", "returned", "refunded", "completed", "delivered",
             "shipped"]
    status = np.select(conditions, [_STATUS[s] for s in names], _STATUS["paid"])
    updated = np.select(conditions, [cancelled, created, returned, refunded, completed,
                                     delivered, shipped], created + 60 * SECOND)
    orders = pl.DataFrame({
        "o": order, "u": lines["u"], "status": text.pick(ORDER_STATUSES, status[order]),
        "created_at": created[order], "updated_at": updated[order], "total": total[order],
        "i": item, "quantity": quantity.astype(np.int64), "unit_price": unit_price,
    })

    # ---- ratings: delivered lines, more often when the shopper is delighted or upset
    rate_ts = delivered[order] + (rng.uniform(0.5, 8.0, n_lines) * DAY).astype(np.int64)
    arrived = np.isin(status[order], [_STATUS[s] for s in
                                      ("delivered", "completed", "returned", "refunded")])
    chance = np.minimum(0.9, rates.rate_share * (0.6 + 0.5 * np.abs(satisfaction - 0.6)))
    rated = arrived & (rate_ts < end) & (rng.random(n_lines) < chance)
    stars = 1 + np.digitize(satisfaction, _RATING_CUTS)
    ratings = pl.DataFrame({
        "u": lines["u"].to_numpy()[rated], "i": item[rated], "ts": rate_ts[rated],
        "v": stars[rated].astype(np.float64),
        "review": rng.random(int(rated.sum())) < rates.review_text_share,
    }).sort("ts", maintain_order=True)
    return orders, ratings
