"""Every request a topic page issues, built from its state. Pure: requests are plain data.

The page and ``bench`` both call ``topic_requests``' building blocks, so the benchmark measures
exactly what a render asks the database for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dashboard.core.metric_requests import STAGE_METRICS, TOPIC_KPIS, breakdown_request, kpi_requests, trend_requests
from dashboard.core.periods import Period, TrendWindow, add_months
from dashboard.topics.state import CHANNEL_DIMENSION, TopicState, state_filters, state_period, state_trend_window
from data_access.semantic.details import DetailRequest
from data_access.semantic.distributions import HistogramRequest
from data_access.semantic.metric_defs import Agg, Simple
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.model import DIMENSION_COLUMNS, MODELS_BY_DOMAIN
from data_access.semantic.query import Filter, MetricRequest, OrderBy, TimeRange

TOPIC_TABLES: dict[str, str] = {domain: model.name for domain, model in MODELS_BY_DOMAIN.items()}
VOLUME: dict[str, str] = {
    "service_cases": "service_received",
    "complaints": "complaint_received",
    "grid_events": "grid_collected",
}
OVERDUE: dict[str, str] = {
    "service_cases": "service_overdue_open",
    "complaints": "complaint_overdue_open",
    "grid_events": "grid_overdue_open",
}
# The rate each breakdown shows beside its volume.
RATE: dict[str, str] = {
    "service_cases": "service_on_time_rate",
    "complaints": "complaint_composite_score",
    "grid_events": "grid_closure_rate",
}
# Points on the map: per-grid counts drawn at the grid's centre (service cases carry no grid).
MAP_POINTS: dict[str, str | None] = {
    "service_cases": None,
    "complaints": "complaint_received",
    "grid_events": "grid_collected",
}

# Services: share of the promised limit used (1.0 = exactly on the limit).
LIMIT_SHARE_EDGES: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
# Complaints: hours to first response and to closing.
RESPONSE_EDGES: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 24.0)
CLOSE_EDGES: tuple[float, ...] = (24.0, 72.0, 168.0, 360.0, 720.0)
RISING_BASELINE_PERIODS = 4
RANKING_METRICS: tuple[str, ...] = (
    "complaint_composite_score",
    "complaint_response_rate",
    "complaint_resolution_rate",
    "complaint_satisfaction_rate",
    "complaint_received",
)
FUNNEL: tuple[str, ...] = (
    "grid_collected",
    "grid_filed",
    "grid_dispatched",
    "grid_handled",
    "grid_fed_back",
    "grid_verified",
    "grid_closed",
)
STAGE_HOURS = STAGE_METRICS  # median hours per workflow stage, beside the funnel


def count_metrics(table: str) -> tuple[str, ...]:
    """Metrics of ``table`` that count records: the lists a detail table can open."""
    return tuple(
        name
        for name, metric in METRICS.items()
        if metric.table == table and isinstance(metric.formula, Simple) and metric.formula.measure.agg is Agg.COUNT
    )


@dataclass(frozen=True)
class TopicQueries:
    """The requests of one topic page for one state at one as-of time."""

    domain: str
    state: TopicState
    as_of: dt.datetime

    @property
    def table(self) -> str:
        return TOPIC_TABLES[self.domain]

    @property
    def period(self) -> Period:
        return state_period(self.state, self.as_of)

    @property
    def window(self) -> TrendWindow:
        return state_trend_window(self.state, self.as_of)

    def filters(self, without: str | None = None) -> tuple[Filter, ...]:
        return state_filters(self.state, self.table, without=without)

    # -- sections every topic page has ------------------------------------------------------------
    def kpis(self) -> tuple[MetricRequest, MetricRequest]:
        return kpi_requests(TOPIC_KPIS[self.domain], self.period, self.filters())

    def trend(self, metric: str | None = None) -> tuple[MetricRequest, MetricRequest]:
        return trend_requests((metric or VOLUME[self.table],), self.window, self.filters())

    def map_areas(self, level: str, within: str | None) -> MetricRequest:
        """The area metric by ``level`` inside ``within`` (the other filters kept)."""
        filters = (*self.filters(without="region"), *((Filter("region", (within,)),) if within else ()))
        return breakdown_request((VOLUME[self.table], RATE[self.table]), level, self.period.current, filters)

    def map_points(self, within: str | None) -> MetricRequest | None:
        metric = MAP_POINTS[self.table]
        if metric is None:
            return None
        filters = (*self.filters(without="region"), *((Filter("region", (within,)),) if within else ()))
        return breakdown_request((metric,), "grid", self.period.current, filters)

    def by(self, dimension: str, *, without: str | None = None, limit: int | None = None) -> MetricRequest:
        """Volume and rate by ``dimension``, leaving out the filter on it (so a click can pick another)."""
        return breakdown_request(
            (VOLUME[self.table], RATE[self.table]), dimension, self.period.current, self.filters(without), limit=limit
        )

    def categories(self) -> list[MetricRequest]:
        """Volume by each category level the table has (the sunburst's rings); none for service cases."""
        if self.table not in DIMENSION_COLUMNS["category_l1"]:
            return []
        levels = (
            ("category_l1", "category_l2", "category_l3")
            if self.table == "complaints"
            else ("category_l1", "category_l2")
        )
        filters = self.filters("category")
        return [breakdown_request((VOLUME[self.table],), level, self.period.current, filters) for level in levels]

    def channel(self) -> MetricRequest:
        return self.by(CHANNEL_DIMENSION[self.table], without="channel")

    def details(
        self, metric: str | None, *, sort: str | None, descending: bool, page: int, page_size: int
    ) -> DetailRequest:
        return DetailRequest(
            self.table,
            metric,
            self.filters(),
            self.period.current,
            sort=sort,
            descending=descending,
            page=page,
            page_size=page_size,
        )

    def overdue(self, page_size: int = 20) -> DetailRequest:
        return DetailRequest(
            self.table,
            OVERDUE[self.table],
            self.filters(),
            self.period.current,
            sort="overdue_hours",
            page_size=page_size,
        )

    # -- services ---------------------------------------------------------------------------------
    def limit_share_by_department(self) -> HistogramRequest:
        return HistogramRequest(
            "service_completed",
            "submitted_at",
            "completed_at",
            LIMIT_SHARE_EDGES,
            per_limit="promised_limit_hours",
            by="department",
            filters=self.filters(),
            time_range=self.period.current,
        )

    def ratings(self) -> MetricRequest:
        return breakdown_request(("service_rated",), "rating", self.period.current, self.filters())

    # -- complaints -------------------------------------------------------------------------------
    def ranking_months(self, month: dt.date, district: str | None) -> tuple[MetricRequest, MetricRequest]:
        """The 三率 by street for ``month`` and the month before (the rank change), city-wide or in a district.

        Streets are ranked against each other, so a drill below the district does not narrow the table.
        """
        within = (Filter("region", (district,)),) if district else ()

        def of(first: dt.datetime) -> MetricRequest:
            span = TimeRange(first, add_months(first, 1))
            return breakdown_request(RANKING_METRICS, "street", span, (*self.filters("region"), *within))

        first = dt.datetime.combine(month.replace(day=1), dt.time())
        return of(first), of(add_months(first, -1))

    def response_hours(self) -> HistogramRequest:
        return HistogramRequest(
            "complaint_received",
            "received_at",
            "first_response_at",
            RESPONSE_EDGES,
            filters=self.filters(),
            time_range=self.period.current,
        )

    def close_hours(self) -> HistogramRequest:
        return HistogramRequest(
            "complaint_received",
            "received_at",
            "closed_at",
            CLOSE_EDGES,
            filters=self.filters(),
            time_range=self.period.current,
        )

    def repeats(self, limit: int = 10) -> MetricRequest:
        return MetricRequest(
            ("complaint_repeats", "complaint_received"),
            ("community", "category_l3"),
            filters=self.filters(),
            time_range=self.period.current,
            order_by=(OrderBy("complaint_repeats", descending=True),),
            limit=limit,
        )

    def rising(self) -> tuple[MetricRequest, MetricRequest]:
        """Volume by second-level category now, and over the baseline: the periods of equal length before."""
        current = self.period.current
        length = current.end - current.start
        baseline = TimeRange(current.start - RISING_BASELINE_PERIODS * length, current.start)
        filters = self.filters("category")
        return (
            breakdown_request(("complaint_received",), "category_l2", current, filters),
            breakdown_request(("complaint_received",), "category_l2", baseline, filters),
        )

    # -- grid events ------------------------------------------------------------------------------
    def funnel(self) -> MetricRequest:
        return MetricRequest((*FUNNEL, *STAGE_HOURS), filters=self.filters(), time_range=self.period.current)

    def activity(self, dimension: str, limit: int = 15) -> MetricRequest:
        return MetricRequest(
            ("grid_collected", "grid_closure_rate", "grid_on_time_rate"),
            (dimension,),
            filters=self.filters(),
            time_range=self.period.current,
            order_by=(OrderBy("grid_collected", descending=True),),
            limit=limit,
        )


def month_of(as_of: dt.datetime) -> dt.date:
    """The default ranking month: the last complete month before the as-of time."""
    return (add_months(as_of.replace(day=1, hour=0, minute=0, second=0, microsecond=0), -1)).date()


@dataclass(frozen=True)
class TopicRender:
    """Every read one render of a topic page makes (``bench`` times exactly these)."""

    metrics: tuple[MetricRequest, ...]
    histograms: tuple[HistogramRequest, ...]
    details: tuple[DetailRequest, ...]


def topic_render(
    queries: TopicQueries, *, map_level: str, map_within: str | None, district: str | None, month: dt.date
) -> TopicRender:
    """The reads of ``dashboard.topics.page.render_page`` for one state, in render order (default widgets)."""
    table = queries.table
    metrics: list[MetricRequest] = [*queries.kpis(), *queries.trend(), queries.map_areas(map_level, map_within)]
    points = queries.map_points(map_within)
    if points is not None:
        metrics.append(points)
    metrics += [queries.by("department", without="department")]
    metrics += queries.categories() or [queries.by("service_item", limit=15)]
    metrics.append(queries.channel())
    histograms: list[HistogramRequest] = []
    details = [queries.overdue()]
    if queries.domain == "services":
        histograms.append(queries.limit_share_by_department())
        metrics += [queries.by("department"), *queries.trend("service_online_share"), queries.ratings()]
    elif queries.domain == "complaints":
        metrics += [*queries.ranking_months(month, district), queries.repeats(), *queries.rising()]
        histograms += [queries.response_hours(), queries.close_hours()]
        details = []
    else:
        metrics += [queries.funnel(), queries.by("side_state"), queries.activity("grid"), queries.activity("reporter")]
    details.append(queries.details(VOLUME[table], sort=None, descending=True, page=1, page_size=20))
    return TopicRender(tuple(dict.fromkeys(metrics)), tuple(histograms), tuple(details))
