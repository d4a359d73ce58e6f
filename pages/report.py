"""简报: the weekly or monthly briefing of a period as PDF or PPTX, for the viewer's own scope."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard.auth import page_audit, sign_in
from dashboard.core.i18n import t
from dashboard.exports.files import ExportProblem
from dashboard.report.content import build_briefing, file_stem
from dashboard.report.pdf_print import render_pdf
from dashboard.report.periods import parse_period, period_label, recent_periods
from dashboard.report.pptx_deck import PPTX_MIME, render_pptx
from dashboard.report.problems import ReportProblem
from dashboard.session import context, furniture

ctx = context.load_context()
lang = ctx.lang
sign_in.require("export", lang)  # a briefing is an export: analysts and admins (and the export grant)
furniture.page_header(ctx, t("page_report", lang))
st.caption(t("report_intro", lang))

left, right = st.columns([1, 2], vertical_alignment="bottom")
with left:
    kind = st.segmented_control(
        t("report_kind", lang),
        ("month", "week"),
        default="month",
        required=True,
        key="report_kind",
        format_func=lambda k: t(f"report_kind_{k}", lang),
    )
with right:
    options = recent_periods(str(kind or "month"), ctx.as_of)
    period = st.selectbox(
        t("report_period_choice", lang),
        options,
        key=f"report_period_{kind}",
        format_func=lambda text: period_label(parse_period(text), lang),
    )

buttons = st.columns([1, 1, 4])
wanted: str | None = None
with buttons[0]:
    if st.button(t("report_make_pdf", lang), type="primary", key="report_make_pdf"):
        wanted = "pdf"
with buttons[1]:
    if st.button(t("report_make_pptx", lang), key="report_make_pptx"):
        wanted = "pptx"

made_key = "report_made"
if wanted:
    with st.spinner(t("report_making", lang)):
        try:
            # The viewer's data session: their scope (the whole city while sign-in is off), audit and cache.
            briefing = build_briefing(ctx.data, str(period), lang=lang, as_of=ctx.as_of)
            data = render_pdf(briefing) if wanted == "pdf" else render_pptx(briefing)
        except (ReportProblem, ExportProblem) as problem:
            st.error(t("report_failed", lang, reason=str(problem)))
        else:
            name = f"{file_stem(briefing)}.{wanted}"
            st.session_state[made_key] = (name, data, wanted, dt.datetime.now())
made = st.session_state.get(made_key)
if made:
    name, data, fmt, _ = made
    st.download_button(
        t("report_download", lang, name=name),
        data=data,
        file_name=name,
        mime="application/pdf" if fmt == "pdf" else PPTX_MIME,
        key="report_download",
        on_click=page_audit.export_callback("report", {"period": str(period), "kind": str(kind)}, 1, name),
    )
