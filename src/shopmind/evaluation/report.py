"""Evaluation reports: the contract's JSON payload, console tables and markdown tables.

The JSON written by ``shopmind evaluate`` is a contract other tools read::

    {"model", "dataset", "n_users", "n_items", "train_seconds",
     "metrics": {"recall@10", "ndcg@10", "recall@20", "ndcg@20", "mrr", "coverage@10"}}

Extra top-level keys (``protocol``, ``total_seconds``, ``params``, ``valid_metrics``, …) may
be added; the keys above never change meaning.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.table import Table

from shopmind import __version__
from shopmind.cpu import machine_info
from shopmind.evaluation.loo import LooResult
from shopmind.recommend.base import TrainingData

#: The metric keys of the contract, in display order.
CONTRACT_METRICS = ("recall@10", "ndcg@10", "recall@20", "ndcg@20", "mrr", "coverage@10")


def _jsonable(value: Any) -> Any:
    """Params as JSON: numbers, strings, bools, None, lists and dicts; anything else as str."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):  # NumPy scalars
        return _jsonable(value.item())
    return str(value)


def _rounded(metrics: Mapping[str, float]) -> dict[str, float]:
    """Metric values as plain floats, at full precision (thresholds compare against them)."""
    return {k: float(v) for k, v in metrics.items()}


def result_json(
    *, model: str, dataset: str, protocol: str, data: TrainingData, result: LooResult,
    valid: LooResult | None = None, total_seconds: float | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``shopmind evaluate`` payload for the test stage (``result``) of one model.

    ``n_users`` / ``n_items`` describe the data (all users and the catalog of the test
    view); ``n_eval_users`` counts users with a test target.

    Examples
    --------
    >>> sorted(result_json(model="popular", dataset="d", protocol="loo", data=data,
    ...                    result=result))  # doctest: +SKIP
    ['dataset', 'metrics', 'model', 'n_eval_users', 'n_items', 'n_users', ...]
    """
    params = result.model.get_params() if result.model is not None else {}
    payload: dict[str, Any] = {
        "model": model,
        "dataset": dataset,
        "n_users": data.n_users,
        "n_items": data.n_items,
        "train_seconds": round(result.train_seconds, 3),
        "metrics": _rounded(result.metrics),
        "protocol": protocol,
        "n_eval_users": result.n_users,
        "predict_seconds": round(result.predict_seconds, 3),
        "params": _jsonable(params),
        "shopmind_version": __version__,
        "machine": machine_info(),
    }
    if valid is not None:
        payload["valid_metrics"] = _rounded(valid.metrics)
        payload["valid_train_seconds"] = round(valid.train_seconds, 3)
    for key, value in (extra or {}).items():
        payload[key] = _rounded(value) if isinstance(value, Mapping) and all(
            isinstance(v, int | float) for v in value.values()) else _jsonable(value)
    if total_seconds is not None:
        payload["total_seconds"] = round(total_seconds, 3)
    return payload


def metrics_table(payload: Mapping[str, Any]) -> Table:
    """A console table of one evaluation payload (test metrics, and validation if present)."""
    title = (f"{payload['model']} on {payload['dataset']} ({payload.get('protocol', 'loo')}, "
             f"{payload['n_users']:,} users, {payload['n_items']:,} items, "
             f"trained in {payload['train_seconds']:.1f}s)")
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("test", justify="right")
    valid = payload.get("valid_metrics")
    if valid:
        table.add_column("valid", justify="right")
    rows = dict(payload["metrics"])
    rows.update(payload.get("beyond_accuracy", {}))
    for name, value in rows.items():
        cells = [name, f"{value:.4f}"]
        if valid:
            cells.append(f"{valid[name]:.4f}" if name in valid else "")
        table.add_row(*cells)
    return table


def markdown_table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], *,
                   headers: Sequence[str] | None = None, digits: int = 4) -> str:
    """A GitHub markdown table; floats get ``digits`` decimals, missing cells ``—``.

    >>> print(markdown_table([{"model": "ease", "ndcg@10": 0.04451}], ["model", "ndcg@10"]))
    | model | ndcg@10 |
    |---|---|
    | ease | 0.0445 |
    """
    headers = list(headers or columns)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            if value is None:
                cells.append("—")
            elif isinstance(value, float):
                cells.append(f"{value:.{digits}f}")
            elif isinstance(value, int):
                cells.append(f"{value:,}")
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
