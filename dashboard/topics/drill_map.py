"""The topic page's drill map: a choropleth of the level below the drilled region, clickable, with the
same regions ranked in clickable bars beside it."""

from __future__ import annotations

import functools
from dataclasses import replace

import polars as pl
import streamlit as st

from dashboard.charts.maps import LIGHT, load_features, map_figure, selected_code
from dashboard.charts.tables import display_table
from dashboard.charts.theme import PLOTLY_CONFIG
from dashboard.core.i18n import metric_label, t
from dashboard.exports import downloads
from dashboard.screen.snapshot import point_frame
from dashboard.topics.breakdowns import clickable_breakdown
from dashboard.topics.data import VOLUME
from dashboard.topics.page_context import TopicPage, apply_change, drill_to
from dashboard.topics.state import child_level

MAP_WIDTH, MAP_HEIGHT = 760, 520


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
    apply_change(page, functools.partial(drill_to, code))


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
        clickable_breakdown(
            page,
            ranked,
            dimension=level,
            key="topic_map_bars",
            title=t("by_region", lang, level=t(f"dim_{level}", lang), metric=metric_label(volume, lang)),
            change=lambda state, code: replace(state, region=code),
            selected=page.state.region,
        )
