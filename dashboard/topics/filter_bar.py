"""The topic page's filter bar (period, comparison, region levels, department, category, channel) and its
breadcrumb (城市 › 区 › 街道 › 社区). Each widget is set from the URL state and writes its change back."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import streamlit as st

from dashboard.core.formatting import format_datetime
from dashboard.core.i18n import t
from dashboard.core.periods import PERIODS
from dashboard.session.context import ALL
from dashboard.topics.page_context import (
    TopicPage,
    apply_change,
    drill_to,
    on_widget_change,
    show_in_widget,
)
from dashboard.topics.state import (
    CHANNEL_DIMENSION,
    COMPARISONS,
    CUSTOM,
    TopicState,
    channel_values,
    region_levels,
    region_path,
)
from data_access.semantic.query import TimeRange

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


def filter_bar(page: TopicPage) -> None:
    """The period row (period, custom range or its dates, comparison), then the dimension row."""
    _period_row(page)
    _dimension_row(page)


def _period_row(page: TopicPage) -> None:
    ctx, state, lang = page.ctx, page.state, page.ctx.lang
    period_column, range_column, compare_column = st.columns([5, 3, 2], vertical_alignment="bottom")
    with period_column:
        show_in_widget("period", state.period)
        st.segmented_control(
            t("period", lang),
            [*PERIODS, CUSTOM],
            required=True,
            key="period",
            format_func=lambda key: t(f"period_{key}", lang),
            on_change=on_widget_change,
            args=(page, "period", _set_period),
        )
    with range_column:
        current = page.period.current
        if state.period == CUSTOM:
            show_in_widget("period_range", (current.start.date(), (current.end - dt.timedelta(days=1)).date()))
            st.date_input(
                t("custom_range", lang),
                key="period_range",
                max_value=ctx.as_of.date(),
                format="YYYY-MM-DD",
                on_change=on_widget_change,
                args=(page, "period_range", _set_range),
            )
        else:
            end = current.end - dt.timedelta(minutes=1)
            st.caption(t("period_range", lang, start=format_datetime(current.start), end=format_datetime(end)))
    with compare_column:
        show_in_widget("compare", state.compare)
        st.segmented_control(
            t("compare", lang),
            list(COMPARISONS),
            required=True,
            key="compare",
            format_func=lambda key: t(f"compare_{key}", lang),
            on_change=on_widget_change,
            args=(page, "compare", _set_compare),
        )


def _dimension_row(page: TopicPage) -> None:
    """One box per region level (each lists the children of the level above), department, category, channel."""
    ctx, state, lang = page.ctx, page.state, page.ctx.lang
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
            show_in_widget(level, chosen if chosen in options else ALL)
            st.selectbox(
                t(f"dim_{level}", lang),
                [ALL, *sorted(options)],
                key=level,
                disabled=index > 0 and parent is None,
                format_func=_labels(ctx.names(level), lang),
                on_change=on_widget_change,
                args=(page, level, _set_region(parent)),
            )
        parent = chosen if chosen != ALL else None
    departments = ctx.names("department")
    with columns[len(levels)]:
        show_in_widget("department", state.department or ALL)
        st.selectbox(
            t("dim_department", lang),
            [ALL, *sorted(departments, key=lambda code: departments[code])],
            key="department",
            format_func=_labels(departments, lang),
            on_change=on_widget_change,
            args=(page, "department", _set_department),
        )
    domains, parents, category_names = ctx.data.category_tree()
    with columns[len(levels) + 1]:
        mine = [code for code, domain in domains.items() if domain == page.table]
        if mine:
            show_in_widget("category", state.category or ALL)
            st.selectbox(
                t("category", lang),
                [ALL, *mine],
                key="category",
                format_func=_tree_labels(category_names, parents, lang),
                on_change=on_widget_change,
                args=(page, "category", _set_category),
            )
    channel = CHANNEL_DIMENSION[page.table]
    with columns[len(levels) + 2]:
        show_in_widget("channel", state.channel or ALL)
        st.selectbox(
            t(f"dim_{channel}", lang),
            [ALL, *channel_values(page.table)],
            key="channel",
            format_func=_labels({}, lang),
            on_change=on_widget_change,
            args=(page, "channel", _set_channel),
        )


def breadcrumb(page: TopicPage) -> None:
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
                on_click=apply_change,
                args=(page, functools.partial(drill_to, code)),
            )
            if not last:
                st.markdown("›", width="content")
        if page.state != TopicState():
            st.button(t("clear_filters", lang), key="clear_filters", on_click=apply_change, args=(page, _reset))


def _reset(state: TopicState) -> TopicState:
    return TopicState()
