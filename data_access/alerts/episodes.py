"""Episodes: consecutive flagged days of one entity form one alert."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from data_access.alerts.schema import FLAG_SCHEMA
from data_access.alerts.surveillance import related

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


# Kinds whose alerts about one branch of the region and category trees, close in time, are one problem.
COLLAPSED_KINDS: tuple[str, ...] = ("complaint_surge", "count_creep")


def collapse_related(episodes: pl.DataFrame, parents: Mapping[str, str | None], merge_gap_days: int) -> pl.DataFrame:
    """One alert per problem: episodes of ``COLLAPSED_KINDS`` on one branch that overlap in time become one.

    The hierarchy tests a street's pair, the street's level-2 category and the district's pair alike;
    on a given day only the best of them is kept, but on the next day another level may be best, and a
    CUSUM may follow the same rise. The episode raised first (then the highest score) stands for the
    group with its own start (what the duty office saw first) and lasts to the group's latest flagged day.
    """
    chosen = episodes.filter(pl.col("kind").is_in(COLLAPSED_KINDS))
    if chosen.height < 2:
        return episodes
    kept: list[dict[str, Any]] = []
    for row in chosen.sort("first_eval", pl.col("score"), descending=[False, True]).iter_rows(named=True):
        home = next(
            (
                k
                for k in kept
                # A department-wide alert is its own branch: it joins only alerts about that department.
                if k["department"] == row["department"]
                and related(k["region_code"], row["region_code"], parents)
                and related(k["category"], row["category"], parents)
                and (row["first_eval"] - k["last_eval"]).days <= merge_gap_days + 1
            ),
            None,
        )
        if home is None:
            kept.append(dict(row))
            continue
        home["last_eval"] = max(home["last_eval"], row["last_eval"])
    others = episodes.filter(~pl.col("kind").is_in(COLLAPSED_KINDS))
    return pl.concat([others, pl.DataFrame(kept, schema=episodes.schema)])
