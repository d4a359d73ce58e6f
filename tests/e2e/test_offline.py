"""Offline proof: every request the browser makes while visiting every page goes to the app's own origin.

The deployment has no internet: a CDN script, a map tile, a web font, an icon font or telemetry
would fail there. The tabs of the whole session are recorded (pages, kiosk walls, clicks,
downloads); this test opens any page the others did not and then checks them all.
"""

from __future__ import annotations

from urllib.parse import urlparse

from data_access.settings import DEFAULT_CITY_FILE, load_city
from tests.e2e import browser as web
from tests.e2e.conftest import DESKTOP, Session
from tests.e2e.pages import app_pages
from tests.e2e.test_kiosk import KIOSK, WALLS


def test_every_request_stays_on_the_apps_origin(session: Session) -> None:
    for page in app_pages():
        session.shared_tab(page.path, page.need, DESKTOP)
    for screen in WALLS:
        session.shared_tab(KIOSK, web.COCKPIT_READY, screen)
    english = session.shared_tab("/?kiosk=1&lang=en", web.COCKPIT_READY)
    assert load_city(DEFAULT_CITY_FILE).name_en in english.page.locator(".cs-head-title").inner_text()

    requests = session.requests()
    assert web.foreign_requests(requests, session.base) == []
    # The recording works: each page's documents, scripts and its Streamlit web socket are in it.
    paths = {urlparse(url).path for url in requests}
    assert {page.path for page in app_pages()} <= paths
    assert "/_stcore/stream" in paths
    assert any(path.startswith("/static/js/") for path in paths)
