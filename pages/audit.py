"""审计日志: search the audit trail (who, when, page, filters, action, rows) and export it. Admins only."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard.admin.audit_view import audit_table
from dashboard.auth import page_audit, sign_in
from dashboard.core.i18n import t
from dashboard.session import context, display, furniture
from data_access.security import audit
from data_access.security.access import local_now

lang = display.language()
sign_in.require("admin", lang)
ctx = context.load_context(lang)
furniture.page_header(ctx, t("page_audit", lang))
st.caption(t("audit_intro", lang))

today = local_now().date()
since_column, until_column, user_column, action_column, text_column = st.columns([2, 2, 2, 3, 3])
with since_column:
    since = st.date_input(t("audit_since", lang), value=today - dt.timedelta(days=6), key="audit_since")
with until_column:
    until = st.date_input(t("audit_until", lang), value=today, key="audit_until")
with user_column:
    user = st.text_input(t("audit_user", lang), key="audit_user", max_chars=64).strip()
with action_column:
    actions = st.multiselect(
        t("audit_action", lang), audit.ACTIONS, key="audit_actions", format_func=lambda a: t(f"action_{a}", lang)
    )
with text_column:
    text = st.text_input(t("audit_text", lang), key="audit_text", max_chars=100).strip()

if since > until:
    st.warning(t("audit_bad_range", lang))
    st.stop()
start = dt.datetime.combine(since, dt.time())
end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time())
filters = {"since": str(since), "until": str(until), "user": user, "action": actions, "text": text}
found = ctx.data.audit_trail(filters, since=start, until=end, user=user or None, actions=actions, text=text or None)

st.caption(t("audit_found", lang, n=found.height))
if found.height >= audit.SEARCH_LIMIT:
    st.warning(t("audit_truncated", lang, n=audit.SEARCH_LIMIT))
st.dataframe(audit_table(found, lang), hide_index=True, key="audit_table")
file_name = f"audit_{since}_{until}.csv"
st.download_button(
    t("audit_download", lang),
    audit.to_csv(found),
    file_name=file_name,
    mime="text/csv",
    key="audit_download",
    on_click=page_audit.export_callback("audit", filters, found.height, file_name),
)
