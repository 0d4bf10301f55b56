"""The registry of public data sets: names → loaders that yield canonical, unvalidated frames.

A loader module declares one builder per data set with :func:`register_dataset`. The builder
takes the data set's folder and returns a :class:`PublicDataset` whose tables read lazily:
nothing is opened until a table's ``read()`` is called, so listing data sets is free.

Every table carries the :class:`~shopmind.data.schema.TableSpec` it must pass, so public
files go through the same validation path as user files
(:func:`shopmind.data.ingest.validate.validate_frame`).

>>> from shopmind.data.datasets import list_datasets
>>> "taobao_userbehavior" in list_datasets()
True
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from shopmind.data.schema import TABLES, TableSpec
from shopmind.errors import DatasetUnavailableError, InputError, UnknownNameError

#: Rows per chunk handed to validation and storage.
CHUNK_ROWS = 250_000

#: Modules that register the built-in loaders, imported on first lookup (not at import time).
_LOADER_MODULES = (
    "taobao", "sequences", "reviews", "campaigns", "transactions", "search_judgments", "support",
)

Builder = Callable[[Path], "PublicDataset"]


@dataclass(frozen=True)
class DatasetTable:
    """One table of a public data set.

    Attributes
    ----------
    table
        An ingestible entity of :data:`shopmind.data.schema.TABLES` (``items``, ``events`` …)
        or an auxiliary record name of :data:`shopmind.data.datasets.records.AUXILIARY_TABLES`.
    spec
        The :class:`TableSpec` every frame must pass.
    source
        The file the rows come from, for messages.
    read
        Zero-argument callable returning an iterator of Polars frames (≤ ``CHUNK_ROWS`` rows
        each) whose columns are canonical names of ``spec``.
    expected_rows
        The row count stated in the data set's README.
    expected_distinct
        README facts about distinct values, ``{column: count}`` (e.g. users in an event log).
    """

    table: str
    spec: TableSpec
    source: str
    read: Callable[[], Iterator[pl.DataFrame]]
    expected_rows: int
    expected_distinct: dict[str, int] = field(default_factory=dict)

    @property
    def auxiliary(self) -> bool:
        """True when ``table`` is not one of the shop entities (no store table holds it)."""
        return self.table not in TABLES


@dataclass(frozen=True)
class PublicDataset:
    """A public data set: its tables, read lazily from its folder.

    ``tables`` are in ingest order: items and users before the events, reviews or orders
    that refer to them, so nothing becomes a placeholder needlessly.
    """

    name: str
    description: str
    tables: list[DatasetTable]
    readme: Path

    def table(self, name: str) -> DatasetTable:
        """The table called ``name``.

        Raises
        ------
        UnknownNameError
            If the data set has no such table; the message lists the ones it has.
        """
        for table in self.tables:
            if table.table == name:
                return table
        raise UnknownNameError(
            f"data set '{self.name}' has no table '{name}'; "
            f"its tables are: {', '.join(t.table for t in self.tables)}"
        )


@dataclass(frozen=True)
class _Entry:
    folder: str
    build: Builder


_REGISTRY: dict[str, _Entry] = {}


def _canonical(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def register_dataset(name: str, *, folder: str | None = None) -> Callable[[Builder], Builder]:
    """Register a builder ``(folder: Path) -> PublicDataset`` under ``name``.

    Parameters
    ----------
    name
        Registry name; ``-`` and ``_`` are interchangeable on lookup.
    folder
        Folder under the data sets directory; defaults to ``name``.

    Examples
    --------
    >>> @register_dataset("my_shop_export")  # doctest: +SKIP
    ... def _build(folder: Path) -> PublicDataset: ...
    """

    def decorate(build: Builder) -> Builder:
        key = _canonical(name)
        if key in _REGISTRY and _REGISTRY[key].build is not build:
            raise ValueError(f"data set {name!r} is already registered")
        _REGISTRY[key] = _Entry(folder=folder or name, build=build)
        return build

    return decorate


def _load_builtin() -> None:
    for module in _LOADER_MODULES:
        importlib.import_module(f"{__package__}.{module}")


def list_datasets() -> list[str]:
    """Names of all registered data sets, sorted.

    Examples
    --------
    >>> "ml_1m" in list_datasets()
    True
    """
    _load_builtin()
    return sorted(_REGISTRY)


def get_dataset(name: str, datasets_dir: Path | str | None = None) -> PublicDataset:
    """The registered data set ``name``, reading from ``datasets_dir``.

    Parameters
    ----------
    name
        A name from :func:`list_datasets` (``ml-1m`` and ``ml_1m`` are the same).
    datasets_dir
        Folder holding the public data sets; defaults to ``Settings.datasets_dir``
        (environment variable ``SHOPMIND_DATA``).

    Raises
    ------
    UnknownNameError
        If ``name`` is not registered; the message lists the valid names.
    DatasetUnavailableError
        If the data set's folder does not exist.

    Examples
    --------
    >>> dataset = get_dataset("taobao_userbehavior")  # doctest: +SKIP
    >>> [t.table for t in dataset.tables]  # doctest: +SKIP
    ['items', 'events']
    """
    _load_builtin()
    entry = _REGISTRY.get(_canonical(name))
    if entry is None:
        raise UnknownNameError(
            f"unknown data set {name!r}; registered data sets: {', '.join(list_datasets())}"
        )
    if datasets_dir is None:
        from shopmind.config import get_settings

        datasets_dir = get_settings().datasets_dir
    folder = Path(datasets_dir) / entry.folder
    if not folder.is_dir():
        raise DatasetUnavailableError(
            f"data set '{_canonical(name)}' not found: {folder} is not a folder. Put the public "
            "data sets there, or point SHOPMIND_DATA at the folder that holds them."
        )
    return entry.build(folder)


def chunked(frame: pl.DataFrame, rows: int = CHUNK_ROWS) -> Iterator[pl.DataFrame]:
    """Yield ``frame`` in slices of at most ``rows`` rows (nothing for an empty frame)."""
    for offset in range(0, frame.height, rows):
        yield frame.slice(offset, rows)


def require_file(path: Path) -> Path:
    """``path``, or :class:`DatasetUnavailableError` if the data set's folder lacks it."""
    if not path.is_file():
        raise DatasetUnavailableError(
            f"{path} is missing; the data set's folder is incomplete (see its README.md)"
        )
    return path


def read_csv_text(
    path: Path, *, separator: str = ",", quote_char: str | None = '"'
) -> pl.DataFrame:
    """Read a (gzip'd) CSV/TSV file with every column as text; the validator parses values.

    Raises
    ------
    DatasetUnavailableError
        If the file is missing from the data set's folder.
    InputError
        If the file is not well-formed CSV.
    """
    try:
        return pl.read_csv(
            require_file(path), separator=separator, quote_char=quote_char, infer_schema=False
        )
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"{path}: cannot be read as CSV ({exc})") from exc
