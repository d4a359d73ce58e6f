"""Detail rows as a person reads them: Chinese (or English) headers, names for codes, rounded hours. Pure.

The frame comes from ``data_access.semantic.details`` already masked; this module only picks, relabels and
formats columns. Missing values show as empty cells, not "None".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from dashboard.core.i18n import t

# The overdue lists lead with how long each item is overdue; the rest of the row stays short.
OVERDUE_COLUMNS: dict[str, tuple[str, ...]] = {
    "service_cases": (
        "case_id", "overdue_hours", "submitted_at", "service_item_name", "department_code", "district_code",
        "street_code", "channel", "promised_limit_hours", "elapsed_hours",
    ),
    "complaints": (
        "ticket_id", "overdue_hours", "received_at", "title", "category_l3_code", "department_code", "district_code",
        "street_code", "time_limit_hours", "elapsed_hours",
    ),
    "grid_events": (
        "event_id", "overdue_hours", "collected_at", "source", "major_category_code", "grid_code", "street_code",
        "department_code", "side_state", "dispatched_at", "time_limit_hours", "elapsed_hours",
    ),
}  # fmt: skip


def _text(series: pl.Series, name: str, lookup: Mapping[str, str] | None) -> pl.Series:
    if lookup is not None:
        values = [lookup.get(v, v) if v is not None else "" for v in series.to_list()]
    elif series.dtype == pl.Datetime:
        values = [v.strftime("%Y-%m-%d %H:%M") if v is not None else "" for v in series.to_list()]
    elif series.dtype == pl.Float64:
        values = [f"{v:,.1f}".removesuffix(".0") if v is not None else "" for v in series.to_list()]
    else:
        values = ["" if v is None else str(v) for v in series.to_list()]
    return pl.Series(name, values, dtype=pl.String)


def detail_frame(
    rows: pl.DataFrame,
    table: str,
    names: Mapping[str, Mapping[str, str]],
    lang: str,
    columns: Sequence[str] | None = None,
) -> pl.DataFrame:
    """``rows`` (``columns`` of them, in that order) with names for codes, hours to one decimal, headers translated."""
    chosen = [name for name in (columns or rows.columns) if name in rows.columns]
    return pl.DataFrame([_text(rows[name], t(f"col_{name}", lang), names.get(name)) for name in chosen])
