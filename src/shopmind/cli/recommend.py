"""``shopmind train`` and ``shopmind recommend USER_ID``."""

from __future__ import annotations

import logging
import time
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from shopmind.cli.common import ShopOption, console, settings_store
from shopmind.config import get_settings
from shopmind.errors import InputError
from shopmind.recommend.catalog import CATALOG_COLUMNS

EVENT_COLUMNS = ["user_id", "item_id", "type", "ts", "value"]


def _parse_generators(text: str | None) -> dict[str, int] | None:
    if not text:
        return None
    generators = {}
    for part in text.split(","):
        name, _, n = part.partition("=")
        if not n.strip().isdigit() or int(n) < 1:
            raise InputError(f"--generators: expected NAME=COUNT[,NAME=COUNT…] with counts "
                             f"of at least 1, got {part!r}")
        generators[name.strip()] = int(n)
    return generators


def train(
    shop: ShopOption = None,
    generators: Annotated[
        str | None,
        typer.Option(help="Candidate generators and how many candidates each proposes, e.g. "
                          "covisit=100,popular=30,als=60 (default: the pipeline's set, about "
                          "200 in all)."),
    ] = None,
    label_days: Annotated[
        float | None, typer.Option(min=0.01, help="Days at the end of the log the ranker "
                                   "learns from (default: the last 15% of the log, at least "
                                   "one day).")
    ] = None,
) -> None:
    """Train the two-stage pipeline (candidates → LightGBM ranker) on the shop's events."""
    from shopmind.recommend.artifacts import new_version_dir, publish
    from shopmind.recommend.pipeline import PipelineConfig, RecommendationPipeline

    settings = get_settings()
    shop_id = shop or settings.default_shop
    config = PipelineConfig(label_days=label_days)
    chosen = _parse_generators(generators)
    if chosen:
        config.generators = chosen
    with settings_store() as store:
        events = store.read_table(shop_id, "events", columns=EVENT_COLUMNS)
        items = store.read_table(shop_id, "items", columns=list(CATALOG_COLUMNS))
    if events.is_empty():
        raise InputError(f"shop '{shop_id}' has no events; ingest some first")
    logging.getLogger("shopmind").setLevel(logging.INFO)
    started = time.perf_counter()
    with console.status(f"training on {events.height:,} events…"):
        pipeline = RecommendationPipeline(config).fit(events, items)
        folder = pipeline.save(new_version_dir(settings.data_dir, shop_id))
        publish(folder)
    meta = pipeline.metadata_
    console.print(
        f"Trained in {time.perf_counter() - started:.1f} s: generators "
        f"{', '.join(config.generators)}; {meta['train_users']:,} users taught the ranker; "
        f"{meta['candidate_recall']:.1%} of them had a later interaction among "
        f"~{meta['candidates_per_user']:.0f} candidates. Saved to {folder}"
    )


def recommend(
    user_id: Annotated[str, typer.Argument(help="The user's id in the shop.")],
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=200,
                                   help="List length (at most 200, as in the API).")] = 10,
    category: Annotated[
        str | None, typer.Option(help="Only items whose category path starts with this.")
    ] = None,
    price_max: Annotated[float | None, typer.Option(min=0, help="Highest price.")] = None,
    shop: ShopOption = None,
) -> None:
    """Recommend items for a user, with the reason for each."""
    from shopmind.recommend.artifacts import latest_version_dir
    from shopmind.recommend.pipeline import RecommendationPipeline
    from shopmind.recommend.rules import BusinessRules, empty_list_message

    settings = get_settings()
    shop_id = shop or settings.default_shop
    pipeline = RecommendationPipeline.load(latest_version_dir(settings.data_dir, shop_id))
    with settings_store() as store:
        events = store.read_table(shop_id, "events", columns=EVENT_COLUMNS,
                                  where={"user_id": user_id})
        items = store.read_table(shop_id, "items",
                                 columns=["item_id", "title", "price", "stock", "placeholder"])
    if pipeline.catalog_ is not None:  # today's stock and prices, not the training day's
        pipeline.catalog_.refresh(items)
    context = pipeline.context_for(events, [user_id])
    rules = BusinessRules(category=category, price_max=price_max)
    (recs,) = pipeline.recommend(context, k, rules)
    if events.is_empty():
        console.print(f"[yellow]User '{escape(user_id)}' has no history: cold-start answer "
                      "(trending items).[/]")
    if not recs:
        console.print(f"[yellow]{escape(empty_list_message(rules))}[/]")
        return
    titles = dict(items.select("item_id", "title").iter_rows())
    prices = dict(items.select("item_id", "price").iter_rows())
    table = Table(title=f"Recommendations for {escape(user_id)} (shop '{shop_id}')")
    for column in ("#", "item", "title", "price", "score", "why"):
        table.add_column(column, overflow="fold")
    for rank, rec in enumerate(recs, start=1):
        price = prices.get(rec.item_id)
        table.add_row(str(rank), rec.item_id, escape(titles.get(rec.item_id) or ""),
                      "" if price is None else f"{price:,.2f}", f"{rec.score:.3f}",
                      escape(rec.reason.text))
    console.print(table)
