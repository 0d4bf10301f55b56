"""Rich rendering of one user profile, for `shopmind profile USER_ID` and the demo."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from rich.console import RenderableType

from shopmind.features.profiles import TAG_LABELS

_SPARK = "▁▂▃▄▅▆▇█"
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _fmt(value: Any, spec: str = "", suffix: str = "") -> str:
    return "—" if value is None else f"{value:{spec}}{suffix}"


def _sparkline(counts: Any) -> str:
    values = np.asarray(counts if counts is not None else [], dtype=float)
    if not values.size or values.max() <= 0:
        return "·" * values.size
    levels = np.ceil(values / values.max() * (len(_SPARK) - 1)).astype(int)
    return "".join(_SPARK[i] for i in levels)


def _weights(entries: Any) -> str:
    return ", ".join(f"{e['name']} {e['weight']:.0%}" for e in entries or []) or "—"


def format_profile(profile: Mapping[str, Any]) -> RenderableType:
    """A rich panel showing one profile (a dict from :func:`profile_from_storage`).

    Examples
    --------
    >>> from rich.console import Console
    >>> Console(width=100).print(format_profile({"user_id": "u1"}))  # doctest: +ELLIPSIS
    ╭─...─ User u1 ─...╮
    ...
    """
    from rich.panel import Panel
    from rich.table import Table

    p = dict(profile)
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(overflow="fold")
    scores = " ".join(f"{k}{_fmt(p.get(f'{k.lower()}_score'))}" for k in "RFM")
    table.add_row("RFM segment 客户分群", f"[bold]{_fmt(p.get('rfm_segment'))}[/]  ({scores})")
    table.add_row("Lifecycle 生命周期", _fmt(p.get("lifecycle")))
    table.add_row(
        "Activity 活跃度",
        f"{_fmt(p.get('activity_level'))} · {_fmt(p.get('recent_events'))} recent events · "
        f"{_fmt(p.get('n_events'))} in all (views {_fmt(p.get('n_views'))}, "
        f"carts {_fmt(p.get('n_carts'))}, purchases {_fmt(p.get('n_purchases'))})",
    )
    table.add_row(
        "Seen 访问",
        f"first {_fmt(p.get('first_seen'), '%Y-%m-%d')}, "
        f"last {_fmt(p.get('last_seen'), '%Y-%m-%d')} "
        f"({_fmt(p.get('recency_days'), '.1f', ' days ago')})",
    )
    table.add_row(
        "Purchases 购买",
        f"{_fmt(p.get('frequency'))} · spent {_fmt(p.get('monetary'), ',.2f')} · last "
        f"{_fmt(p.get('purchase_recency_days'), '.1f', ' days ago')}",
    )
    table.add_row(
        "Price 价格偏好",
        f"{_fmt(p.get('price_band'))} (typical {_fmt(p.get('typical_price'), ',.2f')}, "
        f"percentile {_fmt(p.get('price_percentile'), '.0%')}) · sensitivity "
        f"{_fmt(p.get('price_sensitivity'), '.2f')}",
    )
    table.add_row("Categories 品类", _weights(p.get("top_categories")))
    table.add_row("Leaf categories 细分品类", _weights(p.get("top_leaf_categories")))
    table.add_row("Brands 品牌", _weights(p.get("top_brands")))
    peak_hour, peak_day = p.get("peak_hour"), p.get("peak_weekday")
    table.add_row(
        "Hours 活跃时段",
        f"{_sparkline(p.get('hour_histogram'))}  peak {_fmt(peak_hour, '02d', ':00')}",
    )
    table.add_row(
        "Weekdays 活跃日",
        f"{_sparkline(p.get('weekday_histogram'))}  peak "
        f"{_WEEKDAYS[peak_day] if peak_day is not None else '—'}",
    )
    tags = [f"{t} / {TAG_LABELS.get(t, t)}" for t in p.get("tags") or []]
    table.add_row("Tags 标签", "[green]" + (", ".join(tags) or "—") + "[/]")
    as_of = p.get("as_of")
    return Panel(
        table,
        title=f"User {p.get('user_id')}",
        subtitle=f"as of {as_of:%Y-%m-%d %H:%M %Z}" if as_of else None,
        expand=False,
    )
