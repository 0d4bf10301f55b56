"""``best``: SASRec (with item text when there is any) blended with item-item partners.

The sequence model (:mod:`.sasrec`; ``sasrec_text`` when the catalog has text, which lifts
sparse catalogs such as Amazon Beauty) reads order and recency; the partners read other
signals — EASE (Steck 2019) the whole basket, strong on sparse catalogs; co-visitation
the item-to-item transitions, strong where consecutive items follow each other (ML-1M),
in both directions (``covisit``) and forward only (``covisit_next``: only what came after
an item counts).
Their errors differ, so a score blend beats each alone — the late fusion behind the
ensembles that won the Netflix Prize and most RecSys Challenges. Scores are standardized
per history (z-scores) and mixed as

    score = (1 − Σ w_p) · z(sasrec) + Σ_p w_p · z(log(1 + max(partner_p, 0))),

with the weights chosen on a grid by NDCG@10 on the items SASRec held out for early
stopping (a sample of training histories' newest items; see :mod:`.sasrec`), so nothing
outside the training data is ever looked at. Which partner matters is thus decided by the
data, not by its name. Partners are fitted on the histories without the held-out items (to
score the validation) and, time permitting, refitted on the full histories.

SASRec's scores are logits, already on a log scale; the partners' are counts and
similarities with heavy tails (a few co-visitation counts in the thousands, most near 0),
whose z-scores let a handful of items dominate the blend. Compressing them with ``log1p``
first lifted the blend's NDCG@10 on ML-1M's validation view from 0.177 to 0.183
(SASRec alone 0.157, co-visitation 0.163; see ``docs/recommendation_benchmarks.md``).

With ``sasrec_runs=2``, where SASRec stops early (its hold-out stalls) with time to spare,
a second SASRec from another initialization trains on the rest of its budget and the two
runs' z-scored logits are averaged: on ML-1M's validation view two 50-epoch runs gave
0.1752 alone against 0.1696 and 0.1656 each, and 0.1921 blended against 0.1906 for the
first run's blend (those runs drew the second run's hold-out from other users, since fixed;
the weights came out the same). On Beauty's validation view, with the fix, one run gave
0.0736 and two 0.0738. Two runs are the default: no harm where they do not help, and
where training is bound by the budget there is only one.

Defaults hold across data sets. What depends on the data is derived from its size: a
partner that refuses the catalog (EASE above its ``max_items``) is skipped, and the
default time budget grows with the number of interactions
(:func:`default_budget`), which keeps a whole leave-one-out evaluation inside the
contract's limits (Beauty-sized data ≤ 15 min, ML-1M-sized ≤ 30 min on two CPU cores).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from shopmind.errors import InputError
from shopmind.recommend.base import Histories, Recommender, TrainingData, create_model, register
from shopmind.recommend.models.sasrec import SasRec, SasRecText
from shopmind.recommend.models.sasrec_train import EpochLog

logger = logging.getLogger(__name__)

#: Partners known by a label: a registered model and parameters that differ from its
#: defaults. ``covisit_next`` counts only what came *after* an item (no backward pairs):
#: the next-item transitions, the signal a sequence model learns most slowly. Any other
#: registered model name is a partner with its own defaults.
PARTNER_MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "covisit_next": ("covisit", {"backward_weight": 0.0}),
}

#: Weights tried for each partner (combinations summing to at most ``MAX_PARTNER_WEIGHT``).
#: Fine near 0, where every choice so far has fallen (0.1-0.2 per partner on ML-1M and
#: Beauty), coarse above: 145 combinations of three partners instead of 286.
WEIGHT_GRID = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
MAX_PARTNER_WEIGHT = 1.0


def default_budget(n_interactions: int) -> float:
    """Seconds of fitting: 10 minutes plus 1 ms per interaction, at most 1,600 s.

    The rest of a leave-one-out evaluation (reading, the weight grid, scoring every user)
    takes well under two minutes on these sizes, so ML-1M (1M interactions) stays inside
    30 minutes and Beauty (200k) inside 15.

    >>> default_budget(200_000), default_budget(1_000_000)
    (800.0, 1600.0)
    """
    return float(min(1600.0, 600.0 + 1e-3 * n_interactions))


def partner_reserve(n_items: int) -> float:
    """Seconds kept back from SASRec for fitting the partners twice (EASE is cubic)."""
    return 60.0 + 2 * 60.0 * (n_items / 12_000) ** 3


def zscore(scores: np.ndarray) -> np.ndarray:
    """Standardize each row to mean 0 and standard deviation 1 (scales differ by model).

    >>> zscore(np.array([[1.0, 2.0, 3.0]], dtype=np.float32)).round(3).tolist()
    [[-1.225, 0.0, 1.225]]
    """
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    return (scores - mean) / np.maximum(std, 1e-12)


def compress(scores: np.ndarray) -> np.ndarray:
    """``log(1 + max(s, 0))``: a partner's heavy-tailed scores on a log scale.

    >>> compress(np.array([[-1.0, 0.0, np.e - 1]])).round(3).tolist()
    [[0.0, 0.0, 1.0]]
    """
    return np.log1p(np.maximum(scores, 0.0))


def ndcg_of(scores: np.ndarray, histories: Histories, targets: np.ndarray, k: int = 10
            ) -> float:
    """NDCG@k of one target per row; masks history items in place; ties count against."""
    rows = np.repeat(np.arange(len(histories)), histories.lengths())
    scores[rows, histories.items] = -np.inf
    target = scores[np.arange(len(targets)), targets][:, None]
    rank = (scores >= target).sum(axis=1)
    return float(np.mean(np.where(rank <= k, 1.0 / np.log2(rank + 1.0), 0.0)))


@register("best")
class Best(Recommender):
    """The strongest default: SASRec(+text), blended with EASE and co-visitation.

    Parameters
    ----------
    sasrec_params : dict or None
        Hyperparameters of SASRec other than the defaults (see :class:`SasRec`).
    text : bool, default True
        Fuse item text into SASRec (``sasrec_text``) when the data carries item text.
    cache_dir : str or None
        Cache of the item text vectors (see the ``text`` model).
    partners : sequence of str, default ("ease", "covisit", "covisit_next")
        Models blended with SASRec: labels of :data:`PARTNER_MODELS` or registered model
        names (empty: SASRec alone).
    partner_params : dict or None
        Hyperparameters per partner label, e.g. ``{"ease": {"l2": 200}}``.
    time_budget_s : float or None, default None
        Seconds for the whole fit; None: :func:`default_budget` of the data size. SASRec
        gets what the partners' fits (:func:`partner_reserve`) leave.
    refit_partners : bool, default True
        Refit the partners kept on the full histories after tuning the weights.
    sasrec_runs : int, default 2
        Most SASRec trainings, each from its own initialization (``init_seed``; they share
        the hold-out), whose standardized logits are averaged. A further one starts only
        while SASRec's share of the budget still holds the time the first took to reach
        its best epoch: where training is bound by the budget (a slow machine, a large
        file) there is one. See the module docstring for the measurements.
    random_state : int or None
        Seed passed to SASRec.

    Attributes
    ----------
    weights_ : dict
        Weight of each partner kept (partners with weight 0 are dropped).
    valid_ndcg_ : dict
        Validation NDCG@10 of SASRec, each partner and the blend.
    """

    sasrecs_: list[SasRec]
    partners_: dict[str, Recommender]
    weights_: dict[str, float]
    #: Forwarded to the inner SASRec (see :class:`SasRec`): follow training per epoch.
    on_epoch: Callable[[EpochLog], None] | None = None

    def __init__(self, *, sasrec_params: dict[str, Any] | None = None, text: bool = True,
                 cache_dir: str | None = None,
                 partners: Sequence[str] = ("ease", "covisit", "covisit_next"),
                 partner_params: dict[str, dict[str, Any]] | None = None,
                 time_budget_s: float | None = None, refit_partners: bool = True,
                 sasrec_runs: int = 2,
                 random_state: int | None = 0) -> None:
        self.sasrec_params = sasrec_params
        self.text = text
        self.cache_dir = cache_dir
        self.partners = partners
        self.partner_params = partner_params
        self.time_budget_s = time_budget_s
        self.refit_partners = refit_partners
        self.sasrec_runs = sasrec_runs
        self.random_state = random_state

    def _sasrec(self, budget: float | None = None, *, text: bool = False, run: int = 0
                ) -> SasRec:
        params = {"time_budget_s": budget, "random_state": self.random_state,
                  "init_seed": None if run == 0 else run, **(self.sasrec_params or {})}
        model = SasRecText(cache_dir=self.cache_dir, **params) if text else SasRec(**params)
        model.on_epoch = self.on_epoch
        return model

    def _partner(self, label: str) -> Recommender:
        model, params = PARTNER_MODELS.get(label, (label, {}))
        return create_model(model, **{**params, **(self.partner_params or {}).get(label, {})})

    def _fit(self, data: TrainingData) -> None:
        if not isinstance(self.sasrec_runs, int) or self.sasrec_runs < 1:
            raise InputError(f"sasrec_runs must be a whole number ≥ 1, got {self.sasrec_runs!r}")
        started = time.perf_counter()
        budget = (self.time_budget_s if self.time_budget_s is not None
                  else default_budget(len(data.histories.items)))
        reserve = partner_reserve(data.n_items) if self.partners else 0.0
        self._fit_sasrecs(data, max(budget - reserve, 0.0))
        self.partners_, self.weights_ = {}, {}
        self.valid_ndcg_: dict[str, Any] = {
            "sasrec": self.sasrecs_[0].valid_ndcg_,
            "sasrec_runs": [m.valid_ndcg_ for m in self.sasrecs_]}
        hold = getattr(self.sasrecs_[0], "holdout_", None)
        if not self.partners or hold is None or not len(hold.rows):
            return
        valid = hold.train.take(hold.rows)
        base = np.mean([_zscores(m, valid, log=False) for m in self.sasrecs_], axis=0)
        fitted, scores, seconds = {}, {}, {}
        for name in self.partners:
            tic = time.perf_counter()
            try:
                fitted[name] = self._partner(name).fit(replace(data, histories=hold.train))
            except InputError as exc:  # e.g. a catalog too large for EASE
                logger.warning("best: partner %r skipped: %s", name, exc)
                continue
            seconds[name] = time.perf_counter() - tic
            scores[name] = _zscores(fitted[name], valid)
            self.valid_ndcg_[name] = ndcg_of(scores[name].copy(), valid, hold.targets)
        rows = np.repeat(np.arange(len(valid)), valid.lengths())
        for matrix in (base, *scores.values()):  # history items can never be recommended
            matrix[rows, valid.items] = -1e6
        results = grid_search_weights(base, scores, valid, hold.targets)
        best = max(results, key=lambda c: (results[c], -sum(c)))
        self.weights_ = {n: w for n, w in zip(scores, best, strict=True) if w > 0}
        self.valid_ndcg_["sasrec"] = results[(0.0,) * len(scores)]
        self.valid_ndcg_.update(blend=results[best], weights=self.weights_)
        logger.info("best: validation NDCG@10 %s", self.valid_ndcg_)
        for name in self.weights_:
            self.partners_[name] = fitted[name]
            elapsed = time.perf_counter() - started
            if self.refit_partners and elapsed + seconds[name] < budget:
                self.partners_[name] = self._partner(name).fit(data)
        logger.info("best: fitted in %.0fs", time.perf_counter() - started)

    def _fit_sasrecs(self, data: TrainingData, budget: float) -> None:
        """Up to ``sasrec_runs`` SASRecs while the time left holds the first's best epoch."""
        started = time.perf_counter()
        text = self.text and data.item_text is not None
        self.sasrecs_ = [self._sasrec(budget, text=text).fit(data)]
        first = self.sasrecs_[0]
        logs = getattr(first, "history_", [])
        to_best = next((log.seconds for log in logs if log.epoch == first.best_epoch_), None)
        while len(self.sasrecs_) < self.sasrec_runs and to_best is not None:
            left = budget - (time.perf_counter() - started)
            if left < to_best:
                break
            logger.info("best: %.0fs left, the first SASRec peaked after %.0fs: SASRec run %d",
                        left, to_best, len(self.sasrecs_) + 1)
            self.sasrecs_.append(self._sasrec(left, text=text, run=len(self.sasrecs_))
                                 .fit(data))

    def _sasrec_scores(self, histories: Histories) -> np.ndarray:
        """Mean of the SASRec runs' row-standardized logits."""
        return np.mean([zscore(m.score(histories)) for m in self.sasrecs_], axis=0)

    def _score(self, histories: Histories) -> np.ndarray:
        partner_weight = sum(self.weights_.values())
        scores = (1 - partner_weight) * self._sasrec_scores(histories)
        for name, model in self.partners_.items():
            scores += self.weights_[name] * zscore(compress(model.score(histories)))
        return scores

    def _state(self) -> dict[str, np.ndarray]:
        state = {f"{_run_prefix(run)}{k}": v for run, model in enumerate(self.sasrecs_)
                 for k, v in model._state().items()}
        for name, model in self.partners_.items():
            state.update({f"partner.{name}.{k}": v for k, v in model._state().items()})
        return {"partner_names_": np.array(list(self.weights_), dtype=str),
                "partner_weights_": np.array(list(self.weights_.values()), dtype=np.float64),
                **state}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        names = [str(n) for n in state["partner_names_"]]
        self.weights_ = dict(zip(names, state["partner_weights_"].tolist(), strict=True))
        runs = sum(1 for k in state if k.startswith("sasrec") and k.endswith(".max_len_"))
        self.sasrecs_ = [self._sasrec(text="sasrec.net.text" in state, run=run)
                         for run in range(runs)]
        self.partners_ = {name: self._partner(name) for name in names}
        models: list[tuple[str, Recommender]] = [
            (_run_prefix(run), model) for run, model in enumerate(self.sasrecs_)]
        models += [(f"partner.{name}.", model) for name, model in self.partners_.items()]
        for prefix, model in models:
            model.n_items_ = self.n_items_
            model.item_popularity_ = self.item_popularity_
            model._set_state({k[len(prefix):]: v for k, v in state.items()
                              if k.startswith(prefix)})


