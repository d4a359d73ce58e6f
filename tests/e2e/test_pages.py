"""Every page in a real browser: it loads, draws its charts, shows no exception and logs no console error.

The pages are visited in one tab through the sidebar; the big screen and the topic pages are also
opened by URL in the other tests (kiosk, URL state).
"""

from __future__ import annotations

import pytest

from tests.e2e import browser as web
from tests.e2e.conftest import Session, Tab
from tests.e2e.pages import AppPage, app_pages

# A drawn chart shows axes, marks and labels in many colours; a blank or failed one shows one or two.
MIN_CHART_COLOURS = 16


def assert_charts_drawn(tab: Tab, minimum: int, where: str) -> None:
    charts = web.chart_states(tab.page)
    assert len(charts) >= minimum, f"{where}: {len(charts)} charts on screen, expected at least {minimum}"
    assert [chart for chart in charts if not chart.drawn] == [], f"{where}: charts without marks"
    for index, chart in enumerate(charts):
        colours = web.chart_pixel_colours(tab.page, index)
        assert colours >= MIN_CHART_COLOURS, f"{where}: chart {chart.key} looks blank ({colours} colours)"


@pytest.mark.parametrize("page", app_pages(), ids=lambda page: page.name)
def test_page_loads_and_draws(page: AppPage, session: Session) -> None:
    mark = session.tour.recorder.mark() if session.tour else 0
    tab = session.visit(page)

    assert tab.path == page.path
    assert web.page_problems(tab.page) == []
    if page.path != "/":  # visited after the wall in the same tab: none of the wall's fit-to-screen zoom
        tab.page.wait_for_timeout(1100)  # the fit script runs every second
        assert web.main_zoom(tab.page) == "", f"{page.name} is zoomed to fit a wall"
    assert_charts_drawn(tab, page.min_charts, page.name)
    assert tab.recorder.errors_since(mark) == []
