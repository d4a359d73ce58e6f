"""The analyst workbench's controls: widgets seeded from the URL, and the URL kept in step with them.

The page's address always holds the current view (``dashboard.workbench.view_state`` parameters), so copying
it shares the view. A widget takes its first value from the URL; the URL is rewritten from the
widgets on every run (bad parameters are named once, then gone).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import streamlit as st

from dashboard.core.i18n import metric_label, t
from dashboard.core.metric_requests import DOMAIN_TABLES, DOMAINS, domain_metrics
from dashboard.core.periods import GRAINS
from dashboard.session import context
from dashboard.workbench import view_state as wb

ALL = context.ALL
NONE = "none"
NOTICES_KEY = "wb_view_notices"

# widget key -> how its value is read from a view (the keys "domain", "metrics" and "dimension"
# are the metric explorer's, kept so links and tests written for it still work)
K_DOMAIN, K_METRICS, K_DIM1, K_DIM2 = "domain", "metrics", "dimension", "dimension2"
K_GRAIN, K_CHART, K_PERIOD, K_RANGE = "wb_grain", "wb_chart", "wb_period", "wb_range"
K_DISTRICT, K_STREET, K_DEPARTMENTS, K_CATEGORIES, K_CHANNELS = (
    "wb_district",
    "wb_street",
    "wb_departments",
    "wb_categories",
    "wb_channels",
)


@dataclass(frozen=True)
class Regions:
    """Every region code's level and parent: how a region filter maps onto the district and street boxes."""

    levels: dict[str, str]
    parents: dict[str, str | None]


def region_tree(ctx: context.Context) -> Regions:
    """Level and parent of every region code (cached: the names change only with the data)."""
    frame = ctx.data.regions()
    codes = frame["code"].to_list()
    return Regions(
        dict(zip(codes, frame["level"].to_list(), strict=True)),
        dict(zip(codes, frame["parent_code"].to_list(), strict=True)),
    )


def _categories(ctx: context.Context, table: str) -> dict[str, str]:
    return ctx.data.category_choices(table)


def choices(ctx: context.Context) -> wb.Choices:
    return wb.Choices(
        region_levels=ctx.region_levels(),  # the viewer's regions only: a link to another's is ignored
        departments=ctx.names("department"),
        categories={table: _categories(ctx, table) for table in ("complaints", "grid_events")},
    )


# ---- the view <-> the widgets ------------------------------------------------------------------------


def widget_values(ctx: context.Context, state: wb.WorkbenchState) -> dict[str, Any]:
    """What each widget shows for a view."""
    regions = region_tree(ctx)
    district, street = ALL, ALL
    if state.region and regions.levels.get(state.region) == "district":
        district = state.region
    elif state.region and regions.levels.get(state.region) == "street":
        district, street = regions.parents.get(state.region) or ALL, state.region
    period = wb.state_period(state, ctx.as_of)
    end = period.current.end - dt.timedelta(microseconds=1)
    return {
        K_DOMAIN: state.domain,
        K_METRICS: list(state.chosen_metrics),
        K_DIM1: state.dimensions[0],
        K_DIM2: state.dimensions[1] if len(state.dimensions) > 1 else NONE,
        K_GRAIN: state.grain,
        K_CHART: state.chart,
        K_PERIOD: state.period,
        K_RANGE: (period.current.start.date(), end.date()),
        K_DISTRICT: district,
        K_STREET: street,
        K_DEPARTMENTS: list(state.departments),
        K_CATEGORIES: list(state.categories),
        K_CHANNELS: list(state.channels),
    }


def seed_widgets(values: Mapping[str, Any], *, overwrite: bool) -> None:
    """Give widgets their values before they are drawn; ``overwrite`` replaces what the user had chosen."""
    for key, value in values.items():
        if overwrite or key not in st.session_state:
            st.session_state[key] = value


def _url_params() -> dict[str, str]:
    return {key: str(st.query_params[key]) for key in st.query_params}


def sync_url(state: wb.WorkbenchState) -> None:
    """Make the address bar hold this view (other parameters of the app, such as ``lang``, stay)."""
    current = _url_params()
    wanted = {key: value for key, value in current.items() if key in wb.APP_PARAMS}
    wanted.update(wb.to_params(state))
    if wanted != current:
        st.query_params.from_dict(wanted)


