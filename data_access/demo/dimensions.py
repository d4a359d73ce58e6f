"""Rows of the demo's dimension tables: regions, departments and target overrides."""

from __future__ import annotations

import datetime as dt
from typing import Any

from data_access.contract import schema
from data_access.demo.places import Geography, Level
from data_access.demo.reference import DEPARTMENTS
from data_access.demo.world import World


def region_rows(geo: Geography) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    above: Level | None = None
    for level_name in schema.REGION_LEVELS:
        level: Level = getattr(geo, level_name)
        for i, code in enumerate(level.codes):
            rows.append(
                {
                    "code": code,
                    "name": level.names[i],
                    "level": level_name,
                    "parent_code": above.codes[int(level.parent[i])] if above is not None else None,
                    "population": int(level.population[i]),
                    "center_lon": round(float(level.center[i, 0]), 6),
                    "center_lat": round(float(level.center[i, 1]), 6),
                }
            )
        above = level
    return rows


def department_rows() -> list[dict[str, Any]]:
    return [{"code": c, "name": n, "name_en": e} for c, n, e in DEPARTMENTS]


def target_rows(world: World) -> list[dict[str, Any]]:
    """A few overrides of the city-wide targets: a stricter district, a department, one year."""
    known = set(world.city.targets)
    districts = world.geo.district.codes

    def district(code: str, fallback: int) -> str:
        return code if code in districts else districts[fallback]

    xihu, shangcheng, binjiang = district("330106", 0), district("330102", -1), district("330108", 0)
    year = world.calendar.dates[-1].year
    candidates = [
        ("complaint_on_time_rate", xihu, None, None, None, 0.97),
        ("service_on_time_rate", None, "SCJG", None, None, 0.98),
        ("grid_closure_rate", shangcheng, None, None, None, 0.97),
        ("complaint_satisfaction_rate", None, None, dt.date(year, 1, 1), dt.date(year, 12, 31), 0.92),
        ("service_online_share", binjiang, None, None, None, 0.9),
    ]
    rows: list[dict[str, Any]] = []
    for metric, region, department, start, stop, value in candidates:
        if metric in known:
            rows.append(
                {
                    "id": len(rows) + 1,
                    "metric": metric,
                    "region_code": region,
                    "department_code": department,
                    "period_start": start,
                    "period_end": stop,
                    "value": value,
                }
            )
    return rows
