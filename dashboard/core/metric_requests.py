"""Which metrics each view shows, and the MetricRequests behind them. Pure: requests are plain data.

Pages run these requests with ``data_access.semantic.metrics.run_metrics``; building them here keeps every
page's idea of "the current period", "the comparison period" and "this district" identical.
"""

from __future__ import annotations

import datetime as dt

from dashboard.core.periods import Period, TrendWindow
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.model import DIMENSION_COLUMNS, MODELS_BY_DOMAIN
from data_access.semantic.query import TIME_GRAINS, Filter, MetricRequest, OrderBy, TimeRange

DOMAINS: tuple[str, ...] = tuple(MODELS_BY_DOMAIN)
DOMAIN_TABLES: dict[str, str] = {domain: model.name for domain, model in MODELS_BY_DOMAIN.items()}

# The three KPI rows of the city overview.
COCKPIT_ROWS: dict[str, tuple[str, ...]] = {
    "services": ("service_received", "service_on_time_rate", "service_handling_hours_median", "service_overdue_open"),
    "complaints": (
        "complaint_received",
        "complaint_composite_score",
        "complaint_satisfaction_rate",
        "complaint_overdue_open",
    ),
    "grid": ("grid_collected", "grid_closure_rate", "grid_on_time_rate", "grid_overdue_open"),
}

# The KPI row of each topic page.
TOPIC_KPIS: dict[str, tuple[str, ...]] = {
    "services": (
        "service_received",
        "service_on_time_rate",
        "service_handling_hours_median",
        "service_online_share",
        "service_good_rating_rate",
        "service_overdue_open",
    ),
    "complaints": (
        "complaint_received",
        "complaint_composite_score",
        "complaint_response_rate",
        "complaint_resolution_rate",
        "complaint_satisfaction_rate",
        "complaint_overdue_open",
    ),
    "grid": (
        "grid_collected",
        "grid_closure_rate",
        "grid_on_time_rate",
        "grid_rework_rate",
        "grid_overdue_open",
    ),
}

# The volume each domain's trend chart shows.
VOLUME_METRIC: dict[str, str] = {
    "services": "service_received",
    "complaints": "complaint_received",
    "grid": "grid_collected",
}

GRID_STAGES: tuple[str, ...] = ("file", "dispatch", "handle", "feedback", "verify", "close")
STAGE_METRICS: tuple[str, ...] = tuple(f"grid_stage_hours_{stage}" for stage in GRID_STAGES)


def domain_metrics(domain: str) -> tuple[str, ...]:
    """Every registered metric of a domain, in registry order."""
    table = DOMAIN_TABLES[domain]
    return tuple(name for name, metric in METRICS.items() if metric.table == table)


def domain_dimensions(domain: str) -> tuple[str, ...]:
    """Time grains first, then every dimension that exists on the domain's table."""
    table = DOMAIN_TABLES[domain]
    return (*TIME_GRAINS, *(name for name, columns in DIMENSION_COLUMNS.items() if table in columns))


def district_filters(district: str | None) -> tuple[Filter, ...]:
    """No filter for the whole city, else one district."""
    return () if not district else (Filter("district", (district,)),)


def totals_request(metrics: tuple[str, ...], time_range: TimeRange, filters: tuple[Filter, ...] = ()) -> MetricRequest:
    """One ungrouped row: the metrics over a time range (snapshot metrics judged at its end)."""
    return MetricRequest(metrics=metrics, filters=filters, time_range=time_range)


def kpi_requests(
    metrics: tuple[str, ...], period: Period, filters: tuple[Filter, ...] = ()
) -> tuple[MetricRequest, MetricRequest]:
    """(current, previous-period) totals for a KPI row."""
    return totals_request(metrics, period.current, filters), totals_request(metrics, period.previous, filters)


def trend_requests(
    metrics: tuple[str, ...], window: TrendWindow, filters: tuple[Filter, ...] = ()
) -> tuple[MetricRequest, MetricRequest]:
    """(current, comparison) series bucketed by the window's grain, oldest first."""

    def series(time_range: TimeRange) -> MetricRequest:
        return MetricRequest(
            metrics=metrics,
            dimensions=(window.grain,),
            filters=filters,
            time_range=time_range,
            order_by=(OrderBy(window.grain),),
        )

    return series(window.current), series(window.previous)


