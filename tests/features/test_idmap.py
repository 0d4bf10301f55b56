"""IdMap: string ids ↔ dense int32 indices, vectorized both ways, saved without pickle."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from shopmind.errors import InputError
from shopmind.features.idmap import IdMap


def test_from_series_sorts_unique_ids_and_skips_nulls() -> None:
    users = IdMap.from_series(pl.Series(["u3", "u1", None, "u3", "u2"]))
    assert users.ids.to_list() == ["u1", "u2", "u3"]
    assert len(users) == 3


def test_from_series_can_keep_first_appearance_order() -> None:
    users = IdMap.from_series(["u3", "u1", "u3", "u2"], sort=False)
    assert users.ids.to_list() == ["u3", "u1", "u2"]


def test_to_index_marks_unknown_and_null_ids() -> None:
    items = IdMap(["a", "b", "c"])
    idx = items.to_index(pl.Series(["c", "zz", None, "a"]))
    assert idx.dtype == np.int32
    assert idx.tolist() == [2, -1, -1, 0]
    series = items.to_index_series(["c", "zz", None])
    assert series.dtype == pl.Int32
    assert series.to_list() == [2, None, None]


def test_to_ids_keeps_shape_and_rejects_out_of_range() -> None:
    items = IdMap(["a", "b", "c"])
    ids = items.to_ids(np.array([[2, 0], [1, 1]]))
    assert ids.shape == (2, 2)
    assert ids.tolist() == [["c", "a"], ["b", "b"]]
    assert items.to_ids([]).tolist() == []
    with pytest.raises(InputError, match=r"\[0, 2\]"):
        items.to_ids([0, -1])
    with pytest.raises(InputError, match="integer"):
        items.to_ids([0.5])


def test_round_trip_of_ids_through_indices() -> None:
    ids = pl.Series([f"user-{i}" for i in range(1_000)]).shuffle(seed=1)
    users = IdMap.from_series(ids)
    assert users.to_ids(users.to_index(ids)).tolist() == ids.to_list()


def test_duplicate_or_null_ids_are_rejected() -> None:
    with pytest.raises(InputError, match="unique"):
        IdMap(["a", "b", "a"])
    with pytest.raises(InputError, match="null"):
        IdMap(pl.Series(["a", None]))


def test_contains_equality_and_repr() -> None:
    items = IdMap(["a", "b"])
    assert "a" in items and "z" not in items and 3 not in items
    assert items == IdMap(["a", "b"]) and items != IdMap(["b", "a"])
    assert repr(items) == "IdMap(n=2, ids=['a', 'b'])"


@pytest.mark.parametrize("ids", [["u1", "用户二", "ü", ""], []])
def test_save_load_round_trip(tmp_path: Path, ids: list[str]) -> None:
    path = tmp_path / "users.npz"
    IdMap(ids).save(path)
    loaded = IdMap.load(path)
    assert loaded == IdMap(ids)
    with np.load(path, allow_pickle=False) as archive:  # plain arrays, no pickled objects
        assert sorted(archive.files) == ["data", "format_version", "offsets"]


def test_save_of_a_sliced_series_writes_only_the_slice() -> None:
    buffer = io.BytesIO()
    IdMap(pl.Series(["x", "y", "z"]).slice(1, 2)).save(buffer)
    buffer.seek(0)
    assert IdMap.load(buffer).ids.to_list() == ["y", "z"]


def test_load_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "other.npz"
    np.savez(path, weights=np.zeros(3))
    with pytest.raises(InputError, match="not an IdMap file"):
        IdMap.load(path)
    np.savez(path, format_version=np.array(99), offsets=np.zeros(1), data=np.zeros(0))
    with pytest.raises(InputError, match="version 99"):
        IdMap.load(path)
