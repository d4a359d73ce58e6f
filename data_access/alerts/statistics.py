"""Pure statistics shared by the detectors: Poisson tails and rolling window sums.

DataFrame in, DataFrame out, no database: each function is tested on literal frames.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import polars as pl


def poisson_sf(k: int, lam: float) -> float:
    """P(X ≥ k) for X ~ Poisson(lam): how surprising a count is under the baseline (no scipy needed)."""
    if k <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    log_term = k * math.log(lam) - lam - math.lgamma(k + 1)
    if k > lam:  # sum the upper tail directly: it converges fast and avoids 1 - (almost 1)
        total, term, i = 0.0, math.exp(log_term), k
        while term > total * 1e-16 and i < k + 10_000:
            total += term
            i += 1
            term *= lam / i
        return min(1.0, total)
    below, term = 0.0, math.exp(-lam)
    for i in range(k):
        below += term
        term *= lam / (i + 1)
    return max(0.0, 1.0 - below)


def _cum_at(cum: pl.DataFrame, keys: list[str], query: pl.DataFrame, at: str, values: list[str]) -> pl.DataFrame:
    """For each query row, the cumulative ``values`` of its key on or before the day in column ``at``."""
    q = query.with_row_index("_q").sort(at)
    right = cum.rename({"day": "_cday", **{v: f"_c_{v}" for v in values}}).sort("_cday")
    joined = q.join_asof(
        right, left_on=at, right_on="_cday", by=keys or None, strategy="backward", check_sortedness=False
    )
    joined = joined.with_columns(pl.col(f"_c_{v}").fill_null(0) for v in values).sort("_q")
    return joined.drop("_q", "_cday")


def window_sums(
    daily: pl.DataFrame,
    keys: list[str],
    values: list[str],
    eval_days: Sequence[dt.date],
    window: int,
    lookback: int,
    gap: int = 0,
) -> pl.DataFrame:
    """Per key and evaluation day d: sums over the window (d-window, d] and the baseline before it.

    The baseline is (d-window-gap-lookback, d-window-gap]. Only (key, day) pairs whose window holds
    at least one row are returned: a window with nothing in it cannot alarm.
    """
    if daily.is_empty() or not eval_days:
        schema = {**{k: daily.schema[k] for k in keys}, "eval_day": pl.Date()}
        schema.update({f"{v}_window": pl.Int64() for v in values})
        schema.update({f"{v}_base": pl.Int64() for v in values})
        return pl.DataFrame(schema=schema)
    eval_set = pl.DataFrame({"eval_day": list(eval_days)}, schema={"eval_day": pl.Date()})
    per_day = daily.group_by([*keys, "day"]).agg(pl.col(v).sum() for v in values).sort([*keys, "day"])
    cum = (
        per_day.with_columns(pl.col(v).cum_sum().over(keys or None).alias(v) for v in values)
        if keys
        else (per_day.with_columns(pl.col(v).cum_sum().alias(v) for v in values))
    )
    candidates = (
        per_day.select([*keys, "day"])
        .with_columns(pl.int_ranges(0, window).alias("_offset"))
        .explode("_offset")
        .with_columns((pl.col("day") + pl.duration(days=pl.col("_offset"))).alias("eval_day"))
        .select([*keys, "eval_day"])
        .unique()
        .join(eval_set, on="eval_day", how="semi")
    )
    shifts = {"_now": 0, "_wstart": window, "_bend": window + gap, "_bstart": window + gap + lookback}
    frame = candidates.with_columns(
        (pl.col("eval_day") - pl.duration(days=days)).alias(name) for name, days in shifts.items()
    )
    for name in shifts:
        frame = _cum_at(cum, keys, frame, name, values).rename({f"_c_{v}": f"{v}{name}" for v in values})
    return frame.select(
        *keys,
        "eval_day",
        *((pl.col(f"{v}_now") - pl.col(f"{v}_wstart")).alias(f"{v}_window") for v in values),
        *((pl.col(f"{v}_bend") - pl.col(f"{v}_bstart")).alias(f"{v}_base") for v in values),
    ).sort([*keys, "eval_day"])


def weighted_median_day(day: pl.Expr, weight: pl.Expr) -> pl.Expr:
    """The first day at which the cumulative weight reaches half the total (rows sorted by day)."""
    cumulative = weight.cum_sum()
    return day.filter(cumulative >= weight.sum() / 2).first()
