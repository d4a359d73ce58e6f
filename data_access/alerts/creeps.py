"""Sustained shifts (``count_creep``, 持续上升): a CUSUM per series for rises too slow for a window test.

A creep of +30 % over three weeks never makes one window improbable, and a baseline that follows the
data absorbs it. A CUSUM accumulates the daily standardised excess over the series' expected count
(its share of the rest of the city over baseline weeks that end ``guard`` days earlier, so the creep
stays out of its own baseline for that long) and signals when the sum crosses ``threshold``. The
day after the sum last stood at zero estimates when the shift began.

Run on the busier levels only (a street's or a district's whole volume, a level-1 category of a
street, a department): on a series of a few cases a month the daily z-scores are too skewed for a
CUSUM. The threshold is set for many series at once: the in-control run length of one series is
about exp(2k(h + 1.166)) / (2k²) days (Siegmund), so with k = 0.5, h = 12 each series raises a false
signal about once in 3 000 years, about one a year over a thousand series.

Pure numpy/polars functions, tested on literal series.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from data_access.alerts.surveillance import ALL


@dataclass(frozen=True)
class CusumSettings:
    lookback: int
    guard: int
    reference: float  # k: the shift, in standard deviations a day, the chart is tuned to find
    threshold: float  # h: the sum that signals
    min_expected: float  # series expecting fewer cases a day than this are not charted
    dispersion: float  # negative-binomial α of the daily counts (variance μ + α μ²)


def dense(daily: pl.DataFrame, first: dt.date, last: dt.date) -> tuple[list[str], np.ndarray]:
    """``series``/``day``/``n`` rows as a series × day matrix over [first, last] (missing days are 0)."""
    days = (last - first).days + 1
    names = sorted(daily["series"].unique().to_list())
    matrix = np.zeros((len(names), max(days, 0)), dtype=float)
    if not names or days <= 0:
        return names, matrix
    index = {name: i for i, name in enumerate(names)}
    inside = daily.filter(pl.col("day").is_between(first, last))
    rows = np.fromiter((index[s] for s in inside["series"].to_list()), dtype=np.int64, count=inside.height)
    cols = np.asarray([(d - first).days for d in inside["day"].to_list()], dtype=np.int64)
    np.add.at(matrix, (rows, cols), inside["n"].to_numpy().astype(float))
    return names, matrix


def expected_counts(counts: np.ndarray, city: np.ndarray, lookback: int, guard: int) -> np.ndarray:
    """Each series' expected count per day: its share of the rest of the city over [t−guard−lookback, t−guard).

    NaN where the baseline reaches before the first day (no judgement without history).
    """
    series, days = counts.shape
    zero = np.zeros((series, 1))
    cum = np.concatenate([zero, np.cumsum(counts, axis=1)], axis=1)
    city_cum = np.concatenate([[0.0], np.cumsum(city)])
    expected = np.full((series, days), np.nan)
    for t in range(guard + lookback, days):
        end, begin = t - guard, t - guard - lookback
        base = cum[:, end] - cum[:, begin]
        rest_base = (city_cum[end] - city_cum[begin]) - base
        rest_now = city[t] - counts[:, t]
        with np.errstate(divide="ignore", invalid="ignore"):
            expected[:, t] = np.where(rest_base > 0, base / rest_base * rest_now, np.nan)
    return expected


def cusum(counts: np.ndarray, expected: np.ndarray, settings: CusumSettings) -> tuple[np.ndarray, np.ndarray]:
    """The upper CUSUM of standardised daily excesses, and for each day the day index its run began.

    S_t = max(0, S_{t−1} + z_t − k), z_t = (y_t − e_t) / √(e_t + α e_t²); days without an expected
    count (or below ``min_expected``) reset the chart. ``began[s, t]`` is the first day of the current
    run (the day after S was last zero); −1 where S is zero.
    """
    series, days = counts.shape
    total = np.zeros((series, days))
    began = np.full((series, days), -1, dtype=np.int64)
    level = np.zeros(series)
    start = np.full(series, -1, dtype=np.int64)
    for t in range(days):
        e = expected[:, t]
        usable = np.isfinite(e) & (e >= settings.min_expected)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(usable, (counts[:, t] - e) / np.sqrt(e + settings.dispersion * e**2), 0.0)
        level = np.where(usable, np.maximum(0.0, level + z - settings.reference), 0.0)
        start = np.where(level > 0, np.where(start < 0, t, start), -1)
        total[:, t] = level
        began[:, t] = start
    return total, began


def creep_signals(
    daily: pl.DataFrame,
    city: pl.DataFrame,
    eval_days: Sequence[dt.date],
    settings: CusumSettings,
    history_start: dt.date,
) -> pl.DataFrame:
    """Series and evaluation days whose CUSUM is at or above the threshold.

    Columns: series, eval_day, start (the run's first day), cusum, observed and expected (the counts of
    the run so far and what the baseline expected over it).
    """
    schema = {
        "series": pl.String(),
        "eval_day": pl.Date(),
        "start": pl.Date(),
        "cusum": pl.Float64(),
        "observed": pl.Float64(),
        "expected": pl.Float64(),
    }
    if daily.is_empty() or not eval_days:
        return pl.DataFrame(schema=schema)
    first = max(history_start, eval_days[0] - dt.timedelta(days=settings.lookback + settings.guard + 120))
    last = eval_days[-1]
    names, counts = dense(daily, first, last)
    city_days = dense(city.with_columns(pl.lit(ALL).alias("series")), first, last)[1]
    city_row = city_days[0] if city_days.shape[0] else np.zeros(counts.shape[1])
    expected = expected_counts(counts, city_row, settings.lookback, settings.guard)
    total, began = cusum(counts, expected, settings)
    wanted = [(d - first).days for d in eval_days if first <= d <= last]
    rows = []
    cum_counts = np.concatenate([np.zeros((counts.shape[0], 1)), np.cumsum(counts, axis=1)], axis=1)
    cum_expected = np.concatenate([np.zeros((counts.shape[0], 1)), np.cumsum(np.nan_to_num(expected), axis=1)], axis=1)
    for t in wanted:
        for s in np.flatnonzero(total[:, t] >= settings.threshold):
            b = int(began[s, t])
            rows.append(
                {
                    "series": names[s],
                    "eval_day": first + dt.timedelta(days=t),
                    "start": first + dt.timedelta(days=b),
                    "cusum": float(total[s, t]),
                    "observed": float(cum_counts[s, t + 1] - cum_counts[s, b]),
                    "expected": float(cum_expected[s, t + 1] - cum_expected[s, b]),
                }
            )
    return pl.DataFrame(rows, schema=schema)
