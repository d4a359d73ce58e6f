"""Exports download a file that parses and holds the numbers on screen, counted here from the fixture tables.

``EXPORTS`` lists each download: the page, how to get the button (the 导出 menu of a chart, or a
button that builds a file first), and how to check the file. Another export is one more entry.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import openpyxl
import polars as pl
import pytest
from PIL import Image
from pypdf import PdfReader

from dashboard.charts.tables import metric_header
from dashboard.core.i18n import metric_label, t
from dashboard.core.metric_requests import DOMAIN_TABLES, domain_metrics
from dashboard.core.periods import period_start
from dashboard.exports.files import file_stem
from data_access.config.city import DEFAULT_CITY_FILE, load_city
from tests.e2e import browser as web
from tests.e2e.conftest import FixtureCity, Session, Tab
from tests.e2e.pages import app_pages

# The workbench's first view: the first two service metrics by day over this month.
WORKBENCH_DOMAIN = "services"
WORKBENCH_METRICS = domain_metrics(WORKBENCH_DOMAIN)[:2]
CITY_NAME = load_city(DEFAULT_CITY_FILE).name  # the app under test runs the default city file


def month_start(city: FixtureCity) -> dt.date:
    return period_start("month", city.as_of).date()


def workbench_rows(city: FixtureCity) -> tuple[list[str], dict[str, int]]:
    """The header and the records per day (days with records) the workbench's first view must hold."""
    header = [t("dim_day", "zh"), *(metric_header(name, "zh") for name in WORKBENCH_METRICS)]
    since, table = month_start(city), DOMAIN_TABLES[WORKBENCH_DOMAIN]
    days = (since + dt.timedelta(days=n) for n in range((city.as_of.date() - since).days + 1))
    counts = {day.isoformat(): city.count(table, day, day + dt.timedelta(days=1)) for day in days}
    return header, {day: count for day, count in counts.items() if count}


def check_rows(rows: list[list[object]], city: FixtureCity) -> None:
    """Header as on screen, one row per day whose volume matches the fixture, completed ≤ received."""
    assert WORKBENCH_METRICS == ("service_received", "service_completed"), "the workbench's first view changed"
    header, expected = workbench_rows(city)
    assert [str(cell) for cell in rows[0]] == header
    body = rows[1:]
    assert {str(row[0])[:10]: int(float(str(row[1]))) for row in body} == expected
    assert all(0 <= int(float(str(row[2]))) <= int(float(str(row[1]))) for row in body), "more completed than received"


def check_csv(path: Path, session: Session) -> None:
    text = path.read_bytes().decode("utf-8")
    assert text.startswith("\ufeff"), "the CSV has no BOM (Excel would garble the Chinese headers)"
    check_rows([list(row) for row in csv.reader(io.StringIO(text.removeprefix("\ufeff")))], session.city)


def check_xlsx(path: Path, session: Session) -> None:
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    check_rows([list(row) for row in sheet.iter_rows(values_only=True)], session.city)


def check_parquet(path: Path, session: Session) -> None:
    frame = pl.read_parquet(path)
    check_rows([list(frame.columns), *(list(row) for row in frame.iter_rows())], session.city)


def check_png(path: Path, session: Session) -> None:
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.width >= 1200 and image.height >= 400, image.size
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 64, f"the PNG looks blank ({len(colours)} colours)"


def check_svg(path: Path, session: Session) -> None:
    root = ElementTree.parse(path).getroot()
    assert root.tag.endswith("svg")
    paths = [element for element in root.iter() if element.tag.endswith("path") and len(element.get("d", "")) > 4]
    assert len(paths) > 10, "the SVG draws (almost) nothing"
    texts = "".join(element.text or "" for element in root.iter() if element.tag.endswith(("text", "title")))
    assert metric_label(WORKBENCH_METRICS[0], "zh") in texts, "the SVG does not name its metric"


