"""城市运行驾驶舱 — entry point: navigation only (pages live in pages/, logic in dashboard/).

``?kiosk=1`` hides the navigation and all Streamlit chrome (wall screens); ``?kiosk=1&rotate=30``
also turns through the playlist (the cockpit and the three topic pages) every 30 seconds;
``?kiosk=1&screen_token=…`` signs a wall screen in with its device token.

Sign-in (``dashboard.auth.sign_in.gate``): with no account in the database every page is open, with a
notice; once an account exists a signed-out session sees only the login page, and each role sees
only its pages (wall screens: the playlist; admin pages: admins).
"""

from __future__ import annotations

import streamlit as st

from dashboard.auth import page_audit
from dashboard.auth import sign_in as auth_ui
from dashboard.core.i18n import t
from dashboard.session import context, display

lang = display.setup()
access = auth_ui.gate(lang)

if access.needs_sign_in:
    # The login page answers every page's address, so a deep link signs in and then opens that page.
    login = [st.Page("pages/login.py", title=t("page_login", lang), default=True)]
    login += [st.Page("pages/login.py", title=t("page_login", lang), url_path=path) for path in auth_ui.PAGE_PATHS]
    current = st.navigation(login, position="hidden")
    page_audit.run_page(current, "login")
else:
    cockpit = st.Page("pages/cockpit.py", title=t("page_cockpit", lang), default=True)
    topics = [
        st.Page("pages/services.py", title=t("page_services", lang)),
        st.Page("pages/complaints.py", title=t("page_complaints", lang)),
        st.Page("pages/grid.py", title=t("page_grid", lang)),
    ]
    pages = {t("section_cockpit", lang): [cockpit], t("section_topics", lang): topics}
    if access.role != "screen":
        pages[t("section_analysis", lang)] = [st.Page("pages/explore.py", title=t("page_workbench", lang))]
        if access.can("export"):  # a briefing is an export
            pages[t("section_analysis", lang)].append(st.Page("pages/report.py", title=t("page_report", lang)))
    if access.can("admin"):
        pages[t("section_admin", lang)] = [
            st.Page("pages/admin.py", title=t("page_admin", lang)),
            st.Page("pages/audit.py", title=t("page_audit", lang)),
        ]

    current = st.navigation(pages, position="hidden" if display.kiosk_mode() else "sidebar")
    if not display.kiosk_mode():
        auth_ui.sidebar(access, lang, context.scope_caption(access))
    seconds = display.rotate_seconds()
    if seconds:
        display.rotation([cockpit, *topics], current, seconds, lang)
    page_audit.run_page(current, "cockpit")
