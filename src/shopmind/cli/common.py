"""What every CLI command shares: the console, the store, progress bars, error handling."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
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
from shopmind.errors import InputError

#: The ``--shop`` option of every command that works on one shop.
ShopOption = Annotated[str | None, typer.Option(
    "--shop", help="Shop (tenant) id (default: the default_shop setting, SHOPMIND_DEFAULT_SHOP, "
                   "'default' unless set).")]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def output_file(path: Path) -> Path:
    """``path``, checked before any work: not a directory, its folder created.

    A long evaluation should not run for minutes only to fail writing its result.
    """
    if path.is_dir():
        raise InputError(f"{path} is a directory; give a file name for the output "
                         f"(e.g. {path / 'result.json'})")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise InputError(f"{path}: {parent} is a file, not a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{path}: cannot create its folder ({exc.strerror})") from exc
    return path


def other_shops_hint(store: Store, shop_id: str) -> str:
    """``"; shops with data: a, b (pick one with --shop)"``, or nothing: for errors about a
    shop without data (the default shop is rarely the one a user filled)."""
    others = [s for s in store.list_shops() if s != shop_id]
    return f"; shops with data: {', '.join(others)} (pick one with --shop)" if others else ""


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
