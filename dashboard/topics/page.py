"""Streamlit glue of the three topic pages: filters kept in the URL, breadcrumb, drill map, clickable
breakdowns, the paged detail table. What to ask and how to draw it lives in the pure modules
(``topic_state``, ``topic_queries``, ``topic_figures``, ``topic_tables``); this module only wires widgets.

The URL is the page's state: every widget's value is set from it before the widget is drawn, and
every change (a widget, a click on the map, a bar or a sector, a breadcrumb) writes the new state
back into ``st.query_params`` and reruns — so a copied link always reproduces the view.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import polars as pl
import sqlalchemy as sa
import streamlit as st

from dashboard.charts.figures import complete_buckets, trend_figure
from dashboard.charts.maps import LIGHT, load_features, map_figure, selected_code
from dashboard.charts.tables import display_table
from dashboard.charts.theme import PLOTLY_CONFIG
from dashboard.core.formatting import format_datetime, format_number
from dashboard.core.i18n import metric_label, t
from dashboard.core.metric_requests import TOPIC_KPIS
from dashboard.core.periods import GRAINS, PERIODS, Period
from dashboard.exports import downloads
from dashboard.screen.snapshot import point_frame
from dashboard.screen.ticker import alerts_for_page
from dashboard.session import context, early_warning, furniture
from dashboard.session.context import ALL, Context
from dashboard.topics import figures, topic_view
from dashboard.topics.data import RATE, VOLUME, TopicQueries, count_metrics
from dashboard.topics.state import (
    CHANNEL_DIMENSION,
    COMPARISONS,
    CUSTOM,
    STATE_PARAMS,
    TopicState,
    Vocabulary,
    channel_values,
    child_level,
    parse_state,
    region_levels,
    region_path,
    state_params,
)
from dashboard.topics.tables import OVERDUE_COLUMNS, detail_frame
from dashboard.topics.topic_view import TopicView
from data_access.semantic.details import COMPUTED, DETAIL_COLUMNS, DetailPage
from data_access.semantic.distributions import HistogramRequest
from data_access.semantic.query import RequestError, TimeRange

log = logging.getLogger(__name__)
MAP_WIDTH, MAP_HEIGHT = 760, 520
PAGE_SIZES = (20, 50, 100)


# ---- what the page knows about codes ------------------------------------------------------------


def vocabulary(ctx: Context) -> Vocabulary:
    domains, _, _ = ctx.data.category_tree()
    return Vocabulary(
        region_levels=ctx.region_levels(),
        parents=ctx.region_parents(),
        departments=ctx.names("department"),
        categories=domains,
    )


# ---- the page ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicPage:
    """One render of a topic page: the context, its table, the state read from the URL, its requests."""

    ctx: Context
    domain: str
    state: TopicState
    vocabulary: Vocabulary

    @property
    def queries(self) -> TopicQueries:
        return TopicQueries(self.domain, self.state, self.ctx.as_of)

    @property
    def table(self) -> str:
        return self.queries.table

    @property
    def period(self) -> Period:
        return self.queries.period

    @property
    def district(self) -> str | None:
        path = region_path(self.state.region, self.vocabulary.parents)
        return path[0] if path else None

    @property
    def view(self) -> TopicView:
        return TopicView(self.period, self.district, self.queries.filters())

    @property
    def comparison_label(self) -> str:
        return t("vs_last_year" if self.state.compare == "last_year" else "vs_previous", self.ctx.lang)


def _query_params() -> dict[str, str]:
    return {key: str(st.query_params[key]) for key in STATE_PARAMS if key in st.query_params}


def _write(table: str, state: TopicState, parents: Mapping[str, str | None]) -> None:
    """Put ``state`` into the URL, keeping parameters that are not the page's (lang, kiosk, …)."""
    others = {key: str(st.query_params[key]) for key in st.query_params if key not in STATE_PARAMS}
    st.query_params.from_dict({**others, **state_params(state, parents, table)})


def open_topic(ctx: Context, domain: str) -> TopicPage:
    """Read the page's state from the URL, draw the filter bar and the breadcrumb; returns the page."""
    words = vocabulary(ctx)
    table = TopicQueries(domain, TopicState(), ctx.as_of).table
    state, notices = parse_state(_query_params(), words, table)
    if notices:
        st.warning(t("link_ignored", ctx.lang, params=", ".join(notices)))
        _write(table, state, words.parents)  # a copied link now reproduces what is shown
    page = TopicPage(ctx, domain, state, words)
    _filter_bar(page)
    _breadcrumb(page)
    return page


