"""The city configuration file (TOML): name, map files, 三率 weights, targets, time limits, categories, refresh.

Loaded once and validated strictly: an unknown key, a value of the wrong type or a missing file is
reported with the file and the key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data_access.contract.schema import REGION_LEVELS
from data_access.runtime.paths import REPO_ROOT

CITY_ENV = "COCKPIT_CITY"
# The cockpit's period switch; "month" by default, because rates over a few hours of cases judge
# mostly the quick ones (today's on-time rate is near 100 % before the day's hard cases are due).
DEFAULT_PERIODS = ("today", "week", "month")
DEFAULT_CITY_FILE = REPO_ROOT / "config" / "demo_city.toml"


class SettingsProblem(Exception):
    """The city configuration file is missing, malformed, or holds an unknown or mistyped key."""


@dataclass(frozen=True)
class GeoLayer:
    file: Path
    code_property: str
    name_property: str
    # Property holding the code of the enclosing region one level up; None = found by point in polygon.
    parent_property: str | None = None


# Default time limits in elapsed hours when neither the source nor the category gives one:
# complaints 7 days (Beijing's "normal" 12345 limit), grid events 3 days, service cases 20 days.
TIME_LIMIT_KEYS: dict[str, float] = {
    "complaints": 168.0,
    "grid_events": 72.0,
    "service_cases_promised": 480.0,
    "service_cases_legal": 480.0,
}
CATEGORY_DOMAINS = ("complaints", "grid_events", "service_cases")


@dataclass(frozen=True)
class CategoryDef:
    """One category of the city's classification: code, display name, parent, source aliases, limit."""

    code: str
    domain: str
    name: str
    level: int = 1
    parent: str | None = None
    aliases: tuple[str, ...] = ()
    time_limit_hours: float | None = None


@dataclass(frozen=True)
class ThreeRates:
    """Weights of Beijing's 接诉即办 composite score and the 基本满意 factor."""

    response_weight: float = 0.1
    resolution_weight: float = 0.5
    satisfaction_weight: float = 0.4
    basic_satisfied_factor: float = 0.9


@dataclass(frozen=True)
class CityConfig:
    name: str
    name_en: str
    timezone: str
    datum: str
    center: tuple[float, float]
    zoom: float
    geo: dict[str, GeoLayer]
    three_rates: ThreeRates = ThreeRates()
    targets: dict[str, float] = field(default_factory=dict)
    time_limits: dict[str, float] = field(default_factory=lambda: dict(TIME_LIMIT_KEYS))
    categories: tuple[CategoryDef, ...] = ()
    refresh_seconds: int = 60
    cache_ttl_seconds: int = 60
    default_period: str = "month"
    source: Path | None = None


_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "city": {
        "name": str,
        "name_en": str,
        "timezone": str,
        "datum": str,
        "center": list,
        "zoom": (int, float),
    },
    "three_rates": {
        "response_weight": (int, float),
        "resolution_weight": (int, float),
        "satisfaction_weight": (int, float),
        "basic_satisfied_factor": (int, float),
    },
    "display": {"refresh_seconds": int, "cache_ttl_seconds": int, "default_period": str},
}
_GEO_KEYS: dict[str, type] = {"file": str, "code_property": str, "name_property": str}
_GEO_OPTIONAL_KEYS: dict[str, type] = {"parent_property": str}
_CATEGORY_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "parent": str,
    "aliases": list,
    "time_limit_hours": (int, float),
}
_SECTIONS = (*_SCHEMA, "geo", "targets", "time_limits", "categories")


def _check_section(path: Path, section: str, values: Any, spec: dict[str, Any], required: bool) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise SettingsProblem(f"{path}: [{section}] must be a table")
    for key, value in values.items():
        if key not in spec:
            raise SettingsProblem(f"{path}: unknown key '{key}' in [{section}] (allowed: {', '.join(spec)})")
        expected = spec[key]
        if isinstance(value, bool) or not isinstance(value, expected):
            names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
            raise SettingsProblem(f"{path}: [{section}] {key} = {value!r} must be {names}")
    if required:
        missing = [key for key in spec if key not in values]
        if missing:
            raise SettingsProblem(f"{path}: [{section}] is missing {', '.join(missing)}")
    return values


