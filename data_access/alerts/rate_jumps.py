"""Rate jumps (``overdue_rate_jump``): a department's share of late items jumping against its own history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import polars as pl
import sqlalchemy as sa
from scipy import stats

from data_access.alerts import aggregates as aq
from data_access.alerts.config import OverdueRateJumpRule
from data_access.alerts.names import Names
from data_access.alerts.plan import Plan, day_start, first_record_day
from data_access.alerts.schema import DOMAIN_NAMES, flag_frame
from data_access.alerts.statistics import window_sums
from data_access.alerts.surveillance import discoveries_per_day
from data_access.semantic.query import Scope


def rate_jumps(
    groups: pl.DataFrame,
    eval_days: Sequence[dt.date],
    *,
    check_share: float,
    cutoff_at: dt.datetime,
    window: int,
    lookback: int,
    guard: int,
    min_cases: int,
    min_increase: float,
    fdr_level: float,
    history_start: dt.date,
) -> pl.DataFrame:
    """Departments whose share of late items rose against their own history (binomial test, BH across departments).

    ``groups``: department, day (the clock's start day), limit_hours, n, late. Whether an item is
    late is settled ``check_share`` × limit after its start (1.0: its limit passed), so a group counts
    on its *settle day* and only when settled before ``cutoff_at``. The window's late items are tested
    against a beta-binomial (``rate_dispersion``) with the baseline's share (the ``lookback`` days
    ending ``guard`` days before the window; half an item added to each side, so a department never
    late before is not infinitely surprising); each day, Benjamini–Hochberg at ``fdr_level`` across
    the departments decides.
    ``min_increase`` keeps rises too small to act on out. ``start``: the first start day of the window's
    items that was clearly late (``_late_starts``).
    """
    out_schema = {
        "department": pl.String(),
        "eval_day": pl.Date(),
        "start": pl.Date(),
        "observed": pl.Float64(),
        "expected": pl.Float64(),
        "n": pl.Int64(),
        "z": pl.Float64(),
    }
    if groups.is_empty():
        return pl.DataFrame(schema=out_schema)
    settled = _settled(groups, check_share, cutoff_at)
    usable = [d for d in eval_days if d - dt.timedelta(days=window + guard + lookback - 1) >= history_start]
    per_day = settled.select("department", pl.col("settle_day").alias("day"), "n", "late")
    sums = window_sums(per_day, ["department"], ["n", "late"], usable, window, lookback, guard)
    if sums.is_empty():
        return pl.DataFrame(schema=out_schema)
    departments = per_day["department"].n_unique()
    judged = sums.filter((pl.col("n_window") >= min_cases) & (pl.col("n_base") >= min_cases)).with_columns(
        (pl.col("late_window") / pl.col("n_window")).alias("observed"),
        ((pl.col("late_base") + 0.5) / (pl.col("n_base") + 1)).alias("expected"),
    )
    rho = rate_dispersion(judged)
    scored = judged.filter(pl.col("observed") - pl.col("expected") >= min_increase)
    if scored.is_empty():
        return pl.DataFrame(schema=out_schema)
    p_values = late_tail(
        scored["late_window"].to_numpy(), scored["n_window"].to_numpy(), scored["expected"].to_numpy(), rho
    )
    scored = scored.with_columns(pl.Series("p_value", p_values, dtype=pl.Float64))
    scored = discoveries_per_day(scored, departments, fdr_level).with_columns(
        (-pl.col("p_value").clip(1e-300).log10()).alias("z")  # the score: how improbable, in powers of ten
    )
    if scored.is_empty():
        return pl.DataFrame(schema=out_schema)
    scored = scored.join(_late_starts(scored, settled, window), on=["department", "eval_day"], how="left").with_columns(
        pl.col("start").fill_null(pl.col("eval_day")), pl.col("n_window").alias("n")
    )
    return scored.select(list(out_schema)).cast(out_schema)  # type: ignore[arg-type]


def _settled(groups: pl.DataFrame, check_share: float, cutoff_at: dt.datetime) -> pl.DataFrame:
    """The groups whose lateness is settled before ``cutoff_at``, each with its ``settle_day``."""
    lag_hours = pl.col("limit_hours") * check_share
    return groups.with_columns(
        (pl.col("day") + pl.duration(days=(lag_hours / 24).ceil().cast(pl.Int64))).alias("settle_day"),
        (pl.col("day").cast(pl.Datetime("us")) + pl.duration(days=1) + pl.duration(hours=lag_hours)).alias("_at"),
    ).filter(pl.col("_at") <= cutoff_at)


def _late_starts(scored: pl.DataFrame, settled: pl.DataFrame, window: int) -> pl.DataFrame:
    """Per flagged department and day, the first start day of the window's items that was clearly late.

    "Clearly": a late item that day and twice the baseline's late share; the day the affected
    cases came in, which is what the duty office needs to look at.
    """
    return (
        scored.select("department", "eval_day", "expected")
        .join(settled.select("department", "settle_day", "day", "n", "late"), on="department", how="inner")
        .filter(
            (pl.col("settle_day") > pl.col("eval_day") - pl.duration(days=window))
            & (pl.col("settle_day") <= pl.col("eval_day"))
        )
        .group_by("department", "eval_day", "day", "expected")
        .agg(pl.col("n").sum(), pl.col("late").sum())
        .filter((pl.col("late") >= 1) & (pl.col("late") >= 2 * pl.col("expected") * pl.col("n")))
        .group_by("department", "eval_day")
        .agg(pl.col("day").min().alias("start"))
    )


def rate_dispersion(windows: pl.DataFrame) -> float:
    """Beta-binomial intra-class correlation ρ of late counts, by moments over a table's windows.

    A department's late share drifts from week to week (staff, a hard case type), so late counts vary
    more than binomial: φ = mean of (late − n p)² ÷ (n p (1 − p)) over the windows (the most extreme 2 %
    left out), and ρ = (φ − 1) ÷ (n̄ − 1), at least 0.
    """
    usable = windows.filter((pl.col("expected") > 0) & (pl.col("expected") < 1) & (pl.col("n_window") > 1))
    if usable.height < 30:
        return 0.0
    pearson = (pl.col("late_window") - pl.col("n_window") * pl.col("expected")) ** 2 / (
        pl.col("n_window") * pl.col("expected") * (1 - pl.col("expected"))
    )
    values = usable.select(pearson.alias("r"), pl.col("n_window").cast(pl.Float64).alias("n"))
    values = values.filter(pl.col("r") <= values["r"].quantile(0.98))
    phi = float(values.select(pl.col("r").mean()).item() or 0.0)
    mean_n = float(values.select(pl.col("n").mean()).item() or 0.0)
    return float(min(max((phi - 1) / (mean_n - 1), 0.0), 0.5)) if mean_n > 1 else 0.0


def late_tail(late: np.ndarray, n: np.ndarray, share: np.ndarray, rho: float) -> np.ndarray:
    """P(X ≥ late) for X beta-binomial(n, share, ρ); binomial when ρ = 0."""
    if rho <= 1e-9:
        return np.asarray(stats.binom.sf(late - 1, n, share), dtype=float)
    scale = (1 - rho) / rho
    return np.asarray(stats.betabinom.sf(late - 1, n, share * scale, (1 - share) * scale), dtype=float)


def rate_jump_message(
    dept_zh: str,
    dept_en: str,
    domain: str,
    check_share: float,
    observed: float,
    expected: float,
    action: tuple[str, str] = ("", ""),
) -> tuple[str, str]:
    zh_domain, en_domain = DOMAIN_NAMES[domain]
    if check_share >= 1.0:
        what_zh, what_en = "超期率", "overdue rate"
    else:
        what_zh = f"进度滞后率（用时过半 {check_share:.0%} 时限仍未办结）"
        what_en = f"late rate (still open at {check_share:.0%} of the limit)"
    return (
        f"{dept_zh} {zh_domain}{what_zh} {observed:.0%}，常态 {expected:.0%}。建议：{action[0]}",
        f"{dept_en} {en_domain}: {what_en} {observed:.0%}, normally {expected:.0%}. Next: {action[1]}",
    )


def rate_jump_flags(found: pl.DataFrame, domain: str, rule: OverdueRateJumpRule, names: Names) -> pl.DataFrame:
    rows = []
    for r in found.iter_rows(named=True):
        dept = r["department"]
        zh, en = rate_jump_message(
            names.department(dept),
            names.department(dept, True),
            domain,
            rule.check_share,
            r["observed"],
            r["expected"],
            (rule.action, rule.action_en),
        )
        increase = r["observed"] - r["expected"]
        rows.append(
            {
                "kind": "overdue_rate_jump",
                "domain": domain,
                "region_code": None,
                "department": dept,
                "category": None,
                "detail": domain,
                "eval_day": r["eval_day"],
                "start": r["start"],
                "observed": r["observed"],
                "expected": r["expected"],
                "score": r["z"],
                "severity": "high" if increase >= rule.high_increase else "medium",
                "message": zh,
                "message_en": en,
            }
        )
    return flag_frame(rows)


def rate_jump_alerts(
    engine: sa.Engine, plan: Plan, rule: OverdueRateJumpRule, scope: Scope, names: Names
) -> pl.DataFrame:
    """Late-rate jumps per department, one table at a time (the database part of ``rate_jumps``)."""
    frames = []
    for table in rule.tables:
        history = first_record_day(engine, table, scope)
        if history is None:
            continue
        longest = 30  # days: settle lag of the longest limits considered in the window
        begin = plan.eval_days[0] - dt.timedelta(days=rule.window_days + rule.lookback_days + longest)
        groups = aq.late_groups(engine, table, rule.check_share, day_start(begin), plan.cutoff_at, scope)
        found = rate_jumps(
            groups,
            plan.eval_days,
            check_share=rule.check_share,
            cutoff_at=plan.cutoff_at,
            window=rule.window_days,
            lookback=rule.lookback_days,
            guard=rule.guard_days,
            min_cases=rule.min_cases,
            min_increase=rule.min_increase,
            fdr_level=rule.fdr_level,
            history_start=history,
        )
        frames.append(rate_jump_flags(found, table, rule, names))
    return pl.concat(frames) if frames else flag_frame([])
