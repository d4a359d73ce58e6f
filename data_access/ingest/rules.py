"""The reject rules of an import: their reasons, and the split of a batch into valid rows and rejects.

Every rule is a boolean expression over the transformer's working frame; a row is rejected with the first
rule it breaks, in the order the rules were added (the order ``data_access.ingest.transform`` describes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
import sqlalchemy as sa

from data_access.contract import schema
from data_access.ingest.readers import ROW

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


@dataclass(frozen=True)
class Rule:
    """One check: rows where ``failed`` holds are rejected with ``reason``, naming ``column`` and ``value``."""

    column: str
    reason: str
    failed: pl.Expr
    value: pl.Expr


@dataclass(frozen=True)
class Prepared:
    """A batch split in two: what is staged for the load and what goes to the quarantine."""

    valid: pl.DataFrame  # contract columns in table order, then _row
    rejects: pl.DataFrame  # _row, column, reason, value


def source_name(column: str) -> str:
    """The name of a source column's trimmed text inside the transformer's working frame."""
    return f"src:{column}"


def final_rules(table: sa.Table, work: pl.DataFrame, rules: list[Rule]) -> None:
    """Add the rules checked on the finished columns: required values, text lengths, time order."""
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


def split_rejects(table: sa.Table, work: pl.DataFrame, rules: list[Rule]) -> Prepared:
    """Valid rows (contract columns, ``_row``) and rejects, each reject with the first rule it breaks."""
    chain: Any = pl.when(rules[0].failed).then(0)
    for index, rule in enumerate(rules[1:], start=1):
        chain = chain.when(rule.failed).then(index)
    work = work.with_columns(chain.otherwise(None).cast(pl.Int32).alias("rule"))
    columns = [column.name for column in table.columns]
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
        else pl.DataFrame(schema={ROW: pl.Int64(), "column": pl.String(), "reason": pl.String(), "value": pl.String()})
    )
    return Prepared(valid=valid, rejects=rejects.with_columns(pl.col(ROW).cast(pl.Int64)))
