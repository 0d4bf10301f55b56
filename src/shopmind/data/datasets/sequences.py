"""Plain-text interaction sequences: the format of the sequential-recommendation benchmarks.

Two layouts, both whitespace-separated and optionally gzip'd:

* **one user per line** — ``user_id item_id item_id …``, items oldest first (Amazon Beauty
  5-core of S3-Rec, Zhou et al., CIKM 2020; also the ``--sequences FILE`` contract);
* **one interaction per line** — ``user_id item_id``, each user's lines in order (ML-1M of
  SASRec, Kang & McAuley, ICDM 2018).

Neither file holds timestamps. Events get synthetic ones: ``SYNTHETIC_EPOCH`` plus the
item's 0-based position in its user's sequence, in seconds. Per-user order is exact; times
across users mean nothing (use leave-one-out per user, not a global time split).
Beauty 5-core interactions are reviews of bought products → ``purchase``; ML-1M ratings
whose values the file dropped → ``view`` (``rate`` needs a value).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl

from shopmind.data.datasets.registry import (
    DatasetTable,
    PublicDataset,
    chunked,
    read_csv_text,
    register_dataset,
    require_file,
)
from shopmind.data.schema import TABLES
from shopmind.errors import InputError

SYNTHETIC_EPOCH = datetime(2014, 1, 1, tzinfo=UTC)
_SEQUENCE_COLUMNS = pl.Schema(
    {"user_id": pl.String(), "item_id": pl.String(), "position": pl.Int64()}
)


def _lines(path: Path) -> pl.DataFrame:
    """Non-blank lines of a text file as ``line`` (1-based number) and ``tokens`` (list)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read sequence file {path}: {exc.strerror}") from exc
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(f"{path}: not a valid gzip file ({exc})") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{path} line {line}: invalid UTF-8 bytes; save the file as UTF-8"
        ) from exc
    lines = pl.DataFrame({"text": text.split("\n")}).with_row_index("line", offset=1)
    normalized = pl.col("text").str.replace_all(r"\s+", " ").str.strip_chars()
    return (
        lines.with_columns(normalized)
        .filter(pl.col("text") != "")
        .with_columns(pl.col("text").str.split(" ").alias("tokens"))
    )


def _malformed(path: Path, lines: pl.DataFrame, bad: pl.Series, expected: str) -> InputError:
    first = lines.filter(bad).row(0, named=True)
    count = int(bad.sum())
    more = f" ({count - 1} more malformed line(s) after it)" if count > 1 else ""
    return InputError(
        f"{path} line {first['line']}: expected `{expected}`, got {first['text'][:200]!r}{more}"
    )


def read_sequences(path: Path | str) -> pl.DataFrame:
    """Read a one-user-per-line sequence file (``user_id item_id item_id …``, gzip allowed).

    Parameters
    ----------
    path
        Text file, whitespace-separated, items oldest first; blank lines are skipped.

    Returns
    -------
    polars.DataFrame
        ``user_id`` (str), ``item_id`` (str), ``position`` (0-based within the user).

    Raises
    ------
    InputError
        Naming the line number, if a line has a user but no item, a user appears on two
        lines, or the file is not UTF-8 text.

    Examples
    --------
    >>> _ = Path("seq.txt").write_text("u1 a b\\nu2 c\\n")  # doctest: +SKIP
    >>> read_sequences("seq.txt").rows()  # doctest: +SKIP
    [('u1', 'a', 0), ('u1', 'b', 1), ('u2', 'c', 0)]
    """
    path = Path(path)
    lines = _lines(path)
    bad = lines["tokens"].list.len() < 2
    if bad.any():
        raise _malformed(path, lines, bad, "user_id item_id [item_id …]")
    users = lines.select("line", pl.col("tokens").list.first().alias("user_id"))
    repeated = users["user_id"].is_duplicated()
    if repeated.any():
        dupes = users.filter(repeated).sort("line")
        user = dupes["user_id"][0]
        at = dupes.filter(pl.col("user_id") == user)["line"].to_list()
        raise InputError(
            f"{path} line {at[1]}: user {user!r} already has a sequence on line {at[0]}; "
            "put each user's items on one line"
        )
    return (
        lines.select(
            pl.col("tokens").list.first().alias("user_id"),
            pl.col("tokens").list.slice(1).alias("item_id"),
            pl.int_ranges(0, pl.col("tokens").list.len() - 1).alias("position"),
        )
        .explode("item_id", "position")
        .cast(_SEQUENCE_COLUMNS)
    )


def read_interaction_pairs(path: Path | str) -> pl.DataFrame:
    """Read a one-interaction-per-line file (``user_id item_id``), each user's lines in order.

    Returns the same frame as :func:`read_sequences`; ``position`` counts a user's lines.

    Raises
    ------
    InputError
        Naming the line number, if a line does not hold exactly two fields.
    """
    path = Path(path)
    lines = _lines(path)
    bad = lines["tokens"].list.len() != 2
    if bad.any():
        raise _malformed(path, lines, bad, "user_id item_id")
    pairs = lines.select(
        pl.col("tokens").list.get(0).alias("user_id"),
        pl.col("tokens").list.get(1).alias("item_id"),
    )
    return pairs.with_columns(
        pl.int_range(pl.len()).over("user_id").alias("position")
    ).cast(_SEQUENCE_COLUMNS)


