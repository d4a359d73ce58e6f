"""Early warning (风险研判与临期预警): the cockpit finds deadlines, surges, deterioration, stalls and repeats.

``compute_alerts`` asks the database for small aggregates (``data_access.alerts.aggregates`` and the
metric layer, both scoped to the viewer) and hands them to the pure detection functions below
(DataFrame in, DataFrame out). Rules and thresholds come from ``config/alerts.toml`` (or the file
``$COCKPIT_ALERTS`` names), validated strictly at start-up. The method is explained for department
heads in ``docs/alerts.md``.

Time model: detectors are evaluated at the end of each day (``eval_day``), using only data that
existed then, so a replay over a past window (``--since/--until``) raises exactly what a daily run
would have raised. Consecutive flagged days of one entity merge into one alert (an *episode*):
``start`` is when the evidence begins, ``end`` the day after it was last flagged, ``raised_at`` when
a daily run would first have shown it.

``python -m data_access.alerts [--url URL] [--as-of T | --since D --until D] [--scope ...] [--format ...]``
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import os
import re
import sys
import tomllib
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import polars as pl
import sqlalchemy as sa

from data_access.alerts import aggregates as aq
from data_access.runtime.engine import DatabaseProblem, check_database, get_engine, resolve_target
from data_access.runtime.paths import REPO_ROOT
from data_access.semantic.metric_registry import STAGE_LABELS
from data_access.semantic.metrics import data_as_of, run_metrics
from data_access.semantic.query import EVERYTHING, REGION_DIMENSIONS, MetricRequest, Scope, TimeRange, cutoff

ALERTS_ENV = "COCKPIT_ALERTS"
DEFAULT_ALERTS_FILE = REPO_ROOT / "config" / "alerts.toml"

SEVERITIES: tuple[str, ...] = ("high", "medium", "low")  # 高 / 中 / 低
SEVERITY_ZH: dict[str, str] = {"high": "高", "medium": "中", "low": "低"}
OPERATIONAL_KINDS: tuple[str, ...] = ("overdue", "due_soon")
DETECTION_KINDS: tuple[str, ...] = (
    "complaint_surge",
    "intake_surge",
    "overdue_rate_jump",
    "score_drop",
    "stage_stall",
    "repeat_cluster",
)
KINDS: tuple[str, ...] = (*OPERATIONAL_KINDS, *DETECTION_KINDS)
CSV_COLUMNS: tuple[str, ...] = (
    "kind",
    "severity",
    "region_code",
    "department",
    "category",
    "start",
    "end",
    "observed",
    "expected",
    "message",
)
FACT_TABLES: tuple[str, ...] = ("service_cases", "complaints", "grid_events")
DOMAIN_PAGE: dict[str, str] = {"service_cases": "services", "complaints": "complaints", "grid_events": "grid"}
DOMAIN_NAMES: dict[str, tuple[str, str]] = {
    "service_cases": ("政务服务办件", "service cases"),
    "complaints": ("12345诉求", "12345 tickets"),
    "grid_events": ("网格事件", "grid events"),
}
STAGES: tuple[str, ...] = tuple(STAGE_LABELS)
CATEGORY_LEVELS: tuple[str, ...] = ("category_l1", "category_l2", "category_l3")
WARMUP_DAYS = 14  # evaluated before a window so that episodes crossing its start get their true start

# ------------------------------------------------------------------------------------------------
# Configuration: one dataclass per rule; the TOML keys are the field names.
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueRule:
    """超期: open items past their time limit, per department and district (an operational list)."""

    enabled: bool = True
    tables: tuple[str, ...] = FACT_TABLES
    min_count: int = 1
    medium_count: int = 5
    high_count: int = 20


@dataclass(frozen=True)
class DueSoonRule:
    """临期: open items that have used at least ``warn_share`` of their limit but are not overdue yet."""

    enabled: bool = True
    tables: tuple[str, ...] = FACT_TABLES
    warn_share: float = 0.8
    min_count: int = 1
    medium_count: int = 5
    high_count: int = 20


@dataclass(frozen=True)
class ComplaintSurgeRule:
    """Complaints of one region × category well above that pair's own weekday-aware baseline."""

    enabled: bool = True
    region_level: str = "street"
    category_level: str = "category_l3"
    window_days: int = 3
    lookback_days: int = 56
    min_count: int = 5
    min_ratio: float = 3.0
    max_p_value: float = 1e-8
    expected_floor: float = 0.1  # per day: a pair never seen before is not "infinitely" above normal
    high_ratio: float = 6.0


@dataclass(frozen=True)
class IntakeSurgeRule:
    """A department's 12345 intake well above its own weekday-aware baseline."""

    enabled: bool = True
    window_days: int = 3
    lookback_days: int = 56
    min_count: int = 30
    min_ratio: float = 1.8
    max_p_value: float = 1e-6
    expected_floor: float = 1.0
    high_ratio: float = 3.0


@dataclass(frozen=True)
class OverdueRateJumpRule:
    """A department's share of late items (still open at ``check_share`` of the limit) jumping up."""

    enabled: bool = True
    tables: tuple[str, ...] = ("service_cases",)
    check_share: float = 0.5
    window_days: int = 3
    lookback_days: int = 56
    min_cases: int = 20
    min_increase: float = 0.15
    min_ratio: float = 1.8
    min_z: float = 4.0
    high_increase: float = 0.3


