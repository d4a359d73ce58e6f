"""领导驾驶舱大屏: the leadership big screen, designed at 1920×1080 and fitted to any wall.

Header (city, title, clock, data as-of, next refresh, demo badge, period switch); KPI cards of the
three domains with change and CityScore target index; the city map (complaints by district or
street, grid-event density; click a district to drill into its streets); 30-day trends with the
comparison window; best and worst streets and departments; the alert ticker.

Everything below the page chrome is one fragment that re-runs every ``[display] refresh_seconds``
and reads the shared result cache; a failed refresh keeps the last good numbers on screen with a
small notice. The map panel is a fragment inside it: a drill reruns and redraws the map alone.
"""

from __future__ import annotations

import streamlit as st

from dashboard.screen import cockpit
from dashboard.screen.snapshot import MapFrames, Snapshot, View, gather, map_frames
from dashboard.session import context, early_warning, furniture, last_good

ctx = context.load_context()
lang = ctx.lang
cockpit.page_chrome(ctx)


def _load(view: View) -> Snapshot:
    live = context.open_context(lang)
    return gather(
        live.query,
        view,
        live.as_of,
        targets=live.targets,
        names=live.names,
        lang=lang,
        alerts=early_warning.ticker_source(live),
    )


def _load_map(view: View) -> MapFrames:
    live = context.open_context(lang)
    return map_frames(live.query, view, live.as_of)


@furniture.auto_refresh(ctx.city.refresh_seconds)
def screen() -> None:
    # The header needs the snapshot's as-of time and the period widget; read the widgets' state first.
    view = cockpit.current_view(ctx)
    header = st.container()
    try:
        snapshot, stale_since = last_good.with_last_good((ctx.target.url, lang, view), lambda: _load(view))
    except Exception as exc:  # nothing good to show yet: one readable line, never a trace
        with header:
            cockpit.header(ctx, None, None)
        st.error(context.friendly_problem(exc, lang))
        return
    with header:
        cockpit.header(ctx, snapshot, stale_since)
    cockpit.panels(ctx, snapshot, _load_map)


screen()
