"""Deciding the demo's world: volumes, weights, effects per street and department, roads and anomalies.

Everything here is drawn from the setup stream ``[seed, 0]`` (anomalies from ``[seed, 1]``), in a fixed
order, so the same seed and end date always give the same world.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from data_access.config.city import CityConfig
from data_access.demo.anomalies import plan_anomalies
from data_access.demo.geo import URBAN_CORE
from data_access.demo.places import Geography, load_geography
from data_access.demo.reference import (
    COMPLAINTS_PER_2Y,
    DEPARTMENTS,
    GRID_EVENTS_PER_2Y,
    ROAD_FIRST,
    ROAD_SUFFIX,
    ROADS_PER_STREET,
    SERVICE_CASES_PER_2Y,
    FloatArray,
)
from data_access.demo.sampling import overdue_z
from data_access.demo.taxonomy import build_grid_taxonomy, load_taxonomy
from data_access.demo.timeline import Calendar, build_calendar
from data_access.demo.world import World


def _daily(calendar: Calendar, total: float, factors: FloatArray) -> FloatArray:
    return np.asarray(total * factors / factors.sum(), dtype=np.float64)


def _road_names(geo: Geography, rng: np.random.Generator) -> list[list[str]]:
    """A handful of road names per street, for addresses."""
    roads: list[list[str]] = []
    for _ in geo.street.codes:
        names: list[str] = []
        while len(names) < ROADS_PER_STREET:
            a, b = rng.choice(len(ROAD_FIRST), size=2, replace=False)
            name = ROAD_FIRST[a] + ROAD_FIRST[b] + ROAD_SUFFIX[int(rng.integers(len(ROAD_SUFFIX)))]
            if name not in names:
                names.append(name)
        roads.append(names)
    return roads


def build_world(city: CityConfig, scale: float, seed: int, end: dt.date, until: dt.datetime | None = None) -> World:
    """Decide everything that does not depend on the chunk: weights, effects, anomalies."""
    setup = np.random.default_rng([seed, 0])
    geo = load_geography(city, setup)
    taxonomy = load_taxonomy(setup)
    grid_taxonomy = build_grid_taxonomy(setup)
    calendar = build_calendar(end, until)
    n_grids, n_streets, n_departments = len(geo.grid.codes), len(geo.street.codes), len(DEPARTMENTS)
    urban = np.array([code in URBAN_CORE for code in geo.district.codes])

    grid_pop = geo.grid.population.astype(np.float64)
    hotspot = np.ones(n_grids)
    hot = setup.choice(n_grids, size=max(1, n_grids // 80), replace=False, p=grid_pop / grid_pop.sum())
    hotspot[hot] = setup.uniform(3.0, 6.0, size=len(hot))
    complaint_w = grid_pop * hotspot * np.where(urban[geo.grid_district], 1.3, 0.8)
    event_w = grid_pop * np.where(urban[geo.grid_district], 1.2, 0.7) * setup.uniform(0.7, 1.3, size=n_grids)
    street_w = geo.street.population.astype(np.float64) * np.where(urban[geo.street_district], 1.2, 0.9)

    street_unhappy = setup.normal(0.0, 0.25, size=n_streets)
    bad = setup.choice(n_streets, size=max(1, n_streets // 14), replace=False)
    street_unhappy[bad] += setup.uniform(1.0, 1.5, size=len(bad))

    complaint_daily = _daily(
        calendar, COMPLAINTS_PER_2Y * scale, calendar.factors((1.05, 1, 1, 1, 1, 0.85, 0.8), 0.12, 200, 0.75, 0.08)
    )
    world = World(
        city=city,
        scale=scale,
        seed=seed,
        geo=geo,
        taxonomy=taxonomy,
        grid_taxonomy=grid_taxonomy,
        calendar=calendar,
        service_daily=_daily(
            calendar,
            SERVICE_CASES_PER_2Y * scale,
            calendar.factors((1.08, 1, 1, 1, 0.95, 0.3, 0.2), 0.05, 100, 0.2, 0.05),
        ),
        complaint_daily=complaint_daily,
        grid_daily=_daily(
            calendar,
            GRID_EVENTS_PER_2Y * scale,
            calendar.factors((1.05, 1.05, 1.05, 1.05, 1, 0.55, 0.5), 0.08, 180, 0.5, 0.05),
        ),
        complaint_grid_p=complaint_w / complaint_w.sum(),
        service_street_p=street_w / street_w.sum(),
        event_grid_p=event_w / event_w.sum(),
        street_unhappy=street_unhappy,
        department_unhappy=setup.normal(0.0, 0.3, size=n_departments),
        complaint_z=overdue_z(setup.uniform(0.03, 0.09, size=n_departments)),
        service_z=overdue_z(setup.uniform(0.03, 0.08, size=n_departments)),
        event_z=overdue_z(setup.uniform(0.02, 0.07, size=n_departments)),
        roads=_road_names(geo, setup),
        workers=setup.integers(1, 4, size=n_grids),
        surges=[],
        jumps=[],
        clusters=[],
        stalls=[],
    )
    return plan_anomalies(world, np.random.default_rng([seed, 1]))
