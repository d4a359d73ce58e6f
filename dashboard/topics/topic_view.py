"""What a topic page shows (its view: period, district, filters) and its KPI row."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.core.kpi import Kpi, build_kpis
from dashboard.core.metric_requests import kpi_requests
from dashboard.core.periods import Period
from dashboard.session.context import Context
from dashboard.session.furniture import render_kpis
from data_access.semantic.query import Filter


@dataclass(frozen=True)
class TopicView:
    """What a topic page shows: the period, the district chosen, and every filter its requests carry."""

    period: Period
    district: str | None
    filters: tuple[Filter, ...]


def kpi_section(ctx: Context, metrics: tuple[str, ...], view: TopicView, *, comparison: str | None = None) -> list[Kpi]:
    """The KPI row of a topic page for its view, with comparison (``view.period.previous``) and target index."""
    current, previous = kpi_requests(metrics, view.period, view.filters)
    kpis = build_kpis(metrics, ctx.run(current), ctx.run(previous), ctx.targets(metrics, view.district))
    render_kpis(kpis, ctx.lang, comparison=comparison)
    return kpis
