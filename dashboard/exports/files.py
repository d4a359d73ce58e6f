"""Exports, as bytes: a figure as PNG, SVG or standalone HTML (a table's files are in ``table_files``);
the MIME types and safe file names of every export. No Streamlit.

Everything works offline (government intranets):

* PNG and SVG are drawn by kaleido 1.x in the machine's own Chromium (``COCKPIT_CHROMIUM``, else the
  first of ``chromium``, ``chromium-browser``, ``google-chrome`` on the PATH). ``kaleido.get_chrome()``
  downloads a browser and is never called. Kaleido's page loads MathJax from a CDN unless told not
  to, whatever ``plotly.io.defaults.mathjax`` says (``None`` there means "kaleido's default", the
  CDN), so the page is built with ``mathjax=False`` and plotly.py's own bundled ``plotly.min.js``.
  CJK text uses the fonts the theme names (Noto Sans CJK from ``fonts-noto-cjk`` on Debian).
* HTML carries plotly.js inline (about 4.7 MB): the file opens from a USB stick on an offline PC.

A figure exported without a title of its own gets the export's title drawn into it (and into the
PNG's ``Title`` text chunk and the SVG's ``<title>``), so a chart pasted into a report says what it is.
"""

from __future__ import annotations

import asyncio
import html
import os
import shutil
import struct
import threading
import zlib
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import plotly
import plotly.graph_objects as go
import plotly.io as pio

from dashboard.charts import theme
from dashboard.screen import bigscreen

CHROMIUM_ENV = "COCKPIT_CHROMIUM"
BROWSER_NAMES: tuple[str, ...] = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
EXPORT_WIDTH = 1200  # px: the width of a chart in a report or on a slide
DEFAULT_HEIGHT = 500
PNG_SCALE = 2  # PNG pixels per CSS pixel: sharp when printed or projected
MIN_MARGIN = 24  # px of paper around the plot in a file (on screen the page gives that room)
RENDER_TIMEOUT_SECONDS = 90
# Chromium pings update, time and spell-check services on its own; on an intranet these only time out.
QUIET_BROWSER_FLAGS: tuple[str, ...] = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--disable-features=SpellCheck,OptimizationHints,MediaRouter",
)
# Chromium costs ~150 MB and a core while it renders; two renders at once are enough for a city office.
_renders = threading.BoundedSemaphore(2)

ImageFormat = Literal["png", "svg"]
T = TypeVar("T")

MIME_TYPES: dict[str, str] = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "html": "text/html",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


class ExportProblem(Exception):
    """An export that cannot be made here (no browser, a render that failed), with what to do about it."""


# ---- the browser -------------------------------------------------------------------------------


def find_browser() -> str | None:
    """The Chromium to render with: ``$COCKPIT_CHROMIUM``, else the first known name on the PATH."""
    configured = os.environ.get(CHROMIUM_ENV, "").strip()
    if configured:
        return configured if Path(configured).is_file() else None
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_browser() -> str:
    browser = find_browser()
    if browser is None:
        configured = os.environ.get(CHROMIUM_ENV, "").strip()
        where = f"{CHROMIUM_ENV}={configured!r} is not a file" if configured else "no chromium on the PATH"
        raise ExportProblem(
            f"PNG, SVG and PDF exports need Chromium ({where}): install it with your package manager "
            f"(Debian: apt-get install chromium fonts-noto-cjk) or set {CHROMIUM_ENV} to its path"
        )
    return browser


