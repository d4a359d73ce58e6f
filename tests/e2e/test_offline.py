"""Offline proof: every request the browser makes while visiting every page goes to the app's own origin.

The deployment has no internet: a CDN script, a map tile, a web font, an icon font or telemetry
would fail there. Every tab of the whole session is recorded (each page, the kiosk walls, clicks,
reloads, downloads); this test visits any page the others did not, then checks them all.
"""

from __future__ import annotations

from urllib.parse import urlparse

from tests.e2e import browser as web
from tests.e2e.conftest import Session
from tests.e2e.pages import KIOSK, app_pages
from tests.e2e.test_kiosk import WALLS


def test_every_request_stays_on_the_apps_origin(session: Session) -> None:
    for page in app_pages():
        session.visit(page)
    for screen in WALLS:
        session.shared_tab(KIOSK, web.COCKPIT_READY, screen)

    requests = session.requests()
    assert web.foreign_requests(requests, session.base) == []
    # Every page was on screen, and the recording works: documents, scripts and web sockets are in it.
    assert {page.path for page in app_pages()} <= session.visited
    paths = {urlparse(url).path for url in requests}
    assert {"/", "/_stcore/stream"} <= paths
    assert any(path.startswith("/static/js/") for path in paths)
