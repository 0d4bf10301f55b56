"""User profiles (用户画像), computed in batch with Polars — no Python loop over rows or users.

:func:`compute_profiles` turns events, items and orders into one row per user; a profile
describes behaviour *as of* a reference time ``as_of`` (default: the latest event), and only
events and orders at or before ``as_of`` count. :func:`compute_and_store_profiles` reads the
inputs from a :class:`~shopmind.data.store.Store` and writes the ``profiles`` table;
:func:`format_profile` renders one profile for ``shopmind profile USER_ID``.

Definitions (``d`` = one day, ages measured back from ``as_of``)
-----------------------------------------------------------------
Purchases
    If the shop has orders (status not cancelled/returned/refunded), *frequency* is the number
    of a user's orders and *monetary* the sum of their ``total``; otherwise frequency counts
    ``purchase`` events and monetary sums the purchased items' prices. The choice is made
    once per shop, so users are never compared on different scales. *Buyers* have
    frequency > 0.
RFM scores (1–5, quintiles over the shop's buyers)
    For a metric :math:`x` among the :math:`n` buyers, with :math:`r_{\\min}(x)` the 1-based
    rank (ties share the lowest rank),
    :math:`\\text{score} = 1 + \\lfloor 5 (r_{\\min}(x) - 1) / n \\rfloor`.
    R ranks the time of the last purchase (later is better), F the frequency, M the monetary
    value. Non-buyers have null scores and the segment ``prospect``.
RFM segment, from R and :math:`FM = \\lfloor (F + M + 1) / 2 \\rfloor`

    ==================  ========  =========
    segment             R         FM
    ==================  ========  =========
    champions           5         4–5
    loyal               3–4       4–5
    potential_loyalist  4–5       2–3
    new                 5         1
    promising           4         1
    need_attention      3         3
    about_to_sleep      3         1–2
    at_risk             1–2       3–4
    cant_lose           1–2       5
    hibernating         2         1–2
    lost                1         1–2
    prospect            no purchase
    ==================  ========  =========
Affinities
    Each event scores :math:`w_{\\text{type}} \\cdot 2^{-\\text{age}/h}` (``weights`` as in
    :data:`~shopmind.features.interactions.DEFAULT_WEIGHTS`, half-life :math:`h` =
    ``half_life_days``). A user's score of a category (top level ``A`` of the path
    ``A > B > C``, and the leaf = the full path) or brand is the sum over the user's events
    on it; weights are the scores divided by the user's total over all categories (or
    brands), so a top-k list sums to at most 1. Ties are broken by name.
Price
    *typical_price* is the median price of the items the user touched (every event with a
    priced item). *price_percentile* is the share of the shop's priced items costing at most
    that much, bucketed ``budget`` < 0.25 ≤ ``mid`` < 0.75 ≤ ``premium`` < 0.95 ≤ ``luxury``.
    *price_sensitivity* is 1 minus the mean mid-rank percentile
    :math:`(r_{\\text{avg}} - 0.5) / n_c` of the user's carted and purchased items within their
    category (all items of the same category path; uncategorised items form one group):
    near 1 means the user picks the cheapest items on offer.
Activity and lifecycle (thresholds are keyword arguments)
    *recent_events* counts events in the last ``activity_window_days`` (30 d):
    0 ``inactive``, 1–4 ``low``, 5–19 ``medium``, ≥ 20 ``high``. With *recency_days* = days
    since the last event or order and *tenure* = days since the first one, the lifecycle is
    the first of: ``churned`` if recency > ``churned_days`` (90), ``at_risk`` if recency >
    ``at_risk_days`` (30), ``new`` if tenure ≤ ``new_days`` (30), else ``active``.
Habits
    24-hour and 7-day histograms of events in the shop's time zone ``tz`` (weekday 0 =
    Monday), the peak hour and weekday (earliest on ties), the night share (hours 23–04) and
    the weekend share.
Tags (English key / 中文 label; thresholds in :class:`ProfileRules`)
    - ``price-sensitive`` 价格敏感 — price_sensitivity ≥ 0.7 over ≥ 2 carted/purchased
      priced items
    - ``brand-loyal`` 品牌忠诚 — top brand weight ≥ 0.5 and ≥ 5 events on branded items
    - ``big-spender`` 高消费 — M score = 5
    - ``loyal-customer`` 忠实客户 — segment champions or loyal
    - ``window-shopper`` 只逛不买 — ≥ 10 views + clicks and no purchase (frequency 0)
    - ``cart-abandoner`` 加购未买 — ≥ 2 carted items never purchased, and they are ≥ half
      of the carted items
    - ``night-owl`` 夜猫子 — night share ≥ 0.3 over ≥ 5 events
    - ``weekend-shopper`` 周末购物 — weekend share ≥ 0.5 over ≥ 5 events
    - ``new-customer`` 新客 — lifecycle new
    - ``churn-risk`` 流失风险 — lifecycle at_risk, or segment at_risk or cant_lose
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import orjson
import polars as pl

from shopmind.data.schema import CATEGORY_SEPARATOR
from shopmind.errors import InputError
from shopmind.features.idmap import IdMap
from shopmind.features.interactions import (
    DEFAULT_WEIGHTS,
    EventWeight,
    decay,
    event_weight,
    to_epoch_us,
)

if TYPE_CHECKING:

    from shopmind.data.store import Store

_US_PER_DAY = 86_400 * 1_000_000
_UTC_US = pl.Datetime("us", "UTC")
_EVENT_SCHEMA = {"user_id": pl.String, "item_id": pl.String, "type": pl.String, "ts": _UTC_US,
                 "value": pl.Float64}
_ITEM_SCHEMA = {"item_id": pl.String, "category": pl.String, "brand": pl.String,
                "price": pl.Float64}
_ORDER_SCHEMA = {"order_id": pl.String, "user_id": pl.String, "created_at": _UTC_US,
                 "total": pl.Float64, "status": pl.String}
#: Order statuses that do not count as purchases.
EXCLUDED_ORDER_STATUSES = ("cancelled", "returned", "refunded")

_SEGMENT_RULES: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...] = (
    ("champions", (5,), (4, 5)),
    ("loyal", (3, 4), (4, 5)),
    ("potential_loyalist", (4, 5), (2, 3)),
    ("new", (5,), (1,)),
    ("promising", (4,), (1,)),
    ("need_attention", (3,), (3,)),
    ("about_to_sleep", (3,), (1, 2)),
    ("at_risk", (1, 2), (3, 4)),
    ("cant_lose", (1, 2), (5,)),
    ("hibernating", (2,), (1, 2)),
    ("lost", (1,), (1, 2)),
)
#: ``(R, FM) -> segment`` for every pair of scores 1–5.
SEGMENTS: dict[tuple[int, int], str] = {
    (r, fm): name for name, rs, fms in _SEGMENT_RULES for r in rs for fm in fms
}
PROSPECT = "prospect"

#: Behaviour tags: English key → Chinese label.
TAG_LABELS: dict[str, str] = {
    "price-sensitive": "价格敏感",
    "brand-loyal": "品牌忠诚",
    "big-spender": "高消费",
    "loyal-customer": "忠实客户",
    "window-shopper": "只逛不买",
    "cart-abandoner": "加购未买",
    "night-owl": "夜猫子",
    "weekend-shopper": "周末购物",
    "new-customer": "新客",
    "churn-risk": "流失风险",
}

#: Columns of :func:`compute_profiles`, in order. The storage form keeps ``user_id``,
#: ``rfm_segment`` and ``lifecycle`` as columns and the rest in the JSON ``data`` column.
PROFILE_COLUMNS: tuple[str, ...] = (
    "user_id", "as_of", "n_events", "n_views", "n_clicks", "n_carts", "n_purchases",
    "first_seen", "last_seen", "recency_days", "purchase_recency_days", "frequency",
    "monetary", "r_score", "f_score", "m_score", "rfm_segment", "top_categories",
    "top_leaf_categories", "top_brands", "brand_loyalty", "typical_price", "price_percentile",
    "price_band", "price_sensitivity", "recent_events", "activity_level", "lifecycle",
    "hour_histogram", "peak_hour", "weekday_histogram", "peak_weekday", "night_share",
    "weekend_share", "n_cart_items", "n_abandoned_cart_items", "tags", "tags_zh",
)
_DATETIME_FIELDS = ("as_of", "first_seen", "last_seen")


@dataclass(frozen=True)
class ProfileRules:
    """Thresholds of the activity buckets, price bands and tags (see the module docstring)."""

    activity_window_days: float = 30.0
    activity_bins: tuple[int, int, int] = (1, 5, 20)  # first count of low, medium, high
    price_band_edges: tuple[float, float, float] = (0.25, 0.75, 0.95)
    price_sensitive_min: float = 0.7
    price_sensitive_min_items: int = 2
    brand_loyal_min_weight: float = 0.5
    brand_loyal_min_events: int = 5
    window_shopper_min_views: int = 10
    cart_abandoner_min_items: int = 2
    cart_abandoner_min_rate: float = 0.5
    night_hours: tuple[int, ...] = (23, 0, 1, 2, 3, 4)
    night_owl_min_share: float = 0.3
    weekend_min_share: float = 0.5
    habit_min_events: int = 5

    def __post_init__(self) -> None:
        if list(self.activity_bins) != sorted(self.activity_bins):
            raise InputError(f"activity_bins must increase, got {self.activity_bins}")
        edges = self.price_band_edges
        if list(edges) != sorted(edges) or not 0 < edges[0] <= edges[-1] <= 1:
            raise InputError(f"price_band_edges must increase within (0, 1], got {edges}")
        if not all(0 <= h <= 23 for h in self.night_hours):
            raise InputError(f"night_hours must lie in 0–23, got {self.night_hours}")


# --------------------------------------------------------------------------- inputs


def _coerce(frame: pl.DataFrame | None, schema: Mapping[str, Any], what: str) -> pl.DataFrame:
    """Select ``schema``'s columns with its dtypes (absent columns become null)."""
    if frame is None:
        return pl.DataFrame(schema=dict(schema))
    exprs = []
    for name, dtype in schema.items():
        if name not in frame.columns:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
            continue
        have = frame.schema[name]
        col = pl.col(name)
        if dtype == _UTC_US and isinstance(have, pl.Datetime):
            col = col.dt.replace_time_zone("UTC") if have.time_zone is None else col
            col = col.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        elif dtype == _UTC_US and not (have.is_integer() or have == pl.Null):
            raise InputError(f"{what}.{name} must be a datetime or Int64 µs, got {have}")
        exprs.append(col.cast(dtype).alias(name))
    return frame.select(exprs)


