"""周报 / 月报: the briefing of one period for one scope, as PDF (or PPTX, or the HTML behind the PDF).

    python -m dashboard.report --period 2026-10 [--url URL] [--scope department=CODE] [--scope region=CODE]
                               [--lang zh|en] --out report.pdf|report.pptx|report.html

``--period`` is a month ``YYYY-MM`` or an ISO week ``YYYY-Www``. The scope is the RECIPIENT's, given
explicitly (``department=…``/``region=…``, repeatable, as ``python -m data_access.alerts`` takes it):
every number, chart, ranking and alert comes from requests carrying that scope, never from whoever
runs the scheduler. The app's report page passes the viewer's own scope to the same builder.

Four A4 pages: (1) a generated summary of what changed most and the KPI table with 环比, 同比 and the
target index (``dashboard.core.kpi``), (2) four key charts (inline SVG drawn by kaleido), (3) street and
department rankings, (4) the current alerts (``data_access.alerts.detection.compute_alerts`` with the scope). The
HTML names only local fonts (Noto Sans CJK from fonts-noto-cjk) and loads nothing; the system
Chromium prints it (``--print-to-pdf``). Chromium maps some CJK glyphs to their Kangxi-radical code
points in the PDF's text layer (月 → ⽉), which breaks search and copy; the PDF's ToUnicode maps are
rewritten to the ordinary characters (NFKC) afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import io
import re
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
import sqlalchemy as sa

from dashboard.charts import theme
from dashboard.charts.figures import bar_figure, target_colours, top_bottom
from dashboard.core.formatting import format_change, format_datetime, format_index, format_value
from dashboard.core.i18n import TEXTS, metric_label, t
from dashboard.core.kpi import Kpi, build_kpis, change_between
from dashboard.core.metric_requests import (
    DOMAINS,
    RANKING_DEPARTMENT_RATE,
    RANKING_DEPARTMENT_VOLUME,
    RANKING_SCORE,
    RANKING_SCORE_VOLUME,
    TOPIC_KPIS,
    VOLUME_METRIC,
    breakdown_request,
    kpi_requests,
    totals_request,
)
from dashboard.core.periods import Period, Shift
from dashboard.exports import files
from data_access.config.city import CityConfig, SettingsProblem, load_city
from data_access.runtime.engine import DatabaseProblem, check_database, get_engine, resolve_target
from data_access.semantic.metric_defs import Unit
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.metrics import code_names, data_as_of, region_names, run_metrics
from data_access.semantic.query import EVERYTHING, MetricRequest, Scope, TimeRange, cutoff
from data_access.semantic.targets import resolve_targets, target_rows

PAGES = 4
RANKING_N = 10
MAX_ALERTS = 18
MAX_DEPARTMENTS = 20
CHART_SIZE = (340, 290)  # CSS px: four to a page, two by two
PDF_TIMEOUT_SECONDS = 120
MIN_STREET_VOLUME = {"month": 10, "week": 5}
# What "mainly from" looks at, per domain: where a volume change came from.
DRIVERS: dict[str, tuple[str, ...]] = {
    "services": ("department", "district"),
    "complaints": ("street", "category_l1"),
    "grid": ("street", "category_l1"),
}
_PERIOD_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_PERIOD_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class ReportProblem(ValueError):
    """A report that cannot be made as asked (bad period, no data for it, no browser), with the reason."""


# ---- the period --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportPeriod:
    text: str  # as given: 2026-10 or 2026-W44
    kind: str  # "month" or "week"
    start: dt.datetime
    end: dt.datetime  # exclusive: the start of the next month or week


def parse_period(text: str) -> ReportPeriod:
    """``YYYY-MM`` or ISO week ``YYYY-Www`` → the full calendar period."""
    value = text.strip()
    month = _PERIOD_MONTH.match(value)
    if month:
        year, number = int(month.group(1)), int(month.group(2))
        if not 1 <= number <= 12:
            raise ReportProblem(f"--period {text!r}: month {number} does not exist")
        start = dt.datetime(year, number, 1)
        end = dt.datetime(year + number // 12, number % 12 + 1, 1)
        return ReportPeriod(value, "month", start, end)
    week = _PERIOD_WEEK.match(value)
    if week:
        year, number = int(week.group(1)), int(week.group(2))
        try:
            monday = dt.date.fromisocalendar(year, number, 1)
        except ValueError as exc:
            raise ReportProblem(f"--period {text!r}: ISO week {number} does not exist in {year}") from exc
        start = dt.datetime.combine(monday, dt.time())
        return ReportPeriod(value, "week", start, start + dt.timedelta(days=7))
    raise ReportProblem(f"--period {text!r}: expected a month YYYY-MM (2026-10) or an ISO week YYYY-Www (2026-W44)")


def resolve(period: ReportPeriod, as_of: dt.datetime) -> tuple[Period, bool]:
    """The period's ranges at the data's as-of time, and whether the period is still running.

    A running period is cut at the as-of minute and compared with the same elapsed span of the one
    before (环比) and a year before (同比); a week's 同比 is 52 weeks earlier (weekdays aligned).
    """
    end = min(period.end, cutoff(as_of))
    if end <= period.start:
        raise ReportProblem(
            f"--period {period.text} starts after the data's latest record ({format_datetime(as_of)}): "
            "nothing to report"
        )
    current = TimeRange(period.start, end)
    step = Shift(months=1) if period.kind == "month" else Shift(days=7)
    year = Shift(months=12) if period.kind == "month" else Shift(days=364)
    resolved = Period(
        key=period.kind,
        as_of=as_of,
        current=current,
        previous=step.range_back(current),
        last_year=year.range_back(current),
    )
    return resolved, end < period.end


# ---- the content -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiRow:
    domain: str
    kpi: Kpi
    last_year: float | None


@dataclass
class Briefing:
    """Everything the report shows, computed from the scoped requests; rendered to HTML, PDF or PPTX."""

    lang: str
    city: str
    period: ReportPeriod
    resolved: Period
    running: bool
    scope_label: str
    as_of: dt.datetime
    generated_at: dt.datetime
    kpis: list[KpiRow]
    summary: list[str]
    charts: list[tuple[str, go.Figure]]
    streets: pl.DataFrame
    departments: pl.DataFrame
    alerts: pl.DataFrame
    alert_total: int
    svgs: list[bytes] = field(default_factory=list)

    @property
    def title(self) -> str:
        kind = t("report_monthly" if self.period.kind == "month" else "report_weekly", self.lang)
        return f"{self.city} · {kind} · {period_label(self.period, self.lang)}"


def period_label(period: ReportPeriod, lang: str) -> str:
    if period.kind == "month":
        return f"{period.start:%Y-%m}" if lang == "en" else f"{period.start.year}年{period.start.month}月"
    year, week, _ = period.start.isocalendar()
    return f"{year}-W{week:02d}" if lang == "en" else f"{year}年第{week}周"


def scope_label(engine: sa.Engine, scope: Scope, lang: str) -> str:
    """``全市`` / ``Whole city``, else the departments and regions of the scope by name."""
    if scope.unrestricted:
        return t("report_scope_all", lang)
    parts: list[str] = []
    if scope.departments is not None:
        names = code_names(engine, "department")
        shown = "、".join(names.get(code, code) for code in sorted(scope.departments)) or "—"
        parts.append(f"{t('dim_department', lang)}：{shown}")
    if scope.regions is not None:
        regions = region_names(engine)
        names = dict(zip(regions["code"].to_list(), regions["name"].to_list(), strict=True))
        shown = "、".join(names.get(code, code) for code in sorted(scope.regions)) or "—"
        parts.append(f"{t('report_region', lang)}：{shown}")
    return "；".join(parts)


Runner = Callable[[MetricRequest], pl.DataFrame]


def scoped_runner(engine: sa.Engine, city: CityConfig, scope: Scope) -> Runner:
    """Every request of the report goes through here and carries the recipient's scope."""

    def run(request: MetricRequest) -> pl.DataFrame:
        return run_metrics(engine, replace(request, scope=scope), city.three_rates, cache=None)

    return run


