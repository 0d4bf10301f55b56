"""RecBole's SASRec as a peer: runs inside a separate venv that has ``recbole`` installed.

Called by ``rec_quality_data.recbole_peer`` with a RecBole atomic data set
(``shopmind.inter``: user, item, timestamp = position). Trains SASRec with RecBole's own
defaults (its ``SASRec.yaml``: 2 blocks, 64 hidden, CE loss, max length 50, Adam 1e-3,
batch 2048, early stopping on NDCG@10 after 10 stale epochs) on RecBole's leave-one-out
split, then scores each user's test interaction over the whole catalog, masks the user's
history and ranks the test item with ties counted against the model — the same protocol
as ShopMind's evaluation — and writes ranks, top-20 lists and info to an ``.npz``.

Fixes needed to run RecBole 1.2.1 here (recorded in the results as notes): ``numpy<2``
(RecBole uses ``np.float``), ``setuptools<81`` (its ``ray`` import needs
``pkg_resources``), and ``torch.load(weights_only=False)`` for its own checkpoints
(torch ≥ 2.6 defaults to ``weights_only=True``, which RecBole's checkpoints fail).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import numpy as np

NOTES = [
    "RecBole 1.2.1 + torch==2.13.0: needs numpy<2, pandas<2.3, setuptools<81 in its venv",
    "torch.load patched to weights_only=False to reload RecBole's own best checkpoint",
]


class _Budget(Exception):
    """Raised inside RecBole's epoch loop when the time budget is spent."""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=300)  # RecBole's default
    parser.add_argument("--time-budget-s", type=float, default=900.0)
    args = parser.parse_args()

    import torch

    _load = torch.load
    torch.load = lambda *a, **k: _load(*a, **{**k, "weights_only": False})
    torch.set_num_threads(args.threads)
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.model.sequential_recommender import SASRec
    from recbole.trainer import Trainer
    from recbole.utils import init_logger, init_seed

    os.chdir(args.data)  # RecBole writes ./log and ./saved
    config = Config(model="SASRec", dataset="shopmind", config_dict={
        "data_path": args.data, "USER_ID_FIELD": "user_id", "ITEM_ID_FIELD": "item_id",
        "TIME_FIELD": "timestamp", "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
        "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "group_by": "user",
                      "mode": "full"},
        "train_neg_sample_args": None, "loss_type": "CE", "metrics": ["Recall", "NDCG"],
        "topk": [10], "valid_metric": "NDCG@10", "device": "cpu", "use_gpu": False,
        "checkpoint_dir": str(Path(args.data) / "saved"), "show_progress": False, "seed": 0,
        "reproducibility": True, "epochs": args.epochs, "worker": 0,
    })
    init_seed(config["seed"], config["reproducibility"])
    init_logger(config)
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    model = SASRec(config, train_data.dataset)
    trainer = Trainer(config, model)
    started = time.perf_counter()
    original = trainer._train_epoch
    last_epoch = [0.0]

    def train_epoch(*a, **k):  # type: ignore[no-untyped-def]
        # Stop before an epoch that would end past the budget (evaluation time included).
        if time.perf_counter() - started + last_epoch[0] > args.time_budget_s:
            raise _Budget
        epoch_start = time.perf_counter()
        out = original(*a, **k)
        last_epoch[0] = time.perf_counter() - epoch_start
        return out

    trainer._train_epoch = train_epoch
    notes = list(NOTES)
    try:
        trainer.fit(train_data, valid_data, saved=True, show_progress=False)
    except _Budget:
        notes.append(f"stopped by the {args.time_budget_s:.0f}s time budget")
    train_seconds = time.perf_counter() - started
    checkpoint = torch.load(trainer.saved_model_file, map_location="cpu")
    model.load_state_dict(checkpoint["state_dict"])
    model.eval()
    ranks, tops = _rank(model, dataset, test_data.dataset)
    keys = ("n_layers", "n_heads", "hidden_size", "inner_size", "hidden_dropout_prob",
            "attn_dropout_prob", "MAX_ITEM_LIST_LENGTH", "learning_rate", "train_batch_size",
            "epochs", "stopping_step", "loss_type")
    info = {"config": {k: config[k] for k in keys}, "train_seconds": train_seconds,
            "best_valid_ndcg@10": float(trainer.best_valid_score), "notes": notes,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    np.savez(args.out, ranks=ranks, tops=tops, info=np.asarray(json.dumps(info)))


def _rank(model, dataset, test):  # type: ignore[no-untyped-def]
    """Ranks of each test item (history masked, ties against the model) and top-20 lists."""
    import torch

    # RecBole's internal item id → ShopMind's item index (the tokens are those indices).
    tokens = dataset.field2id_token[dataset.iid_field]
    to_index = np.array([-1] + [int(t) for t in tokens[1:]], dtype=np.int64)
    inter = dataset.inter_feat
    uid, iid = inter[dataset.uid_field].numpy(), inter[dataset.iid_field].numpy()
    time_order = np.lexsort((inter[dataset.time_field].numpy(), uid))
    uid, iid = uid[time_order], iid[time_order]
    starts, ends = np.searchsorted(uid, uid, "left"), np.searchsorted(uid, uid, "right")
    first = dict(zip(uid.tolist(), zip(starts.tolist(), ends.tolist(), strict=True),
                     strict=False))
    ranks, tops = [], []
    with torch.no_grad():
        for start in range(0, len(test), 512):
            batch = test[np.arange(start, min(start + 512, len(test)))]
            scores = model.full_sort_predict(batch).reshape(len(batch), -1).numpy().copy()
            scores[:, 0] = -np.inf  # padding
            users = batch[dataset.uid_field].numpy()
            targets = batch[dataset.iid_field].numpy()
            for row, (u, t) in enumerate(zip(users, targets, strict=True)):
                lo, hi = first[int(u)]
                items = iid[lo:hi]
                last = np.flatnonzero(items == t)[-1]  # the test item's position
                scores[row, items[:last]] = -np.inf
            target_scores = scores[np.arange(len(batch)), targets][:, None]
            ranks.append((scores >= target_scores).sum(axis=1).astype(np.float64))
            top = np.argsort(-scores, axis=1, kind="stable")[:, :20]
            mapped = to_index[top]
            mapped[np.isneginf(np.take_along_axis(scores, top, axis=1))] = -1
            tops.append(mapped)
    full = np.full((0, 20), -1, dtype=np.int64)
    return np.concatenate(ranks), np.concatenate(tops) if tops else full


if __name__ == "__main__":
    main()
