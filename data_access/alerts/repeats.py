"""Repeat clusters (``repeat_cluster``): several repeat complaints (重复诉求) at one address and category."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl
import sqlalchemy as sa

from data_access.alerts import aggregates as aq
from data_access.alerts.config import RepeatClusterRule
from data_access.alerts.names import Names, format_count
from data_access.alerts.plan import Plan, day_start
from data_access.alerts.schema import flag_frame
from data_access.alerts.statistics import window_sums
from data_access.semantic.query import Scope


def repeat_clusters(
    counts: pl.DataFrame, eval_days: Sequence[dt.date], *, window: int, min_repeats: int
) -> pl.DataFrame:
    """Addresses with at least ``min_repeats`` repeat tickets of one category in the window (d-window, d].

    ``counts``: region, category, address, day, n, first_original. ``start`` is the day of the
    earliest original ticket those repeats point back to: when the citizens' problem was first reported.
    """
    keys = ["region", "category", "address"]
    schema = {
        "region": pl.String(),
        "category": pl.String(),
        "address": pl.String(),
        "eval_day": pl.Date(),
        "start": pl.Date(),
        "observed": pl.Float64(),
        "expected": pl.Float64(),
    }
    counts = counts.filter(pl.col("address").is_not_null())
    sums = window_sums(counts.select(*keys, "day", "n"), keys, ["n"], eval_days, window, 1)
    flagged = sums.filter(pl.col("n_window") >= min_repeats)
    if flagged.is_empty():
        return pl.DataFrame(schema=schema)
    starts = (
        flagged.select(*keys, "eval_day")
        .join(counts, on=keys, how="inner")
        .filter((pl.col("day") > pl.col("eval_day") - pl.duration(days=window)) & (pl.col("day") <= pl.col("eval_day")))
        .group_by(*keys, "eval_day")
        .agg(pl.min_horizontal(pl.col("first_original").min(), pl.col("day").min()).alias("start"))
    )
    return (
        flagged.join(starts, on=[*keys, "eval_day"], how="left")
        .with_columns(pl.col("n_window").cast(pl.Float64).alias("observed"), pl.lit(0.0).alias("expected"))
        .select(list(schema))
        .cast(schema)  # type: ignore[arg-type]
    )


def repeat_message(region: str, address: str, category: str, window: int, observed: float) -> tuple[str, str]:
    return (
        f"{region} {address} {category} 近 {window} 日重复诉求 {format_count(observed)} 件",
        f"{region}, {address}, {category}: {format_count(observed)} repeat complaints in {window} days",
    )


def repeat_flags(found: pl.DataFrame, rule: RepeatClusterRule, names: Names) -> pl.DataFrame:
    rows = []
    for r in found.iter_rows(named=True):
        zh, en = repeat_message(
            names.region(r["region"]), r["address"], names.category(r["category"]), rule.window_days, r["observed"]
        )
        rows.append(
            {
                "kind": "repeat_cluster",
                "domain": "complaints",
                "region_code": r["region"],
                "department": None,
                "category": r["category"],
                "detail": r["address"],
                "eval_day": r["eval_day"],
                "start": r["start"],
                "observed": r["observed"],
                "expected": r["expected"],
                "score": r["observed"],
                "severity": "high" if r["observed"] >= rule.high_repeats else "medium",
                "message": zh,
                "message_en": en,
            }
        )
    return flag_frame(rows)


def repeat_alerts(engine: sa.Engine, plan: Plan, rule: RepeatClusterRule, scope: Scope, names: Names) -> pl.DataFrame:
    """Repeat clusters per address and category (the database part of ``repeat_clusters``)."""
    begin = plan.eval_days[0] - dt.timedelta(days=rule.window_days)
    counts = aq.repeat_counts(engine, rule.region_level, rule.category_level, day_start(begin), plan.cutoff_at, scope)
    found = repeat_clusters(counts, plan.eval_days, window=rule.window_days, min_repeats=rule.min_repeats)
    return repeat_flags(found.filter(pl.col("region").is_not_null()), rule, names)
