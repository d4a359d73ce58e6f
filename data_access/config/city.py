"""The city configuration file (TOML): name, map files, 三率 weights, targets, time limits, categories, refresh.

Loaded once and validated strictly by the pydantic models below (one per ``[section]``): an unknown
key, a value of the wrong type or a missing file is reported with the file and the key, so a typo
never silently falls back to a default. ``CityConfig`` is what the rest of the cockpit reads: the
sections flattened, map files resolved, the category tree with its levels.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, field_validator
from pydantic.dataclasses import dataclass as pydantic_dataclass

from data_access.config.validation import SECTION, positive, read_toml, setting_error, validate_file
from data_access.contract.schema import REGION_LEVELS
from data_access.runtime.paths import REPO_ROOT

CITY_ENV = "COCKPIT_CITY"
# The cockpit's period switch; "month" by default, because rates over a few hours of cases judge
# mostly the quick ones (today's on-time rate is near 100 % before the day's hard cases are due).
DEFAULT_PERIODS = ("today", "week", "month")
DEFAULT_CITY_FILE = REPO_ROOT / "config" / "demo_city.toml"
CATEGORY_DOMAINS = ("complaints", "grid_events", "service_cases")
CATEGORY_CODE_MAX = 32


class SettingsProblem(Exception):
    """The city configuration file is missing, malformed, or holds an unknown or mistyped key."""


def _positive_hours(value: float) -> float:
    if value <= 0:
        raise ValueError("must be a positive number of hours")
    return value


def _lon_lat(value: list[float]) -> list[float]:
    if len(value) != 2:
        raise ValueError("must be [lon, lat]")
    return value


def _period(value: str) -> str:
    if value not in DEFAULT_PERIODS:
        raise ValueError(f"must be one of {', '.join(DEFAULT_PERIODS)}")
    return value


PositiveHours = Annotated[StrictFloat, AfterValidator(_positive_hours)]


# ---- the file's sections ---------------------------------------------------------------------------


class CitySection(BaseModel):
    """``[city]``: names, time zone, coordinate datum and the map's start view; every key required."""

    model_config = SECTION
    name: StrictStr
    name_en: StrictStr
    timezone: StrictStr
    datum: StrictStr
    center: Annotated[list[StrictFloat], AfterValidator(_lon_lat)]
    zoom: StrictFloat


# Positional construction (``ThreeRates(0.1, 0.5, 0.4, 0.9)``) is part of its API, hence a pydantic
# dataclass rather than a model; frozen, so it is hashable and can key a cache.
@pydantic_dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class ThreeRates:
    """``[three_rates]``: weights of Beijing's 接诉即办 composite score and the 基本满意 factor."""

    response_weight: StrictFloat = 0.1
    resolution_weight: StrictFloat = 0.5
    satisfaction_weight: StrictFloat = 0.4
    basic_satisfied_factor: StrictFloat = 0.9


class DisplaySection(BaseModel):
    """``[display]``: how often pages refresh, how long results are cached, the period shown first."""

    model_config = SECTION
    refresh_seconds: StrictInt = 60
    cache_ttl_seconds: StrictInt = 60
    default_period: Annotated[StrictStr, AfterValidator(_period)] = "month"


class GeoLayer(BaseModel):
    """``[geo.<level>]``: one region level's GeoJSON file and the properties holding code and name."""

    model_config = SECTION
    # Relative to the city file when found there, else to the repository (``load_city`` resolves it).
    file: Path
    code_property: StrictStr
    name_property: StrictStr
    # Property holding the code of the enclosing region one level up; None = found by point in polygon.
    parent_property: StrictStr | None = None


class TimeLimits(BaseModel):
    """``[time_limits]``: default limits in elapsed hours when neither the source nor the category gives one.

    Complaints 7 days (Beijing's "normal" 12345 limit), grid events 3 days, service cases 20 days.
    """

    model_config = SECTION
    complaints: PositiveHours = 168.0
    grid_events: PositiveHours = 72.0
    service_cases_promised: PositiveHours = 480.0
    service_cases_legal: PositiveHours = 480.0


class CategoryEntry(BaseModel):
    """``[categories.<domain>.<code>]``: one category as the file spells it."""

    model_config = SECTION
    name: StrictStr
    parent: StrictStr | None = None
    aliases: tuple[StrictStr, ...] = ()
    time_limit_hours: Annotated[StrictFloat, AfterValidator(positive)] | None = None


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


