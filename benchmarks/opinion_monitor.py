"""Spike detector: false-alarm rate on stationary noise and detection rate of injected spikes.

Stationary: 500 products × 52 weekly windows, Poisson(40) reviews a week, 10 % negative,
5 seeds; every tested (product, week) that alerts is a false alarm. Spikes: one injected
window per run (product 0, week 40) at a negative rate of 20 / 30 / 40 %, 200 runs each;
detected when that window alerts. Default :class:`shopmind.reviews.monitor.SpikeDetector`.

Usage::

    python benchmarks/opinion_monitor.py --json benchmarks/results/opinion_monitor.json
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path

import polars as pl

from shopmind.reviews.monitor import SpikeDetector, detector_params, find_alerts
from shopmind.reviews.simulate import START, simulate_reviews


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    detector = SpikeDetector()
    tests = alarms = 0
    for seed in range(5):
        _, tested = find_alerts(simulate_reviews(500, 52, 0.1, seed=seed), "item_id", detector)
        tests += int(tested["p_value"].is_not_null().sum())
        alarms += int(tested["alert"].sum())
    power = {}
    week = START + timedelta(weeks=40)
    for rate in (0.2, 0.3, 0.4):
        hits = 0
        for seed in range(200):
            alerts, _ = find_alerts(simulate_reviews(1, 52, 0.1, seed=1000 + seed,
                                                     spike=(0, 40, rate)), "item_id", detector)
            hits += int(alerts.filter(pl.col("window_start") == week).height > 0)
        power[f"negative_rate_{rate}"] = hits / 200
    result = {"detector": detector_params(detector), "baseline_negative_rate": 0.1,
              "reviews_per_week": 40,
              "stationary": {"tests": tests, "false_alarms": alarms,
                             "false_alarm_rate": alarms / tests},
              "detection_rate": power}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
