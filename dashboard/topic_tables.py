"""Detail rows as a person reads them: Chinese (or English) headers, names for codes, rounded hours. Pure.

The frame comes from ``data_access.details`` already masked; this module only relabels it.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from dashboard.i18n import t


def detail_frame(rows: pl.DataFrame, table: str, names: Mapping[str, Mapping[str, str]], lang: str) -> pl.DataFrame:
    """``rows`` with code columns replaced by names, hours rounded to one decimal and headers translated."""
    columns: list[pl.Series] = []
    for name in rows.columns:
        series = rows[name]
        lookup = names.get(name)
        if lookup is not None:
            series = pl.Series(name, [lookup.get(v, v) if v is not None else None for v in series.to_list()], pl.String)
        elif series.dtype == pl.Float64 and (name.endswith("_hours")):
            series = series.round(1)
        elif series.dtype == pl.Datetime:
            series = series.dt.strftime("%Y-%m-%d %H:%M")
        columns.append(series.alias(t(f"col_{name}", lang)))
    return pl.DataFrame(columns)