def grid_search_weights(base: np.ndarray, scores: dict[str, np.ndarray],
                        histories: Histories, targets: np.ndarray
                        ) -> dict[tuple[float, ...], float]:
    """NDCG@10 of every blend ``(1 − Σ w) · base + Σ w_p · scores[p]`` on the grid.

    Keys are the partners' weights in the order of ``scores`` (combinations of
    :data:`WEIGHT_GRID` summing to at most :data:`MAX_PARTNER_WEIGHT`).
    """
    results = {}
    for combo in itertools.product(WEIGHT_GRID, repeat=len(scores)):
        if sum(combo) <= MAX_PARTNER_WEIGHT + 1e-9:
            blend = (1 - sum(combo)) * base
            for w, matrix in zip(combo, scores.values(), strict=True):
                if w:
                    blend = blend + w * matrix
            results[combo] = ndcg_of(blend, histories, targets)
    return results


def _run_prefix(run: int) -> str:
    """State key prefix of SASRec run ``run`` (the first keeps the one-model ``sasrec.``)."""
    return "sasrec." if run == 0 else f"sasrec{run}."


def _zscores(model: Recommender, histories: Histories, *, log: bool = True,
             batch: int = 2048) -> np.ndarray:
    """Row-standardized scores of ``model`` for every history (``log``: compressed first)."""
    transform = compress if log else (lambda s: s)
    out = [zscore(transform(model.score(histories.take(np.arange(
        start, min(start + batch, len(histories)))))))
        for start in range(0, len(histories), batch)]
    return np.concatenate(out) if out else np.zeros((0, model.n_items_), dtype=np.float32)