def build_briefing(
    engine: sa.Engine,
    city: CityConfig,
    period_text: str,
    *,
    scope: Scope = EVERYTHING,
    lang: str = "zh",
    as_of: dt.datetime | None = None,
    with_alerts: bool = True,
) -> Briefing:
    """Compute the whole briefing for ``scope`` (the recipient's); nothing is drawn yet."""
    period = parse_period(period_text)
    as_of = as_of or data_as_of(engine)
    if as_of is None:
        raise ReportProblem("the database holds no records yet: nothing to report")
    resolved, running = resolve(period, as_of)
    run = scoped_runner(engine, city, scope)
    region = next(iter(scope.regions)) if scope.regions is not None and len(scope.regions) == 1 else None
    rows = target_rows(engine)

    kpis: list[KpiRow] = []
    for domain in DOMAINS:
        metrics = TOPIC_KPIS[domain]
        current, previous = kpi_requests(metrics, resolved)
        last_year = run(totals_request(metrics, resolved.last_year))
        resolved_targets = resolve_targets(
            metrics, rows, city.targets, region=region, day=(resolved.current.end - dt.timedelta(seconds=1)).date()
        )
        targets = {name: value for name, value in resolved_targets.items() if value is not None}
        for kpi in build_kpis(metrics, run(current), run(previous), targets):
            value = last_year[kpi.metric][0] if last_year.height else None
            kpis.append(KpiRow(domain, kpi, None if value is None else float(value)))

    names = {dim: code_names(engine, dim) for dim in ("district", "street", "department", "category_l1")}
    summary = _summary(kpis, run, resolved, names, lang, period.kind)
    charts = _charts(run, resolved, names, lang, city)
    streets, departments = _rankings(run, resolved, names, lang, period.kind)
    alerts, total = _alerts(engine, scope, resolved, lang) if with_alerts else (pl.DataFrame(), 0)
    if with_alerts:
        summary.append(_alert_sentence(alerts, total, lang))
    return Briefing(
        lang=lang,
        city=city.name_en if lang == "en" else city.name,
        period=period,
        resolved=resolved,
        running=running,
        scope_label=scope_label(engine, scope, lang),
        as_of=as_of,
        generated_at=dt.datetime.now().replace(microsecond=0),
        kpis=kpis,
        summary=summary,
        charts=charts,
        streets=streets,
        departments=departments,
        alerts=alerts,
        alert_total=total,
    )


