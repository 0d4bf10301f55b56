"""The `SentimentModel` protocol, its registry, and saving without pickle.

A model maps review texts to P(positive). ``__init__`` stores keyword hyperparameters only;
``fit(texts, labels)`` validates and returns ``self``; learned attributes end in ``_``;
``predict_proba`` before ``fit`` raises :class:`~shopmind.errors.NotFittedError`. Artifacts
are one ``arrays.npz`` (``allow_pickle=False``) plus ``model.json`` (name, params, version,
small learned values).
"""

from __future__ import annotations

import abc
import inspect
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

import numpy as np

from shopmind import __version__
from shopmind.errors import InputError, NotFittedError, UnknownNameError
from shopmind.reviews.text import has_words, normalize_all

ARTIFACT_FORMAT = 2
M = TypeVar("M", bound="SentimentModel")
_MODELS: dict[str, type[SentimentModel]] = {}


def register_model(name: str) -> Callable[[type[M]], type[M]]:
    """Class decorator: make a sentiment model available by ``name``."""

    def decorate(cls: type[M]) -> type[M]:
        cls.name = name
        _MODELS[name] = cls
        return cls

    return decorate


def available_models() -> list[str]:
    """Names of the registered sentiment models."""
    return sorted(_MODELS)


def create_model(name: str, **params: Any) -> SentimentModel:
    """The model registered as ``name`` built with ``params``; unknown names list valid ones."""
    try:
        cls = _MODELS[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown sentiment model {name!r}; available: {', '.join(available_models())}"
        ) from None
    return cls(**params)


def check_training_data(texts: Sequence[str], labels: Sequence[int] | np.ndarray
                        ) -> np.ndarray:
    """Labels as an int array after checking they are 0/1, both present, one per text."""
    y = np.asarray(labels)
    if len(texts) != len(y):
        raise InputError(f"got {len(texts)} texts but {len(y)} labels; need one label each")
    if y.size and not np.isin(y, (0, 1)).all():
        bad = sorted({str(v) for v in y[~np.isin(y, (0, 1))].tolist()})[:5]
        raise InputError(f"labels must be 0 (negative) or 1 (positive), got {bad}")
    if len(np.unique(y)) < 2:
        raise InputError("training labels must contain both 0 and 1 (need both classes)")
    return y.astype(np.int64)


#: Training texts without words needed to trust their own share of positives.
MIN_WORDLESS = 20


def wordless_prior(texts: Sequence[str], y: np.ndarray) -> float:
    """P(positive) for a text without words: the share of positives among such training
    texts when there are at least :data:`MIN_WORDLESS` of them (rating-only reviews are
    often more negative than written ones), else among all training texts.

    >>> wordless_prior(["", "good", "bad"], np.array([0, 1, 1]))
    0.6666666666666666
    >>> wordless_prior([""] * 20 + ["good"] * 80, np.array([0] * 15 + [1] * 85))
    0.25
    """
    empty = np.array([not has_words(t) for t in texts], dtype=bool)
    chosen = y[empty] if empty.sum() >= MIN_WORDLESS else y
    return float(np.mean(chosen))


