"""SASRec: learns a known sequential pattern, early-stops, saves and loads exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

pytest.importorskip("torch")

import torch
import torch.nn.functional as F

from shopmind.errors import InputError
from shopmind.features.idmap import IdMap
from shopmind.recommend.base import Histories, Recommender, TrainingData
from shopmind.recommend.models import sasrec as sasrec_module
from shopmind.recommend.models.sasrec import SasRec, SasRecText
from shopmind.recommend.models.sasrec_train import (
    ChunkedCrossEntropy,
    auto_max_len,
    halving_period,
    holdout_last,
    patience_after,
)

N_ITEMS = 30
TINY = dict(hidden=32, n_blocks=1, dropout=0.0, lr=5e-3, batch_sequences=64, num_threads=1)


def cycle_data(n_users: int = 200, seed: int = 0, texts: list[str] | None = None
               ) -> TrainingData:
    """Every user walks the cycle 0 → 1 → … → 29 → 0 from a random start: item i is
    always followed by i + 1."""
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, N_ITEMS, n_users)
    lengths = rng.integers(4, 12, n_users)
    histories = Histories.from_lists(
        [(s + np.arange(n)) % N_ITEMS for s, n in zip(starts, lengths, strict=True)])
    return TrainingData(
        users=IdMap.from_series(pl.Series([f"u{i:03d}" for i in range(n_users)])),
        items=IdMap.from_series(pl.Series([f"i{i:02d}" for i in range(N_ITEMS)])),
        histories=histories, item_text=texts)


@pytest.fixture(scope="module")
def fitted() -> SasRec:
    return SasRec(loss="ce", max_epochs=40, patience=40, random_state=0, **TINY).fit(
        cycle_data())


def test_learns_the_next_item_of_a_deterministic_cycle(fitted: SasRec) -> None:
    queries = Histories.from_lists([[(s + k) % N_ITEMS for k in range(3)]
                                    for s in range(N_ITEMS)])
    top, _ = fitted.recommend(queries, 1)
    expected = (np.arange(N_ITEMS) + 3) % N_ITEMS
    assert (top[:, 0] == expected).mean() >= 0.95
    assert fitted.valid_ndcg_ is not None and fitted.valid_ndcg_ > 0.9
    assert 1 <= fitted.best_epoch_ <= 40 and len(fitted.history_) >= fitted.best_epoch_


def test_sampled_softmax_learns_the_pattern_too() -> None:
    model = SasRec(loss="sampled", n_negatives=8, max_epochs=40, patience=40, valid_users=0,
                   **TINY).fit(cycle_data(seed=1))
    top, _ = model.recommend(Histories.from_lists([[5, 6, 7], [20, 21]]), 1)
    assert top[:, 0].tolist() == [8, 22]


def test_save_load_gives_identical_scores(fitted: SasRec, tmp_path: Path) -> None:
    queries = Histories.from_lists([[1, 2, 3], [7], [], [29, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]])
    loaded = Recommender.load(fitted.save(tmp_path / "sasrec"))
    assert isinstance(loaded, SasRec) and loaded.get_params() == fitted.get_params()
    np.testing.assert_array_equal(loaded.score(queries), fitted.score(queries))


def test_early_stopping_and_time_budget_stop_training() -> None:
    logs = []
    model = SasRec(max_epochs=50, patience=50, time_budget_s=1e-9, **TINY)
    model.on_epoch = logs.append
    model.fit(cycle_data(n_users=40))
    assert len(model.history_) == 1 and logs == model.history_  # budget reached after one
    frozen = SasRec(max_epochs=50, patience=2, **{**TINY, "lr": 0.0}).fit(cycle_data(n_users=40))
    assert len(frozen.history_) == 3 and frozen.best_epoch_ == 1  # no progress: 2 stale epochs


def test_the_wait_grows_with_the_best_epoch_and_the_rate_halves_within_it() -> None:
    # short runs wait `patience`; long ones as long as it took to reach the best epoch
    assert [patience_after(8, best) for best in (1, 8, 20, 38)] == [8, 8, 20, 38]
    # the learning rate halves a few times within a wait, never every epoch of it
    assert [halving_period(8, best) for best in (0, 8, 20, 38)] == [4, 4, 5, 9]
    assert halving_period(1, 0) == 1
    assert all(halving_period(8, b) < patience_after(8, b) for b in range(200))


@pytest.mark.parametrize("chunk", [1, 7, 64, 1000])
def test_chunked_cross_entropy_equals_the_full_softmax_loss_and_gradients(chunk: int) -> None:
    gen = torch.Generator().manual_seed(0)
    hidden = torch.randn(50, 8, generator=gen, requires_grad=True)
    weights = torch.randn(30, 8, generator=gen, requires_grad=True)
    targets = torch.randint(0, 30, (50,), generator=gen)
    expected = F.cross_entropy(hidden @ weights.T, targets)
    want = torch.autograd.grad(3.0 * expected, [hidden, weights])  # an upstream factor too
    loss = ChunkedCrossEntropy.apply(hidden, weights, targets, chunk)
    got = torch.autograd.grad(3.0 * loss, [hidden, weights])
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-5, atol=1e-6)
    with torch.no_grad():  # no gradient wanted: the loss alone
        assert ChunkedCrossEntropy.apply(hidden, weights, targets, chunk).item() == (
            pytest.approx(expected.item(), rel=1e-6))


def test_holdout_removes_the_newest_item_of_long_enough_histories() -> None:
    h = Histories.from_lists([[1, 2, 3], [4, 5], [6, 7, 8, 9]])
    split = holdout_last(h, 10, np.random.default_rng(0))
    assert [split.train[i].tolist() for i in range(3)] == [[1, 2], [4, 5], [6, 7, 8]]
    assert split.rows.tolist() == [0, 2] and split.targets.tolist() == [3, 9]
    assert len(holdout_last(h, 1, np.random.default_rng(0)).rows) == 1


def test_max_len_follows_the_length_distribution() -> None:
    assert auto_max_len(np.full(100, 8)) == 25
    assert auto_max_len(np.r_[np.full(98, 6), 40, 45]) == 50
    assert auto_max_len(np.full(10, 900)) == 200


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(InputError, match="loss"):
        SasRec(loss="bce").fit(cycle_data(n_users=10))
    with pytest.raises(InputError, match="divisible"):
        SasRec(hidden=30, n_heads=4).fit(cycle_data(n_users=10))


def test_sasrec_text_scores_a_never_seen_item_by_its_text(tmp_path: Path) -> None:
    # Items 0-14 are dresses, 15-29 laptops; item 14 never appears in any history.
    texts = [f"red summer dress model {i}" for i in range(15)]
    texts += [f"gaming laptop computer {i}" for i in range(15)]
    rng = np.random.default_rng(0)
    seqs = [rng.choice(14, 6, replace=False) for _ in range(60)]
    seqs += [15 + rng.choice(15, 6, replace=False) for _ in range(60)]
    data = cycle_data(texts=texts)
    data = TrainingData(users=IdMap.from_series(pl.Series([f"u{i}" for i in range(120)])),
                        items=data.items, histories=Histories.from_lists(seqs),
                        item_text=texts)
    model = SasRecText(backend="hashing", max_epochs=15, patience=15, **TINY).fit(data)
    scores = model.score(Histories.from_lists([[0, 3, 5], [16, 20, 22]]))
    assert scores[0, 14] > np.max(scores[0, 15:])  # the new dress beats every laptop
    assert scores[1, 14] < np.min(scores[1, 15:])
    loaded = Recommender.load(model.save(tmp_path / "sasrec_text"))
    np.testing.assert_array_equal(loaded.score(Histories.from_lists([[14]])),
                                  model.score(Histories.from_lists([[14]])))


def test_best_blends_on_validation_and_round_trips(tmp_path: Path) -> None:
    pytest.importorskip("scipy")
    from shopmind.recommend.models import covisit, ease  # noqa: F401 - register partners
    from shopmind.recommend.models.ensemble import Best

    model = Best(sasrec_params=dict(max_epochs=15, patience=15, **TINY)).fit(cycle_data())
    assert set(model.valid_ndcg_) >= {"sasrec", "ease", "covisit", "covisit_next", "blend"}
    assert sum(model.weights_.values()) <= 0.7
    queries = Histories.from_lists([[3, 4, 5], [], [28, 29]])
    top, _ = model.recommend(queries, 1)
    assert top[0, 0] == 6 and top[2, 0] == 0
    loaded = Recommender.load(model.save(tmp_path / "best"))
    np.testing.assert_allclose(loaded.score(queries), model.score(queries), rtol=1e-5)


def test_best_averages_sasrec_runs_that_share_their_holdout(tmp_path: Path) -> None:
    pytest.importorskip("scipy")
    from shopmind.recommend.models import covisit  # noqa: F401 - register partners
    from shopmind.recommend.models.ensemble import Best

    params = dict(sasrec_params=dict(max_epochs=4, patience=4, valid_users=60, **TINY),
                  partners=("covisit",))
    two = Best(**params, sasrec_runs=2).fit(cycle_data())
    first, second = two.sasrecs_
    assert len(first.holdout_.rows) == 60  # a sample of the 200 users, the same in both
    np.testing.assert_array_equal(first.holdout_.rows, second.holdout_.rows)
    np.testing.assert_array_equal(first.holdout_.targets, second.holdout_.targets)
    queries = Histories.from_lists([[3, 4, 5], [28, 29]])
    assert not np.allclose(first.score(queries), second.score(queries))
    assert len(two.valid_ndcg_["sasrec_runs"]) == 2
    loaded = Recommender.load(two.save(tmp_path / "two"))
    assert len(loaded.sasrecs_) == 2
    np.testing.assert_allclose(loaded.score(queries), two.score(queries), rtol=1e-5)

    one = Best(**params, sasrec_runs=1).fit(cycle_data())
    assert len(one.sasrecs_) == 1  # the first run is the plain SASRec of the same seed
    np.testing.assert_array_equal(one.sasrecs_[0].score(queries), first.score(queries))
    no_time = Best(**params, sasrec_runs=2, time_budget_s=0.0).fit(cycle_data())
    assert len(no_time.sasrecs_) == 1  # no time left for a second run


@pytest.mark.parametrize("bad", [0, -1, "two", 1.5])
def test_best_rejects_a_bad_number_of_sasrec_runs(bad: object) -> None:
    from shopmind.recommend.models.ensemble import Best

    with pytest.raises(InputError, match="sasrec_runs"):
        Best(sasrec_runs=bad).fit(cycle_data(n_users=20))  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-3, "x"])
def test_sasrec_rejects_a_bad_init_seed(bad: object) -> None:
    with pytest.raises(InputError, match="init_seed"):
        SasRec(init_seed=bad, max_epochs=1, **TINY).fit(cycle_data(n_users=20))  # type: ignore[arg-type]


def test_best_partner_labels_resolve_to_models_with_their_parameters() -> None:
    from shopmind.recommend.models import covisit  # noqa: F401 - register partners
    from shopmind.recommend.models.ensemble import Best

    forward_only = Best()._partner("covisit_next")
    assert forward_only.name == "covisit" and forward_only.get_params()["backward_weight"] == 0.0
    assert Best()._partner("covisit").get_params()["backward_weight"] == 0.3
    tuned = Best(partner_params={"covisit_next": {"window": 5}})._partner("covisit_next")
    assert tuned.get_params()["window"] == 5 and tuned.get_params()["backward_weight"] == 0.0


def test_auto_loss_is_the_full_softmax_on_small_catalogs(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    data = cycle_data(n_users=20)
    small = SasRec(max_epochs=1, valid_users=0, random_state=0, **TINY).fit(data)
    assert small.loss_ == "ce"
    monkeypatch.setattr(sasrec_module, "FULL_SOFTMAX_MAX_ITEMS", data.n_items - 1)
    large = SasRec(max_epochs=1, valid_users=0, random_state=0, **TINY).fit(data)
    assert large.loss_ == "sampled"
