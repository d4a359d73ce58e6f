"""What a person does in the browser, timed: the steps ``bench.browser`` measures on the app and its floor.

Every step is timed from the navigation or the click to the page being drawn and stable, the notion
of ``tests.e2e.browser.wait_ready`` (script finished, connected, no skeleton, the page's own
selectors present, every Plotly chart drawn, fonts loaded), except that the clock stops at the
first poll of the final ready streak rather than at its end: the streak proves the page stayed
drawn, it is not time the person waited. Downloads are timed from the click to the file complete.

The same steps run on the real app and on the floor (``bench/floor_app.py``); only the addresses
differ (``Target``). A step that fails is recorded as None, with the reason printed, so one broken
step does not lose a round.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.streamlit_floor import TOPICS, workbench_path
from tests.e2e import browser as web
from tests.e2e.pages import KIOSK, METRIC, READY_ON

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

POLL_SECONDS = 0.1
STABLE_SECONDS = 1.0  # ready this long without a break (wait_ready: four polls 250 ms apart)
DOWNLOADS = ("csv", "xlsx")
EXPORT_MENU = "explore_chart__export"
DOWNLOAD_TIMEOUT = 120.0  # seconds; a download that never starts fails the step, not the round
WALL_DRILLED = (*web.COCKPIT_READY, web.BACK_BUTTON)


def step_names() -> list[str]:
    """Every step, in the order they run (the table's rows)."""
    names = ["wall, cold", "wall, warm (second tab)", "map drill (largest district)"]
    for domain in TOPICS:
        names += [f"{domain}, cold", f"{domain}, district filter"]
    names += [f"{domain}, from the sidebar (same tab)" for domain in TOPICS]
    names += ["workbench, two dimensions", *(f"workbench {fmt.upper()} export" for fmt in DOWNLOADS)]
    return [*names, "briefing (/report)"]


@dataclass(frozen=True)
class Target:
    """The real app or its floor: where each page is."""

    base: str
    floor: bool

    def url(self, path: str, snapshot: str) -> str:
        if self.floor:
            kiosk = "&kiosk=1" if snapshot == "wall" else ""
            return f"{self.base}/?snap={snapshot}{kiosk}"
        return self.base + path


def ready_since(page: Page, need: tuple[str, ...], began: float, timeout: float = web.READY_TIMEOUT) -> float:
    """Seconds from ``began`` until the page was ready and then stayed ready for ``STABLE_SECONDS``."""
    deadline = began + timeout
    first_ready: float | None = None
    while True:
        now = time.perf_counter()
        if page.evaluate(web.READY_JS, list(need)):
            first_ready = now if first_ready is None else first_ready
            if now - first_ready >= STABLE_SECONDS:
                return first_ready - began
        else:
            first_ready = None
        if now > deadline:
            raise TimeoutError(f"not ready after {timeout:.0f} s (waiting for {need})")
        page.wait_for_timeout(POLL_SECONDS * 1000)


def timed_open(page: Page, url: str, need: tuple[str, ...]) -> float:
    began = time.perf_counter()
    page.goto(url, wait_until="commit")
    return ready_since(page, need, began)


def timed_rerun(page: Page, action: Callable[[], None], need: tuple[str, ...]) -> float:
    """Seconds from ``action`` (a click that makes Streamlit rerun) until the rerun's page is drawn.

    As ``tests.e2e.browser.rerun``: the run must be seen starting (or RUN_SEEN_SECONDS pass) before
    a ready page counts, so the page as it was before the click is never taken for the result.
    """
    page.evaluate(web.WATCH_RUN_JS)
    began = time.perf_counter()
    action()
    while not page.evaluate("() => window.__cockpitRan === true"):
        if time.perf_counter() - began > web.RUN_SEEN_SECONDS:
            break
        page.wait_for_timeout(POLL_SECONDS * 1000)
    return ready_since(page, need, began)


def timed_drill(page: Page) -> tuple[str, float]:
    """Click inside the largest district on the wall's map (``drill_largest_district``), timed from the press."""
    regions = web.map_regions(page)
    if not regions:
        raise RuntimeError("no regions on the map to click")
    code, (x, y, _) = max(regions.items(), key=lambda item: item[1][2])
    page.mouse.move(x, y)  # Plotly needs the hover first; not part of the person's wait
    page.wait_for_timeout(300)
    return code, timed_rerun(page, lambda: page.mouse.click(x, y), WALL_DRILLED)


def timed_download(page: Page, fmt: str, save_to: Path | None) -> float:
    """Open the workbench's 导出 menu (untimed), click ``fmt``, time until the file is complete."""
    button = page.locator(f".st-key-{EXPORT_MENU}_{fmt} button")
    if not button.is_visible():
        page.locator(f".st-key-{EXPORT_MENU} [data-testid='stPopoverButton']:visible").click()
        button.wait_for(state="visible")
    began = time.perf_counter()
    with page.expect_download(timeout=DOWNLOAD_TIMEOUT * 1000) as info:
        button.click()
    download = info.value
    download.path()  # waits until the download has finished
    seconds = time.perf_counter() - began
    if download.failure() is not None:
        raise RuntimeError(f"the {fmt} download failed: {download.failure()}")
    if Path(download.path()).stat().st_size == 0:  # the floor had no file of the real page's to give
        raise RuntimeError(f"the {fmt} download is empty")
    if save_to is not None:  # the floor's download button answers with this very file
        save_to.mkdir(parents=True, exist_ok=True)
        download.save_as(save_to / f"{EXPORT_MENU}_{fmt}.{download.suggested_filename}")
    return seconds


def desktop_context(browser: Browser) -> BrowserContext:
    """A fresh browser context (an empty HTTP cache) as every step sees the app: a 1920×1080 desktop in
    Chinese, in the city's time zone, downloads accepted."""
    context = browser.new_context(
        viewport={"width": 1920, "height": 1080},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        accept_downloads=True,
    )
    context.set_default_timeout(60_000)
    return context


@dataclass
class Run:
    """Every step over one target, in one fresh browser context (an empty HTTP cache).

    ``plan`` gives the steps as (name, action) in order, so the caller can interleave the app's and
    the floor's: on a shared machine whose load drifts, a page and its floor are then timed moments
    apart rather than minutes.
    """

    browser: Browser
    target: Target
    district: str  # code of the largest district (the floor's drilled and filtered snapshots show it)
    district_name: str
    save_downloads: Path | None = None
    tabs: dict[str, Page] = field(default_factory=dict)
    context: Any = None

    def __enter__(self) -> Run:
        self.context = desktop_context(self.browser)
        return self

    def __exit__(self, *exc: object) -> None:
        self.context.close()

    def tab(self, name: str) -> Page:
        if name not in self.tabs:
            self.tabs[name] = self.context.new_page()
        return self.tabs[name]

    def close(self, *names: str) -> None:
        for name in names:
            if name in self.tabs:
                self.tabs.pop(name).close()

    def plan(self) -> list[tuple[str, Callable[[], float | None]]]:
        """The steps in the order of ``step_names``; each opens the tabs it needs, later ones close them."""
        target = self.target
        wall = target.url(KIOSK, "wall")
        steps: list[tuple[str, Callable[[], float | None]]] = [
            ("wall, cold", lambda: timed_open(self.tab("wall"), wall, web.COCKPIT_READY)),
            ("wall, warm (second tab)", lambda: timed_open(self.tab("wall 2"), wall, web.COCKPIT_READY)),
            ("map drill (largest district)", self._drill),
        ]
        for domain in TOPICS:
            url = target.url(f"/{domain}", domain)
            steps += [
                (f"{domain}, cold", functools.partial(self._open, domain, url, (METRIC,))),
                (f"{domain}, district filter", functools.partial(self._filter, domain)),
            ]
        # Moving between pages in one tab, as a person does (the app's sidebar; the floor has none).
        steps += [
            (f"{domain}, from the sidebar (same tab)", functools.partial(self._sidebar, domain)) for domain in TOPICS
        ]
        workbench = target.url(workbench_path(), "workbench")
        steps.append(
            ("workbench, two dimensions", lambda: timed_open(self.tab("workbench"), workbench, _need("explore")))
        )
        for fmt in DOWNLOADS:
            steps.append(
                (
                    f"workbench {fmt.upper()} export",
                    functools.partial(self._download, fmt),
                )
            )
        report = target.url("/report", "report")
        steps.append(
            ("briefing (/report)", lambda: self._last(timed_open(self.tab("report"), report, _need("report"))))
        )
        assert [name for name, _ in steps] == step_names()
        return steps

    def _open(self, tab: str, url: str, need: tuple[str, ...]) -> float:
        return timed_open(self.tab(tab), url, need)

    def _download(self, fmt: str) -> float:
        return timed_download(self.tab("workbench"), fmt, self.save_downloads)

    def _drill(self) -> float | None:
        try:
            code, seconds = timed_drill(self.tab("wall 2"))
        finally:
            self.close("wall", "wall 2")
        if code != self.district:  # the floor holds the drilled screen of self.district only
            print(f"  clicked {code}, captured {self.district}: no comparable drill", file=sys.stderr)
            return None if self.target.floor else seconds
        return seconds

    def _filter(self, domain: str) -> float:
        page = self.tab(domain)
        try:
            return timed_rerun(page, lambda: web.choose_option(page, "district", self.district_name), (METRIC,))
        finally:
            self.close(domain)

    def _sidebar(self, domain: str) -> float | None:
        """Click the topic page's link in the sidebar of a tab already showing the app (its scripts,
        Plotly's included, loaded): from the cockpit for the first topic, then from the previous topic."""
        if self.target.floor:
            return None  # no sidebar: the floor serves one captured page per address
        page = self.tab("sidebar")
        if page.url == "about:blank":
            web.open_app(page, self.target.url("/", "cockpit"), web.COCKPIT_READY)  # untimed
        link = page.locator(f'[data-testid="stSidebarNav"] a[href="{self.target.base}/{domain}"]')
        seconds = timed_rerun(page, link.click, (METRIC,))
        if domain == TOPICS[-1]:
            self.close("sidebar")
        return seconds

    def _last(self, seconds: float) -> float:
        self.close(*list(self.tabs))
        return seconds


REFERENCES = {
    "a title and a number": "blank",
    "the same and one small Plotly chart": "one_chart",
}


def timed_references(browser: Browser, floor_base: str) -> dict[str, float]:
    """Streamlit and Chromium alone, each page in a new tab (of one context, its HTTP cache warm after
    the first): what any page of that kind costs before it draws anything of its own. The difference
    between the two is Plotly's chart library, loaded and evaluated again by every new tab."""
    context = desktop_context(browser)
    try:
        warm = context.new_page()
        web.open_app(warm, f"{floor_base}/?snap=one_chart", (METRIC,))  # static files into the cache, untimed
        found = {}
        for label, snap in REFERENCES.items():
            page = context.new_page()
            found[label] = timed_open(page, f"{floor_base}/?snap={snap}", (METRIC,))
            page.close()
        return found
    finally:
        context.close()


def timed_step(name: str, action: Callable[[], float | None], label: str) -> tuple[float | None, float]:
    """Run one step: (seconds or None when it failed, the 1-minute load average when it began)."""
    load = os.getloadavg()[0]
    try:
        seconds = action()
    except Exception as exc:
        print(f"  {label} {name}: failed ({type(exc).__name__}: {str(exc)[:300]})", file=sys.stderr, flush=True)
        return None, load
    if seconds is not None:
        print(f"  {label} {name}: {seconds:.2f} s", file=sys.stderr, flush=True)
    return seconds, load


def _need(page: str) -> tuple[str, ...]:
    return READY_ON[page]
