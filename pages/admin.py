"""数据源: where the data come from, an import of uploaded files, demo or not, table sizes, schema, settings,
and the early-warning job (its state and the alert sets it has stored)."""

from __future__ import annotations

import streamlit as st

from dashboard.admin import alert_job, facts, upload_panel
from dashboard.core.i18n import t
from dashboard.exports import downloads
from dashboard.session import context, display, furniture

lang = display.language()
furniture.compact_layout()
st.title(t("page_admin", lang))

# Where the URL comes from is shown even when the database cannot be used: it is what an admin fixes.
source = facts.source_rows(lang)
st.subheader(t("admin_source", lang))
downloads.table(lang, source, key="source", title=t("admin_source", lang))

# The import comes before the checks below: they stop the page on an empty database, which it fills.
upload_panel.render(lang)

ctx = context.load_context(lang)
if ctx.is_demo:
    st.badge(t("demo_badge", lang), color="orange", help=t("demo_note", lang))
    st.caption(t("demo_note", lang))

st.subheader(t("admin_meta", lang))
downloads.table(ctx, facts.meta_rows(ctx), key="meta", title=t("admin_meta", lang))

st.subheader(t("admin_tables", lang))
downloads.table(ctx, facts.table_rows(ctx), key="tables", title=t("admin_tables", lang))

st.subheader(t("admin_schema", lang))
problems = facts.schema_check(ctx)
if problems:
    for problem in problems:
        st.warning(problem)
else:
    st.success(t("schema_ok", lang))

st.subheader(t("admin_settings", lang))
downloads.table(ctx, facts.settings_rows(ctx), key="settings", title=t("admin_settings", lang))

st.subheader(t("admin_alert_job", lang))
downloads.table(ctx, alert_job.job_rows(ctx), key="alert_job", title=t("admin_alert_job", lang))
sets = alert_job.set_rows(ctx)
st.markdown(f"**{t('admin_alert_sets', lang)}**")
if sets.height:
    downloads.table(ctx, sets, key="alert_sets", title=t("admin_alert_sets", lang))
else:
    st.caption(t("job_no_sets", lang))
