"""The leadership big screen (领导驾驶舱大屏) as HTML: the wall palette, header, KPI cards, rankings and the
alert ticker. Pure functions, no Streamlit here; the page's CSS and browser scripts are in ``wall_page``.

Cards, rankings and the ticker are plain HTML (``st.html``) so their size, contrast and
colours are under our control at three metres; each card carries ``data-metric`` and
``data-value`` attributes, which the tests read.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass

from dashboard.core.formatting import format_change, format_datetime, format_index, format_value
from dashboard.core.i18n import metric_label, t
from dashboard.core.kpi import Kpi, Status

# The wall palette: deep navy, light text, cyan accents; status colours bright enough for a room.
BACKGROUND = "#040D1E"
PANEL = "rgba(10, 33, 68, 0.72)"
PANEL_BORDER = "rgba(64, 158, 255, 0.30)"
TEXT = "#E8F1FF"
MUTED = "#93A9C9"
ACCENT = "#35C3FF"
GOLD = "#FFC53D"
STATUS: dict[Status | None, str] = {
    Status.GREEN: "#2BD47D",
    Status.AMBER: "#FFB020",
    Status.RED: "#FF4D4F",
    None: "#6B7F9E",
}
GOOD = STATUS[Status.GREEN]
BAD = STATUS[Status.RED]


def esc(value: object) -> str:
    """``value`` as text safe inside HTML and inside a quoted attribute."""
    return html.escape(str(value), quote=True)


# ---- the kiosk: no Streamlit chrome (the page-level CSS of the wall itself is in ``wall_page``) ---------

KIOSK_CSS = """
<style>
/* Kiosk: no Streamlit chrome at all (header, menu, toolbar, deploy button, sidebar and its toggle). */
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stMainMenu"], [data-testid="stAppDeployButton"], [data-testid="stStatusWidget"],
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
#MainMenu, footer { display: none !important; }
[data-testid="stMainBlockContainer"] { padding-top: 12px !important; }
html, body { overflow: hidden !important; }
</style>
"""

# ---- header -------------------------------------------------------------------------------------

_WEEKDAYS = {"zh": "一二三四五六日", "en": ""}


def _date_text(day: dt.datetime, lang: str) -> str:
    if lang == "en":
        return f"{day:%A, %d %B %Y}"
    return f"{day:%Y年%m月%d日} 星期{_WEEKDAYS['zh'][day.weekday()]}"


def title_html(city: str, title: str, *, demo: bool, lang: str) -> str:
    badge = f'<span class="cs-badge">{esc(t("demo_badge", lang))}</span>' if demo else ""
    return (
        f'<div class="cs-header"><div class="cs-head-title"><span class="cs-head-city">{esc(city)}</span>'
        f"{esc(title)}{badge}</div></div>"
    )


def clock_html(
    *,
    now: dt.datetime,
    as_of: dt.datetime,
    refresh_seconds: int,
    token: str,
    lang: str,
    stale_since: dt.datetime | None = None,
) -> str:
    """Clock (filled in by the browser), date, data as-of time and the next-refresh countdown."""
    stale = (
        f'<span class="cs-stale">{esc(t("refresh_failed", lang, time=f"{stale_since:%H:%M}"))}</span>'
        if stale_since is not None
        else ""
    )
    return (
        '<div class="cs-clock-box">'
        f'<div><span class="cs-clock" id="cs-clock">{now:%H:%M:%S}</span>'
        f'<span class="cs-date" id="cs-date">{esc(_date_text(now, lang))}</span></div>'
        f'<div class="cs-asof">{esc(t("data_as_of_short", lang))} <b>{esc(format_datetime(as_of))}</b> · '
        f"{esc(t('next_refresh', lang))} "
        f'<b id="cs-countdown" data-seconds="{refresh_seconds}" data-token="{esc(token)}">'
        f"{refresh_seconds}{esc(t('seconds_short', lang))}</b>{stale}</div>"
        "</div>"
    )


# ---- KPI cards ----------------------------------------------------------------------------------


def split_unit(text: str) -> tuple[str, str]:
    """``"12,601 件"`` -> ``("12,601", "件")``; ``"95.0%"`` -> ``("95.0", "%")``; ``"—"`` -> ``("—", "")``."""
    if " " in text:
        number, unit = text.rsplit(" ", 1)
        return number, unit
    if text.endswith("%"):
        return text[:-1], "%"
    return text, ""


def _change_colour(moved: bool, improved: bool | None) -> str:
    """Green when the change is an improvement, red when it is a deterioration, neutral otherwise."""
    if not moved:
        return MUTED
    if improved is None:
        return TEXT
    return GOOD if improved else BAD


def _change_html(kpi: Kpi, lang: str) -> str:
    delta = format_change(kpi.change, kpi.unit, relative=kpi.relative, lang=lang)
    if delta is None:
        return f'<span class="cs-delta" style="color:{MUTED}">—</span>'
    moved = delta[:1] in ("+", "-")
    arrow = ("▲ " if delta[:1] == "+" else "▼ ") if moved else ""
    colour = _change_colour(moved, kpi.improved)
    shown = delta[1:] if moved else delta
    title = esc(t("vs_previous", lang))
    return f'<span class="cs-delta" style="color:{colour}" title="{title}">{arrow}{esc(shown)}</span>'


def _index_html(kpi: Kpi, lang: str) -> str:
    if kpi.target_index is None:
        return f'<span class="cs-index none">{esc(t("no_target", lang))}</span>'
    target = t("target_value", lang, value=format_value(kpi.target, kpi.unit, lang))
    label = t("index_short", lang, value=format_index(kpi.target_index))
    return f'<span class="cs-index" title="{esc(target)}">{esc(label)}</span>'


def value_class(number: str) -> str:
    """The KPI value's classes: a smaller face for numbers of six characters and more ("14,759")."""
    length = len(number)
    if length <= 5:
        return "cs-kpi-value"
    size = 6 if length == 6 else 7 if length == 7 else 8 if length <= 9 else 10
    return f"cs-kpi-value cs-len{size}"