def _apply(page: TopicPage, change: Callable[[TopicState], TopicState]) -> None:
    _write(page.table, change(page.state), page.vocabulary.parents)


def _on_widget(page: TopicPage, key: str, change: Callable[[TopicState, Any], TopicState]) -> None:
    """Widget callback: the widget's new value, through ``change``, becomes the page's state."""
    _apply(page, lambda state: change(state, st.session_state.get(key)))


def _widget(key: str, value: Any) -> None:
    """Show ``value`` in the widget ``key`` (set before the widget is drawn, so the URL always wins)."""
    st.session_state[key] = value


# ---- filter bar ------------------------------------------------------------------------------------


def _set_period(state: TopicState, value: Any) -> TopicState:
    return replace(state, period=str(value or "month"), custom=state.custom if value == CUSTOM else None)


def _set_range(state: TopicState, value: Any) -> TopicState:
    if not isinstance(value, tuple | list) or len(value) != 2:
        return state  # the second date is not picked yet
    first, last = value
    start = dt.datetime.combine(first, dt.time())
    return replace(
        state, period=CUSTOM, custom=TimeRange(start, dt.datetime.combine(last, dt.time()) + dt.timedelta(days=1))
    )


def _set_region(parent: str | None) -> Callable[[TopicState, Any], TopicState]:
    def change(state: TopicState, value: Any) -> TopicState:
        return replace(state, region=parent if value in (None, ALL) else str(value))

    return change


def _chosen(value: Any) -> str | None:
    return None if value in (None, ALL) else str(value)


def _set_department(state: TopicState, value: Any) -> TopicState:
    return replace(state, department=_chosen(value))


def _set_category(state: TopicState, value: Any) -> TopicState:
    return replace(state, category=_chosen(value))


def _set_channel(state: TopicState, value: Any) -> TopicState:
    return replace(state, channel=_chosen(value))


def _set_grain(state: TopicState, value: Any) -> TopicState:
    return replace(state, grain=_chosen(value) or "day")


def _labels(names: Mapping[str, str], lang: str) -> Callable[[str], str]:
    """A selectbox's format_func: 全部 for the catch-all, else the code's name."""

    def label(code: str) -> str:
        return t("all_regions", lang) if code == ALL else names.get(code, code)

    return label


def _tree_labels(names: Mapping[str, str], parents: Mapping[str, str | None], lang: str) -> Callable[[str], str]:
    """Category names indented by their depth in the tree."""

    def label(code: str) -> str:
        if code == ALL:
            return t("all_regions", lang)
        return "　" * (len(region_path(code, parents)) - 1) + names.get(code, code)

    return label


def _set_compare(state: TopicState, value: Any) -> TopicState:
    return replace(state, compare=str(value or "previous"))


