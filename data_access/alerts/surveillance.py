"""Count surveillance (风险研判 v2): many series tested every day, false discoveries controlled.

The method, as public-health surveillance does it (CDC EARS / ESSENCE, the space-time permutation
model of SaTScan), on daily counts read from the database as small aggregates:

* **Series.** The finest daily counts (e.g. street × level-3 category) are summed up a hierarchy of
  levels (district, street × all, level-1, level-2, level-3 categories; departments), so a surge
  concentrated in one pair, spread over a street's categories, or over a district is each seen at the
  level where it stands out.
* **Expected count.** A series' share of everything else in the city over its baseline weeks (ending a
  guard band before the window, so an ongoing event does not enter its own baseline), times
  everything else in the city during the window. Conditioning on the city's own movement removes what
  every series shares (weekday, season, holidays, growth) without a model of it, and keeps city-wide
  changes from alerting. A pseudo-count keeps a never-seen series from being "infinitely" above normal.
* **Overdispersion.** Counts vary more than Poisson (weather, local events): a negative binomial
  whose dispersion is estimated per level from the residual variance of the level's own series.
* **Windows.** 1, 3 and 7 days (configurable), so a one-day burst is not diluted and a week-long
  rise adds up.
* **False-discovery control.** Every (series, window) is one test each day; Benjamini–Hochberg at the
  configured level across all of a day's tests (``m`` counts every series that exists, even those with
  nothing in the window), instead of a fixed p cut.
* **One alert per problem.** Of the day's discoveries on one branch (regions and categories that
  enclose one another), the one with the smallest p-value is kept: the level that explains it best.

Pure functions: polars frames in and out, tested on literal frames. scipy gives the tails and
statsmodels the Benjamini–Hochberg step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats
from statsmodels.stats.multitest import fdrcorrection

from data_access.alerts.statistics import window_sums

ALL = "*"  # the code of "every category" / "the whole city" in a series key


@dataclass(frozen=True)
class Level:
    """One level of the hierarchy: which key columns of the finest frame identify a series."""

    name: str
    keys: tuple[str, ...]  # columns of the finest daily frame; an empty tuple is the whole city


@dataclass(frozen=True)
class SurveillanceSettings:
    """How each series is judged (one rule's keys)."""

    windows: tuple[int, ...]
    lookback: int
    guard: int
    fdr_level: float
    min_count: int
    min_ratio: float
    prior_count: float


def level_daily(finest: pl.DataFrame, level: Level) -> pl.DataFrame:
    """The finest daily counts summed to one level: ``series`` (the key joined by '|'), ``day``, ``n``."""
    keyed = finest.drop_nulls(list(level.keys)) if level.keys else finest
    series = pl.concat_str([pl.col(k) for k in level.keys], separator="|") if level.keys else pl.lit(ALL)
    return keyed.group_by(series.alias("series"), "day").agg(pl.col("n").sum()).sort("series", "day")


def city_daily(finest: pl.DataFrame) -> pl.DataFrame:
    """The whole scope's count per day (``day``, ``n``): what every series is judged against."""
    return finest.group_by("day").agg(pl.col("n").sum()).sort("day")


def dispersion(daily: pl.DataFrame, city: pl.DataFrame, first: dt.date, last: dt.date) -> float:
    """Negative-binomial α of a level (variance = μ + α μ²), by moments against the city-conditioned mean.

    Each series' mean on day t is its share of the city times the city's count that day; the excess of
    the residual variance over the mean, pooled over the level's series, estimates α (0: Poisson).
    """
    span = daily.filter(pl.col("day").is_between(first, last))
    city_span = city.filter(pl.col("day").is_between(first, last))
    city_total = float(city_span["n"].sum())
    city_sq = float((city_span["n"].cast(pl.Float64) ** 2).sum())
    if span.is_empty() or city_total <= 0:
        return 0.0
    per = (
        span.join(city_span.rename({"n": "c"}), on="day", how="left")
        .group_by("series")
        .agg(
            pl.col("n").sum().cast(pl.Float64).alias("sy"),
            (pl.col("n").cast(pl.Float64) ** 2).sum().alias("syy"),
            (pl.col("n").cast(pl.Float64) * pl.col("c").fill_null(0)).sum().alias("syc"),
        )
        .with_columns((pl.col("sy") / city_total).alias("share"))
    )
    # Σ_t (y − e)² − Σ_t e over each series (e = share × c_t), then pooled against Σ_t e².
    residual = pl.col("syy") - 2 * pl.col("share") * pl.col("syc") + pl.col("share") ** 2 * city_sq
    excess = per.select((residual - pl.col("sy")).sum()).item()
    squares = per.select((pl.col("share") ** 2 * city_sq).sum()).item()
    if not squares or squares <= 0:
        return 0.0
    return float(min(max(excess / squares, 0.0), 5.0))


def tail_probability(observed: np.ndarray, expected: np.ndarray, alpha: float) -> np.ndarray:
    """P(X ≥ observed) under a negative binomial of mean ``expected`` and dispersion ``alpha`` (Poisson at 0)."""
    observed = np.asarray(observed, dtype=float)
    expected = np.maximum(np.asarray(expected, dtype=float), 1e-12)
    if alpha <= 1e-9:
        return np.asarray(stats.poisson.sf(observed - 1, expected), dtype=float)
    size = 1.0 / alpha
    return np.asarray(stats.nbinom.sf(observed - 1, size, size / (size + expected)), dtype=float)


def window_tests(
    daily: pl.DataFrame,
    city: pl.DataFrame,
    eval_days: Sequence[dt.date],
    window: int,
    settings: SurveillanceSettings,
    history_start: dt.date,
) -> pl.DataFrame:
    """Per series and evaluation day with something in the window: observed and expected counts.

    expected = (series' baseline + prior) ÷ (city's baseline − series' baseline) × (city's window −
    series' window): the series' usual share of the rest of the city applied to the rest of the city now.
    Only days whose baseline lies wholly after ``history_start`` are judged.
    """
    span = window + settings.guard + settings.lookback
    usable = [d for d in eval_days if d - dt.timedelta(days=span - 1) >= history_start]
    sums = window_sums(daily, ["series"], ["n"], usable, window, settings.lookback, settings.guard)
    schema = {"series": pl.String(), "eval_day": pl.Date(), "observed": pl.Float64(), "expected": pl.Float64()}
    if sums.is_empty():
        return pl.DataFrame(schema=schema)
    city_sums = window_sums(
        city.with_columns(pl.lit(ALL).alias("series")),
        ["series"],
        ["n"],
        usable,
        window,
        settings.lookback,
        settings.guard,
    ).select("eval_day", pl.col("n_window").alias("c_window"), pl.col("n_base").alias("c_base"))
    rest_base = pl.col("c_base") - pl.col("n_base")
    rest_window = pl.col("c_window") - pl.col("n_window")
    return (
        sums.join(city_sums, on="eval_day", how="inner")
        .filter(rest_base > 0)
        .with_columns(
            pl.col("n_window").cast(pl.Float64).alias("observed"),
            ((pl.col("n_base") + settings.prior_count) / rest_base * rest_window).cast(pl.Float64).alias("expected"),
        )
        .select(list(schema))
    )


def window_dispersion(tested: pl.DataFrame, floor: float) -> float:
    """Negative-binomial α of window counts, by moments over the windows expecting at least one case.

    A series' share of the city drifts from week to week (seasons, campaigns, staff), which a daily
    dispersion does not see: judged at the window's own scale, Σ((O − E)² − E) ÷ Σ E² pooled over
    the level's windows, trimmed of the most extreme 2 %. Windows expecting less than one case are left
    out of the estimate (their empty windows are not in the frame); the result is at least ``floor``.
    """
    busy = tested.filter(pl.col("expected") >= 1.0)
    if busy.height < 30:
        return floor
    # Trimmed: the most extreme 2 % of windows (the events the test is looking for) stay out of the estimate.
    pearson = (pl.col("observed") - pl.col("expected")) ** 2 / pl.col("expected")
    busy = busy.filter(pearson <= busy.select(pearson.quantile(0.98)).item())
    excess = busy.select(((pl.col("observed") - pl.col("expected")) ** 2 - pl.col("expected")).sum()).item()
    squares = busy.select((pl.col("expected") ** 2).sum()).item()
    return float(min(max(excess / squares if squares else 0.0, floor), 5.0))


def series_counts(daily: pl.DataFrame, first: dt.date, last: dt.date) -> int:
    """How many series of a level exist (had any record) up to ``last``: each is a test every day."""
    return int(daily.filter(pl.col("day") <= last)["series"].n_unique()) if first <= last else 0


def benjamini_hochberg(p_values: np.ndarray, tests: int, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Which of ``p_values`` are discoveries when ``tests`` hypotheses were tested in all (the rest had p = 1).

    statsmodels' step-up on the given values, rescaled to ``tests``: the adjusted p-values of the
    smallest values do not depend on how the untested ones (p = 1) rank, only on their number.
    Returns (rejected, adjusted p-values).
    """
    if len(p_values) == 0:
        return np.zeros(0, dtype=bool), np.zeros(0)
    _, adjusted = fdrcorrection(p_values, alpha=level, method="indep", is_sorted=False)
    adjusted = np.minimum(1.0, adjusted * max(tests, len(p_values)) / len(p_values))
    return adjusted <= level, adjusted


def discoveries(
    finest: pl.DataFrame,
    levels: Sequence[Level],
    eval_days: Sequence[dt.date],
    settings: SurveillanceSettings,
    history_start: dt.date,
) -> pl.DataFrame:
    """Every (level, series, window, day) discovered under Benjamini–Hochberg across all of a day's tests.

    ``finest`` holds ``day``, ``n`` and the key columns of every level. Columns out: level, series,
    window, eval_day, observed, expected, p_value, q_value, alpha (the level's dispersion).
    """
    out_schema = {
        "level": pl.String(),
        "series": pl.String(),
        "window": pl.Int64(),
        "eval_day": pl.Date(),
        "observed": pl.Float64(),
        "expected": pl.Float64(),
        "p_value": pl.Float64(),
        "q_value": pl.Float64(),
        "alpha": pl.Float64(),
    }
    if finest.is_empty() or not eval_days:
        return pl.DataFrame(schema=out_schema)
    city = city_daily(finest)
    fit_last = eval_days[-1]
    fit_first = fit_last - dt.timedelta(days=settings.lookback + settings.guard + max(settings.windows))
    tested: list[pl.DataFrame] = []
    tests_per_day = 0
    for level in levels:
        daily = level_daily(finest, level)
        tests_per_day += series_counts(daily, history_start, fit_last) * len(settings.windows)
        daily_alpha = dispersion(daily, city, fit_first, fit_last) if level.keys else 0.0
        for window in settings.windows:
            every_window = window_tests(daily, city, eval_days, window, settings, history_start)
            alpha = window_dispersion(every_window, daily_alpha)
            found = every_window.filter(
                (pl.col("observed") >= max(settings.min_count, 1))
                & (pl.col("observed") >= settings.min_ratio * pl.col("expected"))
            )
            if found.is_empty():
                continue
            p_values = tail_probability(found["observed"].to_numpy(), found["expected"].to_numpy(), alpha)
            tested.append(
                found.with_columns(
                    pl.lit(level.name).alias("level"),
                    pl.lit(window, pl.Int64()).alias("window"),
                    pl.lit(alpha, pl.Float64()).alias("alpha"),
                    pl.Series("p_value", p_values, dtype=pl.Float64),
                )
            )
    if not tested:
        return pl.DataFrame(schema=out_schema)
    kept = discoveries_per_day(pl.concat(tested, how="diagonal_relaxed"), tests_per_day, settings.fdr_level)
    return kept.select(list(out_schema)).cast(out_schema).sort("eval_day", "p_value")  # type: ignore[arg-type]


def discoveries_per_day(tested: pl.DataFrame, tests_per_day: int, level: float) -> pl.DataFrame:
    """The rows of ``tested`` (with ``eval_day`` and ``p_value``) that Benjamini–Hochberg keeps, day by day.

    Each evaluation day is one family of ``tests_per_day`` hypotheses; the kept rows get their
    adjusted p-value as ``q_value``.
    """
    kept = [
        group.with_columns(pl.Series("q_value", adjusted)).filter(pl.Series(rejected))
        for (_day,), group in tested.group_by("eval_day")
        for rejected, adjusted in [benjamini_hochberg(group["p_value"].to_numpy(), tests_per_day, level)]
    ]
    return pl.concat(kept) if kept else tested.with_columns(pl.lit(None, pl.Float64()).alias("q_value")).clear()


def related(a: str | None, b: str | None, parents: Mapping[str, str | None]) -> bool:
    """Whether two codes are on one branch of a tree (equal, or one encloses the other); ALL encloses all."""
    if a is None or b is None or a == ALL or b == ALL:
        return True

    def chain(code: str) -> list[str]:
        found = [code]
        while (parent := parents.get(found[-1])) is not None and len(found) < 8:
            found.append(parent)
        return found

    return a in chain(b) or b in chain(a)


def best_explanations(
    found: pl.DataFrame, entity: Mapping[str, tuple[str | None, str | None]], parents: Mapping[str, str | None]
) -> pl.DataFrame:
    """Of each day's discoveries, keep one per branch: the smallest p-value, then the others unrelated to it.

    ``entity`` maps a (level, series) key ``"level|series"`` to its (region, category) codes; two
    discoveries are on one branch when their regions and their categories are each related.
    """
    if found.is_empty():
        return found
    keep: list[bool] = []
    chosen: dict[dt.date, list[tuple[str | None, str | None]]] = {}
    for row in found.sort("eval_day", "p_value", "window").iter_rows(named=True):
        region, category = entity[f"{row['level']}|{row['series']}"]
        taken = chosen.setdefault(row["eval_day"], [])
        clash = any(related(region, r, parents) and related(category, c, parents) for r, c in taken)
        keep.append(not clash)
        if not clash:
            taken.append((region, category))
    return found.sort("eval_day", "p_value", "window").filter(pl.Series(keep))


def evidence_start(found: pl.DataFrame, daily_by_key: pl.DataFrame) -> pl.DataFrame:
    """When each discovery's evidence begins: the change point of its window.

    ``daily_by_key`` holds key (``level|series``), day, n. Each day of the window scores its count less
    a reference, max(2 × the expected daily count, 0.5); the start is the day from which the summed score
    up to the evaluation day is largest (the later day on a tie). A lone ordinary complaint days before a
    burst, followed by quiet days, does not pull the start back; a rise that builds over the window does.
    """
    if found.is_empty():
        return found.with_columns(pl.lit(None, pl.Date()).alias("start"))
    keyed = found.with_columns(pl.concat_str("level", "series", separator="|").alias("key"))
    days = (
        keyed.select("key", "eval_day", "window", "expected")
        .with_columns(pl.int_ranges(0, pl.col("window")).alias("_offset"))
        .explode("_offset")
        .with_columns((pl.col("eval_day") - pl.duration(days=pl.col("_offset"))).alias("day"))
        .join(daily_by_key, on=["key", "day"], how="left")
        .with_columns(
            (
                pl.col("n").fill_null(0) - pl.max_horizontal(2 * pl.col("expected") / pl.col("window"), pl.lit(0.5))
            ).alias("_score")
        )
        .sort("key", "eval_day", "_offset")  # offset 0 is the evaluation day: suffix sums run backwards
        .with_columns(pl.col("_score").cum_sum().over("key", "eval_day").alias("_suffix"))
    )
    starts = days.group_by("key", "eval_day").agg(
        pl.col("day").sort_by(["_suffix", "_offset"], descending=[False, True]).last().alias("start")
    )
    return (
        keyed.join(starts, on=["key", "eval_day"], how="left")
        .with_columns(pl.col("start").fill_null(pl.col("eval_day")))
        .drop("key")
    )


def normal_band(expected: float, alpha: float, coverage: float = 0.95) -> tuple[int, int]:
    """The central range a count of mean ``expected`` falls in ``coverage`` of the time (negative binomial)."""
    tail = (1 - coverage) / 2
    mean = max(expected, 1e-9)
    if alpha <= 1e-9:
        low, high = stats.poisson.ppf([tail, 1 - tail], mean)
    else:
        size = 1.0 / alpha
        low, high = stats.nbinom.ppf([tail, 1 - tail], size, size / (size + mean))
    return int(low), int(high)