def _resolve_as_of(as_of: datetime | None, events: pl.DataFrame, orders: pl.DataFrame) -> int:
    if as_of is not None:
        return to_epoch_us(as_of)
    latest = pl.concat([events["ts"], orders["created_at"].rename("ts")]).max()
    return to_epoch_us(latest) if isinstance(latest, datetime) else 0


def _check_tz(tz: str) -> None:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"unknown time zone {tz!r}; use an IANA name like 'Asia/Shanghai'") \
            from None


# --------------------------------------------------------------------------- parts


def _per_user(ev: pl.DataFrame, od: pl.DataFrame, as_of_us: int, window_days: float
              ) -> pl.DataFrame:
    """Counts, first/last times, frequency and monetary: one row per user (sorted)."""
    t, typ = pl.col("t"), pl.col("type")
    from_events = ev.group_by("user_id").agg(
        n_events=pl.len().cast(pl.Int64),
        **{f"n_{n}s": (typ == n).sum().cast(pl.Int64) for n in ("view", "click", "cart")},
        n_purchases=(typ == "purchase").sum().cast(pl.Int64),
        first_event=t.min(),
        last_event=t.max(),
        last_purchase_event=t.filter(typ == "purchase").max(),
        purchase_value=pl.col("price").filter(typ == "purchase").sum(),
        recent_events=(t > as_of_us - window_days * _US_PER_DAY).sum().cast(pl.Int64),
        typical_price=pl.col("price").median(),
        n_branded=pl.col("brand").is_not_null().sum().cast(pl.Int64),
    )
    created = pl.col("created_at").dt.epoch("us")
    from_orders = od.group_by("user_id").agg(
        n_orders=pl.len().cast(pl.Int64),
        order_value=pl.col("total").fill_null(0.0).sum(),
        first_order=created.min(),
        last_order=created.max(),
    )
    use_orders = od.height > 0
    counts = ["n_events", "n_views", "n_clicks", "n_carts", "n_purchases", "recent_events",
              "n_branded", "n_orders"]
    users = (
        from_events.join(from_orders, on="user_id", how="full", coalesce=True)
        .with_columns(pl.col(counts).fill_null(0), pl.col("purchase_value").fill_null(0.0))
        .with_columns(
            frequency=pl.col("n_orders" if use_orders else "n_purchases"),
            monetary=pl.col("order_value" if use_orders else "purchase_value").fill_null(0.0),
            last_purchase=pl.col("last_order" if use_orders else "last_purchase_event"),
            first_us=pl.min_horizontal("first_event", "first_order"),
            last_us=pl.max_horizontal("last_event", "last_order"),
        )
    )
    def days(us: pl.Expr) -> pl.Expr:
        return (pl.lit(as_of_us) - us) / _US_PER_DAY

    return users.sort("user_id").with_columns(
        as_of=pl.lit(as_of_us).cast(_UTC_US),
        first_seen=pl.col("first_us").cast(_UTC_US),
        last_seen=pl.col("last_us").cast(_UTC_US),
        recency_days=days(pl.col("last_us")),
        tenure_days=days(pl.col("first_us")),
        purchase_recency_days=days(pl.col("last_purchase")),
    )