def _filter_bar(page: TopicPage) -> None:
    ctx, state, lang = page.ctx, page.state, page.ctx.lang
    period_column, range_column, compare_column = st.columns([5, 3, 2], vertical_alignment="bottom")
    with period_column:
        _widget("period", state.period)
        st.segmented_control(
            t("period", lang),
            [*PERIODS, CUSTOM],
            required=True,
            key="period",
            format_func=lambda key: t(f"period_{key}", lang),
            on_change=_on_widget,
            args=(page, "period", _set_period),
        )
    with range_column:
        current = page.period.current
        if state.period == CUSTOM:
            _widget("period_range", (current.start.date(), (current.end - dt.timedelta(days=1)).date()))
            st.date_input(
                t("custom_range", lang),
                key="period_range",
                max_value=ctx.as_of.date(),
                format="YYYY-MM-DD",
                on_change=_on_widget,
                args=(page, "period_range", _set_range),
            )
        else:
            end = current.end - dt.timedelta(minutes=1)
            st.caption(t("period_range", lang, start=format_datetime(current.start), end=format_datetime(end)))
    with compare_column:
        _widget("compare", state.compare)
        st.segmented_control(
            t("compare", lang),
            list(COMPARISONS),
            required=True,
            key="compare",
            format_func=lambda key: t(f"compare_{key}", lang),
            on_change=_on_widget,
            args=(page, "compare", _set_compare),
        )
    levels = region_levels(page.table)
    columns = st.columns(len(levels) + 3)
    path = region_path(state.region, page.vocabulary.parents)
    parent: str | None = None
    for index, (level, column) in enumerate(zip(levels, columns, strict=False)):
        options: list[str] = (
            [code for code, _ in ctx.districts()] if index == 0 else (ctx.children(parent) if parent else [])
        )
        chosen = path[index] if index < len(path) else ALL
        with column:
            _widget(level, chosen if chosen in options else ALL)
            st.selectbox(
                t(f"dim_{level}", lang),
                [ALL, *sorted(options)],
                key=level,
                disabled=index > 0 and parent is None,
                format_func=_labels(ctx.names(level), lang),
                on_change=_on_widget,
                args=(page, level, _set_region(parent)),
            )
        parent = chosen if chosen != ALL else None
    departments = ctx.names("department")
    with columns[len(levels)]:
        _widget("department", state.department or ALL)
        st.selectbox(
            t("dim_department", lang),
            [ALL, *sorted(departments, key=lambda code: departments[code])],
            key="department",
            format_func=_labels(departments, lang),
            on_change=_on_widget,
            args=(page, "department", _set_department),
        )
    domains, parents, category_names = ctx.data.category_tree()
    with columns[len(levels) + 1]:
        mine = [code for code, domain in domains.items() if domain == page.table]
        if mine:
            _widget("category", state.category or ALL)
            st.selectbox(
                t("category", lang),
                [ALL, *mine],
                key="category",
                format_func=_tree_labels(category_names, parents, lang),
                on_change=_on_widget,
                args=(page, "category", _set_category),
            )
    channel = CHANNEL_DIMENSION[page.table]
    with columns[len(levels) + 2]:
        _widget("channel", state.channel or ALL)
        st.selectbox(
            t(f"dim_{channel}", lang),
            [ALL, *channel_values(page.table)],
            key="channel",
            format_func=_labels({}, lang),
            on_change=_on_widget,
            args=(page, "channel", _set_channel),
        )


def _breadcrumb(page: TopicPage) -> None:
    """城市 › 区 › 街道 › 社区: each step goes back up; a clear button resets every filter."""
    ctx, lang = page.ctx, page.ctx.lang
    path = region_path(page.state.region, page.vocabulary.parents)
    city = ctx.city.name_en if lang == "en" else ctx.city.name
    with st.container(horizontal=True, vertical_alignment="center", key="breadcrumb"):
        st.markdown(f"**{t('you_are_here', lang)}**", width="content")
        steps: list[tuple[str | None, str]] = [(None, city)]
        steps += [(code, ctx.names(page.vocabulary.region_levels[code]).get(code, code)) for code in path]
        for index, (code, name) in enumerate(steps):
            last = index == len(steps) - 1
            st.button(
                name,
                key=f"crumb_{index}",
                type="tertiary",
                disabled=last,
                on_click=_apply,
                args=(page, functools.partial(_drill_to, code)),
            )
            if not last:
                st.markdown("›", width="content")
        if page.state != TopicState():
            st.button(t("clear_filters", lang), key="clear_filters", on_click=_apply, args=(page, _reset))


def _drill_to(code: str | None, state: TopicState) -> TopicState:
    return replace(state, region=code)


def _reset(state: TopicState) -> TopicState:
    return TopicState()


# ---- sections ------------------------------------------------------------------------------------


def kpis(page: TopicPage, metrics: tuple[str, ...]) -> None:
    topic_view.kpi_section(page.ctx, metrics, page.view, comparison=page.comparison_label)


def page_alerts(page: TopicPage) -> pl.DataFrame:
    """The early-warning alerts of this page's data inside its region (empty if the run failed)."""
    try:
        return alerts_for_page(
            early_warning.early_warning_alerts(page.ctx), page.table, page.state.region, page.vocabulary.parents
        )
    except Exception:  # the page stays useful without them
        log.exception("early-warning run failed on a topic page")
        return pl.DataFrame()


