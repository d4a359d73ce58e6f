"""What the browser tests and ``docs/make_screenshots.py`` share: the app server, Chromium, and the page checks.

Nothing here imports pytest, so the screenshot script can use it too. Playwright drives Debian's
``chromium`` executable (never a browser that Playwright downloads). The checks are JavaScript run
in the page; each returns a list of problems (empty = fine) so a failing test says what it saw.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlparse

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Request, WebSocket

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 240.0  # seconds; a page takes a few on an idle 2-core machine, far more on a busy one
RUN_SEEN_SECONDS = 20.0  # how long ``rerun`` waits to see the script state turn "running"
PORT_RANGE = (8700, 8799)  # the app under test; other work on this machine uses 85xx/86xx
# Playwright adds --headless itself; the rest keeps Chromium from calling home (updates, sync, QUIC
# probes, background fetches), so every request recorded is one the app's pages made.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-features=Translate,MediaRouter",
    "--mute-audio",
)
LOCAL_SCHEMES = {"data", "blob", "about", "file"}  # file: an exported HTML opened from disk
# Streamlit's frontend first probes ``<page path>/_stcore/health`` and ``…/host-config`` (in case the
# app is served under that path), gets 404 on a deep link, logs it, and falls back to the root. Those
# two console errors are the framework's, on its own origin, and say nothing about the page.
STREAMLIT_BASE_PROBES = ("/_stcore/health", "/_stcore/host-config")


def find_chromium() -> str | None:
    """Debian's chromium (``/usr/bin/chromium``), or whatever ``chromium`` is on the PATH."""
    return shutil.which("chromium") or shutil.which("/usr/bin/chromium")


def browser_problem() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"playwright is not importable ({exc}); it comes from requirements-dev.txt"
    if find_chromium() is None:
        return "no chromium executable on this machine (apt-get install -y chromium fonts-noto-cjk)"
    return None


def launch_chromium(playwright: Playwright, *extra: str) -> Browser:
    executable = find_chromium()
    if executable is None:
        raise RuntimeError("no chromium executable found (apt-get install -y chromium fonts-noto-cjk)")
    return playwright.chromium.launch(executable_path=executable, headless=True, args=[*CHROMIUM_ARGS, *extra])


def free_port(low: int = PORT_RANGE[0], high: int = PORT_RANGE[1]) -> int:
    """A port in [low, high] that nothing listens on now (random order: parallel runs rarely collide)."""
    ports = list(range(low, high + 1))
    random.shuffle(ports)
    for port in ports:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{high}")


def wait_http(url: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode} before {url} answered")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.3)


@contextlib.contextmanager
def streamlit_server(env: Mapping[str, str | None] | None = None, port: int | None = None) -> Iterator[str]:
    """``streamlit run streamlit_app.py`` on a free local port; yields its base URL, stops it afterwards.

    ``env`` entries override the environment (None removes a variable). The server log is printed
    (its end) when the server does not come up, so a failing start says why.
    """
    with streamlit_process(env, port) as (base, _):
        yield base


