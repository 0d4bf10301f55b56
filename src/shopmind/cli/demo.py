"""``shopmind demo`` — the main job: generate the demo shop, ingest it, profile the users and
print what a shop owner would want to see first."""

from __future__ import annotations

import time
from typing import Annotated

import polars as pl
import typer
from rich.table import Table

from shopmind.cli.common import console, row_progress, settings_store
from shopmind.cli.ingest import print_reasons, summary_table
from shopmind.config import get_settings
from shopmind.data.ingest.engine import IngestSummary, ingest_batches
from shopmind.data.schema import Shop
from shopmind.data.store import Store

DEMO_TIMEZONE = "Asia/Shanghai"  # the demo shop lives on Beijing time
DEMO_TABLES = ("items", "users", "user_pii", "events", "reviews", "orders")
_CHUNK = 250_000


def _chunks(frame: pl.DataFrame) -> list[pl.DataFrame]:
    return [frame.slice(i, _CHUNK) for i in range(0, max(frame.height, 1), _CHUNK)]


def ingest_demo_shop(store: Store, shop_id: str, *, seed: int, scale: float) -> list[IngestSummary]:
    """Generate the demo shop and ingest every table through the normal validation path."""
    from shopmind.data.datasets.demo import generate_demo_shop

    settings = get_settings()
    started = time.perf_counter()
    with console.status(f"generating the demo shop (seed {seed}, scale {scale:g})…"):
        shop = generate_demo_shop(seed=seed, scale=scale)
    console.print(f"Generated the demo shop in {time.perf_counter() - started:.1f} s.")
    store.ensure_shop(Shop(shop_id=shop_id, name="ShopMind demo shop 演示商店"))
    summaries = []
    with row_progress() as progress:
        for table in DEMO_TABLES:
            frame: pl.DataFrame = getattr(shop, table)
            task = progress.add_task(f"ingest {table}", total=frame.height)
            summaries.append(ingest_batches(
                store, shop_id=shop_id, table=table, batches=_chunks(frame),
                source=f"demo:{table}", source_key=f"demo:{seed}:{scale:g}:{table}",
                quarantine_file=settings.quarantine_path,
                on_rows=lambda n, task=task: progress.advance(task, n),  # type: ignore[misc]
            ))
    return summaries


def print_shop_summary(store: Store, shop_id: str, *, samples: int = 3) -> None:
    """Counts, funnel, top categories and a few sample profiles."""
    from shopmind.cli.profile_view import format_profile
    from shopmind.features.profiles import profile_from_storage
    from shopmind.features.shop_summary import funnel, top_categories

    counts = Table(title=f"Shop '{shop_id}'")
    counts.add_column("table")
    counts.add_column("rows", justify="right")
    for table in ("items", "users", "events", "reviews", "orders", "order_lines", "profiles",
                  "quarantine"):
        counts.add_row(table, f"{store.count(shop_id, table):,}")
    console.print(counts)

    events = store.read_table(shop_id, "events", columns=["user_id", "item_id", "type", "ts",
                                                          "session_id"])
    items = store.read_table(shop_id, "items", columns=["item_id", "category"])
    f = funnel(events)
    console.print(
        f"[bold]Funnel[/] over {f.sessions:,} sessions: "
        f"view → cart {f.view_to_cart:.1%} of sessions, cart → purchase "
        f"{f.cart_to_purchase:.1%}  (events: {f.carts_per_view:.1%} carts per view, "
        f"{f.purchases_per_cart:.1%} purchases per cart)"
    )
    top = top_categories(events, items)
    categories = Table(title="Top categories by purchases")
    for column in top.columns:
        categories.add_column(column, justify="left" if column == "category" else "right")
    for values in top.iter_rows():
        categories.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in values))
    console.print(categories)

    profiles = store.read_table(shop_id, "profiles")
    if profiles.is_empty():
        return
    # Show different kinds of customer: buyers from distinct segments, then a browser.
    ordered = profiles.sort("user_id")
    buyers = ordered.filter(pl.col("rfm_segment") != "prospect").unique(
        "rfm_segment", keep="first", maintain_order=True)
    browsers = ordered.filter(pl.col("rfm_segment") == "prospect")
    picks = pl.concat([buyers.head(samples - 1), browsers.head(1)]).head(samples)
    for record in picks.iter_rows(named=True):
        console.print(format_profile(profile_from_storage(record)))


def demo(
    seed: Annotated[int, typer.Option(help="Random seed of the generated shop.")] = 42,
    scale: Annotated[
        float, typer.Option(min=0.01, max=1000, help="Size multiplier (about 40 gives ~2M events).")
    ] = 1.0,
    shop: Annotated[str, typer.Option("--shop", help="Shop id for the demo.")] = "demo",
    recommendations: Annotated[
        bool, typer.Option(help="Also evaluate, train and show recommendations.")
    ] = True,
    serve: Annotated[
        bool, typer.Option(help="End by serving the demo shop over HTTP until Ctrl-C "
                                "(--no-serve returns at once, for scripts and CI).")
    ] = True,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")] = 8000,
) -> None:
    """Generate the demo shop into the embedded store, ingest it, profile it, summarize it."""
    from shopmind.features.profiles import compute_and_store_profiles

    started = time.perf_counter()
    with settings_store() as store:
        console.print(f"Store: {store.url}")
        summaries = ingest_demo_shop(store, shop, seed=seed, scale=scale)
        console.print(summary_table(summaries))
        print_reasons(summaries, get_settings().quarantine_path)
        with console.status("computing user profiles…"):
            t = time.perf_counter()
            n = compute_and_store_profiles(store, shop, tz=DEMO_TIMEZONE)
        console.print(f"Computed {n:,} user profiles in {time.perf_counter() - t:.1f} s.")
        print_shop_summary(store, shop)
        if recommendations:
            from shopmind.cli.demo_recommend import demo_recommendations

            demo_recommendations(store, shop)
    console.print(f"[green]Demo finished in {time.perf_counter() - started:.0f} s.[/] "
                  f"Try: shopmind profile USER_ID --shop {shop} · "
                  f"shopmind recommend USER_ID --shop {shop}")
    if serve:
        from shopmind.cli.demo_serve import demo_serve, example_ids

        with settings_store() as store:
            user_id, item_id = example_ids(store, shop)
        demo_serve(shop, user_id, item_id, port=port)
