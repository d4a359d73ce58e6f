"""The leadership big screen's panels (Streamlit): header, KPI band, 30-day trends, the drillable city map,
best and worst rankings and the alert ticker, drawn from one ``Snapshot``. ``pages/cockpit.py`` reads the
snapshot (through the shared cache, with the last-good fallback) and calls these.

Sizes are design sizes in CSS pixels at 1920×1080 (``wall_page.FIT_SCRIPT`` zooms the page to fit the screen).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from dashboard.auth import page_audit
from dashboard.charts.figures import stacked_trends
from dashboard.charts.maps import load_features, map_figure, selected_code
from dashboard.charts.theme import WALL_PLOTLY_CONFIG, wall_layout
from dashboard.core.i18n import metric_label, t
from dashboard.core.metric_requests import DOMAINS, MAP_CHOROPLETH_METRIC, MAP_LEVELS, MAP_POINT_METRIC, VOLUME_METRIC
from dashboard.core.periods import COCKPIT_PERIODS
from dashboard.screen import wall_page
from dashboard.screen.bigscreen import (
    clock_html,
    esc,
    kpi_panel_html,
    panel_title_html,
    ranking_html,
    ticker_html,
    title_html,
)
from dashboard.screen.snapshot import MapFrames, Snapshot, View, point_frame
from dashboard.screen.ticker import ticker_items
from dashboard.session import context, furniture, last_good
from dashboard.session.context import Context

MAP_WIDTH, MAP_HEIGHT = 860, 586
TREND_HEIGHT = 626
MAP_DISTRICT_KEY = "map_district"
MAP_LEVEL_KEY = "map_level"


def page_chrome(ctx: Context) -> None:
    """The wall's CSS, the fit-to-screen script and the live clock (once per page run, outside the fragment)."""
    st.html(wall_page.SCREEN_CSS)
    st.html(wall_page.FIT_SCRIPT, unsafe_allow_javascript=True)
    st.html(wall_page.clock_script(ctx.city.timezone, ctx.lang), unsafe_allow_javascript=True)


def current_view(ctx: Context) -> View:
    """What the screen shows, from its widgets' state (read before they are drawn: the header needs it)."""
    view_period = str(st.session_state.get("period") or ctx.city.default_period)
    level = str(st.session_state.get(MAP_LEVEL_KEY) or "district")
    district = st.session_state.get(MAP_DISTRICT_KEY)
    district = None if district in (None, context.ALL) else district
    return View(period=view_period, map_level=level, map_district=str(district) if district else None)


def _drill(code: str | None) -> None:
    """Show the streets of district ``code`` on the map (None: back to the whole city)."""
    st.session_state[MAP_DISTRICT_KEY] = code or context.ALL


def _on_map_click(ctx: Context) -> None:
    """A click on a district (or on a street, at street level) drills into that district."""
    code = selected_code(st.session_state.get("cs_map"))
    if code is None or st.session_state.get(MAP_DISTRICT_KEY) not in (None, context.ALL):
        return
    districts = dict(ctx.districts())
    if code in districts:
        _drill(code)
        return
    parent = next((district for district in districts if code in ctx.children(district)), None)
    if parent is not None:
        _drill(parent)


def header(ctx: Context, snapshot: Snapshot | None, stale_since: dt.datetime | None) -> str:
    """The header row: city and title, the period switch in the middle, the clock; returns the chosen period."""
    lang = ctx.lang
    left, middle, right = st.columns([10, 5, 7], vertical_alignment="center")
    city = ctx.city.name_en if lang == "en" else ctx.city.name
    with left:
        st.html(title_html(city, t("app_title", lang), demo=ctx.is_demo, lang=lang))
    with middle:
        period = furniture.period_choice(lang, COCKPIT_PERIODS, ctx.city.default_period)
    with right:
        now = dt.datetime.now(ZoneInfo(ctx.city.timezone)).replace(tzinfo=None)
        as_of = snapshot.as_of if snapshot else ctx.as_of
        st.html(
            clock_html(
                now=now,
                as_of=as_of,
                refresh_seconds=ctx.city.refresh_seconds,
                token=f"{now.timestamp():.3f}",
                lang=lang,
                stale_since=stale_since,
            )
        )
    return period


def panels(ctx: Context, snapshot: Snapshot, load_map: Callable[[View], MapFrames]) -> None:
    """Everything below the header: the KPI band, trend | map | rankings, and the alert ticker.

    ``load_map``: the map's answers for a view (``snapshot.map_frames`` through the page's live
    session), read by the map panel when it reruns alone."""
    _kpi_band(ctx, snapshot)
    left, centre, right = st.columns([27, 46, 27])
    with left:
        _trend_panel(ctx, snapshot)
    with centre:
        map_panel(ctx, load_map)
    with right:
        _rank_panels(ctx, snapshot)
    _ticker(ctx, snapshot)


@st.fragment
def map_panel(ctx: Context, load_map: Callable[[View], MapFrames]) -> None:
    """The map panel as a fragment of its own: a click on a district, the back button, the district or
    level switch rerun this panel alone. Nothing else on the screen depends on them (the KPIs, trends,
    rankings and ticker are city-wide), so a drill neither recomputes nor redraws them. In the screen's
    own runs (its refresh timer, the period switch) it runs inline, from the cache the screen just filled.
    """

    def body() -> None:
        view = current_view(ctx)
        try:
            (areas, points), _ = last_good.with_last_good(
                (ctx.target.url, ctx.lang, view, "map"), lambda: load_map(view)
            )
        except Exception as exc:  # one readable line in the panel, never a trace
            st.error(context.friendly_problem(exc, ctx.lang))
            return
        _map_panel(ctx, view, areas, points)

    page_audit.audited_fragment(body)()


