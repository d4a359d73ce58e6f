"""Score drops (``score_drop``): a street's composite 三率 score falling sharply against its previous months.

The scores come from the metric layer through the data session, with the city's 三率 weights: the same
score the pages show, so an alert never disagrees with the number on screen.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from data_access.alerts.config import ScoreDropRule
from data_access.alerts.names import Names
from data_access.alerts.plan import Plan, first_record_day
from data_access.alerts.schema import flag_frame
from data_access.runtime.session import DataSession
from data_access.semantic.query import MetricRequest, TimeRange


def score_drops(
    recent: pl.DataFrame,
    base: pl.DataFrame,
    *,
    min_tickets: int,
    min_drop: float,
    min_z: float,
) -> pl.DataFrame:
    """Regions whose composite score in the recent window fell sharply below the preceding months.

    Both frames: region, score, n (tickets). The standard error treats the score as a share
    (score × (1 − score) ÷ n per period); n counts tickets, an upper bound of valid follow-ups,
    so the test is on the lenient side and ``min_z`` is set high to compensate.
    """
    joined = recent.join(base, on="region", how="inner", suffix="_base").filter(
        (pl.col("n") >= min_tickets)
        & (pl.col("n_base") >= min_tickets)
        & pl.col("score").is_not_null()
        & pl.col("score_base").is_not_null()
    )
    c = pl.col("score_base").clip(0.01, 0.99)
    se = (c * (1 - c) / pl.col("n") + c * (1 - c) / pl.col("n_base")).sqrt()
    return (
        joined.with_columns(
            pl.col("score").alias("observed"),
            pl.col("score_base").alias("expected"),
            ((pl.col("score_base") - pl.col("score")) / se).alias("z"),
        )
        .filter((pl.col("expected") - pl.col("observed") >= min_drop) & (pl.col("z") >= min_z))
        .select("region", "observed", "expected", "n", "z")
    )


def score_drop_message(region: str, observed: float, expected: float, window: int) -> tuple[str, str]:
    return (
        f"{region} 近 {window} 日三率综合得分 {observed * 100:.1f}，此前 {expected * 100:.1f}",
        f"{region}: composite 三率 score {observed * 100:.1f} over the last {window} days, before {expected * 100:.1f}",
    )


def score_drop_flags(found: pl.DataFrame, eval_day: dt.date, rule: ScoreDropRule, names: Names) -> pl.DataFrame:
    rows = []
    for r in found.iter_rows(named=True):
        zh, en = score_drop_message(names.region(r["region"]), r["observed"], r["expected"], rule.window_days)
        drop = r["expected"] - r["observed"]
        rows.append(
            {
                "kind": "score_drop",
                "domain": "complaints",
                "region_code": r["region"],
                "department": None,
                "category": None,
                "detail": None,
                "eval_day": eval_day,
                "start": eval_day - dt.timedelta(days=rule.window_days - 1),
                "observed": r["observed"],
                "expected": r["expected"],
                "score": r["z"],
                "severity": "high" if drop >= rule.high_drop else "medium",
                "message": zh,
                "message_en": en,
            }
        )
    return flag_frame(rows)


def street_scores(session: DataSession, time_range: TimeRange, as_of: dt.datetime) -> pl.DataFrame:
    """Composite 三率 score and ticket count per street, from the metric layer (one SELECT, in the session's scope)."""
    request = MetricRequest(
        metrics=("complaint_composite_score", "complaint_received"),
        dimensions=("street",),
        time_range=time_range,
        as_of=as_of,
    )
    return (
        session.metrics(request)
        .select(
            pl.col("street").alias("region"),
            pl.col("complaint_composite_score").alias("score"),
            pl.col("complaint_received").alias("n"),
        )
        .filter(pl.col("region").is_not_null())
    )


def score_drop_alerts(session: DataSession, plan: Plan, rule: ScoreDropRule, names: Names) -> pl.DataFrame:
    """Score drops per street, judged every ``every_days`` back from the last day (metric layer scores)."""
    history = first_record_day(session.engine, "complaints", session.scope)
    if history is None:
        return flag_frame([])
    last = plan.eval_days[-1]
    days = [d for d in plan.eval_days if (last - d).days % rule.every_days == 0]
    frames = []
    for day in days:
        point = plan.point(day)
        recent_start = point - dt.timedelta(days=rule.window_days)
        base_start = recent_start - dt.timedelta(days=rule.lookback_days)
        if base_start.date() < history:
            continue
        found = score_drops(
            street_scores(session, TimeRange(recent_start, point), point),
            street_scores(session, TimeRange(base_start, recent_start), point),
            min_tickets=rule.min_tickets,
            min_drop=rule.min_drop,
            min_z=rule.min_z,
        )
        frames.append(score_drop_flags(found, day, rule, names))
    return pl.concat(frames) if frames else flag_frame([])
