"""Exported bytes are right: CSV/XLSX/Parquet hold the on-screen table, PNG/SVG have the size and the title,
HTML loads nothing from the network. Browser-dependent tests skip, saying so, where Chromium is missing.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import polars as pl
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard.charts import theme
from dashboard.exports import downloads, table_files
from dashboard.exports import files as export

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
BROWSER = export.find_browser()
needs_browser = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium on this machine (apt-get install chromium fonts-noto-cjk): PNG/SVG need it"
)

TABLE = pl.DataFrame(
    {
        "区县名称": ["上城区", "西湖区", "滨江区"],
        "受理量（件）": [1234, 5, 0],
        "按时办结率（%）": [77.3, None, 100.0],
        "日": [dt.date(2026, 2, 1), dt.date(2026, 2, 2), dt.date(2026, 2, 3)],
    }
)


def _figure() -> go.Figure:
    fig = go.Figure(go.Bar(x=["上城区", "西湖区"], y=[3, 5]))
    return theme.base_layout(fig, height=300)


def test_csv_has_a_bom_and_the_same_rows_and_sums() -> None:
    data = table_files.csv_bytes(TABLE)
    assert data.startswith(b"\xef\xbb\xbf")
    back = pl.read_csv(io.BytesIO(data[3:]), try_parse_dates=True)
    assert back.columns == TABLE.columns
    assert back.height == 3
    assert back["受理量（件）"].sum() == 1239
    assert back["按时办结率（%）"].to_list() == [77.3, None, 100.0]
    assert back["日"].to_list() == TABLE["日"].to_list()


def test_xlsx_opens_with_chinese_headers_number_formats_and_a_frozen_header() -> None:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(table_files.xlsx_bytes(TABLE, sheet="受理量/按区")))
    sheet = book.active
    assert sheet is not None
    assert sheet.title == "受理量_按区"  # '/' is not allowed in a sheet name
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == TABLE.columns
    assert [row[1] for row in rows[1:]] == [1234, 5, 0]
    assert [row[2] for row in rows[1:]] == [77.3, None, 100.0]
    assert [row[3].date() for row in rows[1:]] == TABLE["日"].to_list()  # type: ignore[union-attr]
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.bold
    assert sheet["B2"].number_format == "#,##0"
    assert sheet["C2"].number_format == "#,##0.0"
    assert sheet["D2"].number_format == "yyyy-mm-dd"
    assert sheet.column_dimensions["A"].width >= 10  # four wide characters + room


def test_parquet_round_trips_types_and_values() -> None:
    back = pl.read_parquet(io.BytesIO(table_files.parquet_bytes(TABLE)))
    assert back.equals(TABLE)
    assert back.schema == TABLE.schema


class _Urls(HTMLParser):
    """Every URL a browser would fetch from markup: src/href attributes, CSS url(...) and @import."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "data") and value:
                self.found.append(value)
            if name == "style" and value:
                self._css(value)
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self._css(data)

    def _css(self, text: str) -> None:
        import re

        self.found.extend(re.findall(r"url\(\s*['\"]?([^'\")]+)", text))
        self.found.extend(re.findall(r"@import\s+['\"]([^'\"]+)", text))


def test_html_is_standalone_with_no_external_script_style_or_font_url() -> None:
    page = export.figure_html(_figure(), "受理量 · 按区县").decode("utf-8")
    parser = _Urls()
    parser.feed(page)
    assert not [url for url in parser.found if url.startswith(("http://", "https://", "//"))], parser.found
    assert "<title>受理量 · 按区县</title>" in page
    assert '<script src="' not in page and "<link" not in page
    assert len(page) > 3_000_000  # plotly.js is inside the file
    assert "Plotly.newPlot" in page and "受理量 · 按区县" in page


def test_prepared_figure_gets_title_and_an_opaque_background() -> None:
    ready = export.prepared(_figure(), "按区县")
    assert ready.layout.title.text == "按区县"
    assert ready.layout.paper_bgcolor == "white"
    assert ready.layout.height == 300 + 44  # room for the title drawn above the plot
    titled = export.prepared(theme.base_layout(go.Figure(), title="自带标题"), "另一个")
    assert titled.layout.title.text == "自带标题"  # a figure's own title is kept


def test_png_title_chunk_is_valid() -> None:
    # A minimal 1×1 PNG: signature + IHDR; the chunk goes right after IHDR with a correct CRC.
    import zlib

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    png = b"\x89PNG\r\n\x1a\n" + chunk
    titled = export.with_png_title(png, "受理量")
    assert export.png_size(titled) == (1, 1)
    length = struct.unpack(">I", titled[33:37])[0]
    assert titled[37:41] == b"iTXt"
    body = titled[37 : 41 + length]
    assert titled[41 + length : 45 + length] == struct.pack(">I", zlib.crc32(body))
    assert body.endswith("受理量".encode())


def test_file_stems_are_safe() -> None:
    assert export.file_stem("诉求量 · 按街道", "2026/11") == "诉求量_·_按街道_2026_11"
    assert export.file_stem("") == "export"


@pytest.mark.slow
@needs_browser
def test_png_and_svg_have_the_expected_size_and_carry_the_title() -> None:
    fig = _figure()
    png = export.figure_png(fig, "受理量按区县", width=640)
    assert png.startswith(b"\x89PNG")
    assert export.png_size(png) == (640 * export.PNG_SCALE, (300 + 44) * export.PNG_SCALE)
    assert "受理量按区县".encode() in png  # the iTXt Title chunk
    svg = export.figure_svg(fig, "受理量按区县", width=640).decode("utf-8")
    assert svg.startswith("<svg")
    assert 'width="640"' in svg[:400] and 'height="344"' in svg[:400]
    assert "<title>受理量按区县</title>" in svg
    assert svg.count("受理量按区县") >= 2  # the <title> and the title drawn as text
    assert "上城区" in svg  # CJK axis labels are text, not boxes


