"""The sections only one topic page has: services, complaints, grid events. Streamlit glue over
``dashboard.topics.data`` (what to ask) and ``dashboard.topics.figures`` (how to draw it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard.charts.figures import bar_figure, target_colours
from dashboard.charts.tables import display_table
from dashboard.charts.theme import TEAL
from dashboard.core.i18n import metric_label, t
from dashboard.core.periods import add_months
from dashboard.exports import downloads
from dashboard.topics import figures
from dashboard.topics.data import (
    CLOSE_EDGES,
    FUNNEL,
    LIMIT_SHARE_EDGES,
    RANKING_METRICS,
    RESPONSE_EDGES,
    RISING_BASELINE_PERIODS,
    STAGE_HOURS,
    month_of,
)
from dashboard.topics.page import trend
from dashboard.topics.page_context import TopicPage
from dashboard.topics.records import overdue_list, run_histogram
from data_access.semantic.distributions import bin_labels
from data_access.semantic.metric_defs import Direction, Unit

RANKING_MIN_TICKETS = 10
RISING_MIN_TICKETS = 5
ACTIVITY_ROWS = 15


def _chart(page: TopicPage, figure: go.Figure, data: pl.DataFrame | None, key: str) -> None:
    """A section's chart with its export menu (the chart's own title names the files)."""
    downloads.chart(page.ctx, figure, data, key=key, title=figure.layout.title.text or key)


def _table(page: TopicPage, frame: pl.DataFrame, key: str, title: str, **options: Any) -> None:
    downloads.table(page.ctx, frame, key=key, title=title, **options)


# ---- services ----------------------------------------------------------------------------------------


def services(page: TopicPage) -> None:
    ctx, lang, queries = page.ctx, page.ctx.lang, page.queries
    st.subheader(t("svc_handling", lang))
    left, right = st.columns([3, 2])
    with left:
        labels = bin_labels(LIMIT_SHARE_EDGES, unit="")
        labels = [t("limit_share_bin", lang, range=label) for label in labels]
        shares = run_histogram(page, queries.limit_share_by_department())
        figure = figures.limit_share_figure(
            shares,
            labels=labels,
            late_from=LIMIT_SHARE_EDGES.index(1.0) + 1,
            names=ctx.names("department"),
            lang=lang,
            title=t("svc_limit_share_title", lang),
        )
        data = figures.histogram_table(shares, labels=labels, lang=lang, by="department", names=ctx.names("department"))
        _chart(page, figure, data, "svc_limit_share")
        st.caption(t("svc_limit_share_note", lang))
    with right:
        rate = "service_on_time_rate"
        ranked = ctx.run(queries.by("department")).drop_nulls(rate).sort(rate, descending=True)
        target = ctx.targets((rate,), page.district).get(rate)
        if ranked.height:
            figure = bar_figure(
                ranked,
                dimension="department",
                value=rate,
                unit=Unit.RATE,
                names=ctx.names("department"),
                lang=lang,
                title=t("on_time_by_department", lang),
                target=target,
                colours=target_colours(ranked[rate].to_list(), target, Direction.HIGHER_IS_BETTER),
            )
            data = display_table(
                ranked, dimension="department", metrics=ranked.columns[1:], names=ctx.names("department"), lang=lang
            )
            _chart(page, figure, data, "svc_on_time_ranking")
    st.subheader(t("overdue_title", lang))
    overdue_list(page)
    left, right = st.columns(2)
    with left:
        trend(page, pl.DataFrame(), "service_online_share", key="svc_online_trend")
    with right:
        ratings = ctx.run(queries.ratings())
        good = ctx.run(queries.kpis()[0])["service_good_rating_rate"]
        subtitle = metric_label("service_good_rating_rate", lang)
        value = good[0] if good.len() else None
        figure = figures.ratings_figure(
            ratings,
            lang=lang,
            title=t("svc_ratings_title", lang, metric=subtitle, value="—" if value is None else f"{100 * value:.1f}%"),
        )
        _chart(
            page,
            figure,
            display_table(ratings, dimension="rating", metrics=("service_rated",), names={}, lang=lang),
            "svc_ratings",
        )


# ---- complaints --------------------------------------------------------------------------------------


def _month_options(as_of: dt.datetime, count: int = 12) -> list[dt.date]:
    last = month_of(as_of)
    return [add_months(dt.datetime.combine(last, dt.time()), -i).date() for i in range(count)]


def complaints(page: TopicPage) -> None:
    """The 12345 page's own views: the street 三率 ranking, handling times, repeats and rising categories."""
    _street_ranking(page)
    _handling_times(page)
    left, right = st.columns(2)
    with left:
        _repeats(page)
    with right:
        _rising(page)


def _street_ranking(page: TopicPage) -> None:
    ctx, lang, queries = page.ctx, page.ctx.lang, page.queries
    st.subheader(t("cmp_ranking", lang))
    months = _month_options(ctx.as_of)
    month = st.selectbox(t("cmp_ranking_month", lang), months, key="ranking_month", format_func=lambda d: f"{d:%Y-%m}")
    current, previous = queries.ranking_months(month, page.district)
    table = figures.ranking_table(
        ctx.run(current),
        ctx.run(previous),
        names=ctx.names("street"),
        metrics=RANKING_METRICS,
        lang=lang,
        min_volume=RANKING_MIN_TICKETS,
        volume="complaint_received",
    )
    if table.height:
        _table(page, table, "ranking_table", t("cmp_ranking", lang), height=min(38 + 35 * table.height, 420))
    else:
        st.caption(t("no_rows", lang))
    st.caption(t("cmp_ranking_note", lang, n=RANKING_MIN_TICKETS))


