"""The vocabulary metrics are declared in: a handful of frozen dataclasses, no SQL.

A *measure* aggregates one row-level value of one fact table (``count`` rows that meet a condition,
``median`` of hours between two timestamps, ...). A *metric* is what users see: one measure, the
ratio of two measures, or a weighted sum of other metrics (the 三率 composite). The compiler in
``data_access.semantic.compiler`` is the only place that turns this vocabulary into SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Agg(StrEnum):
    """Aggregations, mapped to SQL in one table in the compiler."""

    COUNT = "count"
    SUM = "sum"
    AVG = "avg"
    MEDIAN = "median"
    P90 = "p90"

    @property
    def quantile(self) -> float | None:
        return {Agg.MEDIAN: 0.5, Agg.P90: 0.9}.get(self)


class Direction(StrEnum):
    HIGHER_IS_BETTER = "higher"
    LOWER_IS_BETTER = "lower"
    # Volumes: more cases is neither good nor bad in itself, so changes are not coloured.
    NEUTRAL = "neutral"


class Unit(StrEnum):
    COUNT = "count"  # 件
    HOURS = "hours"  # 小时
    RATE = "rate"  # a share 0..1, shown as %
    SCORE = "score"  # 0..1 composite, shown as a 100-point score


# ---- row-level expressions -------------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    """A column of the metric's table."""

    name: str


@dataclass(frozen=True)
class AsOf:
    """The request's as-of time (end of the time range unless given): 'now' for replays."""


@dataclass(frozen=True)
class HoursBetween:
    """Elapsed hours from one timestamp column to another (or to the as-of time)."""

    start: str
    end: str | AsOf


@dataclass(frozen=True)
class Weighted:
    """A weight per value of a column (0 for other values); a weight may name a setting."""

    column: str
    weights: tuple[tuple[str, float | str], ...]


Expr = Col | HoursBetween | Weighted | AsOf


# ---- row-level conditions --------------------------------------------------------------------


@dataclass(frozen=True)
class In:
    column: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class NotIn:
    column: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class IsSet:
    """The column is not NULL."""

    column: str


@dataclass(frozen=True)
class IsTrue:
    column: str


@dataclass(frozen=True)
class Positive:
    """The numeric column is greater than zero."""

    column: str


@dataclass(frozen=True)
class Done:
    """The timestamp column is set and not after the as-of time (so replays see the past as it was)."""

    column: str


@dataclass(frozen=True)
class NotDone:
    column: str


@dataclass(frozen=True)
class AtMost:
    """left <= right, both row-level expressions (e.g. handling hours <= promised limit)."""

    left: Expr
    right: Expr


@dataclass(frozen=True)
class Exceeds:
    """left > right."""

    left: Expr
    right: Expr


@dataclass(frozen=True)
class All:
    conditions: tuple[Cond, ...]


Cond = In | NotIn | IsSet | IsTrue | Positive | Done | NotDone | AtMost | Exceeds | All


# ---- measures and metrics --------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """One aggregation of one row-level value, over the rows that meet ``where``."""

    agg: Agg
    value: Expr | None = None  # None: the row itself (count)
    where: Cond | None = None


@dataclass(frozen=True)
class Simple:
    measure: Measure


@dataclass(frozen=True)
class Ratio:
    numerator: Measure
    denominator: Measure


@dataclass(frozen=True)
class WeightedSum:
    """Σ weight × metric; each weight is a number or the name of a setting (e.g. 三率 weights)."""

    parts: tuple[tuple[str, float | str], ...]


Formula = Simple | Ratio | WeightedSum


@dataclass(frozen=True)
class Metric:
    """A metric as users know it: declared once, compiled per request and per dialect."""

    name: str
    table: str
    label_zh: str
    label_en: str
    formula: Formula
    unit: Unit
    direction: Direction
    description: str
    # Snapshot metrics count what is still open at the as-of time (e.g. overdue cases): they
    # look at every row received before the as-of time, not only those inside the time range.
    snapshot: bool = False
    default_target: float | None = None
