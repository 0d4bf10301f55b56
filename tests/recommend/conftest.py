"""Tiny recommendation fixtures whose right answer is known.

``clusters``: two disjoint worlds of 10 items each (like implicit's checkerboard test).
Users of cluster A (items 0–9) only ever touch A items, walking them in a cycle
(``s, s+1, s+2 …`` mod 10), users of cluster B the same over items 10–19; item 20 was never
touched. So a history inside A must be answered with A items first, by any personalised
model, sequential or not; item texts are cluster-specific too, for the text model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest

from shopmind.features.idmap import IdMap
from shopmind.recommend.base import Histories, TrainingData

N_CLUSTER = 10
N_ITEMS = 2 * N_CLUSTER + 1  # the last item is never interacted with
CLUSTER_A = np.arange(N_CLUSTER)
CLUSTER_B = np.arange(N_CLUSTER, 2 * N_CLUSTER)

_TINY_SASREC: dict[str, Any] = {
    "hidden": 16, "n_blocks": 1, "n_heads": 1, "dropout": 0.0, "max_len": 8, "max_epochs": 30,
    "patience": 30, "batch_sequences": 16, "lr": 1e-2, "num_threads": 1, "random_state": 0,
}

#: Small hyperparameters for models whose defaults are too slow for a unit test.
TINY_PARAMS: dict[str, dict[str, Any]] = {
    "als": {"factors": 2, "iterations": 10, "regularization": 0.1, "num_threads": 1,
            "random_state": 0},
    "bpr": {"factors": 8, "iterations": 100, "learning_rate": 0.05, "num_threads": 1,
            "random_state": 0},
    "sasrec": _TINY_SASREC,
    "sasrec_text": {**_TINY_SASREC, "backend": "hashing"},
    "best": {"sasrec_params": _TINY_SASREC},
    "text": {"backend": "hashing"},
}

#: Models that give every user the same list (no cluster structure to find).
NON_PERSONALISED = frozenset({"popular", "trending"})
#: Models that recommend the history's own items back (re-engagement), newest first.
HISTORY_ONLY = frozenset({"recent"})

_TEXT = {0: "red lipstick matte shade", 1: "hiking boots waterproof leather"}


def cluster_histories(n_users_per_cluster: int = 12, length: int = 7) -> list[list[int]]:
    """Cyclic walks through one cluster per user (A users first, then B users)."""
    histories = []
    for cluster in (0, 1):
        for u in range(n_users_per_cluster):
            start = (u * 3) % N_CLUSTER
            walk = [(start + step) % N_CLUSTER + cluster * N_CLUSTER for step in range(length)]
            histories.append(walk)
    return histories


def make_data(histories: list[list[int]], n_items: int = N_ITEMS, *,
              weights: list[list[float]] | None = None,
              timestamps: np.ndarray | None = None) -> TrainingData:
    """TrainingData over item ids ``i00 …`` and user ids ``u000 …`` (index = number)."""
    users = IdMap([f"u{u:03d}" for u in range(len(histories))])
    items = IdMap([f"i{i:02d}" for i in range(n_items)])
    text = [f"{_TEXT[i // N_CLUSTER] if i < 2 * N_CLUSTER else 'gift card'} {i}"
            for i in range(n_items)]
    return TrainingData(users=users, items=items,
                        histories=Histories.from_lists(histories, weights),
                        timestamps=timestamps, item_text=text,
                        item_frame=pl.DataFrame({"item_id": items.ids, "title": text}))


@pytest.fixture(scope="session")
def clusters() -> TrainingData:
    return make_data(cluster_histories())
