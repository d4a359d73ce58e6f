"""Episodes: consecutive flagged days of one entity form one alert."""

from __future__ import annotations

import polars as pl

from data_access.alerts.schema import FLAG_SCHEMA

ENTITY = ["kind", "domain", "region_code", "department", "category", "detail"]


def merge_episodes(flags: pl.DataFrame, merge_gap_days: int) -> pl.DataFrame:
    """One row per run of flagged evaluation days of an entity (gaps ≤ merge_gap_days bridged).

    The episode keeps the earliest ``start``, ends the day after its last flagged day, takes
    observed / expected / message from its most severe day (highest score) and the worst severity.
    """
    columns = [*ENTITY, "first_eval", "last_eval", "start", "observed", "expected", "score", "severity"]
    if flags.is_empty():
        return pl.DataFrame(schema={**FLAG_SCHEMA, "first_eval": pl.Date(), "last_eval": pl.Date()}).select(
            *columns, "message", "message_en"
        )
    rank = pl.col("severity").replace_strict({"high": 0, "medium": 1, "low": 2}, return_dtype=pl.Int64)
    ordered = flags.sort([*ENTITY, "eval_day"], nulls_last=True)
    gap = (pl.col("eval_day") - pl.col("eval_day").shift(1).over(ENTITY)).dt.total_days()
    episodes = ordered.with_columns(
        (gap.is_null() | (gap > merge_gap_days + 1)).cum_sum().over(ENTITY).alias("_episode"), rank.alias("_rank")
    )
    peak = pl.col("score").arg_max()
    return (
        episodes.group_by([*ENTITY, "_episode"])
        .agg(
            pl.col("eval_day").min().alias("first_eval"),
            pl.col("eval_day").max().alias("last_eval"),
            pl.col("start").min(),
            pl.col("observed").get(peak),
            pl.col("expected").get(peak),
            pl.col("score").max(),
            pl.col("_rank").min(),
            pl.col("message").get(peak),
            pl.col("message_en").get(peak),
        )
        .with_columns(pl.col("_rank").replace_strict({0: "high", 1: "medium", 2: "low"}).alias("severity"))
        .select(*columns, "message", "message_en")
    )