class SentimentModel(abc.ABC):
    """P(positive) of review texts. Subclasses implement ``_fit``, ``_proba`` and arrays."""

    name: ClassVar[str] = "base"

    # -- estimator manners --------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """Hyperparameters, read from the ``__init__`` signature."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names}

    @property
    def fitted(self) -> bool:
        return getattr(self, "fitted_", False)

    def fit(self, texts: Sequence[str], labels: Sequence[int] | np.ndarray) -> Self:
        """Learn from raw texts and 0/1 labels; returns ``self``."""
        y = check_training_data(texts, labels)
        clean = normalize_all(texts)
        self._fit(clean, y)
        self.prior_ = wordless_prior(clean, y)
        self.fitted_ = True
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(n,) float64 probability that each raw text is positive.

        A text without words (empty, emoji or punctuation only: a rating with no review)
        gets :func:`wordless_prior`, not whatever the model makes of nothing.
        """
        return self._scores(texts)[0]

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """(n,) 0/1 labels at the model's decision threshold; a text without words gets
        the majority label of such training texts (its prior against 0.5: the threshold
        was tuned on texts with words)."""
        proba, wordless = self._scores(texts)
        labels = proba >= self.threshold_
        labels[wordless] = proba[wordless] >= 0.5
        return labels.astype(np.int64)

    def _scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and which texts got the wordless prior."""
        if not self.fitted:
            raise NotFittedError(f"sentiment model {self.name!r} used before fit/load")
        if len(texts) == 0:
            return np.zeros(0), np.zeros(0, dtype=bool)
        clean = normalize_all(texts)
        if self.prior_ is None:
            return self._proba(clean), np.zeros(len(clean), dtype=bool)
        wordy = np.array([has_words(t) for t in clean])
        out = np.full(len(clean), self.prior_)
        if wordy.any():
            out[wordy] = self._proba([t for t, w in zip(clean, wordy, strict=True) if w])
        return out, ~wordy

    threshold_: float = 0.5
    prior_: float | None = None  # share of positive training texts (None: saved before it)

    @abc.abstractmethod
    def _fit(self, texts: list[str], y: np.ndarray) -> None: ...

    @abc.abstractmethod
    def _proba(self, texts: list[str]) -> np.ndarray: ...

    # -- persistence ----------------------------------------------------------------------
    @abc.abstractmethod
    def _state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Learned arrays and small JSON-able learned values."""

    @abc.abstractmethod
    def _restore(self, arrays: dict[str, np.ndarray], info: dict[str, Any]) -> None: ...

    def save(self, path: str | Path) -> Path:
        """Write ``arrays.npz`` and ``model.json`` into folder ``path``; returns it."""
        if not self.fitted:
            raise NotFittedError("cannot save a sentiment model before fit")
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        arrays, info = self._state()
        np.savez(folder / "arrays.npz", **arrays)  # type: ignore[arg-type]
        meta = {"format": ARTIFACT_FORMAT, "shopmind": __version__, "model": self.name,
                "params": _jsonable(self.get_params()), "threshold": self.threshold_,
                "prior": self.prior_, "info": info}
        (folder / "model.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
        return folder


def load_model(path: str | Path) -> SentimentModel:
    """A model saved by :meth:`SentimentModel.save`."""
    folder = Path(path)
    meta_path = folder / "model.json"
    if not meta_path.is_file():
        raise InputError(f"no sentiment model at {folder} (model.json missing); "
                         "train one with `shopmind reviews train`")
    damaged = "; retrain it with `shopmind reviews train`"
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{meta_path}: not valid JSON ({exc}){damaged}") from exc
    if not isinstance(meta, dict) or meta.get("format") != ARTIFACT_FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise InputError(f"{meta_path}: artifact format {found} is not "
                         f"{ARTIFACT_FORMAT}; retrain the model")
    arrays_path = folder / "arrays.npz"
    try:
        model = create_model(meta["model"], **_from_json(meta["params"]))
        with np.load(arrays_path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        model._restore(arrays, meta["info"])
        model.threshold_ = float(meta["threshold"])
        prior = meta.get("prior")
        model.prior_ = None if prior is None else float(prior)
    except FileNotFoundError as exc:
        raise InputError(f"{arrays_path} is missing{damaged}") from exc
    except (KeyError, ValueError, OSError) as exc:
        raise InputError(f"{folder}: damaged sentiment model ({type(exc).__name__}: "
                         f"{exc}){damaged}") from exc
    model.fitted_ = True
    return model


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def _from_json(params: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}


def sub_arrays(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """The arrays whose keys start with ``prefix/``, with the prefix removed."""
    return {k[len(prefix) + 1:]: v for k, v in arrays.items() if k.startswith(prefix + "/")}


def prefixed(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """``arrays`` with keys renamed ``prefix/key`` (to nest one model's state in another)."""
    return {f"{prefix}/{k}": v for k, v in arrays.items()}
