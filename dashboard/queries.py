"""Which metrics each view shows, and the MetricRequests behind them. Pure: requests are plain data.

Pages run these requests with ``data_access.metrics.run_metrics``; building them here keeps every
page's idea of "the current period", "the comparison period" and "this district" identical.
"""

from __future__ import annotations

from dashboard.periods import Period, TrendWindow
from data_access.metric_registry import METRICS
from data_access.query import DIMENSION_COLUMNS, TIME_GRAINS, Filter, MetricRequest, OrderBy, TimeRange

DOMAINS: tuple[str, ...] = ("services", "complaints", "grid")
DOMAIN_TABLES: dict[str, str] = {"services": "service_cases", "complaints": "complaints", "grid": "grid_events"}

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