@contextlib.contextmanager
def streamlit_process(
    env: Mapping[str, str | None] | None = None, port: int | None = None, script: str = "streamlit_app.py"
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``streamlit run <script>`` as ``streamlit_server`` runs it; yields the base URL and the process.

    The process is for those who measure it (``bench.browser`` reads its memory); ``script`` lets
    the benchmark serve its own minimal page the same way.
    """
    port = port or free_port()
    environment = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    command = [
        sys.executable, "-m", "streamlit", "run", script,
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
        "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    log = tempfile.NamedTemporaryFile("w+b", suffix=".log", delete=False)  # noqa: SIM115 - read on failure
    process = subprocess.Popen(command, cwd=REPO, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/_stcore/health", 120, process)
        yield f"http://127.0.0.1:{port}", process
    except BaseException:
        log.seek(0)
        print(log.read().decode("utf-8", "replace")[-4000:], file=sys.stderr)
        raise
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()
        Path(log.name).unlink(missing_ok=True)


# ---- what the browser did ------------------------------------------------------------------------


@dataclass
class Recorder:
    """Every request, web socket, console error and uncaught exception of the pages it watches."""

    origin: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        page.on("request", self._request)
        page.on("websocket", self._websocket)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))
        return page

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _websocket(self, socket_: WebSocket) -> None:
        self.requests.append(socket_.url)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = str((message.location or {}).get("url") or "")
        if is_streamlit_base_probe(where, self.origin) and "404" in message.text:
            return
        self.console_errors.append(f"{message.text} ({where})" if where else message.text)

    def mark(self) -> int:
        """Where the console log stands now: ``errors_since(mark)`` gives what came after."""
        return len(self.console_errors)

    def errors_since(self, mark: int) -> list[str]:
        return self.console_errors[mark:]

    def foreign(self) -> list[str]:
        return foreign_requests(self.requests, self.origin)


def origin_of(url: str) -> str:
    parsed = urlparse(url)
    scheme = {"ws": "http", "wss": "https"}.get(parsed.scheme, parsed.scheme)
    return f"{scheme}://{parsed.hostname}:{parsed.port or (443 if scheme == 'https' else 80)}"


def foreign_requests(urls: list[str], origin: str) -> list[str]:
    """The URLs that went anywhere but ``origin`` (web sockets count as their http origin)."""
    own = origin_of(origin)
    return sorted({url for url in urls if urlparse(url).scheme not in LOCAL_SCHEMES and origin_of(url) != own})


def is_streamlit_base_probe(url: str, origin: str) -> bool:
    """``<origin>/<page>/_stcore/health`` or ``…/host-config``: Streamlit's own base-path probe."""
    if not url.startswith(origin):
        return False
    path = urlparse(url).path
    return path.count("/") >= 3 and path.endswith(STREAMLIT_BASE_PROBES)


# ---- waiting until a page is drawn ---------------------------------------------------------------

# Ready: connected, the script not running, no skeleton, the selectors asked for present, every
# Plotly chart has drawn its SVG, fonts loaded.
READY_JS = """
(need) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  if (document.querySelector('[data-testid="stSkeleton"], [data-testid="stAppSkeleton"]')) return false;
  if (!document.querySelector('[data-testid="stMainBlockContainer"]')) return false;
  for (const selector of need) { if (!document.querySelector(selector)) return false; }
  for (const plot of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    if (!plot.querySelector('.main-svg')) return false;
  }
  return document.fonts.status === 'loaded';
}
"""


def wait_ready(page: Page, need: tuple[str, ...] = (), timeout: float = READY_TIMEOUT) -> None:
    """Until the page has finished running and drawing, seen ready on four polls in a row (one second).

    A Streamlit page can rerun right after it looks finished (a widget's first value, the
    navigation settling), so one ready poll is not enough.
    """
    deadline = time.monotonic() + timeout
    streak = 0
    while streak < 4:
        streak = streak + 1 if page.evaluate(READY_JS, list(need)) else 0
        if time.monotonic() > deadline:
            state = page.evaluate(
                "() => { const a = document.querySelector('[data-testid=\"stApp\"]');"
                " return a ? a.getAttribute('data-test-script-state') : 'no app'; }"
            )
            raise TimeoutError(f"page not ready after {timeout:.0f} s (script state {state}; waiting for {need})")
        page.wait_for_timeout(250)


def open_app(page: Page, url: str, need: tuple[str, ...] = (), timeout: float = READY_TIMEOUT) -> None:
    page.goto(url, wait_until="domcontentloaded")
    wait_ready(page, need, timeout)


# Flags the next script run: set when the app's script state turns to "running" after this call.
# The records' old values count too: a fast run can go "running" and back before the observer's
# callback reads the attribute, and reading only its current value then missed the run.
WATCH_RUN_JS = """
() => {
  window.__cockpitRan = false;
  const app = document.querySelector('[data-testid="stApp"]');
  if (window.__cockpitRunWatch) window.__cockpitRunWatch.disconnect();
  window.__cockpitRunWatch = new MutationObserver((records) => {
    const running = 'running';
    if (app.getAttribute('data-test-script-state') === running || records.some((r) => r.oldValue === running)) {
      window.__cockpitRan = true;
    }
  });
  window.__cockpitRunWatch.observe(
    app, {attributes: true, attributeFilter: ['data-test-script-state'], attributeOldValue: true});
}
"""


@contextlib.contextmanager
def rerun(page: Page, need: tuple[str, ...] = (), timeout: float = READY_TIMEOUT) -> Iterator[None]:
    """Around a click or a choice that makes Streamlit rerun: afterwards, wait for that run to finish.

    Without it a check could read the page as it was before the run began.
    """
    page.evaluate(WATCH_RUN_JS)
    yield
    # A run is normally seen going "running". One that starts and ends within a frame can leave no
    # trace in the DOM (React batches the two updates): after RUN_SEEN_SECONDS without it, the page
    # being ready (and, for navigation, at its new URL) is what counts.
    deadline = time.monotonic() + min(timeout, RUN_SEEN_SECONDS)
    while not page.evaluate("() => window.__cockpitRan === true") and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    wait_ready(page, need, timeout)


def navigate(page: Page, path: str, need: tuple[str, ...] = (), timeout: float = READY_TIMEOUT) -> None:
    """Go to another page of the app through the sidebar, as a person does (no reload)."""
    here = urlparse(page.url)
    base = f"{here.scheme}://{here.netloc}"
    link = page.locator(f'[data-testid="stSidebarNav"] a[href="{base}{path}"]')
    with rerun(page, need, timeout):
        link.click()
    page.wait_for_url(f"{base}{path}*", timeout=timeout * 1000)


# ---- page checks (each returns the problems it found) -----------------------------------------------

PROBLEMS_JS = """
() => {
  const found = [];
  for (const e of document.querySelectorAll('[data-testid="stException"]')) {
    found.push('exception: ' + e.innerText.slice(0, 300));
  }
  for (const e of document.querySelectorAll('[data-testid="stAlertContentError"]')) {
    found.push('error message: ' + e.innerText.slice(0, 300));
  }
  return found;
}
"""

# Every Plotly chart: a visible box and real marks in its SVG (trace paths, bars, shapes or images
# with a drawn extent), or a WebGL/2D canvas of non-zero size.
CHARTS_JS = """
() => {
  const out = [];
  for (const chart of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    const box = chart.getBoundingClientRect();
    const key = [...chart.closest('[class*="st-key-"]')?.classList || []].find(c => c.startsWith('st-key-')) || '';
    const marks = [...chart.querySelectorAll(
      '.main-svg .trace path, .main-svg .trace rect, .main-svg .trace image,'
      + ' .main-svg .shapelayer path, .main-svg .imagelayer image'
    )].filter(e => {
      const r = e.getBoundingClientRect();
      if (r.width <= 0 && r.height <= 0) return false;
      const d = e.getAttribute('d');
      return d === null || (d.length > 4 && d !== 'M0,0Z');
    });
    const canvases = [...chart.querySelectorAll('canvas')].filter(c => c.width > 0 && c.height > 0);
    out.push({key, width: box.width, height: box.height, marks: marks.length, canvases: canvases.length,
              svgs: chart.querySelectorAll('svg.main-svg').length});
  }
  return out;
}
"""


@dataclass(frozen=True)
class ChartState:
    key: str
    width: float
    height: float
    marks: int
    canvases: int
    svgs: int

    @property
    def drawn(self) -> bool:
        return self.width > 50 and self.height > 50 and self.svgs > 0 and (self.marks > 0 or self.canvases > 0)


def chart_states(page: Page) -> list[ChartState]:
    return [ChartState(**item) for item in page.evaluate(CHARTS_JS)]


def chart_pixel_colours(page: Page, index: int) -> int:
    """How many distinct colours the ``index``-th chart shows on screen (a blank chart shows one or two)."""
    from PIL import Image  # Streamlit depends on Pillow

    png = page.locator('[data-testid="stPlotlyChart"]').nth(index).screenshot()
    with Image.open(io.BytesIO(png)) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    return len(colours or [])


# Scrolling: the document or any scroll container holding more than it shows, and content that
# leaves the viewport (kiosk CSS hides the document's overflow, which would cut it off silently).
SCROLL_JS = """
() => {
  const found = [], w = window.innerWidth, h = window.innerHeight;
  const root = document.scrollingElement || document.documentElement;
  if (root.scrollHeight > h + 1) found.push(`document ${root.scrollHeight}px tall, screen ${h}px`);
  if (root.scrollWidth > w + 1) found.push(`document ${root.scrollWidth}px wide, screen ${w}px`);
  for (const e of document.querySelectorAll('body *')) {
    const style = getComputedStyle(e);
    const scrollsY = /(auto|scroll)/.test(style.overflowY) && e.scrollHeight > e.clientHeight + 1;
    const scrollsX = /(auto|scroll)/.test(style.overflowX) && e.scrollWidth > e.clientWidth + 1;
    if ((scrollsY || scrollsX) && e.clientHeight > 0) {
      const id = e.getAttribute('data-testid') || e.className.toString().slice(0, 60) || e.tagName;
      found.push(`${id} scrolls: ${e.scrollWidth}x${e.scrollHeight} in ${e.clientWidth}x${e.clientHeight}`);
    }
  }
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  if (main) {
    const r = main.getBoundingClientRect();
    if (r.bottom > h + 1) found.push(`content ends at ${Math.round(r.bottom)}px, below the ${h}px screen`);
    if (r.right > w + 1) found.push(`content ends at ${Math.round(r.right)}px, right of the ${w}px screen`);
  }
  return found;
}
"""

# KPI cards: every piece of text inside its card, none cut off (the extent of the text itself, measured
# with a Range, so text spilling out of a box with visible overflow is caught as well as clipped text).
KPI_OVERFLOW_JS = """
() => {
  const found = [];
  const cards = [...document.querySelectorAll('.cs-kpi')];
  const px = (a, b) => `${Math.round(a)}-${Math.round(b)}px`;
  for (const card of cards) {
    const c = card.getBoundingClientRect();
    const name = card.getAttribute('data-metric');
    for (const e of card.querySelectorAll('*')) {
      const text = e.textContent.trim();
      if (!text) continue;
      const range = document.createRange();
      range.selectNodeContents(e);
      const r = range.getBoundingClientRect();
      if (r.left < c.left - 1 || r.right > c.right + 1 || r.top < c.top - 1 || r.bottom > c.bottom + 1) {
        found.push(`${name}: "${text}" at ${px(r.left, r.right)} leaves its card at ${px(c.left, c.right)}`);
      }
      if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible') {
        found.push(`${name}: "${text}" is cut off (${e.scrollWidth}px of text in ${e.clientWidth}px)`);
      }
    }
  }
  return {cards: cards.length, found};
}
"""


def scroll_problems(page: Page) -> list[str]:
    return list(page.evaluate(SCROLL_JS))


def kpi_overflow(page: Page) -> tuple[int, list[str]]:
    result = page.evaluate(KPI_OVERFLOW_JS)
    return int(result["cards"]), list(result["found"])


def main_zoom(page: Page) -> str:
    """The CSS zoom on the page's main block: the wall's fit script sets it, no other page may have one."""
    return str(page.evaluate("() => document.querySelector('[data-testid=\"stMainBlockContainer\"]').style.zoom"))


def page_problems(page: Page) -> list[str]:
    return list(page.evaluate(PROBLEMS_JS))


# ---- the big screen's map -------------------------------------------------------------------------

MAP_PANEL = ".st-key-cs_panel_map"
MAP_REGIONS = f"{MAP_PANEL} .shapelayer path"  # the map's regions are drawn
COCKPIT_READY = (".cs-kpi", MAP_REGIONS, ".cs-ticker")
BACK_BUTTON = ".st-key-cs_back"

# Region code -> [x, y, hit points] in viewport pixels, the (x, y) being the region's hit point
# (dashboard/charts/maps.py: the last trace, customdata = code) nearest the mean of them all.
REGIONS_JS = """
() => {
  const gd = document.querySelector('.st-key-cs_panel_map .js-plotly-plot');
  if (!gd || !gd._fullData || !gd._fullData.length) return null;
  const layout = gd._fullLayout, box = gd.getBoundingClientRect();
  const zoom = box.width / layout.width;  // the page is CSS-zoomed to fit the screen
  const hits = gd._fullData[gd._fullData.length - 1], groups = {};
  hits.customdata.forEach((code, i) => {
    code = Array.isArray(code) ? code[0] : code;
    (groups[code] = groups[code] || []).push([hits.x[i], hits.y[i]]);
  });
  const out = {};
  for (const [code, points] of Object.entries(groups)) {
    const mx = points.reduce((a, p) => a + p[0], 0) / points.length;
    const my = points.reduce((a, p) => a + p[1], 0) / points.length;
    let best = points[0], bestDistance = Infinity;
    for (const p of points) {
      const d = (p[0] - mx) ** 2 + (p[1] - my) ** 2;
      if (d < bestDistance) { bestDistance = d; best = p; }
    }
    out[code] = [box.left + (layout._size.l + layout.xaxis.l2p(best[0])) * zoom,
                 box.top + (layout._size.t + layout.yaxis.l2p(best[1])) * zoom, points.length];
  }
  return out;
}
"""


def map_regions(page: Page) -> dict[str, tuple[float, float, int]]:
    """Region code -> viewport (x, y) of a point well inside it, and its number of hit points."""
    regions = page.evaluate(REGIONS_JS) or {}
    return {str(code): (float(x), float(y), int(n)) for code, (x, y, n) in regions.items()}


def click_at(page: Page, x: float, y: float) -> None:
    """A real mouse click: move (Plotly needs the hover first), press, release."""
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    page.mouse.click(x, y)


def drill_largest_district(page: Page, timeout: float = READY_TIMEOUT) -> tuple[str, set[str], set[str]]:
    """Click inside the largest district on the big screen's map, as a person would.

    Returns the district's code and the region codes the map showed before and after the click.
    """
    before = map_regions(page)
    if not before:
        raise RuntimeError("no regions on the map to click")
    code, (x, y, _) = max(before.items(), key=lambda item: item[1][2])
    with rerun(page, (*COCKPIT_READY, BACK_BUTTON), timeout):
        click_at(page, x, y)
    return code, set(before), set(map_regions(page))


# ---- Streamlit widgets, found by their key (``st-key-<key>``) --------------------------------------


def selectbox_value(page: Page, key: str) -> str:
    return page.locator(f".st-key-{key} [data-testid='stSelectbox'] input").input_value()


def choose_option(page: Page, key: str, option: str) -> None:
    """Open the selectbox keyed ``key`` and click ``option`` in its list, as a person would."""
    page.locator(f".st-key-{key} [data-testid='stSelectbox']").click()
    page.get_by_role("option", name=option, exact=True).click()


def segment_value(page: Page, key: str) -> str:
    return page.locator(f".st-key-{key} button[aria-checked='true']").inner_text().strip()


def choose_segment(page: Page, key: str, label: str) -> None:
    page.locator(f".st-key-{key} button[role='radio']", has_text=label).click()


def query_params(page: Page) -> dict[str, str]:
    """The page's current URL query, one value per parameter."""
    return dict(parse_qsl(urlparse(page.url).query))
