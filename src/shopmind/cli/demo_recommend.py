"""The recommendation part of ``shopmind demo``: hold out the last week, compare the
pipeline with single models on what users did next, show a few users' lists with reasons
next to what they actually did, then train on everything and publish the pipeline."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import cast

import polars as pl
from rich.markup import escape
from rich.table import Table

from shopmind.cli.common import console
from shopmind.config import get_settings
from shopmind.data.store import Store
from shopmind.recommend.catalog import CATALOG_COLUMNS
from shopmind.recommend.context import UserContext
from shopmind.recommend.pipeline import PipelineConfig

HOLDOUT_DAYS = 7


def demo_config() -> PipelineConfig:
    """One label window keeps the demo quick; `shopmind train` uses the full default."""
    return PipelineConfig(label_windows=1)
EVENT_COLUMNS = ["user_id", "item_id", "type", "ts", "value", "session_id"]


def _metrics_table(report: object) -> Table:
    table = Table(title=f"What users did in the last {HOLDOUT_DAYS} days "
                        f"({report.n_users:,} users; each method ranks the whole catalog)")  # type: ignore[attr-defined]
    for column in ("method", "recall@10", "ndcg@10", "hit rate@10", "fit s"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for name, values in report.metrics.items():  # type: ignore[attr-defined]
        label = "[bold]pipeline (candidates → LightGBM ranker)[/]" if name == "pipeline" else name
        table.add_row(label, f"{values['recall@10']:.3f}", f"{values['ndcg@10']:.3f}",
                      f"{values['hit_rate@10']:.3f}",
                      f"{report.fit_seconds[name]:.1f}")  # type: ignore[attr-defined]
    return table


def show_examples(report: object, items: pl.DataFrame, n_users: int = 3) -> None:
    """Lists with reasons for a few holdout users, marking what they really did next."""
    pipeline, history = report.pipeline, report.history  # type: ignore[attr-defined]
    titles = dict(items.select("item_id", "title").iter_rows())
    ids = pipeline.catalog_.ids
    # users with a moderate amount of future activity make readable examples
    chosen = [i for i, t in enumerate(report.targets) if 2 <= len(t) <= 8][:n_users]  # type: ignore[attr-defined]
    users = [report.users[i] for i in chosen]  # type: ignore[attr-defined]
    context = UserContext.from_events(history, users, ids, now_us=pipeline.watermark_us_)
    for user, index, recs in zip(users, chosen, pipeline.recommend(context, 10), strict=True):
        did = {str(x) for x in ids.to_ids(sorted(report.targets[index]))}  # type: ignore[attr-defined]
        table = Table(title=f"{user}: top 10 before the holdout week (✔ = they interacted "
                            f"with it that week)", title_justify="left")
        for column in ("#", "", "item", "why"):
            table.add_column(column, overflow="fold")
        for rank, rec in enumerate(recs, start=1):
            mark = "[green]✔[/]" if rec.item_id in did else ""
            table.add_row(str(rank), mark, escape(titles.get(rec.item_id) or rec.item_id),
                          escape(rec.reason.text))
        console.print(table)
        missed = [titles.get(i) or i for i in sorted(did - {r.item_id for r in recs})][:4]
        if missed:
            console.print("   also did next: " + "; ".join(escape(m) for m in missed))


def demo_recommendations(store: Store, shop_id: str) -> None:
    """Evaluate on a held-out week, show examples, then train and publish the pipeline."""
    from shopmind.evaluation.next_items import evaluate_next_items
    from shopmind.recommend.artifacts import new_version_dir, publish
    from shopmind.recommend.pipeline import RecommendationPipeline

    events = store.read_table(shop_id, "events", columns=EVENT_COLUMNS)
    items = store.read_table(shop_id, "items", columns=list(CATALOG_COLUMNS))
    cut = cast(datetime, events["ts"].max()) - timedelta(days=HOLDOUT_DAYS)
    started = time.perf_counter()
    with console.status("evaluating recommenders on the held-out week…"):
        report = evaluate_next_items(events, items, cut, config=demo_config())
    console.print(_metrics_table(report))
    best, best_ndcg = report.best_single()
    lift = report.metrics["pipeline"]["ndcg@10"] / best_ndcg if best_ndcg else float("inf")
    console.print(f"Pipeline NDCG@10 = {lift:.2f} × the best single model ({best}); "
                  f"popularity is the baseline a shop without ShopMind would show. "
                  f"({time.perf_counter() - started:.0f} s)")
    show_examples(report, items)
    with console.status("training the pipeline on all events…"):
        pipeline = RecommendationPipeline(demo_config()).fit(events, items)
        folder = pipeline.save(new_version_dir(get_settings().data_dir, shop_id))
        publish(folder)
    console.print(f"Published the trained pipeline to {folder}")
