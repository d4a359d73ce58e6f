"""Distributions of durations, counted in the database: how many records took how long.

A histogram request names a clock (start and stop columns), bin edges in hours — or, with
``per_limit``, in multiples of each record's own limit (0.5 = half the promised time used) — and
optionally a dimension to split by. The records are the ones a count metric counts (the same
scope, filters, time range and condition as the metric layer: ``compiler.record_conditions``)
whose stop is set by the as-of time. One GROUP BY query; only the bin counts come back.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import sqlalchemy as sa

from data_access.config.city import ThreeRates
from data_access.runtime.cache import RESULTS, ResultCache
from data_access.semantic.cached_select import cached_select
from data_access.semantic.compiler import compiled_sql, dimension_expression, record_conditions
from data_access.semantic.dialects import hours_between, to_double
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.model import MODELS
from data_access.semantic.query import EVERYTHING, Filter, MetricRequest, RequestError, Scope, TimeRange


@dataclass(frozen=True)
class HistogramRequest:
    """Counts of ``metric``'s records by bin of hours ``start``→``stop`` (÷ ``per_limit`` when given)."""

    metric: str
    start: str
    stop: str
    edges: tuple[float, ...]
    per_limit: str | None = None
    by: str | None = None
    filters: tuple[Filter, ...] = ()
    time_range: TimeRange | None = None
    as_of: dt.datetime | None = None
    scope: Scope = field(default=EVERYTHING)

    def metric_request(self) -> MetricRequest:
        return MetricRequest(
            metrics=(self.metric,), filters=self.filters, time_range=self.time_range, as_of=self.as_of, scope=self.scope
        )


def bin_labels(edges: tuple[float, ...], unit: str = "h") -> list[str]:
    """``<e1``, ``e1–e2``, …, ``≥en``: one label per bin (len(edges) + 1), edges printed compactly."""

    def number(value: float) -> str:
        return f"{value:g}"

    labels = [f"<{number(edges[0])}{unit}"]
    labels += [f"{number(low)}–{number(high)}{unit}" for low, high in itertools.pairwise(edges)]
    labels.append(f"≥{number(edges[-1])}{unit}")
    return labels


def histogram_statement(request: HistogramRequest, rates: ThreeRates, dialect: str) -> sa.Select[Any]:
    metric = METRICS.get(request.metric)
    if metric is None:
        raise RequestError(f"unknown metric {request.metric!r}")
    table = MODELS[metric.table].table
    for column in (request.start, request.stop, *([request.per_limit] if request.per_limit else [])):
        if column not in table.c:
            raise RequestError(f"{table.name} has no column {column!r}")
    edges = request.edges
    if not edges or any(b <= a for a, b in itertools.pairwise(edges)):
        raise RequestError(f"histogram edges must be increasing, got {edges}")
    where = record_conditions(request.metric_request(), rates, dialect)
    as_of = request.metric_request().effective_as_of
    moment = sa.cast(sa.literal(as_of, sa.DateTime()), sa.DateTime())
    start, stop = table.c[request.start], table.c[request.stop]
    where += [start.is_not(None), stop.is_not(None), stop <= moment]
    value: sa.ColumnElement[Any] = hours_between(start, stop)
    if request.per_limit:
        limit = table.c[request.per_limit]
        where.append(limit > 0)
        value = to_double(value) / limit
    bucket = sa.case(
        *((value < sa.literal(edge, sa.Double()), index) for index, edge in enumerate(edges)), else_=len(edges)
    )
    columns: list[sa.ColumnElement[Any]] = []
    groups: list[sa.ColumnElement[Any]] = []
    if request.by:
        dimension = dimension_expression(table, request.by)
        columns.append(dimension.label(request.by))
        groups.append(dimension)
    columns += [bucket.label("bin"), sa.func.count().label("count")]
    return sa.select(*columns).where(*where).group_by(*groups, bucket).order_by(*groups, bucket)


def histogram(
    engine: sa.Engine,
    request: HistogramRequest,
    rates: ThreeRates | None = None,
    *,
    cache: ResultCache[pl.DataFrame] | None = RESULTS,
    ttl_seconds: float | None = None,
    version: str | None = None,
) -> pl.DataFrame:
    """Columns ``[by,] bin, count``; every bin present (zero-filled) for every group seen."""
    statement, sql, params = _compiled(request, rates or ThreeRates(), engine.dialect)
    names = [*([request.by] if request.by else []), "bin", "count"]
    types: dict[str, pl.DataType] = {name: pl.String() for name in names[:-2]}
    types.update({"bin": pl.Int64(), "count": pl.Int64()})
    keys = [*([request.by] if request.by else []), "bin"]

    def shape(rows: list[sa.Row[Any]]) -> pl.DataFrame:
        found = pl.DataFrame([tuple(row) for row in rows], schema=types, orient="row")
        bins = pl.DataFrame({"bin": list(range(len(request.edges) + 1))}, schema={"bin": pl.Int64()})
        frame = found.select(request.by).unique().join(bins, how="cross") if request.by else bins
        return frame.join(found, on=keys, how="left").with_columns(pl.col("count").fill_null(0)).sort(keys)

    return cached_select(engine, statement, shape, cache, ttl_seconds, compiled=(sql, params), version=version)


@functools.lru_cache(maxsize=512)
def _compiled(
    request: HistogramRequest, rates: ThreeRates, dialect: sa.Dialect
) -> tuple[sa.Select[Any], str, tuple[Any, ...]]:
    statement = histogram_statement(request, rates, dialect.name)
    return (statement, *compiled_sql(statement, dialect))
