"""The `Recommender` protocol every model follows, and the registry that names them.

Compare ``implicit``'s ``RecommenderBase`` and scikit-learn's estimator manners:

* ``__init__`` stores keyword hyperparameters under their own names and nothing else;
  validation happens in :meth:`Recommender.fit`, which returns ``self``; learned attributes
  end in ``_``; using a model before ``fit`` raises :class:`~shopmind.errors.NotFittedError`.
* Models work on dense item indices (see :class:`~shopmind.features.idmap.IdMap`); the
  string ids of the shop live in :class:`TrainingData`.
* Every model scores *histories* — a batch of item-index sequences, oldest first — so the
  same call serves a trained user, a user with fresh events and an anonymous session.
  A subclass implements :meth:`Recommender._fit` and :meth:`Recommender._score`; top-k,
  excluding seen items, filters, batching, ``similar_items`` and save/load live here once.
"""

from __future__ import annotations

import abc
import inspect
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

import numpy as np
import scipy.sparse as sp

from shopmind import __version__
from shopmind.errors import InputError, NotFittedError, UnknownNameError
from shopmind.features.idmap import IdMap

ARTIFACT_FORMAT = 1
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Histories:
    """A batch of item-index histories in CSR form (``indptr`` offsets into ``items``).

    Each history is chronological (oldest first). ``weights`` (optional, one per entry)
    carry the strength of each interaction, e.g. purchase > view.
    """

    indptr: np.ndarray  # (B + 1,) int64
    items: np.ndarray  # (nnz,) int32
    weights: np.ndarray | None = None  # (nnz,) float32

    @classmethod
    def from_lists(
        cls, histories: Sequence[Sequence[int] | np.ndarray],
        weights: Sequence[Sequence[float] | np.ndarray] | None = None,
    ) -> Histories:
        """Build from a list of item-index sequences (and optional weights).

        >>> h = Histories.from_lists([[3, 1], [], [2]])
        >>> len(h), h[0].tolist(), h[1].tolist()
        (3, [3, 1], [])
        """
        lengths = np.fromiter((len(h) for h in histories), dtype=np.int64, count=len(histories))
        indptr = np.zeros(len(histories) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        items = (np.concatenate([np.asarray(h, dtype=np.int32) for h in histories])
                 if len(histories) and indptr[-1] else np.zeros(0, dtype=np.int32))
        w = None
        if weights is not None:
            w = (np.concatenate([np.asarray(x, dtype=np.float32) for x in weights])
                 if indptr[-1] else np.zeros(0, dtype=np.float32))
            if len(w) != len(items):
                raise InputError("weights must have one value per history entry")
        return cls(indptr=indptr, items=items, weights=w)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def __getitem__(self, i: int) -> np.ndarray:
        return self.items[self.indptr[i]:self.indptr[i + 1]]

    def lengths(self) -> np.ndarray:
        return np.diff(self.indptr)

    def take(self, rows: np.ndarray | Sequence[int]) -> Histories:
        """The histories at positions ``rows``, as a new batch."""
        rows = np.asarray(rows, dtype=np.int64)
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        lengths = ends - starts
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        index = (np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1]))
        return Histories(indptr=indptr, items=self.items[index],
                         weights=None if self.weights is None else self.weights[index])

    def where(self, keep: np.ndarray) -> Histories:
        """Only the entries where ``keep`` (one bool per entry) is true; rows are kept."""
        rows = np.repeat(np.arange(len(self)), self.lengths())[keep]
        indptr = np.zeros(len(self) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(self)), out=indptr[1:])
        return Histories(indptr=indptr, items=self.items[keep],
                         weights=None if self.weights is None else self.weights[keep])

    def to_csr(self, n_items: int, *, binary: bool = False) -> sp.csr_matrix:
        """(B, n_items) matrix; repeated items add up (or count once with ``binary``)."""
        data = (np.ones(len(self.items), dtype=np.float32) if binary or self.weights is None
                else self.weights)
        # copy=True: sum_duplicates() sorts indices in place and must not reorder histories
        matrix = sp.csr_matrix((data, self.items, self.indptr), shape=(len(self), n_items),
                               copy=True)
        matrix.sum_duplicates()
        if binary:
            matrix.data[:] = 1.0
        return matrix

    def last(self, n: int) -> Histories:
        """Only the ``n`` most recent entries of each history."""
        lengths = np.minimum(self.lengths(), n)
        keep_from = self.indptr[1:] - lengths
        indptr = np.zeros(len(self) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        index = np.repeat(keep_from - indptr[:-1], lengths) + np.arange(indptr[-1])
        return Histories(indptr=indptr, items=self.items[index],
                         weights=None if self.weights is None else self.weights[index])


@dataclass
class TrainingData:
    """What a model is fitted on: per-user histories plus whatever side information exists.

    ``histories[u]`` is user ``u``'s chronological item-index history; ``timestamps`` (same
    layout, epoch µs) and ``item_text`` / ``item_frame`` (aligned with item indices) are
    optional.
    """

    users: IdMap
    items: IdMap
    histories: Histories
    timestamps: np.ndarray | None = None
    item_text: list[str] | None = None
    item_frame: Any = None  # polars.DataFrame aligned with item indices, when known

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def matrix(self, *, binary: bool = False) -> sp.csr_matrix:
        """The (n_users, n_items) interaction matrix."""
        return self.histories.to_csr(self.n_items, binary=binary)

    def item_popularity(self) -> np.ndarray:
        """Number of users who interacted with each item (float32)."""
        m = self.matrix(binary=True)
        return np.asarray(m.sum(axis=0)).ravel().astype(np.float32)


# ------------------------------------------------------------------------------ registry

R = TypeVar("R", bound="Recommender")
_REGISTRY: dict[str, type[Recommender]] = {}


def register(name: str) -> Callable[[type[R]], type[R]]:
    """Class decorator: make a model available by ``name`` to the CLI, pipeline, benchmarks."""

    def decorate(cls: type[R]) -> type[R]:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"model name {name!r} is already registered")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def _load_builtin_models() -> None:
    import importlib
    import importlib.util

    for module in _BUILTIN_MODULES:
        if importlib.util.find_spec(f"shopmind.recommend.models.{module}") is None:
            continue  # not part of this installation
        try:
            importlib.import_module(f"shopmind.recommend.models.{module}")
        except ModuleNotFoundError as exc:  # a model whose optional dependency is absent
            if (exc.name or "").startswith("shopmind"):
                raise
            logger.warning("model module %s unavailable: %s", module, exc)


