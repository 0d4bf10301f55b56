"""``shopmind evaluate``: offline evaluation of one model with full ranking (the contract).

::

    shopmind evaluate --sequences FILE --protocol loo --model NAME --k 10 --json OUT
                      [--item-text CSV]

writes ``{"model", "dataset", "n_users", "n_items", "train_seconds", "metrics": {"recall@10",
"ndcg@10", "recall@20", "ndcg@20", "mrr", "coverage@10"}}`` plus extra keys. ``--protocol
temporal --events FILE`` evaluates on a global temporal split of an event log instead.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from shopmind.cli.common import console, err_console, output_file
from shopmind.errors import InputError

PROTOCOLS = ("loo", "temporal")


def _parse_params(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` flags → model params; values are read as JSON when they parse."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--param must look like KEY=VALUE (e.g. hidden=64), got {pair!r}")
        try:
            params[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            params[key.strip()] = raw
    return params


def _epoch_hook(progress: Any, task: Any, name: str) -> Any:
    """Show each epoch on the progress bar, or as one stderr line when that is not a terminal
    (a log file of a long run still says how training goes)."""
    def on_epoch(log: Any) -> None:
        valid = getattr(log, "valid_ndcg", None)
        shown = f" valid ndcg@10 {valid:.4f}" if valid is not None else ""
        description = f"train {name}: epoch {log.epoch} loss {log.loss:.4f}{shown}"
        if progress.disable:
            err_console.print(f"{description} ({log.seconds:.0f}s)", highlight=False)
        progress.update(task, total=log.max_epochs, completed=log.epoch,
                        description=description)
    return on_epoch


def evaluate(
    sequences: Annotated[
        Path | None, typer.Option("--sequences", help="One user per line: `user_id item_id "
                                  "item_id …`, oldest first (gzip allowed).")
    ] = None,
    protocol: Annotated[
        str, typer.Option(help="loo (leave-one-out, --sequences) or temporal (--events).")
    ] = "loo",
    model: Annotated[
        str, typer.Option("--model", help="A registered model name, or `best`.")
    ] = "best",
    k: Annotated[int, typer.Option("--k", min=1, help="Cut-off of the headline metrics.")] = 10,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the results as JSON to this file.")
    ] = None,
    item_text: Annotated[
        Path | None, typer.Option("--item-text", help="CSV with item_id,title (gzip allowed).")
    ] = None,
    events: Annotated[
        Path | None, typer.Option("--events", help="Event log CSV for --protocol temporal: "
                                  "user_id,item_id,type,ts (or Taobao's UserBehavior layout).")
    ] = None,
    params: Annotated[
        list[str] | None, typer.Option("--param", help="Model hyperparameter KEY=VALUE; repeat.")
    ] = None,
    valid: Annotated[
        bool, typer.Option("--valid", help="Also fit on the validation view and report "
                           "valid_metrics (doubles the training time).")
    ] = False,
    test_days: Annotated[
        float, typer.Option(min=0.01, help="temporal: days after the test cut.")
    ] = 1.0,
    valid_days: Annotated[
        float, typer.Option(min=0.01, help="temporal: days between the two cuts.")
    ] = 1.0,
    exclude: Annotated[
        str, typer.Option(help="temporal: items that are neither targets nor ranked: "
                          "history (everything seen before the cut) or purchased.")
    ] = "history",
) -> None:
    """Evaluate a model offline with full ranking over the catalog and write JSON results."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from shopmind.evaluation.loo import LooResult, beyond_accuracy, evaluate_stage, hit_rates
    from shopmind.evaluation.report import metrics_table, result_json
    from shopmind.recommend.base import Recommender, TrainingData, create_model, model_class

    started = time.perf_counter()
    if protocol not in PROTOCOLS:
        raise InputError(f"--protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    if json_out is not None:
        output_file(json_out)
    model_class(model)  # an unknown name fails here, listing the registered models
    model_params = _parse_params(params or [])
    create_model(model, **model_params)  # unknown parameters fail before any data is read
    split, source, categories = _load_split(protocol, sequences, events, item_text,
                                            test_days=test_days, valid_days=valid_days,
                                            exclude=exclude)

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=err_console, transient=True,
                  disable=not err_console.is_terminal) as progress:

        def run(stage: str) -> LooResult:
            task = progress.add_task(f"train {model} ({stage})", total=None)

            def fit(m: Recommender, data: TrainingData) -> None:
                if hasattr(m, "on_epoch"):
                    setattr(m, "on_epoch", _epoch_hook(progress, task, model))  # noqa: B010
                m.fit(data)
                progress.update(task, description=f"score {model} ({stage})", completed=0)

            result = evaluate_stage(
                lambda: create_model(model, **model_params), split, stage, k=k, fit=fit,
                progress=lambda done, total: progress.update(task, completed=done,
                                                             total=total))
            progress.remove_task(task)
            return result

        valid_result = run("valid") if valid else None
        test = run("test")
    data = split.test_train
    extra = (beyond_accuracy(test.recommended, data, k=k, item_categories=categories)
             if test.recommended is not None else {})
    payload = result_json(
        model=model, dataset=_stem(source), protocol=protocol, data=data, result=test,
        valid=valid_result, total_seconds=time.perf_counter() - started,
        extra={"beyond_accuracy": extra, "hit_rate": hit_rates(test)},
    )
    if json_out is not None:
        json_out.write_text(json.dumps(payload, indent=2) + "\n")
    console.print(metrics_table(payload))
    if json_out is not None:
        console.print(f"Results written to {json_out}")


def _stem(path: Path) -> str:
    """File name without compression and format suffixes: ``beauty.txt.gz`` → ``beauty``."""
    name = path.name.removesuffix(".gz")
    return Path(name).stem if "." in name else name


def _load_split(protocol: str, sequences: Path | None, events: Path | None,
                item_text: Path | None, *, test_days: float, valid_days: float,
                exclude: str = "history") -> tuple[Any, Path, Any]:
    """The split, the file it came from, and item categories (for diversity) when known."""
    if protocol == "loo":
        if sequences is None:
            raise InputError("--protocol loo needs --sequences FILE")
        from shopmind.data.datasets.sequences import read_sequences
        from shopmind.evaluation.protocols import leave_one_out, read_item_text
        from shopmind.recommend.data import from_sequences

        frame = read_sequences(sequences)
        text = read_item_text(item_text) if item_text is not None else None
        return leave_one_out(from_sequences(frame, item_text=text)), sequences, None
    if events is None:
        raise InputError("--protocol temporal needs --events FILE")
    from shopmind.evaluation.protocols import (
        default_cuts,
        item_categories,
        read_event_log,
        temporal_split,
    )

    log = read_event_log(events)
    valid_cut, test_cut = default_cuts(log["ts"], test_days=test_days, valid_days=valid_days)
    split = temporal_split(log, test_cut=test_cut, valid_cut=valid_cut,
                           exclude=exclude)  # type: ignore[arg-type]
    return split, events, item_categories(log, split.test_train)
