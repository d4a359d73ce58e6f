"""Result tables for people: readable column headers, names next to codes, values as displayed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from dashboard.formatting import value_decimals
from dashboard.i18n import metric_label, t
from data_access.metric_defs import Unit
from data_access.metric_registry import METRICS
from data_access.query import TIME_GRAINS

_UNIT_HEADERS: dict[Unit, tuple[str, str]] = {
    Unit.COUNT: ("件", "cases"),
    Unit.HOURS: ("小时", "h"),
    Unit.RATE: ("%", "%"),
    Unit.SCORE: ("分", "pts"),
}


def metric_header(metric: str, lang: str) -> str:
    """``按时办结率（%）`` / ``On-time completion rate (%)``."""
    zh, en = _UNIT_HEADERS[METRICS[metric].unit]
    return f"{metric_label(metric, 'en')} ({en})" if lang == "en" else f"{metric_label(metric, 'zh')}（{zh}）"


def display_table(
    frame: pl.DataFrame, *, dimension: str, metrics: Sequence[str], names: Mapping[str, str], lang: str
) -> pl.DataFrame:
    """The result with a name column for coded dimensions and rates/scores scaled to % / points."""
    columns: list[pl.Expr] = []
    dimension_header = t(f"dim_{dimension}", lang)
    if dimension in TIME_GRAINS:
        columns.append(pl.col(dimension).dt.strftime("%Y-%m-%d").alias(dimension_header))
    elif not names:
        columns.append(pl.col(dimension).alias(dimension_header))
    else:
        columns.append(
            pl.col(dimension).alias(f"{dimension_header} code" if lang == "en" else f"{dimension_header}代码")
        )
        columns.append(
            pl.col(dimension)
            .replace_strict(dict(names), default=pl.col(dimension), return_dtype=pl.String())
            .alias(
                f"{dimension_header} {t('dimension_name', lang).lower()}" if lang == "en" else f"{dimension_header}名称"
            )
        )
    for name in metrics:
        unit = METRICS[name].unit
        expr = pl.col(name)
        if unit in (Unit.RATE, Unit.SCORE):
            expr = (expr * 100).round(value_decimals(unit))
        elif unit is Unit.HOURS:
            expr = expr.round(value_decimals(unit))
        columns.append(expr.alias(metric_header(name, lang)))
    return frame.select(columns)