def _direction(change: float | None, lang: str) -> str:
    if change is None:
        return t("report_no_comparison", lang)
    if abs(change) < 0.005:
        return t("report_flat", lang)
    word = t("report_up" if change > 0 else "report_down", lang)
    return f"{word} {abs(change) * 100:.1f}%"


def _drivers(
    run: Runner, metric: str, dimension: str, period: Period, names: dict[str, dict[str, str]], rising: bool
) -> list[tuple[str, float]]:
    """The two values of ``dimension`` whose ``metric`` moved most in the direction of the total."""
    now = run(breakdown_request((metric,), dimension, period.current))
    before = run(breakdown_request((metric,), dimension, period.previous))
    joined = now.join(before, on=dimension, how="full", suffix="_before", coalesce=True).with_columns(
        (pl.col(metric).fill_null(0) - pl.col(f"{metric}_before").fill_null(0)).alias("delta")
    )
    joined = joined.filter(pl.col("delta") > 0) if rising else joined.filter(pl.col("delta") < 0)
    ordered = joined.sort("delta", descending=rising).head(2)
    labels = names.get(dimension, {})
    return [
        (labels.get(str(code), str(code)) if code is not None else "—", float(delta))
        for code, delta in ordered.select(dimension, "delta").iter_rows()
    ]


def _summary(
    kpis: list[KpiRow],
    run: Runner,
    period: Period,
    names: dict[str, dict[str, str]],
    lang: str,
    kind: str,
) -> list[str]:
    """Sentences computed from the numbers: volumes and where they moved, missed targets, the largest rate move."""
    by_metric = {row.kpi.metric: row.kpi for row in kpis}
    unit_word = t("report_this_month" if kind == "month" else "report_this_week", lang)
    sentences: list[str] = []
    for domain in DOMAINS:
        kpi = by_metric[VOLUME_METRIC[domain]]
        if kpi.value is None:
            continue
        sentence = t(
            "report_volume",
            lang,
            period=unit_word,
            metric=metric_label(kpi.metric, lang),
            value=format_value(kpi.value, kpi.unit, lang),
            change=_direction(kpi.change if kpi.relative else None, lang),
            previous=format_value(kpi.previous, kpi.unit, lang),
        )
        if kpi.change is not None and abs(kpi.change) >= 0.005:
            parts = []
            for dimension in DRIVERS[domain]:
                found = _drivers(run, kpi.metric, dimension, period, names, rising=kpi.change > 0)
                if found:
                    listed = "、".join(f"{name}（{delta:+,.0f}）" for name, delta in found)
                    parts.append(f"{t(f'dim_{dimension}', lang)} {listed}")
            if parts:
                sentence += t("report_mainly", lang, drivers="；".join(parts))
        sentences.append(sentence + ("." if lang == "en" else "。"))
    missed = [row.kpi for row in kpis if row.kpi.status is not None and row.kpi.status.value != "green"]
    if missed:
        listed = "、".join(
            f"{metric_label(k.metric, lang)} {format_value(k.value, k.unit, lang)}"
            f"（{t('report_target', lang)} {format_value(k.target, k.unit, lang)}）"
            for k in missed
        )
        sentences.append(t("report_missed", lang, metrics=listed))
    elif any(row.kpi.target_index is not None for row in kpis):
        sentences.append(t("report_all_met", lang))
    moved = [
        row.kpi
        for row in kpis
        if row.kpi.unit in (Unit.RATE, Unit.SCORE) and row.kpi.change is not None and not row.kpi.relative
    ]
    if moved:
        biggest = max(moved, key=lambda k: abs(k.change or 0.0))
        change = format_change(biggest.change, biggest.unit, relative=False, lang=lang)
        if change and change[:1] in "+-":
            sentences.append(t("report_biggest_move", lang, metric=metric_label(biggest.metric, lang), change=change))
    return sentences


