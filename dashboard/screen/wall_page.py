"""The wall page's CSS and browser scripts (pure strings, no Streamlit here): the dark layout, the fit to
any screen and the live clock. The HTML they style is built in ``bigscreen``.

The screen is designed at 1920×1080 CSS pixels. ``FIT_SCRIPT`` zooms the page body by
``min(width / 1920, height / 1080)``, the width being what the sidebar leaves when one is shown,
so a 3840×2160 wall shows the same layout twice as large (text grows with the screen, nothing
stretches), and a 32:9 wall keeps the height and widens the columns (no borders, no distortion).
Everything is drawn with system CJK fonts, named in ``theme.FONT_FAMILY``; nothing is loaded from
anywhere.
"""

from __future__ import annotations

import json

from dashboard.charts import theme
from dashboard.core.i18n import t
from dashboard.core.kpi import Status
from dashboard.screen.bigscreen import (
    ACCENT,
    BACKGROUND,
    GOLD,
    GOOD,
    MUTED,
    PANEL,
    PANEL_BORDER,
    STATUS,
    TEXT,
)

DESIGN_WIDTH = 1920
DESIGN_HEIGHT = 1080

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
# The page is a single-page app: its window, and so this script's timer, outlive the big screen when
# a person moves to another page through the sidebar. It zooms only while the screen's own elements
# are on the page (``WALL_MARKERS``) and otherwise takes its zoom off, or every other page visited
# after the wall would be shrunk to fit 1920×1080 (and relaid out every second).
# Known limit: Streamlit sizes Plotly charts from their on-screen (zoomed) box, so under a CSS zoom
# above 1 the trend chart is drawn too large. A 4K wall should run its browser at 200 % display
# scaling (a 1920×1080 CSS viewport, zoom 1, everything sharp); see docs/make_screenshots.py.
WALL_MARKERS = "#cs-clock, .cs-kpi, .st-key-cs_panel_map"  # on the big screen only
FIT_SCRIPT = f"""
<script>
(function () {{
  function fit() {{
    var main = document.querySelector('[data-testid="stMainBlockContainer"]');
    if (!document.querySelector('{WALL_MARKERS}')) {{
      if (main && main.style.zoom) {{ main.style.zoom = ''; }}
      return;
    }}
    var sidebar = document.querySelector('[data-testid="stSidebar"]');
    var taken = sidebar ? Math.max(0, sidebar.getBoundingClientRect().right) : 0;
    var zoom = Math.min((window.innerWidth - taken) / {DESIGN_WIDTH}, window.innerHeight / {DESIGN_HEIGHT});
    zoom = Math.max(0.5, Math.round(zoom * 1000) / 1000);
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