def sequence_events(sequences: pl.DataFrame, event_type: str) -> pl.DataFrame:
    """Events from a sequence frame, ``ts`` = ``SYNTHETIC_EPOCH`` + position seconds."""
    return sequences.select(
        "user_id",
        "item_id",
        pl.lit(event_type).alias("type"),
        (pl.lit(SYNTHETIC_EPOCH) + pl.duration(seconds=pl.col("position"))).alias("ts"),
    )


def _id_map(path: Path, kind: str) -> pl.DataFrame:
    """The ``kind`` rows (``user`` or ``item``) of a ``kind<TAB>id<TAB>…`` id map."""
    frame = read_csv_text(path, separator="\t", quote_char=None)
    return frame.filter(pl.col("kind") == kind).drop("kind")


def _json_of(*columns: str | pl.Expr) -> pl.Expr:
    return pl.struct(*columns).struct.json_encode()


# ----------------------------------------------------------------------- Amazon Beauty


def _beauty_items(folder: Path) -> Iterator[pl.DataFrame]:
    text = read_csv_text(folder / "beauty_item_text.csv.gz")
    raw = orjson.loads(
        gzip.decompress(require_file(folder / "beauty_5core_item2attributes.json.gz").read_bytes())
    )
    attributes = pl.DataFrame(
        {"item_id": list(raw), "attribute_ids": list(raw.values())},
        schema={"item_id": pl.String, "attribute_ids": pl.List(pl.Int64)},
    )
    items = text.join(attributes, on="item_id", how="left", maintain_order="left").select(
        "item_id",
        pl.col("title").fill_null(""),
        _json_of("asin", "attribute_ids").alias("attributes"),
    )
    return chunked(items)


def _beauty_users(folder: Path) -> Iterator[pl.DataFrame]:
    users = _id_map(folder / "beauty_5core_id_map.tsv.gz", "user")
    return chunked(users.select(
        pl.col("id").alias("user_id"), _json_of("amazon_id").alias("attributes")
    ))


@register_dataset("amazon_beauty", folder="amazon-beauty")
def build_beauty(folder: Path) -> PublicDataset:
    """Amazon Beauty 5-core: ``purchase`` events, ``items`` with titles, ``users``."""
    path = folder / "beauty_5core_sequences.txt.gz"
    return PublicDataset(
        name="amazon_beauty",
        description="Amazon Beauty 5-core sequences (S3-Rec) with item titles.",
        tables=[
            DatasetTable("items", TABLES["items"], str(folder / "beauty_item_text.csv.gz"),
                         lambda: _beauty_items(folder), 12_101),
            DatasetTable("users", TABLES["users"], str(folder / "beauty_5core_id_map.tsv.gz"),
                         lambda: _beauty_users(folder), 22_363),
            DatasetTable(
                "events", TABLES["events"], str(path),
                lambda: chunked(sequence_events(read_sequences(path), "purchase")), 198_502,
                expected_distinct={"user_id": 22_363, "item_id": 12_101},
            ),
        ],
        readme=folder / "README.md",
    )


# ----------------------------------------------------------------------- MovieLens-1M


def _ml1m_items(path: Path) -> Iterator[pl.DataFrame]:
    genres = pl.col("genres").str.split("|")
    items = _id_map(path, "item").select(
        pl.col("id").alias("item_id"),
        pl.col("title").fill_null(""),
        genres.list.first().alias("category"),
        _json_of(pl.col("movielens_id").cast(pl.Int64), genres.alias("genres"))
        .alias("attributes"),
    )
    return chunked(items)


def _ml1m_users(path: Path) -> Iterator[pl.DataFrame]:
    users = _id_map(path, "user").select(
        pl.col("id").alias("user_id"),
        _json_of(pl.col("movielens_id").cast(pl.Int64)).alias("attributes"),
    )
    return chunked(users)


@register_dataset("ml_1m", folder="ml-1m")
def build_ml1m(folder: Path) -> PublicDataset:
    """MovieLens-1M (SASRec ids): ``view`` events, ``items`` with title and genres, ``users``."""
    path = folder / "ml1m_sasrec_interactions.txt.gz"
    id_map = folder / "ml1m_sasrec_id_map.tsv.gz"
    return PublicDataset(
        name="ml_1m",
        description="MovieLens-1M, SASRec's 999,611-interaction version, titles and genres.",
        tables=[
            DatasetTable("items", TABLES["items"], str(id_map), lambda: _ml1m_items(id_map),
                         3_416),
            DatasetTable("users", TABLES["users"], str(id_map), lambda: _ml1m_users(id_map),
                         6_040),
            DatasetTable(
                "events", TABLES["events"], str(path),
                lambda: chunked(sequence_events(read_interaction_pairs(path), "view")), 999_611,
                expected_distinct={"user_id": 6_040, "item_id": 3_416},
            ),
        ],
        readme=folder / "README.md",
    )
