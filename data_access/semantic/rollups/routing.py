"""Compile a request on the aggregates of ``rollups.refresh`` where they give the exact same answer.

Each metric of a request goes to one source:

* **rollup** — period metrics made of row counts (counts, ratios of counts, 三率 sums) when a daily
  rollup covers the request's dimensions, filters and scope, and the as-of time is past the
  watermark or the counts do not depend on it; the complete days come from the rollup, the partial
  first and last day from the facts, in one ``UNION ALL`` summed per group;
* **open** — snapshot metrics (overdue open) when the as-of time is past the watermark: the
  open-items copy holds every row they can count;
* **fact** — everything else (medians, past as-of times of done-conditions, uncovered dimensions),
  compiled by ``compile_request`` exactly as without rollups.

A request whose metrics go to several sources is one SELECT over the sources' subqueries (cross
joined: only requests without dimensions are split; others with mixed sources stay on the facts).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa

from data_access.config.city import ThreeRates
from data_access.semantic.compiler import (
    _metric_expression,
    _MetricCompiler,
    _ordering,
    base_conditions,
    compile_request,
    dimension_expression,
    metric_table,
    time_column,
)
from data_access.semantic.metric_defs import Cond, Measure, Metric
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.query import DIMENSION_COLUMNS, REGION_FILTER, TIME_GRAINS, MetricRequest
from data_access.semantic.rollups.refresh import (
    GROUPS,
    OPEN_TABLES,
    ROLLUPS,
    RollupState,
    Term,
    column_name,
    depends_on_as_of,
    live_condition,
    measure_terms,
    metric_measures,
    top_not_done,
)


def _is_live(request: MetricRequest, fact: str, state: RollupState) -> bool:
    as_of = request.effective_as_of
    if as_of is None or fact not in state.watermarks:
        return False
    watermark = state.watermarks[fact]
    return watermark is None or as_of >= watermark


def _countable(metric: Metric, live: bool) -> bool:
    """Every measure is a sum of row counts whose conditions the rollup holds for this as-of time."""
    for measure in metric_measures(metric):
        terms = measure_terms(measure)
        if terms is None:
            return False
        for term in terms:
            if term.where is None:
                continue
            if live and live_condition(term.where) is None:
                return False
            if not live and depends_on_as_of(term.where):
                return False
    return True


def _region_codes(request: MetricRequest) -> list[str]:
    codes = [code for item in request.filters if item.dimension == REGION_FILTER for code in item.values]
    if request.scope.regions is not None:
        codes.extend(request.scope.regions)
    return codes


def covers(table: sa.Table, request: MetricRequest, state: RollupState) -> bool:
    """Whether the rollup holds every column the request's dimensions, filters and scope read."""
    fact = str(table.info["fact"])

    def has(dimension: str) -> bool:
        column = DIMENSION_COLUMNS.get(dimension, {}).get(fact)
        return dimension in TIME_GRAINS or (column is not None and column in table.c)

    if not all(has(dimension) for dimension in request.dimensions):
        return False
    if not all(has(item.dimension) for item in request.filters if item.dimension != REGION_FILTER):
        return False
    if request.scope.departments is not None and not has("department"):
        return False
    for code in _region_codes(request):
        level = state.region_levels.get(code)
        if level is None:
            return False
        column = DIMENSION_COLUMNS[level].get(fact)
        if column is not None and column not in table.c:
            return False
    return True


def _midnight_up(moment: dt.datetime) -> dt.datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day if day == moment else day + dt.timedelta(days=1)


def _midnight_down(moment: dt.datetime) -> dt.datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _pick_rollup(request: MetricRequest, fact: str, state: RollupState) -> sa.Table | None:
    if request.time_range is None:
        return None
    if _midnight_up(request.time_range.start) >= _midnight_down(request.time_range.end):
        return None  # no complete day: the facts alone are as fast
    return _covering_rollup(request, fact, state)


def _rollup_select(request: MetricRequest, rates: ThreeRates, dialect: str, rollup: sa.Table) -> sa.Select[Any]:
    """Complete days from the rollup plus the partial edge days from the facts, summed per group."""
    fact = metric_table(request.metrics)
    assert request.time_range is not None
    start, end = request.time_range.start, request.time_range.end
    first_day, last_day = _midnight_up(start), _midnight_down(end)
    builder = _MetricCompiler(fact, request, rates, dialect)
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

    group = [source.c[f"d{i}"] for i in range(len(dims))]
    metric_exprs = {name: _metric_expression(builder, METRICS[name], measure_sql) for name in request.metrics}
    statement = sa.select(*(column.label(name) for column, name in zip(group, dims, strict=True)))
    statement = statement.add_columns(*(expr.label(name) for name, expr in metric_exprs.items()))
    statement = statement.select_from(source).group_by(*group)
    statement = statement.order_by(*_ordering(request, dict(zip(dims, group, strict=True)), metric_exprs))
    if request.limit is not None:
        statement = statement.limit(request.limit)
    return statement


def _open_answers(metric: Metric, request: MetricRequest) -> bool:
    """Snapshot counts with a top-level "not done" column the open-items table is keyed on."""
    if metric.table not in OPEN_TABLES or request.limit is not None:
        return False
    measures = list(metric_measures(metric))
    return all(measure_terms(m) == (Term(1.0, m.where),) and top_not_done(m.where) for m in measures)


