"""Filters live in the URL: a link opens the filtered view, a filter change shows in the URL, a reload keeps it.

``URL_CHANGES`` lists what a person can change today and the query parameter it leaves behind. A new
filter that writes the URL (a topic page's period or district switch, say) is one more entry:
where to start, what to click, which parameter must appear (or go), and how the page shows it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from dashboard.formatting import format_value
from dashboard.i18n import LANGUAGE_NAMES, metric_label, t
from dashboard.queries import DOMAIN_TABLES, VOLUME_METRIC
from data_access.metric_defs import Unit
from tests.e2e import browser as web
from tests.e2e.conftest import FixtureCity, Session, Tab

METRIC = '[data-testid="stMetric"]'


def busiest_district(city: FixtureCity, table: str, since: dt.date) -> str:
    return max(city.districts, key=lambda code: city.count(table, since, district=code))


def week_start(city: FixtureCity) -> dt.date:
    return city.as_of.date() - dt.timedelta(days=city.as_of.weekday())


def title(tab: Tab) -> str:
    return tab.page.locator("h1").first.inner_text()


@dataclass(frozen=True)
class UrlChange:
    name: str
    start: Callable[[FixtureCity], str]  # where the person starts (path and query)
    change: Callable[[Tab], None]  # what they do
    params: dict[str, str | None]  # what the URL then says (None: the parameter is gone)
    shown: Callable[[Tab], bool]  # the page shows the changed view


def _link_notice_gone(tab: Tab) -> bool:
    notice = t("link_active", "zh", filters="").rstrip()
    infos = tab.page.locator('[data-testid="stAlertContentInfo"]').all_inner_texts()
    return not any(text.startswith(notice) for text in infos) and tab.page.locator(".st-key-link_clear").count() == 0


URL_CHANGES = (
    UrlChange(
        "language",
        start=lambda city: "/services",
        change=lambda tab: web.choose_option(tab.page, "lang", LANGUAGE_NAMES["en"]),
        params={"lang": "en"},
        shown=lambda tab: t("page_services", "en") in title(tab),
    ),
    UrlChange(
        "clear link filters",
        start=lambda city: (
            f"/complaints?district={busiest_district(city, 'complaints', week_start(city))}"
            f"&start={week_start(city)}&end={city.as_of.date() + dt.timedelta(days=1)}"
        ),
        change=lambda tab: tab.page.locator(".st-key-link_clear button").click(),
        params={"district": None, "start": None, "end": None},
        shown=_link_notice_gone,
    ),
)


@pytest.mark.parametrize("case", URL_CHANGES, ids=lambda case: case.name)
def test_filter_change_shows_in_url_and_survives_reload(case: UrlChange, tab: Tab, session: Session) -> None:
    tab.open(case.start(session.city), (METRIC,))
    assert not case.shown(tab), f"{case.name}: the page shows the changed view before the change"

    case.change(tab)
    tab.page.wait_for_timeout(300)  # the click's rerun starts
    web.wait_ready(tab.page, (METRIC,))
    params = web.query_params(tab.page)
    for key, value in case.params.items():
        assert params.get(key) == value, f"{case.name}: ?{key}= is {params.get(key)!r} in {tab.page.url}"
    assert case.shown(tab)

    tab.page.reload(wait_until="domcontentloaded")
    web.wait_ready(tab.page, (METRIC,))
    reloaded = web.query_params(tab.page)
    assert {key: reloaded.get(key) for key in case.params} == case.params
    assert case.shown(tab), f"{case.name}: a reload lost the change"
    assert web.page_problems(tab.page) == []
    assert tab.recorder.console_errors == []


@pytest.mark.parametrize("domain", tuple(DOMAIN_TABLES), ids=str)
def test_link_opens_the_filtered_view(domain: str, session: Session) -> None:
    """``?period=week&district=…`` sets the widgets and the numbers: the volume KPI counts that district's week."""
    city = session.city
    table = DOMAIN_TABLES[domain]
    since = week_start(city)
    district = busiest_district(city, table, since)
    tab = session.shared_tab(f"/{domain}?period=week&district={district}", (METRIC,))

    assert web.segment_value(tab.page, "period") == t("period_week", "zh")
    assert web.selectbox_value(tab.page, "district") == city.districts[district]
    volume = tab.page.locator(METRIC).first
    assert metric_label(VOLUME_METRIC[domain], "zh") in volume.locator('[data-testid="stMetricLabel"]').inner_text()
    expected = format_value(city.count(table, since, district=district), Unit.COUNT, "zh")
    assert volume.locator('[data-testid="stMetricValue"]').inner_text().strip() == expected
    assert web.page_problems(tab.page) == []
