"""Spike detector: fires on an injected spike, stays quiet on stationary noise (rate measured)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from shopmind.errors import InputError
from shopmind.reviews.alerts import load_alerts, run_alerts
from shopmind.reviews.monitor import SpikeDetector, find_alerts, negative_share_trend
from shopmind.reviews.simulate import START, simulate_reviews

simulate = simulate_reviews


def test_trend_counts_every_window() -> None:
    trend = negative_share_trend(simulate(2, 5, 0.2, seed=1), "item_id")
    assert trend.height == 10
    assert (trend["negatives"] <= trend["reviews"]).all()


@pytest.mark.parametrize("every", ["bogus", "0d", "-1w", "3", "1w 2d", "1ns", "1s"])
def test_a_window_that_is_no_duration_is_a_clear_error(every: str) -> None:
    with pytest.raises(InputError, match="whole number from 1 to 9999 and a unit"):
        negative_share_trend(simulate(2, 5, 0.2, seed=1), "item_id", every)


def test_too_many_windows_is_a_clear_error() -> None:
    ten_years = pl.DataFrame({"ts": [START, START + timedelta(days=3_650)],
                              "p_positive": [0.9, 0.1], "item_id": ["a", "a"]})
    with pytest.raises(InputError, match="87,600 windows"):  # hourly over ten years
        negative_share_trend(ten_years, "item_id", "1h")
    assert negative_share_trend(ten_years, "item_id", "1mo").height > 100


def test_fires_on_an_injected_spike() -> None:
    scores = simulate(20, 20, 0.1, seed=2, spike=(3, 15, 0.45))
    alerts, _ = find_alerts(scores, "item_id")
    hits = alerts.filter((pl.col("group") == "g3")
                         & (pl.col("window_start") == START + timedelta(weeks=15)))
    assert hits.height == 1
    assert hits["p_value"].item() < 1e-4


def test_false_alarm_rate_on_stationary_noise_is_about_alpha() -> None:
    detector = SpikeDetector(alpha=0.001)
    tested_total = alarms = 0
    for seed in range(3):
        _, tested = find_alerts(simulate(200, 30, 0.1, seed=10 + seed), "item_id", detector)
        tested_total += tested["p_value"].is_not_null().sum()
        alarms += int(tested["alert"].sum())
    rate = alarms / tested_total
    assert tested_total > 15_000
    assert rate <= 0.002, f"false-alarm rate {rate:.4f} over {tested_total} tests"


def test_alerts_are_saved_with_a_plot(tmp_path: Path) -> None:
    scores = simulate(3, 12, 0.1, seed=3, spike=(0, 10, 0.6)).with_columns(
        pl.lit("Beauty").alias("category"))
    found = run_alerts(scores, tmp_path)
    assert any(a["group"] == "g0" for a in found)
    for alert in found:
        png = Path(alert["plot"])
        assert png.is_file() and png.read_bytes()[:4] == b"\x89PNG"
    assert len(load_alerts(tmp_path)) == len(found)
    assert load_alerts(tmp_path / "none") == []
    stale = tmp_path / "alerts" / "alert_item_id_old_2020-01-01T00h_abcdef.png"
    stale.write_bytes(b"\x89PNG")
    again = run_alerts(scores, tmp_path)
    assert not stale.exists()  # an earlier run's plot is not left behind
    assert sorted(p.name for p in (tmp_path / "alerts").iterdir()) == sorted(
        Path(a["plot"]).name for a in again)


def test_a_chinese_group_plots_without_warnings(tmp_path: Path) -> None:
    import warnings

    scores = simulate(3, 12, 0.1, seed=3, spike=(0, 10, 0.6)).with_columns(
        pl.lit("美妆 > 口红").alias("category"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph would raise here
        found = run_alerts(scores, tmp_path)
    assert any(a["level"] == "category" for a in found)


def test_alert_plots_of_one_day_and_of_look_alike_groups_get_their_own_files() -> None:
    from datetime import UTC, datetime

    from shopmind.reviews.plots import alert_plot_name

    def name(group: str, hour: int) -> str:
        when = datetime(2026, 6, 2, hour, tzinfo=UTC)
        return alert_plot_name({"level": "brand", "group": group, "window_start": when})

    names = {name("Brand/A", 10), name("Brand/A", 20), name("Brand_A", 10)}
    assert len(names) == 3
