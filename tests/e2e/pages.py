"""The app's pages as a browser reaches them: URL path and what must be on screen once it is drawn."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.e2e.browser import COCKPIT_READY
from tests.test_app import PAGES

METRIC = '[data-testid="stMetric"]'
# Charts each page draws with the fixture city (more are fine; fewer means one did not draw).
MIN_CHARTS = {"cockpit": 2, "services": 6, "complaints": 6, "grid": 6, "explore": 1, "report": 0, "admin": 0}
READY_ON = {
    "cockpit": COCKPIT_READY,
    "services": (METRIC,),
    "complaints": (METRIC,),
    "grid": (METRIC,),
    "explore": ('[data-testid="stPlotlyChart"]', ".st-key-explore_chart__export", '[data-testid="stDataFrame"]'),
    "report": (".st-key-report_kind", ".st-key-report_make_pdf"),
    "admin": ('[data-testid="stDataFrame"]',),
}


@dataclass(frozen=True)
class AppPage:
    name: str  # the script's stem, e.g. "services"
    path: str  # URL path: the default page (the cockpit) is "/"
    need: tuple[str, ...]
    min_charts: int


def app_pages() -> tuple[AppPage, ...]:
    """Every page of streamlit_app.py (the list tests/test_app.py declares), the first one at "/"."""
    pages = []
    for index, script in enumerate(PAGES):
        name = Path(script).stem
        path = "/" if index == 0 else f"/{name}"
        pages.append(AppPage(name, path, READY_ON.get(name, ()), MIN_CHARTS.get(name, 0)))
    return tuple(pages)


KIOSK = "/?kiosk=1"  # the big screen as a wall shows it
