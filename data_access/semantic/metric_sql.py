"""The expressions of metric SQL: one metric definition, one SQL expression, whichever table it reads.

``compiler`` builds the SELECT on the facts; ``routed`` builds the same metrics over rollups and
open items; the rollup refresh builds its count columns. All three turn ``metric_defs`` into SQL
through ``MetricCompiler`` here, so a metric cannot mean two things on two paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from data_access.config.city import ThreeRates
from data_access.semantic.dialects import (
    has_native_percentile,
    hours_between,
    percentile,
    percentile_from_ranks,
    to_double,
)
from data_access.semantic.metric_defs import (
    Agg,
    All,
    AsOf,
    AtMost,
    Col,
    Cond,
    Done,
    Exceeds,
    Expr,
    HoursBetween,
    In,
    IsSet,
    IsTrue,
    Measure,
    Metric,
    NotDone,
    NotIn,
    Positive,
    Ratio,
    Simple,
    Weighted,
    WeightedSum,
)
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.model import time_column
from data_access.semantic.query import MetricRequest, RequestError


@dataclass
class MetricCompiler:
    """Builds the expressions of one request on one table for one dialect: metric SQL's one vocabulary.

    Public because three SELECT shapes share it: the facts (``compiler.compile_request``), the
    rollups and open items (``data_access.semantic.routed``) and the rollup refresh's count columns
    (``rollups.measures.live_sql``); each must turn a metric definition into the same SQL.
    """

    table: sa.Table
    request: MetricRequest
    rates: ThreeRates
    dialect: str
    measures: list[Measure] = field(default_factory=list)

    # -- row level -----------------------------------------------------------------------------
    def as_of(self) -> sa.ColumnElement[Any]:
        as_of = self.request.effective_as_of
        if as_of is None:
            raise RequestError("this request needs a time range or an as-of time")
        # An explicit CAST keeps the type when the SQL is rendered with literal values (snapshots,
        # the benchmark's engine floor): a bare '2026-03-01 00:00:00' is a string to DuckDB.
        return sa.cast(sa.literal(as_of, sa.DateTime()), sa.DateTime())

    def setting(self, value: float | str) -> sa.ColumnElement[Any]:
        number = float(getattr(self.rates, value)) if isinstance(value, str) else float(value)
        return sa.literal(number, sa.Double())

    def expr(self, expr: Expr) -> sa.ColumnElement[Any]:
        if isinstance(expr, Col):
            return self.table.c[expr.name]
        if isinstance(expr, AsOf):
            return self.as_of()
        if isinstance(expr, HoursBetween):
            end = self.as_of() if isinstance(expr.end, AsOf) else self.table.c[expr.end]
            return hours_between(self.table.c[expr.start], end)
        if isinstance(expr, Weighted):
            column = self.table.c[expr.column]
            whens = [(column == value, self.setting(weight)) for value, weight in expr.weights]
            return sa.case(*whens, else_=sa.literal(0.0, sa.Double()))
        raise TypeError(expr)

    def cond(self, cond: Cond) -> sa.ColumnElement[bool]:
        c = self.table.c
        if isinstance(cond, All):
            return sa.and_(*(self.cond(part) for part in cond.conditions))
        if isinstance(cond, In):
            return c[cond.column].in_(cond.values)
        if isinstance(cond, NotIn):
            return c[cond.column].not_in(cond.values)
        if isinstance(cond, IsSet):
            return c[cond.column].is_not(None)
        if isinstance(cond, IsTrue):
            return c[cond.column].is_(True)
        if isinstance(cond, Positive):
            return c[cond.column] > 0
        if isinstance(cond, Done):
            return sa.and_(c[cond.column].is_not(None), c[cond.column] <= self.as_of())
        if isinstance(cond, NotDone):
            return sa.or_(c[cond.column].is_(None), c[cond.column] > self.as_of())
        if isinstance(cond, AtMost):
            return self.expr(cond.left) <= self.expr(cond.right)
        if isinstance(cond, Exceeds):
            return self.expr(cond.left) > self.expr(cond.right)
        raise TypeError(cond)

    def row_value(self, measure: Measure, metric: Metric) -> sa.ColumnElement[Any]:
        """The per-row value a measure aggregates: NULL for rows outside its condition."""
        value: sa.ColumnElement[Any] = sa.literal(1) if measure.value is None else self.expr(measure.value)
        conditions = [] if measure.where is None else [self.cond(measure.where)]
        time_range = self.request.time_range
        if time_range is not None and self.has_snapshot() and not metric.snapshot:
            # The WHERE clause only bounds the end; period measures bound their own start.
            conditions.append(time_column(self.table) >= time_range.start)
        if not conditions:
            return value
        return sa.case((sa.and_(*conditions), value), else_=None)

    # -- aggregation: the one table mapping Agg to SQL -------------------------------------------
    def aggregate(
        self, agg: Agg, value: sa.ColumnElement[Any], rank: Any = None, count: Any = None
    ) -> sa.ColumnElement[Any]:
        if agg is Agg.COUNT:
            return sa.func.count(value)
        if agg is Agg.SUM:
            return sa.func.coalesce(sa.func.sum(value), 0)
        if agg is Agg.AVG:
            return sa.func.avg(value)
        quantile = agg.quantile
        assert quantile is not None
        if rank is None:
            return percentile(self.dialect, quantile, value)
        return percentile_from_ranks(quantile, value, rank, count)

    def has_snapshot(self) -> bool:
        return any(METRICS[name].snapshot for name in self.request.metrics)

    def needs_rank_fallback(self) -> bool:
        return not has_native_percentile(self.dialect) and any(
            measure.agg.quantile is not None for measure, _ in self.all_measures()
        )

    def all_measures(self) -> list[tuple[Measure, Metric]]:
        found: list[tuple[Measure, Metric]] = []
        for name in self.request.metrics:
            metric = METRICS[name]
            for part in self.formula_parts(metric):
                formula = part.formula
                measures = (
                    [formula.measure]
                    if isinstance(formula, Simple)
                    else ([formula.numerator, formula.denominator] if isinstance(formula, Ratio) else [])
                )
                found.extend((measure, part) for measure in measures)
        return found

    @staticmethod
    def formula_parts(metric: Metric) -> list[Metric]:
        if isinstance(metric.formula, WeightedSum):
            return [METRICS[name] for name, _ in metric.formula.parts]
        return [metric]


def metric_expression(
    builder: MetricCompiler, metric: Metric, measure_sql: dict[tuple[Measure, str], sa.ColumnElement[Any]]
) -> sa.ColumnElement[Any]:
    """A metric's value from its measures' aggregates (``measure_sql``, keyed by measure and metric name).

    Shared by every SELECT shape: the facts aggregate measures directly, a rollup sums count columns;
    the formula on top (ratio, weighted sum) must be the same expression either way.
    """
    formula = metric.formula
    if isinstance(formula, Simple):
        return measure_sql[(formula.measure, metric.name)]
    if isinstance(formula, Ratio):
        numerator = to_double(measure_sql[(formula.numerator, metric.name)])
        denominator = to_double(measure_sql[(formula.denominator, metric.name)])
        return numerator / sa.func.nullif(denominator, 0)
    terms = [
        builder.setting(weight) * metric_expression(builder, METRICS[name], measure_sql)
        for name, weight in formula.parts
    ]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def ordering(
    request: MetricRequest, dims: dict[str, sa.ColumnElement[Any]], metrics: dict[str, sa.ColumnElement[Any]]
) -> list[sa.ColumnElement[Any]]:
    """Explicit order first (NULLs last on every engine), then the dimensions for a stable result.

    Shared by every SELECT shape so a routed answer comes back in the same order as the facts'.
    """
    clauses: list[sa.ColumnElement[Any]] = []
    for item in request.order_by:
        expression = metrics.get(item.column)
        if expression is None:
            expression = dims.get(item.column)
        if expression is None:
            raise RequestError(f"cannot order by {item.column!r}: it is neither a requested metric nor dimension")
        clauses.append(sa.case((expression.is_(None), 1), else_=0))
        clauses.append(expression.desc() if item.descending else expression.asc())
    clauses.extend(expression.asc() for expression in dims.values())
    return clauses
