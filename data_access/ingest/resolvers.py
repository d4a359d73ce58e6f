"""Source category and department values -> contract codes, collecting the dimension rows an import writes.

A value the city's ``[categories]`` or the mapping's ``[departments]`` does not know gets a stable code
(:func:`auto_code`: the same value gives the same code in every import), or is rejected when the mapping
says ``unknown = "reject"``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from data_access.config.city import CategoryDef

WILDCARD = "*"
CATEGORY_PREFIX = {"complaints": "C", "grid_events": "G", "service_cases": "S"}


def auto_code(prefix: str, *parts: str) -> str:
    """A short stable code for a value without one: the same input gives the same code in every import."""
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:10]
    return f"{prefix}-{digest}"


@dataclass
class CategoryResolver:
    """Source category values -> codes of one domain; collects the ``categories`` rows to write."""

    domain: str
    defs: tuple[CategoryDef, ...]
    explicit: dict[str, dict[str, Any]]  # contract column -> {source value: code}
    policy: str
    added: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lookup: dict[tuple[int, str | None, str], str] = {}
        for d in self.defs:
            if d.domain != self.domain:
                continue
            for key in (d.code, d.name, *d.aliases):
                self._lookup.setdefault((d.level, d.parent, key), d.code)
        self._known = {d.code: d for d in self.defs}

    def city_rows(self) -> list[dict[str, Any]]:
        return [
            {"code": d.code, "domain": d.domain, "level": d.level, "name": d.name, "parent_code": d.parent}
            for d in self.defs
        ]

    def code(self, column: str, level: int, parent: str | None, value: str) -> str | None:
        explicit = self.explicit.get(column, {})
        target = explicit.get(value, explicit.get(WILDCARD))
        if target is not None:
            code = str(target)
            if code not in self._known:
                self.added.setdefault(code, self._row(code, level, parent, value))
            return code
        found = self._lookup.get((level, parent, value))
        if found is not None:
            return found
        if self.policy == "reject":
            return None
        code = auto_code(f"{CATEGORY_PREFIX[self.domain]}{level}", self.domain, parent or "", value)
        self.added.setdefault(code, self._row(code, level, parent, value))
        return code

    def _row(self, code: str, level: int, parent: str | None, value: str) -> dict[str, Any]:
        return {"code": code, "domain": self.domain, "level": level, "name": value[:128], "parent_code": parent}

    def limit(self, code: str | None) -> float | None:
        """The time limit of a category or its nearest ancestor with one."""
        while code is not None:
            found = self._known.get(code)
            if found is None:  # a category added by the import: look at its parent
                added = self.added.get(code)
                code = added["parent_code"] if added else None
                continue
            if found.time_limit_hours is not None:
                return found.time_limit_hours
            code = found.parent
        return None


@dataclass
class DepartmentResolver:
    """Source department values -> codes; exact values, then ``PREFIX*`` patterns (longest first)."""

    explicit: dict[str, Any]
    names: dict[str, dict[str, str]]
    policy: str
    used: dict[str, dict[str, Any]] = field(default_factory=dict)

    def code(self, value: str) -> str | None:
        target = self.explicit.get(value)
        if target is None:
            prefixes = [k for k in self.explicit if k.endswith(WILDCARD) and value.startswith(k[:-1])]
            if prefixes:
                target = self.explicit[max(prefixes, key=len)]
        if target is None and value in self.names:
            target = value
        if target is None:
            if self.policy == "reject":
                return None
            target = auto_code("D", value)
        code = str(target)
        if code not in self.used:
            entry = self.names.get(code, {})
            self.used[code] = {"code": code, "name": entry.get("name", value)[:128], "name_en": entry.get("name_en")}
        return code
