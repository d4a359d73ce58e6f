"""The leadership big screen (领导驾驶舱大屏) as HTML and CSS: pure functions, no Streamlit here.

The screen is designed at 1920×1080 CSS pixels. ``FIT_SCRIPT`` zooms the page body by
``min(width / 1920, height / 1080)``, the width being what the sidebar leaves when one is shown,
so a 3840×2160 wall shows the same layout twice as large (text grows with the screen, nothing
stretches), and a 32:9 wall keeps the height and widens the columns (no borders, no distortion).
Everything is drawn with system CJK fonts, named in ``theme.FONT_FAMILY``; nothing is loaded from
anywhere.

Cards, rankings and the ticker are plain HTML (``st.html``) so their size, contrast and
colours are under our control at three metres; each card carries ``data-metric`` and
``data-value`` attributes, which the tests read.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass

from dashboard.charts import theme
from dashboard.core.formatting import format_change, format_datetime, format_index, format_value
from dashboard.core.i18n import metric_label, t
from dashboard.core.kpi import Kpi, Status

DESIGN_WIDTH = 1920
DESIGN_HEIGHT = 1080

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
    return html.escape(str(value), quote=True)


# ---- page-level CSS and scripts ---------------------------------------------------------------

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

SCREEN_CSS = f"""
<style>
html, body, .stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] {{
  background: {BACKGROUND} !important;
}}
.stApp {{
  background: radial-gradient(ellipse at 50% 0%, #0B2A55 0%, {BACKGROUND} 62%) !important;
  color: {TEXT};
}}
[data-testid="stHeader"] {{ background: transparent !important; }}
[data-testid="stMainBlockContainer"] {{
  max-width: none !important; padding: 10px 22px 8px 22px !important;
  font-family: {theme.FONT_FAMILY};
}}
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] {{ gap: 8px; }}
[data-testid="stHorizontalBlock"] {{ gap: 12px !important; }}
/* A refreshing fragment must not dim or flicker on a wall screen. */
[data-stale="true"], .stale-element {{ opacity: 1 !important; transition: none !important; }}
[data-testid="stSkeleton"] {{ display: none !important; }}
.stApp p, .stApp label, .stApp span, .stApp div {{ color: inherit; }}
/* Panels: the containers keyed cs_panel_*. */
[class*="st-key-cs_panel"] {{
  background: {PANEL}; border: 1px solid {PANEL_BORDER}; border-radius: 6px;
  padding: 8px 12px 6px 12px; box-shadow: inset 0 0 18px rgba(53, 195, 255, 0.08);
}}
/* Widgets on the dark screen: segmented controls and buttons. */
.stApp [data-testid="stButtonGroup"] button, .stApp [data-testid="stButton"] button {{
  background: rgba(12, 40, 80, 0.9) !important; color: {TEXT} !important;
  border: 1px solid {PANEL_BORDER} !important; font-size: 17px !important; min-height: 34px;
}}
.stApp [data-testid="stButtonGroup"] button[kind*="Active"],
.stApp [data-testid="stButtonGroup"] button[aria-checked="true"] {{
  background: {ACCENT} !important; color: #02142B !important; font-weight: 700;
}}
.stApp [data-testid="stButtonGroup"] button p, .stApp [data-testid="stButton"] button p {{
  font-size: 17px !important; color: inherit !important;
}}
.stApp [data-testid="stSelectbox"] [role="group"] {{
  background-color: rgba(12, 40, 80, 0.95) !important; border-color: {PANEL_BORDER} !important; min-height: 36px;
}}
.stApp [data-testid="stSelectbox"] input {{ color: {TEXT} !important; font-size: 17px !important; }}
.stApp [data-testid="stSelectbox"] svg {{ fill: {TEXT} !important; color: {TEXT} !important; }}
.stApp [data-testid="stWidgetLabel"] {{ display: none; }}
/* Plotly inside panels: transparent. */
.stApp [data-testid="stPlotlyChart"] {{ background: transparent !important; }}
.cs-title {{ font-size: 21px; font-weight: 700; color: {TEXT}; letter-spacing: 1px; margin: 0 0 4px 0;
  display: flex; align-items: center; gap: 8px; white-space: nowrap; }}
