"""The early warning on pages: the alerts of the data's as-of time in the viewer's scope, the ticker's
source and the alerts table of a topic page."""

from __future__ import annotations

import logging
from collections.abc import Callable

import polars as pl
import streamlit as st

from dashboard.core.i18n import TEXTS, t
from dashboard.screen.ticker import ticker_alerts
from dashboard.session.context import Context

log = logging.getLogger(__name__)

# Alerts change by the day; a full early-warning run costs seconds at city scale, so every screen
# of the process shares one result per (data version, as-of time, scope) for five minutes, loaded once.
EARLY_WARNING_TTL_SECONDS = 300


def early_warning_alerts(ctx: Context) -> pl.DataFrame:
    """The early-warning module's alerts at the data's as-of time in the viewer's scope, cached and shared."""
    return ctx.data.alerts(as_of=ctx.as_of, ttl_seconds=EARLY_WARNING_TTL_SECONDS)


def ticker_source(ctx: Context) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """The ticker's lines: early-warning alerts; the metric layer's overdue list if that run fails."""

    def source(fallback: pl.DataFrame) -> pl.DataFrame:
        try:
            return ticker_alerts(early_warning_alerts(ctx))
        except Exception:  # never blank the wall: log it and keep the overdue list
            log.exception("early-warning run failed; the ticker shows the metric layer's overdue items")
            return fallback

    return source


def render_alerts(ctx: Context, found: pl.DataFrame) -> None:
    """A table of alerts (severity, kind, message, link); a caption when there are none."""
    lang = ctx.lang
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
