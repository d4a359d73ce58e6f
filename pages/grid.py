"""网格治理: KPIs, a collection trend, and the median hours spent in each workflow stage."""

from __future__ import annotations

import streamlit as st

from dashboard import app_state
from dashboard.figures import bar_figure, stage_frame
from dashboard.i18n import t
from dashboard.queries import GRID_STAGES, STAGE_METRICS, TOPIC_KPIS, VOLUME_METRIC, totals_request
from dashboard.theme import PLOTLY_CONFIG
from data_access.metric_defs import Unit

ctx = app_state.load_context()
lang = ctx.lang
app_state.page_header(ctx, t("page_grid", lang))
view = app_state.topic_controls(ctx, "grid_events")
period = view.period

st.subheader(t("kpis", lang))
app_state.kpi_section(ctx, TOPIC_KPIS["grid"], view)

st.subheader(t("alerts", lang))
app_state.alerts_section(ctx, "grid_events", view)

st.subheader(t("trend", lang))
app_state.trend_section(ctx, VOLUME_METRIC["grid"], view)

st.subheader(t("breakdown", lang))
stages = stage_frame(ctx.run(totals_request(STAGE_METRICS, period.current, view.filters)), GRID_STAGES, lang)
if stages["hours"].null_count() == stages.height:
    st.info(t("no_rows", lang))
else:
    figure = bar_figure(
        stages,
        dimension="stage",
        value="hours",
        unit=Unit.HOURS,
        names={},
        lang=lang,
        title=t("stage_hours", lang),
        horizontal=False,
    )
    st.plotly_chart(figure, theme=None, config=PLOTLY_CONFIG, key="breakdown")
