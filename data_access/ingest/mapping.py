"""The import mapping file (TOML): how a source file's columns and values become a contract table.

Documented with a worked example in ``docs/ingest.md``; presets live in ``data_access/ingest/presets/``.
Parsing is strict: the file is validated by the pydantic model :class:`MappingFile` (shapes and types,
no unknown section or key, fixed choices), then against the contract table it loads (a contract column
that does not exist, a value that is not allowed, a required column with no source). Every problem is
reported as a :class:`MappingProblem` naming the file and the section, key or column at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from data_access.config.validation import read_toml
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


class _Section(BaseModel):
    """A table of the mapping file: strict types, no unknown key."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Preset(_Section):
    name: str = ""
    description: str = ""
    table: str | None = None
    city: str | None = None


class _Source(_Section):
    format: str | None = None
    encoding: str = "auto"
    delimiter: str = ","
    null_values: list[Any] = Field(default_factory=lambda: [""])
    sheet: str | None = None
    optional: list[Any] = Field(default_factory=list)

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, delimiter: str) -> str:
        if len(delimiter) != 1:
            raise ValueError("[source] delimiter must be one character")
        return delimiter


class _Dates(_Section):
    formats: list[Any] = Field(default_factory=lambda: ["%Y-%m-%d %H:%M:%S"])
    timezone: str | None = None

    @field_validator("formats")
    @classmethod
    def _strftime_formats(cls, formats: list[Any]) -> list[Any]:
        if not formats or not all(isinstance(f, str) and "%" in f for f in formats):
            raise ValueError("[dates] formats must be a list of strftime formats like '%Y-%m-%d %H:%M:%S'")
        return formats


class _Region(_Section):
    method: str = "code"
    lat: str | None = None
    lon: str | None = None
    point: str | None = None
    columns: dict[str, Any] = Field(default_factory=dict)

    @field_validator("columns")
    @classmethod
    def _levels(cls, columns: dict[str, Any]) -> dict[str, Any]:
        if any(level not in REGION_LEVELS or not isinstance(column, str) for level, column in columns.items()):
            raise ValueError(f"[region.columns] keys are region levels ({', '.join(REGION_LEVELS)})")
        return columns


class _Categories(_Section):
    unknown: str = "add"


class _Departments(_Section):
    unknown: str = "add"
    names: dict[str, Any] = Field(default_factory=dict)

    @field_validator("names")
    @classmethod
    def _named(cls, names: dict[str, Any]) -> dict[str, Any]:
        for code, entry in names.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise ValueError(f"[departments.names] {code} = {{ name = ..., name_en = ... }}")
        return names


# A choice among fixed words: (section, key) -> the words allowed.
_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("source", "format"): FORMATS,
    ("region", "method"): REGION_METHODS,
    ("categories", "unknown"): UNKNOWN_POLICIES,
    ("departments", "unknown"): UNKNOWN_POLICIES,
}
# The sections that map contract columns (checked against the table): shapes only here.
_COLUMN_SECTIONS = ("columns", "defaults", "values")


