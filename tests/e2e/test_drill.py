"""A real mouse click on a district of the big screen's map drills into that district's streets, and back.

It uses the 1080p wall's tab of the kiosk test and leaves it at the city view, as it found it.
"""

from __future__ import annotations

from dashboard.core.i18n import t
from tests.e2e import browser as web
from tests.e2e.conftest import Session
from tests.e2e.pages import KIOSK


def test_click_on_a_district_drills_into_its_streets(session: Session) -> None:
    city = session.city
    tab = session.shared_tab(KIOSK, web.COCKPIT_READY)
    page = tab.page
    mark = tab.recorder.mark()

    code, before, after = web.drill_largest_district(page)

    assert before == set(city.districts)
    assert after == set(city.streets[code]), f"clicked {code}: the map shows {sorted(after)}"
    assert city.districts[code] in page.locator(f"{web.MAP_PANEL} .cs-title").inner_text()
    assert web.selectbox_value(page, "map_district") == city.districts[code]
    assert web.page_problems(page) == []
    assert web.scroll_problems(page) == [], "the drilled screen does not fit the wall"

    with web.rerun(page, web.COCKPIT_READY):
        page.locator(f"{web.BACK_BUTTON} button").click()
    assert page.locator(web.BACK_BUTTON).count() == 0
    assert set(web.map_regions(page)) == set(city.districts)
    assert t("city_wide", "zh") in page.locator(f"{web.MAP_PANEL} .cs-title").inner_text()
    assert tab.recorder.errors_since(mark) == []
