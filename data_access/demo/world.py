"""The world: everything decided once before the facts are drawn, and the anomalies injected into it.

Plain data; :func:`data_access.demo.city_model.build_world` decides it, the fact generators read it.
"""

from __future__ import annotations

import dataclasses

from data_access.config.city import CityConfig
from data_access.demo.places import Geography
from data_access.demo.reference import FloatArray, IntArray
from data_access.demo.taxonomy import ComplaintTaxonomy, GridTaxonomy
from data_access.demo.timeline import Calendar


@dataclasses.dataclass(frozen=True)
class Surge:
    """A street where one complaint category runs at several times its normal rate for a few days."""

    street: int
    category: int
    first: int
    days: int
    rate: float  # extra tickets per day
    focus: IntArray  # a few grids of the street where most extra tickets come from


@dataclasses.dataclass(frozen=True)
class OverdueJump:
    """A department whose service cases go overdue far more often for a few weeks."""

    department: int
    first: int
    days: int
    share: float  # extra share of cases forced overdue


@dataclasses.dataclass(frozen=True)
class RepeatCluster:
    """A chain of repeat tickets about one problem at one address of a community."""

    community: int
    grid: int
    category: int
    first: int
    repeats: int
    point: int
    road: int
    house: int


@dataclasses.dataclass(frozen=True)
class Stall:
    """A grid whose events wait at one workflow stage (handle or verify) for days."""

    grid: int
    stage: int  # index into the seven workflow stages
    first: int
    days: int
    rate: float  # extra events per day in the stalled grid


@dataclasses.dataclass(frozen=True)
class World:
    """Inputs shared by every chunk: geography, taxonomies, calendar, weights and anomalies."""

    city: CityConfig
    scale: float
    seed: int
    geo: Geography
    taxonomy: ComplaintTaxonomy
    grid_taxonomy: GridTaxonomy
    calendar: Calendar
    service_daily: FloatArray
    complaint_daily: FloatArray
    grid_daily: FloatArray
    complaint_grid_p: FloatArray
    service_street_p: FloatArray
    event_grid_p: FloatArray
    street_unhappy: FloatArray  # logit shift of dissatisfaction by street
    department_unhappy: FloatArray
    complaint_z: FloatArray  # per department: normal quantile of its overdue share
    service_z: FloatArray
    event_z: FloatArray
    roads: list[list[str]]  # per street
    workers: IntArray  # grid workers per grid
    surges: list[Surge]
    jumps: list[OverdueJump]
    clusters: list[RepeatCluster]
    stalls: list[Stall]
