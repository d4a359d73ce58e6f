"""Which measures a daily rollup can hold, and the count column that holds each.

A rollup stores, per day and group, one row count per row condition a period metric counts. A
measure can be answered from a rollup when it is a (weighted) sum of such counts; a condition that
depends on the as-of time ("done by then") is exact only once the as-of time is past every
timestamp (the watermark), where it becomes ``IS [NOT] NULL`` (its *live* form). All of it is
derived from the metric registry, so a new count metric is rolled up without code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from data_access.config.city import ThreeRates
from data_access.semantic.metric_defs import (
    Agg,
    All,
    AsOf,
    AtMost,
    Cond,
    Done,
    Exceeds,
    Expr,
    HoursBetween,
    In,
    IsSet,
    Measure,
    Metric,
    NotDone,
    Ratio,
    Simple,
    Weighted,
    WeightedSum,
)
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.metric_sql import MetricCompiler
from data_access.semantic.query import MetricRequest


@dataclass(frozen=True)
class IsNull:
    """The column is NULL: what "not done" means once the as-of time is past every timestamp."""

    column: str


LiveCond = Cond | IsNull


def _expr_uses_as_of(expr: Expr) -> bool:
    return isinstance(expr, AsOf) or (isinstance(expr, HoursBetween) and isinstance(expr.end, AsOf))


def live_condition(cond: Cond) -> LiveCond | None:
    """The condition for as-of times past every timestamp (Done → IS NOT NULL); None if it needs the as-of."""
    if isinstance(cond, All):
        parts = [live_condition(part) for part in cond.conditions]
        if any(part is None for part in parts):
            return None
        return All(tuple(part for part in parts if part is not None))  # type: ignore[misc]
    if isinstance(cond, Done):
        return IsSet(cond.column)
    if isinstance(cond, NotDone):
        return IsNull(cond.column)
    if isinstance(cond, AtMost | Exceeds):
        return None if _expr_uses_as_of(cond.left) or _expr_uses_as_of(cond.right) else cond
    return cond


def depends_on_as_of(cond: Cond | None) -> bool:
    """Whether the condition's truth for a row changes with the as-of time."""
    if cond is None:
        return False
    if isinstance(cond, All):
        return any(depends_on_as_of(part) for part in cond.conditions)
    if isinstance(cond, Done | NotDone):
        return True
    if isinstance(cond, AtMost | Exceeds):
        return _expr_uses_as_of(cond.left) or _expr_uses_as_of(cond.right)
    return False


@dataclass(frozen=True)
class Term:
    """weight × (number of rows meeting ``where``); weight is a number or a setting's name."""

    weight: float | str
    where: Cond | None


def measure_terms(measure: Measure) -> tuple[Term, ...] | None:
    """A measure as a weighted sum of row counts, or None when it is not one (medians, averages)."""
    if measure.agg is Agg.COUNT and measure.value is None:
        return (Term(1.0, measure.where),)
    if measure.agg is Agg.SUM and isinstance(measure.value, Weighted):
        column = measure.value.column
        terms = []
        for value, weight in measure.value.weights:
            match = In(column, (value,))
            where: Cond = match if measure.where is None else All((measure.where, match))
            terms.append(Term(weight, where))
        return tuple(terms)
    return None


def metric_measures(metric: Metric) -> Iterator[Measure]:
    """Every measure a metric aggregates, the parts of a weighted sum included."""
    formula = metric.formula
    if isinstance(formula, Simple):
        yield formula.measure
    elif isinstance(formula, Ratio):
        yield formula.numerator
        yield formula.denominator
    elif isinstance(formula, WeightedSum):
        for part, _ in formula.parts:
            yield from metric_measures(METRICS[part])


def column_name(where: Cond | None) -> str:
    """A stable rollup column name for a row condition (its live form, hashed)."""
    if where is None:
        return "n_rows"
    return "n_" + hashlib.sha1(repr(live_condition(where)).encode()).hexdigest()[:12]


def rollup_conditions(fact: str) -> dict[str, Cond | None]:
    """Column name → row condition, for every countable condition of the table's period metrics."""
    found: dict[str, Cond | None] = {"n_rows": None}
    for metric in METRICS.values():
        if metric.table != fact or metric.snapshot:
            continue
        for measure in metric_measures(metric):
            for term in measure_terms(measure) or ():
                if term.where is None or live_condition(term.where) is not None:
                    found[column_name(term.where)] = term.where
    return found


def open_columns(fact: str) -> tuple[str, ...]:
    """The "not done" columns of the table's snapshot metrics: a row is open while one is NULL."""
    columns: list[str] = []
    for metric in METRICS.values():
        if metric.table != fact or not metric.snapshot:
            continue
        for measure in metric_measures(metric):
            column = top_not_done(measure.where)
            if column is not None and column not in columns:
                columns.append(column)
    return tuple(columns)


def top_not_done(cond: Cond | None) -> str | None:
    """The column of a top-level "not done" condition: the one the open-items table is keyed on."""
    if isinstance(cond, NotDone):
        return cond.column
    if isinstance(cond, All):
        for part in cond.conditions:
            if isinstance(part, NotDone):
                return part.column
    return None


def live_sql(table: sa.Table, cond: LiveCond) -> sa.ColumnElement[bool]:
    """A live condition as SQL on ``table`` (no as-of time in it: done-conditions became IS [NOT] NULL)."""
    if isinstance(cond, IsNull):
        return table.c[cond.column].is_(None)
    if isinstance(cond, All):
        return sa.and_(*(live_sql(table, part) for part in cond.conditions))
    any_metric = next(name for name, metric in METRICS.items() if metric.table == table.name)
    builder = MetricCompiler(table, MetricRequest(metrics=(any_metric,)), ThreeRates(), "duckdb")
    return builder.cond(cond)