def _charts(
    run: Runner, period: Period, names: dict[str, dict[str, str]], lang: str, city: CityConfig
) -> list[tuple[str, go.Figure]]:
    """Daily volumes, complaints by category (now vs before), the 三率 score by district, on-time rate by department."""
    charts: list[tuple[str, go.Figure]] = []
    daily = go.Figure()
    for index, domain in enumerate(DOMAINS):
        metric = VOLUME_METRIC[domain]
        frame = run(breakdown_request((metric,), "day", period.current))
        daily.add_trace(
            go.Scatter(
                x=frame["day"].to_list(),
                y=frame[metric].to_list(),
                name=metric_label(metric, lang),
                mode="lines+markers",
                line={"color": theme.PALETTE[index], "width": 2},
                marker={"size": 4},
            )
        )
    theme.base_layout(daily, height=CHART_SIZE[1])
    daily.update_xaxes(tickformat="%m-%d")
    charts.append((t("report_chart_daily", lang), daily))

    metric = VOLUME_METRIC["complaints"]
    now = run(breakdown_request((metric,), "category_l1", period.current, limit=8))
    before = run(breakdown_request((metric,), "category_l1", period.previous))
    previous = dict(before.select("category_l1", metric).iter_rows())
    labels = [names["category_l1"].get(str(code), str(code)) for code in now["category_l1"].to_list()]
    categories = go.Figure(
        [
            go.Bar(
                x=labels,
                y=[previous.get(code) for code in now["category_l1"].to_list()],
                name=t("report_previous", lang),
                marker={"color": theme.COMPARISON},
            ),
            go.Bar(x=labels, y=now[metric].to_list(), name=t("report_current", lang), marker={"color": theme.PRIMARY}),
        ]
    )
    theme.base_layout(categories, height=CHART_SIZE[1])
    categories.update_layout(barmode="group")
    categories.update_xaxes(tickangle=-35)
    charts.append((t("report_chart_categories", lang), categories))

    score = run(breakdown_request((RANKING_SCORE,), "district", period.current))
    target = city.targets.get(RANKING_SCORE, METRICS[RANKING_SCORE].default_target)
    districts = bar_figure(
        score,
        dimension="district",
        value=RANKING_SCORE,
        unit=METRICS[RANKING_SCORE].unit,
        names=names["district"],
        lang=lang,
        target=target,
        colours=target_colours(score[RANKING_SCORE].to_list(), target, METRICS[RANKING_SCORE].direction),
    )
    districts.update_layout(height=CHART_SIZE[1])
    charts.append((t("report_chart_districts", lang), districts))

    rate = run(breakdown_request((RANKING_DEPARTMENT_RATE,), "department", period.current, limit=12))
    rate_target = city.targets.get(RANKING_DEPARTMENT_RATE, METRICS[RANKING_DEPARTMENT_RATE].default_target)
    departments = bar_figure(
        rate,
        dimension="department",
        value=RANKING_DEPARTMENT_RATE,
        unit=METRICS[RANKING_DEPARTMENT_RATE].unit,
        names=names["department"],
        lang=lang,
        target=rate_target,
        colours=target_colours(
            rate[RANKING_DEPARTMENT_RATE].to_list(), rate_target, METRICS[RANKING_DEPARTMENT_RATE].direction
        ),
    )
    departments.update_layout(height=CHART_SIZE[1])
    charts.append((t("report_chart_departments", lang), departments))
    for _, figure in charts:
        figure.update_layout(font={"size": 11}, margin={"l": 4, "r": 10, "t": 30, "b": 4})
    return charts


