"""Exports download a file that parses and holds the numbers on screen, counted here from the fixture tables.

``EXPORTS`` lists each download button: the page, the button's key and how to check the file. A new
export format (PNG, SVG, XLSX of a chart or table) is one more entry with its own reader.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from dashboard.i18n import t
from dashboard.periods import period_start
from dashboard.queries import DOMAIN_TABLES, domain_dimensions, domain_metrics
from dashboard.tables import metric_header
from tests.e2e import browser as web
from tests.e2e.conftest import FixtureCity, Session
from tests.e2e.pages import app_pages


@dataclass(frozen=True)
class Export:
    name: str
    page: str  # the page's name (tests/e2e/pages.py)
    button: str  # the download button's widget key
    file_name: str  # what the browser saves it as
    check: Callable[[Path, FixtureCity], None]  # parse the file; assert on what it holds


def check_explore_csv(path: Path, city: FixtureCity) -> None:
    """The metric explorer's default view: the first two service metrics by day over this month."""
    text = path.read_bytes().decode("utf-8")
    assert text.startswith("\ufeff"), "the CSV has no BOM (Excel would garble the Chinese headers)"
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    header, body = rows[0], rows[1:]
    metrics = domain_metrics("services")[:2]
    dimension = domain_dimensions("services")[0]
    assert header == [t(f"dim_{dimension}", "zh"), *(metric_header(name, "zh") for name in metrics)]
    since = period_start("month", city.as_of).date()
    table = DOMAIN_TABLES["services"]
    received = {dt.date.fromisoformat(row[0]): int(row[1]) for row in body}
    expected = {
        day: city.count(table, day, day + dt.timedelta(days=1))
        for day in (since + dt.timedelta(days=n) for n in range((city.as_of.date() - since).days + 1))
    }
    assert received == {day: count for day, count in expected.items() if count}
    assert metrics == ("service_received", "service_completed")
    assert all(0 <= int(row[2]) <= int(row[1]) for row in body), "more cases completed than received"


EXPORTS = (
    Export(
        "explore csv",
        "explore",
        "download",
        f"services_{domain_dimensions('services')[0]}_month.csv",
        check_explore_csv,
    ),
)


@pytest.mark.parametrize("export", EXPORTS, ids=lambda export: export.name)
def test_export_downloads_a_file_that_parses(export: Export, session: Session, tmp_path: Path) -> None:
    page = next(page for page in app_pages() if page.name == export.page)
    tab = session.visit(page)
    mark = tab.recorder.mark()
    with tab.page.expect_download() as download_info:
        tab.page.locator(f".st-key-{export.button} button").click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename == export.file_name
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    export.check(saved, session.city)
    web.wait_ready(tab.page, page.need)  # the click may rerun the page: leave it drawn
    assert tab.recorder.errors_since(mark) == []
