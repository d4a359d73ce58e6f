"""12345诉求: the monthly 三率 street ranking, response and close times, repeat complaints, rising categories.

Every topic page shares the filter bar (kept in the URL), KPIs, trend with alerts, drill map,
clickable breakdowns and the detail table (``dashboard.topic_ui``); its own sections come from
``dashboard.topic_views``.
"""

from __future__ import annotations

from dashboard.topic_ui import render_page
from dashboard.topic_views import SECTIONS

render_page("complaints", "page_complaints", SECTIONS["complaints"])
