"""The topic page's breakdowns with cross-filter: by department, by category (a sunburst of the tree) or
service item, and by channel or source; a click on a bar or a sector filters the whole page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import polars as pl
import streamlit as st

from dashboard.charts.tables import display_table
from dashboard.core.i18n import t
from dashboard.exports import downloads
from dashboard.topics import figures
from dashboard.topics.data import RATE, VOLUME
from dashboard.topics.page_context import TopicPage, apply_change
from dashboard.topics.state import CHANNEL_DIMENSION, TopicState


def clickable_breakdown(
    page: TopicPage,
    frame: pl.DataFrame,
    *,
    dimension: str,
    key: str,
    title: str,
    change: Callable[[TopicState, str], TopicState],
    selected: str | None,
) -> None:
    """A bar chart whose bars set a filter when clicked (the breakdowns and the bars beside the drill map)."""
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
            apply_change(page, lambda state: change(state, code))

    data = display_table(
        shown, dimension=dimension, metrics=shown.columns[1:], names=page.ctx.names(dimension), lang=lang
    )
    downloads.chart(page.ctx, figure, data, key=key, title=title, on_select=clicked, selection_mode="points")


def breakdowns(page: TopicPage) -> None:
    """By department, by category (sunburst of the tree) and by channel or source; a click filters the page."""
    ctx, lang = page.ctx, page.ctx.lang
    left, middle, right = st.columns(3)
    with left:
        clickable_breakdown(
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
        clickable_breakdown(
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
            apply_change(page, lambda state: replace(state, category=code))

    rings = [
        display_table(level, dimension=level.columns[0], metrics=level.columns[1:], names=names, lang=lang)
        for level in levels
    ]
    downloads.chart(ctx, figure, rings[-1], key="by_category", title=title, on_select=clicked, selection_mode="points")
    st.caption(t("sunburst_hint", lang))
