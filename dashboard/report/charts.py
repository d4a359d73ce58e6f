"""The briefing's four key charts as plotly figures: daily volumes, complaints by category (now vs before),
the 三率 score by district and the on-time rate by department. Drawn to SVG for the PDF and to PNG for the
PPTX by the renderers; here only the numbers become figures.
"""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go

from dashboard.charts import theme
from dashboard.charts.figures import bar_figure, target_colours
from dashboard.core.i18n import metric_label, t
from dashboard.core.metric_requests import (
    DOMAINS,
    RANKING_DEPARTMENT_RATE,
    RANKING_SCORE,
    VOLUME_METRIC,
    breakdown_request,
)
from dashboard.core.periods import Period
from dashboard.report.reads import Runner
from data_access.semantic.metric_registry import METRICS

CHART_SIZE = (340, 290)  # CSS px: four to a page, two by two
Names = dict[str, dict[str, str]]


def daily_chart(run: Runner, period: Period, lang: str) -> go.Figure:
    """One line per domain: the volume of each day of the period."""
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
    return daily


def category_chart(run: Runner, period: Period, names: Names, lang: str) -> go.Figure:
    """The eight largest complaint categories of the period, beside the same categories the period before."""
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
    return categories


def target_bar_chart(
    run: Runner,
    period: Period,
    names: Names,
    lang: str,
    targets: Mapping[str, float],
    *,
    metric: str,
    dimension: str,
    limit: int | None = None,
) -> go.Figure:
    """``metric`` by ``dimension`` as bars coloured against the city's target (the registry's default if none)."""
    frame = run(breakdown_request((metric,), dimension, period.current, limit=limit))
    definition = METRICS[metric]
    target = targets.get(metric, definition.default_target)
    figure = bar_figure(
        frame,
        dimension=dimension,
        value=metric,
        unit=definition.unit,
        names=names[dimension],
        lang=lang,
        target=target,
        colours=target_colours(frame[metric].to_list(), target, definition.direction),
    )
    figure.update_layout(height=CHART_SIZE[1])
    return figure


def briefing_charts(
    run: Runner, period: Period, names: Names, lang: str, targets: Mapping[str, float]
) -> list[tuple[str, go.Figure]]:
    """The four charts with their titles, in the order of the report's second page."""
    charts = [
        (t("report_chart_daily", lang), daily_chart(run, period, lang)),
        (t("report_chart_categories", lang), category_chart(run, period, names, lang)),
        (
            t("report_chart_districts", lang),
            target_bar_chart(run, period, names, lang, targets, metric=RANKING_SCORE, dimension="district"),
        ),
        (
            t("report_chart_departments", lang),
            target_bar_chart(
                run, period, names, lang, targets, metric=RANKING_DEPARTMENT_RATE, dimension="department", limit=12
            ),
        ),
    ]
    for _, figure in charts:
        figure.update_layout(font={"size": 11}, margin={"l": 4, "r": 10, "t": 30, "b": 4})
    return charts
