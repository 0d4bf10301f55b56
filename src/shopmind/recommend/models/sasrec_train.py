"""Training loop of SASRec: batches, losses, validation, early stopping, time budget.

Losses (``loss``):

* ``"ce"`` — full softmax cross-entropy over the whole catalog at every non-padding
  position. Klenitskiy & Vasilev, *Turning Dross Into Gold Loss: is BERT4Rec really better
  than SASRec?* (RecSys 2023) show it lifts SASRec above BERT4Rec; the one-negative binary
  cross-entropy of the original paper underperforms badly.
* ``"sampled"`` — softmax over the positive and ``n_negatives`` items drawn uniformly for
  each sequence (shared by its positions), for catalogs too large for a full softmax
  (Klenitskiy & Vasilev's SASRec with 3,000 negatives; gSASRec, Petrov & Macdonald,
  RecSys 2023, on why *many* negatives matter; RecTools' SASRec+SS, the best published
  Amazon Beauty result in the eSASRec benchmark, Tikhonov et al. 2025).

CPU efficiency: sequences are right-padded and batched by similar length (so a batch of
short Amazon histories is a short tensor, not ``max_len`` wide), logits are computed only
at non-padding positions and, for the full softmax, a few hundred rows at a time
(:class:`ChunkedCrossEntropy`: the positions × catalog logits never exist whole), dropout
masks come from NumPy (see :class:`.sasrec_net.Dropout`)
and torch uses only idle cores, re-checked every epoch (:class:`threads`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from shopmind.cpu import idle_cores
from shopmind.recommend.base import Histories
from shopmind.recommend.models.sasrec_net import SasRecNet

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EpochLog:
    """What one epoch reports to logging and to an ``on_epoch`` callback."""

    epoch: int
    max_epochs: int
    loss: float
    valid_ndcg: float | None  # NDCG@10 on the held-out items, None when not evaluated
    best_ndcg: float | None
    seconds: float  # since the start of training


@dataclass(frozen=True)
class TrainConfig:
    loss: str = "ce"
    n_negatives: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 128
    max_epochs: int = 200
    patience: int = 8
    time_budget_s: float | None = None


@dataclass(frozen=True)
class HoldOut:
    """Histories with the newest item of some ``rows`` removed, and those items."""

    train: Histories  # every history, the held-out rows one item shorter
    rows: np.ndarray  # (V,) int64 history positions that lost their newest item
    targets: np.ndarray  # (V,) int64 the removed items


def holdout_last(histories: Histories, max_rows: int, rng: np.random.Generator) -> HoldOut:
    """Remove the newest item of up to ``max_rows`` random histories having ≥ 3 items.

    >>> h = holdout_last(Histories.from_lists([[1, 2, 3], [4, 5]]), 10, np.random.default_rng(0))
    >>> h.train[0].tolist(), h.rows.tolist(), h.targets.tolist()
    ([1, 2], [0], [3])
    """
    eligible = np.flatnonzero(histories.lengths() >= 3)
    if len(eligible) > max_rows:
        eligible = np.sort(rng.choice(eligible, size=max_rows, replace=False))
    keep = np.ones(len(histories.items), dtype=bool)
    last = histories.indptr[eligible + 1] - 1
    keep[last] = False
    lengths = histories.lengths()
    lengths[eligible] -= 1
    indptr = np.zeros(len(histories) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    weights = None if histories.weights is None else histories.weights[keep]
    train_h = Histories(indptr=indptr, items=histories.items[keep], weights=weights)
    return HoldOut(train_h, eligible.astype(np.int64), histories.items[last].astype(np.int64))


def auto_max_len(lengths: np.ndarray) -> int:
    """99th percentile of the history lengths, rounded up to a multiple of 25, in [25, 200]."""
    q = float(np.percentile(lengths, 99)) if len(lengths) else 25.0
    return int(min(200, max(25, math.ceil(q / 25) * 25)))


def auto_dropout(n_interactions: int, n_items: int) -> float:
    """Dropout from the data per item: 0.5 at ≤ 10 interactions per item, 0.2 at ≥ 300.

    Interpolated on a log scale in between. Sparse catalogs (Amazon Beauty: 16 per item)
    overfit an item embedding quickly and want strong dropout; dense ones (ML-1M: 290 per
    item) want little (Kang & McAuley 2018 used 0.5 and 0.2 for exactly these two cases).

    >>> auto_dropout(10 * 1000, 1000), auto_dropout(300 * 1000, 1000)
    (0.5, 0.2)
    """
    per_item = max(n_interactions / max(n_items, 1), 1e-9)
    t = (math.log(per_item) - math.log(10)) / (math.log(300) - math.log(10))
    return round(0.5 - 0.3 * min(max(t, 0.0), 1.0), 3)


class threads:
    """Run torch on ``n`` CPU threads (None: :func:`idle_cores`), then restore the setting."""

    def __init__(self, n: int | None) -> None:
        self.n = n
        self.before = 1

    def __enter__(self) -> threads:
        self.before = torch.get_num_threads()
        self.refresh()
        return self

    def refresh(self) -> None:
        """Re-read the load (None) — called every epoch so training follows the machine."""
        torch.set_num_threads(self.n or idle_cores())

    def __exit__(self, *exc: object) -> None:
        torch.set_num_threads(self.before)


def pack(histories: Histories, max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-padded tokens (B, T ≤ max_len) of each history's newest items, and lengths.

    Items become tokens ``item + 1`` (0 is padding); ``T`` is the longest kept history.
    """
    recent = histories.last(max_len)
    lengths = recent.lengths()
    width = max(int(lengths.max()) if len(lengths) else 1, 1)
    tokens = np.zeros((len(recent), width), dtype=np.int64)
    rows = np.repeat(np.arange(len(recent)), lengths)
    cols = np.arange(len(recent.items)) - np.repeat(recent.indptr[:-1], lengths)
    tokens[rows, cols] = recent.items.astype(np.int64) + 1
    return tokens, lengths


