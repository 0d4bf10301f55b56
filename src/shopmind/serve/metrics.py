"""Prometheus metrics of one app: request latency, events ingested, model version, cache.

Each app has its own registry (two apps in one process, as in tests, never collide).
Labels carry route templates and shop ids, never user or item ids.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25,
            0.5, 1.0, 2.5)


class Metrics:
    """The app's metric families."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "shopmind_request_seconds", "Request latency by route", ["method", "route", "status"],
            buckets=_BUCKETS, registry=self.registry)
        self.events = Counter(
            "shopmind_events_ingested", "Events stored through the API", ["shop", "result"],
            registry=self.registry)
        self.model_version = Gauge(
            "shopmind_model_info", "Served model version (value: watermark, epoch seconds)",
            ["shop", "version"], registry=self.registry)
        self.cache = Counter(
            "shopmind_history_cache", "History lookups answered from the in-memory snapshot "
            "(hit) or not held there (miss: a user new since the snapshot)", ["result"],
            registry=self.registry)
        self.swaps = Counter("shopmind_model_swaps", "Model versions swapped in", ["shop"],
                             registry=self.registry)

    def set_model(self, shop_id: str, version: str, watermark_us: int) -> None:
        """Record that ``shop_id`` now serves ``version`` (older versions' series removed)."""
        for labels in list(self.model_version._metrics):
            if labels[0] == shop_id:
                self.model_version.remove(*labels)
        self.model_version.labels(shop_id, version).set(watermark_us / 1e6)
        self.swaps.labels(shop_id).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
