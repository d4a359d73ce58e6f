"""The demo's calendar (730 days with their volume factors) and its chunks, the unit of generation and insertion."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import numpy as np

from data_access.demo.reference import CHUNK_ROWS, DAY, DAYS, EPOCH, SPRING_FESTIVAL, BoolArray, FloatArray, IntArray


@dataclasses.dataclass(frozen=True)
class Calendar:
    """The 730 days of the demo with their start (epoch seconds, local wall time) and volume factors."""

    dates: list[dt.date]
    start: FloatArray
    weekday: IntArray
    festival: BoolArray
    years: FloatArray  # years elapsed since the first day
    horizon: float  # end + 1 day 00:00: nothing happens at or after it

    def factors(
        self, weekday: Sequence[float], summer: float, peak_day: int, festival: float, growth: float
    ) -> FloatArray:
        """Relative daily volume: weekday shape x mild yearly wave x Spring Festival dip x slow growth."""
        doy = np.array([d.timetuple().tm_yday for d in self.dates], dtype=np.float64)
        yearly = 1.0 + summer * np.cos(2 * np.pi * (doy - peak_day) / 365.25)
        shape = np.asarray(weekday)[self.weekday] * yearly * np.where(self.festival, festival, 1.0)
        return np.asarray(shape * (1.0 + growth * self.years), dtype=np.float64)


def build_calendar(end: dt.date, until: dt.datetime | None = None) -> Calendar:
    """The demo's days; ``until`` (a moment on ``end``) stops time there instead of at midnight."""
    if until is not None and until.date() != end:
        raise ValueError(f"until {until} is not on the end date {end}")
    dates = [end - dt.timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    start = np.array([(d - EPOCH).days * DAY for d in dates])
    festival = np.array([any(0 <= (d - f).days < 7 for f in SPRING_FESTIVAL) for d in dates])
    return Calendar(
        dates=dates,
        start=start,
        weekday=np.array([d.weekday() for d in dates], dtype=np.int64),
        festival=festival,
        years=np.arange(DAYS, dtype=np.float64) / 365.0,
        horizon=float(start[-1] + DAY) if until is None else (until - dt.datetime(1970, 1, 1)).total_seconds(),
    )


@dataclasses.dataclass(frozen=True)
class Chunk:
    """A calendar month, or part of one at large scales: the unit of generation and insertion."""

    first: int  # first day index
    stop: int  # one past the last day index
    label: str


def fact_chunks(calendar: Calendar, max_daily_rows: float) -> list[Chunk]:
    """Calendar months, split into pieces of at most CHUNK_ROWS expected rows per table (bounded memory)."""
    max_days = max(1, int(CHUNK_ROWS // max(max_daily_rows, 1.0)))
    chunks: list[Chunk] = []
    first = 0
    for i in range(1, DAYS + 1):
        if i == DAYS or calendar.dates[i].day == 1 or i - first >= max_days:
            label = calendar.dates[first].strftime("%Y-%m" if calendar.dates[first].day == 1 else "%Y-%m-%d")
            chunks.append(Chunk(first, i, label))
            first = i
    return chunks
