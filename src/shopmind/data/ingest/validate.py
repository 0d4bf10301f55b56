"""Column-wise validation of incoming rows against a :class:`~shopmind.data.schema.TableSpec`.

Every column is parsed and checked with Polars expressions over the whole batch; no Python
object is built per row. A row with any problem is rejected whole, with the first problem's
field and a reason that names what was expected and what arrived. Nothing is coerced
silently: a value that does not parse is a rejection, never a null.

Accepted values are typed: ids and text as strings (ids stripped), numbers as Float64/Int64,
booleans, datetimes as ``Datetime("us", "UTC")`` (naive times are taken as UTC), JSON objects
as their compact text.

>>> import polars as pl
>>> from shopmind.data.schema import TABLES
>>> frame = pl.DataFrame({"item_id": ["a", ""], "price": ["9.5", "-1"]})
>>> result = validate_frame(TABLES["items"], frame, source="items.csv")
>>> result.accepted["item_id"].to_list(), result.rejected["field"].to_list()
(['a'], ['item_id'])
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
import polars as pl

from shopmind.data.schema import EARLIEST_TIMESTAMP, ColumnSpec, TableSpec
from shopmind.errors import MappingError

ROW = "__row"
READER_ERROR = "__reader_error"
REPLACEMENT_CHAR = "\ufffd"  # what a lossy UTF-8 decode leaves for invalid bytes
_PARSED_PREFIX = "__parsed_"  # datetime columns are parsed before the expressions run
_RAW_PREVIEW = 200  # characters of an offending value quoted in a reason

#: Spellings accepted for enum values (lower-cased), mapped to the canonical value.
ENUM_ALIASES: dict[str, dict[str, str]] = {
    "type": {
        "pv": "view", "page_view": "view", "detail_view": "view", "impression": "view",
        "add_to_cart": "cart", "addtocart": "cart", "add-to-cart": "cart",
        "remove_from_cart": "remove_cart", "removefromcart": "remove_cart",
        "buy": "purchase", "order": "purchase", "transaction": "purchase",
        "fav": "favorite", "favourite": "favorite", "like": "favorite", "wishlist": "favorite",
        "rating": "rate", "query": "search",
    },
}
#: The dtype of an accepted column, by column kind.
KIND_DTYPES: dict[str, pl.DataType] = {
    "id": pl.String(), "text": pl.String(), "json": pl.String(), "enum": pl.String(),
    "float": pl.Float64(), "int": pl.Int64(), "bool": pl.Boolean(),
    "datetime": pl.Datetime("us", "UTC"),
}
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_DATETIME_FORMATS_TZ = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z")
_DATETIME_FORMATS_NAIVE = (
    "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y/%m/%dT%H:%M:%S%.f", "%Y%m%dT%H%M%S",
)
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")


@dataclass(frozen=True)
class Validated:
    """The outcome of validating one batch.

    ``accepted`` holds the typed canonical columns plus ``__row``; ``rejected`` holds
    ``row_number, field, reason, raw`` (``raw`` is the row as it arrived, as JSON).
    """

    accepted: pl.DataFrame
    rejected: pl.DataFrame

    @staticmethod
    def empty_rejected() -> pl.DataFrame:
        return pl.DataFrame(
            schema={"row_number": pl.Int64, "field": pl.String, "reason": pl.String,
                    "raw": pl.String}
        )


def _quoted(column: str) -> pl.Expr:
    """The offending value, shortened, for a reason message."""
    text = pl.col(column).cast(pl.String)
    short = pl.when(text.str.len_chars() > _RAW_PREVIEW).then(
        text.str.slice(0, _RAW_PREVIEW) + pl.lit("…")
    ).otherwise(text)
    return pl.lit("'") + short + pl.lit("'")


def _as_text(column: str, dtype: pl.DataType) -> pl.Expr:
    expr = pl.col(column)
    if dtype != pl.String:
        expr = expr.cast(pl.String)
    return expr


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    stripped = expr.str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped)


def _parse_number(column: str, dtype: pl.DataType) -> pl.Expr:
    if dtype.is_numeric():
        return pl.col(column).cast(pl.Float64)
    return _blank_to_null(_as_text(column, dtype)).cast(pl.Float64, strict=False)


def _datetime_attempts(text: pl.Expr) -> list[pl.Expr]:
    """Every accepted spelling, each as a non-strict parse (null where it does not apply)."""
    iso = text.str.replace(r"^(\d{4}[-/]\d{2}[-/]\d{2})[ T]", "${1}T").str.replace(
        r"[Zz]$", "+00:00"
    )
    attempts = [iso.str.to_datetime(f, strict=False, time_zone="UTC", time_unit="us")
                for f in _DATETIME_FORMATS_TZ]
    attempts += [
        iso.str.to_datetime(f, strict=False, time_unit="us").dt.replace_time_zone("UTC")
        for f in (*_DATETIME_FORMATS_NAIVE, *_DATE_FORMATS)
    ]
    number = text.cast(pl.Float64, strict=False)
    magnitude = number.abs()
    epoch_us = (
        pl.when(magnitude < 1e11).then(number * 1e6)
        .when(magnitude < 1e14).then(number * 1e3)
        .when(magnitude < 1e17).then(number)
        .otherwise(None)
    )
    attempts.append(epoch_us.cast(pl.Int64, strict=False).cast(pl.Datetime("us", "UTC")))
    return [a.alias(f"attempt_{i}") for i, a in enumerate(attempts)]


def parse_datetime_column(values: pl.Series) -> pl.Series:
    """Parse a column of timestamps to ``Datetime("us", "UTC")``; null where nothing fits.

    Accepts ISO-8601 with or without offset (naive = UTC, ``Z`` allowed, space or ``T``),
    plain dates, and epoch seconds / milliseconds / microseconds (told apart by magnitude).
    The spelling of the first value is tried on the whole column first; only the rows it
    does not fit go through every spelling, so a uniform column costs one parse.
    """
    dtype = values.dtype
    frame = values.alias("v").to_frame()
    if isinstance(dtype, pl.Datetime):
        col = pl.col("v")
        utc = col.dt.replace_time_zone("UTC") if dtype.time_zone is None else (
            col.dt.convert_time_zone("UTC"))
        return frame.select(utc.dt.cast_time_unit("us")).to_series()
    if isinstance(dtype, pl.Date):
        return frame.select(
            pl.col("v").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")).to_series()
    text = _blank_to_null(_as_text("v", dtype))
    attempts = _datetime_attempts(text)
    sample = frame.select(text).to_series().drop_nulls().head(1)
    if sample.is_empty():
        return pl.Series("v", [None] * len(values), dtype=pl.Datetime("us", "UTC"))
    probe = sample.to_frame("v").select(attempts)
    first_fit = next((i for i, c in enumerate(probe.columns) if probe[c][0] is not None), None)
    if first_fit is None:
        return frame.select(pl.coalesce(attempts).alias("v")).to_series()
    fast = frame.select(attempts[first_fit].alias("fast"), text.is_not_null().alias("present"))
    misses = fast["fast"].is_null() & fast["present"]
    if not misses.any():
        return fast["fast"].alias("v")
    slow = frame.filter(misses).select(pl.coalesce(attempts).alias("v")).to_series()
    return fast["fast"].scatter(misses.arg_true(), slow).alias("v")


def _column_checks(
    spec: ColumnSpec, dtype: pl.DataType, latest: datetime
) -> tuple[pl.Expr, list[tuple[pl.Expr, pl.Expr]]]:
    """(parsed value expression, [(is_bad condition, reason)]) for one column."""
    name = spec.name
    present = pl.col(name).is_not_null()
    checks: list[tuple[pl.Expr, pl.Expr]] = []
    if dtype == pl.String:
        present = present & (pl.col(name).str.strip_chars() != "")
        checks.append((
            pl.col(name).str.contains(REPLACEMENT_CHAR, literal=True).fill_null(False),
            pl.lit(f"field `{name}` contains invalid UTF-8 bytes"),
        ))
        checks.append((
            pl.col(name).str.contains("\x00", literal=True).fill_null(False),
            pl.lit(f"field `{name}` contains a NUL character"),
        ))
    if spec.required:
        checks.append((~present, pl.lit(f"required field `{name}` is missing or empty")))

    if spec.kind in ("id", "text"):
        parsed = _as_text(name, dtype)
        if spec.kind == "id":
            parsed = _blank_to_null(parsed)
        if spec.max_length is not None:
            length = parsed.str.len_chars()
            checks.append((
                (length > spec.max_length).fill_null(False),
                pl.format(f"field `{name}` is too long: {{}} characters (at most "
                          f"{spec.max_length})", length),
            ))
    elif spec.kind in ("float", "int"):
        parsed = _parse_number(name, dtype)
        what = "a number" if spec.kind == "float" else "a whole number"
        checks.append((
            present & parsed.is_null(),
            pl.lit(f"field `{name}` must be {what}, got ") + _quoted(name),
        ))
        checks.append((
            parsed.is_nan().fill_null(False) | parsed.is_infinite().fill_null(False),
            pl.lit(f"field `{name}` must be finite, got ") + _quoted(name),
        ))
        if spec.kind == "int":
            checks.append((
                (parsed != parsed.round(0)).fill_null(False),
                pl.lit(f"field `{name}` must be a whole number, got ") + _quoted(name),
            ))
        if spec.ge is not None:
            checks.append((
                (parsed < spec.ge).fill_null(False),
                pl.lit(f"field `{name}` must be ≥ {spec.ge:g}, got ") + _quoted(name),
            ))
        if spec.le is not None:
            checks.append((
                (parsed > spec.le).fill_null(False),
                pl.lit(f"field `{name}` must be ≤ {spec.le:g}, got ") + _quoted(name),
            ))
        if spec.kind == "int":
            parsed = pl.when(parsed.is_finite()).then(parsed).cast(pl.Int64, strict=False)
    elif spec.kind == "bool":
        if dtype == pl.Boolean:
            parsed = pl.col(name)
        else:
            text = _blank_to_null(_as_text(name, dtype)).str.to_lowercase()
            parsed = pl.when(text.is_in(_TRUE)).then(True).when(text.is_in(_FALSE)).then(False)
            checks.append((
                text.is_not_null() & parsed.is_null(),
                pl.lit(f"field `{name}` must be true/false (or 1/0, yes/no), got ")
                + _quoted(name),
            ))
    elif spec.kind == "datetime":
        parsed = pl.col(_PARSED_PREFIX + name)
        checks.append((
            present & parsed.is_null(),
            pl.lit(f"field `{name}` must be an ISO-8601 date/time or epoch seconds, got ")
            + _quoted(name),
        ))
        checks.append((
            ((parsed < EARLIEST_TIMESTAMP) | (parsed > latest)).fill_null(False),
            pl.lit(f"field `{name}` is outside the plausible range "
                   f"{EARLIEST_TIMESTAMP:%Y-%m-%d} … now + 1 day, got ") + _quoted(name),
        ))
    elif spec.kind == "enum":
        text = _blank_to_null(_as_text(name, dtype)).str.to_lowercase()
        aliases = ENUM_ALIASES.get(name, {})
        if aliases:
            text = text.replace(aliases)
        parsed = pl.when(text.is_in(spec.choices)).then(text)
        checks.append((
            text.is_not_null() & parsed.is_null(),
            pl.lit(f"field `{name}` must be one of {', '.join(spec.choices)}, got ")
            + _quoted(name),
        ))
    elif spec.kind == "json":
        if dtype in (pl.String, pl.Null):
            parsed = _blank_to_null(_as_text(name, dtype))
        elif isinstance(dtype, pl.Struct):  # JSON objects read from JSONL or Parquet
            parsed = pl.when(present).then(pl.col(name).struct.json_encode())
        else:  # JSON numbers, booleans or arrays, never an object
            got = pl.lit("a JSON array") if dtype.is_nested() else _quoted(name)
            checks.append((present, pl.lit(f"field `{name}` must be a JSON object, got ") + got))
            parsed = pl.lit(None, pl.String)
    else:  # pragma: no cover - schema.py decides the kinds
        raise AssertionError(spec.kind)
    return parsed.cast(KIND_DTYPES[spec.kind]).alias(name), checks


def _event_rules() -> list[tuple[str, pl.Expr, pl.Expr]]:
    """The cross-field rules of :func:`shopmind.data.schema.event_rule_violations`, column-wise."""
    t, item, query, value = pl.col("type"), pl.col("item_id"), pl.col("query"), pl.col("value")
    return [
        ("item_id", (t != "search") & item.is_null(),
         pl.format("item_id is required for a '{}' event", t)),
        ("query", (t == "search") & query.is_null(),
         pl.lit("query is required for a 'search' event")),
        ("value", (t == "rate") & value.is_null(), pl.lit("value is required for a 'rate' event")),
        ("value", (t == "rate") & ((value < 0) | (value > 10)),
         pl.format("a rating value must be between 0 and 10, got {}", value)),
    ]


_ROW_RULES = {"events": _event_rules}


def _json_problems(frame: pl.DataFrame, column: str) -> pl.Series:
    """Reason per row where a JSON column does not hold a JSON object (null = fine).

    JSON cannot be checked by a Polars expression; the loop runs over the non-null values of
    this one column only (attributes are short and usually absent).
    """
    values = frame[column]
    reasons: list[str | None] = [None] * len(values)
    for i in values.is_not_null().arg_true().to_list():
        text = values[i]
        try:
            ok = isinstance(orjson.loads(text), dict)
        except orjson.JSONDecodeError:
            ok = False
        if not ok:
            reasons[i] = f"field `{column}` must be a JSON object, got {text[:_RAW_PREVIEW]!r}"
    return pl.Series(f"__json_{column}", reasons, dtype=pl.String)


def validate_frame(
    spec: TableSpec, frame: pl.DataFrame, *, source: str, row_offset: int = 0
) -> Validated:
    """Validate ``frame`` against ``spec`` column-wise.

    Parameters
    ----------
    spec
        The table to validate for (``TABLES["events"]`` …).
    frame
        Canonical column names; values as strings (parsed here) or already typed. A column
        ``__row`` gives each row's 1-based number in the source; otherwise rows are numbered
        from ``row_offset + 1``.
    source
        File or stream name, used in error messages.

    Returns
    -------
    Validated
        Accepted rows (typed, in ``spec`` column order, plus ``__row``) and rejected rows with
        their field and reason. ``len(accepted) + len(rejected) == len(frame)``.

    Raises
    ------
    MappingError
        If a required column is absent from the frame altogether.
    """
    missing = [c.name for c in spec.columns if c.required and c.name not in frame.columns]
    if missing:
        raise MappingError(
            f"{source}: required column(s) {', '.join(f'`{m}`' for m in missing)} missing for "
            f"table '{spec.name}'; columns found: {', '.join(frame.columns) or '(none)'}. "
            "Rename them in the file or map them (--map TARGET=SOURCE or --mapping FILE)."
        )
    if ROW not in frame.columns:
        frame = frame.with_row_index(ROW, offset=row_offset + 1)
    frame = frame.with_columns(pl.col(ROW).cast(pl.Int64))
    present_specs = [c for c in spec.columns if c.name in frame.columns]
    frame = frame.with_columns(
        parse_datetime_column(frame[c.name]).alias(_PARSED_PREFIX + c.name)
        for c in present_specs if c.kind == "datetime"
    )
    latest = datetime.now(UTC) + timedelta(days=1)

    parsed_exprs: list[pl.Expr] = []
    reason_exprs: list[tuple[str, pl.Expr]] = []
    for column in present_specs:
        parsed, checks = _column_checks(column, frame.schema[column.name], latest)
        parsed_exprs.append(parsed)
        if checks:
            reason = pl.coalesce([pl.when(bad).then(msg) for bad, msg in checks])
            reason_exprs.append((column.name, reason))
    if READER_ERROR in frame.columns:  # the reader could not split this record at all
        reason_exprs.insert(0, ("row", pl.col(READER_ERROR)))
    absent = [pl.lit(None, KIND_DTYPES[c.kind]).alias(c.name)
              for c in spec.columns if c.name not in frame.columns]

    reasons = frame.select(expr.alias(f"__reason_{name}") for name, expr in reason_exprs)
    fields = [name for name, _ in reason_exprs]
    for column in present_specs:
        if column.kind == "json" and frame.schema[column.name] == pl.String:
            reasons = reasons.with_columns(_json_problems(frame, column.name))
            fields.append(column.name)
    typed = frame.select(pl.col(ROW), *parsed_exprs, *absent).select(ROW, *spec.names)

    row_rules = _ROW_RULES.get(spec.name)
    if row_rules is not None:
        rules = row_rules()
        rule_reasons = typed.select(
            pl.when(bad.fill_null(False)).then(msg).alias(f"__rule_{i}")
            for i, (_, bad, msg) in enumerate(rules)
        )
        reasons = pl.concat([reasons, rule_reasons], how="horizontal")
        fields.extend(field for field, _, _ in rules)

    reason_columns = reasons.columns
    verdict = reasons.select(
        pl.coalesce([pl.when(pl.col(c).is_not_null()).then(pl.lit(f)).otherwise(None)
                     for c, f in zip(reason_columns, fields, strict=True)] or [pl.lit(None)])
        .alias("field"),
        pl.coalesce([pl.col(c) for c in reason_columns] or [pl.lit(None, pl.String)])
        .alias("reason"),
    )
    bad_mask = verdict["reason"].is_not_null()
    accepted = typed.filter(~bad_mask)
    if not bad_mask.any():
        return Validated(accepted=accepted, rejected=Validated.empty_rejected())
    original = frame.filter(bad_mask)
    raw_columns = [c for c in original.columns
                   if c not in (ROW, READER_ERROR) and not c.startswith(_PARSED_PREFIX)]
    raw = original.select(
        pl.struct(pl.col(c) if original.schema[c].is_nested() else pl.col(c).cast(pl.String)
                  for c in raw_columns).struct.json_encode()
    ).to_series() if raw_columns else pl.Series([None] * len(original), dtype=pl.String)
    rejected = pl.DataFrame({
        "row_number": original[ROW],
        "field": verdict["field"].filter(bad_mask),
        "reason": verdict["reason"].filter(bad_mask).cast(pl.String),
        "raw": raw,
    })
    return Validated(accepted=accepted, rejected=rejected)