def trend(page: TopicPage, alerts: pl.DataFrame, metric: str | None = None, key: str = "trend") -> None:
    """The grain switch (shared by the page's trends) and a trend with the comparison dashed and alert markers."""
    ctx, lang, state = page.ctx, page.ctx.lang, page.state
    metric = metric or VOLUME[page.table]
    if key == "trend":
        _widget("grain", state.grain)
        st.segmented_control(
            t("grain", lang),
            list(GRAINS),
            required=True,
            key="grain",
            format_func=lambda grain: t(f"grain_{grain}", lang),
            on_change=_on_widget,
            args=(page, "grain", _set_grain),
        )
    window = page.queries.window
    current, previous = page.queries.trend(metric)
    comparison = t(
        "compare_last_year"
        if state.compare == "last_year"
        else {"day": "compare_five_weeks", "week": "compare_previous", "month": "compare_last_year"}[state.grain],
        lang,
    )
    figure = trend_figure(
        complete_buckets(ctx.run(current), state.grain, window.current, metric),
        complete_buckets(ctx.run(previous), state.grain, window.previous, metric),
        grain=state.grain,
        metric=metric,
        shift=window.shift,
        lang=lang,
        comparison_label=comparison,
        title=t(
            "trend_heading",
            lang,
            metric=metric_label(metric, lang),
            grain=t(f"grain_{state.grain}", lang),
            comparison=comparison,
        ),
        height=340,
    )
    if metric == VOLUME[page.table] and alerts.height:
        figures.add_alert_markers(
            figure,
            alerts,
            grain=state.grain,
            lang=lang,
            window=(window.current.start.date(), window.current.end.date()),
        )
    data = display_table(ctx.run(current), dimension=state.grain, metrics=(metric,), names={}, lang=lang)
    downloads.chart(ctx, figure, data, key=key, title=figure.layout.title.text or metric_label(metric, lang))


# -- the drill map ---------------------------------------------------------------------------------


def _map_target(page: TopicPage) -> tuple[str, str | None, str | None]:
    """(level shown, region it is inside, region to outline): children of the drilled region, or its siblings."""
    region = page.state.region
    level = child_level(region, page.vocabulary, page.table)
    if level is not None and level in page.ctx.city.geo:
        return level, region, None
    if region is None:  # no geometry at all for the first level: the district layer is always there
        return "district", None, None
    own = page.vocabulary.region_levels[region]
    return own, page.vocabulary.parents.get(region), region


def _on_map_click(page: TopicPage, level: str, within: str | None) -> None:
    code = selected_code(st.session_state.get("topic_map"))
    if code is None or page.vocabulary.region_levels.get(code) != level:
        return
    if code == page.state.region:
        return
    _apply(page, functools.partial(_drill_to, code))


def drill_map(page: TopicPage) -> None:
    """Choropleth of the level below the drilled region (grid-event or complaint density on top);
    a click drills one level down, and the bars beside it rank the same regions (also clickable)."""
    ctx, lang = page.ctx, page.ctx.lang
    level, within, outline = _map_target(page)
    layer = ctx.city.geo[level]
    areas = ctx.run(page.queries.map_areas(level, within))
    codes = ctx.children(within) if within else [code for code, _ in ctx.districts()]
    points_request = page.queries.map_points(within)
    points = ctx.run(points_request) if points_request is not None else pl.DataFrame()
    map_column, bar_column = st.columns([3, 2])
    volume = VOLUME[page.table]
    with map_column:
        figure = map_figure(
            load_features(layer.file, layer.code_property, codes),
            areas.select(level, volume),
            point_frame(points, ctx.grid_centres(), points.columns[1]) if points.height else pl.DataFrame(),
            code_property=layer.code_property,
            area_metric=volume,
            point_metric=points.columns[1] if points.height else volume,
            names=ctx.names(level),
            area_label=metric_label(volume, lang),
            point_label=metric_label(points.columns[1], lang) if points.height else "",
            lang=lang,
            width=MAP_WIDTH,
            height=MAP_HEIGHT,
            radius=14,
            style=LIGHT,
            highlight=outline,
        )
        downloads.chart(
            ctx,
            figure,
            display_table(areas, dimension=level, metrics=areas.columns[1:], names=ctx.names(level), lang=lang),
            key="topic_map",
            title=t("by_region", lang, level=t(f"dim_{level}", lang), metric=metric_label(volume, lang)),
            config={**PLOTLY_CONFIG, "scrollZoom": False, "displayModeBar": False},
            on_select=functools.partial(_on_map_click, page, level, within),
            selection_mode="points",
        )
        hint = "map_hint_topic" if child_level(page.state.region, page.vocabulary, page.table) else "map_hint_finest"
        st.caption(t(hint, lang, level=t(f"dim_{level}", lang)))
    with bar_column:
        ranked = areas.filter(pl.col(level).is_in(codes))
        _clickable(
            page,
            ranked,
            dimension=level,
            key="topic_map_bars",
            title=t("by_region", lang, level=t(f"dim_{level}", lang), metric=metric_label(volume, lang)),
            change=lambda state, code: replace(state, region=code),
            selected=page.state.region,
        )


