"""Events → CSR user×item matrices (weights, decay, fixed axes) and per-user sequences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from shopmind.errors import InputError
from shopmind.features.idmap import IdMap
from shopmind.features.interactions import build_interactions, user_sequences

T0 = datetime(2024, 3, 10, 12, tzinfo=UTC)


def _events(rows: list[tuple[str, str | None, str, datetime, float | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"user_id": pl.String, "item_id": pl.String, "type": pl.String,
                "ts": pl.Datetime("us", "UTC"), "value": pl.Float64},
        orient="row",
    )


@pytest.fixture
def events() -> pl.DataFrame:
    return _events([
        ("u1", "a", "view", T0, None),
        ("u1", "a", "click", T0, None),
        ("u1", "b", "cart", T0, None),
        ("u1", "b", "purchase", T0, None),
        ("u2", "a", "favorite", T0, None),
        ("u2", "c", "rate", T0, 4.0),
        ("u2", None, "search", T0, None),
        ("u3", "c", "remove_cart", T0, None),  # ignored: u3 has no weighted event
    ])


def test_default_weights_sum_per_user_item(events: pl.DataFrame) -> None:
    inter = build_interactions(events)
    assert inter.users.ids.to_list() == ["u1", "u2"]
    assert inter.items.ids.to_list() == ["a", "b", "c"]
    assert inter.matrix.dtype == np.float32
    assert inter.shape == (2, 3)
    # u1: a = view 1 + click 1, b = cart 3 + purchase 5; u2: a = favorite 2, c = rating 4
    assert inter.matrix.toarray().tolist() == [[2.0, 8.0, 0.0], [2.0, 0.0, 4.0]]
    assert inter.matrix.has_canonical_format


def test_custom_weights_and_explicit_zeros_removed(events: pl.DataFrame) -> None:
    inter = build_interactions(events, weights={"purchase": 1.0, "rate": 0.0})
    assert inter.matrix.toarray().tolist() == [[1.0]]
    assert inter.matrix.nnz == 1
    with pytest.raises(InputError, match="unknown event type"):
        build_interactions(events, weights={"like": 1.0})


def test_half_life_decay_from_reference_time() -> None:
    ev = _events([
        ("u", "a", "purchase", T0, None),  # age 0 → 5
        ("u", "b", "purchase", T0 - timedelta(days=1), None),  # age 1 d → 5 / 2
        ("u", "c", "view", T0 - timedelta(days=2), None),  # age 2 d → 1 / 4
        ("u", "c", "view", T0 + timedelta(days=3), None),  # after the reference: age 0 → 1
    ])
    inter = build_interactions(ev, half_life_days=1.0, reference_time=T0)
    assert inter.matrix.toarray().tolist() == [[5.0, 2.5, 1.25]]
    # default reference = the latest event (T0 + 3 d)
    latest = build_interactions(ev, half_life_days=1.0)
    assert latest.matrix.toarray()[0].tolist() == pytest.approx([5 / 8, 5 / 16, 1 / 32 + 1])


def test_fixed_axes_drop_unknown_ids(events: pl.DataFrame) -> None:
    users, items = IdMap(["u2", "u9"]), IdMap(["c", "a"])
    inter = build_interactions(events, users=users, items=items)
    assert inter.shape == (2, 2)
    assert inter.matrix.toarray().tolist() == [[4.0, 2.0], [0.0, 0.0]]


def test_empty_and_invalid_frames() -> None:
    inter = build_interactions(_events([]), half_life_days=7)
    assert inter.shape == (0, 0) and inter.matrix.nnz == 0
    with pytest.raises(InputError, match=r"missing column\(s\) \['ts'\]"):
        build_interactions(pl.DataFrame({"user_id": ["u"], "item_id": ["a"], "type": ["view"]}))
    with pytest.raises(InputError, match="half_life_days"):
        build_interactions(_events([("u", "a", "view", T0, None)]), half_life_days=0)
    with pytest.raises(InputError, match="timezone-aware"):
        build_interactions(_events([]), half_life_days=1, reference_time=datetime(2024, 1, 1))


def test_user_sequences_are_chronological_with_stable_ties() -> None:
    ev = _events([
        ("u2", "c", "view", T0, None),
        ("u1", "b", "view", T0 + timedelta(hours=2), None),
        ("u1", "c", "cart", T0, None),
        ("u1", "a", "view", T0, None),  # same ts as the cart: keeps row order
        ("u1", None, "search", T0, None),  # no item: skipped
    ])
    seqs = user_sequences(ev)
    assert seqs.users.ids.to_list() == ["u1", "u2"]
    assert seqs.items.ids.to_list() == ["a", "b", "c"]
    assert seqs.offsets.tolist() == [0, 3, 4]
    assert seqs[0].tolist() == [2, 0, 1]  # c, a, b
    assert seqs[1].tolist() == [2]
    assert [s.tolist() for s in seqs.to_list()] == [[2, 0, 1], [2]]
    assert seqs.lengths().tolist() == [3, 1]
    t0 = int(T0.timestamp() * 1_000_000)
    assert seqs.timestamps.tolist() == [t0, t0, t0 + 7_200_000_000, t0]


def test_user_sequences_filter_types_and_fixed_axes() -> None:
    ev = _events([
        ("u1", "a", "view", T0, None),
        ("u1", "b", "purchase", T0, None),
        ("u2", "a", "purchase", T0, None),
    ])
    seqs = user_sequences(ev, types=["purchase"], users=IdMap(["u2", "u1", "u0"]),
                          items=IdMap(["a", "b"]))
    assert [s.tolist() for s in seqs.to_list()] == [[0], [1], []]
    assert len(user_sequences(_events([]))) == 0
    with pytest.raises(InputError, match="unknown event type"):
        user_sequences(ev, types=["buy"])
