"""The records behind a number: one page of a fact table, filtered, sorted and paged in SQL.

A detail request names a count metric (by default the table's volume: every record of the view);
its rows are exactly the ones that metric counts — same scope, filters, time range and condition
(``compiler.record_conditions``) — so "超期未办结 101 件" opens a list of 101 cases. Only the requested
page travels to Python, and free-text columns are masked (``data_access.security.masking``) before the
frame leaves this module unless the caller is allowed to see personal data.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl
import sqlalchemy as sa

from data_access.config.city import ThreeRates
from data_access.runtime.cache import RESULTS, ResultCache
from data_access.security.masking import mask_values
from data_access.semantic.cached_select import cached_select
from data_access.semantic.compiler import compiled_sql, record_conditions
from data_access.semantic.dialects import hours_between
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.model import MODELS
from data_access.semantic.query import EVERYTHING, Filter, MetricRequest, RequestError, Scope, TimeRange
from data_access.semantic.rollups.refresh import RollupState, read_state
from data_access.semantic.rollups.routing import records_table

MAX_PAGE_SIZE = 500

# What a detail row shows, per table, in display order; the first column is the record's id.
DETAIL_COLUMNS: dict[str, tuple[str, ...]] = {
    "service_cases": (
        "case_id",
        "submitted_at",
        "service_item_name",
        "department_code",
        "district_code",
        "street_code",
        "channel",
        "status",
        "completed_at",
        "promised_limit_hours",
        "rating",
    ),
    "complaints": (
        "ticket_id",
        "received_at",
        "category_l1_code",
        "category_l3_code",
        "title",
        "description",
        "address",
        "district_code",
        "street_code",
        "department_code",
        "status",
        "time_limit_hours",
        "resolved_at",
        "follow_up",
        "repeat_of",
    ),
    "grid_events": (
        "event_id",
        "collected_at",
        "source",
        "kind",
        "major_category_code",
        "grid_code",
        "street_code",
        "department_code",
        "side_state",
        "dispatched_at",
        "handled_at",
        "closed_at",
        "time_limit_hours",
        "reporter_id",
    ),
}
# Free text that may hold a citizen's phone, ID number, name or address.
PERSONAL_COLUMNS: dict[str, tuple[str, ...]] = {"complaints": ("title", "description", "address")}
# (clock start, clock stop, limit) per table: the same clock the on-time and overdue metrics use.
CLOCKS: dict[str, tuple[str, str, str]] = {
    "service_cases": ("submitted_at", "completed_at", "promised_limit_hours"),
    "complaints": ("received_at", "resolved_at", "time_limit_hours"),
    "grid_events": ("dispatched_at", "handled_at", "time_limit_hours"),
}
# Computed columns: hours on the clock (to the stop, or to the as-of time while open) and hours past the limit.
ELAPSED = "elapsed_hours"
OVERDUE = "overdue_hours"
COMPUTED: tuple[str, ...] = (ELAPSED, OVERDUE)
VOLUME: dict[str, str] = {
    "service_cases": "service_received",
    "complaints": "complaint_received",
    "grid_events": "grid_collected",
}


@dataclass(frozen=True)
class DetailRequest:
    """One page of the records behind ``metric`` (the table's volume by default) in a view."""

    table: str
    metric: str | None = None
    filters: tuple[Filter, ...] = ()
    time_range: TimeRange | None = None
    as_of: dt.datetime | None = None
    scope: Scope = field(default=EVERYTHING)
    sort: str | None = None  # a detail or computed column; default: the table's time column
    descending: bool = True
    page: int = 1  # 1-based
    page_size: int = 50

    @property
    def metric_name(self) -> str:
        return self.metric or VOLUME[self.table]

    def metric_request(self) -> MetricRequest:
        return MetricRequest(
            metrics=(self.metric_name,),
            filters=self.filters,
            time_range=self.time_range,
            as_of=self.as_of,
            scope=self.scope,
        )


@dataclass(frozen=True)
class DetailPage:
    """The rows of one page, and how many records the whole view holds."""

    rows: pl.DataFrame
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _check(request: DetailRequest) -> sa.Table:
    if request.table not in MODELS:
        raise RequestError(f"unknown table {request.table!r} (known: {', '.join(MODELS)})")
    metric = METRICS.get(request.metric_name)
    if metric is None:
        raise RequestError(f"unknown metric {request.metric_name!r}")
    if metric.table != request.table:
        raise RequestError(f"metric {metric.name} is not on {request.table}")
    if request.page < 1:
        raise RequestError(f"page must be 1 or more, got {request.page}")
    if not 1 <= request.page_size <= MAX_PAGE_SIZE:
        raise RequestError(f"page size must be 1 to {MAX_PAGE_SIZE}, got {request.page_size}")
    if request.sort is not None and request.sort not in (*DETAIL_COLUMNS[request.table], *COMPUTED):
        raise RequestError(f"cannot sort {request.table} by {request.sort!r}")
    return MODELS[request.table].table


def _as_of(request: DetailRequest) -> dt.datetime:
    as_of = request.metric_request().effective_as_of
    if as_of is None:
        raise RequestError("a detail list needs a time range or an as-of time")
    return as_of


def _computed(table: sa.Table, fact: str, as_of: dt.datetime) -> dict[str, sa.ColumnElement[Any]]:
    start, stop, limit = (table.c[name] for name in CLOCKS[fact])
    moment = sa.cast(sa.literal(as_of, sa.DateTime()), sa.DateTime())
    # Stopped clocks count to the stop; open ones (or stops after the as-of time) to the as-of time.
    end = sa.case((sa.and_(stop.is_not(None), stop <= moment), stop), else_=moment)
    elapsed = sa.case((sa.and_(start.is_not(None), start <= moment), hours_between(start, end)), else_=None)
    overdue = sa.case((elapsed > limit, elapsed - limit), else_=None)
    return {ELAPSED: elapsed, OVERDUE: overdue}


def detail_statements(
    request: DetailRequest, rates: ThreeRates, dialect: str, source: sa.Table | None = None
) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """(page of rows, total count) for a detail request, as two SELECTs on the one fact table.

    ``source`` replaces the fact table by its open-items copy where that holds every listed row
    (``rollup_routing.records_table``).
    """
    fact = _check(request)
    table = fact if source is None else source
    where = record_conditions(request.metric_request(), rates, dialect, table)
    computed = _computed(table, fact.name, _as_of(request))
    columns = [table.c[name] for name in DETAIL_COLUMNS[fact.name]]
    sort_name = request.sort or MODELS[fact.name].time_column
    sort = computed[sort_name] if sort_name in computed else table.c[sort_name]
    identifier = table.c[DETAIL_COLUMNS[fact.name][0]]
    ordering = [sort.desc() if request.descending else sort.asc(), identifier]
    if sort_name in computed or fact.c[sort_name].nullable:
        # Empty values last, in every engine (MySQL has no NULLS LAST). A NOT NULL column goes
        # without it, so a row store reads the page in its index order and stops after it.
        ordering.insert(0, sa.case((sort.is_(None), 1), else_=0))
    rows = (
        sa.select(*columns, *(expression.label(name) for name, expression in computed.items()))
        .where(*where)
        .order_by(*ordering)
        .limit(request.page_size)
        .offset((request.page - 1) * request.page_size)
    )
    total = sa.select(sa.func.count()).select_from(table).where(*where)
    return rows, total


Compiled = tuple[sa.Select[Any], tuple[str, tuple[Any, ...]]]


@functools.lru_cache(maxsize=1024)
def _compiled(
    request: DetailRequest, rates: ThreeRates, dialect: sa.Dialect, state: RollupState | None = None
) -> tuple[Compiled, Compiled]:
    """((count statement, its SQL), (page statement, its SQL)), memoised: a cache hit must not recompile."""
    source = records_table(request.metric_request(), state)
    rows, total = detail_statements(request, rates, dialect.name, source)
    return (total, compiled_sql(total, dialect)), (rows, compiled_sql(rows, dialect))


def _frame(table: sa.Table, result: list[sa.Row[Any]]) -> pl.DataFrame:
    names = [*DETAIL_COLUMNS[table.name], *COMPUTED]
    types: dict[str, pl.DataType] = {}
    for name in names:
        column = table.c.get(name)
        if column is None or isinstance(column.type, sa.Double | sa.Float):
            types[name] = pl.Float64()
        elif isinstance(column.type, sa.DateTime):
            types[name] = pl.Datetime("us")
        elif isinstance(column.type, sa.Integer):
            types[name] = pl.Int64()
        else:
            types[name] = pl.String()
    floats = {name for name, kind in types.items() if kind == pl.Float64()}
    data = [
        [
            float(value) if name in floats and value is not None else value
            for name, value in zip(names, row, strict=True)
        ]
        for row in result
    ]
    return pl.DataFrame(data, schema=types, orient="row")


def fetch_details(
    engine: sa.Engine,
    request: DetailRequest,
    rates: ThreeRates | None = None,
    *,
    reveal_personal_data: bool = False,
    cache: ResultCache[pl.DataFrame] | None = RESULTS,
    ttl_seconds: float | None = None,
    version: str | None = None,
) -> DetailPage:
    """One page of the records behind a number; personal data masked unless ``reveal_personal_data``."""
    table = _check(request)
    rates = rates or ThreeRates()
    state = read_state(engine)
    (total_sql, total_text), _ = _compiled(request, rates, engine.dialect, state)

    def count(rows: list[sa.Row[Any]]) -> pl.DataFrame:
        return pl.DataFrame({"n": [rows[0][0]]})

    total = int(
        cached_select(engine, total_sql, count, cache, ttl_seconds, compiled=total_text, version=version)["n"][0]
    )
    last_page = max(1, -(-total // request.page_size))
    if request.page > last_page:  # the view shrank under the viewer (a filter, an import): show its last page
        request = replace(request, page=last_page)
    _, (rows_sql, rows_text) = _compiled(request, rates, engine.dialect, state)
    frame = cached_select(
        engine, rows_sql, lambda rows: _frame(table, rows), cache, ttl_seconds, compiled=rows_text, version=version
    )
    if not reveal_personal_data:
        frame = frame.with_columns(
            pl.Series(name, mask_values(frame[name].to_list()), dtype=pl.String())
            for name in PERSONAL_COLUMNS.get(table.name, ())
        )
    return DetailPage(frame, total, request.page, request.page_size)