@dataclass(frozen=True)
class ScoreDropRule:
    """A street's composite 三率 score falling sharply against its own previous months."""

    enabled: bool = True
    window_days: int = 28
    lookback_days: int = 84
    every_days: int = 7
    min_tickets: int = 60
    min_drop: float = 0.1
    min_z: float = 4.0
    high_drop: float = 0.2


@dataclass(frozen=True)
class StageStallRule:
    """Grid events piling up, waiting in one workflow stage of one region (or department)."""

    enabled: bool = True
    region_level: str = "grid"
    stages: tuple[str, ...] = STAGES
    min_wait_days: int = 1
    lookback_days: int = 56
    gap_days: int = 7
    min_count: int = 5
    min_ratio: float = 3.0
    max_p_value: float = 1e-7
    expected_floor: float = 0.2
    high_count: int = 10


@dataclass(frozen=True)
class RepeatClusterRule:
    """Several repeat complaints (重复诉求) at the same address and category within a few days."""

    enabled: bool = True
    region_level: str = "community"
    category_level: str = "category_l3"
    window_days: int = 7
    min_repeats: int = 2
    high_repeats: int = 5


RULE_TYPES: dict[str, type[Any]] = {
    "overdue": OverdueRule,
    "due_soon": DueSoonRule,
    "complaint_surge": ComplaintSurgeRule,
    "intake_surge": IntakeSurgeRule,
    "overdue_rate_jump": OverdueRateJumpRule,
    "score_drop": ScoreDropRule,
    "stage_stall": StageStallRule,
    "repeat_cluster": RepeatClusterRule,
}
# Keys whose value must be one of a fixed set (list keys: every element).
CHOICES: dict[str, tuple[str, ...]] = {
    "tables": FACT_TABLES,
    "stages": STAGES,
    "category_level": CATEGORY_LEVELS,
}
REGION_LEVEL_CHOICES: dict[str, tuple[str, ...]] = {
    "complaint_surge": REGION_DIMENSIONS,
    "stage_stall": (*REGION_DIMENSIONS, "department"),
    "repeat_cluster": REGION_DIMENSIONS,
}


@dataclass(frozen=True)
class AlertConfig:
    """Every rule, validated; ``merge_gap_days``: flagged days this far apart still form one alert."""

    overdue: OverdueRule = field(default_factory=OverdueRule)
    due_soon: DueSoonRule = field(default_factory=DueSoonRule)
    complaint_surge: ComplaintSurgeRule = field(default_factory=ComplaintSurgeRule)
    intake_surge: IntakeSurgeRule = field(default_factory=IntakeSurgeRule)
    overdue_rate_jump: OverdueRateJumpRule = field(default_factory=OverdueRateJumpRule)
    score_drop: ScoreDropRule = field(default_factory=ScoreDropRule)
    stage_stall: StageStallRule = field(default_factory=StageStallRule)
    repeat_cluster: RepeatClusterRule = field(default_factory=RepeatClusterRule)
    merge_gap_days: int = 2
    source: Path | None = None

    def enabled(self, kind: str) -> bool:
        return bool(getattr(self, kind).enabled)


class AlertsProblem(Exception):
    """An invalid rules file; the message names the file and line."""


def line_of(text: str, section: str, key: str | None = None) -> int:
    """1-based line of ``[section]`` (or of ``key = `` inside it) in TOML text; tomllib reports no lines."""
    current = ""
    header = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
    for number, line in enumerate(text.splitlines(), start=1):
        found = header.match(line)
        if found:
            current = found.group(1).replace(" ", "").replace('"', "")
            if key is None and current == section:
                return number
            continue
        if key is not None and current == section and re.match(rf"^\s*\"?{re.escape(key)}\"?\s*=", line):
            return number
    return 0


def _type_name(expected: Any) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    if expected in names:
        return names[expected]
    return "a list of strings"


def _check_value(expected: Any, value: Any) -> Any:
    """The value converted to the field's type, or None when it has the wrong type."""
    if expected is bool:
        return value if isinstance(value, bool) else None
    if isinstance(value, bool):
        return None
    if expected is int:
        return value if isinstance(value, int) else None
    if expected is float:
        return float(value) if isinstance(value, int | float) else None
    if expected is str:
        return value if isinstance(value, str) else None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


