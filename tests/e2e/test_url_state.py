"""Filters live in the URL: a link opens the filtered view, a filter change shows in the URL, a reload keeps it.

``STEPS`` is one person's way through a topic page (period, district, language, clear all), each
step with the query parameters it must leave and what the page must then show, checked again after
a reload. Another filter (department, category, channel, grain, a map click) is one more step:
what to click, which parameters must appear (or go), and how the page shows it — with numbers
counted here from the fixture tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dashboard.core.formatting import format_value
from dashboard.core.i18n import LANGUAGE_NAMES, metric_label, t
from dashboard.core.metric_requests import DOMAIN_TABLES, VOLUME_METRIC
from dashboard.core.periods import period_start
from data_access.semantic.metric_defs import Unit
from tests.e2e import browser as web
from tests.e2e.conftest import FixtureCity, Session, Tab

METRIC = '[data-testid="stMetric"]'


@dataclass(frozen=True)
class Step:
    name: str
    change: Callable[[Tab, FixtureCity], None]  # what the person does
    params: Callable[[FixtureCity], dict[str, str | None]]  # what the URL then says (None: no such parameter)
    shown: Callable[[Tab, FixtureCity], bool]  # what the page then shows
    reload: bool = True  # reload afterwards and check that URL and page still say the same


def volume_shown(tab: Tab, city: FixtureCity, domain: str, period: str, district: str | None, lang: str) -> bool:
    """The page's first KPI is the domain's volume and counts the records of ``period`` in ``district``."""
    label = tab.page.locator(f"{METRIC} [data-testid='stMetricLabel']").first.inner_text()
    since = period_start(period, city.as_of).date()
    expected = format_value(city.count(DOMAIN_TABLES[domain], since, district=district), Unit.COUNT, lang)
    value = tab.page.locator(f"{METRIC} [data-testid='stMetricValue']").first.inner_text().strip()
    return metric_label(VOLUME_METRIC[domain], lang) in label and value == expected


def view_shown(tab: Tab, city: FixtureCity, period: str, district: str | None, lang: str = "zh") -> bool:
    """The title, the period switch, the district box and the volume KPI all show ``period`` in ``district``."""
    district_name = city.districts[district] if district else t("all_regions", lang)
    return (
        t(f"page_{DOMAIN}", lang) in tab.page.locator("h1").first.inner_text()
        and web.segment_value(tab.page, "period") == t(f"period_{period}", lang)
        and web.selectbox_value(tab.page, "district") == district_name
        and volume_shown(tab, city, DOMAIN, period, district, lang)
    )


def busiest(city: FixtureCity) -> str:
    """The district with the most records this week (so its numbers differ from the city's)."""
    since = period_start("week", city.as_of).date()
    return max(city.districts, key=lambda code: city.count(DOMAIN_TABLES[DOMAIN], since, district=code))


DOMAIN = "complaints"
START = f"/{DOMAIN}"
# One person's way through a topic page; each step's URL and view are checked, and again after a reload.
STEPS = (
    Step(
        "period",
        change=lambda tab, city: web.choose_segment(tab.page, "period", t("period_week", "zh")),
        params=lambda city: {"period": "week"},
        shown=lambda tab, city: view_shown(tab, city, "week", None),
        reload=False,  # checked by the reloads below
    ),
    Step(
        "district",
        change=lambda tab, city: web.choose_option(tab.page, "district", city.districts[busiest(city)]),
        params=lambda city: {"period": "week", "district": busiest(city)},
        shown=lambda tab, city: view_shown(tab, city, "week", busiest(city)),
        reload=False,  # the next step's reload checks period and district too
    ),
    Step(
        "language",  # the language switch keeps the page's filters, the filters keep the language
        change=lambda tab, city: web.choose_option(tab.page, "lang", LANGUAGE_NAMES["en"]),
        params=lambda city: {"lang": "en", "period": "week", "district": busiest(city)},
        shown=lambda tab, city: view_shown(tab, city, "week", busiest(city), "en"),
    ),
    Step(
        "clear all filters",
        change=lambda tab, city: tab.page.locator(".st-key-clear_filters button").click(),
        params=lambda city: {"lang": "en", "period": None, "district": None},
        shown=lambda tab, city: view_shown(tab, city, "month", None, "en"),
    ),
)


def test_filter_changes_show_in_url_and_survive_reload(tab: Tab, session: Session) -> None:
    city = session.city
    tab.open(START, (METRIC,))
    assert view_shown(tab, city, "month", None), f"{START} does not open on this month, city-wide"
    for step in STEPS:
        expected = step.params(city)
        with web.rerun(tab.page, (METRIC,)):
            step.change(tab, city)
        params = web.query_params(tab.page)
        assert {key: params.get(key) for key in expected} == expected, f"{step.name}: the URL is {tab.page.url}"
        assert step.shown(tab, city), f"{step.name}: the page does not show the change"
        if step.reload:
            tab.page.reload(wait_until="domcontentloaded")
            web.wait_ready(tab.page, (METRIC,))
            reloaded = web.query_params(tab.page)
            assert {key: reloaded.get(key) for key in expected} == expected, f"{step.name}: reloaded {tab.page.url}"
            assert step.shown(tab, city), f"{step.name}: a reload lost the change"
        assert web.page_problems(tab.page) == [], step.name
    assert tab.recorder.console_errors == []
