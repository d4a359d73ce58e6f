"""Screenshots of the running app with headless Chromium, recording every request the browser makes.

    .venv/bin/python docs/make_screenshots.py [--url DATABASE_URL] [--out docs/screenshots] [--chromium PATH]

Starts ``streamlit run streamlit_app.py`` on a free local port (against ``--url``, else the app's own
database resolution: ``COCKPIT_DATABASE_URL``, secrets, or the embedded demo DuckDB, generated on
first start), opens each page in Debian's ``chromium`` through the Chrome DevTools Protocol, waits
until the page has finished running (no running script, no skeleton, charts drawn, fonts loaded)
and saves a PNG:

* ``cockpit_1080p.png``, ``cockpit_2160p.png``, ``cockpit_3840x1080.png``: the big screen in kiosk
  mode at 1920×1080, on a 3840×2160 wall (browser at 200 % display scaling) and on a 32:9 wall;
* ``cockpit_drilled_1080p.png``: the same after a real mouse click inside a district on the map (the
  largest one on screen): the script fails unless the map then shows that district's streets;
* ``services_1080p.png``, ``complaints_1080p.png``, ``grid_1080p.png``: the topic pages.

Every request the browser sends is recorded (``Network.requestWillBeSent``); the script fails,
naming them, if any went anywhere but the app's own origin (the deployment has no internet).
It also fails if a kiosk page scrolls at 1080p. Uses only the ``websockets`` package.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import websockets

REPO = Path(__file__).resolve().parent.parent
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
LOCAL_SCHEMES = {"data", "blob", "about", "chrome", "devtools"}
# Ready: the script is not running, no skeleton, and the page's own content is there.
READY_JS = """
(() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') === 'running') return false;
  if (document.querySelector('[data-testid="stSkeleton"], [data-testid="stAppSkeleton"]')) return false;
  if (!document.querySelector('[data-testid="stMainBlockContainer"]')) return false;
  const need = %s;
  for (const selector of need) { if (!document.querySelector(selector)) return false; }
  for (const plot of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    if (!plot.querySelector('.main-svg')) return false;
  }
  return document.fonts.status === 'loaded';
})()
"""

# The big screen's map: region code -> [x, y, hit points] in viewport pixels, the (x, y) being the
# region's hit point (dashboard/maps.py: the last trace, customdata = code) nearest the mean of them all.
REGIONS_JS = """
(() => {
  const gd = document.querySelector('.st-key-cs_panel_map .js-plotly-plot');
  if (!gd || !gd._fullData || !gd._fullData.length) return null;
  const layout = gd._fullLayout, box = gd.getBoundingClientRect();
  const zoom = box.width / layout.width;  // the page is CSS-zoomed to fit the screen
  const hits = gd._fullData[gd._fullData.length - 1], groups = {};
  hits.customdata.forEach((code, i) => { (groups[code] = groups[code] || []).push([hits.x[i], hits.y[i]]); });
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
})()
"""


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


MAP = ".st-key-cs_panel_map .shapelayer path"  # the map's regions are drawn
COCKPIT = (".cs-kpi", MAP, ".cs-ticker")
SHOTS = (
    Shot("cockpit_1080p", "/?kiosk=1", 1920, 1080, COCKPIT, kiosk=True),
    Shot("cockpit_drilled_1080p", "/?kiosk=1", 1920, 1080, COCKPIT, kiosk=True, drill=True),
    Shot("cockpit_2160p", "/?kiosk=1", 1920, 1080, COCKPIT, kiosk=True, scale=2),
    Shot("cockpit_3840x1080", "/?kiosk=1", 3840, 1080, COCKPIT, kiosk=True),
    Shot("services_1080p", "/services", 1920, 1080, ('[data-testid="stMetric"]',)),
    Shot("complaints_1080p", "/complaints", 1920, 1080, ('[data-testid="stMetric"]',)),
    Shot("grid_1080p", "/grid", 1920, 1080, ('[data-testid="stMetric"]',)),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.5)


@contextlib.contextmanager
def streamlit_server(database_url: str | None) -> Iterator[str]:
    port = free_port()
    env = dict(os.environ)
    if database_url:
        env["COCKPIT_DATABASE_URL"] = database_url
    command = [
        sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
    ]  # fmt: skip
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115 - kept for the error
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/_stcore/health", 120)
        yield f"http://127.0.0.1:{port}"
    except Exception:
        log.seek(0)
        print(log.read()[-4000:], file=sys.stderr)
        raise
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        Path(log.name).unlink(missing_ok=True)


@contextlib.contextmanager
def chromium(executable: str) -> Iterator[int]:
    port = free_port()
    profile = tempfile.mkdtemp(prefix="cockpit-chromium-")
    command = [
        executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--mute-audio",
        "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-features=Translate,MediaRouter",
        "--use-gl=swiftshader", "--enable-unsafe-swiftshader",
        f"--remote-debugging-port={port}", f"--user-data-dir={profile}", "about:blank",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/json/version", 30)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)


@dataclass
class Page:
    """One browser tab over CDP: commands with ids, events collected."""

    socket: Any
    requests: list[str] = field(default_factory=list)
    _next: int = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        ident = self._next
        await self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(await self.socket.recv())
            if message.get("method") == "Network.requestWillBeSent":
                self.requests.append(message["params"]["request"]["url"])
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    async def click(self, selector: str) -> None:
        """A real mouse click (press and release) at the centre of the first element matching ``selector``."""
        centre = await self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return null;"
            " const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()"
        )
        if centre is None:
            raise RuntimeError(f"nothing to click: {selector}")
        await self.call("Input.dispatchMouseEvent", type="mouseMoved", x=centre[0], y=centre[1])
        for kind in ("mousePressed", "mouseReleased"):
            await self.call(
                "Input.dispatchMouseEvent", type=kind, x=centre[0], y=centre[1], button="left", clickCount=1
            )

    async def click_at(self, x: float, y: float) -> None:
        """A real mouse click (move, press, release) at viewport pixel (x, y)."""
        await self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        await asyncio.sleep(0.3)  # let Plotly see the hover before the press
        for kind in ("mousePressed", "mouseReleased"):
            await self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    async def map_regions(self) -> dict[str, list[float]]:
        """Region code -> viewport pixel (x, y) of a point well inside it on the big screen's map."""
        regions: dict[str, list[float]] = await self.evaluate(REGIONS_JS)
        return regions or {}

    async def wait_ready(self, need: tuple[str, ...], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        script = READY_JS % json.dumps(list(need))
        streak = 0
        while streak < 3:  # ready three polls in a row: no rerun sneaking in
            streak = streak + 1 if await self.evaluate(script) else 0
            if time.monotonic() > deadline:
                raise TimeoutError(f"page not ready after {timeout:.0f} s (waiting for {need})")
            await asyncio.sleep(1.0)
        await asyncio.sleep(2.5)  # map tiles-less canvas and plotly transitions settle


async def shoot(debug_port: int, base: str, shot: Shot, out: Path) -> list[str]:
    request = urllib.request.Request(f"http://127.0.0.1:{debug_port}/json/new?about:blank", method="PUT")
    with urllib.request.urlopen(request) as response:
        target = json.loads(response.read())
    async with websockets.connect(target["webSocketDebuggerUrl"], max_size=2**28) as ws:
        page = Page(ws)
        await page.call("Network.enable")
        await page.call("Page.enable")
        await page.call(
            "Emulation.setDeviceMetricsOverride",
            width=shot.width,
            height=shot.height,
            deviceScaleFactor=shot.scale,
            mobile=False,
        )
        await page.call("Page.navigate", url=base + shot.path)
        await page.wait_ready(shot.need)
        if shot.drill:
            await drill(page, shot)
        if shot.kiosk and shot.height == 1080:
            scrolls = await page.evaluate(
                "(() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                " return m ? m.scrollHeight > m.clientHeight + 2 : false; })()"
            )
            if scrolls:
                print(f"  warning: {shot.name} scrolls (content taller than the screen)", file=sys.stderr)
        shot_data = await page.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        (out / f"{shot.name}.png").write_bytes(base64.b64decode(shot_data["data"]))
        await page.call("Page.close")
        return page.requests


