"""Customer-service knowledge: Amazon product Q&A and the ABCD agent policy manual.

* Amazon Q&A, Appliances (McAuley & Yang, WWW 2016): ``qa_id, asin, question_type,
  answer_type, question, answer, answer_time, unix_time`` → auxiliary ``product_questions``
  (``item_id`` = ASIN, ``ts`` from ``unix_time``; rows with only a relative ``answer_time``
  such as "14 days ago" get no ``ts``).
* ABCD (Chen et al., NAACL 2021): ``guidelines.json`` (10 flows → 55 subflows → ordered
  actions with policy text), ``kb.json`` (subflow → required action ids) and
  ``ontology.json`` (flow → subflow ids, in the guidelines' order) → auxiliary
  ``support_policies``, one row per subflow (55), ``policy_id`` = the subflow id
  (``refund_initiate`` …).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from shopmind.data.datasets.records import AUXILIARY_TABLES
from shopmind.data.datasets.registry import (
    DatasetTable,
    PublicDataset,
    chunked,
    read_csv_text,
    register_dataset,
    require_file,
)
from shopmind.errors import InputError


def _questions(path: Path) -> Iterator[pl.DataFrame]:
    return chunked(read_csv_text(path).select(
        "qa_id",
        pl.col("asin").alias("item_id"),
        "question_type",
        "answer_type",
        "question",
        pl.col("answer").fill_null(""),
        pl.col("unix_time").alias("ts"),
    ))


@register_dataset("amazon_qa_appliances")
def build_qa(folder: Path) -> PublicDataset:
    """Amazon Appliances ``product_questions`` (question, answer, yes/no type)."""
    path = folder / "qa.csv.gz"
    return PublicDataset(
        name="amazon_qa_appliances",
        description="Amazon product questions and answers, Appliances (McAuley lab).",
        tables=[
            DatasetTable("product_questions", AUXILIARY_TABLES["product_questions"], str(path),
                         lambda: _questions(path), 7_160, expected_distinct={"item_id": 913}),
        ],
        readme=folder / "README.md",
    )


def _load_json(path: Path) -> Any:
    return json.loads(gzip.decompress(require_file(path).read_bytes()))


def _flow_id(title: str) -> str:
    """``"Single-Item Query"`` → ``"single_item_query"`` (the ontology's spelling)."""
    return title.lower().replace("-", " ").replace(" ", "_")


def _policy_text(title: str, flow_title: str, guideline: dict[str, Any]) -> str:
    """A readable procedure: the opening instruction, numbered steps, the closing ones."""
    intro, *closing = guideline.get("instructions") or [""]
    lines = [f"{title} ({flow_title})", intro]
    for n, action in enumerate(guideline["actions"], start=1):
        button = action.get("button", "")
        label = f"[{button}] " if button and button != "N/A" else ""
        lines.append(f"{n}. {label}{action.get('text', '')}".rstrip())
        lines.extend(f"   - {sub}" for sub in action.get("subtext", []))
    lines.extend(closing)
    return "\n".join(line for line in lines if line)


def read_policies(folder: Path) -> pl.DataFrame:
    """One row per ABCD subflow: canonical ``support_policies`` columns.

    Raises
    ------
    InputError
        If the guidelines and the ontology disagree on a flow's subflows.
    """
    guidelines = _load_json(folder / "guidelines.json.gz")
    kb = _load_json(folder / "kb.json.gz")
    subflow_ids = _load_json(folder / "ontology.json.gz")["intents"]["subflows"]
    rows = []
    for flow_title, flow in guidelines.items():
        flow_id = _flow_id(flow_title)
        titles, ids = list(flow["subflows"]), subflow_ids.get(flow_id, [])
        if len(titles) != len(ids):
            raise InputError(
                f"{folder}: flow {flow_title!r} has {len(titles)} subflows in guidelines.json "
                f"but {len(ids)} in ontology.json ({flow_id!r}); the files do not match"
            )
        for title, policy_id in zip(titles, ids, strict=True):
            guideline = flow["subflows"][title]
            steps = [
                {k: a.get(k) for k in ("type", "button", "text", "subtext")}
                for a in guideline["actions"]
            ]
            rows.append({
                "policy_id": policy_id,
                "flow": flow_id,
                "flow_title": flow_title,
                "title": title,
                "description": flow.get("description", ""),
                "policy": _policy_text(title, flow_title, guideline),
                "actions": json.dumps(
                    {"sequence": kb.get(policy_id, []), "steps": steps}, ensure_ascii=False
                ),
            })
    return pl.DataFrame(rows, schema={name: pl.String for name in rows[0]} if rows else None)


@register_dataset("abcd_customer_service")
def build_abcd(folder: Path) -> PublicDataset:
    """ABCD agent guidelines as ``support_policies`` (one per subflow)."""
    return PublicDataset(
        name="abcd_customer_service",
        description="ABCD customer-service policy manual: 10 flows, 55 subflows (ASAPP).",
        tables=[
            DatasetTable("support_policies", AUXILIARY_TABLES["support_policies"],
                         str(folder / "guidelines.json.gz"),
                         lambda: chunked(read_policies(folder)), 55,
                         expected_distinct={"flow": 10}),
        ],
        readme=folder / "README.md",
    )
