"""The few SQL functions whose spelling differs between DuckDB, PostgreSQL and MySQL/MariaDB.

Each is a SQLAlchemy construct with one ``@compiles`` rule per dialect, so the compiler builds the
same expression tree for every engine and the dialect decides the text at execution time.
Only portable SQL is emitted (no engine extensions), which keeps the path open to engines that
speak these dialects (Citus, openGauss, Greenplum; TiDB, OceanBase, Doris, StarRocks).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

MYSQL_FAMILY = ("mysql", "mariadb")
# Engines with an ordered-set / quantile aggregate; the others get the window-function fallback.
NATIVE_PERCENTILE = ("duckdb", "postgresql")


def has_native_percentile(dialect_name: str) -> bool:
    return dialect_name in NATIVE_PERCENTILE


class hours_between(FunctionElement[float]):  # noqa: N801 - reads like the SQL function it is
    """Elapsed hours from ``start`` to ``end`` (both timestamps), as a double."""

    type = sa.Double()
    inherit_cache = True
    name = "hours_between"


@compiles(hours_between)
def _hours_duckdb(element: hours_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(epoch({end}) - epoch({start})) / 3600.0"


@compiles(hours_between, "postgresql")
def _hours_postgresql(element: hours_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION) / 3600.0"


@compiles(hours_between, "mysql")
@compiles(hours_between, "mariadb")
def _hours_mysql(element: hours_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    # 3600e0 is an approximate literal, so MySQL computes in DOUBLE rather than DECIMAL.
    return f"TIMESTAMPDIFF(SECOND, {start}, {end}) / 3600e0"


class to_double(FunctionElement[float]):  # noqa: N801
    """Cast to double precision (MySQL cannot CAST to DOUBLE before 8.0.17: multiply by 1e0)."""

    type = sa.Double()
    inherit_cache = True
    name = "to_double"


@compiles(to_double)
def _double_default(element: to_double, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS DOUBLE)"


@compiles(to_double, "postgresql")
def _double_postgresql(element: to_double, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS DOUBLE PRECISION)"


@compiles(to_double, "mysql")
@compiles(to_double, "mariadb")
def _double_mysql(element: to_double, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)}) * 1e0"


class time_bucket(FunctionElement[Any]):  # noqa: N801
    """The DATE that starts the day, ISO week (Monday) or month a timestamp falls in."""

    type = sa.Date()
    inherit_cache = True
    name = "time_bucket"

    def __init__(self, grain: str, column: sa.ColumnElement[Any]) -> None:
        if grain not in ("day", "week", "month"):
            raise ValueError(f"unknown time grain {grain!r}")
        self.grain = grain
        super().__init__(column)


@compiles(time_bucket)
def _bucket_default(element: time_bucket, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"CAST(date_trunc('{element.grain}', {column}) AS DATE)"


@compiles(time_bucket, "mysql")
@compiles(time_bucket, "mariadb")
def _bucket_mysql(element: time_bucket, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    if element.grain == "day":
        return f"DATE({column})"
    if element.grain == "week":
        return f"DATE_SUB(DATE({column}), INTERVAL WEEKDAY({column}) DAY)"
    return f"DATE_SUB(DATE({column}), INTERVAL (DAYOFMONTH({column}) - 1) DAY)"


def percentile(dialect_name: str, quantile: float, value: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """Continuous percentile (linear interpolation) as an aggregate, where the engine has one."""
    if dialect_name == "duckdb":
        return sa.func.quantile_cont(value, sa.literal(quantile, sa.Double()))
    if dialect_name == "postgresql":
        return sa.func.percentile_cont(sa.literal(quantile, sa.Double())).within_group(value)
    raise NotImplementedError(f"{dialect_name} has no percentile aggregate; use the window fallback")


def percentile_from_ranks(
    quantile: float,
    value: sa.ColumnElement[Any],
    rank: sa.ColumnElement[Any],
    count: sa.ColumnElement[Any],
) -> sa.ColumnElement[Any]:
    """The window-function fallback: interpolate between the two ranked values around the quantile.

    Given, per row, its value, its 1-based rank among the group's non-null values and the group's
    count of non-null values n, the position is h = (n - 1) * q; the result is
    v[floor(h) + 1] * (1 - frac(h)) + v[floor(h) + 2] * frac(h) — the definition of PERCENTILE_CONT.
    """
    q: sa.ColumnElement[float] = sa.literal(quantile, sa.Double())
    position = (to_double(count) - 1) * q
    low = sa.func.floor(position)
    fraction = position - low
    weighted = sa.case(
        (value.is_(None), None),
        (rank == low + 1, value * (1 - fraction)),
        (rank == low + 2, value * fraction),
        else_=sa.literal(0.0, sa.Double()),
    )
    return sa.case((sa.func.max(count) == 0, None), else_=sa.func.sum(weighted))
