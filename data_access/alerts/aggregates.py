"""The SQL behind the early-warning engine (``data_access.alerts``): small aggregates, never fact rows.

The metric layer answers "a number for a period"; alerts need shapes it cannot express — daily
counts over a lookback window for baselines, counts of open items by how much of their time limit
is used, late shares by deadline, waiting intervals per workflow stage. Each function here builds
ONE SQLAlchemy Core SELECT whose WHERE clause starts from ``compiler.base_conditions``, so the
viewer's row-level scope is applied exactly as in every metric query, and returns a small polars
DataFrame of aggregated rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl
import sqlalchemy as sa

from data_access.contract import schema
from data_access.runtime.engine import existing_columns
from data_access.semantic.compiler import base_conditions, dimension_expression
from data_access.semantic.dialects import hours_between, time_bucket, to_double
from data_access.semantic.metric_registry import TIME_COLUMN
from data_access.semantic.query import EVERYTHING, MetricRequest, Scope

# A metric of each fact table: base_conditions needs a request, and a request names a metric.
_TABLE_METRIC: dict[str, str] = {
    "service_cases": "service_received",
    "complaints": "complaint_received",
    "grid_events": "grid_collected",
}


@dataclass(frozen=True)
class Clock:
    """How an open item of a fact table is timed: the clock's start, when it stops, its limit."""

    start: str  # timestamp column the limit counts from
    done: str  # timestamp column that stops the clock
    limit: str  # limit column, elapsed hours
    excluded_status: tuple[str, ...] = ()  # rows never counted as open (a rejected case)


CLOCKS: dict[str, Clock] = {
    "service_cases": Clock("submitted_at", "completed_at", "promised_limit_hours", ("不予受理",)),
    "complaints": Clock("received_at", "resolved_at", "time_limit_hours"),
    "grid_events": Clock("dispatched_at", "handled_at", "time_limit_hours"),
}


def fact_table(name: str) -> sa.Table:
    for table in schema.FACT_TABLES:
        if table.name == name:
            return table
    raise ValueError(f"unknown fact table {name!r}")


def scoped(table: sa.Table, scope: Scope) -> list[sa.ColumnElement[bool]]:
    """The scope conditions of the metric compiler, for a table (the one home of row-level scope)."""
    return base_conditions(table, MetricRequest(metrics=(_TABLE_METRIC[table.name],), scope=scope))


def _at(value: dt.datetime) -> sa.ColumnElement[Any]:
    # An explicit CAST, as in the compiler: a bare literal is a string to DuckDB when rendered.
    return sa.cast(sa.literal(value, sa.DateTime()), sa.DateTime())


def _frame(rows: list[sa.Row[Any]], columns: dict[str, pl.DataType]) -> pl.DataFrame:
    """The driver's rows as a frame of ``columns``, converted column by column in polars.

    Drivers differ in what they return: a day as a datetime (DuckDB's time buckets) or a date, a sum
    as a Decimal (PostgreSQL, MySQL) or an int. Polars takes each column as it comes and casts it
    to its type (datetime → date keeps the day). Converting value by value in Python instead was
    about a quarter of a city-wide alert refresh at scale 30 (a stalled-stage query returns about a
    million groups).
    """
    if not rows:
        return pl.DataFrame(schema=columns)
    raw = pl.DataFrame({name: [row[index] for row in rows] for index, name in enumerate(columns)}, strict=False)
    return raw.with_columns(pl.col(name).cast(dtype) for name, dtype in columns.items())


def _run(engine: sa.Engine, statement: sa.Select[Any], columns: dict[str, pl.DataType]) -> pl.DataFrame:
    with engine.connect() as connection:
        rows = list(connection.execute(statement))
    return _frame(rows, columns)


def daily_counts(
    engine: sa.Engine,
    table_name: str,
    dimensions: tuple[str, ...],
    start: dt.datetime,
    end: dt.datetime,
    scope: Scope = EVERYTHING,
) -> pl.DataFrame:
    """Records per day (of the table's time column) and dimensions, in [start, end); only non-zero rows."""
    table = fact_table(table_name)
    time_column = table.c[TIME_COLUMN[table_name]]
    day = dimension_expression(table, "day")
    dims = [dimension_expression(table, name).label(name) for name in dimensions]
    statement = (
        sa.select(day.label("day"), *dims, sa.func.count().label("n"))
        .where(*scoped(table, scope), time_column >= _at(start), time_column < _at(end))
        .group_by(day, *(dimension_expression(table, name) for name in dimensions))
    )
    columns: dict[str, pl.DataType] = {"day": pl.Date(), **{name: pl.String() for name in dimensions}, "n": pl.Int64()}
    return _run(engine, statement, columns)


