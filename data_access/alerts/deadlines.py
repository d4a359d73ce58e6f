"""The operational lists: open items overdue (``overdue``, 超期) or due soon (``due_soon``, 临期) per
department × district, as a snapshot at the end of each evaluated day."""

from __future__ import annotations

import datetime as dt

import polars as pl
import sqlalchemy as sa

from data_access.alerts import aggregates as aq
from data_access.alerts.config import AlertConfig, DueSoonRule, OverdueRule
from data_access.alerts.names import Names, format_count
from data_access.alerts.plan import Plan
from data_access.alerts.schema import DOMAIN_NAMES, FACT_TABLES, flag_frame
from data_access.semantic.query import Scope


def severity_by_count(value: float, medium: float, high: float) -> str:
    return "high" if value >= high else ("medium" if value >= medium else "low")


def deadline_message(
    kind: str, district: str, dept_zh: str, dept_en: str, domain: str, count: float, warn_share: float
) -> tuple[str, str]:
    zh_domain, en_domain = DOMAIN_NAMES[domain]
    shown = format_count(count)
    if kind == "overdue":
        return (
            f"{district} {dept_zh} {zh_domain}超期未办结 {shown} 件",
            f"{district}, {dept_en}: {shown} open {en_domain} past their time limit",
        )
    return (
        f"{district} {dept_zh} {zh_domain}临期 {shown} 件（已用时限 {warn_share:.0%} 以上）",
        f"{district}, {dept_en}: {shown} open {en_domain} due soon (≥ {warn_share:.0%} of the limit used)",
    )


def deadline_flags(
    counts: pl.DataFrame, kind: str, domain: str, eval_day: dt.date, rule: OverdueRule | DueSoonRule, names: Names
) -> pl.DataFrame:
    """One flag per department × district with at least ``min_count`` overdue (or near-due) open items."""
    warn_share = rule.warn_share if isinstance(rule, DueSoonRule) else 1.0
    rows = []
    for r in counts.filter(pl.col(kind) >= rule.min_count).iter_rows(named=True):
        count = float(r[kind])
        dept = r["department"]
        zh, en = deadline_message(
            kind,
            names.region(r["district"]),
            names.department(dept),
            names.department(dept, True),
            domain,
            count,
            warn_share,
        )
        rows.append(
            {
                "kind": kind,
                "domain": domain,
                "region_code": r["district"],
                "department": dept,
                "category": None,
                "detail": domain,
                "eval_day": eval_day,
                "start": eval_day,
                "observed": count,
                "expected": 0.0,
                "score": count,
                "severity": severity_by_count(count, rule.medium_count, rule.high_count),
                "message": zh,
                "message_en": en,
            }
        )
    return flag_frame(rows)


def deadline_alerts(
    engine: sa.Engine, plan: Plan, config: AlertConfig, kinds: set[str], scope: Scope, names: Names
) -> pl.DataFrame:
    """The overdue and due-soon lists of each reported day, for the tables each rule names."""
    frames = []
    days = [d for d in plan.eval_days if d >= plan.report_from]
    share = config.due_soon.warn_share
    for day in days:
        for table in FACT_TABLES:
            wanted = [k for k in ("overdue", "due_soon") if k in kinds and table in getattr(config, k).tables]
            if not wanted:
                continue
            counts = aq.deadline_counts(engine, table, plan.point(day), share, scope)
            for kind in wanted:
                frames.append(deadline_flags(counts, kind, table, day, getattr(config, kind), names))
    return pl.concat(frames) if frames else flag_frame([])
