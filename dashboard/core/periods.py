"""Period presets relative to the data's as-of time, and their comparison periods. Pure functions.

"Now" is the latest record time in the facts (``data_as_of``), not the wall clock, so a replayed or
stale database still shows complete, comparable periods. Every current period runs from its
natural start to the *cut-off*: the end of the as-of minute, so the latest record is included in
the half-open range. Comparison periods cover the same elapsed span one period earlier
(today so far vs yesterday up to the same time; this month so far vs last month up to the same day
and time) and the same span a year earlier (同比).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from data_access.semantic.query import TimeRange, cutoff

PERIODS: tuple[str, ...] = ("today", "week", "month", "last_30_days", "last_12_months")
COCKPIT_PERIODS: tuple[str, ...] = ("today", "week", "month")
GRAINS: tuple[str, ...] = ("day", "week", "month")

TREND_DAYS = 30
# A daily trend is compared with the 30 days five weeks earlier, so Mondays lie over Mondays
# (weekly rhythms dominate daily volumes; a 30-day shift would misalign them by two days).
DAILY_COMPARISON_SHIFT_DAYS = 35
TREND_WEEKS = 13
TREND_MONTHS = 12


@dataclass(frozen=True)
class Shift:
    """A calendar step back in time: whole months (clamped to the month's end) plus days."""

    months: int = 0
    days: int = 0

    def back(self, value: dt.datetime) -> dt.datetime:
        return add_months(value, -self.months) - dt.timedelta(days=self.days)

    @property
    def polars_offset(self) -> str:
        """The forward shift as a polars duration string (``dt.offset_by``), e.g. ``12mo`` or ``30d``."""
        return f"{self.months}mo{self.days}d"

    def range_back(self, time_range: TimeRange) -> TimeRange:
        return TimeRange(self.back(time_range.start), self.back(time_range.end))


@dataclass(frozen=True)
class Period:
    """A preset resolved against an as-of time: the current range and its two comparisons."""

    key: str
    as_of: dt.datetime
    current: TimeRange
    previous: TimeRange  # 环比: the same elapsed span one period earlier
    last_year: TimeRange  # 同比: the same span twelve months earlier


@dataclass(frozen=True)
class TrendWindow:
    """The buckets a trend chart shows and the earlier window drawn dashed over it."""

    grain: str
    current: TimeRange
    previous: TimeRange
    shift: Shift  # previous + shift lands on the current axis


def add_months(value: dt.datetime, months: int) -> dt.datetime:
    """Calendar month arithmetic; the day is clamped (31 March - 1 month = 28/29 February)."""
    index = value.year * 12 + value.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


def midnight(value: dt.datetime) -> dt.datetime:
    return value.replace(hour=0, minute=0, second=0, microsecond=0)


def period_start(key: str, as_of: dt.datetime) -> dt.datetime:
    """Where a preset starts: today 00:00, Monday 00:00, the 1st, 29 days before today, 11 months before the 1st."""
    day = midnight(as_of)
    if key == "today":
        return day
    if key == "week":
        return day - dt.timedelta(days=day.weekday())
    if key == "month":
        return day.replace(day=1)
    if key == "last_30_days":
        return day - dt.timedelta(days=TREND_DAYS - 1)
    if key == "last_12_months":
        return add_months(day.replace(day=1), -(TREND_MONTHS - 1))
    raise ValueError(f"unknown period {key!r} (known: {', '.join(PERIODS)})")


def period_shift(key: str) -> Shift:
    """One period of a preset, as a calendar step."""
    shifts = {
        "today": Shift(days=1),
        "week": Shift(days=7),
        "month": Shift(months=1),
        "last_30_days": Shift(days=TREND_DAYS),
        "last_12_months": Shift(months=TREND_MONTHS),
    }
    if key not in shifts:
        raise ValueError(f"unknown period {key!r} (known: {', '.join(PERIODS)})")
    return shifts[key]


def resolve_period(key: str, as_of: dt.datetime) -> Period:
    """The preset ``key`` at ``as_of``, with its previous period and the same period last year."""
    current = TimeRange(period_start(key, as_of), cutoff(as_of))
    return Period(
        key=key,
        as_of=as_of,
        current=current,
        previous=period_shift(key).range_back(current),
        last_year=Shift(months=12).range_back(current),
    )


def custom_period(current: TimeRange, as_of: dt.datetime) -> Period:
    """An explicit range (from a link): compared with the same length just before and a year earlier."""
    return Period(
        key="custom",
        as_of=as_of,
        current=current,
        previous=current.previous(),
        last_year=Shift(months=12).range_back(current),
    )


def trend_window(grain: str, as_of: dt.datetime) -> TrendWindow:
    """The last 30 complete days, 13 complete weeks or 12 complete months before the as-of time.

    Only complete buckets: the running day (week, month) would plunge at the end of the line and
    read as a collapse from across the room; the KPI cards cover the running period. The
    comparison window has the same length: for days the window five weeks earlier (weekdays
    aligned), for weeks the 13 weeks just before, for months the same months last year.
    """
    day = midnight(as_of)
    if grain == "day":
        end = day
        start, shift = end - dt.timedelta(days=TREND_DAYS), Shift(days=DAILY_COMPARISON_SHIFT_DAYS)
    elif grain == "week":
        end = day - dt.timedelta(days=day.weekday())
        start, shift = end - dt.timedelta(weeks=TREND_WEEKS), Shift(days=7 * TREND_WEEKS)
    elif grain == "month":
        end = day.replace(day=1)
        start, shift = add_months(end, -TREND_MONTHS), Shift(months=TREND_MONTHS)
    else:
        raise ValueError(f"unknown grain {grain!r} (known: {', '.join(GRAINS)})")
    current = TimeRange(start, end)
    return TrendWindow(grain, current, shift.range_back(current), shift)
