"""How numbers read on screen: thousands separators, units, percentages, 100-point scores.

Pure functions of (value, unit, language); ``None`` (no data, or a rate without a denominator)
always reads as an em dash. Signs are ASCII ``+`` / ``-`` because ``st.metric`` reads the first
character of a delta string to choose its arrow.
"""

from __future__ import annotations

import datetime as dt
import math

from data_access.semantic.metric_defs import Unit

MISSING = "—"

# (zh, en) unit suffixes; an empty English suffix means the number stands alone.
_SUFFIX: dict[Unit, tuple[str, str]] = {
    Unit.COUNT: (" 件", ""),
    Unit.HOURS: (" 小时", " h"),
    Unit.RATE: ("%", "%"),
    Unit.SCORE: (" 分", " pts"),
}
_POINTS_SUFFIX: dict[Unit, tuple[str, str]] = {
    Unit.RATE: (" 个百分点", " pp"),
    Unit.SCORE: (" 分", " pts"),
}


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _suffix(table: dict[Unit, tuple[str, str]], unit: Unit, lang: str) -> str:
    zh, en = table[unit]
    return en if lang == "en" else zh


def format_number(value: float | None, decimals: int = 0, *, signed: bool = False) -> str:
    """``12345.678`` -> ``12,346`` (decimals=0) or ``12,345.7`` (decimals=1); ``None`` -> ``—``."""
    if value is None or _missing(value):
        return MISSING
    rounded = round(float(value), decimals)
    if rounded == 0:
        rounded = 0.0  # never show "-0.0"
    sign = "+" if signed and rounded > 0 else ""
    return f"{sign}{rounded:,.{decimals}f}"


def value_decimals(unit: Unit) -> int:
    """Decimals shown for a unit: whole cases, tenths of hours, tenths of a percent or point."""
    return 0 if unit is Unit.COUNT else 1


def scaled(value: float, unit: Unit) -> float:
    """The number as displayed: rates as percent, scores as 0–100 points, others unchanged."""
    return value * 100 if unit in (Unit.RATE, Unit.SCORE) else value


def format_value(value: float | None, unit: Unit, lang: str = "zh") -> str:
    """A metric value with its unit: ``1,462 件``, ``34.1 小时``, ``77.0%``, ``85.3 分``; ``None`` -> ``—``."""
    if value is None or _missing(value):
        return MISSING
    return format_number(scaled(value, unit), value_decimals(unit)) + _suffix(_SUFFIX, unit, lang)


def format_change(change: float | None, unit: Unit, *, relative: bool, lang: str = "zh") -> str | None:
    """A change against the comparison period, signed; ``None`` when there is nothing to compare.

    ``relative``: ``change`` is a fraction of the previous value (``0.123`` -> ``+12.3%``), used for
    counts and hours. Otherwise it is an absolute difference in the metric's own unit: rates in
    percentage points (``0.012`` -> ``+1.2 个百分点``), scores in points, counts in cases, hours in hours.
    """
    if change is None or _missing(change):
        return None
    if relative:
        return format_number(change * 100, 1, signed=True) + "%"
    suffixes = _POINTS_SUFFIX if unit in _POINTS_SUFFIX else _SUFFIX
    return format_number(scaled(change, unit), value_decimals(unit), signed=True) + _suffix(suffixes, unit, lang)


def format_index(index: float | None) -> str:
    """A CityScore-style target index, truncated to two decimals: ``0.9978`` -> ``0.99``.

    Truncated, not rounded, so the number agrees with the colour: a target missed by a hair
    shows 0.99 (amber), never 1.00.
    """
    if index is None:
        return format_number(None, 2)
    return format_number(math.floor(index * 100 + 1e-9) / 100, 2)


def format_datetime(value: dt.datetime | None) -> str:
    """``2025-06-30 17:54``; minutes are the finest resolution a leader needs."""
    return MISSING if value is None else f"{value:%Y-%m-%d %H:%M}"


def format_date(value: dt.date | dt.datetime | None) -> str:
    return MISSING if value is None else f"{value:%Y-%m-%d}"
