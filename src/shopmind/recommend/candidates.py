"""Stage one: candidate generation from several models, merged into one frame.

Each generator scores every item for each user's history; its top ``n`` become candidates.
The union of all generators' candidates then carries *every* generator's score and rank
(rank ``n + 1`` when the item was outside that generator's list), so the ranker can weigh
the evidence of all models for each candidate.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from shopmind.recommend.base import Histories, Recommender
from shopmind.recommend.context import UserContext

BATCH_USERS = 256

#: A table as NumPy columns of equal length: what the candidate and ranking stages pass on
#: (training wraps it in a Polars frame once; serving never pays Polars' per-call costs).
Columns = dict[str, np.ndarray]


def _mask(scores: np.ndarray, histories: Histories) -> None:
    rows = np.repeat(np.arange(len(histories)), histories.lengths())
    scores[rows, histories.items] = -np.inf


def generate_candidates(
    models: Mapping[str, Recommender],
    sizes: Mapping[str, int],
    context: UserContext,
    *,
    exclude: Histories | None = None,
    allowed: np.ndarray | None = None,
) -> Columns:
    """Candidates for every user of ``context``.

    Parameters
    ----------
    models, sizes
        Fitted generators by name and how many candidates each contributes.
    exclude
        Items never to propose per user (e.g. already bought, not replenishable).
    allowed
        Boolean mask over items (filters such as category, price, stock).

    Returns
    -------
    Columns
        ``row`` (user position in ``context``, int32), ``item`` (int32), and
        ``{name}_score`` / ``{name}_rank`` (float32) for every generator.
    """
    parts = []
    names = list(models)
    for start in range(0, len(context), BATCH_USERS):
        rows = np.arange(start, min(start + BATCH_USERS, len(context)))
        histories = context.histories.take(rows)
        all_scores = {}
        ranked: dict[str, tuple[np.ndarray, int]] = {}
        chosen = []
        for name in names:
            scores = models[name].score(histories)
            if allowed is not None:
                scores[:, ~allowed] = -np.inf
            if exclude is not None:
                _mask(scores, exclude.take(rows))
            all_scores[name] = scores
            n = min(sizes[name], scores.shape[1])
            top = np.argpartition(-scores, n - 1, axis=1)[:, :n]
            top_scores = np.take_along_axis(scores, top, axis=1)
            order = np.argsort(-top_scores, axis=1, kind="stable")
            ranked[name] = (np.take_along_axis(top, order, axis=1), n)
            finite = np.isfinite(top_scores)
            chosen.append(np.stack([np.broadcast_to(rows[:, None] - start, top.shape)[finite],
                                    top[finite]], axis=1))
        pairs = np.unique(np.concatenate(chosen), axis=0)
        local, items = pairs[:, 0], pairs[:, 1]
        columns: dict[str, np.ndarray] = {"row": rows[local].astype(np.int32),
                                          "item": items.astype(np.int32)}
        for name in names:
            scores = all_scores[name]
            values = scores[local, items]
            ordered, n = ranked[name]
            # rank in this generator's list for the user (1 = best), n + 1 if not in it
            rank_of = np.full(scores.shape, n + 1, dtype=np.float32)
            np.put_along_axis(rank_of, ordered, np.arange(1, n + 1, dtype=np.float32)[None, :],
                              axis=1)
            columns[f"{name}_score"] = np.where(np.isfinite(values), values, np.nan
                                                ).astype(np.float32)
            columns[f"{name}_rank"] = rank_of[local, items]
        parts.append(columns)
    if not parts:
        empty = np.zeros(0, dtype=np.int32)
        return {"row": empty, "item": empty,
                **{f"{n}_{kind}": np.zeros(0, dtype=np.float32)
                   for n in names for kind in ("score", "rank")}}
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
