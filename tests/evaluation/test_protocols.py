"""Splits and the evaluation runner on tiny fixtures whose right answer is known."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from shopmind.errors import InputError
from shopmind.evaluation.loo import beyond_accuracy, evaluate_stage, popularity_groups
from shopmind.evaluation.protocols import (
    default_cuts,
    item_categories,
    leave_one_out,
    read_event_log,
    read_item_text,
    temporal_split,
)
from shopmind.evaluation.report import CONTRACT_METRICS, markdown_table, result_json
from shopmind.features.idmap import IdMap
from shopmind.recommend.base import Histories, Recommender, TrainingData

DAY = [datetime(2017, 11, d, tzinfo=UTC) for d in range(25, 31)]


class FixedScores(Recommender):
    """Every history gets the same scores (test double with a known ranking)."""

    def __init__(self, *, scores: tuple[float, ...] = ()) -> None:
        self.scores = scores

    def _fit(self, data: TrainingData) -> None:
        self.seen_users_ = data.n_users

    def _score(self, histories: Histories) -> np.ndarray:
        return np.tile(np.asarray(self.scores, dtype=np.float32), (len(histories), 1))


def _data(histories: list[list[int]], n_items: int) -> TrainingData:
    return TrainingData(
        users=IdMap([f"u{i}" for i in range(len(histories))]),
        items=IdMap([f"i{i}" for i in range(n_items)]),
        histories=Histories.from_lists(histories))


def _events() -> pl.DataFrame:
    rows = [  # (user, item, type, day index)
        ("u", "a", "view", 0), ("u", "b", "cart", 1), ("v", "a", "view", 0),
        ("v", "c", "view", 1), ("v", "d", "view", 2),
        ("u", "c", "view", 3),  # validation period: u's new item c
        ("v", "a", "purchase", 3),  # validation period: v already has a → not a target
        ("u", "d", "purchase", 4), ("u", "d", "view", 4),  # test: d counted once
        ("u", "a", "view", 4),  # test: seen before → not a target
        ("v", "b", "view", 5),  # test: v's new item b
        ("v", "z", "view", 5),  # test: item unknown before the cut → dropped
        ("w", "a", "view", 5),  # test: user without history → dropped
    ]
    return pl.DataFrame({"user_id": [r[0] for r in rows], "item_id": [r[1] for r in rows],
                         "type": [r[2] for r in rows], "ts": [DAY[r[3]] for r in rows]})


def test_leave_one_out_holds_out_the_last_two_items() -> None:
    split = leave_one_out(_data([[0, 1, 2, 3], [4, 5], [6]], 7))
    assert split.test_targets.tolist() == [3, 5, -1]
    assert split.valid_targets.tolist() == [2, -1, -1]
    assert [split.test_train.histories[u].tolist() for u in range(3)] == [[0, 1, 2], [4], [6]]
    assert [split.valid_train.histories[u].tolist() for u in range(3)] == [[0, 1], [4], [6]]
    assert split.test_train.items is split.valid_train.items  # one catalog for both views


def test_temporal_split_targets_and_what_it_leaves_out() -> None:
    split = temporal_split(_events(), valid_cut=DAY[3], test_cut=DAY[4])

    def targets(data: TrainingData, sets: Histories) -> dict[str, list[str]]:
        ids = data.items.ids.to_list()
        return {user: [ids[i] for i in sets[u]]
                for u, user in enumerate(data.users.ids.to_list()) if len(sets[u])}

    assert targets(split.valid_train, split.valid_targets) == {"u": ["c"]}
    assert targets(split.test_train, split.test_targets) == {"u": ["d"], "v": ["b"]}
    assert split.test_train.n_users == 2  # w has no history before the cut
    assert split.stats["test_events_new_user"] == 1
    assert split.stats["test_events_new_item"] == 1
    assert split.stats["test_pairs_excluded"] == 1
    assert split.stats["valid_pairs_excluded"] == 1
    # Training views end at their cut: the test view contains the validation period.
    assert split.valid_train.histories.items.size == 5
    assert split.test_train.histories.items.size == 7


def test_temporal_split_target_types_and_bad_cuts() -> None:
    split = temporal_split(_events(), valid_cut=DAY[3], test_cut=DAY[4],
                           target_types=("purchase",))
    assert split.test_targets.lengths().tolist() == [1, 0]  # only u's purchase of d
    with pytest.raises(InputError, match="must not be after"):
        temporal_split(_events(), valid_cut=DAY[4], test_cut=DAY[3])
    with pytest.raises(InputError, match="no events before"):
        temporal_split(_events(), valid_cut=DAY[0], test_cut=DAY[4])


def test_default_cuts_count_back_from_the_last_event() -> None:
    valid_cut, test_cut = default_cuts(_events()["ts"], test_days=1, valid_days=2)
    assert (valid_cut, test_cut) == (DAY[2], DAY[4])


def test_read_event_log_both_layouts(tmp_path: Path) -> None:
    taobao = tmp_path / "events.csv.gz"
    taobao.write_bytes(gzip.compress(
        b"user_id,item_id,category_id,behavior_type,timestamp\n"
        b"1,10,7,pv,1511544070\n1,11,8,buy,1511544080\n"))
    log = read_event_log(taobao)
    assert log["type"].to_list() == ["view", "purchase"]
    assert log["ts"][0] == datetime(2017, 11, 24, 17, 21, 10, tzinfo=UTC)
    assert log["category"].to_list() == ["7", "8"]
    plain = tmp_path / "plain.csv"
    plain.write_text("user_id,item_id,type,ts\nu,a,view,2017-11-25T08:00:00+08:00\n"
                     "u,b,view,yesterday\n")
    with pytest.raises(InputError, match="line 3: field `ts`"):
        read_event_log(plain)
    plain.write_text("user_id,item_id,ts\nu,a,1\n")
    with pytest.raises(InputError, match=r"missing \['type'\]"):
        read_event_log(plain)


def test_read_item_text(tmp_path: Path) -> None:
    path = tmp_path / "text.csv"
    path.write_text('item_id,asin,title\n1,B0,"Red, lipstick"\n2,B1,\n')
    assert read_item_text(path) == {"1": "Red, lipstick", "2": ""}
    path.write_text("item_id,name\n1,x\n")
    with pytest.raises(InputError, match="title"):
        read_item_text(path)


def test_evaluate_stage_on_leave_one_out_gives_hand_computed_metrics() -> None:
    # Fixed ranking 4 > 3 > 2 > 1 > 0 for everyone, minus each user's history.
    split = leave_one_out(_data([[0, 1, 4], [4, 3], [2, 0]], 5))
    factory = lambda: FixedScores(scores=(0.0, 1.0, 2.0, 3.0, 4.0))  # noqa: E731
    result = evaluate_stage(factory, split, "test")
    # u0 history [0, 1] → ranking 4, 3, 2 → target 4 at rank 1; u1 [4] → 3 at rank 1;
    # u2 [2] → 4, 3, 1, 0 → target 0 at rank 4.
    assert result.ranks.tolist() == [1.0, 1.0, 4.0]
    assert result.metrics["ndcg@10"] == pytest.approx((1 + 1 + 1 / np.log2(5)) / 3)
    assert result.metrics["mrr"] == pytest.approx((1 + 1 + 0.25) / 3)
    assert result.metrics["coverage@10"] == 1.0
    assert set(CONTRACT_METRICS) <= set(result.metrics)
    assert result.recommended is not None and result.recommended[1, :3].tolist() == [3, 2, 1]
    valid = evaluate_stage(factory, split, "valid")
    assert valid.n_users == 1 and valid.ranks.tolist() == [4.0]  # u0: [0] → 4, 3, 2, 1
    with pytest.raises(InputError, match="stage"):
        evaluate_stage(factory, split, "train")


def test_evaluate_stage_on_a_temporal_split_ranks_every_target() -> None:
    split = temporal_split(_events(), valid_cut=DAY[3], test_cut=DAY[4])
    # Items a, b, c, d → scores 4, 3, 2, 1: u (history a, b, c) ranks d first;
    # v (history a, c, d) ranks b first.
    result = evaluate_stage(lambda: FixedScores(scores=(4.0, 3.0, 2.0, 1.0)), split, "test")
    assert result.ranks.tolist() == [1.0, 1.0]
    assert result.metrics["recall@10"] == 1.0 and result.metrics["ndcg@10"] == 1.0
    categories = item_categories(_events().with_columns(pl.col("item_id").alias("category")),
                                 split.test_train)
    assert categories is not None and categories.tolist() == ["a", "b", "c", "d"]
    assert result.recommended is not None
    extra = beyond_accuracy(result.recommended, split.test_train, item_categories=categories)
    assert extra["ild@10"] == 0.0  # one item per list: no pairs
    assert extra["tail_exposure@10"] == pytest.approx(1.0)  # b and d are both tail items


def test_popularity_groups_put_the_top_fifth_in_the_head() -> None:
    groups = popularity_groups(np.array([5.0, 1.0, 9.0, 0.0, 2.0]))
    assert groups.tolist() == ["tail", "tail", "head", "tail", "tail"]


def test_result_json_keeps_the_contract_keys_and_markdown_renders() -> None:
    split = leave_one_out(_data([[0, 1, 4], [4, 3]], 5))
    result = evaluate_stage(lambda: FixedScores(scores=(0.0, 1.0, 2.0, 3.0, 4.0)), split,
                            "test")
    payload = result_json(model="fixed", dataset="tiny", protocol="loo",
                          data=split.test_train, result=result, total_seconds=1.0)
    assert list(payload)[:6] == ["model", "dataset", "n_users", "n_items", "train_seconds",
                                 "metrics"]
    assert list(payload["metrics"]) == list(CONTRACT_METRICS)
    assert payload["params"] == {"scores": [0.0, 1.0, 2.0, 3.0, 4.0]}
    table = markdown_table([{"model": "a", "x": 0.12345, "n": 1200, "y": None}],
                           ["model", "x", "n", "y"])
    assert table.splitlines()[2] == "| a | 0.1235 | 1,200 | — |"


def test_temporal_split_that_excludes_only_purchases_keeps_returning_items() -> None:
    split = temporal_split(_events(), valid_cut=DAY[3], test_cut=DAY[4], exclude="purchased")
    ids = split.test_train.items.ids.to_list()
    assert [sorted(ids[i] for i in split.test_targets[u]) for u in range(2)] == [
        ["a", "d"], ["b"]]  # u comes back to a; v's a was bought before the cut
    assert split.test_exclude is not None and split.test_exclude[1].tolist() == [0]
    result = evaluate_stage(lambda: FixedScores(scores=(4.0, 3.0, 2.0, 1.0)), split, "test")
    # u: nothing masked → a at 1, d at 4; v: a masked → b at 1.
    assert sorted(result.ranks.tolist()) == [1.0, 1.0, 4.0]
    ndcg_u = (1 + 1 / np.log2(5)) / (1 + 1 / np.log2(3))
    assert result.metrics["ndcg@10"] == pytest.approx((ndcg_u + 1) / 2)
    with pytest.raises(InputError, match="exclude must be"):
        temporal_split(_events(), valid_cut=DAY[3], test_cut=DAY[4], exclude="all")  # type: ignore[arg-type]