def _batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Row batches of similar length (sorted with random tie-breaks), in random order."""
    order = np.lexsort((rng.random(len(lengths)), lengths))
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


#: Rows of logits :class:`ChunkedCrossEntropy` holds at once (256 × 3,416 items ≈ 3.5 MB).
CE_CHUNK_ROWS = 256


class ChunkedCrossEntropy(torch.autograd.Function):
    """Mean softmax cross-entropy of ``hidden @ weights.T`` against ``targets``, in row chunks.

    The loss and gradients of ``F.cross_entropy(hidden @ weights.T, targets)`` (equal to
    rounding), but the (N, n_items) logits — 175 MB for a 64 × 200 ML-1M batch — are
    computed ``chunk`` rows at a time and never exist whole: chunks stay in cache instead
    of the whole matrix streaming through memory five times (product, log-softmax, its
    gradient, two backward products). A training epoch on ML-1M took 22 s instead of 27
    on two cores.

    The loss is the last node of the graph, so its gradients are known up to the incoming
    scalar as soon as a chunk's softmax is: they are accumulated in the forward pass
    (``softmax − one-hot`` times ``weights`` and ``hidden``) and the backward pass only
    scales them — the fused linear cross-entropy of Liger-Kernel (Hsu et al. 2024),
    on CPU. One product and one exponential pass over the logits fewer than computing
    them again in the backward pass: 20 % less time per ML-1M epoch. (Matrix
    products in bfloat16 saved only ~10 % more, within the noise of a shared machine, so
    they stay float32.)
    """

    @staticmethod
    def forward(ctx: Any, hidden: torch.Tensor, weights: torch.Tensor, targets: torch.Tensor,
                chunk: int) -> torch.Tensor:
        n = len(hidden)
        target_logit = (hidden * weights[targets]).sum(dim=1)
        lse = torch.empty(n, dtype=hidden.dtype)
        wants_grad = any(ctx.needs_input_grad[:2])
        grad_hidden = torch.empty_like(hidden) if wants_grad else None
        grad_weights = torch.zeros_like(weights) if wants_grad else None
        scale = 1.0 / max(n, 1)
        for start in range(0, n, chunk):
            rows = slice(start, start + chunk)
            h = hidden[rows]
            logits = h @ weights.T
            top = logits.amax(dim=1, keepdim=True)
            total = logits.sub_(top).exp_().sum(dim=1, keepdim=True)
            lse[rows] = (total.log() + top).squeeze(1)
            if grad_hidden is not None and grad_weights is not None:
                probs = logits.mul_(scale / total)  # the chunk's softmax, over n
                probs[torch.arange(len(h)), targets[rows]] -= scale  # d mean loss / d logits
                torch.mm(probs, weights, out=grad_hidden[rows])
                grad_weights.addmm_(probs.T, h)
        ctx.save_for_backward(grad_hidden, grad_weights)
        return (lse - target_logit).mean()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor, None, None]:
        grad_hidden, grad_weights = ctx.saved_tensors
        return grad_hidden * grad, grad_weights * grad, None, None


def _loss(net: SasRecNet, tokens: torch.Tensor, targets: torch.Tensor, lengths: torch.Tensor,
          cfg: TrainConfig, gen: torch.Generator) -> torch.Tensor:
    hidden = net(tokens, lengths)  # (B, T, C)
    real = targets > 0  # (B, T) positions with a next item
    y = targets[real] - 1  # (N,) item indices
    weights = net.output_weights()  # (n_items, C)
    if cfg.loss == "ce" or cfg.n_negatives >= len(weights):  # small catalog: exact softmax
        return ChunkedCrossEntropy.apply(hidden[real], weights, y, CE_CHUNK_ROWS)
    # Sampled softmax: each sequence draws its own negatives, shared by its positions.
    b = len(tokens)
    negatives = torch.randint(0, len(weights), (b, cfg.n_negatives), generator=gen)  # (B, K)
    neg = torch.bmm(hidden, weights[negatives].transpose(1, 2))  # (B, T, K)
    collide = negatives[:, None, :] == (targets - 1)[:, :, None]  # (B, T, K)
    neg = neg.masked_fill(collide, float("-inf"))[real]  # (N, K)
    pos = (hidden[real] * weights[y]).sum(-1, keepdim=True)  # (N, 1)
    logits = torch.cat([pos, neg], dim=1)
    return F.cross_entropy(logits, torch.zeros(len(y), dtype=torch.long))


@torch.no_grad()
def score_last(net: SasRecNet, histories: Histories, batch_size: int = 512) -> np.ndarray:
    """(B, n_items) float32 scores of every item after each history's newest item."""
    net.eval()
    weights = net.output_weights()
    out = np.empty((len(histories), net.cfg.n_items), dtype=np.float32)
    for start in range(0, len(histories), batch_size):
        rows = np.arange(start, min(start + batch_size, len(histories)))
        tokens, lengths = pack(histories.take(rows), net.cfg.max_len)
        lengths = np.maximum(lengths, 1)  # empty histories: the base class overrides them
        h = net.last_hidden(torch.from_numpy(tokens), torch.from_numpy(lengths))
        out[rows] = (h @ weights.T).numpy()
    return out


