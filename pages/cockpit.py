"""城市运行总览: for each domain (services, complaints, grid) four KPIs and a 30-day volume trend.

Laid out as three columns so one 1080p screen holds it all; the body refreshes itself every
``[display] refresh_seconds`` (wall screens are left unattended).
"""

from __future__ import annotations

import streamlit as st

from dashboard import app_state
from dashboard.figures import complete_buckets, trend_figure
from dashboard.i18n import metric_label, t
from dashboard.kpi import build_kpis
from dashboard.periods import COCKPIT_PERIODS, trend_window
from dashboard.queries import COCKPIT_ROWS, DOMAINS, VOLUME_METRIC, kpi_requests, trend_requests
from dashboard.theme import WALL_PLOTLY_CONFIG

ctx = app_state.load_context()


@app_state.auto_refresh(ctx.city.refresh_seconds)
def overview() -> None:
    live = app_state.load_context(ctx.lang)
    lang = live.lang
    title, switch = st.columns([3, 1], vertical_alignment="bottom")
    with title:
        app_state.page_header(live, t("page_cockpit", lang))
    with switch:
        period = app_state.period_control(live, COCKPIT_PERIODS, default=live.city.default_period)
        st.caption(app_state.period_caption(period, lang))

    window = trend_window("day", live.as_of)
    for column, domain in zip(st.columns(len(DOMAINS), gap="medium"), DOMAINS, strict=True):
        metrics = COCKPIT_ROWS[domain]
        current, previous = kpi_requests(metrics, period)
        kpis = build_kpis(metrics, live.run(current), live.run(previous), live.targets(metrics))
        volume = VOLUME_METRIC[domain]
        trend_now, trend_before = trend_requests((volume,), window)
        figure = trend_figure(
            complete_buckets(live.run(trend_now), "day", window.current, volume),
            complete_buckets(live.run(trend_before), "day", window.previous, volume),
            grain="day",
            metric=volume,
            shift=window.shift,
            lang=lang,
            comparison_label=t("compare_five_weeks", lang),
            title=f"{metric_label(volume, lang)} · {t('trend_30_days', lang)}",
            height=330,
        )
        with column:
            st.subheader(t(f"row_{domain}", lang))
            app_state.render_kpis(kpis, lang, per_row=2)
            st.plotly_chart(figure, theme=None, config=WALL_PLOTLY_CONFIG, key=f"trend_{domain}")


overview()
