"""城市运行驾驶舱 — entry point: navigation only (pages live in pages/, logic in dashboard/).

``?kiosk=1`` hides the navigation and all Streamlit chrome (wall screens); ``?kiosk=1&rotate=30``
also turns through the playlist (the cockpit and the three topic pages) every 30 seconds.
"""

from __future__ import annotations

import streamlit as st

from dashboard import app_state
from dashboard.i18n import t

lang = app_state.setup()

cockpit = st.Page("pages/cockpit.py", title=t("page_cockpit", lang), default=True)
topics = [
    st.Page("pages/services.py", title=t("page_services", lang)),
    st.Page("pages/complaints.py", title=t("page_complaints", lang)),
    st.Page("pages/grid.py", title=t("page_grid", lang)),
]
pages = {
    t("section_cockpit", lang): [cockpit],
    t("section_topics", lang): topics,
    t("section_analysis", lang): [
        st.Page("pages/explore.py", title=t("page_workbench", lang)),
        st.Page("pages/report.py", title=t("page_report", lang)),
    ],
    t("section_admin", lang): [st.Page("pages/admin.py", title=t("page_admin", lang))],
}

current = st.navigation(pages, position="hidden" if app_state.kiosk_mode() else "sidebar")
seconds = app_state.rotate_seconds()
if seconds:
    app_state.rotation([cockpit, *topics], current, seconds, lang)
current.run()
