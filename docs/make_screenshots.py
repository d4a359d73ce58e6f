"""Regenerate every screenshot in docs/screenshots/ from the running app in headless Chromium.

    .venv/bin/python docs/make_screenshots.py [--url URL | --demo-scale S [--demo-end DATE]] [--out DIR] [--only NAME…]

Starts ``streamlit run streamlit_app.py`` on a free local port (8700–8799) against ``--url``, or
against a fresh demo city of scale ``--demo-scale`` in a temporary DuckDB file (its data ending on
``--demo-end``: a day late in a month gives 本月 weeks of data, where "today" early in a month gives
a day or two), or else the app's own database resolution (``COCKPIT_DATABASE_URL``, secrets, or the
embedded demo DuckDB, generated on first start); opens each page with Playwright in Debian's
``chromium`` (never a downloaded browser), waits until it has finished running and drawing, and saves a PNG:

* ``cockpit_1080p.png``, ``cockpit_2160p.png``, ``cockpit_3840x1080.png``: the big screen in kiosk
  mode at 1920×1080, on a 3840×2160 wall (browser at 200 % display scaling) and on a 32:9 wall;
* ``cockpit_drilled_1080p.png``: the same after a real mouse click inside the largest district on
  the map: the script fails unless the map then shows that district's streets;
* ``services_1080p.png``, ``complaints_1080p.png``, ``grid_1080p.png``: the topic pages;
* ``explore_1080p.png``, ``report_1080p.png``, ``admin_1080p.png``: the workbench (分析工作台), the
  briefing (简报) and the data-source page (数据源).

Every request the browser sends is recorded; the script fails, naming them, if any went anywhere
but the app's own origin (the deployment has no internet), and warns when a kiosk screen scrolls or
a KPI card's text overflows (the browser tests in tests/e2e/ fail on those). The server, browser
and page checks are shared with those tests (``tests/e2e/browser.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.e2e import browser as web  # noqa: E402 - needs the repository on the path first
from tests.e2e.pages import READY_ON  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Browser

METRIC = '[data-testid="stMetric"]'
SETTLE_SECONDS = 2.0  # Plotly transitions and the ticker's first frames


@dataclass(frozen=True)
class Shot:
    name: str
    path: str  # URL path and query
    width: int
    height: int
    need: tuple[str, ...] = ()
    kiosk: bool = False
    drill: bool = False  # click a district on the map and wait for its streets
    scale: int = 1  # device pixels per CSS pixel (a 4K wall at 200 % display scaling: 1920×1080 × 2)


SHOTS = (
    Shot("cockpit_1080p", "/?kiosk=1", 1920, 1080, web.COCKPIT_READY, kiosk=True),
    Shot("cockpit_drilled_1080p", "/?kiosk=1", 1920, 1080, web.COCKPIT_READY, kiosk=True, drill=True),
    Shot("cockpit_2160p", "/?kiosk=1", 1920, 1080, web.COCKPIT_READY, kiosk=True, scale=2),
    Shot("cockpit_3840x1080", "/?kiosk=1", 3840, 1080, web.COCKPIT_READY, kiosk=True),
    Shot("services_1080p", "/services", 1920, 1080, (METRIC,)),
    Shot("complaints_1080p", "/complaints", 1920, 1080, (METRIC,)),
    Shot("grid_1080p", "/grid", 1920, 1080, (METRIC,)),
    Shot("explore_1080p", "/explore", 1920, 1080, READY_ON["explore"]),
    Shot("report_1080p", "/report", 1920, 1080, READY_ON["report"]),
    Shot("admin_1080p", "/admin", 1920, 1080, READY_ON["admin"]),
)


@contextlib.contextmanager
def demo_database(scale: float, end: str | None = None) -> Iterator[str]:
    """A demo city of ``scale`` (data up to ``end``, default today) in a temporary DuckDB file (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="cockpit-shots-") as folder:
        url = f"duckdb:///{Path(folder) / 'demo.duckdb'}"
        command = [sys.executable, "-m", "data_access.demo", "--url", url, "--scale", str(scale)]
        command += ["--end", end] if end else []
        subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        yield url


def shoot(browser: Browser, base: str, shot: Shot, out: Path) -> list[str]:
    """Take one screenshot; returns every URL the tab requested."""
    context = browser.new_context(
        viewport={"width": shot.width, "height": shot.height},
        device_scale_factor=shot.scale,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    recorder = web.Recorder(base)
    try:
        page = recorder.watch(context.new_page())
        web.open_app(page, base + shot.path, shot.need, timeout=180)
        if shot.drill:
            code, before, after = web.drill_largest_district(page)
            if not after or after & before:
                raise RuntimeError(f"clicking district {code} did not drill the map into its streets: {sorted(after)}")
            print(f"  clicked district {code}: the map shows its {len(after)} streets")
        page.wait_for_timeout(SETTLE_SECONDS * 1000)
        for problem in web.page_problems(page):
            print(f"  warning: {shot.name}: {problem}", file=sys.stderr)
        if shot.kiosk:
            for problem in [*web.scroll_problems(page), *web.kpi_overflow(page)[1]]:
                print(f"  warning: {shot.name}: {problem}", file=sys.stderr)
        page.screenshot(path=out / f"{shot.name}.png")
    finally:
        context.close()
    return recorder.requests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--url", help="database URL (default: the app's own resolution)")
    source.add_argument("--demo-scale", type=float, help="generate a demo city of this scale into a temporary file")
    parser.add_argument("--demo-end", help="with --demo-scale: the demo's last day (YYYY-MM-DD; default today)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--only", nargs="*", help="names of the shots to take (default: all)")
    args = parser.parse_args(argv)
    if args.demo_end and not args.demo_scale:
        parser.error("--demo-end needs --demo-scale")
    problem = web.browser_problem()
    if problem:
        print(f"cannot take screenshots: {problem}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    shots = [shot for shot in SHOTS if not args.only or shot.name in args.only]
    requests: list[str] = []

    from playwright.sync_api import sync_playwright

    with contextlib.ExitStack() as stack:
        demo = demo_database(args.demo_scale, args.demo_end) if args.demo_scale else None
        url = args.url or (stack.enter_context(demo) if demo is not None else None)
        base = stack.enter_context(web.streamlit_server({"COCKPIT_DATABASE_URL": url} if url else {}))
        playwright = stack.enter_context(sync_playwright())
        browser = web.launch_chromium(playwright, "--hide-scrollbars")
        stack.callback(browser.close)
        for shot in shots:
            began = time.monotonic()
            urls = shoot(browser, base, shot, args.out)
            requests.extend(urls)
            pixels = f"{shot.width * shot.scale}×{shot.height * shot.scale}"
            print(f"{shot.name}: {pixels}, {len(urls)} requests, {time.monotonic() - began:.1f} s")
        bad = web.foreign_requests(requests, base)
    print(f"{len(requests)} browser requests in all; {len(bad)} to another origin")
    if bad:
        print("Requests that left the app's origin:", *bad, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
