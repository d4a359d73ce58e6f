"""Display names, links and numbers for alert messages (small dimension tables, read whole once per run)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

import sqlalchemy as sa

from data_access.alerts import aggregates as aq
from data_access.alerts.schema import DOMAIN_PAGE


@dataclass(frozen=True)
class Names:
    """Display names and the region tree; built once per run from the dimension tables."""

    regions: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)  # code -> (name, level, parent)
    departments: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (zh, en)
    categories: dict[str, str] = field(default_factory=dict)
    category_parents: dict[str, str | None] = field(default_factory=dict)

    def parents(self) -> dict[str, str | None]:
        """Parent of every region and category code (the two trees' codes never collide)."""
        return {**{code: parent for code, (_, _, parent) in self.regions.items()}, **self.category_parents}

    def region_path(self, code: str | None) -> list[str]:
        """Codes from the district down to ``code`` (the denormalised tree, never a code prefix)."""
        chain: list[str] = []
        current = code
        while current is not None and current in self.regions and len(chain) < 8:
            chain.append(current)
            current = self.regions[current][2]
        return list(reversed(chain)) if chain else ([code] if code else [])

    def region(self, code: str | None) -> str:
        """'西湖区 北山街道' for a street: the names from the district down."""
        if code is None:
            return "全市"
        return " ".join(self.regions.get(c, (c, "", None))[0] for c in self.region_path(code))

    def department(self, code: str | None, english: bool = False) -> str:
        if code is None:
            return ""
        zh, en = self.departments.get(code, (code, code))
        return en if english else zh

    def category(self, code: str | None) -> str:
        return "" if code is None else self.categories.get(code, code)

    def level(self, code: str) -> str | None:
        found = self.regions.get(code)
        return found[1] if found else None


def load_names(engine: sa.Engine) -> Names:
    """The display names of regions, departments and categories (read once per run, not per alert)."""
    regions = aq.region_index(engine)
    categories = aq.category_index(engine)
    return Names(
        regions={row[0]: (row[1], row[2], row[3]) for row in regions.iter_rows()},
        departments=aq.department_names(engine),
        categories={row[0]: row[1] for row in categories.iter_rows()},
        category_parents={row[0]: row[2] for row in categories.iter_rows()},
    )


def alert_link(
    names: Names,
    domain: str,
    region: str | None,
    department: str | None,
    category: str | None,
    start: dt.date,
    end: dt.date,
    extra: dict[str, str] | None = None,
) -> str:
    """Topic page path with the filters that show an alert, e.g. ``complaints?district=…&street=…&start=…``."""
    params: dict[str, str] = {}
    for code in names.region_path(region):
        level = names.level(code) or "region"
        params[level] = code
    if department:
        params["department"] = department
    if category:
        params["category"] = category
    params["start"] = start.isoformat()
    params["end"] = end.isoformat()
    params.update(extra or {})
    return f"{DOMAIN_PAGE[domain]}?{urlencode(params)}"


def format_count(value: float) -> str:
    """A count for a message: '86' for whole numbers, '2.5' otherwise."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
