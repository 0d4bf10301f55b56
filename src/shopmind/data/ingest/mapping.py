"""Column mappings: how a shop's own file format maps onto ShopMind's tables, without code.

A mapping names, for each canonical column, the source column it comes from; it can also set
constants and translate values. It is given as a small TOML file or as ``--map`` flags::

    # taobao.toml
    table = "events"
    [columns]            # canonical = source
    user_id = "uid"
    ts = "timestamp"
    [constants]
    session_id = "web"
    [values.type]        # source value = canonical value
    pv = "view"
    buy = "purchase"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from shopmind.data.ingest.validate import READER_ERROR, ROW
from shopmind.data.schema import TableSpec
from shopmind.errors import MappingError


@dataclass(frozen=True)
class ColumnMapping:
    """Canonical column → source column, constant values, and value translations."""

    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    table: str | None = None

    @classmethod
    def from_file(cls, path: str | Path) -> ColumnMapping:
        """Read a TOML mapping file (see the module docstring for its shape)."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise MappingError(f"mapping file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise MappingError(f"mapping file {path} is not valid TOML: {exc}") from None
        unknown = set(data) - {"table", "columns", "constants", "values"}
        if unknown:
            raise MappingError(
                f"mapping file {path}: unknown section(s) {sorted(unknown)}; "
                "expected table, [columns], [constants], [values.COLUMN]"
            )
        return cls(
            columns={str(k): str(v) for k, v in data.get("columns", {}).items()},
            constants={str(k): str(v) for k, v in data.get("constants", {}).items()},
            values={str(k): {str(a): str(b) for a, b in v.items()}
                    for k, v in data.get("values", {}).items()},
            table=data.get("table"),
        )

    @classmethod
    def from_flags(cls, flags: list[str], base: ColumnMapping | None = None) -> ColumnMapping:
        """Add ``TARGET=SOURCE`` flags (``TARGET:=VALUE`` sets a constant) to ``base``."""
        columns = dict(base.columns) if base else {}
        constants = dict(base.constants) if base else {}
        for flag in flags:
            if ":=" in flag:
                target, value = flag.split(":=", 1)
                constants[target.strip()] = value
            elif "=" in flag:
                target, source = flag.split("=", 1)
                columns[target.strip()] = source.strip()
            else:
                raise MappingError(
                    f"--map {flag!r}: expected TARGET=SOURCE (e.g. user_id=uid) "
                    "or TARGET:=CONSTANT (e.g. type:=view)"
                )
        return cls(columns=columns, constants=constants,
                   values=dict(base.values) if base else {}, table=base.table if base else None)

    def apply(self, frame: pl.DataFrame, spec: TableSpec, *, source: str) -> pl.DataFrame:
        """Rename, add constants and translate values; keep only the spec's columns."""
        unknown_targets = (set(self.columns) | set(self.constants) | set(self.values)) - set(
            spec.names
        )
        if unknown_targets:
            raise MappingError(
                f"{source}: mapping names unknown column(s) {sorted(unknown_targets)} for "
                f"table '{spec.name}'; its columns are {', '.join(spec.names)}"
            )
        missing = [s for s in self.columns.values() if s not in frame.columns]
        if missing:
            raise MappingError(
                f"{source}: mapped source column(s) {missing} not in the file; its columns "
                f"are {', '.join(c for c in frame.columns if c not in (ROW, READER_ERROR))}"
            )
        exprs: list[pl.Expr] = []
        for name in spec.names:
            if name in self.constants:
                expr = pl.lit(self.constants[name], pl.String)
            elif name in self.columns:
                expr = pl.col(self.columns[name])
            elif name in frame.columns:
                expr = pl.col(name)
            else:
                continue
            if name in self.values:
                expr = expr.cast(pl.String).replace(self.values[name])
            exprs.append(expr.alias(name))
        produced = {name for name in spec.names
                    if name in self.constants or name in self.columns or name in frame.columns}
        missing_required = [c.name for c in spec.columns if c.required and c.name not in produced]
        if missing_required:
            found = ", ".join(c for c in frame.columns if c not in (ROW, READER_ERROR))
            raise MappingError(
                f"{source}: required column(s) {', '.join(f'`{m}`' for m in missing_required)} "
                f"missing for table '{spec.name}'; columns found: {found or '(none)'}. Rename "
                "them in the file or map them (--map TARGET=SOURCE or --mapping FILE)."
            )
        extras = [pl.col(c) for c in (ROW, READER_ERROR) if c in frame.columns]
        return frame.select(*extras, *exprs)

    def ignored_columns(self, frame: pl.DataFrame, spec: TableSpec) -> list[str]:
        """Source columns the mapping does not use (reported, so nothing vanishes unseen)."""
        used = set(self.columns.values()) | (set(spec.names) - set(self.columns))
        return [c for c in frame.columns if c not in used and c not in (ROW, READER_ERROR)]