def _rfm_scores(users: pl.DataFrame) -> pl.DataFrame:
    buyer = pl.col("frequency") > 0

    def score(metric: str) -> pl.Expr:
        x = pl.when(buyer).then(pl.col(metric))
        return (1 + (5 * (x.rank("min").cast(pl.Int64) - 1)) // x.count()).cast(pl.Int8)

    grid = {(r - 1) * 5 + (fm - 1): name for (r, fm), name in SEGMENTS.items()}
    fm = (pl.col("f_score").cast(pl.Int32) + pl.col("m_score") + 1) // 2
    cell = (pl.col("r_score").cast(pl.Int32) - 1) * 5 + (fm - 1)
    return users.with_columns(
        r_score=score("last_purchase"), f_score=score("frequency"), m_score=score("monetary")
    ).with_columns(
        rfm_segment=pl.when(buyer)
        .then(cell.replace_strict(grid, default=None, return_dtype=pl.String))
        .otherwise(pl.lit(PROSPECT))
    )


def _top_k(ev: pl.DataFrame, key: str, k: int, out: str) -> pl.DataFrame:
    """Per user: the ``k`` keys with the largest share of the user's decayed score."""
    entry = pl.struct(name=pl.col(key), weight=pl.col("weight"))
    return (
        ev.filter(pl.col(key).is_not_null() & pl.col("aff").is_not_null())
        .group_by("user_id", key)
        .agg(score=pl.col("aff").sum())
        .filter(pl.col("score") > 0)
        .with_columns(weight=pl.col("score") / pl.col("score").sum().over("user_id"))
        .group_by("user_id")
        .agg(entry.sort_by("weight", key, descending=[True, False]).head(k).alias(out))
    )


def _price_features(ev: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """Per user: mean within-category price percentile of carted/purchased items."""
    group = pl.col("category").fill_null("")
    pct = (
        items.filter(pl.col("price").is_not_null())
        .with_columns(
            cat_pct=(pl.col("price").rank("average").over(group) - 0.5)
            / pl.len().over(group)
        )
        .select("item_id", "cat_pct")
    )
    return (
        ev.filter(pl.col("type").is_in(["cart", "purchase"]))
        .join(pct, on="item_id", how="inner")
        .group_by("user_id")
        .agg(price_sensitivity=1.0 - pl.col("cat_pct").mean(), n_priced_intents=pl.len())
    )


def _cart_features(ev: pl.DataFrame) -> pl.DataFrame:
    typ = pl.col("type")
    return (
        ev.filter(typ.is_in(["cart", "purchase"]) & pl.col("item_id").is_not_null())
        .group_by("user_id", "item_id")
        .agg(carted=(typ == "cart").any(), bought=(typ == "purchase").any())
        .group_by("user_id")
        .agg(
            n_cart_items=pl.col("carted").sum().cast(pl.Int64),
            n_abandoned_cart_items=(pl.col("carted") & ~pl.col("bought")).sum().cast(pl.Int64),
        )
    )


def _habits(ev: pl.DataFrame, user_ids: pl.Series, tz: str, night_hours: tuple[int, ...]
            ) -> pl.DataFrame:
    """Hour/weekday histograms via ``np.bincount`` over ``user_index * bins + bin``."""
    n = len(user_ids)
    codes = IdMap(user_ids).to_index(ev["user_id"]).astype(np.int64)
    local = ev.select(
        h=pl.col("ts").dt.convert_time_zone(tz).dt.hour().cast(pl.Int64),
        w=pl.col("ts").dt.convert_time_zone(tz).dt.weekday().cast(pl.Int64) - 1,
    )
    hours = np.bincount(codes * 24 + local["h"].to_numpy(), minlength=n * 24).reshape(n, 24)
    days = np.bincount(codes * 7 + local["w"].to_numpy(), minlength=n * 7).reshape(n, 7)
    total = hours.sum(axis=1)
    has = total > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        night = np.where(has, hours[:, list(night_hours)].sum(axis=1) / total, np.nan)
        weekend = np.where(has, days[:, 5:].sum(axis=1) / total, np.nan)
    return pl.DataFrame({
        "user_id": user_ids,
        "hour_histogram": pl.Series(hours.astype(np.int32), dtype=pl.Array(pl.Int32, 24)),
        "peak_hour": pl.Series(np.where(has, hours.argmax(axis=1), -1), dtype=pl.Int8),
        "weekday_histogram": pl.Series(days.astype(np.int32), dtype=pl.Array(pl.Int32, 7)),
        "peak_weekday": pl.Series(np.where(has, days.argmax(axis=1), -1), dtype=pl.Int8),
        "night_share": night,
        "weekend_share": weekend,
    }).with_columns(
        pl.col("peak_hour", "peak_weekday").replace(-1, None),
        pl.col("night_share", "weekend_share").fill_nan(None),
    )


def _price_percentile(typical: pl.Series, items: pl.DataFrame) -> pl.Series:
    """Share of the shop's priced items costing at most ``typical`` (null without prices)."""
    prices = np.sort(items["price"].drop_nulls().to_numpy())
    values = typical.cast(pl.Float64).fill_null(np.nan).to_numpy()
    if len(prices) == 0:
        return pl.Series("price_percentile", [None] * len(values), dtype=pl.Float64)
    pct = np.searchsorted(prices, values, side="right") / len(prices)
    return pl.Series("price_percentile", np.where(np.isnan(values), np.nan, pct)).fill_nan(None)


def _bucket(x: pl.Expr, edges: tuple[float, ...], labels: tuple[str, ...]) -> pl.Expr:
    expr: Any = pl.when(x.is_null()).then(pl.lit(None, dtype=pl.String))
    for edge, label in zip(edges, labels, strict=False):
        expr = expr.when(x < edge).then(pl.lit(label))
    return expr.otherwise(pl.lit(labels[-1]))


def _tags(rules: ProfileRules) -> pl.Expr:
    c = pl.col
    buyer = c("frequency") > 0
    rules_by_tag = {
        "price-sensitive": (c("price_sensitivity") >= rules.price_sensitive_min)
        & (c("n_priced_intents") >= rules.price_sensitive_min_items),
        "brand-loyal": (c("brand_loyalty") >= rules.brand_loyal_min_weight)
        & (c("n_branded") >= rules.brand_loyal_min_events),
        "big-spender": c("m_score") == 5,
        "loyal-customer": c("rfm_segment").is_in(["champions", "loyal"]),
        "window-shopper": ~buyer
        & (c("n_views") + c("n_clicks") >= rules.window_shopper_min_views),
        "cart-abandoner": (c("n_abandoned_cart_items") >= rules.cart_abandoner_min_items)
        & (c("n_abandoned_cart_items")
           >= rules.cart_abandoner_min_rate * c("n_cart_items")),
        "night-owl": (c("night_share") >= rules.night_owl_min_share)
        & (c("n_events") >= rules.habit_min_events),
        "weekend-shopper": (c("weekend_share") >= rules.weekend_min_share)
        & (c("n_events") >= rules.habit_min_events),
        "new-customer": c("lifecycle") == "new",
        "churn-risk": (c("lifecycle") == "at_risk")
        | c("rfm_segment").is_in(["at_risk", "cant_lose"]),
    }
    return pl.concat_list(
        [pl.when(cond.fill_null(False)).then(pl.lit(tag)) for tag, cond in rules_by_tag.items()]
    ).list.drop_nulls()


# --------------------------------------------------------------------------- public


def compute_profiles(
    events: pl.DataFrame,
    items: pl.DataFrame | None = None,
    orders: pl.DataFrame | None = None,
    *,
    as_of: datetime | None = None,
    half_life_days: float = 30.0,
    top_k: int = 5,
    tz: str = "UTC",
    weights: Mapping[str, EventWeight] = DEFAULT_WEIGHTS,
    new_days: float = 30.0,
    at_risk_days: float = 30.0,
    churned_days: float = 90.0,
    rules: ProfileRules | None = None,
) -> pl.DataFrame:
    """Compute one profile per user who has an event or an order at or before ``as_of``.

    Parameters
    ----------
    events : polars.DataFrame
        ``user_id``, ``item_id``, ``type``, ``ts`` (UTC datetimes or Int64 µs), ``value``.
    items : polars.DataFrame, optional
        ``item_id``, ``category`` (path ``A > B > C``), ``brand``, ``price``.
    orders : polars.DataFrame, optional
        ``order_id``, ``user_id``, ``created_at``, ``total``, ``status``; when empty,
        frequency and monetary come from purchase events × item price.
    as_of : datetime, optional
        Reference time (timezone-aware); default the latest event (or order).
    half_life_days : float, default 30
        Half-life of the affinity decay ``2 ** (-age / half_life_days)``.
    top_k : int, default 5
        Length of the category and brand lists.
    tz : str, default "UTC"
        The shop's time zone for the hour and weekday habits.
    weights : mapping, default :data:`~shopmind.features.interactions.DEFAULT_WEIGHTS`
        Event-type weights of the affinities.
    new_days, at_risk_days, churned_days : float
        Lifecycle thresholds in days (module docstring).
    rules : ProfileRules, optional
        Activity buckets, price bands and tag thresholds.

    Returns
    -------
    polars.DataFrame
        Columns :data:`PROFILE_COLUMNS`, one row per user, sorted by ``user_id``.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> ev = pl.DataFrame({"user_id": ["u1"], "item_id": ["i1"], "type": ["view"],
    ...                    "ts": [datetime(2024, 5, 1, tzinfo=UTC)]})
    >>> p = compute_profiles(ev).row(0, named=True)
    >>> p["lifecycle"], p["rfm_segment"], p["peak_hour"]
    ('new', 'prospect', 0)
    """
    rules = rules or ProfileRules()
    _check_tz(tz)
    if top_k < 1:
        raise InputError(f"top_k must be ≥ 1, got {top_k}")
    if not 0 <= at_risk_days < churned_days:
        raise InputError(
            f"need 0 ≤ at_risk_days < churned_days, got {at_risk_days} and {churned_days}"
        )
    ev = _coerce(events, _EVENT_SCHEMA, "events")
    it = _coerce(items, _ITEM_SCHEMA, "items").unique("item_id", keep="last")
    od = _coerce(orders, _ORDER_SCHEMA, "orders")
    as_of_us = _resolve_as_of(as_of, ev, od)

    t = pl.col("ts").dt.epoch("us")
    path = pl.col("category").str.split(CATEGORY_SEPARATOR.strip()).list.eval(
        pl.element().str.strip_chars()
    )
    ev = (
        ev.filter(pl.col("user_id").is_not_null() & (t <= as_of_us))
        .join(it, on="item_id", how="left")
        .with_columns(
            t=t,
            aff=event_weight(weights) * decay(t, as_of_us, half_life_days),
            category_top=path.list.first(),
            category_leaf=path.list.join(CATEGORY_SEPARATOR),
        )
    )
    od = od.filter(
        pl.col("user_id").is_not_null()
        & (pl.col("created_at").dt.epoch("us") <= as_of_us)
        & ~pl.col("status").fill_null("").is_in(list(EXCLUDED_ORDER_STATUSES))
    )

    users = _rfm_scores(_per_user(ev, od, as_of_us, rules.activity_window_days))
    for key, out in (("category_top", "top_categories"), ("category_leaf", "top_leaf_categories"),
                     ("brand", "top_brands")):
        users = users.join(_top_k(ev, key, top_k, out), on="user_id", how="left")
    users = (
        users.join(_price_features(ev, it), on="user_id", how="left")
        .join(_cart_features(ev), on="user_id", how="left")
        .join(_habits(ev, users["user_id"], tz, rules.night_hours), on="user_id", how="left")
        .with_columns(_price_percentile(users["typical_price"], it))
    )
    recency, tenure = pl.col("recency_days"), pl.col("tenure_days")
    users = users.with_columns(
        pl.col("top_categories", "top_leaf_categories", "top_brands").fill_null([]),
        pl.col("n_cart_items", "n_abandoned_cart_items", "n_priced_intents").fill_null(0),
        brand_loyalty=pl.col("top_brands").list.first().struct.field("weight"),
        price_band=_bucket(pl.col("price_percentile"), rules.price_band_edges,
                           ("budget", "mid", "premium", "luxury")),
        activity_level=_bucket(pl.col("recent_events"), rules.activity_bins,
                               ("inactive", "low", "medium", "high")),
        lifecycle=pl.when(recency > churned_days).then(pl.lit("churned"))
        .when(recency > at_risk_days).then(pl.lit("at_risk"))
        .when(tenure <= new_days).then(pl.lit("new"))
        .otherwise(pl.lit("active")),
    )
    users = users.with_columns(tags=_tags(rules))
    return users.with_columns(
        tags_zh=pl.col("tags").list.eval(
            pl.element().replace_strict(TAG_LABELS, return_dtype=pl.String)
        )
    ).select(PROFILE_COLUMNS)


def profiles_to_storage(
    profiles: pl.DataFrame, *, computed_at: datetime | None = None
) -> pl.DataFrame:
    """The ``profiles`` table in storage form, ready for ``Chunk(frames={"profiles": …})``.

    Columns ``user_id``, ``computed_at`` (Int64 µs; default now), ``rfm_segment``,
    ``lifecycle`` and ``data``: every other column as one JSON object, encoded column-wise by
    Polars (datetimes as ISO-8601 strings). :func:`profile_from_storage` inverts it.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> ev = pl.DataFrame({"user_id": ["u1"], "item_id": ["i1"], "type": ["view"],
    ...                    "ts": [datetime(2024, 5, 1, tzinfo=UTC)]})
    >>> row = profiles_to_storage(compute_profiles(ev)).row(0, named=True)
    >>> profile_from_storage(row)["first_seen"]
    datetime.datetime(2024, 5, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    computed_us = to_epoch_us(computed_at or datetime.now(UTC))
    rest = [c for c in profiles.columns if c not in ("user_id", "rfm_segment", "lifecycle")]
    return profiles.select(
        "user_id",
        computed_at=pl.lit(computed_us, dtype=pl.Int64),
        rfm_segment="rfm_segment",
        lifecycle="lifecycle",
        data=pl.struct(rest).struct.json_encode(),
    )


def profile_from_storage(row: Mapping[str, Any]) -> dict[str, Any]:
    """One stored row (from ``read_table`` or :func:`profiles_to_storage`) → a profile dict.

    The keys are :data:`PROFILE_COLUMNS` plus ``computed_at``, with the values
    :func:`compute_profiles` gives (datetimes timezone-aware).
    """
    data = orjson.loads(row["data"])
    for name in _DATETIME_FIELDS:
        if isinstance(data.get(name), str):
            data[name] = datetime.fromisoformat(data[name])
    computed = row.get("computed_at")
    if isinstance(computed, int):
        computed = datetime.fromtimestamp(computed / 1e6, tz=UTC)
    merged = {**data, "user_id": row["user_id"], "rfm_segment": row.get("rfm_segment"),
              "lifecycle": row.get("lifecycle")}
    profile = {name: merged.get(name) for name in PROFILE_COLUMNS}
    profile["computed_at"] = computed
    return profile


def compute_and_store_profiles(
    store: Store,
    shop_id: str,
    *,
    as_of: datetime | None = None,
    half_life_days: float = 30.0,
    **options: Any,
) -> int:
    """Read events, items and orders of ``shop_id``, compute profiles, upsert them.

    Users who opted out of personalization (``consent_personalization`` false) get none.
    ``options`` go to :func:`compute_profiles`. Returns the number of profiles written.
    """
    from shopmind.data.store import Chunk

    users = store.read_table(shop_id, "users", columns=["user_id", "consent_personalization"])
    opted_out = users.filter(pl.col("consent_personalization").eq(False))["user_id"]
    keep = ~pl.col("user_id").is_in(opted_out.implode())
    events = store.read_table(shop_id, "events",
                              columns=["user_id", "item_id", "type", "ts", "value"]).filter(keep)
    items = store.read_table(shop_id, "items", columns=["item_id", "category", "brand", "price"])
    orders = store.read_table(
        shop_id, "orders", columns=["order_id", "user_id", "created_at", "total", "status"]
    ).filter(keep)
    profiles = compute_profiles(
        events, items, orders, as_of=as_of, half_life_days=half_life_days, **options
    )
    if profiles.height:
        store.apply_chunk(shop_id, Chunk(frames={"profiles": profiles_to_storage(profiles)}))
    return profiles.height
