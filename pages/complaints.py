"""12345诉求: KPIs incl. the 三率, a volume trend, and the composite score of the best and worst streets."""

from __future__ import annotations

import streamlit as st

from dashboard import app_state
from dashboard.figures import bar_figure, group_colours, top_bottom
from dashboard.i18n import t
from dashboard.queries import TOPIC_KPIS, VOLUME_METRIC, breakdown_request
from dashboard.theme import PLOTLY_CONFIG
from data_access.metric_defs import Unit

TOP_N = 10
MIN_TICKETS = 10

ctx = app_state.load_context()
lang = ctx.lang
app_state.page_header(ctx, t("page_complaints", lang))
view = app_state.topic_controls(ctx, "complaints")
period = view.period

st.subheader(t("kpis", lang))
app_state.kpi_section(ctx, TOPIC_KPIS["complaints"], view)

st.subheader(t("alerts", lang))
app_state.alerts_section(ctx, "complaints", view)

st.subheader(t("trend", lang))
app_state.trend_section(ctx, VOLUME_METRIC["complaints"], view)

st.subheader(t("breakdown", lang))
score = "complaint_composite_score"
by_street = ctx.run(breakdown_request((score, "complaint_received"), "street", period.current, view.filters))
ranked = top_bottom(by_street, score, TOP_N, volume="complaint_received", min_volume=MIN_TICKETS)
if ranked.height == 0:
    st.info(t("no_rows", lang))
else:
    figure = bar_figure(
        ranked,
        dimension="street",
        value=score,
        unit=Unit.SCORE,
        names=ctx.names("street"),
        lang=lang,
        title=t("composite_by_street", lang, n=TOP_N),
        target=ctx.targets((score,), view.district).get(score),
        colours=group_colours(ranked),
    )
    st.plotly_chart(figure, theme=None, config=PLOTLY_CONFIG, key="breakdown")
    st.caption(t("composite_min_volume", lang, n=MIN_TICKETS))
