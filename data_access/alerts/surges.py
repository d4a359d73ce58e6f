"""Surges: complaints of a region × category (``complaint_surge``) or a department's 12345 intake
(``intake_surge``) far above their own weekday-aware baseline (a Poisson test on window counts)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl
import sqlalchemy as sa

from data_access.alerts import aggregates as aq
from data_access.alerts.config import ComplaintSurgeRule, IntakeSurgeRule
from data_access.alerts.names import Names, format_count
from data_access.alerts.plan import Plan, day_start, first_record_day
from data_access.alerts.schema import flag_frame
from data_access.alerts.statistics import poisson_sf, weekday_factors, window_sums
from data_access.semantic.query import Scope


def _window_weekday_sum(eval_day: dt.date, window: int, factors: dict[int, float]) -> float:
    return sum(factors[(eval_day - dt.timedelta(days=i)).isoweekday()] for i in range(window))


def count_surges(
    daily: pl.DataFrame,
    keys: list[str],
    eval_days: Sequence[dt.date],
    *,
    window: int,
    lookback: int,
    min_count: int,
    min_ratio: float,
    max_p_value: float,
    expected_floor: float,
    factors: dict[int, float],
    history_start: dt.date,
) -> pl.DataFrame:
    """Windows whose count is far above the key's own weekday-aware baseline.

    expected = (baseline count ÷ lookback days) × Σ weekday factors of the window days, at least
    ``expected_floor`` per day. A window alarms when its count is ≥ ``min_count``, ≥ ``min_ratio`` ×
    expected, and has a Poisson tail probability ≤ ``max_p_value`` under the baseline. Only windows
    whose baseline lies wholly after ``history_start`` are judged (no history, no judgement).
    ``start`` is the first day, up to two windows back, whose own count was at least 2 and
    ``min_ratio`` times a day's expected volume (a lone ticket does not date a surge).
    """
    usable = [d for d in eval_days if d - dt.timedelta(days=window + lookback - 1) >= history_start]
    sums = window_sums(daily, keys, ["n"], usable, window, lookback)
    out_schema = {
        **{k: pl.String() for k in keys},
        "eval_day": pl.Date(),
        "start": pl.Date(),
        "observed": pl.Float64(),
        "expected": pl.Float64(),
        "ratio": pl.Float64(),
        "p_value": pl.Float64(),
    }
    if sums.is_empty():
        return pl.DataFrame(schema=out_schema)
    weekday_sum = pl.col("eval_day").map_elements(
        lambda d: _window_weekday_sum(d, window, factors), return_dtype=pl.Float64
    )
    scored = (
        sums.filter(pl.col("n_window") >= min_count)
        .with_columns(
            pl.max_horizontal(
                pl.col("n_base").cast(pl.Float64) / lookback * weekday_sum, pl.lit(expected_floor * window)
            ).alias("expected")
        )
        .with_columns(
            pl.col("n_window").cast(pl.Float64).alias("observed"),
            (pl.col("n_window") / pl.col("expected")).alias("ratio"),
        )
        .filter(pl.col("ratio") >= min_ratio)
    )
    if scored.is_empty():
        return pl.DataFrame(schema=out_schema)
    p_values = [poisson_sf(int(n), float(e)) for n, e in zip(scored["n_window"], scored["expected"], strict=True)]
    scored = scored.with_columns(pl.Series("p_value", p_values, dtype=pl.Float64)).filter(
        pl.col("p_value") <= max_p_value
    )
    if scored.is_empty():
        return pl.DataFrame(schema=out_schema)
    scored = scored.join(_surge_starts(scored, daily, keys, window, min_ratio), on=[*keys, "eval_day"], how="left")
    scored = scored.with_columns(pl.col("start").fill_null(pl.col("eval_day")))
    return scored.select(list(out_schema)).cast(out_schema)  # type: ignore[arg-type]


def _surge_starts(
    scored: pl.DataFrame, daily: pl.DataFrame, keys: list[str], window: int, min_ratio: float
) -> pl.DataFrame:
    """The surge began on the first day, within two windows back, that was clearly elevated on its own."""
    return (
        scored.select([*keys, "eval_day", "expected"])
        .with_columns(pl.int_ranges(0, 2 * window).alias("_offset"))
        .explode("_offset")
        .with_columns((pl.col("eval_day") - pl.duration(days=pl.col("_offset"))).alias("day"))
        .join(daily.group_by([*keys, "day"]).agg(pl.col("n").sum()), on=[*keys, "day"], how="inner")
        .filter((pl.col("n") >= 2) & (pl.col("n") >= min_ratio * pl.col("expected") / window))
        .group_by([*keys, "eval_day"])
        .agg(pl.col("day").min().alias("start"))
    )


def surge_message(region: str, category: str, window: int, observed: float, ratio: float) -> tuple[str, str]:
    return (
        f"{region} {category} 投诉 {window} 日 {format_count(observed)} 件，为常态 {ratio:.1f} 倍",
        f"{region} {category}: {format_count(observed)} complaints in {window} days, {ratio:.1f}× normal",
    )


def intake_message(dept_zh: str, dept_en: str, window: int, observed: float, ratio: float) -> tuple[str, str]:
    return (
        f"{dept_zh} {window} 日受理 12345 诉求 {format_count(observed)} 件，为常态 {ratio:.1f} 倍",
        f"{dept_en}: {format_count(observed)} 12345 tickets in {window} days, {ratio:.1f}× normal",
    )


def surge_flags(found: pl.DataFrame, rule: ComplaintSurgeRule, names: Names) -> pl.DataFrame:
    rows = []
    for r in found.iter_rows(named=True):
        region, category = r[rule.region_level], r[rule.category_level]
        zh, en = surge_message(
            names.region(region), names.category(category), rule.window_days, r["observed"], r["ratio"]
        )
        rows.append(
            {
                "kind": "complaint_surge",
                "domain": "complaints",
                "region_code": region,
                "department": None,
                "category": category,
                "detail": None,
                "eval_day": r["eval_day"],
                "start": r["start"],
                "observed": r["observed"],
                "expected": r["expected"],
                "score": r["ratio"],
                "severity": "high" if r["ratio"] >= rule.high_ratio else "medium",
                "message": zh,
                "message_en": en,
            }
        )
    return flag_frame(rows)


def intake_flags(found: pl.DataFrame, rule: IntakeSurgeRule, names: Names) -> pl.DataFrame:
    rows = []
    for r in found.iter_rows(named=True):
        dept = r["department"]
        zh, en = intake_message(
            names.department(dept), names.department(dept, True), rule.window_days, r["observed"], r["ratio"]
        )
        rows.append(
            {
                "kind": "intake_surge",
                "domain": "complaints",
                "region_code": None,
                "department": dept,
                "category": None,
                "detail": None,
                "eval_day": r["eval_day"],
                "start": r["start"],
                "observed": r["observed"],
                "expected": r["expected"],
                "score": r["ratio"],
                "severity": "high" if r["ratio"] >= rule.high_ratio else "medium",
                "message": zh,
                "message_en": en,
            }
        )
    return flag_frame(rows)


def complaint_surge_alerts(
    engine: sa.Engine, plan: Plan, rule: ComplaintSurgeRule, scope: Scope, names: Names
) -> pl.DataFrame:
    """Complaint surges per region × category over the plan's days (the database part of ``count_surges``)."""
    history = first_record_day(engine, "complaints", scope)
    if history is None:
        return flag_frame([])
    begin = plan.eval_days[0] - dt.timedelta(days=rule.window_days + rule.lookback_days)
    keys = (rule.region_level, rule.category_level)
    daily = aq.daily_counts(engine, "complaints", keys, day_start(begin), plan.cutoff_at, scope)
    found = count_surges(
        daily,
        list(keys),
        plan.eval_days,
        window=rule.window_days,
        lookback=rule.lookback_days,
        min_count=rule.min_count,
        min_ratio=rule.min_ratio,
        max_p_value=rule.max_p_value,
        expected_floor=rule.expected_floor,
        factors=weekday_factors(daily.select("day", "n")),
        history_start=history,
    )
    return surge_flags(found.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys)), rule, names)


def intake_surge_alerts(
    engine: sa.Engine, plan: Plan, rule: IntakeSurgeRule, scope: Scope, names: Names
) -> pl.DataFrame:
    """Intake surges per department over the plan's days (the database part of ``count_surges``)."""
    history = first_record_day(engine, "complaints", scope)
    if history is None:
        return flag_frame([])
    begin = plan.eval_days[0] - dt.timedelta(days=rule.window_days + rule.lookback_days)
    daily = aq.daily_counts(engine, "complaints", ("department",), day_start(begin), plan.cutoff_at, scope)
    found = count_surges(
        daily,
        ["department"],
        plan.eval_days,
        window=rule.window_days,
        lookback=rule.lookback_days,
        min_count=rule.min_count,
        min_ratio=rule.min_ratio,
        max_p_value=rule.max_p_value,
        expected_floor=rule.expected_floor,
        factors=weekday_factors(daily.select("day", "n")),
        history_start=history,
    )
    return intake_flags(found, rule, names)