_BUILTIN_MODULES = (
    "popular", "recent", "covisit", "knn", "ease", "implicit_mf", "sasrec", "text", "ensemble",
)


def available_models() -> list[str]:
    """Names of all registered models."""
    _load_builtin_models()
    return sorted(_REGISTRY)


def model_class(name: str) -> type[Recommender]:
    _load_builtin_models()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown model {name!r}; available models: {', '.join(available_models())}"
        ) from None


def create_model(name: str, **params: Any) -> Recommender:
    """Instantiate the model registered as ``name`` with hyperparameters ``params``."""
    cls = model_class(name)
    valid = cls.param_names()
    unknown = set(params) - set(valid)
    if unknown:
        raise InputError(
            f"model {name!r} has no parameter(s) {sorted(unknown)}; its parameters: "
            f"{', '.join(valid) or '(none)'}"
        )
    return cls(**params)


# ------------------------------------------------------------------------------ base class


class Recommender(abc.ABC):
    """Base class of every recommender: see the module docstring for the contract."""

    name: ClassVar[str] = "base"
    #: Histories scored per batch (bounds the (batch, n_items) score matrix in memory).
    batch_size: ClassVar[int] = 1024

    n_items_: int
    item_popularity_: np.ndarray

    # -- sklearn-style parameters --------------------------------------------------------
    @classmethod
    def param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [p.name for p in signature.parameters.values()
                if p.name != "self" and p.kind is p.KEYWORD_ONLY]

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.param_names()}

    def set_params(self, **params: Any) -> Self:
        for key, value in params.items():
            if key not in self.param_names():
                raise InputError(f"{self.name} has no parameter {key!r}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, data: TrainingData) -> Self:
        """Learn from ``data``; returns ``self``."""
        if data.n_items == 0:
            raise InputError("cannot fit a recommender on a catalog with no items")
        self.n_items_ = data.n_items
        self.item_popularity_ = data.item_popularity()
        self._fit(data)
        return self

    @abc.abstractmethod
    def _fit(self, data: TrainingData) -> None: ...

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "n_items_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(f"{self.name} is not fitted yet: call fit() first")

    # -- scoring ---------------------------------------------------------------------------
    @abc.abstractmethod
    def _score(self, histories: Histories) -> np.ndarray:
        """(B, n_items) float32 scores for a batch of histories; higher is better."""

    def score(self, histories: Histories) -> np.ndarray:
        """Scores of every item for each history, (B, n_items) float32."""
        self._check_fitted()
        if len(histories.items) and (histories.items.min() < 0
                                     or histories.items.max() >= self.n_items_):
            raise InputError(f"history item indices must be in [0, {self.n_items_})")
        scores = np.asarray(self._score(histories), dtype=np.float32)
        # Cold start: a history the model cannot read falls back to popularity.
        empty = histories.lengths() == 0
        if empty.any():
            scores[empty] = self.item_popularity_
        return scores

    def score_items(self, histories: Histories, items: np.ndarray) -> np.ndarray:
        """Scores of just ``items`` for each history, (B, len(items)) float32.

        Equal to ``score(histories)[:, items]`` wherever the model has evidence (score
        above 0); models with sparse scores override it to skip the full catalog (the
        reasons of a served list look up ten items, not twelve thousand).
        """
        return self.score(histories)[:, np.asarray(items, dtype=np.int64)]

    def recommend(
        self,
        histories: Histories,
        k: int,
        *,
        exclude_seen: bool = True,
        filter_items: np.ndarray | None = None,
        exclude: Histories | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` item indices and scores per history, best first: two (B, k) arrays.

        ``filter_items`` (optional, item indices) restricts the candidates; ``exclude``
        (optional) adds per-history items to leave out. Rows with fewer than ``k`` allowed
        items are padded with index -1 and score ``-inf``.
        """
        self._check_fitted()
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        k_eff = min(k, self.n_items_)
        ids = np.full((len(histories), k), -1, dtype=np.int64)
        out = np.full((len(histories), k), -np.inf, dtype=np.float32)
        allowed = None
        if filter_items is not None:
            allowed = np.zeros(self.n_items_, dtype=bool)
            allowed[np.asarray(filter_items, dtype=np.int64)] = True
        for start in range(0, len(histories), self.batch_size):
            rows = np.arange(start, min(start + self.batch_size, len(histories)))
            batch = histories.take(rows)
            scores = self.score(batch)
            if allowed is not None:
                scores[:, ~allowed] = -np.inf
            if exclude_seen:
                _mask(scores, batch)
            if exclude is not None:
                _mask(scores, exclude.take(rows))
            top, top_scores = top_k(scores, k_eff)
            top[np.isneginf(top_scores)] = -1
            ids[rows, :k_eff] = top
            out[rows, :k_eff] = top_scores
        return ids, out

    def similar_items(self, item_indices: np.ndarray | Sequence[int], k: int
                      ) -> tuple[np.ndarray, np.ndarray]:
        """Items most similar to each given item (the item itself excluded)."""
        items = np.asarray(item_indices, dtype=np.int32)
        return self.recommend(Histories.from_lists([[i] for i in items]), k)

    # -- persistence -----------------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray]:
        """Learned arrays to save (subclasses extend)."""
        return {}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:  # noqa: B027 - optional hook
        """Restore learned arrays (subclasses extend)."""

    def save(self, path: str | Path) -> Path:
        """Save params (JSON) and learned arrays (``.npz``, no pickle) under folder ``path``."""
        self._check_fitted()
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"model": self.name, "params": self.get_params(), "format": ARTIFACT_FORMAT,
                "shopmind": __version__}
        (folder / "params.json").write_text(json.dumps(meta, indent=2, default=str))
        state = {"n_items_": np.asarray(self.n_items_),
                 "item_popularity_": self.item_popularity_, **self._state()}
        np.savez(folder / "state.npz", **state)  # type: ignore[arg-type]
        return folder

    @classmethod
    def load(cls, path: str | Path) -> Recommender:
        """Load a model saved with :meth:`save` (any registered class when called on base)."""
        folder = Path(path)
        try:
            meta = json.loads((folder / "params.json").read_text())
        except FileNotFoundError:
            raise InputError(f"{folder} holds no saved model (params.json missing)") from None
        params = dict(meta["params"])
        defaults = inspect.signature(model_class(meta["model"]).__init__).parameters
        for key, value in params.items():  # JSON has no tuples: restore tuple-typed params
            if isinstance(value, list) and key in defaults and isinstance(
                    defaults[key].default, tuple):
                params[key] = tuple(value)
        model = create_model(meta["model"], **params)
        with np.load(folder / "state.npz", allow_pickle=False) as npz:
            state = {key: npz[key] for key in npz.files}
        model.n_items_ = int(state.pop("n_items_"))
        model.item_popularity_ = state.pop("item_popularity_")
        model._set_state(state)
        return model


def _mask(scores: np.ndarray, histories: Histories) -> None:
    rows = np.repeat(np.arange(len(histories)), histories.lengths())
    scores[rows, histories.items] = -np.inf


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` largest scores per row, sorted descending.

    Ties are broken by the lower item index, so results are deterministic.

    >>> ids, vals = top_k(np.array([[0.1, 0.9, 0.5, 0.9]], dtype=np.float32), 2)
    >>> ids.tolist(), vals.tolist()
    ([[1, 3]], [[0.8999999761581421, 0.8999999761581421]])
    """
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    ids = np.take_along_axis(part, order, axis=1)
    return ids.astype(np.int64), np.take_along_axis(part_scores, order, axis=1)
