"""政务服务: handling times against the promised limit, on-time ranking, overdue cases, online share, 好差评.

Every topic page shares the filter bar (kept in the URL), KPIs, trend with alerts, drill map,
clickable breakdowns and the detail table (``dashboard.topics.page``); its own sections come from
``dashboard.topics.sections``.
"""

from __future__ import annotations

from dashboard.topics.page import render_page
from dashboard.topics.sections import SECTIONS

render_page("services", "page_services", SECTIONS["services"])