def kpi_card_html(kpi: Kpi, lang: str) -> str:
    value = format_value(kpi.value, kpi.unit, lang)
    number, unit = split_unit(value)
    status = kpi.status.value if kpi.status else "none"
    return (
        f'<div class="cs-kpi" style="--status:{STATUS[kpi.status]}" data-metric="{esc(kpi.metric)}" '
        f'data-value="{esc(value)}" data-status="{status}">'
        f'<div class="cs-kpi-label">{esc(metric_label(kpi.metric, lang))}</div>'
        f'<div class="{value_class(number)}">{esc(number)}<span class="cs-unit">{esc(unit)}</span></div>'
        f'<div class="cs-kpi-foot">{_change_html(kpi, lang)}{_index_html(kpi, lang)}</div>'
        "</div>"
    )


def kpi_panel_html(title: str, kpis: Sequence[Kpi], lang: str, *, subtitle: str = "") -> str:
    small = f"<small>{esc(subtitle)}</small>" if subtitle else ""
    cards = "".join(kpi_card_html(kpi, lang) for kpi in kpis)
    return f'<div class="cs-title">{esc(title)}{small}</div><div class="cs-kpis">{cards}</div>'


def panel_title_html(title: str, subtitle: str = "") -> str:
    small = f"<small>{esc(subtitle)}</small>" if subtitle else ""
    return f'<div class="cs-title">{esc(title)}{small}</div>'


# ---- rankings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankRow:
    rank: int
    name: str
    value: str  # formatted, with unit
    status: Status | None


def ranking_html(title: str, subtitle: str, columns: Sequence[tuple[str, Sequence[RankRow]]], note: str = "") -> str:
    """A panel title and one or two ranked lists side by side (e.g. best five | worst five)."""
    parts = [panel_title_html(title, subtitle), '<div class="cs-rank-cols">']
    for heading, rows in columns:
        parts.append(f'<div><div class="cs-rank-head">{esc(heading)}</div>')
        for row in rows:
            parts.append(
                f'<div class="cs-rank-row" style="--status:{STATUS[row.status]}" data-rank="{row.rank}">'
                f'<span class="cs-rank-no">{row.rank}</span>'
                f'<span class="cs-rank-name" title="{esc(row.name)}">{esc(row.name)}</span>'
                f'<span class="cs-rank-value">{esc(row.value)}</span></div>'
            )
        parts.append("</div>")
    parts.append("</div>")
    if note:
        parts.append(f'<div class="cs-note">{esc(note)}</div>')
    return "".join(parts)


# ---- alert ticker -------------------------------------------------------------------------------

_SEVERITY_STATUS = {"high": Status.RED, "medium": Status.AMBER, "low": Status.GREEN}


@dataclass(frozen=True)
class TickerItem:
    severity: str
    tag: str  # e.g. 超期
    message: str
    link: str


def ticker_html(items: Sequence[TickerItem], lang: str, *, seconds_per_item: float = 7.0) -> str:
    """One scrolling line of alerts; each links to the topic page with its filters set."""
    label = f'<div class="cs-ticker-label">{esc(t("alerts_label", lang))}</div>'
    if not items:
        body = f'<div class="cs-ticker-empty">{esc(t("no_alerts", lang))}</div>'
        return f'<div class="cs-ticker">{label}<div class="cs-ticker-window">{body}</div></div>'
    links = "".join(
        f'<a href="{esc(item.link)}" target="_self" class="cs-alert" data-severity="{esc(item.severity)}" '
        f'style="--status:{STATUS[_SEVERITY_STATUS.get(item.severity, Status.AMBER)]}">'
        f"<b>【{esc(item.tag)}】</b>{esc(item.message)}</a>"
        for item in items
    )
    duration = max(20.0, seconds_per_item * len(items))
    return (
        f'<div class="cs-ticker">{label}<div class="cs-ticker-window">'
        f'<div class="cs-ticker-track" style="--duration:{duration:.0f}s">{links}</div></div></div>'
    )