def _rule(path: Path, text: str, name: str, values: dict[str, Any]) -> Any:
    """One validated rule dataclass from its TOML table (unknown keys, wrong types, bad values rejected)."""
    section = f"rules.{name}"
    rule_type = RULE_TYPES[name]
    hints = typing.get_type_hints(rule_type)
    allowed = [f.name for f in dataclasses.fields(rule_type)]
    checked: dict[str, Any] = {}
    for key, value in values.items():
        where = f"{path} line {line_of(text, section, key)}"
        if key not in allowed:
            raise AlertsProblem(f"{where}: unknown key '{key}' in [{section}] (allowed: {', '.join(allowed)})")
        converted = _check_value(hints[key], value)
        if converted is None:
            raise AlertsProblem(f"{where}: [{section}] {key} = {value!r} must be {_type_name(hints[key])}")
        choices = REGION_LEVEL_CHOICES.get(name, ()) if key == "region_level" else CHOICES.get(key)
        items = converted if isinstance(converted, tuple) else (converted,)
        if choices and any(item not in choices for item in items):
            raise AlertsProblem(f"{where}: [{section}] {key} = {value!r} must be among {', '.join(choices)}")
        if isinstance(converted, int | float) and not isinstance(converted, bool) and converted < 0:
            raise AlertsProblem(f"{where}: [{section}] {key} = {value!r} must not be negative")
        if key.endswith("_days") and converted < 1:
            raise AlertsProblem(f"{where}: [{section}] {key} = {value!r} must be at least 1")
        if key.endswith("_share") and not 0 < converted <= 1:
            raise AlertsProblem(f"{where}: [{section}] {key} = {value!r} must be a share in (0, 1]")
        checked[key] = converted
    return rule_type(**checked)


def load_alert_config(path: Path | str | None = None) -> AlertConfig:
    """Read and validate the rules file: argument, else $COCKPIT_ALERTS, else config/alerts.toml."""
    path = Path(path or os.environ.get(ALERTS_ENV) or DEFAULT_ALERTS_FILE)
    if not path.is_file():
        raise AlertsProblem(f"Alert rules file {path} does not exist (set {ALERTS_ENV} to a TOML file)")
    text = path.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AlertsProblem(f"{path} is not valid TOML: {exc}") from exc
    for section in raw:
        if section not in ("rules", "episodes"):
            raise AlertsProblem(
                f"{path} line {line_of(text, section)}: unknown section [{section}] (allowed: [rules.*], [episodes])"
            )
    rules: dict[str, Any] = {}
    for name, values in raw.get("rules", {}).items():
        if name not in RULE_TYPES:
            line = line_of(text, f"rules.{name}")
            raise AlertsProblem(f"{path} line {line}: unknown rule [rules.{name}] (known: {', '.join(RULE_TYPES)})")
        if not isinstance(values, dict):
            raise AlertsProblem(f"{path} line {line_of(text, 'rules', name)}: rules.{name} must be a table")
        rules[name] = _rule(path, text, name, values)
    gap = 2
    for key, value in raw.get("episodes", {}).items():
        where = f"{path} line {line_of(text, 'episodes', key)}"
        if key != "merge_gap_days":
            raise AlertsProblem(f"{where}: unknown key '{key}' in [episodes] (allowed: merge_gap_days)")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise AlertsProblem(f"{where}: [episodes] merge_gap_days = {value!r} must be a non-negative integer")
        gap = value
    return AlertConfig(**rules, merge_gap_days=gap, source=path)


# ------------------------------------------------------------------------------------------------
# Names for messages and links (small dimensions, read whole).
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Names:
    """Display names and the region tree; built once per run from the dimension tables."""

    regions: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)  # code -> (name, level, parent)
    departments: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (zh, en)
    categories: dict[str, str] = field(default_factory=dict)

    def region_path(self, code: str | None) -> list[str]:
        """Codes from the district down to ``code`` (the denormalised tree, never a code prefix)."""
        chain: list[str] = []
        current = code
        while current is not None and current in self.regions and len(chain) < 8:
            chain.append(current)
            current = self.regions[current][2]
        return list(reversed(chain)) if chain else ([code] if code else [])

    def region(self, code: str | None) -> str:
        """'西湖区 北山街道' for a street: the names from the district down."""
        if code is None:
            return "全市"
        return " ".join(self.regions.get(c, (c, "", None))[0] for c in self.region_path(code))

    def department(self, code: str | None, english: bool = False) -> str:
        if code is None:
            return ""
        zh, en = self.departments.get(code, (code, code))
        return en if english else zh

    def category(self, code: str | None) -> str:
        return "" if code is None else self.categories.get(code, code)

    def level(self, code: str) -> str | None:
        found = self.regions.get(code)
        return found[1] if found else None


def load_names(engine: sa.Engine) -> Names:
    regions = aq.region_index(engine)
    categories = aq.category_index(engine)
    return Names(
        regions={row[0]: (row[1], row[2], row[3]) for row in regions.iter_rows()},
        departments=aq.department_names(engine),
        categories={row[0]: row[1] for row in categories.iter_rows()},
    )


def alert_link(
    names: Names,
    domain: str,
    region: str | None,
    department: str | None,
    category: str | None,
    start: dt.date,
    end: dt.date,
    extra: dict[str, str] | None = None,
) -> str:
    """Topic page path with the filters that show an alert, e.g. ``complaints?district=…&street=…&start=…``."""
    params: dict[str, str] = {}
    for code in names.region_path(region):
        level = names.level(code) or "region"
        params[level] = code
    if department:
        params["department"] = department
    if category:
        params["category"] = category
    params["start"] = start.isoformat()
    params["end"] = end.isoformat()
    params.update(extra or {})
    return f"{DOMAIN_PAGE[domain]}?{urlencode(params)}"


# ------------------------------------------------------------------------------------------------
# Pure statistics.
# ------------------------------------------------------------------------------------------------


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


