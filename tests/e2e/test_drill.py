"""A real mouse click on a district of the big screen's map drills into that district's streets, and back."""

from __future__ import annotations

from dashboard.i18n import t
from tests.e2e import browser as web
from tests.e2e.conftest import Session, Tab


def test_click_on_a_district_drills_into_its_streets(tab: Tab, session: Session) -> None:
    city = session.city
    tab.open("/?kiosk=1", web.COCKPIT_READY)
    code, before, after = web.drill_largest_district(tab.page)

    assert before == set(city.districts)
    assert after == set(city.streets[code]), f"clicked {code}: the map shows {sorted(after)}"
    title = tab.page.locator(f"{web.MAP_PANEL} .cs-title").inner_text()
    assert city.districts[code] in title
    assert web.page_problems(tab.page) == []

    tab.page.locator(f"{web.BACK_BUTTON} button").click()
    tab.page.wait_for_selector(web.BACK_BUTTON, state="detached")
    web.wait_ready(tab.page, web.COCKPIT_READY)
    assert set(web.map_regions(tab.page)) == set(city.districts)
    assert t("city_wide", "zh") in tab.page.locator(f"{web.MAP_PANEL} .cs-title").inner_text()
    assert tab.recorder.console_errors == []
