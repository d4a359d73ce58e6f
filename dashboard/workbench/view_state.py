"""The analyst workbench's view as data: what the URL, a saved view and the widgets all describe. Pure.

A view is metrics of one domain, up to two dimensions (``time`` = by time bucket at the chosen
grain), a period (a preset or a custom half-open date range), filters (region, departments,
level-1 categories, channels) and a chart type. It travels as URL query parameters::

    ?domain=complaints&metrics=complaint_received,complaint_composite_score&dims=street,time
     &grain=week&period=custom&start=2026-10-01&end=2026-11-01&region=330106
     &department=CGJ,SCJG&category=C01&channel=电话&chart=stacked

``start``/``end`` are a half-open range [start, end) like the alert links' (``dashboard.core.links``).
``parse_params`` is strict: every bad value is named in a notice and ignored (the default is used
instead); nothing in the URL can widen what the viewer may see, because the viewer's scope is applied
by the metric layer, not here. The view compiles to ONE ``MetricRequest`` (``request_for``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from dashboard.core.metric_requests import DOMAIN_TABLES, DOMAINS, domain_dimensions, domain_metrics
from dashboard.core.periods import GRAINS, PERIODS, Period, custom_period, resolve_period
from data_access.contract import schema
from data_access.semantic.query import TIME_GRAINS, Filter, MetricRequest, OrderBy, TimeRange

TIME = "time"
CHART_TYPES: tuple[str, ...] = ("line", "bar", "stacked", "heatmap", "map", "table")
PERIOD_CHOICES: tuple[str, ...] = (*PERIODS, "custom")
MAX_DIMENSIONS = 2
MAP_LEVELS: tuple[str, ...] = ("district", "street")
REGION_FILTER_LEVELS: tuple[str, ...] = ("district", "street")
ROW_LIMIT = 20_000  # rows a view may return; the page says so when a view would return more
DEFAULT_METRIC_COUNT = 2
PARAMS: tuple[str, ...] = (
    "domain",
    "metrics",
    "dims",
    "grain",
    "period",
    "start",
    "end",
    "region",
    "department",
    "category",
    "channel",
    "chart",
)
# Parameters of the rest of the app that may sit in the same URL: left alone, never named as bad.
APP_PARAMS: tuple[str, ...] = ("lang", "kiosk", "rotate", "screen_token", "embed", "embed_options")
_SHOWN_VALUE_LENGTH = 40


@dataclass(frozen=True)
class WorkbenchState:
    """One view of the workbench; the defaults are the page's first view."""

    domain: str = DOMAINS[0]
    metrics: tuple[str, ...] = ()  # empty: the domain's first two metrics
    dimensions: tuple[str, ...] = (TIME,)
    grain: str = "day"
    period: str = "month"
    start: dt.date | None = None  # custom period: first day
    end: dt.date | None = None  # custom period: the day after the last
    region: str | None = None
    departments: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    chart: str = "line"

    @property
    def table(self) -> str:
        return DOMAIN_TABLES[self.domain]

    @property
    def chosen_metrics(self) -> tuple[str, ...]:
        return self.metrics or default_metrics(self.domain)

    @property
    def request_dimensions(self) -> tuple[str, ...]:
        """The dimensions as the metric layer names them (``time`` → the grain)."""
        return tuple(self.grain if name == TIME else name for name in self.dimensions)


@dataclass(frozen=True)
class Choices:
    """The values a view may name, from the database: what ``parse_params`` checks against."""

    region_levels: Mapping[str, str] = field(default_factory=dict)  # code -> level
    departments: Mapping[str, str] = field(default_factory=dict)  # code -> name
    categories: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # table -> level-1 code -> name


def default_metrics(domain: str) -> tuple[str, ...]:
    return domain_metrics(domain)[:DEFAULT_METRIC_COUNT]


def dimension_choices(domain: str) -> tuple[str, ...]:
    """``time`` first, then every non-time dimension of the domain's table."""
    return (TIME, *(name for name in domain_dimensions(domain) if name not in TIME_GRAINS))


def channel_choices(domain: str) -> tuple[str, ...]:
    return schema.ALLOWED_VALUES.get((DOMAIN_TABLES[domain], "channel"), ())


def has_categories(domain: str) -> bool:
    return DOMAIN_TABLES[domain] in ("complaints", "grid_events")


def in_registry_order(domain: str, metrics: Sequence[str]) -> tuple[str, ...]:
    wanted = set(metrics)
    return tuple(name for name in domain_metrics(domain) if name in wanted)


# ---- URL parameters ------------------------------------------------------------------------------