def validation_ndcg(net: SasRecNet, histories: Histories, targets: np.ndarray, k: int = 10
                    ) -> float:
    """NDCG@k of ``targets`` (one per history), history masked, ties against the model."""
    gains = np.zeros(len(targets))
    for start in range(0, len(targets), 1024):
        rows = np.arange(start, min(start + 1024, len(targets)))
        batch = histories.take(rows)
        scores = score_last(net, batch)
        seen = np.repeat(np.arange(len(rows)), batch.lengths())
        scores[seen, batch.items] = -np.inf
        target = scores[np.arange(len(rows)), targets[rows]][:, None]
        rank = (scores >= target).sum(axis=1)  # 1-based, ties count against the model
        gains[rows] = np.where(rank <= k, 1.0 / np.log2(rank + 1.0), 0.0)
    return float(gains.mean()) if len(gains) else 0.0


def patience_after(patience: int, best_epoch: int) -> int:
    """Epochs without a better validation NDCG to wait before stopping, given the best epoch.

    At least ``patience``, and as many epochs as it took to reach the best: on a hold-out
    of a few thousand histories NDCG@10 moves by ±0.003 from epoch to epoch, so a plateau
    is often noise. On ML-1M's contract run a wait of half the best epoch stopped SASRec at
    epoch 57 (best 38) with 13 of its 30 minutes unused, while the validation view, which
    trained to its budget (111 epochs), kept creeping up (0.1917 against 0.1906 after 50).
    Training keeps the best epoch's weights, so waiting costs time, never quality.

    >>> patience_after(8, 5), patience_after(8, 31)
    (8, 31)
    """
    return max(patience, best_epoch)


