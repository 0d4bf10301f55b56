"""The ``shopmind`` command line: thin commands over the library.

A user mistake prints one clear line and exits non-zero; it never shows a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.markup import escape

from shopmind import __version__
from shopmind.cli.common import err_console
from shopmind.config import Settings, get_settings, override_settings
from shopmind.errors import ShopMindError

app = typer.Typer(
    name="shopmind",
    help="ShopMind: AI personalization and marketing engine for e-commerce.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"shopmind {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Data directory (store, models, quarantine). "
                     "Env: SHOPMIND_DATA_DIR.", show_default=False),
    ] = None,
    store_url: Annotated[
        str | None,
        typer.Option("--store", help="Store URL: sqlite:///PATH or postgresql://… "
                     "Env: SHOPMIND_STORE_URL.", show_default=False),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True,
                           help="Print the version and exit.")
    ] = False,
) -> None:
    """ShopMind: AI personalization and marketing engine for e-commerce."""
    changes: dict[str, object] = {}
    if data_dir is not None:
        changes["data_dir"] = data_dir
    if store_url is not None:
        changes["store_url"] = store_url
    if changes:
        current = get_settings().model_dump()
        override_settings(Settings(**{**current, **changes}))


def _register() -> None:
    from shopmind.cli.datasets import datasets
    from shopmind.cli.demo import demo
    from shopmind.cli.evaluate import evaluate
    from shopmind.cli.ingest import ingest
    from shopmind.cli.keys import keys_app
    from shopmind.cli.profile import profile, profiles
    from shopmind.cli.quarantine import quarantine
    from shopmind.cli.recommend import recommend, train
    from shopmind.cli.reviews import classify, eval_sentiment, reviews_app
    from shopmind.cli.search import eval_search, search
    from shopmind.cli.serve import serve

    app.command(help="Generate the demo shop, ingest and profile it, train and compare "
                     "recommenders, then serve it over HTTP (--no-serve to skip).")(
        demo)
    app.command(help="Ingest a CSV/JSONL/Parquet file or a public data set into the store.")(
        ingest)
    app.command(help="Compute user profiles (RFM, affinities, lifecycle, tags) for a shop.")(
        profiles)
    app.command(help="Print one user's profile.")(profile)
    app.command(help="List the public data sets ShopMind can load.")(datasets)
    app.command(help="Show quarantined rows with the reason they were rejected.")(quarantine)
    app.command(help="Train the recommendation pipeline (candidates → ranker) for a shop.")(
        train)
    app.command(help="Recommend items for a user, with a reason for each.")(recommend)
    app.command(help="Evaluate a model offline (full ranking) and write JSON results.")(
        evaluate)
    app.add_typer(reviews_app, name="reviews",
                  help="Review intelligence: train sentiment, analyze reviews, list alerts.")
    app.command("eval-sentiment", help="Train the default sentiment model on a CSV and score "
                "another (accuracy, macro-F1, texts/s) as JSON.")(eval_sentiment)
    app.command(help="Predict category paths and tags of product texts.")(classify)
    app.command(help="Search the catalog (zh/en), with filters, facets and reasons.")(search)
    app.command("eval-search", help="Evaluate product search on relevance judgments "
                "(NDCG@10, recall@100, p99) and write JSON.")(eval_search)
    app.command(help="Serve the HTTP API (events, recommendations, search, sentiment) "
                     "until Ctrl-C.")(
        serve)
    app.add_typer(keys_app, name="keys", help="Create, revoke and list API keys.")


_register()


def main() -> None:
    """Console entry point: library errors become one red line and exit code 1."""
    try:
        app()
    except ShopMindError as exc:
        _fail(str(exc))
    except ValidationError as exc:  # a setting from the environment or a flag is invalid
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}"
                             for e in exc.errors())
        _fail(f"invalid setting ({problems}); see `shopmind --help` and the SHOPMIND_* "
              "environment variables")
    except (FileExistsError, NotADirectoryError) as exc:  # e.g. --data-dir names a file
        _fail(f"{exc.filename} is a file where a folder is needed")
    except OSError as exc:  # a disk that is full, a folder without write permission, ...
        where = f" ({exc.filename})" if exc.filename else ""
        _fail(f"{exc.strerror or exc}{where}")


def _fail(message: str) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    sys.exit(1)
