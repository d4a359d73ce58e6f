"""The real app in a real browser: one small demo city, one ``streamlit run`` and one Chromium per session.

Everything here skips, saying why, where Playwright is not importable or no ``chromium`` executable
is installed (``.ci/run`` installs Debian's). See docs/testing.md.

Loading a page costs seconds (most of it Plotly's JavaScript starting in a new tab), so tests that
only look at a page share one tab per page and screen (``shared_tab``); tests that click, type or
reload get a tab of their own (``new_tab``). Every tab's requests are recorded for the offline test.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa

from data_access.semantic.metric_registry import TIME_COLUMN
from tests.e2e import browser as web
from tests.e2e.pages import AppPage

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

# About 60k fact rows: generated in ~7 s, enough for every panel to have data (streets over the
# ranking's minimum volume, alerts in the ticker). A fixed end date keeps the numbers the same.
DEMO_SCALE = 0.05
DEMO_END = "2025-06-30"
DEMO_SEED = 7


@dataclass(frozen=True)
class FixtureCity:
    """The demo city the app under test reads, as read straight from its tables before the app starts."""

    url: str
    path: Path
    pristine: Path  # a copy of the file as generated, before any app opened it (the signed-in server's)
    as_of: dt.datetime
    districts: dict[str, str]  # code -> name
    streets: dict[str, frozenset[str]]  # district code -> its street codes
    daily: dict[str, dict[tuple[str, dt.date], int]]  # fact table -> (district, day) -> records that day

    def count(self, table: str, since: dt.date, until: dt.date | None = None, district: str | None = None) -> int:
        """Records of ``table`` on days in [since, until) (until: through the last day), in ``district``."""
        return sum(
            count
            for (code, day), count in self.daily[table].items()
            if day >= since and (until is None or day < until) and district in (None, code)
        )


@dataclass(frozen=True)
class Screen:
    name: str
    width: int  # CSS pixels
    height: int
    scale: float = 1  # device pixels per CSS pixel

    @property
    def key(self) -> tuple[int, int, float]:
        return (self.width, self.height, self.scale)


DESKTOP = Screen("1080p", 1920, 1080)


@dataclass
class Tab:
    """A browser tab on the app and what it did."""

    page: Page
    recorder: web.Recorder
    base: str

    def open(self, path: str, need: tuple[str, ...] = (), timeout: float = web.READY_TIMEOUT) -> None:
        web.open_app(self.page, self.base + path, need, timeout)

    @property
    def path(self) -> str:
        return urlparse(self.page.url).path or "/"


@dataclass
class Session:
    """The app under test, the browser, one context per screen size, and every tab opened."""

    base: str
    city: FixtureCity
    browser: Browser
    contexts: dict[tuple[int, int, float], BrowserContext] = field(default_factory=dict)
    shared: dict[tuple[str, tuple[int, int, float]], Tab] = field(default_factory=dict)
    tabs: list[Tab] = field(default_factory=list)
    tour: Tab | None = None
    visited: set[str] = field(default_factory=set)  # paths the touring tab has shown

    def context(self, screen: Screen) -> BrowserContext:
        """One context per screen: its tabs share the HTTP cache, each tab has its own Streamlit session."""
        if screen.key not in self.contexts:
            context = self.browser.new_context(
                viewport={"width": screen.width, "height": screen.height},
                device_scale_factor=screen.scale,
                locale="zh-CN",
                timezone_id="Asia/Shanghai",
                accept_downloads=True,
            )
            context.set_default_timeout(30_000)
            self.contexts[screen.key] = context
        return self.contexts[screen.key]

    def new_tab(self, screen: Screen = DESKTOP) -> Tab:
        recorder = web.Recorder(self.base)
        tab = Tab(recorder.watch(self.context(screen).new_page()), recorder, self.base)
        self.tabs.append(tab)
        return tab

    def shared_tab(self, path: str, need: tuple[str, ...] = (), screen: Screen = DESKTOP) -> Tab:
        """The tab showing ``path`` on ``screen``, opened on first use; only for tests that just look."""
        key = (path, screen.key)
        if key not in self.shared:
            tab = self.new_tab(screen)
            tab.open(path, need)
            self.shared[key] = tab
        return self.shared[key]

    def visit(self, page: AppPage) -> Tab:
        """The touring tab at 1920×1080, moved to ``page`` through the sidebar (its first page: a full load).

        One tab for all pages, as a person moves through the app: the browser starts Plotly once,
        not once per page, which is most of what a full page load costs.
        """
        if self.tour is None:
            self.tour = self.new_tab()
            self.tour.open(page.path, page.need)
        elif self.tour.path != page.path:
            web.navigate(self.tour.page, page.path, page.need)
        self.visited.add(page.path)
        return self.tour

    def requests(self) -> list[str]:
        return [url for tab in self.tabs for url in tab.recorder.requests]

    def close(self) -> None:
        for context in self.contexts.values():
            context.close()


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups and before -m deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that needs the browser is ``slow`` and runs in one of two xdist groups.

    The tests of the app without sign-in (group ``e2e``) share one demo city, one ``streamlit run``
    and one Chromium, and run on one worker: ``test_offline.py`` checks every tab that worker's
    session opened. The signed-in tests (group ``e2e-secured``: their own server on their own copy
    of the city, their own browser contexts) run on another worker, beside them rather than after:
    the browser tests are the longest chain of the suite, and half of their time is the browser
    and the app drawing, not this process.
    ``test_browser_helpers.py`` needs no browser and stays in the fast subset.
    """
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "browser_available" in fixtures:
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.xdist_group("e2e-secured" if "secured" in fixtures else "e2e"))


