"""The briefing's generated summary: sentences computed from the numbers (volumes and where they moved,
missed targets, the largest rate move, the alert count). Every sentence is built here, in Python, so the
HTML, the PDF and the PPTX say exactly the same words.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from dashboard.core.formatting import format_change, format_value
from dashboard.core.i18n import metric_label, t
from dashboard.core.kpi import Kpi
from dashboard.core.metric_requests import DOMAINS, VOLUME_METRIC, breakdown_request
from dashboard.core.periods import Period
from dashboard.report.reads import Runner
from data_access.semantic.metric_defs import Unit

# What "mainly from" looks at, per domain: where a volume change came from.
DRIVERS: dict[str, tuple[str, ...]] = {
    "services": ("department", "district"),
    "complaints": ("street", "category_l1"),
    "grid": ("street", "category_l1"),
}
FLAT = 0.005  # a relative change below half a percent reads as "flat" and has no drivers


@dataclass(frozen=True)
class KpiRow:
    """One line of the KPI table: the domain it belongs to, the KPI (本期, 上期, target) and 去年同期."""

    domain: str
    kpi: Kpi
    last_year: float | None


def direction(change: float | None, lang: str) -> str:
    """``环比上升 12.0%`` / ``持平`` / ``无可比数据`` words for a relative change."""
    if change is None:
        return t("report_no_comparison", lang)
    if abs(change) < FLAT:
        return t("report_flat", lang)
    word = t("report_up" if change > 0 else "report_down", lang)
    return f"{word} {abs(change) * 100:.1f}%"


def drivers(
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


def volume_sentence(
    kpi: Kpi, domain: str, run: Runner, period: Period, names: dict[str, dict[str, str]], lang: str, kind: str
) -> str:
    """``本月受理量 3 件，环比上升 200.0%（上期 1 件），主要来自 …。``"""
    sentence = t(
        "report_volume",
        lang,
        period=t("report_this_month" if kind == "month" else "report_this_week", lang),
        metric=metric_label(kpi.metric, lang),
        value=format_value(kpi.value, kpi.unit, lang),
        change=direction(kpi.change if kpi.relative else None, lang),
        previous=format_value(kpi.previous, kpi.unit, lang),
    )
    if kpi.change is not None and abs(kpi.change) >= FLAT:
        parts = []
        for dimension in DRIVERS[domain]:
            found = drivers(run, kpi.metric, dimension, period, names, rising=kpi.change > 0)
            if found:
                listed = "、".join(f"{name}（{delta:+,.0f}）" for name, delta in found)
                parts.append(f"{t(f'dim_{dimension}', lang)} {listed}")
        if parts:
            sentence += t("report_mainly", lang, drivers="；".join(parts))
    return sentence + ("." if lang == "en" else "。")


def target_sentences(kpis: list[KpiRow], lang: str) -> list[str]:
    """The missed targets by name (or that all were met), then the largest move of a rate or score."""
    sentences: list[str] = []
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


def summary_sentences(
    kpis: list[KpiRow], run: Runner, period: Period, names: dict[str, dict[str, str]], lang: str, kind: str
) -> list[str]:
    """Sentences computed from the numbers: volumes and where they moved, missed targets, the largest rate move."""
    by_metric = {row.kpi.metric: row.kpi for row in kpis}
    sentences: list[str] = []
    for domain in DOMAINS:
        kpi = by_metric[VOLUME_METRIC[domain]]
        if kpi.value is not None:
            sentences.append(volume_sentence(kpi, domain, run, period, names, lang, kind))
    return sentences + target_sentences(kpis, lang)


def alert_sentence(alerts: pl.DataFrame, total: int, lang: str) -> str:
    """``当前预警 5 条，其中高 2 条`` from the alert table (severities already translated) and the full count."""
    if total == 0:
        return t("report_no_alerts", lang)
    severity = t("alert_severity", lang)
    high = alerts.filter(pl.col(severity) == t("severity_high", lang)).height if alerts.height else 0
    return t("report_alerts", lang, total=total, high=high)
