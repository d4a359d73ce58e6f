"""The briefing's tables of names and formatted values: the street ranking (三率 score, best and worst ten),
the department ranking (on-time completion) and the current alerts. Columns are already translated and
values already formatted, so every renderer shows the same text.
"""

from __future__ import annotations

import polars as pl

from dashboard.charts.figures import top_bottom
from dashboard.core.formatting import format_value
from dashboard.core.i18n import TEXTS, metric_label, t
from dashboard.core.metric_requests import (
    RANKING_DEPARTMENT_RATE,
    RANKING_DEPARTMENT_VOLUME,
    RANKING_SCORE,
    RANKING_SCORE_VOLUME,
    breakdown_request,
)
from dashboard.core.periods import Period
from dashboard.report.reads import Runner
from data_access.semantic.metric_defs import Unit
from data_access.semantic.metric_registry import METRICS

RANKING_N = 10
MAX_ALERTS = 18
MAX_DEPARTMENTS = 20
MIN_STREET_VOLUME = {"month": 10, "week": 5}  # follow-ups a street needs to be ranked at all


def street_ranking(run: Runner, period: Period, names: dict[str, dict[str, str]], lang: str, kind: str) -> pl.DataFrame:
    """Streets by the 三率 composite: the best and the worst ten among those with enough follow-ups."""
    streets = run(breakdown_request((RANKING_SCORE, RANKING_SCORE_VOLUME), "street", period.current))
    ranked = top_bottom(
        streets, RANKING_SCORE, RANKING_N, volume=RANKING_SCORE_VOLUME, min_volume=MIN_STREET_VOLUME[kind]
    )
    return pl.DataFrame(
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


def department_ranking(run: Runner, period: Period, names: dict[str, dict[str, str]], lang: str) -> pl.DataFrame:
    """Departments by on-time completion (those with a rate), the first twenty, numbered."""
    departments = run(
        breakdown_request((RANKING_DEPARTMENT_RATE, RANKING_DEPARTMENT_VOLUME), "department", period.current)
    ).filter(pl.col(RANKING_DEPARTMENT_RATE).is_not_null())
    departments = departments.head(MAX_DEPARTMENTS)
    return pl.DataFrame(
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


def alert_table(found: pl.DataFrame, lang: str) -> pl.DataFrame:
    """The first alerts of ``compute_alerts``' frame (most severe first) as severity, kind and message."""
    message = "message_en" if lang == "en" else "message"
    shown = found.head(MAX_ALERTS)
    return pl.DataFrame(
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