def halving_period(patience: int, best_epoch: int) -> int:
    """Epochs without improvement after which the learning rate halves (again).

    Half of ``patience`` or a quarter of the best epoch, the larger: plateaus grow as
    training goes on (on ML-1M a 9-epoch plateau after epoch 25 preceded gains up to
    epoch 59).

    >>> halving_period(8, 10), halving_period(8, 31)
    (4, 7)
    """
    return max(max(patience, best_epoch // 2) // 2, 1)


def train(
    net: SasRecNet,
    train: Histories,
    cfg: TrainConfig,
    rng: np.random.Generator,
    *,
    valid: tuple[Histories, np.ndarray] | None = None,
    on_epoch: Callable[[EpochLog], None] | None = None,
    num_threads: int | None = None,
) -> tuple[int, float | None, list[EpochLog]]:
    """Fit ``net`` on next-item prediction over ``train``; returns (best epoch, NDCG, logs).

    With ``valid`` (histories, targets) the weights of the best validation epoch are kept,
    the learning rate halves after every :func:`halving_period` of epochs without
    improvement (a noisy plateau at a high rate hides a better optimum) and training stops
    after :func:`patience_after` of them (``patience`` or the best epoch, the larger); in
    any case it stops at ``max_epochs`` or when ``time_budget_s`` would be exceeded by
    another epoch.
    """
    usable = train.take(np.flatnonzero(train.lengths() >= 2))
    tokens, lengths = pack(usable, net.cfg.max_len + 1)  # inputs and targets, shifted by one
    inputs = torch.from_numpy(tokens[:, :-1].copy())
    targets = torch.from_numpy(tokens[:, 1:].copy())
    in_len = torch.from_numpy(lengths - 1)
    gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
    net.seed(np.random.default_rng(rng.integers(2**62)))
    optim = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                              fused=True)
    best_epoch, best_ndcg, best_state, stale = 0, None, None, 0
    logs: list[EpochLog] = []
    started = time.perf_counter()
    cores = threads(num_threads)
    for epoch in range(1, cfg.max_epochs + 1):
        epoch_start = time.perf_counter()
        cores.refresh()
        net.train()
        total, count = 0.0, 0
        for rows in _batches(lengths - 1, cfg.batch_size, rng):
            idx = torch.from_numpy(rows)
            width = int(in_len[idx].max())
            loss = _loss(net, inputs[idx, :width], targets[idx, :width], in_len[idx], cfg, gen)
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            total += float(loss.detach()) * len(rows)
            count += len(rows)
        ndcg = validation_ndcg(net, *valid) if valid is not None else None
        if ndcg is not None and (best_ndcg is None or ndcg > best_ndcg):
            best_epoch, best_ndcg, stale = epoch, ndcg, 0
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        elif ndcg is not None:
            stale += 1
            if stale % halving_period(cfg.patience, best_epoch) == 0:
                for group in optim.param_groups:  # plateau: halve the learning rate
                    group["lr"] *= 0.5
        elif valid is None:
            best_epoch = epoch
        elapsed = time.perf_counter() - started
        log = EpochLog(epoch, cfg.max_epochs, total / max(count, 1), ndcg, best_ndcg, elapsed)
        logs.append(log)
        logger.info("epoch %d/%d loss %.4f valid ndcg@10 %s (best %s) %.0fs", epoch,
                    cfg.max_epochs, log.loss, _fmt(ndcg), _fmt(best_ndcg), elapsed)
        if on_epoch is not None:
            on_epoch(log)
        if not math.isfinite(log.loss):
            logger.warning("loss is not finite at epoch %d: stopping", epoch)
            break
        if valid is not None and stale >= patience_after(cfg.patience, best_epoch):
            break
        epoch_seconds = time.perf_counter() - epoch_start
        if cfg.time_budget_s is not None and elapsed + epoch_seconds > cfg.time_budget_s:
            logger.info("time budget of %.0fs reached after epoch %d", cfg.time_budget_s, epoch)
            break
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return best_epoch, best_ndcg, logs


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"
