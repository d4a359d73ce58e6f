"""Page furniture every page shares: the title line, the period switch, KPI cards, compact layout, refresh."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Literal

import streamlit as st

from dashboard.auth import page_audit
from dashboard.core.formatting import format_change, format_datetime, format_index, format_value
from dashboard.core.i18n import metric_label, t
from dashboard.core.kpi import Kpi, Status
from dashboard.core.periods import Period
from dashboard.session.context import Context

BadgeColour = Literal["red", "orange", "green", "gray"]
_STATUS_BADGE: dict[Status | None, tuple[BadgeColour, str]] = {
    Status.RED: ("red", "status_red"),
    Status.AMBER: ("orange", "status_amber"),
    Status.GREEN: ("green", "status_green"),
    None: ("gray", "no_target"),
}


def page_header(ctx: Context, title: str) -> None:
    """Title with the city's name, the data's as-of time and, for demo data, a visible badge."""
    compact_layout()
    city = ctx.city.name_en if ctx.lang == "en" else ctx.city.name
    st.title(f"{city} · {title}")
    with st.container(horizontal=True, vertical_alignment="center"):
        st.caption(t("data_as_of", ctx.lang, time=format_datetime(ctx.as_of)), width="content")
        if ctx.is_demo:
            st.badge(t("demo_badge", ctx.lang), color="orange", help=t("demo_note", ctx.lang))


def _preset_from_query(key: str, options: Sequence[str]) -> bool:
    """Take a widget's first value from ``?key=`` (links from the big screen's ticker); True when set."""
    if key in st.session_state:
        return True
    value = st.query_params.get(key)
    if value is not None and value in options:
        st.session_state[key] = value
        return True
    return False


def period_choice(lang: str, options: Sequence[str], default: str, key: str = "period") -> str:
    """A segmented switch over period presets; returns the chosen preset's key."""
    preset = _preset_from_query(key, options)
    choice = st.segmented_control(
        t("period", lang),
        list(options),
        default=None if preset else default,
        required=True,
        key=key,
        format_func=lambda key_: t(f"period_{key_}", lang),
    )
    return str(choice or default)


def period_caption(period: Period, lang: str) -> str:
    end = period.current.end - dt.timedelta(minutes=1)
    return t("period_range", lang, start=format_datetime(period.current.start), end=format_datetime(end))


def render_kpis(kpis: Sequence[Kpi], lang: str, per_row: int | None = None, *, comparison: str | None = None) -> None:
    """One bordered card per KPI: value, change vs the comparison period, target index badge."""
    per_row = per_row or len(kpis)
    for offset in range(0, len(kpis), per_row):
        row = kpis[offset : offset + per_row]
        for column, kpi in zip(st.columns(per_row), row, strict=False):
            with column, st.container(border=True):
                _kpi_card(kpi, lang, comparison or t("vs_previous", lang))


def _kpi_card(kpi: Kpi, lang: str, comparison: str) -> None:
    delta = format_change(kpi.change, kpi.unit, relative=kpi.relative, lang=lang)
    moved = delta is not None and delta[:1] in ("+", "-")  # a change that rounds to zero shows no arrow or colour
    st.metric(
        metric_label(kpi.metric, lang),
        format_value(kpi.value, kpi.unit, lang),
        delta=delta,
        delta_color=_delta_colour(kpi) if moved else "off",
        delta_arrow="auto" if moved else "off",
        delta_description=comparison,
        help=t("kpi_help", lang),
    )
    colour, status_key = _STATUS_BADGE[kpi.status]
    if kpi.target_index is None:
        st.badge(t("no_target", lang), color=colour)
    else:
        label = f"{t('target_index', lang, value=format_index(kpi.target_index))} · {t(status_key, lang)}"
        st.badge(label, color=colour, help=t("target_value", lang, value=format_value(kpi.target, kpi.unit, lang)))


def _delta_colour(kpi: Kpi) -> Literal["normal", "inverse", "off"]:
    """st.metric colours 'normal' up-green/down-red and 'inverse' the other way: pick by the metric's direction."""
    if kpi.improved is None:
        return "off"
    rises = kpi.change is not None and kpi.change > 0
    return "normal" if kpi.improved == rises else "inverse"


def compact_layout() -> None:
    """Less empty space above the title, so a 1080p screen holds the whole overview."""
    st.html(
        "<style>[data-testid='stMainBlockContainer']{padding-top:2.2rem;padding-bottom:1rem}</style>",
    )


def auto_refresh(seconds: int) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Re-run a page body every ``seconds`` in the browser (wall screens left unattended)."""

    def wrap(body: Callable[[], None]) -> Callable[[], None]:
        return st.fragment(page_audit.audited_fragment(body), run_every=dt.timedelta(seconds=max(seconds, 5)))

    return wrap
