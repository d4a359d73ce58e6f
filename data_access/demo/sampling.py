"""Random draws shared by the fact generators: days and times of records, durations, channel choices."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

from data_access.demo.reference import HOUR, FloatArray, IntArray
from data_access.demo.timeline import Calendar, Chunk


def days_in_chunk(expected: FloatArray, chunk: Chunk, rng: np.random.Generator) -> IntArray:
    """Day index of every row in a chunk, from Poisson daily counts."""
    counts = rng.poisson(expected[chunk.first : chunk.stop])
    return np.repeat(np.arange(chunk.first, chunk.stop, dtype=np.int64), counts)


def draw_times(calendar: Calendar, day: IntArray, hours: Sequence[float], rng: np.random.Generator) -> FloatArray:
    """Timestamps (whole epoch seconds) on the given days following an hour-of-day profile."""
    profile = np.asarray(hours, dtype=np.float64)
    hour = rng.choice(24, size=len(day), p=profile / profile.sum())
    return np.asarray(calendar.start[day] + hour * HOUR + rng.integers(0, 3600, size=len(day)), dtype=np.float64)


def lognormal(median: FloatArray | float, sigma: float, n: int, rng: np.random.Generator) -> FloatArray:
    """``n`` lognormal durations around ``median``: handling times are skewed, a few take very long."""
    return np.asarray(np.exp(np.log(median) + sigma * rng.standard_normal(n)), dtype=np.float64)


def overdue_z(overdue: FloatArray) -> FloatArray:
    """Standard normal quantiles for target overdue shares (one per department)."""
    return np.array([NormalDist().inv_cdf(1.0 - float(q)) for q in overdue], dtype=np.float64)


def median_for_overdue(limit: FloatArray, z: FloatArray, sigma: float) -> FloatArray:
    """Lognormal median so that the share above ``limit`` is the share whose quantile is ``z``."""
    return np.asarray(limit * np.exp(-z * sigma), dtype=np.float64)


def choose(shares: Sequence[float] | FloatArray, n: int, rng: np.random.Generator) -> IntArray:
    """``n`` indexes drawn with the given (unnormalised) shares."""
    p = np.asarray(shares, dtype=np.float64)
    return np.asarray(rng.choice(len(p), size=n, p=p / p.sum()), dtype=np.int64)


def cut_at_horizon(stages: list[FloatArray], horizon: float) -> list[FloatArray]:
    """Later workflow stages are NULL (NaN) once one stage has not happened by the horizon."""
    result: list[FloatArray] = []
    missing = np.zeros(len(stages[0]), dtype=bool)
    for stage in stages:
        missing = missing | np.isnan(stage) | (stage >= horizon)
        result.append(np.where(missing, np.nan, np.round(stage)))
    return result
