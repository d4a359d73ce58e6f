"""The early warning on pages: the alerts of the data's as-of time in the viewer's scope, the ticker's
source and the alerts table of a topic page.

The alerts are read from the store the background job fills (``DataSession.alerts``): a page never runs
the detectors. Until the job has computed the viewer's scope for the current data, the set is "not
ready": pages keep showing the scope's previous set (of older data, e.g. before today's import) with a
caption saying it is being updated; when there is none, topic pages say the early warning is being
computed, and the wall's ticker shows the metric layer's overdue list meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import polars as pl
import streamlit as st

from dashboard.core.i18n import TEXTS, t
from dashboard.screen.ticker import ticker_alerts
from dashboard.session.context import Context
from data_access.alerts.store import AlertSet

log = logging.getLogger(__name__)


def early_warning_set(ctx: Context) -> AlertSet:
    """The stored alerts at the data's as-of time in the viewer's scope, and whether they are computed yet."""
    return ctx.data.alerts(as_of=ctx.as_of)


def ticker_source(ctx: Context) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """The ticker's lines: early-warning alerts; the metric layer's overdue list if that run fails."""

    def source(fallback: pl.DataFrame) -> pl.DataFrame:
        try:
            found = early_warning_set(ctx)
            if not found.ready and found.frame.is_empty():  # being computed, nothing older to show
                return fallback  # the overdue list keeps the wall busy meanwhile
            return ticker_alerts(found.frame)
        except Exception:  # never blank the wall: log it and keep the overdue list
            log.exception("early-warning run failed; the ticker shows the metric layer's overdue items")
            return fallback

    return source


def render_alerts(ctx: Context, alerts: AlertSet) -> None:
    """A table of alerts (severity, kind, message, link); a caption when there are none or none computed
    yet, and above an older set standing in (``previous_as_of``) while the job computes the current one."""
    lang, found = ctx.lang, alerts.frame
    if not alerts.ready and alerts.previous_as_of is None:
        st.caption(t("alerts_pending", lang))
        return
    if alerts.previous_as_of is not None:
        st.caption(t("alerts_updating", lang, time=f"{alerts.previous_as_of:%Y-%m-%d %H:%M}"))
    if found.height == 0:
        st.caption(t("alerts_none", lang))
        return
    message = "message_en" if lang == "en" else "message"
    shown = pl.DataFrame(
        {
            t("alert_severity", lang): [t(f"severity_{value}", lang) for value in found["severity"].to_list()],
            t("alert_kind", lang): [
                t(f"alert_kind_{kind}", lang) if f"alert_kind_{kind}" in TEXTS else kind
                for kind in found["kind"].to_list()
            ],
            t("alert_message", lang): found[message].to_list(),
            t("alert_link", lang): found["link"].to_list(),
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        key="alerts",
        column_config={t("alert_link", lang): st.column_config.LinkColumn(display_text=t("alert_open", lang))},
    )
