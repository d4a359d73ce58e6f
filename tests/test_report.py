"""The briefing: periods, scoped numbers computed by hand from the fixture city, the PDF's pages and text."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard.exports import files
from dashboard.report import cli, content, html_page, pdf_print, periods
from dashboard.report.problems import ReportProblem
from dashboard.report.reads import SessionReads
from data_access.config.city import load_city
from data_access.runtime.session import DataSession
from data_access.semantic.query import Scope
from tests import fixture_city as city

needs_browser = pytest.mark.skipif(
    files.find_browser() is None, reason="no Chromium on this machine (apt-get install chromium fonts-noto-cjk)"
)


def test_periods_are_months_or_iso_weeks() -> None:
    month = periods.parse_period("2026-12")
    assert (month.start, month.end) == (dt.datetime(2026, 12, 1), dt.datetime(2027, 1, 1))
    week = periods.parse_period("2026-W01")
    assert (week.start, week.end) == (dt.datetime(2025, 12, 29), dt.datetime(2026, 1, 5))
    for bad in ("2026-13", "2026-W54", "26-10", "2026/10", "October"):
        with pytest.raises(ReportProblem, match="--period"):
            periods.parse_period(bad)


def test_a_running_period_is_cut_at_the_as_of_time_and_compared_like_for_like() -> None:
    resolved, running = periods.resolve(periods.parse_period("2026-02"), dt.datetime(2026, 2, 10, 12, 0))
    assert running
    assert resolved.current.end == dt.datetime(2026, 2, 10, 12, 1)
    assert resolved.previous.start == dt.datetime(2026, 1, 1) and resolved.previous.end == dt.datetime(
        2026, 1, 10, 12, 1
    )
    with pytest.raises(ReportProblem, match="after the data"):
        periods.resolve(periods.parse_period("2026-03"), dt.datetime(2026, 2, 10))


def _briefing(engine: sa.Engine, scope: Scope | None = None) -> content.Briefing:
    session = DataSession(engine, load_city(), scope=scope or Scope())
    return content.build_briefing(session, "2026-02", as_of=city.AS_OF, live_alerts=True)


@pytest.mark.slow
def test_kpis_and_summary_come_from_the_scoped_numbers(tiny_engine: sa.Engine) -> None:
    whole = {row.kpi.metric: row.kpi for row in _briefing(tiny_engine).kpis}
    # February: services S1–S5, S7, S8 (7; January S6 = 1); complaints T1–T5 (5; January T6); grid E1–E5 (5).
    assert (whole["service_received"].value, whole["service_received"].previous) == (7, 1)
    assert (whole["complaint_received"].value, whole["complaint_received"].previous) == (5, 1)
    assert whole["grid_collected"].value == 5
    scoped = _briefing(tiny_engine, Scope(departments=frozenset({city.A})))
    kpis = {row.kpi.metric: row.kpi for row in scoped.kpis}
    assert kpis["service_received"].value == 3  # S1, S2, S5
    assert kpis["complaint_received"].value == 3  # T1, T2, T5
    assert kpis["grid_collected"].value == 2  # E1, E2
    assert scoped.scope_label == "部门：城市管理局"
    assert scoped.summary[0].startswith("本月受理量 3 件，环比上升 200.0%（上期 1 件）")


def test_a_scoped_report_holds_nothing_of_the_other_department(tiny_engine: sa.Engine) -> None:
    briefing = _briefing(tiny_engine, Scope(departments=frozenset({city.A})))
    page = html_page.render_html(briefing, svgs=[b"<svg></svg>"] * len(briefing.charts))
    assert "城市管理局" in page
    assert "市场监督管理局" not in page  # DEP_B's name appears nowhere: rankings, alerts, summary


def test_the_html_report_loads_nothing(tiny_engine: sa.Engine) -> None:
    briefing = _briefing(tiny_engine)
    page = html_page.render_html(briefing, svgs=[b"<svg></svg>"] * len(briefing.charts))
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page
    assert "@font-face" not in page and "<link" not in page and "<script" not in page


@dataclass(frozen=True)
class HostileNames(SessionReads):
    """The fixture city's reads, every code's name turned into markup and an ampersand."""

    def code_names(self, dimension: str) -> dict[str, str]:
        names = super().code_names(dimension)
        return {code: f"<script>alert('{code}')</script> & {name}" for code, name in names.items()}


def test_names_holding_markup_or_an_ampersand_are_escaped_in_the_html(tiny_engine: sa.Engine) -> None:
    session = DataSession(tiny_engine, load_city(), scope=Scope(departments=frozenset({city.A})))
    reads = HostileNames(session, live_alerts=True)
    briefing = content.build_briefing_from(reads, load_city(), "2026-02", as_of=city.AS_OF)
    assert "<script>" in briefing.scope_label and any("<script>" in sentence for sentence in briefing.summary)
    assert briefing.departments.height and briefing.streets.height  # the names reach the ranking tables too
    page = html_page.render_html(briefing, svgs=[b"<svg></svg>"] * len(briefing.charts))
    assert "<script" not in page and "</script>" not in page
    assert f"&lt;script&gt;alert(&#39;{city.A}&#39;)&lt;/script&gt; &amp; 城市管理局" in page  # scope, ranking
    assert page.count("&lt;script&gt;") >= 4  # scope line, summary drivers, street and department rankings
    assert " & " not in page.split("<style>")[0] + page.split("</style>")[1]


def test_the_cli_names_bad_input(tiny_engine: sa.Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = tiny_engine.url.render_as_string(hide_password=False)
    assert cli.main(["--period", "2026-2", "--url", url, "--out", str(tmp_path / "r.pdf")]) == 2
    assert "--period '2026-2'" in capsys.readouterr().err
    assert cli.main(["--period", "2026-02", "--url", url, "--out", str(tmp_path / "r.doc")]) == 2
    assert ".pdf, .pptx or .html" in capsys.readouterr().err
    assert cli.main(["--period", "2026-02", "--url", url, "--scope", "team=x", "--out", str(tmp_path / "r.html")]) == 2
    assert not list(tmp_path.iterdir())  # nothing half-written


@pytest.mark.slow
@needs_browser
def test_pdf_has_four_pages_and_its_text_holds_the_kpi_values(tiny_engine: sa.Engine, tmp_path: Path) -> None:
    from pypdf import PdfReader

    url = tiny_engine.url.render_as_string(hide_password=False)
    out = tmp_path / "briefing.pdf"
    assert cli.main(["--period", "2026-02", "--url", url, "--scope", f"department={city.A}", "--out", str(out)]) == 0
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    assert len(reader.pages) == html_page.PAGES
    raw = "\n".join(page.extract_text() for page in reader.pages)
    assert not [char for char in raw if 0x2F00 <= ord(char) <= 0x2FDF], "Kangxi radical code points left in the text"
    # Known gap: some CJK Radicals Supplement forms (门 as U+2EC1) survive the rewrite; read them as characters.
    text = "".join(pdf_print.ordinary_character(char) for char in raw)
    assert "2026年2月" in text and "城市管理局" in text
    for value in ("3 件", "200.0%", "+200.0%"):  # received 3 (January 1): +200.0%
        assert value in text, value
    assert "市场监督管理局" not in text
    assert reader.metadata is not None and reader.metadata.title == "杭州市 · 月报 · 2026年2月"
