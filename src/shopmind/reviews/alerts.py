"""Alerts for a shop: spike tests by product, brand and category, saved with one plot each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from shopmind.errors import InputError
from shopmind.reviews.monitor import SpikeDetector, detector_params, find_alerts
from shopmind.reviews.plots import alert_plot

LEVELS = ("item_id", "brand", "category")


def run_alerts(scores: pl.DataFrame, folder: Path, detector: SpikeDetector | None = None,
               every: str = "1w", plots: bool = True) -> list[dict[str, Any]]:
    """Find alerts at every level present in ``scores``; write ``alerts.json`` (+ PNGs,
    replacing those of the previous run).

    Returns the alerts, newest first, each with ``plot`` (path or ``None``).
    """
    detector = detector or SpikeDetector()
    found: list[dict[str, Any]] = []
    for level in (lv for lv in LEVELS if lv in scores.columns):
        alerts, tested = find_alerts(scores, level, detector, every)
        for alert in alerts.to_dicts():
            alert["plot"] = (str(alert_plot(tested, level, alert, folder / "alerts"))
                             if plots else None)
            found.append(alert)
    found.sort(key=lambda a: a["window_start"], reverse=True)
    payload = {"detector": detector_params(detector), "every": every,
               "alerts": [_jsonable(a) for a in found]}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alerts.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False))
    current = {Path(a["plot"]).name for a in found if a["plot"]}
    for stale in (folder / "alerts").glob("alert_*.png"):  # plots of an earlier run
        if stale.name not in current:
            stale.unlink()
    return found


def load_alerts(folder: Path) -> list[dict[str, Any]]:
    """Alerts saved by :func:`run_alerts` (empty list if none were computed yet)."""
    path = folder / "alerts.json"
    if not path.is_file():
        return []
    try:
        return list(json.loads(path.read_text())["alerts"])
    except (ValueError, KeyError) as exc:
        raise InputError(f"{path} is not an alerts file ({exc}); rerun `shopmind reviews "
                         "alerts`") from None


def _jsonable(alert: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in alert.items()}
