"""城市运行驾驶舱 — entry point: navigation only (pages live in pages/, logic in dashboard/)."""

from __future__ import annotations

import streamlit as st

from dashboard.app_state import setup
from dashboard.i18n import t

lang = setup()

pages = {
    t("section_cockpit", lang): [
        st.Page("pages/cockpit.py", title=t("page_cockpit", lang), default=True),
    ],
    t("section_topics", lang): [
        st.Page("pages/services.py", title=t("page_services", lang)),
        st.Page("pages/complaints.py", title=t("page_complaints", lang)),
        st.Page("pages/grid.py", title=t("page_grid", lang)),
    ],
    t("section_analysis", lang): [
        st.Page("pages/explore.py", title=t("page_explore", lang)),
    ],
    t("section_admin", lang): [
        st.Page("pages/admin.py", title=t("page_admin", lang)),
    ],
}

st.navigation(pages).run()