def deadline_counts(
    engine: sa.Engine, table_name: str, as_of: dt.datetime, warn_share: float, scope: Scope = EVERYTHING
) -> pl.DataFrame:
    """Open items per department and district at ``as_of``: overdue, and near due (≥ warn_share of the limit used).

    "Open" follows the overdue snapshot metrics (``*_overdue_open``): the clock has started by
    ``as_of`` and has not stopped by then; the overdue column equals those metrics.
    """
    table = fact_table(table_name)
    clock = CLOCKS[table_name]
    c = table.c
    at = _at(as_of)
    elapsed = hours_between(c[clock.start], at)
    limit = to_double(c[clock.limit])
    conditions = [
        *scoped(table, scope),
        c[TIME_COLUMN[table_name]] < at,
        c[clock.start].is_not(None),
        c[clock.start] <= at,
        sa.or_(c[clock.done].is_(None), c[clock.done] > at),
    ]
    if clock.excluded_status:
        conditions.append(c.status.not_in(clock.excluded_status))
    overdue = sa.func.sum(sa.case((elapsed > limit, 1), else_=0))
    warn: sa.ColumnElement[float] = sa.literal(warn_share, sa.Double()) * limit
    near = sa.func.sum(sa.case((sa.and_(elapsed > warn, elapsed <= limit), 1), else_=0))
    statement = (
        sa.select(
            c.department_code.label("department"),
            c.district_code.label("district"),
            sa.func.count().label("open"),
            overdue.label("overdue"),
            near.label("due_soon"),
        )
        .where(*conditions)
        .group_by(c.department_code, c.district_code)
        .order_by(c.department_code, c.district_code)
    )
    columns: dict[str, pl.DataType] = {
        "department": pl.String(),
        "district": pl.String(),
        "open": pl.Int64(),
        "overdue": pl.Int64(),
        "due_soon": pl.Int64(),
    }
    return _run(engine, statement, columns).with_columns(pl.col("overdue", "due_soon").cast(pl.Int64))


def late_groups(
    engine: sa.Engine,
    table_name: str,
    check_share: float,
    start: dt.datetime,
    end: dt.datetime,
    scope: Scope = EVERYTHING,
) -> pl.DataFrame:
    """Per department, day the clock started and time limit: items, and items still open at check_share of the limit.

    An item is *late* when its clock had not stopped after ``check_share`` × limit hours (1.0 = it
    went overdue). Whether an item is late is settled once that moment has passed, so grouping by
    start day and limit lets the caller use only the groups that were settled at each evaluation time.
    """
    table = fact_table(table_name)
    clock = CLOCKS[table_name]
    c = table.c
    limit = to_double(c[clock.limit])
    spent = hours_between(c[clock.start], c[clock.done])
    late = sa.case((sa.or_(c[clock.done].is_(None), spent > sa.literal(check_share, sa.Double()) * limit), 1), else_=0)
    start_day = _day_of(table, clock.start)
    conditions = [*scoped(table, scope), c[clock.start] >= _at(start), c[clock.start] < _at(end)]
    if clock.excluded_status:
        conditions.append(c.status.not_in(clock.excluded_status))
    statement = (
        sa.select(
            c.department_code.label("department"),
            start_day.label("day"),
            c[clock.limit].label("limit_hours"),
            sa.func.count().label("n"),
            sa.func.sum(late).label("late"),
        )
        .where(*conditions)
        .group_by(c.department_code, start_day, c[clock.limit])
    )
    columns: dict[str, pl.DataType] = {
        "department": pl.String(),
        "day": pl.Date(),
        "limit_hours": pl.Float64(),
        "n": pl.Int64(),
        "late": pl.Int64(),
    }
    return _run(engine, statement, columns).with_columns(pl.col("late").cast(pl.Int64))


def _day_of(table: sa.Table, column: str) -> sa.ColumnElement[Any]:
    return time_bucket("day", table.c[column])