@pytest.fixture(scope="session")
def browser_available() -> None:
    problem = web.browser_problem()
    if problem:
        pytest.skip(f"browser tests skipped: {problem}")


def _daily_counts(connection: sa.Connection) -> dict[str, dict[tuple[str, dt.date], int]]:
    daily: dict[str, dict[tuple[str, dt.date], int]] = {}
    for table, column in TIME_COLUMN.items():
        rows = connection.execute(
            sa.text(f"SELECT district_code, CAST({column} AS DATE), count(*) FROM {table} GROUP BY 1, 2")
        )
        daily[table] = {(code, day): int(count) for code, day, count in rows}
    return daily


@pytest.fixture(scope="session")
def fixture_city(browser_available: None, tmp_path_factory: pytest.TempPathFactory) -> FixtureCity:
    path = tmp_path_factory.mktemp("e2e") / "city.duckdb"
    url = f"duckdb:///{path}"
    command = [
        sys.executable, "-m", "data_access.demo", "--url", url,
        "--scale", str(DEMO_SCALE), "--end", DEMO_END, "--seed", str(DEMO_SEED),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=web.REPO, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        pytest.fail(f"demo generation failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    # The signed-in tests' server gets a file of its own (two servers never share a DuckDB file),
    # copied now, before the first server opens and writes to (audits into) this one.
    pristine = path.with_name("secured.duckdb")
    for source, target in ((path, pristine), (Path(f"{path}.wal"), Path(f"{pristine}.wal"))):
        if source.exists():
            shutil.copyfile(source, target)
    # Read what the tests compare against now: the app's server process holds the file afterwards.
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT code, name, level, parent_code FROM regions")).all()
            latest = [
                connection.execute(sa.text(f"SELECT max({column}) FROM {table}")).scalar_one()
                for table, column in TIME_COLUMN.items()
            ]
            daily = _daily_counts(connection)
    finally:
        engine.dispose()
    districts = {code: name for code, name, level, _ in rows if level == "district"}
    streets: dict[str, set[str]] = {code: set() for code in districts}
    for code, _, level, parent in rows:
        if level == "street" and parent in streets:
            streets[parent].add(code)
    return FixtureCity(
        url=url,
        path=path,
        pristine=pristine,
        as_of=max(value for value in latest if value is not None),
        districts=districts,
        streets={code: frozenset(children) for code, children in streets.items()},
        daily=daily,
    )


@pytest.fixture(scope="session")
def app_url(fixture_city: FixtureCity, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of ``streamlit run streamlit_app.py`` reading the fixture city."""
    env = {
        "COCKPIT_DATABASE_URL": fixture_city.url,
        "COCKPIT_DATA_DIR": str(tmp_path_factory.mktemp("e2e-data")),
        "COCKPIT_CITY": None,
        "COCKPIT_ALERTS": None,
    }
    with web.streamlit_server(env) as base:
        yield base


@pytest.fixture(scope="session")
def browser(browser_available: None) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = web.launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def session(app_url: str, fixture_city: FixtureCity, browser: Browser) -> Iterator[Session]:
    state = Session(app_url, fixture_city, browser)
    yield state
    state.close()


@pytest.fixture
def tab(session: Session) -> Iterator[Tab]:
    """A tab of its own at 1920×1080, closed after the test."""
    own = session.new_tab()
    yield own
    own.page.close()


# ---- the app with sign-in on ---------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """A local account of the signed-in server, added with ``python -m data_access.security.users add``."""

    name: str
    role: str
    scope: str  # the CLI's --scope: "region=CODE" or "department=CODE"
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18), repr=False)

    @property
    def code(self) -> str:
        return self.scope.split("=", 1)[1]


@dataclass
class SecuredApp:
    """A second ``streamlit run`` on its own copy of the fixture city, with local accounts: sign-in is on.

    Each tab gets a browser context of its own (its own cookies and Streamlit session), as two people
    on two machines would; a sign-in lasts as long as the tab's Streamlit session.
    """

    base: str
    city: FixtureCity
    accounts: dict[str, Account]
    departments: dict[str, str]  # code -> name
    by_department: dict[tuple[str, dt.date], int]  # complaints: (department, day) -> records that day
    browser: Browser
    tabs: list[Tab] = field(default_factory=list)

    def new_tab(self, screen: Screen = DESKTOP) -> Tab:
        context = self.browser.new_context(
            viewport={"width": screen.width, "height": screen.height},
            device_scale_factor=screen.scale,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        context.set_default_timeout(30_000)
        recorder = web.Recorder(self.base)
        tab = Tab(recorder.watch(context.new_page()), recorder, self.base)
        self.tabs.append(tab)
        return tab

    def complaints_of(self, department: str, since: dt.date) -> int:
        return sum(n for (code, day), n in self.by_department.items() if code == department and day >= since)

    def close(self) -> None:
        for tab in self.tabs:
            tab.page.context.close()


def add_account(url: str, account: Account) -> None:
    """The documented way (docs/security.md, "Managing accounts"): the users CLI, password on stdin."""
    command = [
        sys.executable, "-m", "data_access.security.users", "--url", url,
        "add", account.name, "--role", account.role, "--scope", account.scope, "--password-stdin",
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=web.REPO, input=account.password + "\n", capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"could not add account {account.name}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


@pytest.fixture(scope="session")
def secured(
    fixture_city: FixtureCity, browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SecuredApp]:
    """The app on the fixture city's pristine copy with two department heads: one district, one department."""
    url = f"duckdb:///{fixture_city.pristine}"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            departments = dict(connection.execute(sa.text("SELECT code, name FROM departments ORDER BY code")).all())
            column = TIME_COLUMN["complaints"]
            rows = connection.execute(
                sa.text(f"SELECT department_code, CAST({column} AS DATE), count(*) FROM complaints GROUP BY 1, 2")
            )
            by_department = {(code, day): int(count) for code, day, count in rows}
    finally:
        engine.dispose()
    district = sorted(fixture_city.districts)[0]
    department = max(departments, key=lambda code: sum(n for (c, _), n in by_department.items() if c == code))
    accounts = {
        "district": Account("e2e_district_head", "department_head", f"region={district}"),
        "department": Account("e2e_department_head", "department_head", f"department={department}"),
    }
    for account in accounts.values():
        add_account(url, account)
    env = {
        "COCKPIT_DATABASE_URL": url,
        "COCKPIT_DATA_DIR": str(tmp_path_factory.mktemp("e2e-secured-data")),
        "COCKPIT_CITY": None,
        "COCKPIT_ALERTS": None,
        "COCKPIT_ACCESS": None,  # the repository's config/access.toml: its defaults
    }
    with web.streamlit_server(env) as base:
        app = SecuredApp(base, fixture_city, accounts, departments, by_department, browser)
        yield app
        app.close()
