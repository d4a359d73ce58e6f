"""Compile a MetricRequest into ONE SQLAlchemy Core SELECT on its fact table — the home of scope and filters.

The shape is always: SELECT dimensions, metric expressions FROM <fact table> WHERE scope AND
filters AND time range GROUP BY dimensions [ORDER BY ...] [LIMIT n]. On engines without a
percentile aggregate (MySQL, MariaDB), percentile metrics need ranks, so the same SELECT is built
over a subquery that adds ROW_NUMBER()/COUNT() windows; see ``dialects.percentile_from_ranks``.
The metric expressions themselves are ``metric_sql``'s; the columns come from the semantic models.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from data_access.config.city import ThreeRates
from data_access.semantic.dialects import time_bucket
from data_access.semantic.metric_defs import Agg, Measure, Metric, Simple
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.metric_sql import MetricCompiler, metric_expression, ordering
from data_access.semantic.model import DIMENSION_COLUMNS, MODELS, model_of, time_column
from data_access.semantic.query import (
    REGION_DIMENSIONS,
    REGION_FILTER,
    TIME_GRAINS,
    MetricRequest,
    RequestError,
    Scope,
)


def metric_table(metric_names: tuple[str, ...]) -> sa.Table:
    """The one fact table all requested metrics live on (a request never spans tables)."""
    if not metric_names:
        raise RequestError("a request needs at least one metric")
    unknown = [name for name in metric_names if name not in METRICS]
    if unknown:
        raise RequestError(f"unknown metric(s): {', '.join(unknown)}")
    tables = {METRICS[name].table for name in metric_names}
    if len(tables) > 1:
        raise RequestError(f"metrics of different tables cannot share one request: {sorted(tables)}")
    return MODELS[tables.pop()].table


def dimension_expression(table: sa.Table, dimension: str) -> sa.ColumnElement[Any]:
    """A dimension as a column of ``table`` (a fact, rollup or open-items table), read from its semantic model."""
    if dimension in TIME_GRAINS:
        return time_bucket(dimension, time_column(table))
    if dimension not in DIMENSION_COLUMNS:
        raise RequestError(f"unknown dimension {dimension!r}")
    column = model_of(table).dimensions.get(dimension)
    if column is None or column not in table.c:
        raise RequestError(f"dimension {dimension!r} does not exist on {table.name}")
    return table.c[column]


def region_columns(table: sa.Table) -> list[sa.Column[Any]]:
    """The table's region code columns (a rollup holds only some levels; routing checks the codes' levels)."""
    dimensions = model_of(table).dimensions
    return [
        table.c[dimensions[level]]
        for level in REGION_DIMENSIONS
        if level in dimensions and dimensions[level] in table.c
    ]


def region_condition(table: sa.Table, codes: frozenset[str] | tuple[str, ...]) -> sa.ColumnElement[bool]:
    """Rows any of whose region codes (district, street, community, grid) is in ``codes``."""
    if not codes:
        return sa.false()
    ordered = sorted(codes)
    return sa.or_(*(column.in_(ordered) for column in region_columns(table)))


def scope_condition(table: sa.Table, scope: Scope) -> sa.ColumnElement[bool]:
    """Row-level access control: the single place it is applied to every metric query."""
    parts: list[sa.ColumnElement[bool]] = []
    if scope.departments is not None:
        departments = sorted(scope.departments)
        parts.append(table.c.department_code.in_(departments) if departments else sa.false())
    if scope.regions is not None:
        parts.append(region_condition(table, scope.regions))
    return sa.and_(sa.true(), *parts)


def base_conditions(table: sa.Table, request: MetricRequest) -> list[sa.ColumnElement[bool]]:
    """Scope and filters: what every query on this table must respect (metrics and detail rows)."""
    conditions = [scope_condition(table, request.scope)]
    for item in request.filters:
        if item.dimension == REGION_FILTER:
            conditions.append(region_condition(table, item.values))
        elif item.dimension in TIME_GRAINS:
            raise RequestError(f"filter on {item.dimension!r}: use the time range instead")
        else:
            column = dimension_expression(table, item.dimension)
            conditions.append(column.in_(sorted(item.values)) if item.values else sa.false())
    return conditions


def compile_request(
    request: MetricRequest, rates: ThreeRates, dialect: str, table: sa.Table | None = None
) -> sa.Select[Any]:
    """Turn a request into one SELECT for ``dialect`` ('duckdb', 'postgresql', 'mysql', 'mariadb').

    ``table`` replaces the fact table by a copy of the same columns (the open-items table of
    ``data_access.semantic.rollups.refresh``); by default the metrics' own fact table.
    """
    fact = metric_table(request.metrics)
    table = fact if table is None else table
    if request.limit is not None and request.limit <= 0:
        raise RequestError(f"limit must be positive, got {request.limit}")
    builder = MetricCompiler(table, request, rates, dialect)
    if builder.has_snapshot() and any(d in TIME_GRAINS for d in request.dimensions):
        raise RequestError("snapshot metrics (overdue open) cannot be split by day/week/month")

    dims = [(name, dimension_expression(table, name)) for name in dict.fromkeys(request.dimensions)]
    where = base_conditions(table, request)
    time_range = request.time_range
    times = time_column(table)
    if time_range is not None:
        if not builder.has_snapshot():
            where.append(times >= time_range.start)
        where.append(times < time_range.end)
    elif builder.has_snapshot():
        where.append(times < builder.as_of())

    measure_sql: dict[tuple[Measure, str], sa.ColumnElement[Any]] = {}
    measures = list(dict.fromkeys(builder.all_measures()))
    if builder.needs_rank_fallback():
        group_columns, source = _ranked_source(builder, dims, measures, where)
        for index, (measure, metric) in enumerate(measures):
            value = source.c[f"v{index}"]
            if measure.agg.quantile is not None:
                measure_sql[(measure, metric.name)] = builder.aggregate(
                    measure.agg, value, source.c[f"r{index}"], source.c[f"n{index}"]
                )
            else:
                measure_sql[(measure, metric.name)] = builder.aggregate(measure.agg, value)
        dim_columns = [column.label(name) for column, (name, _) in zip(group_columns, dims, strict=True)]
        statement = sa.select(*dim_columns).select_from(source).group_by(*group_columns)
        group_exprs: list[sa.ColumnElement[Any]] = list(group_columns)
    else:
        for measure, metric in measures:
            measure_sql[(measure, metric.name)] = builder.aggregate(measure.agg, builder.row_value(measure, metric))
        group_exprs = [expression for _, expression in dims]
        statement = sa.select(*(expression.label(name) for name, expression in dims)).select_from(table)
        statement = statement.where(*where).group_by(*group_exprs)

    metric_exprs = {name: metric_expression(builder, METRICS[name], measure_sql) for name in request.metrics}
    statement = statement.add_columns(*(expr.label(name) for name, expr in metric_exprs.items()))
    statement = statement.order_by(
        *ordering(request, dict(zip([n for n, _ in dims], group_exprs, strict=True)), metric_exprs)
    )
    if request.limit is not None:
        statement = statement.limit(request.limit)
    return statement


def _ranked_source(
    builder: MetricCompiler,
    dims: list[tuple[str, sa.ColumnElement[Any]]],
    measures: list[tuple[Measure, Metric]],
    where: list[sa.ColumnElement[bool]],
) -> tuple[list[sa.ColumnElement[Any]], sa.Subquery]:
    """Row-level subquery with each measure's value and, for percentiles, rank and group count."""
    partition = [expression for _, expression in dims]
    columns: list[sa.ColumnElement[Any]] = [expression.label(f"d{i}") for i, (_, expression) in enumerate(dims)]
    for index, (measure, metric) in enumerate(measures):
        value = builder.row_value(measure, metric)
        columns.append(value.label(f"v{index}"))
        if measure.agg.quantile is not None:
            null_last = sa.case((value.is_(None), 1), else_=0)
            columns.append(
                sa.func.row_number().over(partition_by=[*partition, null_last], order_by=value).label(f"r{index}")
            )
            columns.append(sa.func.count(value).over(partition_by=partition or None).label(f"n{index}"))
    source = sa.select(*columns).select_from(builder.table).where(*where).subquery("facts")
    return [source.c[f"d{i}"] for i in range(len(dims))], source