# -- breakdowns with cross-filter ---------------------------------------------------------------------


def _clickable(
    page: TopicPage,
    frame: pl.DataFrame,
    *,
    dimension: str,
    key: str,
    title: str,
    change: Callable[[TopicState, str], TopicState],
    selected: str | None,
) -> None:
    """A bar chart whose bars set a filter when clicked."""
    lang = page.ctx.lang
    if frame.height == 0:
        st.caption(f"{title}：{t('no_rows', lang)}")
        return
    volume = VOLUME[page.table]
    shown = frame.drop_nulls(dimension).sort(volume, descending=True, nulls_last=True).head(15)
    codes = [str(code) for code in shown[dimension].to_list()]
    figure = figures.clickable_bar(
        shown,
        dimension=dimension,
        value=volume,
        names=page.ctx.names(dimension),
        lang=lang,
        selected=selected,
        title=title,
        rate=next((c for c in frame.columns if c not in (dimension, volume)), None),
    )

    def clicked() -> None:
        code = figures.clicked_code(st.session_state.get(key), codes)
        if code is not None and code != selected:
            _apply(page, lambda state: change(state, code))

    data = display_table(
        shown, dimension=dimension, metrics=shown.columns[1:], names=page.ctx.names(dimension), lang=lang
    )
    downloads.chart(page.ctx, figure, data, key=key, title=title, on_select=clicked, selection_mode="points")


def breakdowns(page: TopicPage) -> None:
    """By department, by category (sunburst of the tree) and by channel or source; a click filters the page."""
    ctx, lang = page.ctx, page.ctx.lang
    left, middle, right = st.columns(3)
    with left:
        _clickable(
            page,
            ctx.run(page.queries.by("department", without="department")),
            dimension="department",
            key="by_department",
            title=t("by_dimension", lang, dimension=t("dim_department", lang)),
            change=lambda state, code: replace(state, department=code),
            selected=page.state.department,
        )
    with middle:
        if page.queries.categories():
            _sunburst(page)
        else:
            _service_items(page)
    with right:
        channel = CHANNEL_DIMENSION[page.table]
        _clickable(
            page,
            ctx.run(page.queries.channel()),
            dimension=channel,
            key="by_channel",
            title=t("by_dimension", lang, dimension=t(f"dim_{channel}", lang)),
            change=lambda state, code: replace(state, channel=code),
            selected=page.state.channel,
        )


def _service_items(page: TopicPage) -> None:
    """Services have no category tree: their volume by service item (事项), largest first."""
    ctx, lang = page.ctx, page.ctx.lang
    frame = ctx.run(page.queries.by("service_item", limit=15))
    if frame.height == 0:
        st.caption(t("no_rows", lang))
        return
    figure = figures.clickable_bar(
        frame,
        dimension="service_item",
        value=VOLUME[page.table],
        names=ctx.data.service_item_names(),
        lang=lang,
        title=t("by_dimension", lang, dimension=t("dim_service_item", lang)),
        rate=RATE[page.table],
    )
    names = ctx.data.service_item_names()
    data = display_table(frame, dimension="service_item", metrics=frame.columns[1:], names=names, lang=lang)
    downloads.chart(ctx, figure, data, key="by_service_item", title=figure.layout.title.text or "")


def _sunburst(page: TopicPage) -> None:
    ctx, lang = page.ctx, page.ctx.lang
    _, parents, names = ctx.data.category_tree()
    levels = [ctx.run(request) for request in page.queries.categories()]
    title = t("by_category", lang)
    if not levels or levels[0].height == 0:
        st.caption(f"{title}：{t('no_rows', lang)}")
        return
    figure = figures.category_sunburst(
        levels,
        value=VOLUME[page.table],
        names=names,
        parents=parents,
        lang=lang,
        selected=page.state.category,
        title=title,
    )
    codes = [str(code) for code in figure.data[0].ids]

    def clicked() -> None:
        code = figures.clicked_code(st.session_state.get("by_category"), codes)
        if code is not None and code != page.state.category:
            _apply(page, lambda state: replace(state, category=code))

    rings = [
        display_table(level, dimension=level.columns[0], metrics=level.columns[1:], names=names, lang=lang)
        for level in levels
    ]
    downloads.chart(ctx, figure, rings[-1], key="by_category", title=title, on_select=clicked, selection_mode="points")
    st.caption(t("sunburst_hint", lang))


# -- distributions and tables -------------------------------------------------------------------------