class MappingFile(BaseModel):
    """A mapping file as read from TOML, validated; :func:`parse_mapping` turns it into a :class:`Mapping`.

    pydantic checks the shapes (strict types, no unknown key; the validators raise messages naming the
    section and key, which :func:`_problem` prefixes with the file). The rules that depend on the table
    loaded (from ``--table`` or [preset]) run after: :meth:`table`, :meth:`sources` and ``_check_required``.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    preset: _Preset = Field(default_factory=_Preset)
    source: _Source = Field(default_factory=_Source)
    dates: _Dates = Field(default_factory=_Dates)
    region: _Region = Field(default_factory=_Region)
    categories: _Categories = Field(default_factory=_Categories)
    departments: _Departments = Field(default_factory=_Departments)
    columns: dict[str, Any] = Field(default_factory=dict)
    defaults: dict[str, Any] = Field(default_factory=dict)
    values: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _choices(self) -> MappingFile:
        for (section, key), allowed in _CHOICES.items():
            value = getattr(getattr(self, section), key)
            if value is not None and value not in allowed:
                raise ValueError(f"[{section}] {key} = {value!r} must be one of {', '.join(allowed)}")
        region = self.region
        if region.method == "point" and not (region.point or (region.lat and region.lon)):
            raise ValueError("[region] method = 'point' needs lat and lon, or point")
        if region.method in ("code", "name") and not region.columns:
            raise ValueError(f"[region] method = {region.method!r} needs [region.columns] level = source column")
        return self

    def table(self, table_name: str | None) -> sa.Table:
        """The contract table this mapping loads: ``table_name`` (from --table) or [preset] table."""
        table_name = table_name or self.preset.table
        if table_name is None:
            raise ValueError("no table given (--table, or table = ... in [preset])")
        if self.preset.table and self.preset.table != table_name:
            raise ValueError(f"this mapping is for table {self.preset.table!r}, not {table_name!r}")
        table = TABLES.get(table_name)
        if table is None:
            raise ValueError(f"table {table_name!r} must be one of {', '.join(TABLES)}")
        return table

    def sources(self, table: sa.Table) -> dict[str, tuple[str, ...]]:
        """[columns] as contract column -> source columns, every name checked against the table."""
        for name in _COLUMN_SECTIONS:
            for column in getattr(self, name):
                if column not in table.columns:
                    raise ValueError(
                        f"[{name}]: {column!r} is not a column of {table.name} (see docs/data-contract.md)"
                    )
        sources: dict[str, tuple[str, ...]] = {}
        for column, source in self.columns.items():
            names = [source] if isinstance(source, str) else source
            if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
                raise ValueError(f"[columns] {column} must name a source column, or a list of them")
            sources[column] = tuple(names)
        for column, value_map in self.values.items():
            if not isinstance(value_map, dict):
                raise ValueError(f"[values.{column}] must be a table of source value = contract value")
            allowed = schema.ALLOWED_VALUES.get((table.name, column))
            for source_value, target in value_map.items():
                if allowed is not None and target is not None and target not in allowed:
                    pair = f"{source_value!r} = {target!r}"
                    raise ValueError(f"[values.{column}] {pair} is not allowed (allowed: {', '.join(allowed)})")
        return sources


def _problem(origin: str, error: ErrorDetails) -> MappingProblem:
    """A validation error as the message of old: the file, then the section and key at fault."""
    loc, kind, value = error["loc"], error["type"], error.get("input")
    section = str(loc[0]) if loc else ""
    key = str(loc[1]) if len(loc) > 1 else ""
    if kind == "value_error":
        return MappingProblem(f"{origin}: {error.get('ctx', {}).get('error', error['msg'])}")
    if kind == "extra_forbidden" and len(loc) == 1:
        allowed = ", ".join(MappingFile.model_fields)
        return MappingProblem(f"{origin}: unknown section [{section}] (allowed: {allowed})")
    if kind == "extra_forbidden":
        fields = MappingFile.model_fields[section].annotation
        allowed = ", ".join(fields.model_fields) if isinstance(fields, type) and issubclass(fields, BaseModel) else ""
        return MappingProblem(f"{origin}: {section}: unknown key {key!r} (allowed: {allowed})")
    if len(loc) == 1:
        where = f"{origin}: " if section in _COLUMN_SECTIONS else f"{origin}: {section}: "
        return MappingProblem(f"{where}[{section}] must be a table")
    kinds = {"string_type": "str", "list_type": "list", "dict_type": "dict"}
    return MappingProblem(f"{origin}: {section}: {key} = {value!r} must be a {kinds.get(kind, kind)}")


def parse_mapping(raw: dict[str, Any], origin: str, table_name: str | None = None) -> Mapping:
    """Validate a parsed mapping file; ``table_name`` (from --table) overrides [preset] table."""
    try:
        parsed = MappingFile.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        top = [e for e in errors if e["type"] == "extra_forbidden" and len(e["loc"]) == 1]  # sections first
        raise _problem(origin, (top or errors)[0]) from None
    try:
        table = parsed.table(table_name)
        sources = parsed.sources(table)
    except ValueError as exc:
        raise MappingProblem(f"{origin}: {exc}") from None
    region, source, dates, preset = parsed.region, parsed.source, parsed.dates, parsed.preset
    mapping = Mapping(
        table=table.name,
        columns=sources,
        defaults=dict(parsed.defaults),
        values={column: dict(value_map) for column, value_map in parsed.values.items()},
        date_formats=tuple(dates.formats),
        timezone=dates.timezone,
        region=RegionSpec(region.method, dict(region.columns), region.lat, region.lon, region.point),
        source=SourceOptions(
            format=source.format,
            encoding=source.encoding,
            delimiter=source.delimiter,
            null_values=tuple(str(v) for v in source.null_values),
            sheet=source.sheet,
            optional=tuple(str(v) for v in source.optional),
        ),
        unknown_categories=parsed.categories.unknown,
        unknown_departments=parsed.departments.unknown,
        departments={code: {k: str(v) for k, v in entry.items()} for code, entry in parsed.departments.names.items()},
        name=preset.name,
        city=Path(preset.city) if preset.city else None,
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
    mapping = parse_mapping(read_toml(path, MappingProblem), str(path), table_name)
    city = mapping.city
    if city is not None and not city.is_absolute():
        city = (path.parent / city) if (path.parent / city).is_file() else (REPO_ROOT / city)
    return Mapping(**{**mapping.__dict__, "city": city, "path": path})