def weekday_factors(daily: pl.DataFrame) -> dict[int, float]:
    """Weekday (1 = Monday) → mean volume on that weekday ÷ mean volume; 1.0 each without enough data.

    ``daily`` holds ``day`` and ``n`` (any grouping; it is summed per day first). Days with no rows
    count as zero, so the profile reflects the whole span.
    """
    if daily.is_empty():
        return dict.fromkeys(range(1, 8), 1.0)
    totals = daily.group_by("day").agg(pl.col("n").sum())
    first, last = totals["day"].min(), totals["day"].max()
    assert isinstance(first, dt.date) and isinstance(last, dt.date)
    span = pl.DataFrame({"day": pl.date_range(first, last, "1d", eager=True)})
    full = span.join(totals, on="day", how="left").with_columns(pl.col("n").fill_null(0))
    if full.height < 28:
        return dict.fromkeys(range(1, 8), 1.0)
    mean = float(full["n"].cast(pl.Float64).sum()) / full.height
    if mean <= 0:
        return dict.fromkeys(range(1, 8), 1.0)
    per = full.group_by(pl.col("day").dt.weekday().alias("wd")).agg(pl.col("n").mean())
    found = {int(wd): float(n) / mean for wd, n in zip(per["wd"].to_list(), per["n"].to_list(), strict=True)}
    return {wd: found.get(wd, 1.0) for wd in range(1, 8)}


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
    # The surge began on the first day, within two windows back, that was clearly elevated on its own.
    days = (
        scored.select([*keys, "eval_day", "expected"])
        .with_columns(pl.int_ranges(0, 2 * window).alias("_offset"))
        .explode("_offset")
        .with_columns((pl.col("eval_day") - pl.duration(days=pl.col("_offset"))).alias("day"))
        .join(daily.group_by([*keys, "day"]).agg(pl.col("n").sum()), on=[*keys, "day"], how="inner")
        .filter((pl.col("n") >= 2) & (pl.col("n") >= min_ratio * pl.col("expected") / window))
        .group_by([*keys, "eval_day"])
        .agg(pl.col("day").min().alias("start"))
    )
    scored = scored.join(days, on=[*keys, "eval_day"], how="left").with_columns(
        pl.col("start").fill_null(pl.col("eval_day"))
    )
    return scored.select(list(out_schema)).cast(out_schema)  # type: ignore[arg-type]