def _shown(key: str, value: str) -> str:
    value = value if len(value) <= _SHOWN_VALUE_LENGTH else value[:_SHOWN_VALUE_LENGTH] + "…"
    return f"{key}={value}"


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def _parse_filters(
    state: WorkbenchState, params: Mapping[str, str], choices: Choices
) -> tuple[WorkbenchState, list[str]]:
    """The region, department, category and channel filters; values outside the choices are named."""
    notices: list[str] = []
    region = params.get("region")
    if region is not None:
        if choices.region_levels.get(region) in REGION_FILTER_LEVELS:
            state = replace(state, region=region)
        else:
            notices.append(_shown("region", region))

    if "department" in params:
        codes = _items(params["department"])
        notices.extend(_shown("department", code) for code in codes if code not in choices.departments)
        state = replace(state, departments=tuple(dict.fromkeys(c for c in codes if c in choices.departments)))

    if "category" in params:
        allowed = choices.categories.get(state.table, {}) if has_categories(state.domain) else {}
        codes = _items(params["category"])
        notices.extend(_shown("category", code) for code in codes if code not in allowed)
        state = replace(state, categories=tuple(dict.fromkeys(c for c in codes if c in allowed)))

    if "channel" in params:
        allowed_channels = channel_choices(state.domain)
        values = _items(params["channel"])
        notices.extend(_shown("channel", value) for value in values if value not in allowed_channels)
        state = replace(state, channels=tuple(dict.fromkeys(v for v in values if v in allowed_channels)))
    return state, notices


def parse_params(params: Mapping[str, str], choices: Choices) -> tuple[WorkbenchState, tuple[str, ...]]:
    """A view from URL parameters; every parameter that is unknown or holds a bad value is named.

    Bad values fall back to the default of that part of the view; the rest of the view is kept.
    """
    notices: list[str] = [
        key for key in params if key not in PARAMS and key not in APP_PARAMS
    ]  # unknown names only, never their values (a token could be in there)
    state = WorkbenchState()

    domain = params.get("domain")
    if domain is not None:
        if domain in DOMAINS:
            state = replace(state, domain=domain)
        else:
            notices.append(_shown("domain", domain))

    if "metrics" in params:
        names = _items(params["metrics"])
        known = set(domain_metrics(state.domain))
        notices.extend(_shown("metrics", name) for name in names if name not in known)
        state = replace(state, metrics=in_registry_order(state.domain, [n for n in names if n in known]))

    grain = params.get("grain")
    if grain is not None:
        if grain in GRAINS:
            state = replace(state, grain=grain)
        else:
            notices.append(_shown("grain", grain))

    if "dims" in params:
        state, dim_notices = _parse_dimensions(state, _items(params["dims"]))
        notices.extend(dim_notices)

    state, period_notices = _parse_period(state, params)
    notices.extend(period_notices)

    state, filter_notices = _parse_filters(state, params, choices)
    notices.extend(filter_notices)

    chart = params.get("chart")
    if chart is not None and chart not in CHART_TYPES:
        notices.append(_shown("chart", chart))
        chart = None
    # no (valid) chart named: lines for time, bars for a category axis
    state = replace(state, chart=chart or natural_chart(state))
    return state, tuple(notices)


def natural_chart(state: WorkbenchState) -> str:
    return "line" if state.dimensions[:1] == (TIME,) else "bar"


def _parse_dimensions(state: WorkbenchState, names: list[str]) -> tuple[WorkbenchState, list[str]]:
    notices: list[str] = []
    allowed = dimension_choices(state.domain)
    kept: list[str] = []
    for name in names:
        if name in TIME_GRAINS:  # ``dims=week`` is read as time at that grain, unless a grain is given too
            state = state if state.grain != "day" else replace(state, grain=name)
            name = TIME
        if name not in allowed or name in kept or len(kept) >= MAX_DIMENSIONS:
            notices.append(_shown("dims", name))
            continue
        kept.append(name)
    return (replace(state, dimensions=tuple(kept)) if kept else state), notices


def _parse_period(state: WorkbenchState, params: Mapping[str, str]) -> tuple[WorkbenchState, list[str]]:
    notices: list[str] = []
    period = params.get("period")
    raw_start, raw_end = params.get("start"), params.get("end")
    if period is not None and period not in PERIOD_CHOICES:
        notices.append(_shown("period", period))
        period = None
    if period is None and (raw_start is not None or raw_end is not None):
        period = "custom"  # a date range alone means a custom period, as in the alert links
    if period == "custom":
        start, end = _date(raw_start or ""), _date(raw_end or "")
        if start is None:
            notices.append(_shown("start", raw_start or ""))
        if end is None:
            notices.append(_shown("end", raw_end or ""))
        if start is not None and end is not None and end <= start:
            notices.append(f"start={raw_start}&end={raw_end}")
            start = end = None
        if start is None or end is None:
            return state, notices
        return replace(state, period="custom", start=start, end=end), notices
    if raw_start is not None or raw_end is not None:
        notices.extend(_shown(key, params[key]) for key in ("start", "end") if key in params)
    if period is not None:
        state = replace(state, period=period)
    return state, notices


