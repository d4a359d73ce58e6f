"""指标查询: any metrics of one domain by any dimension, as a chart and a table (run_metrics only)."""

from __future__ import annotations

import streamlit as st

from dashboard import app_state, auth_ui
from dashboard.figures import explore_figure
from dashboard.i18n import metric_label, t
from dashboard.queries import DOMAIN_TABLES, DOMAINS, breakdown_request, domain_dimensions, domain_metrics
from dashboard.tables import display_table
from dashboard.theme import PLOTLY_CONFIG

TOP_N = 30

ctx = app_state.load_context()
lang = ctx.lang
app_state.page_header(ctx, t("page_explore", lang))
st.caption(t("explore_intro", lang))

left, middle, right = st.columns([1, 3, 1])
with left:
    domain = st.selectbox(t("domain", lang), DOMAINS, key="domain", format_func=lambda d: t(f"domain_{d}", lang))
choices = domain_metrics(domain)
with middle:
    metrics = st.multiselect(
        t("metrics", lang),
        choices,
        default=list(choices[:2]),
        key="metrics",
        format_func=lambda name: metric_label(name, lang),
    )
with right:
    dimension = st.selectbox(
        t("dimension", lang), domain_dimensions(domain), key="dimension", format_func=lambda d: t(f"dim_{d}", lang)
    )
view = app_state.topic_controls(ctx, DOMAIN_TABLES[domain])

if not metrics:
    st.info(t("choose_metric", lang))
    st.stop()

selected = tuple(name for name in choices if name in metrics)  # registry order, whatever the click order
result = ctx.run(breakdown_request(selected, dimension, view.period.current, view.filters))
if result.height == 0:
    st.info(t("no_rows", lang))
    st.stop()

names = ctx.names(dimension)
st.subheader(t("chart", lang))
figure = explore_figure(result, dimension=dimension, metrics=selected, names=names, lang=lang, top_n=TOP_N)
st.plotly_chart(figure, theme=None, config=PLOTLY_CONFIG, key="explore_chart")
if result.height > TOP_N and dimension not in ("day", "week", "month"):
    st.caption(t("chart_top_n", lang, n=TOP_N))

st.subheader(t("table", lang))
table = display_table(result, dimension=dimension, metrics=selected, names=names, lang=lang)
st.dataframe(table, hide_index=True, key="explore_table")
if ctx.can("export"):
    file_name = f"{domain}_{dimension}_{view.period.key}.csv"
    st.download_button(
        t("download_csv", lang),
        table.write_csv().encode("utf-8-sig"),  # with BOM, so Excel opens the Chinese headers correctly
        file_name=file_name,
        mime="text/csv",
        key="download",
        on_click=auth_ui.export_callback(
            "explore", auth_ui.view_filters(view.period, view.filters), table.height, file_name
        ),
    )
