"""``sasrec`` and ``sasrec_text``: a causal transformer over each user's item sequence.

Kang & McAuley, *Self-Attentive Sequential Recommendation* (ICDM 2018), trained with a
softmax cross-entropy at every position as in Klenitskiy & Vasilev (RecSys 2023): over the
whole catalog when it is small (up to 4,096 items), over ``n_negatives`` sampled items
above that (gSASRec, Petrov & Macdonald, RecSys 2023, and RecTools' SASRec+SS, on why
many negatives are needed). The
network is in :mod:`.sasrec_net`, the loop in :mod:`.sasrec_train`. ``sasrec_text`` fuses
item text vectors into the item embeddings so new items can be recommended.

Early stopping needs no extra argument to ``fit``: the model holds out the newest item of
``valid_users`` random training histories (4,096 by default), trains on everything else
and keeps the epoch with the best NDCG@10 on those held-out items, then scores from the
*full* histories. Fitted on the leave-one-out ``test_train`` view, the held-out items are
validation targets (second-to-last items) and no test item is ever seen. Holding out only
a sample matters: the newest transitions are the most informative for the next item, and
on Amazon Beauty training on them for the other users lifted validation NDCG@10 from
0.046 to 0.055 against holding out every user's (the original SASRec protocol).

Defaults hold across data sets; what varies is derived from data statistics, never from a
data set's name: ``max_len`` from the sequence lengths (99th percentile rounded up to a
multiple of 25, in [25, 200]: 50 on Amazon Beauty, 200 on ML-1M, the literature's values)
and ``dropout`` from the interactions per item (0.47 on Beauty, 0.20 on ML-1M; Kang &
McAuley used 0.5 and 0.2).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import ClassVar

import numpy as np
import torch

from shopmind.errors import InputError
from shopmind.recommend.base import Histories, Recommender, TrainingData, register
from shopmind.recommend.models.sasrec_net import NetConfig, SasRecNet
from shopmind.recommend.models.sasrec_train import (
    EpochLog,
    TrainConfig,
    auto_dropout,
    auto_max_len,
    holdout_last,
    score_last,
    threads,
    train,
)

logger = logging.getLogger(__name__)

LOSSES = ("auto", "ce", "sampled")
#: ``loss="auto"`` uses the exact softmax up to this many items (16× the default negatives).
FULL_SOFTMAX_MAX_ITEMS = 4096


@register("sasrec")
class SasRec(Recommender):
    """SASRec with full (or many-negative sampled) softmax cross-entropy.

    Parameters
    ----------
    max_len : int or None, default None
        Newest items of a history the transformer reads; None derives it from the data
        (see the module docstring).
    hidden, n_blocks, n_heads : int
        Transformer shape (SASRec's 64 / 2 / 1).
    dropout : float or None, default None
        None derives it from the interactions per item (0.5 on sparse data such as Amazon
        Beauty, 0.2 on dense data such as ML-1M; see :func:`.sasrec_train.auto_dropout`).
    loss : {"auto", "sampled", "ce"}, default "auto"
        ``"ce"``: the full softmax over the catalog; ``"sampled"``: a softmax over
        ``n_negatives`` uniform negatives per sequence (the full one when the catalog is no
        larger); ``"auto"``: the full softmax up to :data:`FULL_SOFTMAX_MAX_ITEMS` items,
        sampled above. On two CPU cores the full softmax costs 2.3× the sampled one per
        epoch on ML-1M (3,416 items) and 5× on Amazon Beauty (12,101): on the small
        catalog it still reaches the better model within the time budget (validation
        NDCG@10 0.163 against 0.158 for 256 negatives), on the large one it does not.
    lr, weight_decay : float
        AdamW settings (lr 4e-3: four times SASRec's. Training on two cores ends by the
        time budget long before convergence, and a faster rate gets further: at equal
        epochs on the validation views, ML-1M 0.1647 against 0.1563 after 26 epochs and
        Beauty 0.0614 against 0.0600 after 13; plateaus halve it anyway).
    batch_sequences : int, default 64
        Sequences per training step.
    max_epochs, patience : int
        Epoch cap, and the least number of epochs without a better validation NDCG@10
        before stopping; the wait grows to the best epoch in long runs (see
        :func:`.sasrec_train.patience_after`), and the learning rate halves after every
        :func:`.sasrec_train.halving_period` without improvement.
    valid_users : int, default 4096
        Histories whose newest item is held out for early stopping (0 disables it).
    time_budget_s : float or None
        Stop before an epoch would end past this many seconds since ``fit`` started (text
        embedding included, for ``sasrec_text``).
    num_threads : int or None
        Torch CPU threads while fitting and scoring; None uses the idle cores, re-read
        every epoch (see :func:`shopmind.cpu.idle_cores`).
    random_state : int or None
        Seed of the sampling, the initialization and dropout.
    init_seed : int or None
        Seed of the initialization, the batch order and dropout alone, the validation
        hold-out still drawn from ``random_state`` (None: all from ``random_state``):
        trainings that differ only in this seed share their hold-out users.

    Attributes
    ----------
    best_epoch_, valid_ndcg_, history_
        Epoch kept, its validation NDCG@10, and one :class:`EpochLog` per epoch.
    loss_ : str
        The loss trained with (``"auto"`` resolved; not saved).
    holdout_ : HoldOut
        The validation split used while fitting (not saved).

    Set ``on_epoch`` (a callable taking an :class:`EpochLog`) on an instance to follow
    training, e.g. from a progress bar; it is not a hyperparameter.
    """

    net_: SasRecNet
    max_len_: int
    on_epoch: Callable[[EpochLog], None] | None = None
    batch_size: ClassVar[int] = 512

    def __init__(
        self, *, max_len: int | None = None, hidden: int = 64, n_blocks: int = 2,
        n_heads: int = 1, dropout: float | None = None, loss: str = "auto",
        n_negatives: int = 256,
        lr: float = 4e-3, weight_decay: float = 0.0, batch_sequences: int = 64,
        max_epochs: int = 200, patience: int = 8, valid_users: int = 4096,
        time_budget_s: float | None = None, num_threads: int | None = None,
        random_state: int | None = 0, init_seed: int | None = None,
    ) -> None:
        self.max_len = max_len
        self.hidden = hidden
        self.n_blocks = n_blocks
        self.n_heads = n_heads
        self.dropout = dropout
        self.loss = loss
        self.n_negatives = n_negatives
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_sequences = batch_sequences
        self.max_epochs = max_epochs
        self.patience = patience
        self.valid_users = valid_users
        self.time_budget_s = time_budget_s
        self.num_threads = num_threads
        self.random_state = random_state
        self.init_seed = init_seed

    # -- fitting -----------------------------------------------------------------------
    def _validate(self) -> None:
        if self.loss not in LOSSES:
            raise InputError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.hidden % self.n_heads:
            raise InputError(f"hidden ({self.hidden}) must be divisible by n_heads "
                             f"({self.n_heads})")
        if self.dropout is not None and not 0.0 <= self.dropout < 1.0:
            raise InputError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.init_seed is not None and (not isinstance(self.init_seed, int)
                                           or self.init_seed < 0):
            raise InputError(f"init_seed must be None or a whole number ≥ 0, "
                             f"got {self.init_seed!r}")
        if self.max_len is not None and self.max_len < 1:
            raise InputError(f"max_len must be positive or None, got {self.max_len}")
        if self.max_epochs < 1 or self.batch_sequences < 1:
            raise InputError("max_epochs and batch_sequences must be at least 1")

    def _text_vectors(self, data: TrainingData) -> np.ndarray | None:
        """Fixed item text vectors fused into the item embeddings (``sasrec_text``)."""
        return None

    def _fit(self, data: TrainingData) -> None:
        self._validate()
        rng = np.random.default_rng(self.random_state)
        torch_seed = int(rng.integers(2**62))  # drawn either way: the hold-out comes next
        train_rng = rng
        if self.init_seed is not None:
            train_rng = np.random.default_rng(self.init_seed)
            torch_seed = int(train_rng.integers(2**62))
        started = time.perf_counter()
        text = self._text_vectors(data)
        budget = (None if self.time_budget_s is None
                  else self.time_budget_s - (time.perf_counter() - started))
        with threads(self.num_threads):
            torch.manual_seed(torch_seed)
            self.max_len_ = self.max_len or auto_max_len(data.histories.lengths())
            dropout = (self.dropout if self.dropout is not None
                       else auto_dropout(len(data.histories.items), data.n_items))
            cfg = NetConfig(n_items=data.n_items, max_len=self.max_len_, hidden=self.hidden,
                            n_blocks=self.n_blocks, n_heads=self.n_heads, dropout=dropout,
                            text_dim=0 if text is None else text.shape[1])
            self.net_ = SasRecNet(cfg, None if text is None else torch.from_numpy(text))
            valid = None
            if self.valid_users > 0:
                self.holdout_ = holdout_last(data.histories, self.valid_users, rng)
                if len(self.holdout_.rows):
                    valid = (self.holdout_.train.take(self.holdout_.rows),
                             self.holdout_.targets)
                train_h = self.holdout_.train
            else:
                train_h = data.histories
            loss = self.loss_ = self.loss if self.loss != "auto" else (
                "ce" if data.n_items <= FULL_SOFTMAX_MAX_ITEMS else "sampled")
            train_cfg = TrainConfig(
                loss=loss, n_negatives=self.n_negatives, lr=self.lr,
                weight_decay=self.weight_decay, batch_size=self.batch_sequences,
                max_epochs=self.max_epochs, patience=self.patience,
                time_budget_s=budget)
            logger.info("%s: %d histories, %d items, max_len %d, dropout %.2f, loss %s",
                        self.name, len(train_h), data.n_items, self.max_len_, dropout, loss)
            self.best_epoch_, self.valid_ndcg_, self.history_ = train(
                self.net_, train_h, train_cfg, train_rng, valid=valid, on_epoch=self.on_epoch,
                num_threads=self.num_threads)
            self._after_training(train_h)

    def _after_training(self, train_h: Histories) -> None:
        """Hook for subclasses (e.g. drop id embeddings of items never seen in training)."""

    # -- scoring -----------------------------------------------------------------------
    def _score(self, histories: Histories) -> np.ndarray:
        with threads(self.num_threads):
            return score_last(self.net_, histories)

    # -- persistence -------------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray]:
        state = {f"net.{k}": v.detach().cpu().numpy()
                 for k, v in self.net_.state_dict().items()}
        return {"max_len_": np.asarray(self.max_len_), **state}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.max_len_ = int(state["max_len_"])
        weights = {k[4:]: torch.from_numpy(v) for k, v in state.items() if k.startswith("net.")}
        text = weights.get("text")
        cfg = NetConfig(n_items=self.n_items_, max_len=self.max_len_, hidden=self.hidden,
                        n_blocks=self.n_blocks, n_heads=self.n_heads,
                        text_dim=0 if text is None else text.shape[1])
        self.net_ = SasRecNet(cfg, text)
        self.net_.load_state_dict(weights, strict=True)
        self.net_.eval()


@register("sasrec_text")
class SasRecText(SasRec):
    """SASRec whose item vectors fuse a learned id embedding with projected text vectors.

    ``vector(i) = id_embedding(i) + W · text(i)`` (``W`` learned, ``text`` fixed, from
    :mod:`shopmind.text.embeddings`), used at the input and, tied, at the output. Items
    that never occur in the training sequences have their id embedding reset to zero after
    training (as a softmax negative it was only ever pushed down), so they are scored by
    their text alone: new products can be recommended from the first day. Compare the
    text-initialized ID embeddings of UniSRec (Hou et al., KDD 2022) and LLMEmb-style
    SASRec variants. Without item text it behaves like ``sasrec`` (with a warning).

    Parameters
    ----------
    backend, backend_path, cache_dir
        Text embedding backend, its local model folder, and the vector cache (see the
        ``text`` model).
    **others
        As :class:`SasRec`.
    """

    def __init__(
        self, *, backend: str = "use", backend_path: str | None = None,
        cache_dir: str | None = None, max_len: int | None = None, hidden: int = 64,
        n_blocks: int = 2, n_heads: int = 1, dropout: float | None = None,
        loss: str = "auto",
        n_negatives: int = 256, lr: float = 4e-3, weight_decay: float = 0.0,
        batch_sequences: int = 64, max_epochs: int = 200, patience: int = 8,
        valid_users: int = 4096, time_budget_s: float | None = None,
        num_threads: int | None = None, random_state: int | None = 0,
        init_seed: int | None = None,
    ) -> None:
        super().__init__(
            max_len=max_len, hidden=hidden, n_blocks=n_blocks, n_heads=n_heads,
            dropout=dropout, loss=loss, n_negatives=n_negatives, lr=lr,
            weight_decay=weight_decay, batch_sequences=batch_sequences,
            max_epochs=max_epochs, patience=patience, valid_users=valid_users,
            time_budget_s=time_budget_s, num_threads=num_threads, random_state=random_state,
            init_seed=init_seed)
        self.backend = backend
        self.backend_path = backend_path
        self.cache_dir = cache_dir

    def _text_vectors(self, data: TrainingData) -> np.ndarray | None:
        from shopmind.recommend.models.text import embed_items

        if data.item_text is None:
            logger.warning("sasrec_text: no item text in the training data; training a plain "
                           "SASRec (new items cannot be scored by text)")
            return None
        vectors, _ = embed_items(data, self.backend, self.backend_path, self.cache_dir)
        return vectors

    def _after_training(self, train_h: Histories) -> None:
        if self.net_.cfg.text_dim == 0:
            return
        unseen = np.bincount(train_h.items, minlength=self.net_.cfg.n_items) == 0
        with torch.no_grad():
            self.net_.item_emb.weight[1:][torch.from_numpy(unseen)] = 0.0