async def drill(page: Page, shot: Shot) -> None:
    """Click inside the largest district on the map; fail unless the map then shows its streets."""
    before = await page.map_regions()
    if not before:
        raise RuntimeError("no regions on the map to click")
    code, (x, y, _) = max(before.items(), key=lambda item: item[1][2])
    await page.click_at(x, y)
    await asyncio.sleep(1.5)
    await page.wait_ready((*shot.need, ".st-key-cs_back"), timeout=60)
    after = await page.map_regions()
    if not after or code in after or set(after) & set(before):
        raise RuntimeError(f"clicking district {code} did not drill the map into its streets: {sorted(after)}")
    print(f"  clicked district {code} at ({x:.0f}, {y:.0f}): the map shows its {len(after)} streets")


def foreign(urls: list[str]) -> list[str]:
    bad = []
    for url in urls:
        parsed = urlparse(url)
        if parsed.scheme in LOCAL_SCHEMES:
            continue
        if parsed.hostname not in LOCAL_HOSTS:
            bad.append(url)
    return sorted(set(bad))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--url", help="database URL (default: the app's own resolution)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--only", nargs="*", help="names of the shots to take (default: all)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    shots = [shot for shot in SHOTS if not args.only or shot.name in args.only]
    requests: list[str] = []
    with streamlit_server(args.url) as base, chromium(args.chromium) as debug_port:
        wait_http(base + "/", 30)
        for shot in shots:
            began = time.monotonic()
            urls = asyncio.run(shoot(debug_port, base, shot, args.out))
            requests.extend(urls)
            pixels = f"{shot.width * shot.scale}×{shot.height * shot.scale}"
            print(f"{shot.name}: {pixels}, {len(urls)} requests, {time.monotonic() - began:.1f} s")
    bad = foreign(requests)
    print(f"{len(requests)} browser requests in all; {len(bad)} to another origin")
    if bad:
        print("Requests that left the app's origin:", *bad, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