def _page_requests(browser: str, page: Path, folder: Path) -> set[str]:
    """URLs the page itself asked for, from Chromium's network log (the browser's own update pings excluded)."""
    log = folder / f"{page.stem}.net.json"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            *export.QUIET_BROWSER_FLAGS,
            f"--user-data-dir={folder / 'profile'}",
            f"--log-net-log={log}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    text = log.read_text(encoding="utf-8")
    try:
        events = json.loads(text)["events"]
    except json.JSONDecodeError:  # a log cut short ends inside the events list
        events = json.loads(text.rstrip().rstrip(",") + "]}")["events"]
    # A request the page makes has the page as initiator ("null" for file://); the browser's own have none.
    return {
        str(event["params"]["url"])
        for event in events
        if isinstance(event.get("params"), dict)
        and "url" in event["params"]
        and event["params"].get("initiator") not in (None, "not an origin")
    }


@pytest.mark.slow
@needs_browser
def test_exported_html_makes_no_network_request_in_a_real_browser(tmp_path: Path) -> None:
    assert BROWSER is not None
    control = tmp_path / "control.html"
    control.write_text('<html><body><img src="https://example.invalid/x.png"></body></html>', encoding="utf-8")
    assert "https://example.invalid/x.png" in _page_requests(BROWSER, control, tmp_path)  # the check sees requests
    page = tmp_path / "chart.html"
    page.write_bytes(export.figure_html(_figure(), "离线检查"))
    requests = _page_requests(BROWSER, page, tmp_path)
    assert not [url for url in requests if url.startswith(("http://", "https://"))], requests


def test_export_files_offer_six_formats_with_mime_types() -> None:
    files = downloads.export_files(_figure(), TABLE, title="受理量", stem="受理量")
    assert [f.fmt for f in files] == ["png", "svg", "html", "csv", "xlsx", "parquet"]
    assert [f.file_name for f in files][3] == "受理量.csv"
    assert files[3].mime == "text/csv"
    assert files[3].make() == table_files.csv_bytes(TABLE)
    assert [f.fmt for f in downloads.export_files(None, TABLE, title="t", stem="s")] == ["csv", "xlsx", "parquet"]


def test_every_export_passes_the_audit_call_point_once(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[downloads.ExportEvent] = []
    monkeypatch.setattr(downloads, "record_export", seen.append)
    file = downloads.export_files(None, TABLE, title="受理量", stem="s")[0]
    event = downloads.ExportEvent(fmt="csv", file_name="s.csv", title="受理量", key="k", rows=TABLE.height)
    assert downloads._audited(file, event)() == table_files.csv_bytes(TABLE)
    assert seen == [event]


@pytest.mark.slow
def test_workbench_exports_hold_exactly_the_table_on_screen(
    tiny_app: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page hands the export menu the very frame it shows: CSV rows and sums equal the on-screen table."""
    handed: list[dict[str, Any]] = []
    original = downloads.export_files

    def spy(figure: Any, data: Any, **kwargs: Any) -> Any:
        handed.append({"figure": figure, "data": data, **kwargs})
        return original(figure, data, **kwargs)

    monkeypatch.setattr(downloads, "export_files", spy)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"domain": "complaints", "dims": "street", "period": "custom"})
    at.query_params.update({"start": "2026-02-01", "end": "2026-03-01"})
    at.run()
    at.switch_page("pages/explore.py").run()
    assert not at.exception, at.exception
    shown = at.dataframe[0].value
    assert handed, "the page drew no export menu"
    data = handed[-1]["data"]
    back = pl.read_csv(io.BytesIO(table_files.csv_bytes(data)[3:]))
    assert back.height == len(shown) == 2  # the fixture's two streets
    assert back["诉求量（件）"].sum() == shown["诉求量（件）"].sum() == 5  # T1–T5 were received in February
    assert sorted(back["街道名称"].to_list()) == sorted(shown["街道名称"].tolist()) == ["北山街道", "清波街道"]
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(table_files.xlsx_bytes(data))).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) - 1 == len(shown)
    assert sum(row[list(rows[0]).index("诉求量（件）")] for row in rows[1:]) == 5


@pytest.mark.parametrize(
    ("failure", "calls", "succeeds"),
    [
        (RuntimeError("ReferenceError: kaleido_scopes is not defined"), 2, True),  # kaleido's start-up race
        (RuntimeError("the browser crashed"), 1, False),  # anything else fails at once
    ],
)
def test_only_kaleidos_start_up_race_is_retried(
    monkeypatch: pytest.MonkeyPatch, failure: Exception, calls: int, succeeds: bool
) -> None:
    attempts: list[int] = []

    def fresh_loop(render: Any) -> list[bytes]:
        attempts.append(1)
        if len(attempts) == 1:
            raise failure
        return [b"drawn"]

    monkeypatch.setattr(export, "require_browser", lambda: "/usr/bin/chromium")
    monkeypatch.setattr(export, "_in_fresh_loop", fresh_loop)
    if succeeds:
        assert export.render_images([go.Figure()], "svg") == [b"drawn"]
    else:
        with pytest.raises(export.ExportProblem, match="the browser crashed"):
            export.render_images([go.Figure()], "svg")
    assert len(attempts) == calls
