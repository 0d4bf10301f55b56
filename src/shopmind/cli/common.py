"""What every CLI command shares: the console, the store, progress bars, error handling."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from shopmind.config import get_settings
from shopmind.data.store import Store, open_store

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


@contextmanager
def settings_store() -> Iterator[Store]:
    """The store named by the settings, migrated, closed afterwards."""
    store = open_store(get_settings().resolved_store_url)
    try:
        yield store
    finally:
        store.close()


def row_progress() -> Progress:
    """A rich progress bar counting rows (hidden when the output is not a terminal)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    )
