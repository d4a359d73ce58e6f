"""Stage stalls (``stage_stall``): grid events piling up in one workflow stage of a region (or department)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl
import sqlalchemy as sa

from data_access.alerts import aggregates as aq
from data_access.alerts.config import StageStallRule
from data_access.alerts.names import Names, format_count
from data_access.alerts.plan import Plan, day_start, first_record_day
from data_access.alerts.schema import flag_frame
from data_access.alerts.statistics import poisson_sf, weighted_median_day
from data_access.semantic.metric_registry import STAGE_LABELS
from data_access.semantic.query import Scope


def _long_waits(waits: pl.DataFrame, min_wait_days: int) -> pl.DataFrame:
    """The waits that lasted at least ``min_wait_days`` (only those ever count as waiting)."""
    became = pl.col("entered") + pl.duration(days=min_wait_days)
    return waits.filter(pl.col("left").is_null() | (pl.col("left") > became))


def waiting_series(
    waits: pl.DataFrame, first_day: dt.date, last_day: dt.date, min_wait_days: int, min_peak: int = 0
) -> pl.DataFrame:
    """Items waiting ≥ ``min_wait_days`` at the end of each day, per region and stage (dense, zero-filled).

    ``waits``: region, stage, entered (day the wait began), left (day it ended, null = still
    waiting), n. An item that entered on day a and left on day b counts on days a+min_wait .. b-1.
    Regions whose queue never reaches ``min_peak`` are left out (they cannot alarm; this keeps the
    dense frame small).
    """
    schema = {"region": pl.String(), "stage": pl.String(), "day": pl.Date(), "waiting": pl.Int64()}
    waits = _long_waits(waits, min_wait_days)
    if waits.is_empty():
        return pl.DataFrame(schema=schema)
    plus = waits.select("region", "stage", (pl.col("entered") + pl.duration(days=min_wait_days)).alias("day"), "n")
    minus = waits.filter(pl.col("left").is_not_null()).select(
        "region", "stage", pl.col("left").alias("day"), (-pl.col("n")).alias("n")
    )
    deltas = (
        pl.concat([plus, minus])
        .with_columns(pl.col("day").clip(first_day, last_day + dt.timedelta(days=1)))
        .group_by("region", "stage", "day")
        .agg(pl.col("n").sum())
    )
    peaks = (
        deltas.sort("region", "stage", "day")
        .with_columns(pl.col("n").cum_sum().over("region", "stage").alias("queue"))
        .group_by("region", "stage")
        .agg(pl.col("queue").max())
    )
    entities = peaks.filter(pl.col("queue") >= min_peak).select("region", "stage")
    days = pl.DataFrame({"day": pl.date_range(first_day, last_day, "1d", eager=True)})
    dense = (
        entities.join(days, how="cross")
        .join(deltas, on=["region", "stage", "day"], how="left")
        .with_columns(pl.col("n").fill_null(0))
        .sort("region", "stage", "day")
        .with_columns(pl.col("n").cum_sum().over("region", "stage").alias("waiting"))
    )
    return dense.select("region", "stage", "day", "waiting").cast(schema)  # type: ignore[arg-type]


def stalls(
    series: pl.DataFrame,
    eval_days: Sequence[dt.date],
    *,
    lookback: int,
    gap: int,
    min_count: int,
    min_ratio: float,
    max_p_value: float,
    expected_floor: float,
    history_start: dt.date,
) -> pl.DataFrame:
    """Days on which a region's queue in one stage is far longer than its usual queue.

    expected = mean queue over (d-gap-lookback, d-gap] (the gap keeps a growing pile out of its own
    baseline), at least ``expected_floor``; alarms as ``count_surges`` does (count, ratio, Poisson tail).
    """
    schema = {
        "region": pl.String(),
        "stage": pl.String(),
        "eval_day": pl.Date(),
        "observed": pl.Float64(),
        "expected": pl.Float64(),
        "ratio": pl.Float64(),
        "p_value": pl.Float64(),
    }
    usable = {d for d in eval_days if d - dt.timedelta(days=gap + lookback) >= history_start}
    if series.is_empty() or not usable:
        return pl.DataFrame(schema=schema)
    with_base = series.sort("region", "stage", "day").with_columns(
        (
            pl.col("waiting").rolling_sum(window_size=lookback, min_samples=lookback).shift(gap).over("region", "stage")
            / lookback
        ).alias("mean")
    )
    scored = (
        with_base.filter(pl.col("day").is_in(sorted(usable)) & (pl.col("waiting") >= min_count))
        .filter(pl.col("mean").is_not_null())
        .with_columns(pl.max_horizontal(pl.col("mean"), pl.lit(expected_floor)).alias("expected"))
        .with_columns(
            pl.col("waiting").cast(pl.Float64).alias("observed"),
            (pl.col("waiting") / pl.col("expected")).alias("ratio"),
        )
        .filter(pl.col("ratio") >= min_ratio)
    )
    if scored.is_empty():
        return pl.DataFrame(schema=schema)
    p_values = [poisson_sf(int(n), float(e)) for n, e in zip(scored["waiting"], scored["expected"], strict=True)]
    scored = scored.with_columns(pl.Series("p_value", p_values, dtype=pl.Float64)).filter(
        pl.col("p_value") <= max_p_value
    )
    return scored.rename({"day": "eval_day"}).select(list(schema)).cast(schema)  # type: ignore[arg-type]


def pile_start(found: pl.DataFrame, waits: pl.DataFrame, min_wait_days: int) -> pl.DataFrame:
    """Adds ``start``: the median day the items waiting on a flagged day entered the stage.

    The median, not the earliest, so one item forgotten long ago does not date the pile.
    """
    long = _long_waits(waits, min_wait_days)
    became = pl.col("entered") + pl.duration(days=min_wait_days)
    starts = (
        found.select("region", "stage", "eval_day")
        .join(long, on=["region", "stage"], how="inner")
        .filter((became <= pl.col("eval_day")) & (pl.col("left").is_null() | (pl.col("left") > pl.col("eval_day"))))
        .sort("entered")
        .group_by("region", "stage", "eval_day")
        .agg(weighted_median_day(pl.col("entered"), pl.col("n")).alias("start"))
    )
    fallback = pl.col("eval_day") - pl.duration(days=min_wait_days)
    return found.join(starts, on=["region", "stage", "eval_day"], how="left").with_columns(
        pl.col("start").fill_null(fallback)
    )


def stall_message(region: str, stage: str, wait_days: int, observed: float, expected: float) -> tuple[str, str]:
    zh, en = STAGE_LABELS[stage]
    shown = format_count(observed)
    return (
        f"{region} 网格事件 {shown} 件滞留{zh}环节超过 {wait_days} 日，常态 {expected:.1f} 件",
        f"{region}: {shown} grid events waiting in {en} for over {wait_days} day(s), normally {expected:.1f}",
    )


def stall_flags(found: pl.DataFrame, rule: StageStallRule, names: Names) -> pl.DataFrame:
    rows = []
    by_department = rule.region_level == "department"
    for r in found.iter_rows(named=True):
        label = names.department(r["region"]) if by_department else names.region(r["region"])
        zh, en = stall_message(label, r["stage"], rule.min_wait_days, r["observed"], r["expected"])
        rows.append(
            {
                "kind": "stage_stall",
                "domain": "grid_events",
                "region_code": None if by_department else r["region"],
                "department": r["region"] if by_department else None,
                "category": None,
                "detail": r["stage"],
                "eval_day": r["eval_day"],
                "start": r["start"],
                "observed": r["observed"],
                "expected": r["expected"],
                "score": r["ratio"],
                "severity": "high" if r["observed"] >= rule.high_count else "medium",
                "message": zh,
                "message_en": en,
            }
        )
    return flag_frame(rows)


def stall_alerts(engine: sa.Engine, plan: Plan, rule: StageStallRule, scope: Scope, names: Names) -> pl.DataFrame:
    """Stage stalls per region (or department) and stage (the database part of ``stalls``)."""
    history = first_record_day(engine, "grid_events", scope)
    if history is None:
        return flag_frame([])
    begin = plan.eval_days[0] - dt.timedelta(days=rule.gap_days + rule.lookback_days)
    waits = aq.stage_waits(engine, rule.stages, rule.region_level, day_start(begin), plan.cutoff_at, scope)
    series = waiting_series(waits, begin, plan.eval_days[-1], rule.min_wait_days, rule.min_count)
    found = stalls(
        series,
        plan.eval_days,
        lookback=rule.lookback_days,
        gap=rule.gap_days,
        min_count=rule.min_count,
        min_ratio=rule.min_ratio,
        max_p_value=rule.max_p_value,
        expected_floor=rule.expected_floor,
        history_start=max(history, begin),
    )
    found = pile_start(found.filter(pl.col("region").is_not_null()), waits, rule.min_wait_days)
    return stall_flags(found, rule, names)
