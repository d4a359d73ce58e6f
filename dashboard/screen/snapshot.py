"""Everything one frame of the big screen shows, gathered in one go. Pure: no Streamlit here.

``gather`` runs every request of the screen (``queries.cockpit_requests``, in the same order)
through a ``run`` callable and returns a ``Snapshot``: plain data the page renders. Gathering
before drawing is what lets a failed refresh keep the last good snapshot on screen whole,
instead of half a screen of new numbers and half an error. The map panel draws from its own
read of the map's two answers (``map_frames``: it reruns alone on a drill), which ``gather``'s
run has just put in the shared cache.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from dashboard.charts.figures import complete_buckets, top_bottom
from dashboard.core.formatting import format_value
from dashboard.core.kpi import Kpi, build_kpis, status_for, target_index
from dashboard.core.metric_requests import (
    COCKPIT_ROWS,
    DOMAINS,
    MAP_POINT_METRIC,
    OVERDUE_METRIC,
    RANKING_DEPARTMENT_RATE,
    RANKING_DEPARTMENT_VOLUME,
    RANKING_SCORE,
    RANKING_SCORE_VOLUME,
    TICKER_DIMENSIONS,
    VOLUME_METRIC,
    kpi_requests,
    map_requests,
    overdue_requests,
    ranking_requests,
    trend_requests,
)
from dashboard.core.periods import Period, TrendWindow, resolve_period, trend_window
from dashboard.screen.bigscreen import RankRow
from dashboard.screen.ticker import overdue_alerts
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.query import MetricRequest

RANK_N = 5
# Streets (departments) with fewer tickets (completed cases) in the period are not ranked:
# a rate over three tickets is noise. Falls back to all when none qualifies.
MIN_VOLUME: dict[str, int] = {"today": 3, "week": 5, "month": 10}

Runner = Callable[[MetricRequest], pl.DataFrame]


@dataclass(frozen=True)
class View:
    """What the viewer chose: period preset, map level and the district drilled into (if any)."""

    period: str
    map_level: str = "district"
    map_district: str | None = None

    @property
    def shown_level(self) -> str:
        return "street" if self.map_district else self.map_level


@dataclass(frozen=True)
class Snapshot:
    view: View
    as_of: dt.datetime
    period: Period
    window: TrendWindow
    kpis: dict[str, list[Kpi]]
    trends: dict[str, tuple[pl.DataFrame, pl.DataFrame]]  # domain -> (current, comparison), complete buckets
    streets: list[tuple[str, list[RankRow]]]  # (group, rows): top five, bottom five
    departments: list[tuple[str, list[RankRow]]]
    alerts: pl.DataFrame
    street_min_volume: int


def ranked_count(frame: pl.DataFrame, metric: str, volume: str, min_volume: int) -> int:
    """How many rows ``figures.top_bottom`` ranks (valued, and with enough volume unless none has)."""
    valued = frame.filter(pl.col(metric).is_not_null())
    enough = valued.filter(pl.col(volume) >= min_volume).height
    return enough or valued.height


def _rank_rows(
    frame: pl.DataFrame,
    dimension: str,
    metric: str,
    names: Mapping[str, str],
    target: float | None,
    lang: str,
    total: int,
) -> list[tuple[str, list[RankRow]]]:
    """(top, bottom) lists from ``figures.top_bottom``'s frame, worst first in the bottom list.

    Ranks are positions among all ``total`` ranked rows; status is judged against the target.
    """
    definition = METRICS[metric]
    groups: list[tuple[str, list[RankRow]]] = []
    for group in ("top", "bottom"):
        rows = frame.filter(pl.col("group") == group)
        first_rank = 1 if group == "top" else total - rows.height + 1
        numbered = [
            (first_rank + i, code, value) for i, (code, value) in enumerate(rows.select(dimension, metric).iter_rows())
        ]
        if group == "bottom":
            numbered.reverse()
        ranked: list[RankRow] = []
        for rank, code, value in numbered:
            ranked.append(
                RankRow(
                    rank=rank,
                    name=names.get(str(code), str(code)),
                    value=format_value(value, definition.unit, lang),
                    status=status_for(target_index(value, target, definition.direction)),
                )
            )
        groups.append((group, ranked))
    return groups


def _kpis(run: Runner, period: Period, targets: Callable[[Sequence[str]], dict[str, float]]) -> dict[str, list[Kpi]]:
    kpis: dict[str, list[Kpi]] = {}
    for domain in DOMAINS:
        metrics = COCKPIT_ROWS[domain]
        current, previous = kpi_requests(metrics, period)
        kpis[domain] = build_kpis(metrics, run(current), run(previous), targets(metrics))
    return kpis


def _trends(run: Runner, window: TrendWindow) -> dict[str, tuple[pl.DataFrame, pl.DataFrame]]:
    trends: dict[str, tuple[pl.DataFrame, pl.DataFrame]] = {}
    for domain in DOMAINS:
        volume = VOLUME_METRIC[domain]
        now, before = trend_requests((volume,), window)
        trends[domain] = (
            complete_buckets(run(now), "day", window.current, volume),
            complete_buckets(run(before), "day", window.previous, volume),
        )
    return trends


def _rankings(
    run: Runner,
    period: Period,
    min_volume: int,
    targets: Callable[[Sequence[str]], dict[str, float]],
    names: Callable[[str], Mapping[str, str]],
    lang: str,
) -> tuple[list[tuple[str, list[RankRow]]], list[tuple[str, list[RankRow]]]]:
    """The street 三率 ranking and the department on-time ranking: best and worst, with target marks."""
    streets_request, departments_request = ranking_requests(period)
    street_frame = run(streets_request)
    streets = top_bottom(street_frame, RANKING_SCORE, RANK_N, volume=RANKING_SCORE_VOLUME, min_volume=min_volume)
    department_frame = run(departments_request).drop_nulls(RANKING_DEPARTMENT_RATE)
    departments = top_bottom(
        department_frame, RANKING_DEPARTMENT_RATE, RANK_N, volume=RANKING_DEPARTMENT_VOLUME, min_volume=min_volume
    )
    rank_targets = targets((RANKING_SCORE, RANKING_DEPARTMENT_RATE))
    street_rows = _rank_rows(
        streets,
        "street",
        RANKING_SCORE,
        names("street"),
        rank_targets.get(RANKING_SCORE),
        lang,
        ranked_count(street_frame, RANKING_SCORE, RANKING_SCORE_VOLUME, min_volume),
    )
    department_rows = _rank_rows(
        departments,
        "department",
        RANKING_DEPARTMENT_RATE,
        names("department"),
        rank_targets.get(RANKING_DEPARTMENT_RATE),
        lang,
        ranked_count(department_frame, RANKING_DEPARTMENT_RATE, RANKING_DEPARTMENT_VOLUME, min_volume),
    )
    return street_rows, department_rows


def _overdue(
    run: Runner, period: Period, names: Callable[[str], Mapping[str, str]], as_of: dt.datetime
) -> pl.DataFrame:
    """The metric layer's open overdue items by district and department: the ticker's fallback lines."""
    overdue: dict[tuple[str, str], pl.DataFrame] = {}
    requests = iter(overdue_requests(period.current.end))
    for domain in OVERDUE_METRIC:
        for dimension in TICKER_DIMENSIONS:
            overdue[(domain, dimension)] = run(next(requests))
    return overdue_alerts(overdue, {d: names(d) for d in TICKER_DIMENSIONS}, as_of)


MapFrames = tuple[pl.DataFrame, pl.DataFrame]  # (level code, complaint_received), (grid, grid_collected)


def map_frames(run: Runner, view: View, as_of: dt.datetime) -> MapFrames:
    """The map's two answers for ``view``: complaints per shown region and grid events per grid. The map
    panel reads them again on its own when a drill reruns it alone (from the shared cache after ``gather``)."""
    areas_request, points_request = map_requests(
        view.shown_level, resolve_period(view.period, as_of), view.map_district
    )
    return run(areas_request), run(points_request)


def gather(
    run: Runner,
    view: View,
    as_of: dt.datetime,
    *,
    targets: Callable[[Sequence[str]], dict[str, float]],
    names: Callable[[str], Mapping[str, str]],
    lang: str,
    alerts: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
) -> Snapshot:
    """Run the screen's requests (the order of ``queries.cockpit_requests``) and assemble a snapshot."""
    period = resolve_period(view.period, as_of)
    window = trend_window("day", as_of)
    kpis = _kpis(run, period, targets)
    # Read with the rest, though the map panel draws from its own read of them: a failure here is the
    # screen's (its last good snapshot and stale notice), and the panel then finds them in the cache.
    map_frames(run, view, as_of)
    trends = _trends(run, window)
    min_volume = MIN_VOLUME.get(view.period, 10)
    streets, departments = _rankings(run, period, min_volume, targets, names, lang)
    fallback = _overdue(run, period, names, as_of)
    # The ticker's source (the early-warning module) gets the metric layer's overdue list to fall back on.
    alert_frame = fallback if alerts is None else alerts(fallback)
    return Snapshot(
        view=view,
        as_of=as_of,
        period=period,
        window=window,
        kpis=kpis,
        trends=trends,
        streets=streets,
        departments=departments,
        alerts=alert_frame,
        street_min_volume=min_volume,
    )


def point_frame(
    points: pl.DataFrame, centres: Mapping[str, tuple[float, float]], metric: str = MAP_POINT_METRIC
) -> pl.DataFrame:
    """Grid counts -> (lon, lat, ``metric``) on each grid's centroid; grids without one are dropped."""
    rows: list[tuple[float, float, Any]] = []
    for code, count in points.select("grid", metric).iter_rows():
        centre = centres.get(str(code))
        if centre is not None and count:
            rows.append((centre[0], centre[1], count))
    return pl.DataFrame(rows, schema={"lon": pl.Float64(), "lat": pl.Float64(), metric: pl.Int64()}, orient="row")
