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

The rules and their reasons are ``data_access.ingest.rules``; regions are found by
``data_access.ingest.region_match``, categories and departments by ``data_access.ingest.resolvers``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
import sqlalchemy as sa

from data_access.config.city import CityConfig
from data_access.contract import schema
from data_access.ingest.mapping import CATEGORY_COLUMNS, LIMIT_COLUMNS, Mapping
from data_access.ingest.readers import ROW
from data_access.ingest.region_match import RegionMatcher
from data_access.ingest.regions import CityRegions
from data_access.ingest.resolvers import WILDCARD, CategoryResolver, DepartmentResolver
from data_access.ingest.rules import Prepared, Rule, final_rules, source_name, split_rejects

# Always tried after the mapping's formats: what XLSX/Parquet/Open311 cells become as text (with or without fraction).
FALLBACK_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S%.f",)
TRUE_WORDS = ("true", "t", "yes", "y", "1", "是", "已", "√")
FALSE_WORDS = ("false", "f", "no", "n", "0", "否", "未", "×")
# Types parsed frame by frame (a cheap first try, the costly one only on the rows it left).
EAGER_TYPES = (sa.DateTime, sa.Float, sa.Boolean)


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
        self.region_matcher = RegionMatcher(mapping.region, regions, self.table)

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
        work = self.region_matcher.apply(work, rules)
        work = self._categories(work, rules)
        work = self._departments(work, rules)
        work = self._limits(work)
        final_rules(self.table, work, rules)
        return split_rejects(self.table, work, rules)

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
