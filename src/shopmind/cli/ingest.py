"""``shopmind ingest``: load a file (or a registered public data set) into the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from shopmind.cli.common import ShopOption, console, row_progress, settings_store
from shopmind.config import Settings, get_settings
from shopmind.data.ingest.engine import IngestSummary, ProgressCallback, ingest_file
from shopmind.data.ingest.mapping import ColumnMapping
from shopmind.data.ingest.readers import count_records
from shopmind.data.schema import TABLES
from shopmind.data.store import Store
from shopmind.errors import InputError


def summary_table(summaries: list[IngestSummary]) -> Table:
    """One row per ingested source: read, accepted, quarantined, duplicates, speed."""
    table = Table(title="Ingest summary", show_lines=False,
                  caption="duplicates: events stored before or repeated in the file (the "
                  "first is kept); other rows whose id repeats in the file (the last "
                  "one is kept)" if any(s.duplicates for s in summaries) else None)
    for header in ("source", "table", "read", "accepted", "quarantined", "duplicates",
                   "placeholders", "rows/s"):
        table.add_column(header, justify="right" if header not in ("source", "table") else "left")
    for s in summaries:
        table.add_row(
            Path(s.source).name, s.table, f"{s.read:,}", f"{s.accepted:,}",
            f"[red]{s.quarantined:,}[/]" if s.quarantined else "0", f"{s.duplicates:,}",
            f"{s.placeholders:,}", f"{s.rows_per_second:,.0f}",
        )
    return table


def print_reasons(summaries: list[IngestSummary], quarantine_file: Path) -> None:
    reasons = sum((s.reasons for s in summaries), start=type(summaries[0].reasons)())
    if not reasons:
        return
    console.print(f"[yellow]Quarantined rows by reason[/] (full rows in {quarantine_file}):")
    for reason, count in reasons.most_common(10):
        console.print(f"  {count:>8,}  {escape(reason)}")


def fill_categories_after_ingest(store: Store, shop_id: str, settings: Settings) -> None:
    """Predict the missing item categories of the shop; too few labels is a note, not a
    failure (the ingest itself succeeded)."""
    from shopmind.data.ingest.categories import fill_missing_categories

    with console.status("Filling missing item categories (training a classifier on the "
                        "shop's labelled items)…"):
        try:
            fill = fill_missing_categories(
                store, shop_id, backend=settings.catalog_text_backend,
                cache_dir=str(settings.embedding_cache_dir))
        except InputError as exc:
            console.print(f"[yellow]Missing categories not filled:[/] {escape(str(exc))}")
            return
    if not fill.filled:
        console.print("Every item has a category; none to fill.")
        return
    console.print(f"Filled the category of {fill.filled:,} item(s), predicted from "
                  f"{fill.labelled:,} labelled items in {fill.categories:,} categories "
                  "(confidence in attributes.category_confidence).")


def ingest(
    path: Annotated[
        Path | None, typer.Argument(help="CSV, JSONL or Parquet file (.gz allowed).")
    ] = None,
    table: Annotated[
        str, typer.Option("--table", "-t", help=f"Target table: {', '.join(TABLES)}.")
    ] = "events",
    dataset: Annotated[
        str | None,
        typer.Option("--dataset", "-d", help="A registered public data set instead of a file "
                     "(see `shopmind datasets`)."),
    ] = None,
    mapping_file: Annotated[
        Path | None, typer.Option("--mapping", "-m", help="TOML column mapping file.")
    ] = None,
    maps: Annotated[
        list[str] | None,
        typer.Option("--map", help="TARGET=SOURCE column mapping, or TARGET:=CONSTANT; repeat."),
    ] = None,
    shop: ShopOption = None,
    unknown: Annotated[
        str, typer.Option(help="Events naming unknown users/items: placeholder (create empty "
                               "ones; the default, from the unknown_reference_policy setting) "
                               "or quarantine.")
    ] = "",
    fill_categories: Annotated[
        bool | None,
        typer.Option("--fill-categories/--no-fill-categories",
                     help="After the ingest, predict the category of items that have none "
                     "from the shop's labelled items (embeds the catalog, so it takes a "
                     "while). Default: on when an ingested item has no category."),
    ] = None,
) -> None:
    """Ingest a file or a public data set: validate, quarantine bad rows, store the rest."""
    settings = get_settings()
    shop_id = shop or settings.default_shop
    policy = unknown or settings.unknown_reference_policy
    if policy not in ("placeholder", "quarantine"):
        raise InputError(f"--unknown must be 'placeholder' or 'quarantine', got {policy!r}")
    if (path is None) == (dataset is None):
        raise InputError("give either a FILE or --dataset NAME (not both, not neither)")
    with settings_store() as store:
        if dataset is not None:
            from shopmind.data.datasets.ingest import ingest_dataset

            with row_progress() as progress:

                def track(label: str, total: int | None) -> ProgressCallback:
                    task = progress.add_task(label, total=total)
                    return lambda n: progress.advance(task, n)

                summaries = ingest_dataset(
                    store, dataset, shop_id=shop_id, data_dir=settings.data_dir,
                    unknown=policy,  # type: ignore[arg-type]
                    quarantine_file=settings.quarantine_path, progress=track,
                )
        else:
            assert path is not None
            mapping = ColumnMapping.from_file(mapping_file) if mapping_file else ColumnMapping()
            mapping = ColumnMapping.from_flags(maps or [], base=mapping)
            target = mapping.table or table
            total = count_records(path) if path.is_file() else None
            with row_progress() as progress:
                task = progress.add_task(f"ingest {path.name}", total=total)
                summary = ingest_file(
                    store, path, shop_id=shop_id, table=target, mapping=mapping,
                    unknown=policy,  # type: ignore[arg-type]
                    chunk_rows=settings.ingest_chunk_rows,
                    quarantine_file=settings.quarantine_path,
                    on_rows=lambda n: progress.advance(task, n),
                )
            summaries = [summary]
            if summary.ignored_columns:
                console.print(f"[yellow]Columns not used by the mapping:[/] "
                              f"{', '.join(summary.ignored_columns)}")
        console.print(summary_table(summaries))
        print_reasons(summaries, settings.quarantine_path)
        if fill_categories is None:
            fill_categories = any(s.table == "items" and s.uncategorized for s in summaries)
        if fill_categories:
            fill_categories_after_ingest(store, shop_id, settings)