def _group_skeleton(request: MetricRequest, rollup: sa.Table | None) -> list[tuple[tuple[str, ...], sa.Select[Any]]]:
    """Every group the facts would show, with nothing counted: rollup days before the as-of day, facts after.

    A snapshot on the facts scans every row received before the as-of time, so a district with
    nothing overdue still appears with 0; the open items alone would leave it out.
    """
    assert rollup is not None
    fact = metric_table(request.metrics)
    # the same bound compile_request puts on a snapshot: the range's end, else the as-of time
    end = request.time_range.end if request.time_range is not None else request.effective_as_of
    assert end is not None
    day = _midnight_down(end)
    dims = list(dict.fromkeys(request.dimensions))
    found: list[tuple[tuple[str, ...], sa.Select[Any]]] = []
    edge = sa.and_(time_column(fact) >= day, time_column(fact) < end)
    groups = GROUPS[rollup.name]  # a group exists before that day iff its first day is before it
    for table, times in ((groups, time_column(groups) < day), (fact, edge)):
        exprs = [dimension_expression(table, name) for name in dims]
        select = sa.select(*(e.label(name) for e, name in zip(exprs, dims, strict=True)), sa.literal(0).label("none"))
        found.append(((), select.where(*base_conditions(table, request), times).group_by(*exprs)))
    return found


def _covering_rollup(request: MetricRequest, fact: str, state: RollupState) -> sa.Table | None:
    """The smallest rollup of the table that holds every column the request reads (ROLLUPS is smallest first)."""
    for table in ROLLUPS:
        if table.info["fact"] == fact and covers(table, request, state):
            return table
    return None


def _open_select(
    request: MetricRequest, rates: ThreeRates, dialect: str, live: bool, skeleton: sa.Table | None
) -> sa.Select[Any]:
    """Snapshot counts at the as-of time: open items, plus the rows finished after it (none when live).

    A row is not done at time T when its done column is NULL (it is in the open-items copy) or
    later than T (it is in the facts, found by that column): two disjoint sets, summed.
    """
    fact = metric_table(request.metrics)
    opened = OPEN_TABLES[fact.name]
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
        parts.extend(_group_skeleton(request, skeleton))
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
    statement = statement.group_by(*group).order_by(*_ordering(request, dict(zip(dims, group, strict=True)), totals))
    return statement


def records_table(request: MetricRequest, state: RollupState | None) -> sa.Table | None:
    """The open-items table when it holds every record a one-metric detail list shows, else None.

    A live snapshot count (超期未办结 now) counts only rows whose "not done" column is NULL, and the
    open-items copy holds exactly those rows: its list reads tens of thousands of rows, not millions.
    """
    if state is None or len(request.metrics) != 1:
        return None
    metric = METRICS[request.metrics[0]]
    if not metric.snapshot or not _open_answers(metric, request):
        return None
    return OPEN_TABLES[metric.table] if _is_live(request, metric.table, state) else None


def sources(request: MetricRequest, state: RollupState) -> dict[str, list[str]]:
    """Metric names per source ('rollup', 'open', 'fact'), in request order."""
    fact = metric_table(request.metrics).name
    if fact not in state.watermarks:  # this table's aggregates were never refreshed
        return {"fact": list(request.metrics)}
    live = _is_live(request, fact, state)
    rollup = _pick_rollup(request, fact, state)
    found: dict[str, list[str]] = {"rollup": [], "open": [], "fact": []}
    for name in request.metrics:
        metric = METRICS[name]
        if metric.snapshot:
            opens = _open_answers(metric, request) and (
                not request.dimensions or _covering_rollup(request, fact, state) is not None
            )
            found["open" if opens else "fact"].append(name)
        elif rollup is not None and _countable(metric, live):
            found["rollup"].append(name)
        else:
            found["fact"].append(name)
    return {source: names for source, names in found.items() if names}


def compile_routed(
    request: MetricRequest, rates: ThreeRates, dialect: str, state: RollupState | None
) -> sa.Select[Any]:
    """The request as one SELECT, reading rollups and open items where they answer exactly."""
    on_facts = compile_request(request, rates, dialect)  # validates the request, whatever the route
    if state is None:
        return on_facts
    routes = sources(request, state)
    if len(routes) > 1 and request.dimensions:
        return on_facts
    fact = metric_table(request.metrics).name
    selects: list[sa.Select[Any]] = []
    for source, names in routes.items():
        part = dataclasses.replace(request, metrics=tuple(names))
        if source == "fact":
            selects.append(on_facts if len(routes) == 1 else compile_request(part, rates, dialect))
        elif source == "open":
            live, skeleton = _is_live(request, fact, state), _covering_rollup(request, fact, state)
            selects.append(_open_select(part, rates, dialect, live, skeleton))
        else:
            rollup = _pick_rollup(request, fact, state)
            assert rollup is not None
            selects.append(_rollup_select(part, rates, dialect, rollup))
    if len(selects) == 1:
        return selects[0]
    # One row each (no dimensions): joined on a constant, which every engine plans as a cross join.
    subqueries = [select.add_columns(sa.literal(1).label("one")).subquery(f"s{i}") for i, select in enumerate(selects)]
    where_is = {name: subquery for subquery, names in zip(subqueries, routes.values(), strict=True) for name in names}
    joined: Any = subqueries[0]
    for subquery in subqueries[1:]:
        joined = joined.join(subquery, subquery.c.one == subqueries[0].c.one)
    return sa.select(*(where_is[name].c[name] for name in request.metrics)).select_from(joined)
