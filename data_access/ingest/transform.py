"""One source batch -> contract rows plus rejected rows, vectorised with polars.

Every rule is checked before anything is written; a row that breaks one goes to the quarantine
with the first rule it breaks, in this order: values that do not parse (``bad_date``,
``bad_number``, ``bad_boolean``), a value outside the allowed list (``bad_value``), a location
outside the city (``out_of_bounds``), a region that cannot be found (``unknown_region``,
``region_mismatch``), an unknown category or department when the mapping says ``reject``
(``unknown_category``, ``unknown_department``), a required value missing (``missing``), text too
long for its column (``too_long``), a later time before the record's start (``time_order``). Ids seen
before in the same import (``duplicate_id``) are found over the whole import once every batch is
through (``data_access.contract.writer``), among the rows valid by all the other rules.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
import sqlalchemy as sa

from data_access.config.city import CategoryDef, CityConfig
from data_access.contract import schema
from data_access.ingest.mapping import CATEGORY_COLUMNS, LIMIT_COLUMNS, Mapping
from data_access.ingest.readers import ROW
from data_access.ingest.regions import CityRegions

# Always tried after the mapping's formats: what XLSX/Parquet/Open311 cells become as text (with or without fraction).
FALLBACK_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S%.f",)
TRUE_WORDS = ("true", "t", "yes", "y", "1", "是", "已", "√")
FALSE_WORDS = ("false", "f", "no", "n", "0", "否", "未", "×")
POINT_PATTERN = r"^\s*\(?\s*(-?[0-9.]+)\s*[, ]\s*(-?[0-9.]+)\s*\)?\s*$"
WILDCARD = "*"
# Types parsed frame by frame (a cheap first try, the costly one only on the rows it left).
EAGER_TYPES = (sa.DateTime, sa.Float, sa.Boolean)
CATEGORY_PREFIX = {"complaints": "C", "grid_events": "G", "service_cases": "S"}
# Later timestamps that must not precede the record's start, per table: (start, later columns).
TIME_ORDER: dict[str, tuple[str, tuple[str, ...]]] = {
    "complaints": ("received_at", ("first_response_at", "resolved_at", "closed_at")),
    "service_cases": ("submitted_at", ("accepted_at", "completed_at")),
    "grid_events": ("collected_at", tuple(column for _, column in schema.GRID_WORKFLOW[1:])),
}
REASONS: dict[str, str] = {
    "bad_date": "date/time does not match any format in [dates] formats",
    "bad_number": "not a number",
    "bad_boolean": "not a yes/no value",
    "bad_value": "value not allowed for this column (add it to [values.<column>])",
    "out_of_bounds": "coordinates outside the city's bounds",
    "unknown_region": "region not found (unknown code or name, or point in no region)",
    "region_mismatch": "region codes of different levels do not nest",
    "unknown_category": "category not in the city's [categories]",
    "unknown_department": "department not in the mapping's [departments] names or [values.department_code]",
    "missing": "required value missing",
    "too_long": "text longer than the column allows",
    "time_order": "a later time is before the record's start time",
    "duplicate_id": "id of an earlier valid row of this import",
}


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


@dataclass(frozen=True)
class Rule:
    column: str
    reason: str
    failed: pl.Expr
    value: pl.Expr


@dataclass(frozen=True)
class Prepared:
    valid: pl.DataFrame  # contract columns in table order, then _row
    rejects: pl.DataFrame  # _row, column, reason, value


def _lookup(values: pl.Series, resolve: Callable[[str], str | None]) -> pl.Series:
    """Apply a Python resolver once per distinct non-null value."""
    distinct = [v for v in values.unique().to_list() if v is not None]
    table = {v: resolve(v) for v in distinct}
    return values.replace_strict(list(table), list(table.values()), default=None, return_dtype=pl.String())


def _text(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A source column as trimmed text ('' -> NULL); tz-aware times kept as instants in UTC text."""
    if column not in frame.columns:  # an optional source column this file lacks
        return pl.lit(None, dtype=pl.String())
    dtype = frame.schema[column]
    expr = pl.col(column)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            expr = expr.dt.convert_time_zone("UTC")
            return expr.dt.strftime("%Y-%m-%dT%H:%M:%S%.f+00:00")
        return expr.dt.strftime("%Y-%m-%d %H:%M:%S%.f")
    if dtype != pl.String():
        expr = expr.cast(pl.String())
    return expr.str.strip_chars().replace("", None)