def _on_domain_change() -> None:
    """A new domain: its first metrics, dimensions that exist there, no category or channel filter."""
    domain = st.session_state[K_DOMAIN]
    st.session_state[K_METRICS] = list(wb.default_metrics(domain))
    allowed = wb.dimension_choices(domain)
    if st.session_state.get(K_DIM1) not in allowed:
        st.session_state[K_DIM1] = wb.TIME
    if st.session_state.get(K_DIM2) not in allowed:
        st.session_state[K_DIM2] = NONE
    st.session_state[K_CATEGORIES] = []
    st.session_state[K_CHANNELS] = []


def _on_dimension_change() -> None:
    """Lines suit time, bars suit categories: switch between the two when the first dimension changes kind."""
    first = st.session_state.get(K_DIM1)
    chart = st.session_state.get(K_CHART)
    if first != wb.TIME and chart == "line":
        st.session_state[K_CHART] = "bar"
    elif first == wb.TIME and chart == "map":
        st.session_state[K_CHART] = "line"
    if st.session_state.get(K_DIM2) == first:
        st.session_state[K_DIM2] = NONE


def controls(ctx: context.Context) -> wb.WorkbenchState:
    """Every control of the workbench, first filled from the URL; returns the view they describe."""
    lang = ctx.lang
    url_state, notices = wb.parse_params(_url_params(), choices(ctx))
    seed_widgets(widget_values(ctx, url_state), overwrite=False)
    shown_notices = [*notices, *st.session_state.pop(NOTICES_KEY, [])]
    if shown_notices:
        st.warning(t("wb_params_ignored", lang, params=", ".join(shown_notices)))
    domain, metrics, chart = _what_row(lang)
    dimensions, grain, period_key, start, end = _how_row(ctx, domain)
    state = wb.WorkbenchState(
        domain=domain,
        metrics=wb.in_registry_order(domain, metrics),
        dimensions=dimensions,
        grain=grain,
        period=period_key,
        start=start,
        end=end,
        chart=chart,
    )
    state = _filters(ctx, state)
    sync_url(state)
    return state


def _what_row(lang: str) -> tuple[str, list[str], str]:
    """The first row: (domain, metrics, chart type)."""
    top = st.columns([1.2, 3, 2.4], vertical_alignment="bottom")
    with top[0]:
        domain = str(
            st.selectbox(
                t("domain", lang),
                DOMAINS,
                key=K_DOMAIN,
                format_func=lambda d: t(f"domain_{d}", lang),
                on_change=_on_domain_change,
            )
        )
    metric_options = domain_metrics(domain)
    st.session_state[K_METRICS] = [m for m in st.session_state.get(K_METRICS, []) if m in metric_options]
    with top[1]:
        metrics = st.multiselect(
            t("metrics", lang), metric_options, key=K_METRICS, format_func=lambda name: metric_label(name, lang)
        )
    with top[2]:
        chart = str(
            st.segmented_control(
                t("wb_chart", lang),
                wb.CHART_TYPES,
                key=K_CHART,
                required=True,
                format_func=lambda c: t(f"wb_chart_{c}", lang),
            )
            or "line"
        )
    return domain, metrics, chart


def _how_row(ctx: context.Context, domain: str) -> tuple[tuple[str, ...], str, str, dt.date | None, dt.date | None]:
    """The second row: (dimensions, grain, period key, custom start, custom end exclusive)."""
    lang = ctx.lang
    dimension_options = wb.dimension_choices(domain)
    if st.session_state.get(K_DIM1) not in dimension_options:
        st.session_state[K_DIM1] = wb.TIME
    middle = st.columns([1.2, 1.2, 2, 3.6], vertical_alignment="bottom")
    with middle[0]:
        first = str(
            st.selectbox(
                t("dimension", lang),
                dimension_options,
                key=K_DIM1,
                format_func=lambda d: _dimension_label(d, lang),
                on_change=_on_dimension_change,
            )
        )
    second_options = [NONE, *(d for d in dimension_options if d != first)]
    if st.session_state.get(K_DIM2) not in second_options:
        st.session_state[K_DIM2] = NONE
    with middle[1]:
        second = str(
            st.selectbox(
                t("wb_dimension2", lang),
                second_options,
                key=K_DIM2,
                format_func=lambda d: t("wb_none", lang) if d == NONE else _dimension_label(d, lang),
            )
        )
    dimensions = (first,) if second == NONE else (first, second)
    with middle[2]:
        grain = str(
            st.segmented_control(
                t("grain", lang),
                GRAINS,
                key=K_GRAIN,
                required=True,
                disabled=wb.TIME not in dimensions,
                format_func=lambda g: t(f"grain_{g}", lang),
            )
            or "day"
        )
    with middle[3]:
        period_key = str(
            st.segmented_control(
                t("period", lang),
                wb.PERIOD_CHOICES,
                key=K_PERIOD,
                required=True,
                format_func=lambda p: t(f"period_{p}", lang) if p != "custom" else t("wb_period_custom", lang),
            )
            or "month"
        )
    start = end = None
    if period_key == "custom":
        picked = st.date_input(t("wb_custom_range", lang), key=K_RANGE, max_value=ctx.as_of.date(), format="YYYY-MM-DD")
        days = [day for day in (picked if isinstance(picked, tuple | list) else [picked]) if day is not None]
        if days:
            start, end = min(days), max(days) + dt.timedelta(days=1)
        else:
            period_key = "month"
    return dimensions, grain, period_key, start, end


