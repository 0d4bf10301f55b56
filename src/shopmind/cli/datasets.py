"""``shopmind datasets``: the public data sets ShopMind can load, and whether they are here."""

from __future__ import annotations

from rich.table import Table

from shopmind.cli.common import console
from shopmind.config import get_settings
from shopmind.data.datasets import get_dataset, list_datasets
from shopmind.errors import DatasetUnavailableError


def datasets() -> None:
    """List the registered public data sets, their tables and whether their files are here."""
    root = get_settings().datasets_dir
    table = Table(title=f"Public data sets (SHOPMIND_DATA={root})")
    table.add_column("name")
    table.add_column("tables")
    table.add_column("available")
    for name in list_datasets():
        try:
            dataset = get_dataset(name, root)
        except DatasetUnavailableError:
            table.add_row(name, "", "[red]no[/]")
            continue
        tables = ", ".join(f"{t.table} ({t.expected_rows:,})" for t in dataset.tables)
        table.add_row(name, tables, "[green]yes[/]")
    console.print(table)
    console.print("Load one with: shopmind ingest --dataset NAME")