def _handling_times(page: TopicPage) -> None:
    lang, queries = page.ctx.lang, page.queries
    st.subheader(t("cmp_times", lang))
    left, right = st.columns(2)
    with left:
        response = run_histogram(page, queries.response_hours())
        labels = bin_labels(RESPONSE_EDGES)
        figure = figures.histogram_figure(response, labels=labels, lang=lang, title=t("cmp_response_hist", lang))
        _chart(page, figure, figures.histogram_table(response, labels=labels, lang=lang), "cmp_response_hist")
    with right:
        closing = run_histogram(page, queries.close_hours())
        labels = bin_labels(CLOSE_EDGES)
        figure = figures.histogram_figure(
            closing, labels=labels, lang=lang, title=t("cmp_close_hist", lang), colour=TEAL
        )
        _chart(page, figure, figures.histogram_table(closing, labels=labels, lang=lang), "cmp_close_hist")


def _repeats(page: TopicPage) -> None:
    ctx, lang = page.ctx, page.ctx.lang
    st.subheader(t("cmp_repeats", lang))
    repeats = ctx.run(page.queries.repeats()).filter(pl.col("complaint_repeats") > 0)
    if repeats.height:
        communities, categories = ctx.names("community"), ctx.names("category_l3")
        _table(
            page,
            pl.DataFrame(
                {
                    t("dim_community", lang): [communities.get(c, c) for c in repeats["community"].to_list()],
                    t("dim_category_l3", lang): [categories.get(c, c) for c in repeats["category_l3"].to_list()],
                    metric_label("complaint_repeats", lang): repeats["complaint_repeats"].to_list(),
                    metric_label("complaint_received", lang): repeats["complaint_received"].to_list(),
                }
            ),
            "repeats_table",
            t("cmp_repeats", lang),
        )
    else:
        st.caption(t("cmp_repeats_none", lang))
    st.caption(t("cmp_repeats_note", lang))


def _rising(page: TopicPage) -> None:
    ctx, lang = page.ctx, page.ctx.lang
    st.subheader(t("cmp_rising", lang))
    now, baseline = page.queries.rising()
    rising = figures.rising_categories(
        ctx.run(now),
        ctx.run(baseline),
        periods=RISING_BASELINE_PERIODS,
        value="complaint_received",
        min_volume=RISING_MIN_TICKETS,
    )
    if rising.height:
        names = ctx.names("category_l2")
        _table(
            page,
            pl.DataFrame(
                {
                    t("dim_category_l2", lang): [names.get(c, c) for c in rising["category_l2"].to_list()],
                    t("cmp_rising_now", lang): rising["now"].to_list(),
                    t("cmp_rising_baseline", lang): [round(v, 1) for v in rising["baseline"].to_list()],
                    t("cmp_rising_ratio", lang): [f"×{v:.1f}" for v in rising["ratio"].to_list()],
                }
            ),
            "rising_table",
            t("cmp_rising", lang),
        )
    else:
        st.caption(t("no_rows", lang))
    st.caption(t("cmp_rising_note", lang, n=RISING_BASELINE_PERIODS, m=RISING_MIN_TICKETS))


# ---- grid events -------------------------------------------------------------------------------------


def grid(page: TopicPage) -> None:
    ctx, lang, queries = page.ctx, page.ctx.lang, page.queries
    st.subheader(t("grid_workflow", lang))
    left, right = st.columns([3, 2])
    with left:
        hours: list[str | None] = [None, *STAGE_HOURS]
        row = ctx.run(queries.funnel())
        figure = figures.funnel_figure(row, stages=FUNNEL, hours=hours, lang=lang, title=t("grid_funnel_title", lang))
        _chart(page, figure, figures.funnel_table(row, stages=FUNNEL, hours=hours, lang=lang), "grid_funnel")
        st.caption(t("grid_funnel_note", lang))
    with right:
        sides = ctx.run(queries.by("side_state")).drop_nulls("side_state")
        if sides.height:
            figure = bar_figure(
                sides,
                dimension="side_state",
                value="grid_collected",
                unit=Unit.COUNT,
                names={},
                lang=lang,
                title=t("grid_side_states", lang),
            )
            data = display_table(sides, dimension="side_state", metrics=sides.columns[1:], names={}, lang=lang)
            _chart(page, figure, data, "grid_side_states")
        else:
            st.caption(t("grid_side_states_none", lang))
    st.subheader(t("grid_activity", lang))
    left, right = st.columns(2)
    for column, dimension in ((left, "grid"), (right, "reporter")):
        with column:
            frame = ctx.run(queries.activity(dimension, ACTIVITY_ROWS))
            names = ctx.names(dimension)
            st.markdown(f"**{t(f'grid_activity_{dimension}', lang, n=ACTIVITY_ROWS)}**")
            _table(
                page,
                pl.DataFrame(
                    {
                        t(f"dim_{dimension}", lang): [names.get(c, c) for c in frame[dimension].to_list()],
                        metric_label("grid_collected", lang): frame["grid_collected"].to_list(),
                        metric_label("grid_closure_rate", lang): [_percent(v) for v in frame["grid_closure_rate"]],
                        metric_label("grid_on_time_rate", lang): [_percent(v) for v in frame["grid_on_time_rate"]],
                    }
                ),
                f"activity_{dimension}",
                t(f"grid_activity_{dimension}", lang, n=ACTIVITY_ROWS),
            )
    st.subheader(t("overdue_title", lang))
    overdue_list(page)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


SECTIONS = {"services": services, "complaints": complaints, "grid": grid}
