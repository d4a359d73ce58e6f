"""Surges and creeps of 12345 complaints: the database part and the messages of the count surveillance.

``complaint_surge``: a region × category at any level of the hierarchy (city, district, street ×
all categories, level 1, 2, 3) far above its expected count in a 1-, 3- or 7-day window;
``intake_surge``: a department's 12345 intake; ``count_creep``: a sustained rise found by a CUSUM.
The statistics are in ``surveillance.py`` and ``creeps.py``; the method is explained in docs/alerts.md.
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import sqlalchemy as sa

from data_access.alerts import aggregates as aq
from data_access.alerts.config import ComplaintSurgeRule, CountCreepRule, IntakeSurgeRule
from data_access.alerts.creeps import CusumSettings, creep_signals
from data_access.alerts.names import Names, format_count
from data_access.alerts.plan import Plan, day_start, first_record_day
from data_access.alerts.schema import flag_frame
from data_access.alerts.surveillance import (
    ALL,
    Level,
    SurveillanceSettings,
    best_explanations,
    city_daily,
    discoveries,
    dispersion,
    evidence_start,
    level_daily,
    normal_band,
)
from data_access.semantic.query import Scope

CITY = "city"
ALL_CATEGORIES = "all"
REGION_KEYS = ("district", "street", "community")
CATEGORY_KEYS = ("category_l1", "category_l2", "category_l3")


def hierarchy(region_levels: tuple[str, ...], category_levels: tuple[str, ...]) -> list[Level]:
    """Every region level × category level but the city as a whole (it is what each series is judged against)."""
    levels = []
    for region in region_levels:
        for category in category_levels:
            keys = tuple(k for k in (region, category) if k not in (CITY, ALL_CATEGORIES))
            if keys:
                levels.append(Level(f"{region}×{category}", keys))
    return levels


def level_entity(level: Level, series: str) -> tuple[str | None, str | None]:
    """(region code, category code) a series is about; None for the whole city / every category."""
    if level.keys == ("department",):
        return series, None  # a department is its own branch: unrelated to every other one
    values = dict(zip(level.keys, series.split("|"), strict=True))
    region = next((values[k] for k in level.keys if k in REGION_KEYS), None)
    category = next((values[k] for k in level.keys if k in CATEGORY_KEYS), None)
    return region, category


def _finest(engine: sa.Engine, keys: tuple[str, ...], begin: dt.date, plan: Plan, scope: Scope) -> pl.DataFrame:
    return aq.daily_counts(engine, "complaints", keys, day_start(begin), plan.cutoff_at, scope)


def _days(value: dt.date) -> str:
    return f"{value.month}月{value.day}日"


def surge_message(
    where: str,
    what: str,
    window: int,
    observed: float,
    expected: float,
    band: tuple[int, int],
    since: dt.date,
    action: tuple[str, str],
) -> tuple[str, str]:
    """Where, what, since when, how many against how many normally (with its range), and what to do."""
    low, high = band
    usual_zh = f"{low}–{high} 件" if high > low else f"{low} 件"
    usual_en = f"{low}–{high}" if high > low else f"{low}"
    normal_zh = f"约 {expected:.1f} 件" if expected >= 0.1 else "不足 0.1 件"
    normal_en = f"about {expected:.1f}" if expected >= 0.1 else "under 0.1"
    zh = (
        f"{where} {what}：自{_days(since)}起 {window} 日 {format_count(observed)} 件，"
        f"常态{normal_zh}（通常 {usual_zh}）。建议：{action[0]}"
    )
    en = (
        f"{where} {what}: {format_count(observed)} in {window} day(s) since {since:%b %d}, "
        f"normally {normal_en} (usually {usual_en}). Next: {action[1]}"
    )
    return zh, en


def _level_of(name: str, levels: list[Level]) -> Level:
    return next(level for level in levels if level.name == name)


def _subject(level: Level, series: str, names: Names) -> tuple[str | None, str | None, str | None, str, str]:
    """(department, region, category, where in Chinese, where in English) of one series of a level."""
    if level.keys == ("department",):
        return series, None, None, names.department(series), names.department(series, True)
    region, category = level_entity(level, series)
    where_zh = f"{names.region(region)} {names.category(category) or '全部类别'}"
    where_en = f"{names.region(region)} {names.category(category) or 'all categories'}"
    return None, region, category, where_zh, where_en


def _flags(
    found: pl.DataFrame,
    levels: list[Level],
    names: Names,
    kind: str,
    high_ratio: float,
    action: tuple[str, str],
) -> pl.DataFrame:
    rows = []
    for r in found.iter_rows(named=True):
        department, region, category, where_zh, where_en = _subject(_level_of(r["level"], levels), r["series"], names)
        what_zh, what_en = ("受理12345诉求", "12345 intake") if department else ("诉求", "complaints")
        band = normal_band(r["expected"], r["alpha"])
        zh, _ = surge_message(where_zh, what_zh, r["window"], r["observed"], r["expected"], band, r["start"], action)
        _, en = surge_message(where_en, what_en, r["window"], r["observed"], r["expected"], band, r["start"], action)
        ratio = r["observed"] / max(r["expected"], 1e-9)
        rows.append(
            {
                "kind": kind,
                "domain": "complaints",
                "region_code": region,
                "department": department,
                "category": category,
                "detail": None,
                "eval_day": r["eval_day"],
                "start": r["start"],
                "observed": r["observed"],
                "expected": r["expected"],
                "score": -math.log10(max(r["p_value"], 1e-300)),
                "severity": "high" if ratio >= high_ratio else "medium",
                "message": zh,
                "message_en": en,
            }
        )
    return flag_frame(rows)


def _detect(
    finest: pl.DataFrame,
    levels: list[Level],
    plan: Plan,
    settings: SurveillanceSettings,
    history: dt.date,
    names: Names,
) -> pl.DataFrame:
    """Discoveries, one per branch and day, each with the day its evidence begins."""
    found = discoveries(finest, levels, plan.eval_days, settings, history)
    if found.is_empty():
        return found.with_columns(pl.lit(None, pl.Date()).alias("start"))
    entity = {
        f"{name}|{series}": level_entity(_level_of(name, levels), series)
        for name, series in found.select("level", "series").unique().iter_rows()
    }
    best = best_explanations(found, entity, names.parents())
    wanted = best.select("level", "series").unique()
    found_levels = set(wanted["level"])  # only the levels with a discovery are summed again
    daily = pl.concat(
        [
            level_daily(finest, level)
            .join(wanted.filter(pl.col("level") == level.name), on="series", how="semi")
            .select((pl.lit(level.name) + "|" + pl.col("series")).alias("key"), "day", "n")
            for level in levels
            if level.name in found_levels
        ]
    )
    return evidence_start(best, daily)


def complaint_surge_alerts(
    engine: sa.Engine, plan: Plan, rule: ComplaintSurgeRule, scope: Scope, names: Names
) -> pl.DataFrame:
    """Complaint surges at every level of the region × category hierarchy over the plan's days."""
    history = first_record_day(engine, "complaints", scope)
    if history is None:
        return flag_frame([])
    settings = _settings(rule)
    begin = plan.eval_days[0] - dt.timedelta(days=max(rule.windows) + rule.guard_days + rule.lookback_days)
    regions = tuple(level for level in rule.region_levels if level != CITY)
    categories = tuple(level for level in rule.category_levels if level != ALL_CATEGORIES)
    finest = _finest(engine, (*regions, *categories), begin, plan, scope)
    levels = hierarchy(rule.region_levels, rule.category_levels)
    found = _detect(finest, levels, plan, settings, history, names)
    return _flags(found, levels, names, "complaint_surge", rule.high_ratio, (rule.action, rule.action_en))


