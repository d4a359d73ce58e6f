"""网格治理: the seven-stage workflow funnel, side states, activity per grid and reporter, overdue events.

Every topic page shares the filter bar (kept in the URL), KPIs, trend with alerts, drill map,
clickable breakdowns and the detail table (``dashboard.topic_ui``); its own sections come from
``dashboard.topic_views``.
"""

from __future__ import annotations

from dashboard.topic_ui import render_page
from dashboard.topic_views import SECTIONS

render_page("grid", "page_grid", SECTIONS["grid"])
