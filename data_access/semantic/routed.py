"""Compile a ``RoutePlan`` (``rollups.routing``) into one SELECT: the compiler's half of routing.

The router decides which source answers each metric; this module builds the SQL of each source
with the same expressions as the facts' (``metric_sql``) and joins them: a rollup part sums the
rollup's complete days and the facts' partial edge days; an open part counts the open-items copy
plus, for a past as-of time, the rows finished after it; a fact part is ``compile_request``'s.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa

from data_access.config.city import ThreeRates
from data_access.semantic.compiler import base_conditions, compile_request, dimension_expression, metric_table
from data_access.semantic.metric_defs import Cond, Measure, Metric
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.metric_sql import MetricCompiler, metric_expression, ordering
from data_access.semantic.model import time_column
from data_access.semantic.query import MetricRequest
from data_access.semantic.rollups.measures import column_name, measure_terms, metric_measures, top_not_done
from data_access.semantic.rollups.refresh import RollupState
from data_access.semantic.rollups.routing import RoutePart, RoutePlan, midnight_down, midnight_up, plan_route


def compile_routed(
    request: MetricRequest, rates: ThreeRates, dialect: str, state: RollupState | None
) -> sa.Select[Any]:
    """The request as one SELECT, reading rollups and open items where they answer exactly."""
    on_facts = compile_request(request, rates, dialect)  # validates the request, whatever the route
    if state is None:
        return on_facts
    plan = plan_route(request, state)
    return on_facts if plan.on_facts else compile_plan(plan, request, rates, dialect)


def compile_plan(plan: RoutePlan, request: MetricRequest, rates: ThreeRates, dialect: str) -> sa.Select[Any]:
    """One SELECT reading each part of the plan: a part's own SELECT, or one row per part joined."""
    selects: list[sa.Select[Any]] = []
    for route in plan.parts:
        part = dataclasses.replace(request, metrics=route.metrics)
        if route.source == "fact":
            selects.append(compile_request(part, rates, dialect))
        elif route.source == "open":
            selects.append(_open_select(part, rates, dialect, route))
        else:
            selects.append(_rollup_select(part, rates, dialect, route.table))
    if len(selects) == 1:
        return selects[0]
    # One row each (no dimensions): joined on a constant, which every engine plans as a cross join.
    subqueries = [select.add_columns(sa.literal(1).label("one")).subquery(f"s{i}") for i, select in enumerate(selects)]
    where_is = {
        name: subquery for subquery, route in zip(subqueries, plan.parts, strict=True) for name in route.metrics
    }
    joined: Any = subqueries[0]
    for subquery in subqueries[1:]:
        joined = joined.join(subquery, subquery.c.one == subqueries[0].c.one)
    return sa.select(*(where_is[name].c[name] for name in request.metrics)).select_from(joined)


def _rollup_select(request: MetricRequest, rates: ThreeRates, dialect: str, rollup: sa.Table) -> sa.Select[Any]:
    """Complete days from the rollup plus the partial edge days from the facts, summed per group."""
    fact = metric_table(request.metrics)
    assert request.time_range is not None
    start, end = request.time_range.start, request.time_range.end
    first_day, last_day = midnight_up(start), midnight_down(end)
    builder = MetricCompiler(fact, request, rates, dialect)
    measures = list(dict.fromkeys(builder.all_measures()))
    columns: dict[str, Cond | None] = {}
    for measure, _ in measures:
        for term in measure_terms(measure) or ():
            columns[column_name(term.where)] = term.where
    dims = list(dict.fromkeys(request.dimensions))

    rolled = [dimension_expression(rollup, name).label(f"d{i}") for i, name in enumerate(dims)]
    day = time_column(rollup)
    parts: list[sa.Select[Any]] = [
        sa.select(*rolled, *(sa.func.sum(rollup.c[name]).label(name) for name in columns))
        .where(*base_conditions(rollup, request), day >= first_day, day < last_day)
        .group_by(*(dimension_expression(rollup, name) for name in dims))
    ]
    edges = []
    times = time_column(fact)
    if start < first_day:
        edges.append(sa.and_(times >= start, times < first_day))
    if last_day < end:
        edges.append(sa.and_(times >= last_day, times < end))
    if edges:
        counts = [
            (sa.func.count() if where is None else sa.func.count(sa.case((builder.cond(where), 1), else_=None))).label(
                name
            )
            for name, where in columns.items()
        ]
        parts.append(
            sa.select(*(dimension_expression(fact, name).label(f"d{i}") for i, name in enumerate(dims)), *counts)
            .where(*base_conditions(fact, request), sa.or_(*edges))
            .group_by(*(dimension_expression(fact, name) for name in dims))
        )
    source = (parts[0] if len(parts) == 1 else sa.union_all(*parts)).subquery("parts")

    measure_sql = _summed_measures(builder, measures, source)
    group = [source.c[f"d{i}"] for i in range(len(dims))]
    metric_exprs = {name: metric_expression(builder, METRICS[name], measure_sql) for name in request.metrics}
    statement = sa.select(*(column.label(name) for column, name in zip(group, dims, strict=True)))
    statement = statement.add_columns(*(expr.label(name) for name, expr in metric_exprs.items()))
    statement = statement.select_from(source).group_by(*group)
    statement = statement.order_by(*ordering(request, dict(zip(dims, group, strict=True)), metric_exprs))
    if request.limit is not None:
        statement = statement.limit(request.limit)
    return statement


