"""A whole topic page: filters kept in the URL, breadcrumb, KPIs, trend with alerts, drill map, clickable
breakdowns, the page's own sections and the paged detail table. The parts live beside this module
(``page_context``, ``filter_bar``, ``drill_map``, ``breakdowns``, ``records``); what to ask and how to draw
it lives in the pure modules (``state``, ``data``, ``figures``, ``tables``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import polars as pl
import streamlit as st

from dashboard.charts.figures import complete_buckets, trend_figure
from dashboard.charts.tables import display_table
from dashboard.core.i18n import metric_label, t
from dashboard.core.metric_requests import TOPIC_KPIS
from dashboard.core.periods import GRAINS
from dashboard.exports import downloads
from dashboard.screen.ticker import alerts_for_page
from dashboard.session import context, early_warning, furniture
from dashboard.session.context import ALL, Context
from dashboard.topics import figures, topic_view
from dashboard.topics.breakdowns import breakdowns
from dashboard.topics.data import VOLUME
from dashboard.topics.drill_map import drill_map
from dashboard.topics.filter_bar import breadcrumb, filter_bar
from dashboard.topics.page_context import TopicPage, on_widget_change, read_state, show_in_widget
from dashboard.topics.records import detail_table
from dashboard.topics.state import TopicState
from data_access.alerts.store import AlertSet

log = logging.getLogger(__name__)


def open_topic(ctx: Context, domain: str) -> TopicPage:
    """Read the page's state from the URL, draw the filter bar and the breadcrumb; returns the page."""
    page = read_state(ctx, domain)
    filter_bar(page)
    breadcrumb(page)
    return page


def _set_grain(state: TopicState, value: Any) -> TopicState:
    return replace(state, grain=(None if value in (None, ALL) else str(value)) or "day")


def kpis(page: TopicPage, metrics: tuple[str, ...]) -> None:
    topic_view.kpi_section(page.ctx, metrics, page.view, comparison=page.comparison_label)


def page_alerts(page: TopicPage) -> AlertSet:
    """The early-warning alerts of this page's data inside its region, whether they are computed yet, and
    of which as-of time when an older set stands in (empty if reading them failed)."""
    try:
        found = early_warning.early_warning_set(page.ctx)
        frame = alerts_for_page(found.frame, page.table, page.state.region, page.vocabulary.parents)
        return replace(found, frame=frame)
    except Exception:  # the page stays useful without them
        log.exception("reading the early-warning alerts failed on a topic page")
        return AlertSet(pl.DataFrame(), ready=True)


def trend(page: TopicPage, alerts: pl.DataFrame, metric: str | None = None, key: str = "trend") -> None:
    """The grain switch (shared by the page's trends) and a trend with the comparison dashed and alert markers."""
    ctx, lang, state = page.ctx, page.ctx.lang, page.state
    metric = metric or VOLUME[page.table]
    if key == "trend":
        show_in_widget("grain", state.grain)
        st.segmented_control(
            t("grain", lang),
            list(GRAINS),
            required=True,
            key="grain",
            format_func=lambda grain: t(f"grain_{grain}", lang),
            on_change=on_widget_change,
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


def render_page(domain: str, title_key: str, sections: Callable[[TopicPage], None]) -> None:
    """A whole topic page: header and filters, KPIs, trend with alerts, drill map, breakdowns,
    the page's own ``sections``, and the records behind it all."""
    ctx = context.load_context()
    lang = ctx.lang
    furniture.page_header(ctx, t(title_key, lang))
    page = open_topic(ctx, domain)
    st.subheader(t("kpis", lang))
    kpis(page, TOPIC_KPIS[domain])
    found = page_alerts(page)
    st.subheader(t("trend", lang))
    left, right = st.columns([3, 2])
    with left:
        trend(page, found.frame)
    with right:
        st.markdown(f"**{t('alerts', lang)}**")
        early_warning.render_alerts(ctx, found)
    st.subheader(t("map_section", lang))
    drill_map(page)
    st.subheader(t("breakdown", lang))
    breakdowns(page)
    sections(page)
    st.subheader(t("detail_title", lang))
    detail_table(page)