def category_tree(categories: dict[str, dict[str, CategoryEntry]]) -> tuple[CategoryDef, ...]:
    """The categories with their levels, parents before children; a broken tree is a setting error."""
    found: dict[str, CategoryDef] = {}
    for domain, entries in categories.items():
        for code, entry in entries.items():
            where = f"categories.{domain}.{code}"
            if len(code) > CATEGORY_CODE_MAX:
                raise setting_error(f"[{where}] category codes have at most {CATEGORY_CODE_MAX} characters")
            if code in found:
                raise setting_error(f"[{where}] category code {code!r} is used twice")
            level = 1
            if entry.parent is not None:
                above = found.get(entry.parent)
                if above is None or above.domain != domain:
                    raise setting_error(
                        f"[{where}] parent {entry.parent!r} is not a category of {domain} listed above it"
                    )
                level = above.level + 1
            found[code] = CategoryDef(
                code=code,
                domain=domain,
                name=entry.name,
                level=level,
                parent=entry.parent,
                aliases=entry.aliases,
                time_limit_hours=entry.time_limit_hours,
            )
    return tuple(found.values())


class CityFile(BaseModel):
    """The whole city file; the order of the fields is the order mistakes are reported in."""

    model_config = SECTION
    city: CitySection
    three_rates: ThreeRates = ThreeRates()
    display: DisplaySection = DisplaySection()
    geo: dict[str, GeoLayer] = Field(default_factory=dict)
    targets: dict[str, StrictFloat] = Field(default_factory=dict)
    time_limits: TimeLimits = TimeLimits()
    categories: dict[str, dict[str, CategoryEntry]] = Field(default_factory=dict)

    @field_validator("geo", mode="before")
    @classmethod
    def _known_levels(cls, value: object) -> object:
        for level in value if isinstance(value, dict) else ():
            if level not in REGION_LEVELS:
                raise setting_error(f"unknown region level [geo.{level}] (allowed: {', '.join(REGION_LEVELS)})")
        return value

    @field_validator("geo")
    @classmethod
    def _districts_required(cls, value: dict[str, GeoLayer]) -> dict[str, GeoLayer]:
        if "district" not in value:
            raise setting_error("[geo.district] is required (the map needs at least the districts)")
        return value

    @field_validator("categories", mode="before")
    @classmethod
    def _known_domains(cls, value: object) -> object:
        for domain in value if isinstance(value, dict) else ():
            if domain not in CATEGORY_DOMAINS:
                allowed = ", ".join(CATEGORY_DOMAINS)
                raise setting_error(f"unknown category domain [categories.{domain}] (allowed: {allowed})")
        return value

    @field_validator("categories")
    @classmethod
    def _tree(cls, value: dict[str, dict[str, CategoryEntry]]) -> dict[str, dict[str, CategoryEntry]]:
        category_tree(value)
        return value


# ---- what the cockpit reads --------------------------------------------------------------------------

_DISPLAY = DisplaySection()


@dataclass(frozen=True)
class CityConfig:
    name: str
    name_en: str
    timezone: str
    datum: str
    center: tuple[float, float]
    zoom: float
    geo: dict[str, GeoLayer]
    three_rates: ThreeRates = field(default_factory=ThreeRates)
    targets: dict[str, float] = field(default_factory=dict)
    time_limits: dict[str, float] = field(default_factory=lambda: TimeLimits().model_dump())
    categories: tuple[CategoryDef, ...] = ()
    refresh_seconds: int = _DISPLAY.refresh_seconds
    cache_ttl_seconds: int = _DISPLAY.cache_ttl_seconds
    default_period: str = _DISPLAY.default_period
    source: Path | None = None


def load_city(path: Path | None = None) -> CityConfig:
    """Read and validate a city file; default: $COCKPIT_CITY, else the demo city."""
    path = Path(path or os.environ.get(CITY_ENV) or DEFAULT_CITY_FILE)
    if not path.is_file():
        raise SettingsProblem(f"City configuration file {path} does not exist (set {CITY_ENV} to a TOML file)")
    checked = validate_file(CityFile, read_toml(path, SettingsProblem), path, SettingsProblem)
    city, display = checked.city, checked.display
    return CityConfig(
        name=city.name,
        name_en=city.name_en,
        timezone=city.timezone,
        datum=city.datum,
        center=(city.center[0], city.center[1]),
        zoom=city.zoom,
        geo={level: _located(path, level, layer) for level, layer in checked.geo.items()},
        three_rates=checked.three_rates,
        targets=dict(checked.targets),
        time_limits=checked.time_limits.model_dump(),
        categories=category_tree(checked.categories),
        refresh_seconds=display.refresh_seconds,
        cache_ttl_seconds=display.cache_ttl_seconds,
        default_period=display.default_period,
        source=path,
    )


def _located(path: Path, level: str, layer: GeoLayer) -> GeoLayer:
    """The layer with its file found: absolute, next to the city file, else under the repository."""
    file = layer.file
    if not file.is_absolute():
        file = path.parent / file if (path.parent / file).is_file() else REPO_ROOT / file
    if not file.is_file():
        raise SettingsProblem(f"{path}: [geo.{level}] file {str(layer.file)!r} does not exist")
    return layer.model_copy(update={"file": file})