def check_html(path: Path, session: Session) -> None:
    """A standalone chart: opened from disk in the browser it draws, and asks nothing of any server."""
    text = path.read_text(encoding="utf-8")
    assert "Plotly.newPlot" in text or "Plotly.react" in text
    tab = session.new_tab()
    try:
        tab.page.goto(path.as_uri(), wait_until="load")
        tab.page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=60_000)
        marks = tab.page.locator(".js-plotly-plot .main-svg .trace path").count()
        assert marks > 0, "the exported chart draws nothing"
        fetched = [url for url in tab.recorder.requests if urlparse(url).scheme not in ("file", "data", "blob")]
        assert fetched == [], f"the exported HTML fetches {fetched[:3]}"
        assert tab.recorder.console_errors == []
    finally:
        tab.page.close()


def check_pdf(path: Path, session: Session) -> None:
    reader = PdfReader(path)
    assert len(reader.pages) >= 1
    text = "".join(page.extract_text() or "" for page in reader.pages)
    assert CITY_NAME in text, "the briefing does not name the city"


def open_menu(tab: Tab, menu: str, button: str) -> None:
    """Open a 导出 popover (unless its buttons are already on screen)."""
    if not tab.page.locator(f".st-key-{button} button").is_visible():
        tab.page.locator(f".st-key-{menu} [data-testid='stPopoverButton']:visible").click()
        tab.page.locator(f".st-key-{button} button").wait_for(state="visible")


def build_report(tab: Tab, make: str) -> None:
    """Press the briefing's make button and wait for its download button."""
    with web.rerun(tab.page, (".st-key-report_download",)):
        tab.page.locator(f".st-key-{make} button").click()


@dataclass(frozen=True)
class Export:
    name: str
    page: str  # the page's name (tests/e2e/pages.py)
    button: str  # the download button's widget key
    file_name: Callable[[FixtureCity], str]  # what the browser saves it as
    check: Callable[[Path, Session], None]  # parse the file; assert on what it holds
    prepare: Callable[[Tab], None]  # what makes the button appear (open a menu, build the file)


def _workbench(fmt: str, check: Callable[[Path, Session], None]) -> Export:
    button = f"explore_chart__export_{fmt}"
    return Export(
        f"workbench {fmt}",
        "explore",
        button,
        lambda city: f"workbench_{WORKBENCH_DOMAIN}_day_{month_start(city):%Y%m%d}.{fmt}",
        check,
        lambda tab: open_menu(tab, "explore_chart__export", button),
    )


def _last_month(city: FixtureCity) -> str:
    """The briefing page offers the month that just ended first."""
    return f"{month_start(city) - dt.timedelta(days=1):%Y-%m}"


EXPORTS = (
    _workbench("csv", check_csv),
    _workbench("xlsx", check_xlsx),
    _workbench("parquet", check_parquet),
    _workbench("png", check_png),
    _workbench("svg", check_svg),
    _workbench("html", check_html),
    Export(
        "monthly briefing pdf",
        "report",
        "report_download",
        lambda city: file_stem(CITY_NAME, t("report_monthly", "zh"), _last_month(city)) + ".pdf",
        check_pdf,
        lambda tab: build_report(tab, "report_make_pdf"),
    ),
)


@pytest.mark.parametrize("export", EXPORTS, ids=lambda export: export.name)
def test_export_downloads_a_file_that_parses(export: Export, session: Session, tmp_path: Path) -> None:
    page = next(page for page in app_pages() if page.name == export.page)
    tab = session.visit(page)
    mark = tab.recorder.mark()
    export.prepare(tab)
    with tab.page.expect_download(timeout=web.READY_TIMEOUT * 1000) as download_info:
        tab.page.locator(f".st-key-{export.button} button").click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename == export.file_name(session.city)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    export.check(saved, session)
    assert web.page_problems(tab.page) == []
    assert tab.recorder.errors_since(mark) == []