def intake_surge_alerts(
    engine: sa.Engine, plan: Plan, rule: IntakeSurgeRule, scope: Scope, names: Names
) -> pl.DataFrame:
    """Departments whose 12345 intake is far above their share of the city's, over the plan's days."""
    history = first_record_day(engine, "complaints", scope)
    if history is None:
        return flag_frame([])
    settings = _settings(rule)
    begin = plan.eval_days[0] - dt.timedelta(days=max(rule.windows) + rule.guard_days + rule.lookback_days)
    finest = _finest(engine, ("department",), begin, plan, scope)
    levels = [Level("department", ("department",))]
    found = _detect(finest, levels, plan, settings, history, names)
    return _flags(found, levels, names, "intake_surge", rule.high_ratio, (rule.action, rule.action_en))


def _settings(rule: ComplaintSurgeRule | IntakeSurgeRule) -> SurveillanceSettings:
    return SurveillanceSettings(
        windows=rule.windows,
        lookback=rule.lookback_days,
        guard=rule.guard_days,
        fdr_level=rule.fdr_level,
        min_count=rule.min_count,
        min_ratio=rule.min_ratio,
        prior_count=rule.prior_count,
    )


def creep_alerts(engine: sa.Engine, plan: Plan, rule: CountCreepRule, scope: Scope, names: Names) -> pl.DataFrame:
    """Sustained rises (CUSUM) of the busier complaint series: regions × categories and departments."""
    history = first_record_day(engine, "complaints", scope)
    if history is None:
        return flag_frame([])
    begin = max(history, plan.eval_days[0] - dt.timedelta(days=rule.guard_days + rule.lookback_days + 120))
    regions = tuple(level for level in rule.region_levels if level != CITY)
    categories = tuple(level for level in rule.category_levels if level != ALL_CATEGORIES)
    keys = (*regions, *categories, *(("department",) if rule.departments else ()))
    finest = _finest(engine, keys, begin, plan, scope)
    if finest.is_empty():
        return flag_frame([])
    city = city_daily(finest)
    levels = hierarchy(rule.region_levels, rule.category_levels)
    if rule.departments:
        levels.append(Level("department", ("department",)))
    rows = []
    for level in levels:
        daily = level_daily(finest, level)
        alpha = dispersion(daily, city, plan.eval_days[-1] - dt.timedelta(days=rule.lookback_days), plan.eval_days[-1])
        settings = CusumSettings(
            rule.lookback_days, rule.guard_days, rule.reference, rule.threshold, rule.min_expected, alpha
        )
        signals = creep_signals(daily, city, plan.eval_days, settings, history)
        for r in signals.iter_rows(named=True):
            rows.append(_creep_flag(level, r, names, rule))
    return flag_frame(rows)


