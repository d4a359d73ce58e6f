"""Which target applies to a metric, for a region, a department and a day.

Precedence, most specific first: a row of the ``targets`` table matching the region and/or
department and covering the day (a row naming both beats a row naming one, which beats a
city-wide row; a row with a period beats an open-ended one); then the city file's ``[targets]``;
then the metric's default target in the registry. No target at all gives ``None``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from data_access.contract import schema
from data_access.runtime.engine import existing_columns
from data_access.semantic.metric_registry import METRICS


def target_rows(engine: sa.Engine) -> list[dict[str, Any]]:
    """All rows of the targets table (a small dimension); none when the table is absent."""
    if schema.targets.name not in existing_columns(engine):
        return []
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(sa.select(schema.targets))]


def _specificity(row: Mapping[str, Any]) -> tuple[int, int]:
    named = int(row["region_code"] is not None) + int(row["department_code"] is not None)
    dated = int(row["period_start"] is not None or row["period_end"] is not None)
    return named, dated


def _applies(row: Mapping[str, Any], region: str | None, department: str | None, day: dt.date) -> bool:
    if row["region_code"] is not None and row["region_code"] != region:
        return False
    if row["department_code"] is not None and row["department_code"] != department:
        return False
    if row["period_start"] is not None and day < row["period_start"]:
        return False
    return not (row["period_end"] is not None and day > row["period_end"])


def resolve_targets(
    metrics: Iterable[str],
    rows: list[dict[str, Any]],
    city_targets: Mapping[str, float],
    *,
    region: str | None = None,
    department: str | None = None,
    day: dt.date,
) -> dict[str, float | None]:
    """The target of each metric under the precedence above (pure: rows come from target_rows)."""
    resolved: dict[str, float | None] = {}
    for metric in metrics:
        candidates = [row for row in rows if row["metric"] == metric and _applies(row, region, department, day)]
        if candidates:
            resolved[metric] = float(max(candidates, key=_specificity)["value"])
        elif metric in city_targets:
            resolved[metric] = city_targets[metric]
        else:
            resolved[metric] = METRICS[metric].default_target
    return resolved