def rate_jumps(
    groups: pl.DataFrame,
    eval_days: Sequence[dt.date],
    *,
    check_share: float,
    cutoff_at: dt.datetime,
    window: int,
    lookback: int,
    min_cases: int,
    min_increase: float,
    min_ratio: float,
    min_z: float,
    history_start: dt.date,
) -> pl.DataFrame:
    """Departments whose share of late items jumped against their own history.

    ``groups``: department, day (the clock's start day), limit_hours, n, late. Whether an item is
    late is settled ``check_share`` × limit after its start, so a group counts on its *settle day*
    (start day + ceil(check_share × limit / 24 h)) and only when settled before ``cutoff_at``. The
    window's late share is compared with the baseline share: it alarms when it is ``min_increase``
    higher, ``min_ratio`` times as high and ``min_z`` standard errors above it. ``start`` is the
    late-weighted median start day of the window's late items: when the affected cases came in.
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
    lag_hours = pl.col("limit_hours") * check_share
    settled = groups.with_columns(
        (pl.col("day") + pl.duration(days=(lag_hours / 24).ceil().cast(pl.Int64))).alias("settle_day"),
        (pl.col("day").cast(pl.Datetime("us")) + pl.duration(days=1) + pl.duration(hours=lag_hours)).alias("_at"),
    ).filter(pl.col("_at") <= cutoff_at)
    usable = [d for d in eval_days if d - dt.timedelta(days=window + lookback - 1) >= history_start]
    per_day = settled.select("department", pl.col("settle_day").alias("day"), "n", "late")
    sums = window_sums(per_day, ["department"], ["n", "late"], usable, window, lookback)
    if sums.is_empty():
        return pl.DataFrame(schema=out_schema)
    p_b = pl.col("late_base") / pl.col("n_base")
    p_w = pl.col("late_window") / pl.col("n_window")
    scored = (
        sums.filter((pl.col("n_window") >= min_cases) & (pl.col("n_base") >= min_cases))
        .with_columns(p_w.alias("observed"), p_b.alias("expected"))
        .with_columns(
            (
                (pl.col("observed") - pl.col("expected"))
                / (
                    pl.max_horizontal(pl.col("expected"), pl.lit(0.01))
                    * (1 - pl.min_horizontal(pl.col("expected"), pl.lit(0.99)))
                    / pl.col("n_window")
                ).sqrt()
            ).alias("z")
        )
        .filter(
            (pl.col("observed") - pl.col("expected") >= min_increase)
            & (pl.col("observed") >= min_ratio * pl.col("expected"))
            & (pl.col("z") >= min_z)
        )
    )
    if scored.is_empty():
        return pl.DataFrame(schema=out_schema)
    starts = (
        scored.select("department", "eval_day", "expected")
        .join(settled.select("department", "settle_day", "day", "n", "late"), on="department", how="inner")
        .filter(
            (pl.col("settle_day") > pl.col("eval_day") - pl.duration(days=window))
            & (pl.col("settle_day") <= pl.col("eval_day"))
            & (pl.col("late") > pl.col("expected") * pl.col("n"))
        )
        .sort("day")
        .group_by("department", "eval_day")
        .agg(_weighted_median_day(pl.col("day"), pl.col("late")).alias("start"))
    )
    scored = scored.join(starts, on=["department", "eval_day"], how="left").with_columns(
        pl.col("start").fill_null(pl.col("eval_day")), pl.col("n_window").alias("n")
    )
    return scored.select(list(out_schema)).cast(out_schema)  # type: ignore[arg-type]


def _weighted_median_day(day: pl.Expr, weight: pl.Expr) -> pl.Expr:
    """The first day at which the cumulative weight reaches half the total (rows sorted by day)."""
    cumulative = weight.cum_sum()
    return day.filter(cumulative >= weight.sum() / 2).first()


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
        .agg(_weighted_median_day(pl.col("entered"), pl.col("n")).alias("start"))
    )
    fallback = pl.col("eval_day") - pl.duration(days=min_wait_days)
    return found.join(starts, on=["region", "stage", "eval_day"], how="left").with_columns(
        pl.col("start").fill_null(fallback)
    )


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


def severity_by_count(value: float, medium: float, high: float) -> str:
    return "high" if value >= high else ("medium" if value >= medium else "low")


# ------------------------------------------------------------------------------------------------
# Episodes: consecutive flagged days of one entity form one alert.
# ------------------------------------------------------------------------------------------------

ENTITY = ["kind", "domain", "region_code", "department", "category", "detail"]
FLAG_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),
    "domain": pl.String(),
    "region_code": pl.String(),
    "department": pl.String(),
    "category": pl.String(),
    "detail": pl.String(),
    "eval_day": pl.Date(),
    "start": pl.Date(),
    "observed": pl.Float64(),
    "expected": pl.Float64(),
    "score": pl.Float64(),
    "severity": pl.String(),
    "message": pl.String(),
    "message_en": pl.String(),
}
ALERT_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),
    "severity": pl.String(),
    "region_code": pl.String(),
    "department": pl.String(),
    "category": pl.String(),
    "start": pl.Datetime("us"),
    "end": pl.Datetime("us"),
    "observed": pl.Float64(),
    "expected": pl.Float64(),
    "message": pl.String(),
    "message_en": pl.String(),
    "link": pl.String(),
    "raised_at": pl.Datetime("us"),
    "domain": pl.String(),
    "detail": pl.String(),
}


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


# ------------------------------------------------------------------------------------------------
# Messages: one line each, Chinese and English.
# ------------------------------------------------------------------------------------------------


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def surge_message(region: str, category: str, window: int, observed: float, ratio: float) -> tuple[str, str]:
    return (
        f"{region} {category} 投诉 {window} 日 {_fmt(observed)} 件，为常态 {ratio:.1f} 倍",
        f"{region} {category}: {_fmt(observed)} complaints in {window} days, {ratio:.1f}× normal",
    )


def intake_message(dept_zh: str, dept_en: str, window: int, observed: float, ratio: float) -> tuple[str, str]:
    return (
        f"{dept_zh} {window} 日受理 12345 诉求 {_fmt(observed)} 件，为常态 {ratio:.1f} 倍",
        f"{dept_en}: {_fmt(observed)} 12345 tickets in {window} days, {ratio:.1f}× normal",
    )


def rate_jump_message(
    dept_zh: str, dept_en: str, domain: str, check_share: float, observed: float, expected: float
) -> tuple[str, str]:
    zh_domain, en_domain = DOMAIN_NAMES[domain]
    if check_share >= 1.0:
        what_zh, what_en = "超期率", "overdue rate"
    else:
        what_zh = f"进度滞后率（用时过半 {check_share:.0%} 时限仍未办结）"
        what_en = f"late rate (still open at {check_share:.0%} of the limit)"
    return (
        f"{dept_zh} {zh_domain}{what_zh} {observed:.0%}，常态 {expected:.0%}",
        f"{dept_en} {en_domain}: {what_en} {observed:.0%}, normally {expected:.0%}",
    )


def score_drop_message(region: str, observed: float, expected: float, window: int) -> tuple[str, str]:
    return (
        f"{region} 近 {window} 日三率综合得分 {observed * 100:.1f}，此前 {expected * 100:.1f}",
        f"{region}: composite 三率 score {observed * 100:.1f} over the last {window} days, before {expected * 100:.1f}",
    )


def stall_message(region: str, stage: str, wait_days: int, observed: float, expected: float) -> tuple[str, str]:
    zh, en = STAGE_LABELS[stage]
    return (
        f"{region} 网格事件 {_fmt(observed)} 件滞留{zh}环节超过 {wait_days} 日，常态 {expected:.1f} 件",
        f"{region}: {_fmt(observed)} grid events waiting in {en} for over {wait_days} day(s), normally {expected:.1f}",
    )


def repeat_message(region: str, address: str, category: str, window: int, observed: float) -> tuple[str, str]:
    return (
        f"{region} {address} {category} 近 {window} 日重复诉求 {_fmt(observed)} 件",
        f"{region}, {address}, {category}: {_fmt(observed)} repeat complaints in {window} days",
    )


def deadline_message(
    kind: str, district: str, dept_zh: str, dept_en: str, domain: str, count: float, warn_share: float
) -> tuple[str, str]:
    zh_domain, en_domain = DOMAIN_NAMES[domain]
    if kind == "overdue":
        return (
            f"{district} {dept_zh} {zh_domain}超期未办结 {_fmt(count)} 件",
            f"{district}, {dept_en}: {_fmt(count)} open {en_domain} past their time limit",
        )
    return (
        f"{district} {dept_zh} {zh_domain}临期 {_fmt(count)} 件（已用时限 {warn_share:.0%} 以上）",
        f"{district}, {dept_en}: {_fmt(count)} open {en_domain} due soon (≥ {warn_share:.0%} of the limit used)",
    )


# ------------------------------------------------------------------------------------------------
# Turning detector output into flag rows.
# ------------------------------------------------------------------------------------------------


def _flags(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=FLAG_SCHEMA)


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
    return _flags(rows)


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
    return _flags(rows)


def rate_jump_flags(found: pl.DataFrame, domain: str, rule: OverdueRateJumpRule, names: Names) -> pl.DataFrame:
    rows = []
    for r in found.iter_rows(named=True):
        dept = r["department"]
        zh, en = rate_jump_message(
            names.department(dept), names.department(dept, True), domain, rule.check_share, r["observed"], r["expected"]
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
    return _flags(rows)


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
    return _flags(rows)


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
    return _flags(rows)


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
    return _flags(rows)


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
    return _flags(rows)


# ------------------------------------------------------------------------------------------------
# Orchestration: the database part.
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Which days to evaluate and up to when data may be used."""

    eval_days: tuple[dt.date, ...]
    report_from: dt.date  # episodes raised before this day are warm-up, not reported
    cutoff_at: dt.datetime  # exclusive end of the data the run may read
    as_of_mode: bool

    def point(self, day: dt.date) -> dt.datetime:
        """The moment a day is evaluated: its end, or the cut-off on the last (partial) day."""
        return min(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()), self.cutoff_at)


