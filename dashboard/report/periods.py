"""The briefing's period: a month ``YYYY-MM`` or an ISO week ``YYYY-Www``, its ranges at the data's as-of time,
its label in either language, and the recent periods the 简报 page offers.

Kept apart from the content because the page needs it (the period picker) before any number is computed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from dashboard.core.formatting import format_datetime
from dashboard.core.periods import Period, Shift
from dashboard.report.problems import ReportProblem
from data_access.semantic.query import TimeRange, cutoff

_PERIOD_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_PERIOD_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class ReportPeriod:
    text: str  # as given: 2026-10 or 2026-W44
    kind: str  # "month" or "week"
    start: dt.datetime
    end: dt.datetime  # exclusive: the start of the next month or week


def parse_period(text: str) -> ReportPeriod:
    """``YYYY-MM`` or ISO week ``YYYY-Www`` → the full calendar period."""
    value = text.strip()
    month = _PERIOD_MONTH.match(value)
    if month:
        year, number = int(month.group(1)), int(month.group(2))
        if not 1 <= number <= 12:
            raise ReportProblem(f"--period {text!r}: month {number} does not exist")
        start = dt.datetime(year, number, 1)
        end = dt.datetime(year + number // 12, number % 12 + 1, 1)
        return ReportPeriod(value, "month", start, end)
    week = _PERIOD_WEEK.match(value)
    if week:
        year, number = int(week.group(1)), int(week.group(2))
        try:
            monday = dt.date.fromisocalendar(year, number, 1)
        except ValueError as exc:
            raise ReportProblem(f"--period {text!r}: ISO week {number} does not exist in {year}") from exc
        start = dt.datetime.combine(monday, dt.time())
        return ReportPeriod(value, "week", start, start + dt.timedelta(days=7))
    raise ReportProblem(f"--period {text!r}: expected a month YYYY-MM (2026-10) or an ISO week YYYY-Www (2026-W44)")


def resolve(period: ReportPeriod, as_of: dt.datetime) -> tuple[Period, bool]:
    """The period's ranges at the data's as-of time, and whether the period is still running.

    A running period is cut at the as-of minute and compared with the same elapsed span of the one
    before (环比) and a year before (同比); a week's 同比 is 52 weeks earlier (weekdays aligned).
    """
    end = min(period.end, cutoff(as_of))
    if end <= period.start:
        raise ReportProblem(
            f"--period {period.text} starts after the data's latest record ({format_datetime(as_of)}): "
            "nothing to report"
        )
    current = TimeRange(period.start, end)
    step = Shift(months=1) if period.kind == "month" else Shift(days=7)
    year = Shift(months=12) if period.kind == "month" else Shift(days=364)
    resolved = Period(
        key=period.kind,
        as_of=as_of,
        current=current,
        previous=step.range_back(current),
        last_year=year.range_back(current),
    )
    return resolved, end < period.end


def period_label(period: ReportPeriod, lang: str) -> str:
    """How the title and the page's picker name the period: 2026年2月 / 2026-02, 2026年第5周 / 2026-W05."""
    if period.kind == "month":
        return f"{period.start:%Y-%m}" if lang == "en" else f"{period.start.year}年{period.start.month}月"
    year, week, _ = period.start.isocalendar()
    return f"{year}-W{week:02d}" if lang == "en" else f"{year}年第{week}周"


def recent_periods(kind: str, as_of: dt.datetime, count: int = 12) -> list[str]:
    """The last ``count`` months (``YYYY-MM``) or ISO weeks (``YYYY-Www``) up to the running one, newest first.

    The running period comes second: a briefing is usually made for the period that just ended.
    """
    periods: list[str] = []
    if kind == "month":
        year, month = as_of.year, as_of.month
        for _ in range(count):
            periods.append(f"{year:04d}-{month:02d}")
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    else:
        day = as_of.date()
        for _ in range(count):
            iso = day.isocalendar()
            periods.append(f"{iso.year:04d}-W{iso.week:02d}")
            day -= dt.timedelta(days=7)
    return periods[1:2] + periods[:1] + periods[2:]