def breakdown_request(
    metrics: tuple[str, ...],
    dimension: str,
    time_range: TimeRange,
    filters: tuple[Filter, ...] = (),
    *,
    descending: bool = True,
    limit: int | None = None,
) -> MetricRequest:
    """Metrics by one dimension, time buckets in time order, other dimensions by the first metric."""
    order = OrderBy(dimension) if dimension in TIME_GRAINS else OrderBy(metrics[0], descending=descending)
    return MetricRequest(
        metrics=metrics,
        dimensions=(dimension,),
        filters=filters,
        time_range=time_range,
        order_by=(order,),
        limit=limit,
    )


# ---- the big-screen cockpit -------------------------------------------------------------------

# Rankings: the 三率 composite by street (best and worst five), on-time completion by department.
RANKING_SCORE = "complaint_composite_score"
RANKING_SCORE_VOLUME = "complaint_received"
RANKING_DEPARTMENT_RATE = "service_on_time_rate"
RANKING_DEPARTMENT_VOLUME = "service_completed"
# The map: complaints as a choropleth by district or street, grid events as bubbles on grid centroids.
MAP_CHOROPLETH_METRIC = "complaint_received"
MAP_POINT_METRIC = "grid_collected"
MAP_LEVELS: tuple[str, ...] = ("district", "street")
# The alert ticker until the early-warning module lands: open overdue items, by district and department.
OVERDUE_METRIC: dict[str, str] = {
    "services": "service_overdue_open",
    "complaints": "complaint_overdue_open",
    "grid": "grid_overdue_open",
}
TICKER_DIMENSIONS: tuple[str, ...] = ("district", "department")


def ranking_requests(period: Period) -> tuple[MetricRequest, MetricRequest]:
    """(composite score by street, on-time completion by department) over the current period."""
    streets = breakdown_request((RANKING_SCORE, RANKING_SCORE_VOLUME), "street", period.current)
    departments = breakdown_request((RANKING_DEPARTMENT_RATE, RANKING_DEPARTMENT_VOLUME), "department", period.current)
    return streets, departments


def map_requests(level: str, period: Period, district: str | None = None) -> tuple[MetricRequest, MetricRequest]:
    """(complaints by ``level``, grid events by grid) for the current period, within a district when drilled.

    Points are never loaded: grid events are counted per grid in the database and drawn on the
    grid's centroid.
    """
    if level not in MAP_LEVELS:
        raise ValueError(f"unknown map level {level!r} (known: {', '.join(MAP_LEVELS)})")
    filters = district_filters(district)
    areas = breakdown_request((MAP_CHOROPLETH_METRIC,), level, period.current, filters)
    points = breakdown_request((MAP_POINT_METRIC,), "grid", period.current, filters)
    return areas, points


def overdue_requests(as_of: dt.datetime) -> list[MetricRequest]:
    """Open overdue items at ``as_of`` (snapshot: all records received before it), by district and by department."""
    return [
        MetricRequest(
            metrics=(metric,),
            dimensions=(dimension,),
            as_of=as_of,
            order_by=(OrderBy(metric, descending=True),),
        )
        for metric in OVERDUE_METRIC.values()
        for dimension in TICKER_DIMENSIONS
    ]


def cockpit_requests(
    period: Period,
    window: TrendWindow,
    *,
    map_level: str = "district",
    map_district: str | None = None,
) -> list[MetricRequest]:
    """Every metric request one render of the big-screen cockpit issues, in render order.

    ``bench`` measures exactly this list; the page builds its requests with the same functions.
    """
    requests: list[MetricRequest] = []
    for domain in DOMAINS:
        requests.extend(kpi_requests(COCKPIT_ROWS[domain], period))
    requests.extend(map_requests(map_level, period, map_district))
    for domain in DOMAINS:
        requests.extend(trend_requests((VOLUME_METRIC[domain],), window))
    requests.extend(ranking_requests(period))
    requests.extend(overdue_requests(period.current.end))
    return requests
