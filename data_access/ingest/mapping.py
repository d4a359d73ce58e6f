"""The import mapping file (TOML): how a source file's columns and values become a contract table.

Documented with a worked example in ``docs/ingest.md``; presets live in ``data_access/ingest/presets/``.
Parsing is strict: an unknown section or key, a contract column that does not exist, a value that is
not allowed, or a required column with no source is reported as a :class:`MappingProblem` naming it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from data_access.contract import schema
from data_access.contract.schema import REGION_LEVELS
from data_access.runtime.paths import REPO_ROOT

PRESET_DIR = Path(__file__).resolve().parent / "presets"
FORMATS = ("csv", "xlsx", "parquet", "open311")
REGION_METHODS = ("code", "name", "point")
UNKNOWN_POLICIES = ("add", "reject")
TABLES: dict[str, sa.Table] = {table.name: table for table in schema.FACT_TABLES}
ID_COLUMN = {"service_cases": "case_id", "complaints": "ticket_id", "grid_events": "event_id"}
REGION_COLUMNS = {f"{level}_code" for level in REGION_LEVELS}
# Columns the import fills itself when the mapping gives no source for them.
CATEGORY_COLUMNS: dict[str, tuple[str, ...]] = {
    "complaints": ("category_l1_code", "category_l2_code", "category_l3_code"),
    "grid_events": ("major_category_code", "minor_category_code"),
    "service_cases": (),
}
LIMIT_COLUMNS: dict[str, dict[str, str]] = {
    "complaints": {"time_limit_hours": "complaints"},
    "grid_events": {"time_limit_hours": "grid_events"},
    "service_cases": {
        "promised_limit_hours": "service_cases_promised",
        "legal_limit_hours": "service_cases_legal",
    },
}


class MappingProblem(Exception):
    """The mapping file is unusable: the message names the section, key or column at fault."""


@dataclass(frozen=True)
class SourceOptions:
    format: str | None = None  # None: from the file extension
    encoding: str = "auto"
    delimiter: str = ","
    null_values: tuple[str, ...] = ("",)
    sheet: str | None = None
    optional: tuple[str, ...] = ()  # source columns that may be absent from a file (read as NULL)


@dataclass(frozen=True)
class RegionSpec:
    method: str  # code | name | point
    columns: dict[str, str] = field(default_factory=dict)  # level -> source column (code / name)
    lat: str | None = None
    lon: str | None = None
    point: str | None = None  # one column holding "(lat, lon)"


@dataclass(frozen=True)
class Mapping:
    table: str
    columns: dict[str, tuple[str, ...]]  # contract column -> source column(s), first non-empty wins
    defaults: dict[str, Any] = field(default_factory=dict)  # contract column -> constant
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # contract column -> {source: contract}
    date_formats: tuple[str, ...] = ("%Y-%m-%d %H:%M:%S",)
    timezone: str | None = None  # the source's zone for naive times; None = the city's
    region: RegionSpec = RegionSpec("code")
    source: SourceOptions = SourceOptions()
    unknown_categories: str = "add"
    unknown_departments: str = "add"
    departments: dict[str, dict[str, str]] = field(default_factory=dict)  # code -> {name, name_en}
    name: str = ""
    city: Path | None = None  # the preset's default city file
    path: Path | None = None

    @property
    def id_column(self) -> str:
        return ID_COLUMN[self.table]

    def source_columns(self) -> set[str]:
        """Every source column the mapping reads (those in [source] optional may be absent)."""
        used = {source for sources in self.columns.values() for source in sources}
        used |= set(self.region.columns.values())
        used |= {c for c in (self.region.lat, self.region.lon, self.region.point) if c}
        return used


_TOP: dict[str, dict[str, type]] = {
    "preset": {"name": str, "description": str, "table": str, "city": str},
    "source": {"format": str, "encoding": str, "delimiter": str, "null_values": list, "sheet": str, "optional": list},
    "dates": {"formats": list, "timezone": str},
    "region": {"method": str, "lat": str, "lon": str, "point": str, "columns": dict},
    "categories": {"unknown": str},
    "departments": {"unknown": str, "names": dict},
}
_SECTIONS = (*_TOP, "columns", "defaults", "values")


def _table_of(where: str, values: Any, spec: dict[str, type]) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise MappingProblem(f"{where}: [{where.rsplit(': ', 1)[-1]}] must be a table")
    for key, value in values.items():
        if key not in spec:
            raise MappingProblem(f"{where}: unknown key {key!r} (allowed: {', '.join(spec)})")
        if not isinstance(value, spec[key]):
            raise MappingProblem(f"{where}: {key} = {value!r} must be a {spec[key].__name__}")
    return values


def _choice(where: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise MappingProblem(f"{where} = {value!r} must be one of {', '.join(allowed)}")
    return value


def _contract_column(where: str, table: sa.Table, column: str) -> None:
    if column not in table.columns:
        raise MappingProblem(f"{where}: {column!r} is not a column of {table.name} (see docs/data-contract.md)")


def parse_mapping(raw: dict[str, Any], origin: str, table_name: str | None = None) -> Mapping:
    """Validate a parsed mapping file; ``table_name`` (from --table) overrides [preset] table."""
    for section in raw:
        if section not in _SECTIONS:
            raise MappingProblem(f"{origin}: unknown section [{section}] (allowed: {', '.join(_SECTIONS)})")
    parts = {name: _table_of(f"{origin}: {name}", raw.get(name, {}), spec) for name, spec in _TOP.items()}
    preset = parts["preset"]
    table_name = table_name or preset.get("table")
    if table_name is None:
        raise MappingProblem(f"{origin}: no table given (--table, or table = ... in [preset])")
    if preset.get("table") and preset["table"] != table_name:
        raise MappingProblem(f"{origin}: this mapping is for table {preset['table']!r}, not {table_name!r}")
    table = TABLES.get(table_name)
    if table is None:
        raise MappingProblem(f"{origin}: table {table_name!r} must be one of {', '.join(TABLES)}")

    columns = raw.get("columns", {})
    defaults = raw.get("defaults", {})
    values = raw.get("values", {})
    for name, section in (("columns", columns), ("defaults", defaults), ("values", values)):
        if not isinstance(section, dict):
            raise MappingProblem(f"{origin}: [{name}] must be a table")
        for column in section:
            _contract_column(f"{origin}: [{name}]", table, column)
    sources: dict[str, tuple[str, ...]] = {}
    for column, source in columns.items():
        names = [source] if isinstance(source, str) else source
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
            raise MappingProblem(f"{origin}: [columns] {column} must name a source column, or a list of them")
        sources[column] = tuple(names)
    for column, value_map in values.items():
        if not isinstance(value_map, dict):
            raise MappingProblem(f"{origin}: [values.{column}] must be a table of source value = contract value")
        allowed = schema.ALLOWED_VALUES.get((table.name, column))
        for source_value, target in value_map.items():
            if allowed is not None and target is not None and target not in allowed:
                raise MappingProblem(
                    f"{origin}: [values.{column}] {source_value!r} = {target!r} is not allowed "
                    f"(allowed: {', '.join(allowed)})"
                )

    region_raw = parts["region"]
    method = _choice(f"{origin}: [region] method", region_raw.get("method", "code"), REGION_METHODS)
    region_columns = region_raw.get("columns", {})
    for level, column in region_columns.items():
        if level not in REGION_LEVELS or not isinstance(column, str):
            raise MappingProblem(f"{origin}: [region.columns] keys are region levels ({', '.join(REGION_LEVELS)})")
    region = RegionSpec(
        method, dict(region_columns), region_raw.get("lat"), region_raw.get("lon"), region_raw.get("point")
    )
    if method == "point" and not (region.point or (region.lat and region.lon)):
        raise MappingProblem(f"{origin}: [region] method = 'point' needs lat and lon, or point")
    if method in ("code", "name") and not region.columns:
        raise MappingProblem(f"{origin}: [region] method = {method!r} needs [region.columns] level = source column")

    source_raw = parts["source"]
    fmt = source_raw.get("format")
    if fmt is not None:
        _choice(f"{origin}: [source] format", fmt, FORMATS)
    source = SourceOptions(
        format=fmt,
        encoding=source_raw.get("encoding", "auto"),
        delimiter=source_raw.get("delimiter", ","),
        null_values=tuple(str(v) for v in source_raw.get("null_values", [""])),
        sheet=source_raw.get("sheet"),
        optional=tuple(str(v) for v in source_raw.get("optional", [])),
    )
    if len(source.delimiter) != 1:
        raise MappingProblem(f"{origin}: [source] delimiter must be one character")

    dates = parts["dates"]
    formats = tuple(dates.get("formats", ["%Y-%m-%d %H:%M:%S"]))
    if not formats or not all(isinstance(f, str) and "%" in f for f in formats):
        raise MappingProblem(f"{origin}: [dates] formats must be a list of strftime formats like '%Y-%m-%d %H:%M:%S'")

    names = parts["departments"].get("names", {})
    for code, entry in names.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise MappingProblem(f"{origin}: [departments.names] {code} = {{ name = ..., name_en = ... }}")
    mapping = Mapping(
        table=table.name,
        columns=sources,
        defaults=dict(defaults),
        values={column: dict(value_map) for column, value_map in values.items()},
        date_formats=formats,
        timezone=dates.get("timezone"),
        region=region,
        source=source,
        unknown_categories=_choice(
            f"{origin}: [categories] unknown", parts["categories"].get("unknown", "add"), UNKNOWN_POLICIES
        ),
        unknown_departments=_choice(
            f"{origin}: [departments] unknown", parts["departments"].get("unknown", "add"), UNKNOWN_POLICIES
        ),
        departments={code: {k: str(v) for k, v in entry.items()} for code, entry in names.items()},
        name=preset.get("name", ""),
        city=Path(preset["city"]) if preset.get("city") else None,
    )
    _check_required(origin, table, mapping)
    return mapping


def _check_required(origin: str, table: sa.Table, mapping: Mapping) -> None:
    """Every NOT NULL contract column has a source, a default, or is filled by the import."""
    filled = REGION_COLUMNS | set(LIMIT_COLUMNS[table.name])
    if mapping.region.method == "point":
        filled |= {"lat", "lon"}
    for column in table.columns:
        if column.nullable or column.name in filled:
            continue
        if column.name not in mapping.columns and column.name not in mapping.defaults:
            raise MappingProblem(
                f"{origin}: required column {table.name}.{column.name} has no source column in [columns] "
                "and no value in [defaults]"
            )


def preset_path(name: str) -> Path:
    path = PRESET_DIR / f"{name}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in PRESET_DIR.glob("*.toml"))
        raise MappingProblem(f"unknown preset {name!r} (available: {', '.join(known)})")
    return path


def load_mapping(path: Path, table_name: str | None = None) -> Mapping:
    if not path.is_file():
        raise MappingProblem(f"mapping file {path} does not exist")
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise MappingProblem(f"{path} is not valid TOML: {exc}") from exc
    mapping = parse_mapping(raw, str(path), table_name)
    city = mapping.city
    if city is not None and not city.is_absolute():
        city = (path.parent / city) if (path.parent / city).is_file() else (REPO_ROOT / city)
    return Mapping(**{**mapping.__dict__, "city": city, "path": path})