def source_name(column: str) -> str:
    """The name of a source column's trimmed text inside the transformer's working frame."""
    return f"src:{column}"


def _parse_reason(kind: sa.types.TypeEngine[Any]) -> str | None:
    """The reject reason of a column whose text is set but does not parse (None: text is taken as it is)."""
    if isinstance(kind, sa.DateTime):
        return "bad_date"
    if isinstance(kind, (sa.Float, sa.Integer)):
        return "bad_number"
    if isinstance(kind, sa.Boolean):
        return "bad_boolean"
    return None


def _value_map(expr: pl.Expr, mapping: dict[str, Any]) -> pl.Expr:
    def as_text(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    pairs = {str(k): as_text(v) for k, v in mapping.items() if k != WILDCARD}
    default = as_text(mapping[WILDCARD]) if WILDCARD in mapping else expr
    return expr.replace_strict(list(pairs), list(pairs.values()), default=default, return_dtype=pl.String())


class Transformer:
    """Turns source batches into contract rows for one table, one city and one mapping."""

    def __init__(self, mapping: Mapping, city: CityConfig, regions: CityRegions) -> None:
        self.mapping = mapping
        self.city = city
        self.regions = regions
        self.table: sa.Table = schema.metadata.tables[mapping.table]
        self.source_tz = mapping.timezone or city.timezone
        self.categories = CategoryResolver(mapping.table, city.categories, mapping.values, mapping.unknown_categories)
        self.departments = DepartmentResolver(
            mapping.values.get("department_code", {}), mapping.departments, mapping.unknown_departments
        )
        self._ancestors: dict[str, dict[str, str]] = {}
        self._known_codes: dict[str, pl.Series] = {}

    # ---- parsing -------------------------------------------------------------------------------

    def _date_formats(self) -> tuple[str, ...]:
        """The mapping's formats in its order, then the fallback (which also reads times without a fraction)."""
        return tuple(dict.fromkeys((*self.mapping.date_formats, *FALLBACK_DATE_FORMATS)))

    def _parse_date(self, text: pl.Expr, fmt: str) -> pl.Expr:
        # cache=False: source times are nearly all distinct, and polars' cache of parsed strings cost
        # 2-5 times the parse itself (measured on the bench file).
        if "%z" in fmt:
            zoned = text.str.replace(r"Z$", "+00:00").str.strptime(
                pl.Datetime("us", "UTC"), fmt, strict=False, cache=False
            )
            return zoned.dt.convert_time_zone(self.city.timezone).dt.replace_time_zone(None)
        naive = text.str.strptime(pl.Datetime("us"), fmt, strict=False, cache=False)
        if self.source_tz != self.city.timezone:
            naive = (
                naive.dt.replace_time_zone(self.source_tz, ambiguous="earliest", non_existent="null")
                .dt.convert_time_zone(self.city.timezone)
                .dt.replace_time_zone(None)
            )
        return naive

    def _dates(self, work: pl.DataFrame, name: str) -> pl.DataFrame:
        """Parse ``raw:<name>`` into ``name``: each format in turn, on the rows no earlier format read."""
        raw = pl.col(f"raw:{name}")
        formats = self._date_formats()
        work = work.with_columns(self._parse_date(raw, formats[0]).alias(name))
        for fmt in formats[1:]:
            if work.get_column(name).null_count() == work.get_column(f"raw:{name}").null_count():
                break  # every text is read
            rest = pl.when(pl.col(name).is_null()).then(raw)
            work = work.with_columns(pl.col(name).fill_null(self._parse_date(rest, fmt)))
        return work

    def _numbers(self, work: pl.DataFrame, name: str) -> pl.DataFrame:
        """Parse ``raw:<name>`` as a number; thousands separators are dropped only where the plain read fails."""
        raw = pl.col(f"raw:{name}")
        work = work.with_columns(raw.cast(pl.Float64, strict=False).alias(name))
        if work.get_column(name).null_count() > work.get_column(f"raw:{name}").null_count():
            rest = pl.when(pl.col(name).is_null()).then(raw).str.replace_all(",", "", literal=True)
            work = work.with_columns(pl.col(name).fill_null(rest.cast(pl.Float64, strict=False)))
        return work

    def _booleans(self, work: pl.DataFrame, name: str) -> pl.DataFrame:
        """Parse ``raw:<name>`` as yes/no, deciding once per distinct text (a yes/no column has few)."""
        words: dict[str, bool | None] = {}
        for value in work.get_column(f"raw:{name}").unique().to_list():
            if value is not None:
                lower = value.lower()
                words[value] = True if lower in TRUE_WORDS else (False if lower in FALSE_WORDS else None)
        parsed = pl.col(f"raw:{name}").replace_strict(
            list(words), list(words.values()), default=None, return_dtype=pl.Boolean()
        )
        return work.with_columns(parsed.alias(name))

    def _typed(self, column: sa.Column[Any], text: pl.Expr) -> tuple[pl.Expr, str | None]:
        """(parsed value, reason when text is set but the parse is NULL)."""
        kind = column.type
        if isinstance(kind, sa.Integer):
            number = text.cast(pl.Float64, strict=False)
            return pl.when(number == number.round()).then(number.cast(pl.Int64)), "bad_number"
        return text, None

    # ---- the batch -----------------------------------------------------------------------------

    def __call__(self, batch: pl.DataFrame) -> Prepared:
        mapping, table = self.mapping, self.table
        rules: list[Rule] = []
        # Each source column's trimmed text, once (one source may feed several contract columns).
        sources = sorted(mapping.source_columns())
        # One chunk per column: a CSV batch arrives in many chunks, and every later step that adds a
        # one-chunk column (the region join) would otherwise realign the whole frame (10x its cost).
        batch = batch.rechunk()
        src = batch.select(pl.col(ROW), *[_text(batch, name).alias(source_name(name)) for name in sources])
        raw: dict[str, pl.Expr] = {}
        for column in table.columns:
            name = column.name
            if name in mapping.columns:
                names = [pl.col(source_name(source)) for source in mapping.columns[name]]
                text = names[0] if len(names) == 1 else pl.coalesce(names)
            elif name in mapping.defaults:
                text = pl.lit(mapping.defaults[name], dtype=pl.String())
            else:
                text = pl.lit(None, dtype=pl.String())
            if name in mapping.values and name not in CATEGORY_COLUMNS[table.name] and name != "department_code":
                text = _value_map(text, mapping.values[name])
            if name in mapping.defaults and name in mapping.columns:
                text = text.fill_null(pl.lit(str(mapping.defaults[name])))
            raw[name] = text.alias(f"raw:{name}")
        work = src.with_columns(*raw.values())
        parsed: list[pl.Expr] = []
        read_as: dict[tuple[str, str], str] = {}  # (reason, raw expression) -> the column already parsed from it
        for column in table.columns:
            name, kind = column.name, column.type
            reason = _parse_reason(kind)
            if isinstance(kind, EAGER_TYPES):
                first = read_as.setdefault((str(reason), str(raw[name])), name)
                if first != name:  # one source column feeding two contract columns (resolved, closed): parse once
                    work = work.with_columns(pl.col(first).alias(name))
                elif isinstance(kind, sa.DateTime):
                    work = self._dates(work, name)
                elif isinstance(kind, sa.Float):
                    work = self._numbers(work, name)
                else:
                    work = self._booleans(work, name)
            else:
                value, reason = self._typed(column, pl.col(f"raw:{name}"))
                parsed.append(value.alias(name))
            if reason is not None:
                failed = pl.col(f"raw:{name}").is_not_null() & pl.col(name).is_null()
                rules.append(Rule(name, reason, failed, pl.col(f"raw:{name}")))
        work = work.with_columns(parsed)
        for column in table.columns:
            allowed = schema.ALLOWED_VALUES.get((table.name, column.name))
            if allowed is not None:
                bad = pl.col(column.name).is_not_null() & ~pl.col(column.name).is_in(allowed)
                rules.append(Rule(column.name, "bad_value", bad, pl.col(f"raw:{column.name}")))
        work = self._regions(work, rules)
        work = self._categories(work, rules)
        work = self._departments(work, rules)
        work = self._limits(work)
        self._final_rules(work, rules)
        return self._split(work, rules)

    def _coordinates(self, work: pl.DataFrame) -> pl.DataFrame:
        spec = self.mapping.region
        if spec.point:
            text = pl.col(source_name(spec.point))
            groups = text.str.extract_groups(POINT_PATTERN)
            lat = groups.struct.field("1").cast(pl.Float64, strict=False)
            lon = groups.struct.field("2").cast(pl.Float64, strict=False)
            raw = text
        else:
            assert spec.lat is not None and spec.lon is not None
            lat_text, lon_text = pl.col(source_name(spec.lat)), pl.col(source_name(spec.lon))
            lat = lat_text.cast(pl.Float64, strict=False)
            lon = lon_text.cast(pl.Float64, strict=False)
            raw = pl.concat_str([lat_text, lon_text], separator=", ")
        return work.with_columns(lat.alias("lat"), lon.alias("lon"), raw.alias("raw:point"))

    def _region_columns(self) -> list[str]:
        return [f"{level}_code" for level in self.regions.levels if f"{level}_code" in self.table.columns]

    def _expand(self, finest: pl.Series) -> dict[str, pl.Series]:
        """Finest code per row -> one Series per region level column (ancestors from the hierarchy).

        One left join against a small frame of codes and their ancestors: the rows' codes are hashed
        once for every level column, not once per column.
        """
        for code in finest.unique().to_list():
            if code is not None and code not in self._ancestors:
                self._ancestors[code] = self.regions.ancestors(code)
        columns = self._region_columns()
        known = list(self._ancestors)
        levels = {
            column: [self._ancestors[code].get(column.removesuffix("_code")) for code in known] for column in columns
        }
        table = pl.DataFrame({"finest": known, **levels}, schema=dict.fromkeys(["finest", *columns], pl.String()))
        found = finest.rename("finest").to_frame().join(table, on="finest", how="left", maintain_order="left")
        return {column: found.get_column(column) for column in columns}

    def _regions(self, work: pl.DataFrame, rules: list[Rule]) -> pl.DataFrame:
        spec = self.mapping.region
        west, south, east, north = self.regions.bounds
        outside = (pl.col("lat") < south) | (pl.col("lat") > north) | (pl.col("lon") < west) | (pl.col("lon") > east)
        if spec.method == "point":
            work = self._coordinates(work)
            rules.append(Rule("lat", "out_of_bounds", outside.fill_null(False), pl.col("raw:point")))
            lon = work.get_column("lon").to_numpy().astype(np.float64)
            lat = work.get_column("lat").to_numpy().astype(np.float64)
            finest = pl.Series("finest", self.regions.locate(lon, lat), dtype=pl.String())
            work = work.with_columns(finest, pl.col("raw:point").alias("raw:region"))
            region_column = spec.point or spec.lat or "lat"
        else:
            if "lat" in self.table.columns:
                rules.append(Rule("lat", "out_of_bounds", outside.fill_null(False), pl.col("raw:lat")))
            work = self._finest_from_columns(work)
            if spec.method == "code" and len(self._given_levels()) > 1:
                rules.append(Rule("region", "region_mismatch", pl.col("region_mismatch"), pl.col("raw:region")))
            region_column = next(iter(spec.columns.values()))
        derived = [f"derived:{column}" for column in self._region_columns()]
        if all(name in work.columns for name in derived):  # already expanded for the mismatch rule
            work = work.with_columns(pl.col(name).alias(name.removeprefix("derived:")) for name in derived)
        else:
            work = work.with_columns(list(self._expand(work.get_column("finest")).values()))
        rules.append(Rule(region_column, "unknown_region", pl.col("finest").is_null(), pl.col("raw:region")))
        return work

    def _given_levels(self) -> list[str]:
        return [level for level in self.regions.levels if level in self.mapping.region.columns]

    def _finest_from_columns(self, work: pl.DataFrame) -> pl.DataFrame:
        """Region codes (or names) per level -> ``finest`` known code, ``raw:region`` its text, ``region_mismatch``."""
        spec = self.mapping.region
        levels = self._given_levels()
        texts = {level: pl.col(source_name(spec.columns[level])) for level in levels}
        resolved: dict[str, pl.Expr] = {}
        if spec.method == "code":
            for level in levels:
                known = self._known_codes.setdefault(
                    level, pl.Series([r.code for r in self.regions.levels[level]], dtype=pl.String())
                )
                resolved[level] = pl.when(texts[level].is_in(known.implode())).then(texts[level])
        else:
            parent: str | None = None
            for level in levels:
                work = work.with_columns(self._names_to_codes(level, texts[level], parent).alias(f"code:{level}"))
                resolved[level] = pl.col(f"code:{level}")
                parent = f"code:{level}"
        finest = pl.coalesce([resolved[level] for level in reversed(levels)])
        raw = pl.coalesce([texts[level] for level in reversed(levels)])
        # A text given at some level that does not resolve makes the row unknown, whatever the others say.
        unresolved = pl.any_horizontal([texts[level].is_not_null() & resolved[level].is_null() for level in levels])
        work = work.with_columns(
            pl.when(unresolved).then(None).otherwise(finest).alias("finest"),
            raw.alias("raw:region"),
            *[resolved[level].alias(f"resolved:{level}") for level in levels],
        )
        if spec.method != "code" or len(levels) < 2:
            return work
        expanded = self._expand(work.get_column("finest"))
        work = work.with_columns([series.alias(f"derived:{name}") for name, series in expanded.items()])
        # On the columns computed above (not their expressions again): a code given that is not the
        # finest code's ancestor (or the finest code itself) at its level.
        mismatch = pl.any_horizontal(
            [
                pl.col(f"resolved:{level}").is_not_null()
                & pl.col(f"resolved:{level}").ne_missing(pl.col(f"derived:{level}_code"))
                for level in levels
            ]
        )
        return work.with_columns(mismatch.alias("region_mismatch"))

    def _names_to_codes(self, level: str, names: pl.Expr, parent: str | None) -> pl.Expr:
        regions = self.regions.levels[level]
        if parent is None:
            table = {r.name: r.code for r in regions}
            return names.replace_strict(list(table), list(table.values()), default=None, return_dtype=pl.String())
        keyed = {f"{r.parent_code}\x1f{r.name}": r.code for r in regions}
        key = pl.concat_str([pl.col(parent), pl.lit("\x1f"), names])
        return key.replace_strict(list(keyed), list(keyed.values()), default=None, return_dtype=pl.String())

    def _categories(self, work: pl.DataFrame, rules: list[Rule]) -> pl.DataFrame:
        parent: pl.Series | None = None
        for level, column in enumerate(CATEGORY_COLUMNS[self.table.name], start=1):
            values = work.get_column(f"raw:{column}")
            if parent is None:

                def top(value: str, c: str = column, lv: int = level) -> str | None:
                    return self.categories.code(c, lv, None, value)

                codes = _lookup(values, top)
            else:
                key = pl.select(pl.concat_str([parent.fill_null(""), pl.lit("\x1f"), values])).to_series()

                def resolve(k: str, c: str = column, lv: int = level) -> str | None:
                    above, _, value = k.partition("\x1f")
                    return self.categories.code(c, lv, above or None, value) if above else None

                codes = _lookup(key, resolve)
            work = work.with_columns(codes.alias(column))
            failed = pl.col(f"raw:{column}").is_not_null() & pl.col(column).is_null()
            rules.append(Rule(column, "unknown_category", failed, pl.col(f"raw:{column}")))
            parent = codes
        return work

    def _departments(self, work: pl.DataFrame, rules: list[Rule]) -> pl.DataFrame:
        values = work.get_column("raw:department_code")
        work = work.with_columns(_lookup(values, self.departments.code).alias("department_code"))
        failed = pl.col("raw:department_code").is_not_null() & pl.col("department_code").is_null()
        rules.append(Rule("department_code", "unknown_department", failed, pl.col("raw:department_code")))
        return work

    def _limits(self, work: pl.DataFrame) -> pl.DataFrame:
        """Time limits: the source's value, else the category's, else the city default."""
        categories = CATEGORY_COLUMNS[self.table.name]
        for column, key in LIMIT_COLUMNS[self.table.name].items():
            default = self.city.time_limits[key]
            if categories:
                finest = pl.coalesce([pl.col(c) for c in reversed(categories)])
                codes = work.select(finest).to_series()
                limits = {code: self.categories.limit(code) for code in codes.unique().to_list() if code}
                known = {code: limit for code, limit in limits.items() if limit is not None}
                from_category = codes.replace_strict(
                    list(known), list(known.values()), default=None, return_dtype=pl.Float64()
                )
                work = work.with_columns(pl.col(column).fill_null(from_category))
            work = work.with_columns(pl.col(column).fill_null(default))
        return work

    def _final_rules(self, work: pl.DataFrame, rules: list[Rule]) -> None:
        table = self.table
        for column in table.columns:
            if not column.nullable:
                rules.append(Rule(column.name, "missing", pl.col(column.name).is_null(), pl.lit(None)))
        bounded = [c for c in table.columns if isinstance(c.type, sa.String) and c.type.length]
        # A text is never longer in characters than in bytes, and the byte length costs nothing to read:
        # counting characters (a pass over every text) is needed only where some text has more bytes.
        widest = work.select(pl.col(c.name).str.len_bytes().max() for c in bounded).row(0) if bounded else ()
        for column, most in zip(bounded, widest, strict=True):
            length = column.type.length  # type: ignore[attr-defined]
            too_long = pl.col(column.name).str.len_chars() > length if most and most > length else pl.lit(False)
            rules.append(Rule(column.name, "too_long", too_long.fill_null(False), pl.col(column.name)))
        start, later = TIME_ORDER[table.name]
        for name in later:
            early = (pl.col(name) < pl.col(start)).fill_null(False)
            value = pl.col(name).dt.strftime("%Y-%m-%d %H:%M:%S")
            rules.append(Rule(name, "time_order", early, value))

    def _split(self, work: pl.DataFrame, rules: list[Rule]) -> Prepared:
        chain: Any = pl.when(rules[0].failed).then(0)
        for index, rule in enumerate(rules[1:], start=1):
            chain = chain.when(rule.failed).then(index)
        work = work.with_columns(chain.otherwise(None).cast(pl.Int32).alias("rule"))
        columns = [column.name for column in self.table.columns]
        # Select before filtering: the working frame also holds every source and raw text column.
        valid = work.select(*columns, ROW, "rule").filter(pl.col("rule").is_null()).drop("rule")
        failed = work.filter(pl.col("rule").is_not_null())
        parts = []
        for index in failed.get_column("rule").unique().sort().to_list():
            rule = rules[index]
            part = failed.filter(pl.col("rule") == index).select(
                pl.col(ROW),
                pl.lit(rule.column).alias("column"),
                pl.lit(rule.reason).alias("reason"),
                rule.value.cast(pl.String()).alias("value"),
            )
            parts.append(part)
        rejects = (
            pl.concat(parts).sort(ROW)
            if parts
            else pl.DataFrame(
                schema={ROW: pl.Int64(), "column": pl.String(), "reason": pl.String(), "value": pl.String()}
            )
        )
        return Prepared(valid=valid, rejects=rejects.with_columns(pl.col(ROW).cast(pl.Int64)))


def point_columns(text: str) -> tuple[float, float] | None:
    """``"(37.77, -122.39)"`` -> (lat, lon); for tests and docs."""
    match = re.match(POINT_PATTERN, text)
    return (float(match.group(1)), float(match.group(2))) if match else None