def _creep_flag(level: Level, r: dict[str, object], names: Names, rule: CountCreepRule) -> dict[str, object]:
    series, start, eval_day = str(r["series"]), r["start"], r["eval_day"]
    observed, expected = float(r["observed"]), float(r["expected"])  # type: ignore[arg-type]
    assert isinstance(start, dt.date) and isinstance(eval_day, dt.date)
    department, region, category, where_zh, where_en = _subject(level, series, names)
    days = (eval_day - start).days + 1
    rise = observed / max(expected, 1e-9) - 1
    zh = (
        f"{where_zh} 诉求持续上升：自{_days(start)}起 {days} 日 {format_count(observed)} 件，"
        f"常态约 {expected:.0f} 件（高出 {rise:.0%}）。建议：{rule.action}"
    )
    en = (
        f"{where_en}: complaints rising since {start:%b %d}, {format_count(observed)} in {days} days against "
        f"about {expected:.0f} normally (+{rise:.0%}). Next: {rule.action_en}"
    )
    return {
        "kind": "count_creep",
        "domain": "complaints",
        "region_code": region,
        "department": department,
        "category": category,
        "detail": None,
        "eval_day": eval_day,
        "start": start,
        "observed": observed,
        "expected": expected,
        "score": float(r["cusum"]),  # type: ignore[arg-type]
        "severity": "high" if rise >= rule.high_rise else "medium",
        "message": zh,
        "message_en": en,
    }


__all__ = ["ALL", "complaint_surge_alerts", "creep_alerts", "hierarchy", "intake_surge_alerts", "surge_message"]