def make_plan(as_of: dt.datetime | None, since: dt.date | None, until: dt.date | None) -> Plan:
    if since is not None and until is not None:
        if until < since:
            raise ValueError(f"--until {until} is before --since {since}")
        first = since - dt.timedelta(days=WARMUP_DAYS)
        days = tuple(first + dt.timedelta(days=i) for i in range((until - first).days + 1))
        return Plan(days, since, dt.datetime.combine(until + dt.timedelta(days=1), dt.time()), False)
    if as_of is None:
        raise ValueError("give an as-of time or both since and until")
    last = as_of.date()
    first = last - dt.timedelta(days=WARMUP_DAYS)
    days = tuple(first + dt.timedelta(days=i) for i in range(WARMUP_DAYS + 1))
    return Plan(days, last, cutoff(as_of), True)


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _history_start(engine: sa.Engine, table: str, scope: Scope) -> dt.date | None:
    first = aq.daily_counts(engine, table, (), dt.datetime(1900, 1, 1), dt.datetime(9999, 1, 1), scope)
    value = first["day"].min()
    return value if isinstance(value, dt.date) else None


def _surge_alerts(engine: sa.Engine, plan: Plan, rule: ComplaintSurgeRule, scope: Scope, names: Names) -> pl.DataFrame:
    history = _history_start(engine, "complaints", scope)
    if history is None:
        return _flags([])
    begin = plan.eval_days[0] - dt.timedelta(days=rule.window_days + rule.lookback_days)
    keys = (rule.region_level, rule.category_level)
    daily = aq.daily_counts(engine, "complaints", keys, _at(begin), plan.cutoff_at, scope)
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


def _intake_alerts(engine: sa.Engine, plan: Plan, rule: IntakeSurgeRule, scope: Scope, names: Names) -> pl.DataFrame:
    history = _history_start(engine, "complaints", scope)
    if history is None:
        return _flags([])
    begin = plan.eval_days[0] - dt.timedelta(days=rule.window_days + rule.lookback_days)
    daily = aq.daily_counts(engine, "complaints", ("department",), _at(begin), plan.cutoff_at, scope)
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


def _rate_jump_alerts(
    engine: sa.Engine, plan: Plan, rule: OverdueRateJumpRule, scope: Scope, names: Names
) -> pl.DataFrame:
    frames = []
    for table in rule.tables:
        history = _history_start(engine, table, scope)
        if history is None:
            continue
        longest = 30  # days: settle lag of the longest limits considered in the window
        begin = plan.eval_days[0] - dt.timedelta(days=rule.window_days + rule.lookback_days + longest)
        groups = aq.late_groups(engine, table, rule.check_share, _at(begin), plan.cutoff_at, scope)
        found = rate_jumps(
            groups,
            plan.eval_days,
            check_share=rule.check_share,
            cutoff_at=plan.cutoff_at,
            window=rule.window_days,
            lookback=rule.lookback_days,
            min_cases=rule.min_cases,
            min_increase=rule.min_increase,
            min_ratio=rule.min_ratio,
            min_z=rule.min_z,
            history_start=history,
        )
        frames.append(rate_jump_flags(found, table, rule, names))
    return pl.concat(frames) if frames else _flags([])


