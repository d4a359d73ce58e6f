"""数据源: where the data come from, an import of uploaded files, demo or not, table sizes, schema, settings."""

from __future__ import annotations

import streamlit as st

from dashboard import app_state, upload_panel
from dashboard.i18n import t

lang = app_state.language()
app_state.compact_layout()
st.title(t("page_admin", lang))

# Where the URL comes from is shown even when the database cannot be used: it is what an admin fixes.
source = app_state.source_rows(lang)
st.subheader(t("admin_source", lang))
st.dataframe(source, hide_index=True, key="source")

# The import comes before the checks below: they stop the page on an empty database, which it fills.
upload_panel.render(lang)

ctx = app_state.load_context(lang)
if ctx.is_demo:
    st.badge(t("demo_badge", lang), color="orange", help=t("demo_note", lang))
    st.caption(t("demo_note", lang))

st.subheader(t("admin_meta", lang))
st.dataframe(app_state.meta_rows(ctx), hide_index=True, key="meta")

st.subheader(t("admin_tables", lang))
st.dataframe(app_state.table_rows(ctx), hide_index=True, key="tables")

st.subheader(t("admin_schema", lang))
problems = app_state.schema_check(ctx)
if problems:
    for problem in problems:
        st.warning(problem)
else:
    st.success(t("schema_ok", lang))

st.subheader(t("admin_settings", lang))
st.dataframe(app_state.settings_rows(ctx), hide_index=True, key="settings")