def compiled_sql(statement: sa.Select[Any], dialect: sa.Dialect) -> tuple[str, tuple[Any, ...]]:
    """SQL text and parameters as the engine will see them (the cache key; the SQL snapshots)."""
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    positions = compiled.positiontup
    ordered = tuple(params[name] for name in positions) if positions else tuple(sorted(params.items()))
    return str(compiled), ordered


def driver_params(dialect: sa.Dialect, params: tuple[Any, ...]) -> tuple[Any, ...] | dict[str, Any]:
    """``compiled_sql``'s parameters as the driver takes them: positional, or (name, value) pairs as a dict.

    The SQL text is sent as compiled once (``exec_driver_sql``): executing the statement again would
    rebuild its cache key on every call, milliseconds per query at the size of the rollup SELECTs.
    """
    return params if dialect.positional else dict(params)


def record_conditions(
    request: MetricRequest, rates: ThreeRates, dialect: str, table: sa.Table | None = None
) -> list[sa.ColumnElement[bool]]:
    """The WHERE clause of the records a request's one count metric counts (the cases behind a number).

    Scope, filters and time range exactly as ``compile_request`` applies them, plus the metric's own
    row condition, so a detail list of "超期未办结" holds exactly the rows the KPI counted. ``table``
    replaces the fact table by a copy of its columns (the open-items table), as in ``compile_request``.
    """
    if len(request.metrics) != 1:
        raise RequestError("the records behind a number come from one metric")
    metric = METRICS[request.metrics[0]]
    formula = metric.formula
    if not (isinstance(formula, Simple) and formula.measure.agg is Agg.COUNT):
        raise RequestError(f"{metric.name} is not a count: its records cannot be listed")
    table = metric_table(request.metrics) if table is None else table
    builder = MetricCompiler(table, request, rates, dialect)
    where = base_conditions(table, request)
    times = time_column(table)
    if request.time_range is not None:
        if not metric.snapshot:
            where.append(times >= request.time_range.start)
        where.append(times < request.time_range.end)
    elif metric.snapshot:
        where.append(times < builder.as_of())
    if formula.measure.where is not None:
        where.append(builder.cond(formula.measure.where))
    return where