def _street_scores(engine: sa.Engine, time_range: TimeRange, as_of: dt.datetime, scope: Scope) -> pl.DataFrame:
    """Composite 三率 score and ticket count per street, from the metric layer (one SELECT)."""
    request = MetricRequest(
        metrics=("complaint_composite_score", "complaint_received"),
        dimensions=("street",),
        time_range=time_range,
        as_of=as_of,
        scope=scope,
    )
    return (
        run_metrics(engine, request)
        .select(
            pl.col("street").alias("region"),
            pl.col("complaint_composite_score").alias("score"),
            pl.col("complaint_received").alias("n"),
        )
        .filter(pl.col("region").is_not_null())
    )


def _score_drop_alerts(engine: sa.Engine, plan: Plan, rule: ScoreDropRule, scope: Scope, names: Names) -> pl.DataFrame:
    history = _history_start(engine, "complaints", scope)
    if history is None:
        return _flags([])
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
            _street_scores(engine, TimeRange(recent_start, point), point, scope),
            _street_scores(engine, TimeRange(base_start, recent_start), point, scope),
            min_tickets=rule.min_tickets,
            min_drop=rule.min_drop,
            min_z=rule.min_z,
        )
        frames.append(score_drop_flags(found, day, rule, names))
    return pl.concat(frames) if frames else _flags([])


def _stall_alerts(engine: sa.Engine, plan: Plan, rule: StageStallRule, scope: Scope, names: Names) -> pl.DataFrame:
    history = _history_start(engine, "grid_events", scope)
    if history is None:
        return _flags([])
    begin = plan.eval_days[0] - dt.timedelta(days=rule.gap_days + rule.lookback_days)
    waits = aq.stage_waits(engine, rule.stages, rule.region_level, _at(begin), plan.cutoff_at, scope)
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


def _repeat_alerts(engine: sa.Engine, plan: Plan, rule: RepeatClusterRule, scope: Scope, names: Names) -> pl.DataFrame:
    begin = plan.eval_days[0] - dt.timedelta(days=rule.window_days)
    counts = aq.repeat_counts(engine, rule.region_level, rule.category_level, _at(begin), plan.cutoff_at, scope)
    found = repeat_clusters(counts, plan.eval_days, window=rule.window_days, min_repeats=rule.min_repeats)
    return repeat_flags(found.filter(pl.col("region").is_not_null()), rule, names)


def _deadline_alerts(
    engine: sa.Engine, plan: Plan, config: AlertConfig, kinds: set[str], scope: Scope, names: Names
) -> pl.DataFrame:
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
    return pl.concat(frames) if frames else _flags([])


def compute_alerts(
    engine: sa.Engine,
    *,
    as_of: dt.datetime | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    scope: Scope = EVERYTHING,
    config: AlertConfig | None = None,
    kinds: Sequence[str] | None = None,
    names: Names | None = None,
) -> pl.DataFrame:
    """The alerts at ``as_of`` (default: the data's latest record time), or every alert raised in [since, until].

    Returns one row per alert (columns ``ALERT_SCHEMA``), most severe first. Every query is scoped
    to ``scope``, so an alert about rows the viewer may not see cannot appear.
    """
    config = config or load_alert_config()
    if as_of is None and since is None:
        as_of = data_as_of(engine)
        if as_of is None:
            return pl.DataFrame(schema=ALERT_SCHEMA)
    plan = make_plan(as_of, since, until)
    wanted = {k for k in (kinds or KINDS) if config.enabled(k)}
    unknown = set(kinds or ()) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown alert kind(s): {', '.join(sorted(unknown))} (known: {', '.join(KINDS)})")
    names = names or load_names(engine)
    frames: list[pl.DataFrame] = []
    detectors: dict[str, Callable[[], pl.DataFrame]] = {
        "complaint_surge": lambda: _surge_alerts(engine, plan, config.complaint_surge, scope, names),
        "intake_surge": lambda: _intake_alerts(engine, plan, config.intake_surge, scope, names),
        "overdue_rate_jump": lambda: _rate_jump_alerts(engine, plan, config.overdue_rate_jump, scope, names),
        "score_drop": lambda: _score_drop_alerts(engine, plan, config.score_drop, scope, names),
        "stage_stall": lambda: _stall_alerts(engine, plan, config.stage_stall, scope, names),
        "repeat_cluster": lambda: _repeat_alerts(engine, plan, config.repeat_cluster, scope, names),
    }
    for kind, detect in detectors.items():
        if kind in wanted:
            frames.append(detect())
    if wanted & set(OPERATIONAL_KINDS):
        frames.append(_deadline_alerts(engine, plan, config, wanted, scope, names))
    flags = pl.concat(frames) if frames else _flags([])
    # The deadline lists are snapshots: consecutive days always merge; detectors use the configured gap.
    episodes = merge_episodes(flags, config.merge_gap_days)
    return finish(episodes, plan, names, config.merge_gap_days)


