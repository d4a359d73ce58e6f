"""The big screen in kiosk mode on wall sizes: nothing scrolls, no KPI text leaves its card, every chart drawn.

A 3840×2160 wall runs its browser at 200 % (docs/configuration.md): a 1920×1080 CSS viewport at
device scale 2. A 32:9 wall keeps the height and widens the columns.
"""

from __future__ import annotations

import pytest

from dashboard.core.kpi import Kpi
from dashboard.core.metric_requests import COCKPIT_ROWS
from dashboard.screen.bigscreen import kpi_card_html
from data_access.semantic.metric_defs import Direction, Unit
from tests.e2e import browser as web
from tests.e2e.conftest import DESKTOP, Screen, Session
from tests.e2e.pages import KIOSK
from tests.e2e.test_pages import assert_charts_drawn

WALLS = (DESKTOP, Screen("2160p", 1920, 1080, 2), Screen("3840x1080", 3840, 1080))
KPI_CARDS = sum(len(metrics) for metrics in COCKPIT_ROWS.values())


@pytest.mark.parametrize("screen", WALLS, ids=lambda screen: screen.name)
def test_kiosk_fits_the_wall(screen: Screen, session: Session) -> None:
    tab = session.shared_tab(KIOSK, web.COCKPIT_READY, screen)
    page = tab.page

    assert page.evaluate("window.devicePixelRatio") == screen.scale
    assert page.evaluate("[window.innerWidth, window.innerHeight]") == [screen.width, screen.height]
    assert web.page_problems(page) == []
    assert not page.locator('[data-testid="stSidebar"]').is_visible(), "kiosk mode shows the sidebar"
    assert not page.locator('[data-testid="stHeader"]').is_visible(), "kiosk mode shows Streamlit's header"
    assert web.scroll_problems(page) == []
    cards, overflowing = web.kpi_overflow(page)
    assert cards == KPI_CARDS
    assert overflowing == []
    assert_charts_drawn(tab, 2, f"kiosk {screen.name}")
    assert tab.recorder.console_errors == []


# Volumes of a whole city's month (the fixture city's are four digits): each must fit its card too.
LONG_VALUES = (14_759.0, 123_456.0, 1_234_567.0, 12_345_678.0)


def test_long_numbers_stay_inside_their_cards(session: Session) -> None:
    """The 1080p wall's first KPI cards, redrawn by the app's own HTML with city-sized volumes."""
    tab = session.shared_tab(KIOSK, web.COCKPIT_READY)
    page = tab.page
    cards = page.locator(".cs-kpi")
    saved = [cards.nth(index).evaluate("card => card.outerHTML") for index in range(len(LONG_VALUES))]
    try:
        for index, value in enumerate(LONG_VALUES):
            kpi = Kpi(
                "service_received", Unit.COUNT, Direction.NEUTRAL, value, value / 2, 1.0, True, None, None, None, None
            )
            cards.nth(index).evaluate("(card, html) => { card.outerHTML = html; }", kpi_card_html(kpi, "zh"))
        shown = page.locator(".cs-kpi-value").all_inner_texts()[: len(LONG_VALUES)]
        assert [text.replace("\n", "") for text in shown] == ["14,759件", "123,456件", "1,234,567件", "12,345,678件"]
        assert web.kpi_overflow(page)[1] == []
    finally:
        for index, html in enumerate(saved):
            page.locator(".cs-kpi").nth(index).evaluate("(card, html) => { card.outerHTML = html; }", html)
