"""分析工作台: metrics of one domain by up to two dimensions, filtered, as a chart and the table beneath it.

Built on the metric layer only (one ``MetricRequest`` through ``Context.run``, no free SQL); the view
lives in the URL (share it by copying the address) and can be saved under a name.
"""

from __future__ import annotations

import streamlit as st

from dashboard.core.i18n import t
from dashboard.session import context, furniture
from dashboard.workbench import controls, result_view, saved_view_menu
from dashboard.workbench import view_state as wb

ctx = context.load_context()
lang = ctx.lang
furniture.page_header(ctx, t("page_workbench", lang))
st.caption(t("workbench_intro", lang))

state = controls.controls(ctx)
with st.container(horizontal=True, horizontal_alignment="right"):
    saved_view_menu.saved_views_menu(ctx, state)

if not state.metrics:
    st.info(t("choose_metric", lang))
    st.stop()

period = wb.state_period(state, ctx.as_of)
st.caption(furniture.period_caption(period, lang))
result = ctx.run(wb.request_for(state, period))
if result.height == 0:
    st.info(t("no_rows", lang))
    st.stop()
if result.height > wb.ROW_LIMIT:
    result = result.head(wb.ROW_LIMIT)
    st.warning(t("wb_rows_cut", lang, n=f"{wb.ROW_LIMIT:,}"))
result_view.show_result(ctx, state, result, period)