def finish(episodes: pl.DataFrame, plan: Plan, names: Names, merge_gap_days: int = 0) -> pl.DataFrame:
    """Keep what the run reports; add times and links.

    At an as-of time: the alerts still open, i.e. flagged within the last ``merge_gap_days`` days
    (a flag that would merge with tomorrow's has not cleared yet). In a replay: those first raised
    inside the window.
    """
    if plan.as_of_mode:
        active_from = plan.eval_days[-1] - dt.timedelta(days=merge_gap_days)
        kept = episodes.filter(pl.col("last_eval") >= active_from)
    else:
        kept = episodes.filter(pl.col("first_eval") >= plan.report_from)
    rows = []
    for r in kept.iter_rows(named=True):
        end_day = r["last_eval"] + dt.timedelta(days=1)
        extra = {"stage": r["detail"]} if r["kind"] == "stage_stall" and r["detail"] else None
        rows.append(
            {
                "kind": r["kind"],
                "severity": r["severity"],
                "region_code": r["region_code"],
                "department": r["department"],
                "category": r["category"],
                "start": _at(r["start"]),
                "end": min(_at(end_day), plan.cutoff_at),
                "observed": r["observed"],
                "expected": r["expected"],
                "message": r["message"],
                "message_en": r["message_en"],
                "link": alert_link(
                    names, r["domain"], r["region_code"], r["department"], r["category"], r["start"], end_day, extra
                ),
                "raised_at": plan.point(r["first_eval"]),
                "domain": r["domain"],
                "detail": r["detail"],
            }
        )
    frame = pl.DataFrame(rows, schema=ALERT_SCHEMA)
    order = pl.col("severity").replace_strict({"high": 0, "medium": 1, "low": 2}, return_dtype=pl.Int64)
    return frame.sort(order, "kind", "start", "region_code", "department", "category", nulls_last=True)


# ------------------------------------------------------------------------------------------------
# Command line.
# ------------------------------------------------------------------------------------------------


def parse_scope(items: Sequence[str]) -> Scope:
    """``department=CGJ,SCJG`` and ``region=330106`` (repeatable) → a Scope; nothing → everything."""
    departments: set[str] | None = None
    regions: set[str] | None = None
    for item in items:
        key, sep, value = item.partition("=")
        codes = {code.strip() for code in value.split(",") if code.strip()}
        if not sep or key.strip() not in ("department", "region"):
            raise ValueError(f"--scope {item!r}: expected department=CODE[,CODE…] or region=CODE[,CODE…]")
        if key.strip() == "department":
            departments = (departments or set()) | codes
        else:
            regions = (regions or set()) | codes
    return Scope(
        departments=None if departments is None else frozenset(departments),
        regions=None if regions is None else frozenset(regions),
    )


def _parse_time(value: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date or time: {value!r}") from exc


def _parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {value!r}") from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m data_access.alerts",
        description="Print the cockpit's alerts (风险研判与临期预警) at a time, or replay a window (docs/alerts.md).",
    )
    parser.add_argument("--url", help="SQLAlchemy database URL (default: as every entry point resolves it)")
    parser.add_argument("--as-of", type=_parse_time, help="judge at this time (default: the latest record time)")
    parser.add_argument("--since", type=_parse_date, help="replay: first day (inclusive)")
    parser.add_argument("--until", type=_parse_date, help="replay: last day (inclusive)")
    parser.add_argument(
        "--scope", action="append", default=[], help="department=CODE[,CODE…] or region=CODE[,CODE…]; repeatable"
    )
    parser.add_argument("--kind", action="append", default=[], choices=KINDS, help="only these kinds; repeatable")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the message column")
    parser.add_argument("--rules", help=f"rules file (default: ${ALERTS_ENV} or config/alerts.toml)")
    return parser


def render(alerts: pl.DataFrame, fmt: str, lang: str = "zh") -> str:
    """The alerts as text: the exact csv columns, json records, or an aligned table."""
    frame = alerts.with_columns(
        (pl.col("message_en") if lang == "en" else pl.col("message")).alias("message"),
        pl.col("start").dt.strftime("%Y-%m-%dT%H:%M:%S"),
        pl.col("end").dt.strftime("%Y-%m-%dT%H:%M:%S"),
    )
    if fmt == "csv":
        return frame.select(CSV_COLUMNS).write_csv()
    if fmt == "json":
        records = frame.with_columns(pl.col("raised_at").dt.strftime("%Y-%m-%dT%H:%M:%S")).to_dicts()
        return json.dumps(records, ensure_ascii=False, indent=1) + "\n"
    if frame.is_empty():
        return "没有预警 / no alerts\n"
    lines = []
    for r in frame.iter_rows(named=True):
        severity = r["severity"] if lang == "en" else SEVERITY_ZH[r["severity"]]
        lines.append(f"[{severity}] {r['kind']:<18} {r['start'][:10]}→{r['end'][:10]}  {r['message']}  ({r['link']})")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if (args.since is None) != (args.until is None):
        print("error: --since and --until go together", file=sys.stderr)
        return 2
    if args.since is not None and args.as_of is not None:
        print("error: give either --as-of or --since/--until, not both", file=sys.stderr)
        return 2
    try:
        config = load_alert_config(args.rules)
        scope = parse_scope(args.scope)
    except (AlertsProblem, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        engine = get_engine(resolve_target(args.url).url)
        check_database(engine)
        alerts = compute_alerts(
            engine,
            as_of=args.as_of,
            since=args.since,
            until=args.until,
            scope=scope,
            config=config,
            kinds=args.kind or None,
        )
    except DatabaseProblem as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(render(alerts, args.format, args.lang))
    return 0


if __name__ == "__main__":
    sys.exit(main())