.cs-title::before {{ content: ""; width: 5px; height: 20px; background: {ACCENT}; border-radius: 2px; }}
.cs-title small {{ font-size: 15px; font-weight: 400; color: {MUTED}; letter-spacing: 0; }}
/* Header */
.cs-header {{ display: flex; align-items: center; justify-content: space-between; gap: 16px; height: 64px; }}
.cs-head-title {{ font-size: 36px; font-weight: 800; letter-spacing: 3px; color: #FFFFFF; white-space: nowrap;
  text-shadow: 0 0 14px rgba(53, 195, 255, 0.55); }}
.cs-head-city {{ color: {ACCENT}; margin-right: 10px; }}
.cs-badge {{ display: inline-block; font-size: 16px; font-weight: 700; letter-spacing: 1px; padding: 3px 10px;
  border-radius: 4px; color: #1A1200; background: {GOLD}; margin-left: 14px; vertical-align: middle;
  text-shadow: none; }}
.cs-clock-box {{ text-align: right; white-space: nowrap; line-height: 1.25; }}
.cs-clock {{ font-size: 34px; font-weight: 700; color: #FFFFFF; font-variant-numeric: tabular-nums; }}
.cs-date {{ font-size: 17px; color: {MUTED}; margin-left: 10px; }}
.cs-asof {{ font-size: 16px; color: {MUTED}; font-variant-numeric: tabular-nums; }}
.cs-asof b {{ color: {TEXT}; font-weight: 600; }}
.cs-stale {{ font-size: 16px; color: #1A1200; background: {STATUS[Status.AMBER]}; border-radius: 4px;
  padding: 2px 10px; margin-left: 10px; font-weight: 700; }}
/* KPI cards */
.cs-kpis {{ display: grid; grid-template-columns: repeat(4, 1fr); gap: 8px; }}
.cs-kpi {{ background: rgba(4, 20, 44, 0.75); border: 1px solid rgba(64, 158, 255, 0.22);
  border-top: 4px solid var(--status); border-radius: 4px; padding: 6px 10px 7px 10px; min-width: 0; }}
.cs-kpi-label {{ font-size: 17px; color: {MUTED}; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }}
.cs-kpi-value {{ font-size: 38px; font-weight: 700; color: #FFFFFF; line-height: 1.15; white-space: nowrap;
  font-variant-numeric: tabular-nums; letter-spacing: -0.5px; }}
/* Long numbers (12,345 and up) get a smaller face, so number and unit stay inside the card at 1080p. */
.cs-kpi-value.cs-len6 {{ font-size: 32px; line-height: 44px; }}
.cs-kpi-value.cs-len7 {{ font-size: 28px; line-height: 44px; }}
.cs-kpi-value.cs-len8 {{ font-size: 22px; line-height: 44px; }}
.cs-kpi-value.cs-len10 {{ font-size: 19px; line-height: 44px; }}
.cs-kpi-value .cs-unit {{ font-size: 18px; font-weight: 400; color: {MUTED}; margin-left: 4px; letter-spacing: 0; }}
.cs-kpi-foot {{ display: flex; flex-direction: column; align-items: flex-start; gap: 4px; font-size: 16px;
  white-space: nowrap; }}
.cs-delta {{ font-weight: 700; font-variant-numeric: tabular-nums; }}
.cs-delta small {{ font-weight: 400; color: {MUTED}; margin-left: 3px; }}
.cs-index {{ font-weight: 700; padding: 1px 7px; border-radius: 3px; color: #04121F; background: var(--status); }}
.cs-index.none {{ color: {MUTED}; background: transparent; border: 1px solid rgba(147, 169, 201, 0.35);
  font-weight: 400; }}
/* Rankings */
.cs-rank-cols {{ display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }}
.cs-rank-head {{ font-size: 16px; color: {MUTED}; margin-bottom: 2px; }}
.cs-rank-row {{ display: grid; grid-template-columns: 30px 1fr auto; align-items: center; gap: 8px;
  font-size: 19px; height: 38px; border-bottom: 1px solid rgba(64, 158, 255, 0.10); }}
.cs-rank-no {{ font-weight: 700; text-align: center; border-radius: 3px; font-size: 16px; color: #04121F;
  background: var(--status); line-height: 24px; }}
.cs-rank-name {{ white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }}
.cs-rank-value {{ font-weight: 700; font-variant-numeric: tabular-nums; color: var(--status); }}
.cs-note {{ font-size: 15px; color: {MUTED}; margin-top: 2px; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }}
/* Ticker */
.cs-ticker {{ display: flex; align-items: center; height: 46px; overflow: hidden; background: rgba(60, 10, 16, 0.55);
  border: 1px solid rgba(255, 77, 79, 0.45); border-radius: 6px; }}
.cs-ticker-label {{ flex: none; height: 100%; display: flex; align-items: center; padding: 0 16px; font-size: 20px;
  font-weight: 800; color: #FFFFFF; background: {STATUS[Status.RED]}; letter-spacing: 2px; }}
.cs-ticker-window {{ flex: 1; overflow: hidden; white-space: nowrap; position: relative; height: 100%; }}
.cs-ticker-track {{ display: inline-flex; align-items: center; height: 100%; gap: 56px; padding-left: 100%;
  animation: cs-scroll var(--duration) linear infinite; will-change: transform; }}
.cs-ticker-track a {{ color: {TEXT} !important; text-decoration: none; font-size: 20px; }}
.cs-ticker-track a b {{ color: var(--status); margin-right: 8px; }}
.cs-ticker-empty {{ font-size: 20px; color: {GOOD}; padding-left: 16px; line-height: 46px; }}
@keyframes cs-scroll {{ from {{ transform: translateX(0); }} to {{ transform: translateX(-100%); }} }}
</style>
"""

# Fits the 1920×1080 design to any screen; runs in the page (st.html with JavaScript allowed).
# Known limit: Streamlit sizes Plotly charts from their on-screen (zoomed) box, so under a CSS zoom
# above 1 the trend chart is drawn too large. A 4K wall should run its browser at 200 % display
# scaling (a 1920×1080 CSS viewport, zoom 1, everything sharp); see docs/make_screenshots.py.
FIT_SCRIPT = f"""
<script>
(function () {{
  function fit() {{
    var sidebar = document.querySelector('[data-testid="stSidebar"]');
    var taken = sidebar ? Math.max(0, sidebar.getBoundingClientRect().right) : 0;
    var zoom = Math.min((window.innerWidth - taken) / {DESIGN_WIDTH}, window.innerHeight / {DESIGN_HEIGHT});
    zoom = Math.max(0.5, Math.round(zoom * 1000) / 1000);
    var main = document.querySelector('[data-testid="stMainBlockContainer"]');
    var wanted = zoom === 1 ? '' : String(zoom);
    if (main && main.style.zoom !== wanted) {{ main.style.zoom = wanted; }}
  }}
  fit();
  if (!window.__cockpitFit) {{
    window.__cockpitFit = true;
    window.addEventListener('resize', fit);
    setInterval(fit, 1000);
  }}
}})();
</script>
"""


def clock_script(timezone: str, lang: str) -> str:
    """A live clock and the next-refresh countdown, ticking in the browser (no server round trip).

    The countdown element carries a token that changes on every server refresh; the script
    restarts the countdown when it sees a new token, so server and browser clocks may differ.
    """
    locale = "en-GB" if lang == "en" else "zh-CN"
    seconds_word = json.dumps(t("seconds_short", lang))
    return f"""
<script>
(function () {{
  var tz = {json.dumps(timezone)};
  function tick() {{
    var now = new Date();
    var clock = document.getElementById('cs-clock');
    if (clock) {{
      try {{
        clock.textContent = now.toLocaleTimeString({json.dumps(locale)}, {{timeZone: tz, hour12: false}});
      }} catch (e) {{ clock.textContent = now.toLocaleTimeString(); }}
    }}
    var date = document.getElementById('cs-date');
    if (date) {{
      try {{
        date.textContent = now.toLocaleDateString({json.dumps(locale)},
          {{timeZone: tz, year: 'numeric', month: 'long', day: 'numeric', weekday: 'long'}});
      }} catch (e) {{ /* keep the server's date */ }}
    }}
    var countdown = document.getElementById('cs-countdown');
    if (countdown) {{
      var token = countdown.getAttribute('data-token');
      if (window.__cockpitToken !== token) {{ window.__cockpitToken = token; window.__cockpitSeen = now.getTime(); }}
      var total = parseInt(countdown.getAttribute('data-seconds'), 10) || 60;
      var left = Math.max(0, total - Math.floor((now.getTime() - window.__cockpitSeen) / 1000));
      countdown.textContent = left + {seconds_word};
    }}
  }}
  tick();
  if (!window.__cockpitClock) {{ window.__cockpitClock = setInterval(tick, 1000); }}
}})();
</script>
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
