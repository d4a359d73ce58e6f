"""Plan where each metric of a request is read: aggregates of ``rollups.refresh`` where they answer exactly.

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

This module decides only: ``plan_route`` returns a ``RoutePlan`` (plain data: which source each
metric reads, from which table) and ``data_access.semantic.routed`` compiles it into SQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa

from data_access.semantic.compiler import metric_table
from data_access.semantic.metric_defs import Metric
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.model import model_of
from data_access.semantic.query import REGION_FILTER, TIME_GRAINS, MetricRequest
from data_access.semantic.rollups.measures import (
    Term,
    depends_on_as_of,
    live_condition,
    measure_terms,
    metric_measures,
    top_not_done,
)
from data_access.semantic.rollups.refresh import RollupState
from data_access.semantic.rollups.tables import GROUPS, OPEN_TABLES, ROLLUPS

Source = Literal["rollup", "open", "fact"]


@dataclass(frozen=True)
class RoutePart:
    """The metrics of a request one source answers, and the table it reads.

    ``table`` is the fact table (source "fact"), the daily rollup ("rollup": its complete days; the
    edge days come from the facts) or the open-items copy ("open"). For "open": ``live`` says the
    as-of time is past the watermark (no row finished after it exists, so none is added back from
    the facts), and ``groups`` is the groups table of the rollup covering the request's dimensions
    (every group the facts would show appears, with 0), None without dimensions.
    """

    source: Source
    metrics: tuple[str, ...]
    table: sa.Table
    live: bool = False
    groups: sa.Table | None = None


@dataclass(frozen=True)
class RoutePlan:
    """Where a request's metrics are read: one part per source, in the order of ``sources``."""

    fact: sa.Table
    parts: tuple[RoutePart, ...]

    @property
    def on_facts(self) -> bool:
        """Whether the plan is the request compiled on its fact table alone (no aggregate read)."""
        return len(self.parts) == 1 and self.parts[0].source == "fact"


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
    dimensions = model_of(table).dimensions

    def has(dimension: str) -> bool:
        column = dimensions.get(dimension)
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
        column = dimensions.get(level)
        if column is not None and column not in table.c:
            return False
    return True


def midnight_up(moment: dt.datetime) -> dt.datetime:
    """The first midnight at or after ``moment``: where a range's complete days (the rollup's) begin."""
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day if day == moment else day + dt.timedelta(days=1)


def midnight_down(moment: dt.datetime) -> dt.datetime:
    """The last midnight at or before ``moment``: where a range's complete days end."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _pick_rollup(request: MetricRequest, fact: str, state: RollupState) -> sa.Table | None:
    if request.time_range is None:
        return None
    if midnight_up(request.time_range.start) >= midnight_down(request.time_range.end):
        return None  # no complete day: the facts alone are as fast
    return _covering_rollup(request, fact, state)


def _open_answers(metric: Metric, request: MetricRequest) -> bool:
    """Snapshot counts with a top-level "not done" column the open-items table is keyed on."""
    if metric.table not in OPEN_TABLES or request.limit is not None:
        return False
    measures = list(metric_measures(metric))
    return all(measure_terms(m) == (Term(1.0, m.where),) and top_not_done(m.where) for m in measures)


def _covering_rollup(request: MetricRequest, fact: str, state: RollupState) -> sa.Table | None:
    """The smallest rollup of the table that holds every column the request reads (ROLLUPS is smallest first)."""
    for table in ROLLUPS:
        if table.info["fact"] == fact and covers(table, request, state):
            return table
    return None


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


def plan_route(request: MetricRequest, state: RollupState | None) -> RoutePlan:
    """Which source each metric of ``request`` reads (``sources``), with the tables each source reads.

    Without refreshed aggregates, or when a request with dimensions would mix sources (they are
    joined only as single rows), everything is read from the facts.
    """
    fact = metric_table(request.metrics)
    on_facts = RoutePlan(fact, (RoutePart("fact", request.metrics, fact),))
    if state is None:
        return on_facts
    routes = sources(request, state)
    if len(routes) > 1 and request.dimensions:
        return on_facts
    parts: list[RoutePart] = []
    for source, names in routes.items():
        if source == "fact":
            parts.append(RoutePart("fact", tuple(names), fact))
        elif source == "open":
            covering = _covering_rollup(request, fact.name, state)
            groups = GROUPS[covering.name] if covering is not None and request.dimensions else None
            live = _is_live(request, fact.name, state)
            parts.append(RoutePart("open", tuple(names), OPEN_TABLES[fact.name], live=live, groups=groups))
        else:
            rollup = _pick_rollup(request, fact.name, state)
            assert rollup is not None
            parts.append(RoutePart("rollup", tuple(names), rollup))
    return RoutePlan(fact, tuple(parts))
