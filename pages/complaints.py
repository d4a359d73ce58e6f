"""12345诉求: the monthly 三率 street ranking, response and close times, repeat complaints, rising categories.

Every topic page shares the filter bar (kept in the URL), KPIs, trend with alerts, drill map,
clickable breakdowns and the detail table (``dashboard.topics.page``); its own sections come from
``dashboard.topics.sections``.
"""

from __future__ import annotations

from dashboard.topics.page import render_page
from dashboard.topics.sections import SECTIONS

render_page("complaints", "page_complaints", SECTIONS["complaints"])
