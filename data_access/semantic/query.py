"""The plain query object pages build (metrics, dimensions, filters, time range, scope, limit).

Kept apart from the compiler, as in Superset: a request is data that can be hashed, logged,
put in a URL or audited; only ``data_access.semantic.compiler`` turns it into SQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import datetime

TIME_GRAINS: tuple[str, ...] = ("day", "week", "month")
REGION_DIMENSIONS: tuple[str, ...] = ("district", "street", "community", "grid")
# The other dimensions, and which column each is on which table: ``data_access.semantic.model``.

# A filter on "region" matches a code at any level (district, street, community or grid).
REGION_FILTER = "region"


class RequestError(ValueError):
    """A request that cannot be compiled: unknown metric, dimension not on that table, ..."""


@dataclass(frozen=True)
class TimeRange:
    """Half-open [start, end): the records whose time column falls inside it."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise RequestError(
                f"time range end {self.end:%Y-%m-%d %H:%M} is not after start {self.start:%Y-%m-%d %H:%M}"
            )

    def previous(self) -> TimeRange:
        """The period of the same length just before this one (for 环比 comparisons)."""
        return TimeRange(self.start - (self.end - self.start), self.start)


@dataclass(frozen=True)
class Scope:
    """What a viewer may see. ``None`` = unrestricted; an empty set = nothing at all.

    Region codes may be of any level; a row is visible when any of its region codes is listed.
    """

    departments: frozenset[str] | None = None
    regions: frozenset[str] | None = None

    @property
    def unrestricted(self) -> bool:
        return self.departments is None and self.regions is None


EVERYTHING = Scope()


@dataclass(frozen=True)
class Filter:
    """Keep rows whose dimension value is one of ``values`` (``region``: a code at any level)."""

    dimension: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class OrderBy:
    column: str
    descending: bool = False


@dataclass(frozen=True)
class MetricRequest:
    """One question to one fact table; compiled to exactly one SELECT."""

    metrics: tuple[str, ...]
    dimensions: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    time_range: TimeRange | None = None
    as_of: datetime | None = None
    scope: Scope = field(default=EVERYTHING)
    order_by: tuple[OrderBy, ...] = ()
    limit: int | None = None

    @property
    def effective_as_of(self) -> datetime | None:
        """Snapshot metrics and 'done' conditions are judged at this time."""
        if self.as_of is not None:
            return self.as_of
        return self.time_range.end if self.time_range is not None else None


def cutoff(as_of: dt.datetime) -> dt.datetime:
    """The exclusive end of current periods: the end of the as-of minute."""
    return as_of.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
