"""Filters carried in a topic page's URL (links from the alert ticker and the alerts CLI). Pure.

A link looks like ``complaints?district=330106&street=330106001&category=C02.01.001&start=2026-10-24&end=2026-11-01``:
region codes of any level, a department, a category code and a half-open date range [start, end).
Unknown codes, malformed dates and backwards ranges are dropped with a notice that names the
parameter; they never raise and never widen what a request may see (scope is applied separately).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from data_access.semantic.model import DIMENSION_COLUMNS
from data_access.semantic.query import REGION_DIMENSIONS, Filter, TimeRange

LINK_PARAMS: tuple[str, ...] = (*REGION_DIMENSIONS, "department", "category", "start", "end")


@dataclass(frozen=True)
class LinkFilters:
    """What a link asks for, already checked against the known codes."""

    regions: tuple[tuple[str, str], ...] = ()  # (level, code), coarse to fine
    department: str | None = None
    category: str | None = None
    time_range: TimeRange | None = None
    notices: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.regions or self.department or self.category or self.time_range)

    @property
    def finest_region(self) -> str | None:
        return self.regions[-1][1] if self.regions else None

    @property
    def district(self) -> str | None:
        return next((code for level, code in self.regions if level == "district"), None)


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def parse_link(
    params: Mapping[str, str],
    region_levels: Mapping[str, str],
    departments: Mapping[str, str],
    categories: Mapping[str, str],
) -> LinkFilters:
    """Check a page's query parameters; ``region_levels`` maps every known region code to its level."""
    notices: list[str] = []
    regions: list[tuple[str, str]] = []
    for level in REGION_DIMENSIONS:
        code = params.get(level)
        if code is None:
            continue
        if region_levels.get(code) == level:
            regions.append((level, code))
        else:
            notices.append(f"{level}={code}")
    department = params.get("department")
    if department is not None and department not in departments:
        notices.append(f"department={department}")
        department = None
    category = params.get("category")
    if category is not None and category not in categories:
        notices.append(f"category={category}")
        category = None
    time_range = None
    raw_start, raw_end = params.get("start"), params.get("end")
    if raw_start is not None or raw_end is not None:
        start, end = _date(raw_start or ""), _date(raw_end or "")
        if start is None:
            notices.append(f"start={raw_start}")
        if end is None:
            notices.append(f"end={raw_end}")
        if start is not None and end is not None:
            if end <= start:
                notices.append(f"start={raw_start}&end={raw_end}")
            else:
                time_range = TimeRange(dt.datetime.combine(start, dt.time()), dt.datetime.combine(end, dt.time()))
    return LinkFilters(tuple(regions), department, category, time_range, tuple(notices))


def category_dimension(code: str) -> str:
    """Category codes carry their level in their dots: ``C01`` → l1, ``C01.02`` → l2, ``C01.02.003`` → l3."""
    return f"category_l{min(code.count('.') + 1, 3)}"


def request_filters(link: LinkFilters, table: str) -> tuple[tuple[Filter, ...], tuple[str, ...]]:
    """The link's region, department and category as request filters for ``table``.

    Returns (filters, dropped): a filter whose dimension does not exist on the table (a category on
    service cases) is left out and named, so the page can say so instead of showing nothing.
    """
    filters: list[Filter] = []
    dropped: list[str] = []
    region = link.finest_region
    if region is not None:
        filters.append(Filter("region", (region,)))
    if link.department is not None:
        filters.append(Filter("department", (link.department,)))
    if link.category is not None:
        dimension = category_dimension(link.category)
        if table in DIMENSION_COLUMNS.get(dimension, {}):
            filters.append(Filter(dimension, (link.category,)))
        else:
            dropped.append(f"category={link.category}")
    return tuple(filters), tuple(dropped)
