"""Evaluation protocols.

Leave-one-out (the literature's protocol for Amazon / ML-1M sequences): for every user, the
last item is the test target, the second-to-last the validation target, the rest is
training. Models are tuned on the validation target only, then refit on everything but the
test target and scored on it. Every catalog item is a candidate except the user's own
history (full ranking, no sampled negatives).

Global temporal split (for event logs with real timestamps, e.g. Taobao): one cut time for
everyone, training = the past, targets = what users with a history did after the cut; a
validation cut before the test cut gives the tuning view. Per-user leave-one-out on such
logs would let one user's training data come after another user's test events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from shopmind.data.datasets.registry import read_csv_text
from shopmind.errors import InputError
from shopmind.features.interactions import DEFAULT_WEIGHTS, EventWeight
from shopmind.recommend.base import Histories, TrainingData
from shopmind.recommend.data import INTERACTION_TYPES, from_events


@dataclass(frozen=True)
class LeaveOneOut:
    """The three views of a leave-one-out split, over one catalog and one user order.

    ``valid_train`` holds histories without the last two items (fit here, predict
    ``valid_targets``); ``test_train`` holds histories without the last item (refit here,
    predict ``test_targets``). Users with fewer than 3 items have no validation target
    (-1) and users with fewer than 2 no test target (-1).
    """

    valid_train: TrainingData
    valid_targets: np.ndarray  # (n_users,) item index or -1
    test_train: TrainingData
    test_targets: np.ndarray  # (n_users,) item index or -1


def _drop_last(histories: Histories) -> tuple[Histories, np.ndarray]:
    """Histories without their newest item, and that item (-1 and untouched when a history
    has fewer than 2 items: a user needs at least one training item to have a target)."""
    lengths = histories.lengths()
    has = lengths >= 2
    keep = np.where(has, lengths - 1, lengths)
    target = np.full(len(histories), -1, dtype=np.int64)
    target[has] = histories.items[histories.indptr[1:][has] - 1]
    starts = histories.indptr[:-1]
    indptr = np.zeros(len(histories) + 1, dtype=np.int64)
    np.cumsum(keep, out=indptr[1:])
    index = np.repeat(starts - indptr[:-1], keep) + np.arange(indptr[-1])
    trimmed = Histories(indptr=indptr, items=histories.items[index],
                        weights=None if histories.weights is None else histories.weights[index])
    return trimmed, target


def leave_one_out(data: TrainingData) -> LeaveOneOut:
    """Split ``data`` (full chronological histories) into validation and test views.

    The validation view is the test view without each history's newest item, so it never
    contains a test item; short histories keep what they have (a 1-item history stays in
    both views without targets, a 2-item history loses only its test item).
    """
    test_hist, test_targets = _drop_last(data.histories)
    valid_hist, valid_targets = _drop_last(test_hist)

    def view(h: Histories) -> TrainingData:
        return TrainingData(users=data.users, items=data.items, histories=h,
                            item_text=data.item_text, item_frame=data.item_frame)

    return LeaveOneOut(view(valid_hist), valid_targets, view(test_hist), test_targets)


# --------------------------------------------------------------- global temporal split


@dataclass(frozen=True)
class TemporalSplit:
    """A global temporal split of an event log, with a validation cut before the test cut.

    ``valid_train`` holds every event before ``valid_cut`` and ``valid_targets`` the items
    each of its users touched in ``[valid_cut, test_cut)``; ``test_train`` holds every event
    before ``test_cut`` and ``test_targets`` the items touched at or after it. Targets are
    :class:`Histories` aligned with the users of their training view (an empty row = no
    target). ``valid_exclude`` / ``test_exclude`` are the items the evaluation masks per
    user (None: the user's whole training history). ``stats`` counts what was left out.
    """

    valid_train: TrainingData
    valid_targets: Histories
    test_train: TrainingData
    test_targets: Histories
    valid_cut: datetime
    test_cut: datetime
    valid_exclude: Histories | None = None
    test_exclude: Histories | None = None
    stats: dict[str, int] = field(default_factory=dict)


def default_cuts(ts: pl.Series, *, test_days: float = 1.0, valid_days: float = 1.0
                 ) -> tuple[datetime, datetime]:
    """``(valid_cut, test_cut)``: the last ``test_days`` are the test period and the
    ``valid_days`` before them the validation period, counted back from the latest event.

    >>> from datetime import UTC
    >>> ts = pl.Series([datetime(2017, 11, 25, tzinfo=UTC), datetime(2017, 12, 2, tzinfo=UTC)])
    >>> [c.isoformat() for c in default_cuts(ts)]
    ['2017-11-30T00:00:00+00:00', '2017-12-01T00:00:00+00:00']
    """
    end = ts.max()
    if not isinstance(end, datetime):
        raise InputError(f"events `ts` must be a datetime column, got {ts.dtype}")
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    test_cut = end - timedelta(days=test_days)
    return test_cut - timedelta(days=valid_days), test_cut


def _pairs_csr(u: np.ndarray, i: np.ndarray, n_users: int) -> Histories:
    """(user, item) pairs as per-user Histories (pairs in their given order)."""
    order = np.argsort(u, kind="stable")
    indptr = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(u, minlength=n_users), out=indptr[1:])
    return Histories(indptr=indptr, items=i[order].astype(np.int32))


def _indexed(frame: pl.DataFrame, train: TrainingData) -> pl.DataFrame:
    return pl.DataFrame({"u": train.users.to_index_series(frame["user_id"]),
                         "i": train.items.to_index_series(frame["item_id"]),
                         "ts": frame["ts"]}).sort("ts", maintain_order=True)


def _targets(future: pl.DataFrame, train: TrainingData, excluded: Histories | None, *,
             stats: dict[str, int], prefix: str) -> Histories:
    """Distinct (user, item) targets of ``future`` in ``train``'s index space, minus the
    ``excluded`` items of each user (None: the user's training history)."""
    pairs = _indexed(future, train)
    stats[f"{prefix}_events"] = pairs.height
    stats[f"{prefix}_events_new_user"] = pairs["u"].null_count()
    pairs = pairs.filter(pl.col("u").is_not_null())
    stats[f"{prefix}_events_new_item"] = pairs["i"].null_count()
    pairs = pairs.filter(pl.col("i").is_not_null()).unique(["u", "i"], keep="first",
                                                           maintain_order=True)
    u = pairs["u"].to_numpy().astype(np.int64)
    i = pairs["i"].to_numpy().astype(np.int64)
    if len(u):
        mask = (train.matrix(binary=True) if excluded is None
                else excluded.to_csr(train.n_items, binary=True))
        seen = np.asarray(mask[u, i]).ravel() > 0
        stats[f"{prefix}_pairs_excluded"] = int(seen.sum())
        u, i = u[~seen], i[~seen]
    targets = _pairs_csr(u, i, train.n_users)
    stats[f"{prefix}_targets"] = len(u)
    stats[f"{prefix}_users"] = int((targets.lengths() > 0).sum())
    return targets


def temporal_split(
    events: pl.DataFrame,
    *,
    test_cut: datetime,
    valid_cut: datetime,
    items_frame: pl.DataFrame | None = None,
    target_types: tuple[str, ...] = INTERACTION_TYPES,
    exclude: Literal["history", "purchased"] = "history",
    weights: Mapping[str, EventWeight] = DEFAULT_WEIGHTS,
) -> TemporalSplit:
    """Split an event log at one global time (no user's future leaks into training).

    Training = every event before the cut, of every type the models learn from (weighted
    by ``weights``). Targets = for each user **with at least one training event**, the
    distinct items of the ``target_types`` events after the cut (default: every item
    interaction — view, click, cart, favorite, purchase, rate; pass ``("cart",
    "purchase")`` for a purchase-intent target). Full ranking over all items, no sampled
    negatives, except the items ``exclude`` names, which are neither targets nor ranked:

    * ``"history"`` (default) — everything the user interacted with before the cut: the
      task is discovering *new* items, as in leave-one-out;
    * ``"purchased"`` — only what the user bought before the cut (the pipeline's business
      rule): coming back to a viewed or carted item counts, as it does in a shop.

    Targets on items the training view has never seen are dropped (counted in ``stats``)
    unless ``items_frame`` fixes the catalog.

    Parameters
    ----------
    events
        ``user_id``, ``item_id``, ``type``, ``ts`` (timezone-aware datetime)[, ``value``].
    test_cut, valid_cut
        Validation period = ``[valid_cut, test_cut)``, test period = ``[test_cut, ∞)``;
        tune on the validation view only, then refit on the test view.

    Examples
    --------
    >>> from datetime import UTC
    >>> day = [datetime(2020, 1, d, tzinfo=UTC) for d in (1, 2, 3)]
    >>> ev = pl.DataFrame({"user_id": ["v", "v", "v", "u", "u", "u"],
    ...                    "item_id": ["a", "b", "c", "a", "b", "c"],
    ...                    "type": ["view"] * 6, "ts": [day[0]] * 4 + day[1:]})
    >>> s = temporal_split(ev, valid_cut=day[1], test_cut=day[2])
    >>> s.valid_targets[0].tolist(), s.test_targets[0].tolist()  # user u = index 0
    ([1], [2])
    """
    if valid_cut > test_cut:
        raise InputError(f"valid_cut ({valid_cut}) must not be after test_cut ({test_cut})")
    if exclude not in ("history", "purchased"):
        raise InputError(f"exclude must be 'history' or 'purchased', got {exclude!r}")
    for name in ("user_id", "item_id", "type", "ts"):
        if name not in events.columns:
            raise InputError(f"events need column {name!r}; got {events.columns}")
    stats: dict[str, int] = {}
    ts = pl.col("ts")
    is_target = pl.col("type").is_in(target_types)

    def view(start: datetime, end: datetime | None, prefix: str
             ) -> tuple[TrainingData, Histories, Histories | None]:
        past = events.filter(ts < start)
        if not past.height:
            raise InputError(f"no events before the {prefix} cut {start.isoformat()}")
        train = from_events(past, items_frame, weights=weights)
        excluded = None
        if exclude == "purchased":
            bought = _indexed(past.filter(pl.col("type") == "purchase"), train).drop_nulls()
            excluded = _pairs_csr(bought["u"].to_numpy().astype(np.int64),
                                  bought["i"].to_numpy().astype(np.int64), train.n_users)
        window = ts >= start if end is None else (ts >= start) & (ts < end)
        future = events.filter(window & is_target)
        return train, _targets(future, train, excluded, stats=stats, prefix=prefix), excluded

    valid_train, valid_targets, valid_exclude = view(valid_cut, test_cut, "valid")
    test_train, test_targets, test_exclude = view(test_cut, None, "test")
    return TemporalSplit(valid_train, valid_targets, test_train, test_targets,
                         valid_cut=valid_cut, test_cut=test_cut, valid_exclude=valid_exclude,
                         test_exclude=test_exclude, stats=stats)


# ------------------------------------------------------------------------------ inputs


def read_item_text(path: Path | str) -> dict[str, str]:
    """``item_id → title`` from a CSV with ``item_id`` and ``title`` columns (gzip allowed)."""
    frame = read_csv_text(Path(path))
    missing = {"item_id", "title"} - set(frame.columns)
    if missing:
        raise InputError(f"{path}: item text CSV needs columns item_id,title; "
                         f"missing {sorted(missing)}, has {frame.columns}")
    frame = frame.select("item_id", pl.col("title").fill_null(""))
    return dict(zip(frame["item_id"].to_list(), frame["title"].to_list(), strict=True))


def read_event_log(path: Path | str) -> pl.DataFrame:
    """Events CSV → ``user_id, item_id, type, ts`` (UTC datetime)[, ``category``].

    Accepts ShopMind's event columns (``ts`` as ISO-8601 or epoch seconds) or Taobao
    UserBehavior's (``behavior_type`` pv/cart/fav/buy, ``timestamp``, ``category_id``).
    """
    from shopmind.data.datasets.taobao import BEHAVIOUR_TYPES

    raw = read_csv_text(Path(path))
    if "behavior_type" in raw.columns:
        raw = raw.rename({"timestamp": "ts", "category_id": "category"}, strict=False)
        raw = raw.with_columns(pl.col("behavior_type").replace(BEHAVIOUR_TYPES).alias("type"))
    missing = [c for c in ("user_id", "item_id", "type", "ts") if c not in raw.columns]
    if missing:
        raise InputError(f"{path}: event log needs columns user_id,item_id,type,ts; "
                         f"missing {missing}, has {raw.columns}")
    ts = pl.col("ts").str.strip_chars()
    parsed = raw.with_columns(
        pl.when(ts.str.contains(r"^\d+$"))
        .then(pl.from_epoch(ts.cast(pl.Int64, strict=False), time_unit="s")
              .dt.replace_time_zone("UTC"))
        .otherwise(ts.str.to_datetime(time_zone="UTC", strict=False))
        .alias("ts")
    )
    bad = parsed["ts"].is_null()
    if bad.any():
        row = int(bad.arg_max() or 0)
        raise InputError(f"{path} line {row + 2}: field `ts` must be ISO-8601 or epoch "
                         f"seconds, got {raw['ts'][row]!r}")
    columns = ["user_id", "item_id", "type", "ts"] + (["category"] if "category" in raw.columns
                                                      else [])
    return parsed.select(columns)


def item_categories(events: pl.DataFrame, data: TrainingData) -> np.ndarray | None:
    """Each catalog item's category (its latest event's), aligned with ``data.items``."""
    if "category" not in events.columns:
        return None
    latest = events.sort("ts").unique("item_id", keep="last").select("item_id", "category")
    aligned = pl.DataFrame({"item_id": data.items.ids}).join(
        latest, on="item_id", how="left", maintain_order="left")
    return aligned["category"].fill_null("").to_numpy()
