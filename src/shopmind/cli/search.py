"""``shopmind search`` (query the shop's catalog) and ``shopmind eval-search`` (the
evaluation contract)::

    shopmind eval-search --judgments CSV --products CSV --json OUT [--mode hybrid|bm25|dense]

writes ``{"ndcg@10", "recall@100", "n_queries", "mode", "p99_ms"}`` plus extra keys. The
re-ranker is the model shipped in the package; nothing is learned from the judgments.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from shopmind.cli.common import (
    ShopOption,
    console,
    other_shops_hint,
    output_file,
    row_progress,
    settings_store,
)
from shopmind.config import get_settings
from shopmind.errors import InputError

EVAL_MODES = ("hybrid", "bm25", "dense", "rrf")


def search(
    query: Annotated[str, typer.Argument(help="What to search for (Chinese or English).")],
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=100, help="Results.")] = 10,
    user: Annotated[str | None, typer.Option("--user", help="Personalize for this user.")
                    ] = None,
    no_personalize: Annotated[bool, typer.Option("--no-personalize",
                                                 help="Switch personalization off.")] = False,
    brand: Annotated[str | None, typer.Option(help="Only this brand.")] = None,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    min_price: Annotated[float | None, typer.Option(min=0, help="Lowest price.")] = None,
    max_price: Annotated[float | None, typer.Option(min=0, help="Highest price.")] = None,
    in_stock: Annotated[bool, typer.Option("--in-stock", help="Only items in stock.")
                        ] = False,
    mode: Annotated[str, typer.Option(help="hybrid, rrf, bm25 or dense.")] = "hybrid",
    shop: ShopOption = None,
) -> None:
    """Search the shop's catalog, with the reason for each result."""
    from shopmind.features.profiles import profile_from_storage
    from shopmind.search.engine import SearchEngine
    from shopmind.search.filters import Filters
    from shopmind.text.embeddings import load_backend

    settings = get_settings()
    shop_id = shop or settings.default_shop
    with settings_store() as store:
        items = store.read_table(shop_id, "items")
        rows = store.read_table(shop_id, "profiles", where={"user_id": user}) if user else None
        hint = other_shops_hint(store, shop_id) if items.is_empty() else ""
    if items.is_empty():
        raise InputError(f"shop '{shop_id}' has no items"
                         + (hint or "; run `shopmind demo` or `shopmind ingest` first"))
    profile = None
    if rows is not None:  # a user without a profile: {} (the reasons say "no profile")
        profile = profile_from_storage(rows.row(0, named=True)) if rows.height else {}
    engine = SearchEngine.build(items, load_backend(settings.search_embedding_backend),
                                cache_dir=settings.embedding_cache_dir)
    filters = Filters(brands=[brand] if brand else [], categories=[category] if category
                      else [], min_price=min_price, max_price=max_price, in_stock=in_stock)
    found = engine.search(query, k=k, filters=filters, profile=profile,
                          personalized=not no_personalize, mode=mode)  # type: ignore[arg-type]
    if len(" ".join(query.split())) > len(found.query):
        console.print(f"[yellow]query cut to its first {len(found.query)} characters[/]")
    if found.message:
        console.print(f"[yellow]{escape(found.message)}[/]")
    table = Table(title=f"{escape(query)} — {found.total} results ({found.took_ms} ms)")
    for column in ("#", "item", "title", "brand", "price", "score", "why"):
        table.add_column(column)
    for rank, hit in enumerate(found.results, 1):
        table.add_row(str(rank), escape(hit.item_id), escape(hit.title[:60]),
                      escape(hit.brand), "" if hit.price is None else f"{hit.price:g}",
                      f"{hit.score:.3f}", escape(hit.reason))
    console.print(table)
    for name in ("category", "brand"):
        values = found.facets.get(name) or []
        if values:
            counts = ", ".join(f"{escape(str(v['value']))} {v['count']}" for v in values[:6])
            console.print(f"[dim]{name}:[/] {counts}")
    prices = found.facets.get("price") or []
    if prices:
        console.print("[dim]price:[/] " + ", ".join(
            f"{b['min']:g}–{'' if b['max'] is None else format(b['max'], 'g')} {b['count']}"
            for b in prices))


def eval_search(
    judgments: Annotated[Path, typer.Option("--judgments", help="CSV: query_id, query, "
                                            "product_id, gain (gzip allowed).")],
    products: Annotated[Path, typer.Option("--products", help="CSV: product_id, title and "
                                           "optional brand, color, category, bullet_points, "
                                           "description.")],
    json_out: Annotated[Path, typer.Option("--json", help="Where to write the results.")],
    mode: Annotated[str, typer.Option(help="hybrid, bm25 or dense (rrf: plain fusion).")
                    ] = "hybrid",
    backend: Annotated[str | None, typer.Option(help="Embedding backend (default: the "
                                                "search setting, e5-fast).")] = None,
) -> None:
    """Rank the whole products file for every judged query; write NDCG@10 and more."""
    from shopmind.search.evaluate import evaluate_search
    from shopmind.search.judgments import check_judged_products, read_judgments, read_products
    from shopmind.search.reranker import shipped_reranker
    from shopmind.text.embeddings import available_backends, load_backend

    if mode not in EVAL_MODES:
        raise InputError(f"--mode must be one of {', '.join(EVAL_MODES)}, got {mode!r}")
    if backend is not None and backend not in available_backends():
        raise InputError(f"--backend must be one of {', '.join(available_backends())}, "
                         f"got {backend!r}")
    output_file(json_out)
    settings = get_settings()
    judged = read_judgments(judgments)
    catalog = read_products(products)
    check_judged_products(judged, catalog, judgments, products)
    model = None if mode == "bm25" else load_backend(backend or
                                                     settings.search_embedding_backend)
    n_queries = judged["query_id"].n_unique()
    with row_progress() as progress:
        task = progress.add_task(f"eval-search {mode}", total=n_queries)
        result = evaluate_search(
            judged, catalog, mode=mode, backend=model,
            reranker=shipped_reranker() if mode == "hybrid" else None,
            cache_dir=settings.embedding_cache_dir,
            progress=lambda done: progress.update(task, completed=done))
    json_out.write_text(json.dumps(result, indent=2) + "\n")
    console.print(f"{mode}: ndcg@10 {result['ndcg@10']:.4f}  recall@100 "
                  f"{result['recall@100']:.4f}  queries {result['n_queries']}  p99 "
                  f"{result['p99_ms']:.1f} ms → {json_out}")