def _dimension_label(dimension: str, lang: str) -> str:
    return t("wb_time", lang) if dimension == wb.TIME else t(f"dim_{dimension}", lang)


def _filters(ctx: context.Context, state: wb.WorkbenchState) -> wb.WorkbenchState:
    """Region, departments, categories and channels, in an expander that opens itself when one is set."""
    lang = ctx.lang
    active = any(
        st.session_state.get(key) not in (None, ALL, [])
        for key in (K_DISTRICT, K_STREET, K_DEPARTMENTS, K_CATEGORIES, K_CHANNELS)
    )
    with st.expander(t("wb_filters", lang), expanded=active):
        columns = st.columns(5)
        region = _region_boxes(ctx, columns[0], columns[1])
        departments = ctx.names("department")
        with columns[2]:
            chosen_departments = st.multiselect(
                t("dim_department", lang),
                list(departments),
                key=K_DEPARTMENTS,
                format_func=lambda c: departments.get(c, c),
                placeholder=t("wb_all", lang),
            )
        chosen_categories: list[str] = []
        if wb.has_categories(state.domain):
            categories = _categories(ctx, DOMAIN_TABLES[state.domain])
            st.session_state[K_CATEGORIES] = [c for c in st.session_state.get(K_CATEGORIES, []) if c in categories]
            with columns[3]:
                chosen_categories = st.multiselect(
                    t("dim_category_l1", lang),
                    list(categories),
                    key=K_CATEGORIES,
                    format_func=lambda c: categories.get(c, c),
                    placeholder=t("wb_all", lang),
                )
        chosen_channels: list[str] = []
        channels = wb.channel_choices(state.domain)
        if channels:
            st.session_state[K_CHANNELS] = [c for c in st.session_state.get(K_CHANNELS, []) if c in channels]
            with columns[4]:
                chosen_channels = st.multiselect(
                    t("dim_channel", lang), list(channels), key=K_CHANNELS, placeholder=t("wb_all", lang)
                )
    return replace(
        state,
        region=region,
        departments=tuple(chosen_departments),
        categories=tuple(chosen_categories),
        channels=tuple(chosen_channels),
    )


def _region_boxes(ctx: context.Context, district_column: Any, street_column: Any) -> str | None:
    """The district box, then the street box listing that district's streets; the finest region chosen."""
    lang = ctx.lang
    districts = dict(ctx.districts())
    if st.session_state.get(K_DISTRICT) not in (ALL, *districts):
        st.session_state[K_DISTRICT] = ALL
    with district_column:
        district = str(
            st.selectbox(
                t("district", lang),
                [ALL, *districts],
                key=K_DISTRICT,
                format_func=lambda c: t("all_districts", lang) if c == ALL else districts.get(c, c),
            )
        )
    streets = ctx.children(district) if district != ALL else []
    street_names = ctx.names("street")
    if st.session_state.get(K_STREET) not in (ALL, *streets):
        st.session_state[K_STREET] = ALL
    with street_column:
        street = str(
            st.selectbox(
                t("dim_street", lang),
                [ALL, *streets],
                key=K_STREET,
                disabled=not streets,
                format_func=lambda c: t("wb_all", lang) if c == ALL else street_names.get(c, c),
            )
        )
    return street if street != ALL else (district if district != ALL else None)
