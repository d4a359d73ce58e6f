"""The briefing as one self-contained HTML page (``templates/briefing.html``), the source of the PDF.

Jinja2 with autoescape on: every name, sentence and cell is escaped by the template, so a street or
department called ``<script>`` or ``A & B`` prints as text. The only markup passed through is the
charts' SVG, drawn by kaleido from our own figures (plotly escapes the labels inside it). Every text is
translated and formatted here, in Python, so the i18n key check sees every key and the template only
lays out. The page names local fonts only and loads nothing (no URL anywhere).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import polars as pl

from dashboard.core.formatting import format_change, format_datetime, format_index, format_value
from dashboard.core.i18n import metric_label, t
from dashboard.core.kpi import change_between
from dashboard.exports import files
from dashboard.report.charts import CHART_SIZE
from dashboard.report.content import Briefing
from dashboard.report.summary import KpiRow
from dashboard.report.tables import RANKING_N

PAGES = 4  # the template's four sections, one A4 page each
TEMPLATES = Path(__file__).resolve().parent / "templates"
ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,  # every template here is HTML (the CSS it includes holds no variables)
    undefined=jinja2.StrictUndefined,  # a misspelt name fails loudly instead of printing nothing
    keep_trailing_newline=True,
)
KPI_HEADER_KEYS = (
    "report_metric",
    "report_current",
    "report_previous",
    "report_mom",
    "report_last_year",
    "report_yoy",
    "report_target",
    "report_index",
)


@dataclass(frozen=True)
class TableView:
    """A table as the template draws it: headers, cells as text, and the first right-aligned (numeric) column."""

    headers: list[str]
    rows: list[list[str]]
    numeric_from: int = 99


@dataclass(frozen=True)
class KpiLine:
    """One KPI table row; ``domain`` is set on the first row of a domain, which draws its heading row above."""

    domain: str | None
    metric: str
    numbers: list[str]  # 本期, 上期, 环比, 去年同期, 同比, target
    status: str  # "", "green", "amber" or "red": the CSS class of the index cell
    index: str


@dataclass(frozen=True)
class ChartView:
    title: str
    svg: str  # trusted markup: our renderer's SVG without its XML declaration


def table_view(frame: pl.DataFrame, numeric_from: int = 99) -> TableView:
    """A frame of already formatted values → text cells (None shows as an empty cell)."""
    rows = [["" if value is None else str(value) for value in row] for row in frame.iter_rows()]
    return TableView(list(frame.columns), rows, numeric_from)


def kpi_line(row: KpiRow, first_of_domain: bool, lang: str) -> KpiLine:
    """Value, previous, 环比, last year, 同比, target, target index and status of one KPI, as text."""
    kpi = row.kpi
    yoy, yoy_relative = change_between(kpi.value, row.last_year, kpi.unit)
    status = "" if kpi.status is None else kpi.status.value
    return KpiLine(
        domain=t(f"domain_{row.domain}", lang) if first_of_domain else None,
        metric=metric_label(kpi.metric, lang),
        numbers=[
            format_value(kpi.value, kpi.unit, lang),
            format_value(kpi.previous, kpi.unit, lang),
            format_change(kpi.change, kpi.unit, relative=kpi.relative, lang=lang) or "—",
            format_value(row.last_year, kpi.unit, lang),
            format_change(yoy, kpi.unit, relative=yoy_relative, lang=lang) or "—",
            "—" if kpi.target is None else format_value(kpi.target, kpi.unit, lang),
        ],
        status=status,
        index="—" if kpi.target_index is None else f"{format_index(kpi.target_index)} {t(f'status_{status}', lang)}",
    )


def kpi_lines(briefing: Briefing) -> list[KpiLine]:
    """The KPI table's rows, a domain heading before the first KPI of each domain."""
    before = [None, *(row.domain for row in briefing.kpis[:-1])]
    return [
        kpi_line(row, row.domain != domain, briefing.lang) for row, domain in zip(briefing.kpis, before, strict=True)
    ]


def meta_line(briefing: Briefing) -> list[str]:
    """Scope, period range (and whether it is still running), data as-of and generation time."""
    lang = briefing.lang
    current = briefing.resolved.current
    end = current.end - dt.timedelta(minutes=1)
    parts = [
        f"{t('report_scope', lang)}：{briefing.scope_label}",
        t("period_range", lang, start=format_datetime(current.start), end=format_datetime(end)),
    ]
    if briefing.running:
        parts.append(t("report_running", lang))
    parts.append(t("data_as_of", lang, time=format_datetime(briefing.as_of)))
    parts.append(t("report_generated", lang, time=format_datetime(briefing.generated_at)))
    return parts


def render_svgs(briefing: Briefing) -> list[bytes]:
    """The four charts as SVG, drawn in one browser session."""
    figures = [figure for _, figure in briefing.charts]
    return files.render_images(figures, "svg", sizes=[CHART_SIZE] * len(figures))


def inline_svg(svg: bytes) -> str:
    """An SVG file's text without its ``<?xml …?>`` declaration, to sit inside the HTML page."""
    text = svg.decode("utf-8")
    return re.sub(r"^<\?xml[^>]*>", "", text).strip()


def page_context(briefing: Briefing, svgs: Sequence[bytes]) -> dict[str, Any]:
    """Everything the template shows, as text (and the charts' SVG)."""
    lang = briefing.lang
    half = (briefing.streets.height + 1) // 2
    hidden = briefing.alert_total - briefing.alerts.height
    labels = {
        "summary": t("report_summary", lang),
        "kpis": t("report_kpis", lang),
        "kpi_note": t("report_kpi_note", lang),
        "charts": t("report_charts", lang),
        "rankings": t("report_rankings", lang),
        "street_ranking": t("report_street_ranking", lang, n=RANKING_N),
        "department_ranking": t("report_department_ranking", lang),
        "alerts": t("report_alerts_heading", lang),
        "no_alerts": t("report_alerts_pending" if briefing.alerts_pending else "report_no_alerts", lang),
    }
    return {
        "html_lang": "en" if lang == "en" else "zh-CN",
        "title": briefing.title,
        "meta": meta_line(briefing),
        "labels": labels,
        "summary": briefing.summary,
        "kpi_headers": [t(key, lang) for key in KPI_HEADER_KEYS],
        "kpi_lines": kpi_lines(briefing),
        "charts": [ChartView(title, inline_svg(svg)) for (title, _), svg in zip(briefing.charts, svgs, strict=True)],
        "best": table_view(briefing.streets.head(half), 2),
        "worst": table_view(briefing.streets.tail(briefing.streets.height - half), 2),
        "departments": table_view(briefing.departments, 2),
        "alerts": table_view(briefing.alerts) if briefing.alerts.height else None,
        "more_alerts": t("report_more_alerts", lang, n=hidden) if hidden > 0 else "",
    }


def render_html(briefing: Briefing, svgs: Sequence[bytes] | None = None) -> str:
    """The whole report as one self-contained HTML page (charts inline as SVG, no URL anywhere)."""
    drawn = list(svgs) if svgs is not None else render_svgs(briefing)
    return ENVIRONMENT.get_template("briefing.html").render(page_context(briefing, drawn))
