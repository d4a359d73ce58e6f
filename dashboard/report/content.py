"""What the briefing says: one plain :class:`Briefing` of sections (KPI rows, summary sentences, charts,
rankings, alerts) computed from scoped requests. Nothing is drawn here; the HTML, PDF and PPTX renderers
read the same object, so the three say the same things.

Every number comes through one :class:`~dashboard.report.reads.BriefingReads` carrying the RECIPIENT's
scope (the CLI's ``--scope`` or the page viewer's own), never the scope of whoever runs the scheduler.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import plotly.graph_objects as go
import polars as pl

from dashboard.core.i18n import t
from dashboard.core.kpi import build_kpis
from dashboard.core.metric_requests import DOMAINS, TOPIC_KPIS, kpi_requests, totals_request
from dashboard.core.periods import Period
from dashboard.exports import files
from dashboard.report.charts import briefing_charts
from dashboard.report.periods import ReportPeriod, parse_period, period_label, resolve
from dashboard.report.problems import ReportProblem
from dashboard.report.reads import BriefingReads, SessionReads
from dashboard.report.summary import KpiRow, alert_sentence, summary_sentences
from dashboard.report.tables import alert_table, department_ranking, street_ranking
from data_access.config.city import CityConfig
from data_access.runtime.session import DataSession
from data_access.semantic.targets import resolve_targets

NAMED_DIMENSIONS = ("district", "street", "department", "category_l1")


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
    alerts_pending: bool = False  # the alerts were not computed yet for this data (the page asked the job)

    @property
    def title(self) -> str:
        """``杭州市 · 月报 · 2026年2月``: the page title, the PDF's metadata title and the cover slide."""
        kind = t("report_monthly" if self.period.kind == "month" else "report_weekly", self.lang)
        return f"{self.city} · {kind} · {period_label(self.period, self.lang)}"


def file_stem(briefing: Briefing) -> str:
    """The download's file name without extension: city, kind and period."""
    kind = t("report_monthly" if briefing.period.kind == "month" else "report_weekly", briefing.lang)
    return files.file_stem(briefing.city, kind, briefing.period.text)


def scope_label(reads: BriefingReads, lang: str) -> str:
    """``全市`` / ``Whole city``, else the departments and regions of the scope by name."""
    scope = reads.scope
    if scope.unrestricted:
        return t("report_scope_all", lang)
    parts: list[str] = []
    if scope.departments is not None:
        names = reads.code_names("department")
        shown = "、".join(names.get(code, code) for code in sorted(scope.departments)) or "—"
        parts.append(f"{t('dim_department', lang)}：{shown}")
    if scope.regions is not None:
        regions = reads.region_names()
        shown = "、".join(regions.get(code, code) for code in sorted(scope.regions)) or "—"
        parts.append(f"{t('report_region', lang)}：{shown}")
    return "；".join(parts)


def kpi_rows(reads: BriefingReads, city: CityConfig, resolved: Period) -> list[KpiRow]:
    """Each domain's KPIs with 上期, 去年同期 and the target in force on the period's last day.

    A scope of exactly one region takes that region's targets from the targets table.
    """
    scope = reads.scope
    region = next(iter(scope.regions)) if scope.regions is not None and len(scope.regions) == 1 else None
    rows = reads.target_rows()
    last_day = (resolved.current.end - dt.timedelta(seconds=1)).date()
    kpis: list[KpiRow] = []
    for domain in DOMAINS:
        metrics = TOPIC_KPIS[domain]
        current, previous = kpi_requests(metrics, resolved)
        last_year = reads.run(totals_request(metrics, resolved.last_year))
        resolved_targets = resolve_targets(metrics, rows, city.targets, region=region, day=last_day)
        targets = {name: value for name, value in resolved_targets.items() if value is not None}
        for kpi in build_kpis(metrics, reads.run(current), reads.run(previous), targets):
            value = last_year[kpi.metric][0] if last_year.height else None
            kpis.append(KpiRow(domain, kpi, None if value is None else float(value)))
    return kpis


def build_briefing_from(
    reads: BriefingReads,
    city: CityConfig,
    period_text: str,
    *,
    lang: str = "zh",
    as_of: dt.datetime | None = None,
    with_alerts: bool = True,
) -> Briefing:
    """Compute the whole briefing from ``reads`` (scoped to the recipient); nothing is drawn yet."""
    period = parse_period(period_text)
    as_of = as_of or reads.data_as_of()
    if as_of is None:
        raise ReportProblem("the database holds no records yet: nothing to report")
    resolved, running = resolve(period, as_of)
    kpis = kpi_rows(reads, city, resolved)
    names = {dim: reads.code_names(dim) for dim in NAMED_DIMENSIONS}
    summary = summary_sentences(kpis, reads.run, resolved, names, lang, period.kind)
    alerts, total, pending = pl.DataFrame(), 0, False
    if with_alerts:
        # The alerts standing at the end of the period (the as-of time for a running one), within the scope.
        found = reads.alerts(resolved.current.end - dt.timedelta(minutes=1))
        # Not ready: no alerts listed, not even an older set the store still holds (pages show that one,
        # marked as being updated; a briefing is a document of its period and says "being computed").
        shown = found.frame if found.ready else found.frame.clear()
        alerts, total, pending = alert_table(shown, lang), shown.height, not found.ready
        summary.append(t("report_alerts_pending", lang) if pending else alert_sentence(alerts, total, lang))
    return Briefing(
        lang=lang,
        city=city.name_en if lang == "en" else city.name,
        period=period,
        resolved=resolved,
        running=running,
        scope_label=scope_label(reads, lang),
        as_of=as_of,
        generated_at=dt.datetime.now().replace(microsecond=0),
        kpis=kpis,
        summary=summary,
        charts=briefing_charts(reads.run, resolved, names, lang, city.targets),
        streets=street_ranking(reads.run, resolved, names, lang, period.kind),
        departments=department_ranking(reads.run, resolved, names, lang),
        alerts=alerts,
        alert_total=total,
        alerts_pending=pending,
    )


def build_briefing(
    session: DataSession,
    period_text: str,
    *,
    lang: str = "zh",
    as_of: dt.datetime | None = None,
    with_alerts: bool = True,
    live_alerts: bool = False,
) -> Briefing:
    """The briefing of the session's scope (the recipient's): the one place choosing the reads.

    ``live_alerts``: compute alerts the store does not hold yet (the command line) instead of saying
    they are being computed (the page, whose background job computes them).
    """
    reads = SessionReads(session, live_alerts=live_alerts)
    return build_briefing_from(reads, session.city, period_text, lang=lang, as_of=as_of, with_alerts=with_alerts)
