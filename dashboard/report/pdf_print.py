"""The briefing as PDF: the HTML page printed by the system Chromium (found by ``dashboard.exports.files``),
then its text layer repaired.

Chromium maps some CJK glyphs to their Kangxi-radical code points in the PDF's text layer (月 → ⽉),
which breaks search and copy; the PDF's ToUnicode maps are rewritten to the ordinary characters (NFKC,
plus a table for the CJK Radicals Supplement forms NFKC leaves alone) afterwards.
"""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
import unicodedata
from pathlib import Path

from dashboard.exports import files
from dashboard.report.content import Briefing
from dashboard.report.html_page import render_html
from dashboard.report.problems import ReportProblem

PDF_TIMEOUT_SECONDS = 120
_RADICAL = re.compile(r"<(2[EF][0-9A-Fa-f]{2})>")  # a radical's code point in a ToUnicode map (U+2E80–U+2FFF)

# CJK Radicals Supplement forms Chromium picks for simplified characters; NFKC leaves these alone.
# (Kangxi radicals, U+2F00–U+2FD5, have NFKC decompositions and need no table.)
RADICAL_SUPPLEMENT: dict[int, str] = {
    0x2E9F: "母", 0x2EA0: "民", 0x2EC1: "门", 0x2EC4: "西", 0x2EC5: "见", 0x2EC6: "角", 0x2EC9: "贝",
    0x2ECB: "车", 0x2ED3: "长", 0x2ED8: "青", 0x2EDA: "页", 0x2EDB: "风", 0x2EDC: "飞", 0x2EDD: "食",
    0x2EE2: "马", 0x2EE5: "鱼", 0x2EE6: "鸟", 0x2EE8: "麦", 0x2EE9: "黄", 0x2EEC: "齐", 0x2EEE: "齿",
    0x2EF0: "龙", 0x2EF3: "龟",
}  # fmt: skip


def ordinary_character(char: str) -> str:
    """The ideograph a radical code point stands for in running text (月 for ⽉, 门 for ⻔)."""
    if ord(char) in RADICAL_SUPPLEMENT:
        return RADICAL_SUPPLEMENT[ord(char)]
    normal = unicodedata.normalize("NFKC", char)
    return normal if len(normal) == 1 else char


def _ordinary(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    normal = ordinary_character(char)
    return f"<{ord(normal):04X}>" if normal != char else match.group(0)


def fix_text_layer(pdf: bytes, title: str, author: str) -> bytes:
    """Kangxi-radical code points in the fonts' ToUnicode maps → the ordinary characters; title and author set."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import StreamObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    seen: set[int] = set()
    for page in writer.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for reference in fonts.values():
            font = reference.get_object()
            mapping = font.get("/ToUnicode")
            if mapping is None or id(mapping.get_object()) in seen:
                continue
            stream = mapping.get_object()
            seen.add(id(stream))
            if not isinstance(stream, StreamObject):
                continue
            text = stream.get_data().decode("latin-1")
            fixed = _RADICAL.sub(_ordinary, text)
            if fixed != text:
                stream.set_data(fixed.encode("latin-1"))
    writer.add_metadata({"/Title": title, "/Author": author, "/Creator": "City Operations Cockpit"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def print_pdf(page: str) -> bytes:
    """Print an HTML page to PDF with the system Chromium (headless, no header or footer, no network)."""
    browser = files.require_browser()
    with tempfile.TemporaryDirectory(prefix="cockpit-report-") as folder:
        source = Path(folder) / "report.html"
        target = Path(folder) / "report.pdf"
        source.write_text(page, encoding="utf-8")
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            "--disable-extensions",
            *files.QUIET_BROWSER_FLAGS,
            f"--user-data-dir={Path(folder) / 'profile'}",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=PDF_TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ReportProblem(f"{browser} did not finish printing the report in {PDF_TIMEOUT_SECONDS} s") from exc
        if not target.is_file() or target.stat().st_size == 0:
            raise ReportProblem(f"{browser} wrote no PDF (is it a working Chromium?)")
        return target.read_bytes()


def render_pdf(briefing: Briefing) -> bytes:
    """The briefing as a PDF: its HTML page printed, the text layer repaired, title and author (the city) set."""
    page = render_html(briefing)
    return fix_text_layer(print_pdf(page), briefing.title, briefing.city)