def _in_fresh_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to the end on a thread of its own (Streamlit's threads may already own a loop)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(make())
        except BaseException as exc:  # handed back to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=target, name="cockpit-export-render", daemon=True)
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


# ---- figures -----------------------------------------------------------------------------------


def _is_transparent(colour: object) -> bool:
    return colour is None or (isinstance(colour, str) and colour.replace(" ", "") in ("rgba(0,0,0,0)", "transparent"))


def prepared(fig: go.Figure, title: str | None = None) -> go.Figure:
    """A copy fit for a file: the title drawn when the figure has none, and an opaque background.

    On screen the charts sit on the page's background (transparent paper); in a file they need their
    own: white, or the wall's dark blue for a big-screen chart (light text).
    """
    out = go.Figure(fig)
    if title and not (out.layout.title and out.layout.title.text):
        top = out.layout.margin.t if out.layout.margin and out.layout.margin.t is not None else 36
        out.update_layout(
            title={"text": html.escape(title), "x": 0.0, "xanchor": "left", "y": 0.98, "yanchor": "top"},
            title_font={"size": 18, "family": theme.FONT_FAMILY},
            margin={"t": max(int(top) + 44, 70)},
        )
        if out.layout.height:
            out.update_layout(height=int(out.layout.height) + 44)
    margin = out.layout.margin
    out.update_layout(
        margin={
            "l": max(int(margin.l if margin.l is not None else 80), MIN_MARGIN),
            "r": max(int(margin.r if margin.r is not None else 80), MIN_MARGIN),
            "b": max(int(margin.b if margin.b is not None else 80), MIN_MARGIN),
        }
    )
    if out.layout.title and out.layout.title.text and out.layout.title.x in (0, 0.0):
        out.update_layout(title_pad_l=MIN_MARGIN)  # a left-aligned title starts where the plot does
    dark = out.layout.font is not None and out.layout.font.color in (theme.WALL_TEXT, bigscreen.TEXT)
    background = bigscreen.BACKGROUND if dark else "white"
    if _is_transparent(out.layout.paper_bgcolor):
        out.update_layout(paper_bgcolor=background)
    if _is_transparent(out.layout.plot_bgcolor):
        out.update_layout(plot_bgcolor=background)
    return out


def image_size(fig: go.Figure, width: int | None = None, height: int | None = None) -> tuple[int, int]:
    """(width, height) in CSS pixels: the figure's own, else ``EXPORT_WIDTH`` by its layout height."""
    layout_width = fig.layout.width
    layout_height = fig.layout.height
    return (
        int(width or layout_width or EXPORT_WIDTH),
        int(height or layout_height or DEFAULT_HEIGHT),
    )


# kaleido 1.x can call into its page before the page's own script has defined its entry point when the
# machine is busy (seen under a loaded test run: "ReferenceError: kaleido_scopes is not defined"); a
# second browser session then succeeds. Only that error is retried; any other fails at once.
STARTUP_RACE = "kaleido_scopes is not defined"
RENDER_ATTEMPTS = 2


def render_images(
    figures: Sequence[go.Figure],
    fmt: ImageFormat,
    *,
    sizes: Sequence[tuple[int, int]] | None = None,
    scale: float = 1,
) -> list[bytes]:
    """Draw several figures in ONE browser session (starting Chromium costs seconds, a figure much less)."""
    if not figures:
        return []
    browser = require_browser()
    import kaleido  # imported here: it pulls in choreographer and an event loop nobody else needs

    pio.defaults.mathjax = None  # plotly.io's own path; the Kaleido below is told mathjax=False explicitly
    wanted = list(sizes) if sizes is not None else [image_size(fig) for fig in figures]

    async def render() -> list[bytes]:
        out: list[bytes] = []
        async with kaleido.Kaleido(
            n=1, timeout=RENDER_TIMEOUT_SECONDS, path=browser, mathjax=False, plotlyjs=str(PLOTLY_JS)
        ) as renderer:
            for fig, (width, height) in zip(figures, wanted, strict=True):
                options = {"format": fmt, "width": width, "height": height, "scale": scale}
                out.append(bytes(await renderer.calc_fig(fig.to_plotly_json(), opts=options)))
        return out

    with _renders:
        for attempt in range(RENDER_ATTEMPTS):
            try:
                return _in_fresh_loop(render)
            except ExportProblem:
                raise
            except Exception as exc:
                if attempt + 1 < RENDER_ATTEMPTS and STARTUP_RACE in str(exc):
                    continue
                raise ExportProblem(f"rendering {fmt.upper()} with {browser} failed: {exc}") from exc
    raise AssertionError("unreachable: the last attempt returns or raises")


def _png_text_chunk(keyword: str, text: str) -> bytes:
    """An iTXt chunk (UTF-8 text, uncompressed): PNG's place for a title in any script."""
    data = keyword.encode("latin-1") + b"\x00\x00\x00" + b"\x00" + b"\x00" + text.encode("utf-8")
    body = b"iTXt" + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def with_png_title(png: bytes, title: str) -> bytes:
    """The PNG with a ``Title`` text chunk right after its header chunk."""
    signature, ihdr_length = png[:8], struct.unpack(">I", png[8:12])[0]
    end_of_ihdr = 8 + 4 + 4 + ihdr_length + 4
    return signature + png[8:end_of_ihdr] + _png_text_chunk("Title", title) + png[end_of_ihdr:]


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's header chunk."""
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def with_svg_title(svg: bytes, title: str) -> bytes:
    """The SVG with a ``<title>`` as the root element's first child (what viewers show as its name)."""
    text = svg.decode("utf-8")
    start = text.find("<svg")
    close = text.find(">", start)
    if start < 0 or close < 0:
        return svg
    return (text[: close + 1] + f"<title>{html.escape(title)}</title>" + text[close + 1 :]).encode("utf-8")


def figure_png(
    fig: go.Figure, title: str | None = None, *, width: int | None = None, height: int | None = None
) -> bytes:
    """The figure as a PNG at ``PNG_SCALE`` × its size, titled."""
    return figures_png([fig], [title], width=width, height=height)[0]


def figures_png(
    figures: Sequence[go.Figure],
    titles: Sequence[str | None],
    *,
    width: int | None = None,
    height: int | None = None,
    scale: float = PNG_SCALE,
) -> list[bytes]:
    ready = [prepared(fig, title) for fig, title in zip(figures, titles, strict=True)]
    images = render_images(ready, "png", sizes=[image_size(fig, width, height) for fig in ready], scale=scale)
    return [with_png_title(png, title) if title else png for png, title in zip(images, titles, strict=True)]


def figure_svg(
    fig: go.Figure, title: str | None = None, *, width: int | None = None, height: int | None = None
) -> bytes:
    """The figure as a standalone SVG (text stays text: searchable, sharp at any size), titled."""
    return figures_svg([fig], [title], width=width, height=height)[0]


def figures_svg(
    figures: Sequence[go.Figure],
    titles: Sequence[str | None],
    *,
    width: int | None = None,
    height: int | None = None,
) -> list[bytes]:
    ready = [prepared(fig, title) for fig, title in zip(figures, titles, strict=True)]
    images = render_images(ready, "svg", sizes=[image_size(fig, width, height) for fig in ready])
    return [with_svg_title(svg, title) if title else svg for svg, title in zip(images, titles, strict=True)]


def figure_html(fig: go.Figure, title: str | None = None) -> bytes:
    """A standalone HTML page: plotly.js inline, no MathJax, no external URL; opens offline."""
    ready = prepared(fig, title)
    _width, height = image_size(ready)
    page: str = pio.to_html(
        ready,
        include_plotlyjs=True,
        include_mathjax=False,
        full_html=True,
        config={**theme.PLOTLY_CONFIG, "responsive": True},
        default_width="100%",
        default_height=f"{height}px",
        validate=False,
    )
    head = (
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title or 'chart')}</title>"
    )
    charset = '<meta charset="utf-8" />'
    if charset in page:
        return page.replace(charset, charset + head, 1).encode("utf-8")
    return page.replace("<head>", '<head><meta charset="utf-8">' + head, 1).encode("utf-8")


# ---- file names --------------------------------------------------------------------------------

_FILE_NAME_FORBIDDEN = str.maketrans({char: "_" for char in '<>:"/\\|?*\n\r\t '})


def file_stem(*parts: str) -> str:
    """A file name stem safe on Windows and Linux: ``投诉_街道_2026-11`` (Chinese kept, separators replaced)."""
    joined = "_".join(part for part in parts if part)
    return joined.translate(_FILE_NAME_FORBIDDEN).strip("._") or "export"
