"""What a run evaluates: the evaluation days, the data cut-off, and the first record of a table.

Detectors are judged at the end of each day using only data that existed then, so a replay of a
past window raises exactly what daily runs would have raised; ``WARMUP_DAYS`` before the window
give the episodes that cross its start their true start.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from data_access.alerts import aggregates as aq
from data_access.semantic.query import Scope, cutoff

WARMUP_DAYS = 14  # evaluated before a window so that episodes crossing its start get their true start


@dataclass(frozen=True)
class Plan:
    """Which days to evaluate and up to when data may be used."""

    eval_days: tuple[dt.date, ...]
    report_from: dt.date  # episodes raised before this day are warm-up, not reported
    cutoff_at: dt.datetime  # exclusive end of the data the run may read
    as_of_mode: bool

    def point(self, day: dt.date) -> dt.datetime:
        """The moment a day is evaluated: its end, or the cut-off on the last (partial) day."""
        return min(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()), self.cutoff_at)


def make_plan(as_of: dt.datetime | None, since: dt.date | None, until: dt.date | None) -> Plan:
    """The days to evaluate: the as-of day and its warm-up, or a replay window and its warm-up."""
    if since is not None and until is not None:
        if until < since:
            raise ValueError(f"--until {until} is before --since {since}")
        first = since - dt.timedelta(days=WARMUP_DAYS)
        days = tuple(first + dt.timedelta(days=i) for i in range((until - first).days + 1))
        return Plan(days, since, dt.datetime.combine(until + dt.timedelta(days=1), dt.time()), False)
    if as_of is None:
        raise ValueError("give an as-of time or both since and until")
    last = as_of.date()
    first = last - dt.timedelta(days=WARMUP_DAYS)
    days = tuple(first + dt.timedelta(days=i) for i in range(WARMUP_DAYS + 1))
    return Plan(days, last, cutoff(as_of), True)


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day``: the aggregates take datetimes, the detectors think in days."""
    return dt.datetime.combine(day, dt.time())


def first_record_day(engine: sa.Engine, table: str, scope: Scope) -> dt.date | None:
    """The day of the first record of ``table`` in the scope (None: no record): no baseline reaches before it."""
    first = aq.daily_counts(engine, table, (), dt.datetime(1900, 1, 1), dt.datetime(9999, 1, 1), scope)
    value = first["day"].min()
    return value if isinstance(value, dt.date) else None
