"""The SASRec network: a causal transformer over item sequences (PyTorch).

Kang & McAuley, *Self-Attentive Sequential Recommendation*, ICDM 2018. The block layout is
the pre-LayerNorm transformer decoder (Radford et al. 2019; compare nanoGPT's ``model.py``)
with one change that matters for recommendation data: sequences are **right-padded** and the
position embedding counts *back from the most recent item*, so a causal mask alone keeps
every real position away from padding (no key-padding mask, the fused
``scaled_dot_product_attention`` kernel) while the newest item always sits at position 0,
as in SASRec's left-padded original.

Token 0 is padding; item index ``i`` is token ``i + 1``. The item embedding table doubles as
the output layer (weight tying, as in SASRec), optionally fused with fixed text vectors
through a learned projection (``sasrec_text``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class NetConfig:
    """Shape of a :class:`SasRecNet`."""

    n_items: int
    max_len: int = 50
    hidden: int = 64
    n_blocks: int = 2
    n_heads: int = 1
    dropout: float = 0.2
    text_dim: int = 0  # > 0: item vectors = learned id embedding + projection of text


class Dropout(nn.Module):
    """Inverted dropout whose mask comes from NumPy's PCG64 generator.

    Same maths as :class:`torch.nn.Dropout`; on CPU, torch's Bernoulli sampling was the
    largest single cost of a SASRec training step (about 3× slower than this). The
    generator is shared by the whole network and seeded by the training loop.
    """

    def __init__(self, p: float, rng: list[np.random.Generator]) -> None:
        super().__init__()
        self.p = p
        self.rng = rng  # a one-element list, so every layer sees a reseeded generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = self.rng[0].random(x.shape, dtype=np.float32) >= self.p
        return x * torch.from_numpy(keep) * (1.0 / (1.0 - self.p))


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        self.qkv = nn.Linear(cfg.hidden, 3 * cfg.hidden)
        self.out = nn.Linear(cfg.hidden, cfg.hidden)
        self.n_heads = cfg.n_heads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(x).split(c, dim=2)  # 3 × (B, T, C)
        q, k, v = (z.view(b, t, self.n_heads, c // self.n_heads).transpose(1, 2)
                   for z in (q, k, v))  # (B, H, T, C/H)
        # No dropout on the attention weights: on CPU it forces the unfused attention path
        # and a (B, H, T, T) random mask; dropout on the residual branches regularizes enough.
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out(y.transpose(1, 2).reshape(b, t, c))


class Block(nn.Module):
    def __init__(self, cfg: NetConfig, rng: list[np.random.Generator]) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.hidden)
        self.attn = CausalSelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.hidden)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.hidden, cfg.hidden), nn.GELU(), Dropout(cfg.dropout, rng),
            nn.Linear(cfg.hidden, cfg.hidden),
        )
        self.drop = Dropout(cfg.dropout, rng)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.ln1(x)))
        return x + self.drop(self.mlp(self.ln2(x)))


class SasRecNet(nn.Module):
    """Item sequence → hidden state per position; scores = hidden · item vectors."""

    def __init__(self, cfg: NetConfig, text: torch.Tensor | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.item_emb = nn.Embedding(cfg.n_items + 1, cfg.hidden, padding_idx=0)
        self.pos_emb = nn.Embedding(cfg.max_len, cfg.hidden)
        self.rng = [np.random.default_rng(0)]
        self.drop = Dropout(cfg.dropout, self.rng)
        self.blocks = nn.ModuleList(Block(cfg, self.rng) for _ in range(cfg.n_blocks))
        self.ln_f = nn.LayerNorm(cfg.hidden)
        nn.init.normal_(self.item_emb.weight, std=cfg.hidden ** -0.5)
        with torch.no_grad():
            self.item_emb.weight[0].zero_()
        if cfg.text_dim:
            if text is None or text.shape != (cfg.n_items, cfg.text_dim):
                raise ValueError(f"text vectors must have shape ({cfg.n_items}, {cfg.text_dim})")
            self.register_buffer("text", text.float())
            self.text_proj = nn.Linear(cfg.text_dim, cfg.hidden, bias=False)
        else:
            self.register_buffer("text", None)

    def seed(self, rng: np.random.Generator) -> None:
        """Draw dropout masks from ``rng`` from now on."""
        self.rng[0] = rng

    def item_vectors(self) -> torch.Tensor:
        """(n_items + 1, C) vectors of every token, padding row included."""
        weight = self.item_emb.weight
        if self.cfg.text_dim:
            fused = self.text_proj(self.text)  # (n_items, C)
            weight = weight + F.pad(fused, (0, 0, 1, 0))
        return weight

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Hidden states (B, T, C) of right-padded ``tokens`` (B, T) with ``lengths`` (B,)."""
        _, t = tokens.shape
        vectors = self.item_vectors()
        # Position counted back from the newest item; padding positions clamp to 0 and
        # are never attended to by a real position (causal mask, right padding).
        pos = (lengths[:, None] - 1 - torch.arange(t, device=tokens.device)[None, :]).clamp_(0)
        x = F.embedding(tokens, vectors) * self.cfg.hidden ** 0.5 + self.pos_emb(pos)
        x = self.drop(x)  # (B, T, C)
        for block in self.blocks:
            x = block(x)
        return self.ln_f(x)

    def last_hidden(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, C) hidden state at each sequence's newest item."""
        h = self.forward(tokens, lengths)
        return h[torch.arange(len(tokens)), lengths - 1]

    def output_weights(self) -> torch.Tensor:
        """(n_items, C) output layer = the item vectors without the padding row (tied)."""
        return self.item_vectors()[1:]
