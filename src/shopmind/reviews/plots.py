"""A PNG trend plot per alert: the group's weekly negative share, its baseline, the spike."""

from __future__ import annotations

import hashlib
import re
import warnings
from pathlib import Path
from typing import Any

import polars as pl


def alert_plot_name(alert: dict[str, Any]) -> str:
    """``alert_<level>_<group>_<window start>_<hash>.png``: the hour is part of the window
    (hourly alerts of one day get a file each) and a short hash of the exact group keeps
    groups apart that read alike once cut to safe characters (``Brand/A``, ``Brand_A``).

    >>> from datetime import UTC, datetime
    >>> alert = {"level": "brand", "group": "Brand/A",
    ...          "window_start": datetime(2026, 6, 2, 20, tzinfo=UTC)}
    >>> alert_plot_name(alert)
    'alert_brand_Brand_A_2026-06-02T20h_adb4f0.png'
    """
    safe = re.sub(r"[^\w.-]+", "_", str(alert["group"]))[:60]
    digest = hashlib.sha1(str(alert["group"]).encode()).hexdigest()[:6]
    return f"alert_{alert['level']}_{safe}_{alert['window_start']:%Y-%m-%dT%Hh}_{digest}.png"


def alert_plot(tested: pl.DataFrame, by: str, alert: dict[str, Any], folder: str | Path
               ) -> Path:
    """Draw the alert group's series from ``tested`` (see ``monitor.find_alerts``).

    Returns the written PNG path, ``folder/`` + :func:`alert_plot_name`.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only, never a display
    import matplotlib.pyplot as plt

    series = tested.filter(pl.col(by) == alert["group"]).sort("window_start")
    when = series["window_start"].to_list()
    # no baseline yet in a group's first windows: a gap, not a line at 0
    baseline = series.select(pl.when(pl.col("baseline_reviews") > 0)
                             .then(pl.col("baseline_share"))).to_series().to_list()
    with plt.rc_context({"font.family": ["sans-serif"],
                         "font.sans-serif": ["DejaVu Sans", *cjk_fonts()]}), \
            warnings.catch_warnings():
        # a bare machine has no Chinese font: boxes, without a warning per glyph
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        return _draw(series, when, baseline, alert, Path(folder), plt)


def cjk_fonts() -> list[str]:
    """Installed fonts with Chinese glyphs, tried after the default one per character
    (none on a bare machine: group names in Chinese are then drawn as boxes)."""
    from matplotlib import font_manager

    known = {f.name for f in font_manager.fontManager.ttflist}
    return [name for name in _CJK_FONTS if name in known]


_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
              "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC",
              "Hiragino Sans GB", "Arial Unicode MS")


def _draw(series: pl.DataFrame, when: list[Any], baseline: list[float | None],
          alert: dict[str, Any], folder: Path, plt: Any) -> Path:
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1]})
    top.plot(when, series["negative_share"].to_list(), marker="o", label="negative share")
    top.plot(when, [float("nan") if b is None else b for b in baseline], linestyle="--",
             label="baseline")
    top.axvline(alert["window_start"], color="red", alpha=0.4, linewidth=6, label="alert")
    top.set_ylabel("negative share")
    top.set_title(f"{alert['level']} {alert['group']}: p={alert['p_value']:.2g}")
    top.legend(loc="upper left")
    bottom.bar(when, series["reviews"].to_list(), width=3, color="grey")
    bottom.set_ylabel("reviews")
    fig.autofmt_xdate()
    fig.tight_layout()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / alert_plot_name(alert)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