def _rankings(
    run: Runner, period: Period, names: dict[str, dict[str, str]], lang: str, kind: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Streets by the 三率 composite (best and worst ten, enough follow-ups), departments by on-time completion."""
    streets = run(breakdown_request((RANKING_SCORE, RANKING_SCORE_VOLUME), "street", period.current))
    ranked = top_bottom(
        streets, RANKING_SCORE, RANKING_N, volume=RANKING_SCORE_VOLUME, min_volume=MIN_STREET_VOLUME[kind]
    )
    street_table = pl.DataFrame(
        {
            t("report_group", lang): [
                t("top_group" if g == "top" else "bottom_group", lang, n=RANKING_N) for g in ranked["group"].to_list()
            ],
            t("dim_street", lang): [names["street"].get(str(c), str(c)) for c in ranked["street"].to_list()],
            metric_label(RANKING_SCORE, lang): [
                format_value(v, METRICS[RANKING_SCORE].unit, lang) for v in ranked[RANKING_SCORE].to_list()
            ],
            metric_label(RANKING_SCORE_VOLUME, lang): [
                format_value(v, Unit.COUNT, lang) for v in ranked[RANKING_SCORE_VOLUME].to_list()
            ],
        }
    )
    departments = run(
        breakdown_request((RANKING_DEPARTMENT_RATE, RANKING_DEPARTMENT_VOLUME), "department", period.current)
    ).filter(pl.col(RANKING_DEPARTMENT_RATE).is_not_null())
    departments = departments.head(MAX_DEPARTMENTS)
    department_table = pl.DataFrame(
        {
            t("report_rank", lang): [str(i) for i in range(1, departments.height + 1)],
            t("dim_department", lang): [
                names["department"].get(str(c), str(c)) for c in departments["department"].to_list()
            ],
            metric_label(RANKING_DEPARTMENT_RATE, lang): [
                format_value(v, Unit.RATE, lang) for v in departments[RANKING_DEPARTMENT_RATE].to_list()
            ],
            metric_label(RANKING_DEPARTMENT_VOLUME, lang): [
                format_value(v, Unit.COUNT, lang) for v in departments[RANKING_DEPARTMENT_VOLUME].to_list()
            ],
        },
        schema={
            t("report_rank", lang): pl.String(),
            t("dim_department", lang): pl.String(),
            metric_label(RANKING_DEPARTMENT_RATE, lang): pl.String(),
            metric_label(RANKING_DEPARTMENT_VOLUME, lang): pl.String(),
        },
    )
    return street_table, department_table


def _alerts(engine: sa.Engine, scope: Scope, period: Period, lang: str) -> tuple[pl.DataFrame, int]:
    """The alerts standing at the end of the period (the as-of time for a running one), within the scope."""
    from data_access.alerts.run import compute_alerts  # heavy: imported only when a report is made

    found = compute_alerts(engine, as_of=period.current.end - dt.timedelta(minutes=1), scope=scope)
    message = "message_en" if lang == "en" else "message"
    shown = found.head(MAX_ALERTS)
    table = pl.DataFrame(
        {
            t("alert_severity", lang): [t(f"severity_{value}", lang) for value in shown["severity"].to_list()],
            t("alert_kind", lang): [
                t(f"alert_kind_{kind}", lang) if f"alert_kind_{kind}" in TEXTS else kind
                for kind in shown["kind"].to_list()
            ],
            t("alert_message", lang): shown[message].to_list(),
        },
        schema={
            t("alert_severity", lang): pl.String(),
            t("alert_kind", lang): pl.String(),
            t("alert_message", lang): pl.String(),
        },
    )
    return table, found.height


def _alert_sentence(alerts: pl.DataFrame, total: int, lang: str) -> str:
    if total == 0:
        return t("report_no_alerts", lang)
    severity = t("alert_severity", lang)
    high = alerts.filter(pl.col(severity) == t("severity_high", lang)).height if alerts.height else 0
    return t("report_alerts", lang, total=total, high=high)


# ---- rendering ---------------------------------------------------------------------------------------

CSS = """
@page { size: A4; margin: 16mm 15mm 16mm 15mm;
  @bottom-center { content: counter(page) " / " counter(pages); font-size: 9pt; color: #6B7280; } }
html { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif;
  color: #1F2937; font-size: 10pt; line-height: 1.55; }
body { margin: 0; }
h1 { font-size: 18pt; margin: 0 0 1.5mm 0; color: #0B5CAD; letter-spacing: 0.02em; }
h2 { font-size: 13pt; margin: 0 0 3mm 0; padding-bottom: 1mm; border-bottom: 2px solid #0B5CAD; color: #0B5CAD; }
h3 { font-size: 11pt; margin: 3mm 0 1.5mm 0; }
.meta { color: #4B5563; font-size: 9pt; margin-bottom: 3mm; }
.page { break-before: page; }
.summary { background: #F1F6FC; border-left: 4px solid #0B5CAD; padding: 2mm 4mm; margin-bottom: 4mm; }
.summary p { margin: 0.6mm 0; text-align: justify; line-height: 1.5; }
table { width: 100%; border-collapse: collapse; font-size: 8.5pt; line-height: 1.35; }
th { background: #DCE8F5; text-align: left; font-weight: 600; padding: 1mm 1.4mm; }
td { border-bottom: 1px solid #E5E7EB; padding: 0.7mm 1.4mm; vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.domain td { background: #F8FAFC; font-weight: 600; color: #0B5CAD; }
.red { color: #D64545; font-weight: 600; } .amber { color: #B7791F; font-weight: 600; } .green { color: #1E9E6A; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 5mm 6mm; }
.chart h3 { margin-top: 0; } .chart svg { width: 100%; height: auto; display: block; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 6mm; }
.note { color: #6B7280; font-size: 8.5pt; margin-top: 2mm; }
"""


def _cell(value: object, numeric: bool = False) -> str:
    css = ' class="num"' if numeric else ""
    return f"<td{css}>{html.escape('' if value is None else str(value))}</td>"


def _frame_table(frame: pl.DataFrame, numeric_from: int = 99) -> str:
    head = "".join(
        f"<th{' class=num' if i >= numeric_from else ''}>{html.escape(c)}</th>" for i, c in enumerate(frame.columns)
    )
    body = "".join(
        "<tr>" + "".join(_cell(v, i >= numeric_from) for i, v in enumerate(row)) + "</tr>" for row in frame.iter_rows()
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def kpi_table(briefing: Briefing) -> str:
    """The KPI table: value, previous, 环比, last year, 同比, target, target index and status."""
    lang = briefing.lang
    headers = [
        t("report_metric", lang),
        t("report_current", lang),
        t("report_previous", lang),
        t("report_mom", lang),
        t("report_last_year", lang),
        t("report_yoy", lang),
        t("report_target", lang),
        t("report_index", lang),
    ]
    head = "".join(f"<th{' class=num' if i else ''}>{html.escape(h)}</th>" for i, h in enumerate(headers))
    rows: list[str] = []
    domain = None
    for row in briefing.kpis:
        kpi = row.kpi
        if row.domain != domain:
            domain = row.domain
            rows.append(f'<tr class="domain"><td colspan="8">{html.escape(t(f"domain_{domain}", lang))}</td></tr>')
        yoy, yoy_relative = change_between(kpi.value, row.last_year, kpi.unit)
        status = "" if kpi.status is None else kpi.status.value
        index = "—" if kpi.target_index is None else f"{format_index(kpi.target_index)} {t(f'status_{status}', lang)}"
        cells = [
            _cell(metric_label(kpi.metric, lang)),
            _cell(format_value(kpi.value, kpi.unit, lang), True),
            _cell(format_value(kpi.previous, kpi.unit, lang), True),
            _cell(format_change(kpi.change, kpi.unit, relative=kpi.relative, lang=lang) or "—", True),
            _cell(format_value(row.last_year, kpi.unit, lang), True),
            _cell(format_change(yoy, kpi.unit, relative=yoy_relative, lang=lang) or "—", True),
            _cell("—" if kpi.target is None else format_value(kpi.target, kpi.unit, lang), True),
            f'<td class="num {status}">{html.escape(index)}</td>',
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render_svgs(briefing: Briefing) -> list[bytes]:
    """The four charts as SVG, drawn in one browser session."""
    figures = [figure for _, figure in briefing.charts]
    return files.render_images(figures, "svg", sizes=[CHART_SIZE] * len(figures))


def _inline_svg(svg: bytes) -> str:
    text = svg.decode("utf-8")
    return re.sub(r"^<\?xml[^>]*>", "", text).strip()


def render_html(briefing: Briefing, svgs: Sequence[bytes] | None = None) -> str:
    """The whole report as one self-contained HTML page (charts inline as SVG, no URL anywhere)."""
    lang = briefing.lang
    svgs = list(svgs) if svgs is not None else render_svgs(briefing)
    current = briefing.resolved.current
    end = current.end - dt.timedelta(minutes=1)
    range_text = t("period_range", lang, start=format_datetime(current.start), end=format_datetime(end))
    running = f" · {t('report_running', lang)}" if briefing.running else ""
    meta = (
        f"{html.escape(t('report_scope', lang))}：{html.escape(briefing.scope_label)} · "
        f"{html.escape(range_text)}{html.escape(running)} · "
        f"{html.escape(t('data_as_of', lang, time=format_datetime(briefing.as_of)))} · "
        f"{html.escape(t('report_generated', lang, time=format_datetime(briefing.generated_at)))}"
    )
    summary = "".join(f"<p>{html.escape(sentence)}</p>" for sentence in briefing.summary)
    charts = "".join(
        f'<div class="chart"><h3>{html.escape(title)}</h3>{_inline_svg(svg)}</div>'
        for (title, _), svg in zip(briefing.charts, svgs, strict=True)
    )
    half = (briefing.streets.height + 1) // 2
    best = briefing.streets.head(half)
    worst = briefing.streets.tail(briefing.streets.height - half)
    hidden = briefing.alert_total - briefing.alerts.height
    more = f'<p class="note">{html.escape(t("report_more_alerts", lang, n=hidden))}</p>' if hidden > 0 else ""
    alerts = (
        _frame_table(briefing.alerts)
        if briefing.alerts.height
        else f"<p>{html.escape(t('report_no_alerts', lang))}</p>"
    )
    html_lang = "en" if lang == "en" else "zh-CN"
    return f"""<!doctype html>
<html lang="{html_lang}"><head><meta charset="utf-8"><title>{html.escape(briefing.title)}</title>
<style>{CSS}</style></head><body>
<section>
<h1>{html.escape(briefing.title)}</h1>
<div class="meta">{meta}</div>
<h2>{html.escape(t("report_summary", lang))}</h2>
<div class="summary">{summary}</div>
<h2>{html.escape(t("report_kpis", lang))}</h2>
{kpi_table(briefing)}
<p class="note">{html.escape(t("report_kpi_note", lang))}</p>
</section>
<section class="page"><h2>{html.escape(t("report_charts", lang))}</h2><div class="grid">{charts}</div></section>
<section class="page"><h2>{html.escape(t("report_rankings", lang))}</h2>
<h3>{html.escape(t("report_street_ranking", lang, n=RANKING_N))}</h3>
<div class="pair">{_frame_table(best, 2)}{_frame_table(worst, 2)}</div>
<h3>{html.escape(t("report_department_ranking", lang))}</h3>
{_frame_table(briefing.departments, 2)}
</section>
<section class="page"><h2>{html.escape(t("report_alerts_heading", lang))}</h2>{alerts}{more}</section>
</body></html>
"""


_RADICAL = re.compile(r"<(2[EF][0-9A-Fa-f]{2})>")


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
    page = render_html(briefing)
    return fix_text_layer(print_pdf(page), briefing.title, briefing.city)


def render_pptx(briefing: Briefing) -> bytes:
    """A deck: title, summary, KPI table, then one chart per slide (PNG)."""
    from pptx import Presentation
    from pptx.util import Emu, Pt

    lang = briefing.lang
    deck = Presentation()
    deck.slide_width, deck.slide_height = Emu(12192000), Emu(6858000)  # 16:9
    font_name = "Microsoft YaHei"

    def styled(frame: object, size: int) -> None:
        for paragraph in frame.paragraphs:  # type: ignore[attr-defined]
            for run in paragraph.runs:
                run.font.size = Pt(size)
                run.font.name = font_name
                ea = run._r.get_or_add_rPr().makeelement(
                    "{http://schemas.openxmlformats.org/drawingml/2006/main}ea", {"typeface": font_name}
                )
                run._r.get_or_add_rPr().append(ea)

    cover = deck.slides.add_slide(deck.slide_layouts[0])
    cover.shapes.title.text = briefing.title
    cover.placeholders[1].text = f"{t('report_scope', lang)}：{briefing.scope_label}\n" + t(
        "data_as_of", lang, time=format_datetime(briefing.as_of)
    )
    styled(cover.shapes.title.text_frame, 36)
    styled(cover.placeholders[1].text_frame, 18)

    summary = deck.slides.add_slide(deck.slide_layouts[1])
    summary.shapes.title.text = t("report_summary", lang)
    summary.placeholders[1].text = "\n".join(briefing.summary)
    styled(summary.shapes.title.text_frame, 28)
    styled(summary.placeholders[1].text_frame, 14)

    blank = deck.slide_layouts[6]
    slide = deck.slides.add_slide(blank)
    rows = len(briefing.kpis) + 1
    shape = slide.shapes.add_table(rows, 5, Emu(400000), Emu(300000), Emu(11392000), Emu(6200000))
    table = shape.table
    headers = [
        t(key, lang) for key in ("report_metric", "report_current", "report_mom", "report_target", "report_index")
    ]
    for column, header in enumerate(headers):
        table.cell(0, column).text = header
    for index, row in enumerate(briefing.kpis, start=1):
        kpi = row.kpi
        values = [
            metric_label(kpi.metric, lang),
            format_value(kpi.value, kpi.unit, lang),
            format_change(kpi.change, kpi.unit, relative=kpi.relative, lang=lang) or "—",
            "—" if kpi.target is None else format_value(kpi.target, kpi.unit, lang),
            "—" if kpi.target_index is None else format_index(kpi.target_index),
        ]
        for column, value in enumerate(values):
            table.cell(index, column).text = value
    for row_cells in table.rows:
        for cell in row_cells.cells:
            styled(cell.text_frame, 10)

    figures = [figure for _, figure in briefing.charts]
    titles = [title for title, _ in briefing.charts]
    pngs = files.figures_png(figures, titles, width=1100, height=560)
    for title, png in zip(titles, pngs, strict=True):
        slide = deck.slides.add_slide(blank)
        slide.shapes.add_picture(io.BytesIO(png), Emu(546000), Emu(500000), width=Emu(11100000))
        del title  # the title is drawn into the picture
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


PPTX_MIME = files.MIME_TYPES["pptx"]


def file_stem(briefing: Briefing) -> str:
    kind = t("report_monthly" if briefing.period.kind == "month" else "report_weekly", briefing.lang)
    return files.file_stem(briefing.city, kind, briefing.period.text)


def recent_periods(kind: str, as_of: dt.datetime, count: int = 12) -> list[str]:
    """The last ``count`` months (``YYYY-MM``) or ISO weeks (``YYYY-Www``) up to the running one, newest first.

    The running period comes second: a briefing is usually made for the period that just ended.
    """
    periods: list[str] = []
    if kind == "month":
        year, month = as_of.year, as_of.month
        for _ in range(count):
            periods.append(f"{year:04d}-{month:02d}")
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    else:
        day = as_of.date()
        for _ in range(count):
            iso = day.isocalendar()
            periods.append(f"{iso.year:04d}-W{iso.week:02d}")
            day -= dt.timedelta(days=7)
    return periods[1:2] + periods[:1] + periods[2:]


# ---- command line --------------------------------------------------------------------------------------


def parse_scope(items: Sequence[str]) -> Scope:
    """``department=A,B`` / ``region=330106`` (repeatable) → the recipient's scope; nothing → the whole city."""
    from data_access.alerts.cli import parse_scope as parse

    try:
        return parse(items)
    except ValueError as exc:
        raise ReportProblem(str(exc)) from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard.report",
        description="Write the briefing (周报/月报) of one period for one recipient's scope (docs/exports.md).",
    )
    parser.add_argument("--period", required=True, help="a month YYYY-MM (2026-10) or an ISO week YYYY-Www (2026-W44)")
    parser.add_argument("--url", help="SQLAlchemy database URL (default: as every entry point resolves it)")
    parser.add_argument(
        "--scope",
        action="append",
        default=[],
        help="the recipient's scope: department=CODE[,CODE…] or region=CODE[,CODE…]; repeatable; none = whole city",
    )
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    parser.add_argument("--out", required=True, help="output file: .pdf, .pptx or .html")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = Path(args.out)
    kind = out.suffix.lower().lstrip(".")
    if kind not in ("pdf", "pptx", "html"):
        print(f"error: --out {args.out!r}: the file must end in .pdf, .pptx or .html", file=sys.stderr)
        return 2
    try:
        scope = parse_scope(args.scope)
        city = load_city()
        engine = get_engine(resolve_target(args.url).url)
        check_database(engine)
        briefing = build_briefing(engine, city, args.period, scope=scope, lang=args.lang)
        if kind == "pdf":
            data = render_pdf(briefing)
        elif kind == "pptx":
            data = render_pptx(briefing)
        else:
            data = render_html(briefing).encode("utf-8")
    except (ReportProblem, DatabaseProblem, SettingsProblem, files.ExportProblem) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    temporary = out.with_name(out.name + ".part")
    temporary.write_bytes(data)
    temporary.replace(out)  # a reader never sees half a report
    print(f"{out}: {briefing.title} ({briefing.scope_label}), {len(data):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
