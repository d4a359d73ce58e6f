"""Result tables for people: readable column headers, names next to codes, values as displayed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from dashboard.core.formatting import value_decimals
from dashboard.core.i18n import metric_label, t
from data_access.semantic.metric_defs import Unit
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.query import TIME_GRAINS

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
    return result_table(frame, dimensions=(dimension,), metrics=metrics, names={dimension: names}, lang=lang)


def dimension_columns(dimension: str, names: Mapping[str, str], lang: str) -> list[pl.Expr]:
    """One column for a time bucket or a plain value; code and name columns for a coded dimension."""
    header = t(f"dim_{dimension}", lang)
    if dimension in TIME_GRAINS:
        return [pl.col(dimension).dt.strftime("%Y-%m" if dimension == "month" else "%Y-%m-%d").alias(header)]
    if not names:
        return [pl.col(dimension).alias(header)]
    return [
        pl.col(dimension).alias(f"{header} code" if lang == "en" else f"{header}代码"),
        pl.col(dimension)
        .replace_strict(dict(names), default=pl.col(dimension), return_dtype=pl.String())
        .alias(f"{header} {t('dimension_name', lang).lower()}" if lang == "en" else f"{header}名称"),
    ]


def metric_column(name: str, lang: str) -> pl.Expr:
    """A metric as displayed: rates and scores × 100 and rounded like the cards, hours to tenths."""
    unit = METRICS[name].unit
    expr = pl.col(name)
    if unit in (Unit.RATE, Unit.SCORE):
        expr = (expr * 100).round(value_decimals(unit))
    elif unit is Unit.HOURS:
        expr = expr.round(value_decimals(unit))
    return expr.alias(metric_header(name, lang))


def result_table(
    frame: pl.DataFrame,
    *,
    dimensions: Sequence[str],
    metrics: Sequence[str],
    names: Mapping[str, Mapping[str, str]],
    lang: str,
) -> pl.DataFrame:
    """A result of any number of dimensions for people: readable headers, names next to codes, values as shown.

    ``names`` maps a coded dimension to its code → name table (``{"street": {...}}``); dimensions
    without an entry are shown as they are. This frame is both what the page shows and what every
    export writes, so a download always holds the numbers on screen.
    """
    columns: list[pl.Expr] = []
    for dimension in dimensions:
        columns.extend(dimension_columns(dimension, names.get(dimension, {}), lang))
    columns.extend(metric_column(name, lang) for name in metrics)
    return frame.select(columns)
