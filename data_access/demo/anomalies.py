"""The injected anomalies: where and when each happens, and the ``demo_anomalies`` rows that list them.

Surges, overdue jumps, repeat clusters and stalls are spread over the two years (the last surge ends on the
last day, so the cockpit shows a live one); the cockpit's alerts and drill-downs should find every one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np

from data_access.contract import schema
from data_access.demo.reference import (
    CLUSTER_CATEGORIES,
    DAYS,
    DEPARTMENTS,
    JUMP_DEPARTMENTS,
    POINTS_PER_GRID,
    ROADS_PER_STREET,
    STALL_STAGES,
    SURGE_CATEGORIES,
)
from data_access.demo.taxonomy import department_index
from data_access.demo.world import OverdueJump, RepeatCluster, Stall, Surge, World

ANOMALY_ORDER = ("surge", "repeat_cluster", "stall", "overdue_jump", "surge", "repeat_cluster", "surge",
                 "overdue_jump", "stall", "surge", "repeat_cluster", "surge")  # fmt: skip


def _anchor_days(rng: np.random.Generator) -> list[int]:
    """Start days spread evenly over the two years, jittered, away from the very start."""
    slots = np.linspace(45, DAYS - 40, len(ANOMALY_ORDER))
    return [int(s + rng.integers(-10, 11)) for s in slots]


def plan_anomalies(world: World, rng: np.random.Generator) -> World:
    """Choose where and when each injected anomaly happens; the baseline stays free of them."""
    geo, taxonomy = world.geo, world.taxonomy
    # Tiny demos (tests) still get a visible anomaly: at least 2 extra rows a day.
    floor = min(world.scale, 1.0)
    surges: list[Surge] = []
    jumps: list[OverdueJump] = []
    clusters: list[RepeatCluster] = []
    stalls: list[Stall] = []
    # Big streets and common categories, so "3-6x normal" is also a visible absolute number.
    big_streets = list(np.argsort(-geo.street.population, kind="stable")[: max(6, len(geo.street.codes) // 3)])
    surge_categories = [taxonomy.find(*pair) for pair in SURGE_CATEGORIES]
    cluster_categories = [taxonomy.find(*pair) for pair in CLUSTER_CATEGORIES]
    street_share = np.bincount(geo.grid_street, weights=world.complaint_grid_p, minlength=len(geo.street.codes))
    departments = department_index()
    grid_pop = geo.grid.population
    busy_grids = np.flatnonzero(grid_pop >= np.median(grid_pop))
    anchors = _anchor_days(rng)
    for position, (kind, anchor) in enumerate(zip(ANOMALY_ORDER, anchors, strict=True)):
        if kind == "surge":
            days = int(rng.integers(5, 11))
            first = DAYS - days if position == len(ANOMALY_ORDER) - 1 else min(anchor, DAYS - days)
            street = int(big_streets.pop(int(rng.integers(len(big_streets)))))
            category = surge_categories.pop(int(rng.integers(len(surge_categories))))
            normal = float(world.complaint_daily.mean() * street_share[street] * taxonomy.weight[category])
            rate = max(normal * (rng.uniform(3.0, 6.0) - 1.0), rng.uniform(8.0, 12.0) * floor, 2.0)
            street_grids = np.flatnonzero(geo.grid_street == street)
            focus = rng.choice(street_grids, size=min(2, len(street_grids)), replace=False)
            surges.append(Surge(street, category, first, days, rate, np.sort(focus).astype(np.int64)))
        elif kind == "overdue_jump":
            code = JUMP_DEPARTMENTS[len(jumps) * 2 % len(JUMP_DEPARTMENTS)]
            jumps.append(OverdueJump(departments[code], anchor, int(rng.integers(21, 29)), rng.uniform(0.3, 0.36)))
        elif kind == "repeat_cluster":
            repeats = int(rng.integers(10, 15))
            first = min(anchor, DAYS - 14)
            grid = int(rng.choice(busy_grids))
            clusters.append(
                RepeatCluster(
                    community=int(geo.grid.parent[grid]),
                    grid=grid,
                    category=cluster_categories.pop(int(rng.integers(len(cluster_categories)))),
                    first=first,
                    repeats=repeats,
                    point=int(rng.integers(POINTS_PER_GRID)),
                    road=int(rng.integers(ROADS_PER_STREET)),
                    house=int(rng.integers(1, 300)),
                )
            )
        else:
            stage_key = STALL_STAGES[len(stalls) % len(STALL_STAGES)][0]
            stage = [key for key, _ in schema.GRID_WORKFLOW].index(stage_key)
            days = int(rng.integers(7, 22))
            grid = int(rng.choice(busy_grids))
            stalls.append(Stall(grid, stage, min(anchor, DAYS - days), days, max(2.0, 3.0 * floor)))
    return dataclasses.replace(world, surges=surges, jumps=jumps, clusters=clusters, stalls=stalls)


def anomaly_rows(world: World) -> list[dict[str, Any]]:
    """The demo_anomalies table: what was injected where, so tests and demos can point at it."""
    geo, taxonomy, calendar = world.geo, world.taxonomy, world.calendar

    def at(day: int) -> dt.datetime:
        return dt.datetime.combine(calendar.dates[0], dt.time()) + dt.timedelta(days=day)

    rows: list[dict[str, Any]] = []
    for s in world.surges:
        street_share = float(world.complaint_grid_p[geo.grid_street == s.street].sum())
        normal = float(world.complaint_daily.mean()) * street_share * float(taxonomy.weight[s.category])
        note = (
            f"surge: {geo.street.names[s.street]} x {taxonomy.l3_name[s.category]}, {s.days} days, "
            f"~{s.rate:.1f} extra tickets/day (normal ~{normal:.2f}/day)"
        )
        rows.append(_anomaly("surge", geo.street.codes[s.street], None, taxonomy.l3_code[s.category], at(s.first),
                             at(s.first + s.days), note))  # fmt: skip
    for j in world.jumps:
        code, name, _ = DEPARTMENTS[j.department]
        note = f"overdue_jump: {name} service cases overdue at ~{j.share * 100 + 4:.0f}% for {j.days} days"
        rows.append(_anomaly("overdue_jump", None, code, None, at(j.first), at(j.first + j.days), note))
    for c in world.clusters:
        note = (
            f"repeat_cluster: {geo.community.names[c.community]} x {taxonomy.l3_name[c.category]}, "
            f"{c.repeats} repeat tickets at {world.roads[geo.grid_street[c.grid]][c.road]}{c.house}号"
        )
        rows.append(_anomaly("repeat_cluster", geo.community.codes[c.community], None, taxonomy.l3_code[c.category],
                             at(c.first), at(c.first + 14), note))  # fmt: skip
    for st in world.stalls:
        key, label, what = next(s for s in STALL_STAGES if s[0] == schema.GRID_WORKFLOW[st.stage][0])
        note = f"stall: stage={key} ({label}) in grid {geo.grid.names[st.grid]}: events {what} for {st.days} days"
        rows.append(_anomaly("stall", geo.grid.codes[st.grid], None, None, at(st.first), at(st.first + st.days), note))
    rows.sort(key=lambda r: (r["start_at"], r["kind"]))
    for i, row in enumerate(rows, start=1):
        row["id"] = i
    return rows


def _anomaly(
    kind: str,
    region: str | None,
    department: str | None,
    category: str | None,
    start: dt.datetime,
    end: dt.datetime,
    note: str,
) -> dict[str, Any]:
    return {
        "id": 0,
        "kind": kind,
        "region_code": region,
        "department_code": department,
        "category_code": category,
        "start_at": start,
        "end_at": end,
        "note": note,
    }