def run_histogram(page: TopicPage, request: HistogramRequest) -> pl.DataFrame:
    """A histogram for the page, through the context's cache and error handling."""
    try:
        return page.ctx.histogram(request)  # in the viewer's scope
    except (sa.exc.SQLAlchemyError, RequestError) as exc:
        context.stop_with_error(t("query_problem", page.ctx.lang, message=str(exc).splitlines()[0]))


def details(page: TopicPage, request: Any) -> DetailPage:
    try:
        return page.ctx.details(request)  # in the viewer's scope, masked unless the viewer may see personal data
    except (sa.exc.SQLAlchemyError, RequestError) as exc:
        context.stop_with_error(t("query_problem", page.ctx.lang, message=str(exc).splitlines()[0]))


def _names_by_column(page: TopicPage) -> dict[str, Mapping[str, str]]:
    ctx = page.ctx
    _, _, category_names = ctx.data.category_tree()
    return {
        "department_code": ctx.names("department"),
        "district_code": ctx.names("district"),
        "street_code": ctx.names("street"),
        "grid_code": ctx.names("grid"),
        "category_l1_code": category_names,
        "category_l3_code": category_names,
        "major_category_code": category_names,
    }


def overdue_list(page: TopicPage) -> None:
    """The open items past their limit, longest overdue first, with how long they are overdue."""
    found = details(page, page.queries.overdue())
    lang = page.ctx.lang
    if found.total == 0:
        st.caption(t("overdue_none", lang))
        return
    st.caption(t("overdue_count", lang, n=format_number(found.total), shown=found.rows.height))
    frame = detail_frame(found.rows, page.table, _names_by_column(page), lang, OVERDUE_COLUMNS[page.table])
    downloads.table(page.ctx, frame, key="overdue_table", title=t("overdue_title", lang))


def detail_table(page: TopicPage) -> None:
    """The records behind the view, paged and sorted in the database, personal data masked."""
    lang, table = page.ctx.lang, page.table
    choices = count_metrics(table)
    left, sort_column, order_column, size_column, page_column = st.columns([3, 2, 1, 1, 1], vertical_alignment="bottom")
    with left:
        metric = st.selectbox(
            t("detail_records", lang), choices, key="detail_metric", format_func=lambda name: metric_label(name, lang)
        )
    sortable = [*DETAIL_COLUMNS[table][1:], *COMPUTED]
    with sort_column:
        sort = st.selectbox(
            t("detail_sort", lang), sortable, key="detail_sort", format_func=lambda column: t(f"col_{column}", lang)
        )
    with order_column:
        descending = st.toggle(t("detail_descending", lang), value=True, key="detail_descending")
    with size_column:
        size = st.selectbox(t("detail_page_size", lang), PAGE_SIZES, key="detail_page_size")
    with page_column:
        number = st.number_input(t("detail_page", lang), min_value=1, value=1, step=1, key="detail_page")
    found = details(
        page,
        page.queries.details(str(metric), sort=str(sort), descending=descending, page=int(number), page_size=int(size)),
    )
    frame = detail_frame(found.rows, table, _names_by_column(page), lang)
    downloads.table(
        page.ctx, frame, key="detail_rows", title=f"{t('detail_title', lang)} · {metric_label(str(metric), lang)}"
    )
    st.caption(
        t("detail_footer", lang, total=format_number(found.total), page=found.page, pages=found.pages)
        + ("　" + t("detail_masked", lang) if table in ("complaints",) else "")
    )


def render_page(domain: str, title_key: str, sections: Callable[[TopicPage], None]) -> None:
    """A whole topic page: header and filters, KPIs, trend with alerts, drill map, breakdowns,
    the page's own ``sections``, and the records behind it all."""
    ctx = context.load_context()
    lang = ctx.lang
    furniture.page_header(ctx, t(title_key, lang))
    page = open_topic(ctx, domain)
    st.subheader(t("kpis", lang))
    kpis(page, TOPIC_KPIS[domain])
    alerts = page_alerts(page)
    st.subheader(t("trend", lang))
    left, right = st.columns([3, 2])
    with left:
        trend(page, alerts)
    with right:
        st.markdown(f"**{t('alerts', lang)}**")
        early_warning.render_alerts(ctx, alerts)
    st.subheader(t("map_section", lang))
    drill_map(page)
    st.subheader(t("breakdown", lang))
    breakdowns(page)
    sections(page)
    st.subheader(t("detail_title", lang))
    detail_table(page)
