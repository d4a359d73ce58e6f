"""政务服务: KPIs, a volume trend, and the on-time completion rate by department."""

from __future__ import annotations

import streamlit as st

from dashboard import app_state
from dashboard.figures import bar_figure, target_colours
from dashboard.i18n import t
from dashboard.queries import TOPIC_KPIS, VOLUME_METRIC, breakdown_request
from dashboard.theme import PLOTLY_CONFIG
from data_access.metric_defs import Direction, Unit

ctx = app_state.load_context()
lang = ctx.lang
app_state.page_header(ctx, t("page_services", lang))
view = app_state.topic_controls(ctx, "service_cases")
period = view.period

st.subheader(t("kpis", lang))
app_state.kpi_section(ctx, TOPIC_KPIS["services"], view)

st.subheader(t("alerts", lang))
app_state.alerts_section(ctx, "service_cases", view)

st.subheader(t("trend", lang))
app_state.trend_section(ctx, VOLUME_METRIC["services"], view)

st.subheader(t("breakdown", lang))
rate = "service_on_time_rate"
by_department = ctx.run(
    breakdown_request((rate, "service_completed"), "department", period.current, view.filters)
).drop_nulls(rate)
target = ctx.targets((rate,), view.district).get(rate)
if by_department.height == 0:
    st.info(t("no_rows", lang))
else:
    figure = bar_figure(
        by_department,
        dimension="department",
        value=rate,
        unit=Unit.RATE,
        names=ctx.names("department"),
        lang=lang,
        title=t("on_time_by_department", lang),
        target=target,
        colours=target_colours(by_department[rate].to_list(), target, Direction.HIGHER_IS_BETTER),
    )
    st.plotly_chart(figure, theme=None, config=PLOTLY_CONFIG, key="breakdown")