def load_city(path: Path | None = None) -> CityConfig:
    """Read and validate a city file; default: $COCKPIT_CITY, else the demo city."""
    path = Path(path or os.environ.get(CITY_ENV) or DEFAULT_CITY_FILE)
    if not path.is_file():
        raise SettingsProblem(f"City configuration file {path} does not exist (set {CITY_ENV} to a TOML file)")
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsProblem(f"{path} is not valid TOML: {exc}") from exc
    for section in raw:
        if section not in _SECTIONS:
            raise SettingsProblem(f"{path}: unknown section [{section}] (allowed: {', '.join(_SECTIONS)})")

    city = _check_section(path, "city", raw.get("city", {}), _SCHEMA["city"], required=True)
    center = city["center"]
    if len(center) != 2 or not all(isinstance(v, (int, float)) for v in center):
        raise SettingsProblem(f"{path}: [city] center must be [lon, lat]")

    geo: dict[str, GeoLayer] = {}
    for level, layer in raw.get("geo", {}).items():
        if level not in REGION_LEVELS:
            raise SettingsProblem(f"{path}: unknown region level [geo.{level}] (allowed: {', '.join(REGION_LEVELS)})")
        spec = {**_GEO_KEYS, **_GEO_OPTIONAL_KEYS}
        layer = _check_section(path, f"geo.{level}", layer, spec, required=False)
        missing = [key for key in _GEO_KEYS if key not in layer]
        if missing:
            raise SettingsProblem(f"{path}: [geo.{level}] is missing {', '.join(missing)}")
        file = Path(layer["file"])
        file = (
            file if file.is_absolute() else (path.parent / file if (path.parent / file).is_file() else REPO_ROOT / file)
        )
        if not file.is_file():
            raise SettingsProblem(f"{path}: [geo.{level}] file {layer['file']!r} does not exist")
        geo[level] = GeoLayer(file, layer["code_property"], layer["name_property"], layer.get("parent_property"))
    if "district" not in geo:
        raise SettingsProblem(f"{path}: [geo.district] is required (the map needs at least the districts)")

    rates_raw = _check_section(path, "three_rates", raw.get("three_rates", {}), _SCHEMA["three_rates"], False)
    rates = ThreeRates(**{key: float(value) for key, value in rates_raw.items()})

    targets_raw = raw.get("targets", {})
    if not isinstance(targets_raw, dict):
        raise SettingsProblem(f"{path}: [targets] must be a table of metric = number")
    targets: dict[str, float] = {}
    for metric, value in targets_raw.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SettingsProblem(f"{path}: [targets] {metric} = {value!r} must be a number")
        targets[metric] = float(value)

    time_limits = _time_limits(path, raw.get("time_limits", {}))
    categories = _categories(path, raw.get("categories", {}))

    display = _check_section(path, "display", raw.get("display", {}), _SCHEMA["display"], False)
    default_period = display.get("default_period", "month")
    if default_period not in DEFAULT_PERIODS:
        raise SettingsProblem(
            f"{path}: [display] default_period = {default_period!r} must be one of {', '.join(DEFAULT_PERIODS)}"
        )
    return CityConfig(
        name=city["name"],
        name_en=city["name_en"],
        timezone=city["timezone"],
        datum=city["datum"],
        center=(float(center[0]), float(center[1])),
        zoom=float(city["zoom"]),
        geo=geo,
        three_rates=rates,
        targets=targets,
        time_limits=time_limits,
        categories=categories,
        refresh_seconds=display.get("refresh_seconds", 60),
        cache_ttl_seconds=display.get("cache_ttl_seconds", 60),
        default_period=default_period,
        source=path,
    )


def _time_limits(path: Path, raw: Any) -> dict[str, float]:
    """``[time_limits]``: default limits in hours per table; unknown keys and non-positive values refused."""
    values = _check_section(path, "time_limits", raw, dict.fromkeys(TIME_LIMIT_KEYS, (int, float)), False)
    limits = dict(TIME_LIMIT_KEYS)
    for key, value in values.items():
        if value <= 0:
            raise SettingsProblem(f"{path}: [time_limits] {key} = {value!r} must be a positive number of hours")
        limits[key] = float(value)
    return limits


def _categories(path: Path, raw: Any) -> tuple[CategoryDef, ...]:
    """``[categories.<domain>.<code>]``: the city's category tree, parents before children."""
    if not isinstance(raw, dict):
        raise SettingsProblem(f"{path}: [categories] must hold tables [categories.<domain>.<code>]")
    found: dict[str, CategoryDef] = {}
    for domain, entries in raw.items():
        if domain not in CATEGORY_DOMAINS:
            raise SettingsProblem(
                f"{path}: unknown category domain [categories.{domain}] (allowed: {', '.join(CATEGORY_DOMAINS)})"
            )
        if not isinstance(entries, dict):
            raise SettingsProblem(f"{path}: [categories.{domain}] must hold tables [categories.{domain}.<code>]")
        for code, entry in entries.items():
            where = f"categories.{domain}.{code}"
            entry = _check_section(path, where, entry, _CATEGORY_KEYS, required=False)
            if "name" not in entry:
                raise SettingsProblem(f"{path}: [{where}] is missing name")
            if len(code) > 32:
                raise SettingsProblem(f"{path}: [{where}] category codes have at most 32 characters")
            if code in found:
                raise SettingsProblem(f"{path}: [{where}] category code {code!r} is used twice")
            aliases = entry.get("aliases", [])
            if not all(isinstance(alias, str) for alias in aliases):
                raise SettingsProblem(f"{path}: [{where}] aliases must be a list of strings")
            parent = entry.get("parent")
            level = 1
            if parent is not None:
                above = found.get(parent)
                if above is None or above.domain != domain:
                    raise SettingsProblem(
                        f"{path}: [{where}] parent {parent!r} is not a category of {domain} listed above it"
                    )
                level = above.level + 1
            limit = entry.get("time_limit_hours")
            if limit is not None and limit <= 0:
                raise SettingsProblem(f"{path}: [{where}] time_limit_hours must be positive")
            found[code] = CategoryDef(
                code=code,
                domain=domain,
                name=entry["name"],
                level=level,
                parent=parent,
                aliases=tuple(aliases),
                time_limit_hours=None if limit is None else float(limit),
            )
    return tuple(found.values())
