"""KPI cards as data: current value, change against the comparison period, target and target index.

The target index follows Boston's CityScore:

* higher-is-better metrics: ``index = actual ÷ target``;
* lower-is-better metrics:  ``index = target ÷ actual`` (an actual of 0 is the best possible);
* the index is capped at ``INDEX_CAP = 1.25`` so one runaway metric cannot hide the others;
* status: **red** below ``0.90``, **amber** from ``0.90`` up to (not including) ``1.00``,
  **green** from ``1.00`` (on or better than target) — judged on the exact index; cards show it
  truncated to two decimals so the number never contradicts the colour.

The target of a metric is resolved by ``data_access.semantic.targets`` (a ``targets`` table row, else the
city configuration's ``[targets]``, else the registry's ``default_target``); metrics with none
(e.g. volumes) have no index.
Changes are relative (``+12.3%``) for counts and hours, absolute (percentage points / points) for
rates and scores; a change is *improved* when it moves in the metric's good direction.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

import polars as pl

from data_access.semantic.metric_defs import Direction, Unit
from data_access.semantic.metric_registry import METRICS

INDEX_CAP = 1.25
RED_BELOW = 0.90
GREEN_FROM = 1.00


class Status(StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"


@dataclass(frozen=True)
class Kpi:
    metric: str
    unit: Unit
    direction: Direction
    value: float | None
    previous: float | None
    change: float | None  # fraction of previous when ``relative``, else a difference in the metric's unit
    relative: bool
    improved: bool | None  # None: no change, or nothing to compare with
    target: float | None
    target_index: float | None
    status: Status | None


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return None if math.isnan(number) else number
    return None


def scalar(frame: pl.DataFrame, column: str) -> float | None:
    """The single value of an ungrouped result (``None`` when the frame is empty or the value is null)."""
    if frame.height == 0 or column not in frame.columns:
        return None
    return _number(frame[column][0])


def target_for(metric: str, targets: Mapping[str, float]) -> float | None:
    """The city's target for a metric, else the registry default, else ``None``."""
    if metric in targets:
        return targets[metric]
    return METRICS[metric].default_target


def target_index(value: float | None, target: float | None, direction: Direction) -> float | None:
    """CityScore index (see module docstring), capped at ``INDEX_CAP``; ``None`` without value or target."""
    if value is None or target is None or target <= 0 or value < 0 or direction is Direction.NEUTRAL:
        return None
    if direction is Direction.HIGHER_IS_BETTER:
        return min(value / target, INDEX_CAP)
    return INDEX_CAP if value == 0 else min(target / value, INDEX_CAP)


def status_for(index: float | None) -> Status | None:
    """red < 0.90 <= amber < 1.00 <= green, judged on the exact index.

    A miss is a miss however small: 89.8 points against a target of 90 is amber, never "met".
    Cards show the index truncated (``formatting.format_index``), so a miss never reads 1.00.
    """
    if index is None:
        return None
    if index < RED_BELOW:
        return Status.RED
    if index < GREEN_FROM:
        return Status.AMBER
    return Status.GREEN


def change_between(value: float | None, previous: float | None, unit: Unit) -> tuple[float | None, bool]:
    """(change, relative): relative for counts and hours when the previous value is not 0."""
    if value is None or previous is None:
        return None, unit in (Unit.COUNT, Unit.HOURS)
    if unit in (Unit.COUNT, Unit.HOURS):
        if previous == 0:
            return value - previous, False
        return (value - previous) / previous, True
    return value - previous, False


def improved(change: float | None, direction: Direction) -> bool | None:
    if change is None or change == 0 or direction is Direction.NEUTRAL:
        return None
    return change > 0 if direction is Direction.HIGHER_IS_BETTER else change < 0


def build_kpi(metric: str, value: float | None, previous: float | None, targets: Mapping[str, float]) -> Kpi:
    definition = METRICS[metric]
    change, relative = change_between(value, previous, definition.unit)
    target = target_for(metric, targets)
    index = target_index(value, target, definition.direction)
    return Kpi(
        metric=metric,
        unit=definition.unit,
        direction=definition.direction,
        value=value,
        previous=previous,
        change=change,
        relative=relative,
        improved=improved(change, definition.direction),
        target=target,
        target_index=index,
        status=status_for(index),
    )


def build_kpis(
    metrics: Iterable[str], current: pl.DataFrame, previous: pl.DataFrame, targets: Mapping[str, float]
) -> list[Kpi]:
    """One KPI per metric from two ungrouped results (current and comparison period)."""
    return [build_kpi(name, scalar(current, name), scalar(previous, name), targets) for name in metrics]