def stage_waits(
    engine: sa.Engine,
    stages: tuple[str, ...],
    region_dimension: str,
    start: dt.datetime,
    end: dt.datetime,
    scope: Scope = EVERYTHING,
    exclude_side_states: tuple[str, ...] = ("挂账",),
) -> pl.DataFrame:
    """Grid events waiting in a workflow stage: per region, stage, day they entered it and day they left it.

    An event waits in stage k from the timestamp of stage k-1 until stage k's timestamp (NULL: still
    waiting). Only waits that overlap [start, end) are counted. Parked events (挂账) are a known
    long-term state, not a stall, and are left out by default.
    """
    table = schema.grid_events
    c = table.c
    workflow = dict(schema.GRID_WORKFLOW)
    keys = [key for key, _ in schema.GRID_WORKFLOW]
    region = dimension_expression(table, region_dimension)
    selects: list[sa.Select[Any]] = []
    for stage in stages:
        previous = workflow[keys[keys.index(stage) - 1]]
        column = workflow[stage]
        entered = _day_of(table, previous)
        left = _day_of(table, column)
        conditions = [
            *scoped(table, scope),
            c[previous].is_not(None),
            c[previous] < _at(end),
            sa.or_(c[column].is_(None), c[column] >= _at(start)),
        ]
        if exclude_side_states:
            conditions.append(sa.or_(c.side_state.is_(None), c.side_state.not_in(exclude_side_states)))
        selects.append(
            sa.select(
                region.label("region"),
                sa.literal(stage).label("stage"),
                entered.label("entered"),
                left.label("left"),
                sa.func.count().label("n"),
            )
            .where(*conditions)
            .group_by(region, entered, left)
        )
    if not selects:
        raise ValueError("stage_waits needs at least one stage")
    statement: Any = sa.union_all(*selects) if len(selects) > 1 else selects[0]
    columns: dict[str, pl.DataType] = {
        "region": pl.String(),
        "stage": pl.String(),
        "entered": pl.Date(),
        "left": pl.Date(),
        "n": pl.Int64(),
    }
    with engine.connect() as connection:
        rows = list(connection.execute(statement))
    return _frame(rows, columns)


def repeat_counts(
    engine: sa.Engine,
    region_dimension: str,
    category_dimension: str,
    start: dt.datetime,
    end: dt.datetime,
    scope: Scope = EVERYTHING,
) -> pl.DataFrame:
    """Repeat tickets (``repeat_of`` set) per region, category, address and day, and the earliest original's day."""
    table = schema.complaints
    c = table.c
    original = schema.complaints.alias("original")
    region = dimension_expression(table, region_dimension)
    category = dimension_expression(table, category_dimension)
    day = dimension_expression(table, "day")
    first = sa.func.min(original.c.received_at)
    statement = (
        sa.select(
            region.label("region"),
            category.label("category"),
            c.address.label("address"),
            day.label("day"),
            sa.func.count().label("n"),
            first.label("first_original"),
        )
        .select_from(table.outerjoin(original, c.repeat_of == original.c.ticket_id))
        .where(
            *scoped(table, scope),
            c.repeat_of.is_not(None),
            c.received_at >= _at(start),
            c.received_at < _at(end),
        )
        .group_by(region, category, c.address, day)
    )
    columns: dict[str, pl.DataType] = {
        "region": pl.String(),
        "category": pl.String(),
        "address": pl.String(),
        "day": pl.Date(),
        "n": pl.Int64(),
        "first_original": pl.Date(),
    }
    return _run(engine, statement, columns)


def region_index(engine: sa.Engine) -> pl.DataFrame:
    """code, name, level, parent_code of every region (a small dimension, read whole)."""
    r = schema.regions.c
    statement = sa.select(r.code, r.name, r.level, r.parent_code).order_by(r.code)
    columns: dict[str, pl.DataType] = {
        "code": pl.String(),
        "name": pl.String(),
        "level": pl.String(),
        "parent_code": pl.String(),
    }
    return _run(engine, statement, columns)


def department_names(engine: sa.Engine) -> dict[str, tuple[str, str]]:
    """Department code → (Chinese name, English name or the Chinese one)."""
    d = schema.departments.c
    with engine.connect() as connection:
        rows = connection.execute(sa.select(d.code, d.name, d.name_en))
        return {code: (name, name_en or name) for code, name, name_en in rows}


def category_index(engine: sa.Engine) -> pl.DataFrame:
    """code, name, parent_code of every category (a small dimension, read whole)."""
    k = schema.categories.c
    statement = sa.select(k.code, k.name, k.parent_code).order_by(k.code)
    columns: dict[str, pl.DataType] = {"code": pl.String(), "name": pl.String(), "parent_code": pl.String()}
    return _run(engine, statement, columns)


def injected_anomalies(engine: sa.Engine) -> pl.DataFrame:
    """The demo generator's ground truth (``demo_anomalies``); empty when the table is absent."""
    columns: dict[str, pl.DataType] = {
        "id": pl.Int64(),
        "kind": pl.String(),
        "region_code": pl.String(),
        "department_code": pl.String(),
        "category_code": pl.String(),
        "start_at": pl.Datetime(),
        "end_at": pl.Datetime(),
        "note": pl.String(),
    }
    if schema.demo_anomalies.name not in existing_columns(engine):
        return pl.DataFrame(schema=columns)
    a = schema.demo_anomalies.c
    statement = sa.select(
        a.id, a.kind, a.region_code, a.department_code, a.category_code, a.start_at, a.end_at, a.note
    ).order_by(a.start_at, a.id)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(statement)]
    return pl.DataFrame(rows, schema=columns, orient="row")