def _summed_measures(
    builder: MetricCompiler, measures: list[tuple[Measure, Metric]], source: sa.Subquery
) -> dict[tuple[Measure, str], sa.ColumnElement[Any]]:
    """Each measure as the (weighted) sum of the count columns of ``source`` (rollup days and edge days)."""

    def total(name: str) -> sa.ColumnElement[Any]:
        return sa.func.coalesce(sa.func.sum(source.c[name]), 0)

    measure_sql: dict[tuple[Measure, str], sa.ColumnElement[Any]] = {}
    for measure, metric in measures:
        terms = measure_terms(measure) or ()
        if len(terms) == 1 and terms[0].weight == 1.0:
            measure_sql[(measure, metric.name)] = sa.cast(total(column_name(terms[0].where)), sa.BigInteger)
            continue
        expression: sa.ColumnElement[Any] | None = None
        for term in terms:
            part = builder.setting(term.weight) * total(column_name(term.where))
            expression = part if expression is None else expression + part
        assert expression is not None
        measure_sql[(measure, metric.name)] = expression
    return measure_sql


def _group_skeleton(request: MetricRequest, groups: sa.Table | None) -> list[tuple[tuple[str, ...], sa.Select[Any]]]:
    """Every group the facts would show, with nothing counted: rollup days before the as-of day, facts after.

    A snapshot on the facts scans every row received before the as-of time, so a district with
    nothing overdue still appears with 0; the open items alone would leave it out.
    """
    assert groups is not None
    fact = metric_table(request.metrics)
    # the same bound compile_request puts on a snapshot: the range's end, else the as-of time
    end = request.time_range.end if request.time_range is not None else request.effective_as_of
    assert end is not None
    day = midnight_down(end)
    dims = list(dict.fromkeys(request.dimensions))
    found: list[tuple[tuple[str, ...], sa.Select[Any]]] = []
    edge = sa.and_(time_column(fact) >= day, time_column(fact) < end)
    # a group exists before that day iff its first day is before it
    for table, times in ((groups, time_column(groups) < day), (fact, edge)):
        exprs = [dimension_expression(table, name) for name in dims]
        select = sa.select(*(e.label(name) for e, name in zip(exprs, dims, strict=True)), sa.literal(0).label("none"))
        found.append(((), select.where(*base_conditions(table, request), times).group_by(*exprs)))
    return found


def _open_select(request: MetricRequest, rates: ThreeRates, dialect: str, route: RoutePart) -> sa.Select[Any]:
    """Snapshot counts at the as-of time: open items, plus the rows finished after it (none when live).

    A row is not done at time T when its done column is NULL (it is in the open-items copy) or
    later than T (it is in the facts, found by that column): two disjoint sets, summed.
    """
    fact = metric_table(request.metrics)
    opened, live = route.table, route.live
    done_columns = {
        top_not_done(measure.where) for name in request.metrics for measure in metric_measures(METRICS[name])
    }
    parts = []
    for column in sorted(c for c in done_columns if c is not None):
        names = tuple(
            name
            for name in request.metrics
            if {top_not_done(m.where) for m in metric_measures(METRICS[name])} == {column}
        )
        part = dataclasses.replace(request, metrics=names, order_by=())
        parts.append((names, compile_request(part, rates, dialect, table=opened).where(opened.c[column].is_(None))))
        if not live:
            as_of = request.effective_as_of
            later = compile_request(part, rates, dialect).where(fact.c[column] > as_of)
            parts.append((names, later))
    dims = list(dict.fromkeys(request.dimensions))
    if dims:
        parts.extend(_group_skeleton(request, route.groups))
    rows = []
    for names, select in parts:
        labelled = select.order_by(None).subquery()
        rows.append(
            sa.select(
                *(labelled.c[name] for name in dims),
                *(labelled.c[name] if name in names else sa.literal(0).label(name) for name in request.metrics),
            )
        )
    source = sa.union_all(*rows).subquery("snapshot") if len(rows) > 1 else rows[0].subquery("snapshot")
    group = [source.c[name] for name in dims]
    totals: dict[str, sa.ColumnElement[Any]] = {
        name: sa.cast(sa.func.coalesce(sa.func.sum(source.c[name]), 0), sa.BigInteger) for name in request.metrics
    }
    statement = sa.select(*(source.c[name].label(name) for name in dims))
    statement = statement.add_columns(*(expr.label(name) for name, expr in totals.items())).select_from(source)
    statement = statement.group_by(*group).order_by(*ordering(request, dict(zip(dims, group, strict=True)), totals))
    return statement