def _kpi_band(ctx: Context, snapshot: Snapshot) -> None:
    lang = ctx.lang
    for column, domain in zip(st.columns(len(DOMAINS)), DOMAINS, strict=True):
        with column, st.container(key=f"cs_panel_kpi_{domain}"):
            st.html(
                kpi_panel_html(
                    t(f"row_{domain}", lang), snapshot.kpis[domain], lang, subtitle=_period_label(ctx, snapshot)
                )
            )


def _period_label(ctx: Context, snapshot: Snapshot) -> str:
    lang = ctx.lang
    return t(f"period_{snapshot.view.period}", lang) + " · " + t("vs_previous_period", lang)


def _trend_panel(ctx: Context, snapshot: Snapshot) -> None:
    lang = ctx.lang
    with st.container(key="cs_panel_trend"):
        st.html(panel_title_html(t("trend_panel", lang), t("trend_dashed", lang)))
        rows = [
            (f"{t(f'row_{domain}', lang)} · {metric_label(VOLUME_METRIC[domain], lang)}", *snapshot.trends[domain])
            for domain in DOMAINS
        ]
        figure = stacked_trends(
            rows,
            metrics=[VOLUME_METRIC[domain] for domain in DOMAINS],
            shift=snapshot.window.shift,
            lang=lang,
            comparison_label=t("compare_five_weeks", lang),
        )
        wall_layout(figure, height=TREND_HEIGHT)
        figure.update_layout(margin={"t": 34})
        st.plotly_chart(figure, theme=None, config=WALL_PLOTLY_CONFIG, key="cs_trend")


def _map_panel(ctx: Context, view: View, areas: pl.DataFrame, points: pl.DataFrame) -> None:
    lang = ctx.lang
    level = view.shown_level
    with st.container(key="cs_panel_map"):
        title, controls = st.columns([5, 4], vertical_alignment="center")
        districts = dict(ctx.districts())
        with title:
            where = districts.get(view.map_district or "", t("city_wide", lang))
            st.html(panel_title_html(t("map_title", lang), f"{where} · {t(f'period_{view.period}', lang)}"))
        with controls:
            level_column, district_column = st.columns([1, 1], vertical_alignment="center")
            with level_column:
                if view.map_district:
                    st.button(t("back_to_city", lang), key="cs_back", on_click=_drill, args=(None,), width="stretch")
                else:
                    st.segmented_control(
                        t("map_level", lang),
                        list(MAP_LEVELS),
                        default="district",
                        required=True,
                        key=MAP_LEVEL_KEY,
                        format_func=lambda key: t(f"map_level_{key}", lang),
                        width="stretch",
                    )
            with district_column:
                st.selectbox(
                    t("map_drill", lang),
                    [context.ALL, *districts],
                    key=MAP_DISTRICT_KEY,
                    format_func=lambda code: t("city_wide", lang) if code == context.ALL else districts[code],
                )
        layer = ctx.city.geo.get(level) or ctx.city.geo["district"]
        codes = ctx.children(view.map_district) if view.map_district else ctx.map_codes(level)
        collection = load_features(layer.file, layer.code_property, codes)
        figure = map_figure(
            collection,
            areas,
            point_frame(points, ctx.grid_centres()),
            code_property=layer.code_property,
            area_metric=MAP_CHOROPLETH_METRIC,
            point_metric=MAP_POINT_METRIC,
            names=ctx.names(level),
            area_label=t("map_areas", lang),
            point_label=metric_label(MAP_POINT_METRIC, lang),
            lang=lang,
            width=MAP_WIDTH,
            height=MAP_HEIGHT,
            radius=22 if view.map_district else 12,
        )
        st.plotly_chart(
            figure,
            theme=None,
            config={**WALL_PLOTLY_CONFIG, "scrollZoom": False},
            key="cs_map",
            on_select=functools.partial(_on_map_click, ctx),
            selection_mode="points",
        )
        hint = t("map_hint_drilled", lang) if view.map_district else t("map_hint", lang)
        st.html(f'<div class="cs-note">{esc(hint)}</div>')


def _rank_panels(ctx: Context, snapshot: Snapshot) -> None:
    lang = ctx.lang
    heading = {"top": t("top_group", lang, n=5), "bottom": t("bottom_group", lang, n=5)}
    with st.container(key="cs_panel_rank_streets"):
        st.html(
            ranking_html(
                t("rank_streets", lang),
                t(f"period_{snapshot.view.period}", lang),
                [(heading[group], rows) for group, rows in snapshot.streets],
                note=t("rank_streets_note", lang, n=snapshot.street_min_volume),
            )
        )
    with st.container(key="cs_panel_rank_departments"):
        st.html(
            ranking_html(
                t("rank_departments", lang),
                t(f"period_{snapshot.view.period}", lang),
                [(heading[group], rows) for group, rows in snapshot.departments],
                note=t("rank_departments_note", lang),
            )
        )


def _ticker(ctx: Context, snapshot: Snapshot) -> None:
    lang = ctx.lang
    st.html(ticker_html(ticker_items(snapshot.alerts, lang), lang))