def to_params(state: WorkbenchState) -> dict[str, str]:
    """The view as URL parameters, leaving out what equals the default (short, readable links)."""
    default = WorkbenchState()
    params: dict[str, str] = {}
    if state.domain != default.domain:
        params["domain"] = state.domain
    if state.metrics and state.metrics != default_metrics(state.domain):
        params["metrics"] = ",".join(state.metrics)
    if state.dimensions != default.dimensions:
        params["dims"] = ",".join(state.dimensions)
    if state.grain != default.grain:
        params["grain"] = state.grain
    if state.period != default.period:
        params["period"] = state.period
    if state.period == "custom" and state.start is not None and state.end is not None:
        params["start"] = state.start.isoformat()
        params["end"] = state.end.isoformat()
    if state.region:
        params["region"] = state.region
    if state.departments:
        params["department"] = ",".join(state.departments)
    if state.categories:
        params["category"] = ",".join(state.categories)
    if state.channels:
        params["channel"] = ",".join(state.channels)
    if state.chart != natural_chart(state):
        params["chart"] = state.chart
    return params


def query_string(state: WorkbenchState) -> str:
    """``domain=complaints&dims=street`` (commas kept readable)."""
    return urlencode(to_params(state), safe=",")


def parse_query_string(text: str, choices: Choices) -> tuple[WorkbenchState, tuple[str, ...]]:
    """A saved view's state (a query string) back into a view, as strictly as a URL."""
    from urllib.parse import parse_qsl

    pairs = parse_qsl(text.lstrip("?"), keep_blank_values=True)
    return parse_params(dict(pairs), choices)


# ---- the request ---------------------------------------------------------------------------------


def state_period(state: WorkbenchState, as_of: dt.datetime) -> Period:
    """The view's period at the data's as-of time: a preset, or the custom range as given."""
    if state.period == "custom" and state.start is not None and state.end is not None:
        time_range = TimeRange(dt.datetime.combine(state.start, dt.time()), dt.datetime.combine(state.end, dt.time()))
        return custom_period(time_range, as_of)
    return resolve_period(state.period if state.period in PERIODS else "month", as_of)


def filters_for(state: WorkbenchState) -> tuple[Filter, ...]:
    filters: list[Filter] = []
    if state.region:
        filters.append(Filter("region", (state.region,)))
    if state.departments:
        filters.append(Filter("department", state.departments))
    if state.categories and has_categories(state.domain):
        filters.append(Filter("category_l1", state.categories))
    if state.channels and channel_choices(state.domain):
        filters.append(Filter("channel", state.channels))
    return tuple(filters)


def request_for(state: WorkbenchState, period: Period, limit: int = ROW_LIMIT) -> MetricRequest:
    """ONE request: the metrics by the view's dimensions over its period and filters.

    Time buckets come in time order; otherwise rows come by the first metric, largest first, so the
    chart's top categories are the first rows. ``limit + 1`` rows are asked for, so the page can
    tell that a view was cut.
    """
    metrics = state.chosen_metrics
    dimensions = state.request_dimensions
    order: list[OrderBy] = []
    if dimensions and dimensions[0] in TIME_GRAINS:
        order.append(OrderBy(dimensions[0]))
        order.append(OrderBy(metrics[0], descending=True))
    elif dimensions:
        order.append(OrderBy(metrics[0], descending=True))
    # the compiler appends every dimension after these, so equal values still come in a stable order
    return MetricRequest(
        metrics=metrics,
        dimensions=dimensions,
        filters=filters_for(state),
        time_range=period.current,
        order_by=tuple(order),
        limit=limit + 1,
    )


def chart_problem(state: WorkbenchState) -> str | None:
    """Why the chosen chart cannot show this view (an i18n key), or ``None`` when it can."""
    if state.chart == "heatmap" and len(state.dimensions) < 2:
        return "wb_heatmap_needs_two"
    if state.chart == "map" and (not state.dimensions or state.dimensions[0] not in MAP_LEVELS):
        return "wb_map_needs_region"
    if state.chart == "map" and len(state.dimensions) > 1:
        return "wb_map_one_dimension"
    if state.chart in ("line", "bar", "stacked", "heatmap", "map") and not state.dimensions:
        return "wb_chart_needs_dimension"
    return None
