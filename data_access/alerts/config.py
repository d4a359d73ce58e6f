"""The early-warning rules file (``config/alerts.toml``), validated with pydantic models.

Every rule is a frozen model whose fields are the TOML keys, with the documented defaults. The
models are strict (no silent conversion of "5" to 5 or of 1 to true) and forbid unknown keys, so a
typo stops the start. pydantic reports a key path but no line (tomllib keeps none): ``load_alert_config``
turns the first error into one message naming the file, the line and the key, as department staff
who edit the file need it.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from data_access.alerts.schema import CATEGORY_LEVELS, FACT_TABLES, STAGES
from data_access.runtime.paths import REPO_ROOT
from data_access.semantic.query import REGION_DIMENSIONS

ALERTS_ENV = "COCKPIT_ALERTS"
DEFAULT_ALERTS_FILE = REPO_ROOT / "config" / "alerts.toml"


Number_ = TypeVar("Number_", int, float)


class AlertsProblem(Exception):
    """An invalid rules file; the message names the file and line."""


# ---- value constraints: each raises the phrase that ends the message ("... must not be negative") ----


def _problem(phrase: str) -> PydanticCustomError:
    return PydanticCustomError("alerts_rule", phrase)


def _not_negative(value: Number_) -> Number_:
    if value < 0:
        raise _problem("must not be negative")
    return value


def _at_least_one(value: int) -> int:
    if value < 1:
        raise _problem("must be at least 1")
    return value


def _share(value: float) -> float:
    if not 0 < value <= 1:
        raise _problem("must be a share in (0, 1]")
    return value


def _among(choices: tuple[str, ...]) -> Callable[[Any], Any]:
    """A check that a string (or every string of a list) is one of ``choices``."""

    def check(value: Any) -> Any:
        items = value if isinstance(value, tuple) else (value,)
        if any(item not in choices for item in items):
            raise _problem(f"must be among {', '.join(choices)}")
        return value

    return check


def _windows(value: tuple[int, ...]) -> tuple[int, ...]:
    if not value or any(day < 1 for day in value):
        raise _problem("must be a non-empty list of day counts of at least 1")
    return value


Count = Annotated[int, AfterValidator(_not_negative)]
Number = Annotated[float, AfterValidator(_not_negative)]
Days = Annotated[int, AfterValidator(_not_negative), AfterValidator(_at_least_one)]
Share = Annotated[float, AfterValidator(_not_negative), AfterValidator(_share)]
# TOML arrays arrive as lists: the tuple fields alone accept them (lax), their items stay strict strings.
Tables = Annotated[tuple[str, ...], Field(strict=False), AfterValidator(_among(FACT_TABLES))]
Stages = Annotated[tuple[str, ...], Field(strict=False), AfterValidator(_among(STAGES))]
CategoryLevel = Annotated[str, AfterValidator(_among(CATEGORY_LEVELS))]
RegionLevel = Annotated[str, AfterValidator(_among(REGION_DIMENSIONS))]
SurgeRegions = Annotated[tuple[str, ...], Field(strict=False), AfterValidator(_among(("city", *REGION_DIMENSIONS)))]
SurgeCategories = Annotated[tuple[str, ...], Field(strict=False), AfterValidator(_among(("all", *CATEGORY_LEVELS)))]
Windows = Annotated[tuple[int, ...], Field(strict=False), AfterValidator(_windows)]
StallLevel = Annotated[str, AfterValidator(_among((*REGION_DIMENSIONS, "department")))]


class Rule(BaseModel):
    """A rule's table in the file: strict types, no unknown key, immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    enabled: bool = True


class OverdueRule(Rule):
    """超期: open items past their time limit, per department and district (an operational list)."""

    tables: Tables = FACT_TABLES
    min_count: Count = 1
    medium_count: Count = 5
    high_count: Count = 20


class DueSoonRule(Rule):
    """临期: open items that have used at least ``warn_share`` of their limit but are not overdue yet."""

    tables: Tables = FACT_TABLES
    warn_share: Share = 0.8
    min_count: Count = 1
    medium_count: Count = 5
    high_count: Count = 20


class ComplaintSurgeRule(Rule):
    """Complaints of a region × category, at every level of the hierarchy, far above their expected count."""

    region_levels: SurgeRegions = ("city", "district", "street")
    category_levels: SurgeCategories = ("all", "category_l1", "category_l2", "category_l3")
    windows: Windows = (1, 3, 7)
    lookback_days: Days = 56
    guard_days: Count = 7
    fdr_level: Share = 0.05
    min_count: Count = 3
    min_ratio: Number = 1.5
    prior_count: Number = 2.0  # added to a series' baseline count: a series never seen is not "infinitely" up
    high_ratio: Number = 4.0
    action: str = "核查该区域近期同类工单，联系责任部门现场处置"
    action_en: str = "review this area's recent tickets of this kind and call in the department in charge"


class IntakeSurgeRule(Rule):
    """A department's 12345 intake far above its usual share of the city's."""

    windows: Windows = (3, 7)
    lookback_days: Days = 56
    guard_days: Count = 7
    fdr_level: Share = 0.005
    min_count: Count = 10
    min_ratio: Number = 1.2
    prior_count: Number = 2.0
    high_ratio: Number = 2.0
    action: str = "核查该部门近期受理工单的来源与类别，必要时调配人手"
    action_en: str = "look at where the department's new tickets come from and add staff if needed"


class CountCreepRule(Rule):
    """A sustained rise (CUSUM) of the busier complaint series, too slow for a window test."""

    region_levels: SurgeRegions = ("district", "street")
    category_levels: SurgeCategories = ("all", "category_l1")
    departments: bool = True
    lookback_days: Days = 56
    guard_days: Count = 28
    reference: Number = 0.5
    threshold: Number = 16.0
    min_expected: Number = 2.0
    high_rise: Number = 0.5
    action: str = "分析该区域诉求持续上升的原因，排查共性问题"
    action_en: str = "look for the common cause of the steady rise in this area"


class OverdueRateJumpRule(Rule):
    """A department's share of late items (open past ``check_share`` of the limit) rising against its history."""

    tables: Tables = FACT_TABLES
    check_share: Share = 1.0
    window_days: Days = 7
    lookback_days: Days = 56
    guard_days: Count = 7
    min_cases: Count = 20
    min_increase: Number = 0.05
    fdr_level: Share = 0.005
    high_increase: Number = 0.2
    action: str = "督办该部门超期件，核查办理环节是否受阻"
    action_en: str = "chase the department's late cases and check which step is held up"


class ScoreDropRule(Rule):
    """A street's composite 三率 score falling sharply against its own previous months."""

    window_days: Days = 28
    lookback_days: Days = 84
    every_days: Days = 7
    min_tickets: Count = 60
    min_drop: Number = 0.1
    min_z: Number = 4.0
    high_drop: Number = 0.2


class StageStallRule(Rule):
    """Grid events piling up, waiting in one workflow stage of one region (or department)."""

    region_level: StallLevel = "grid"
    stages: Stages = STAGES
    min_wait_days: Days = 1
    lookback_days: Days = 56
    gap_days: Days = 7
    min_count: Count = 5
    min_ratio: Number = 3.0
    max_p_value: Number = 1e-7
    expected_floor: Number = 0.2
    high_count: Count = 10


class RepeatClusterRule(Rule):
    """Several repeat complaints (重复诉求) at the same address and category within a few days."""

    region_level: RegionLevel = "community"
    category_level: CategoryLevel = "category_l3"
    window_days: Days = 7
    min_repeats: Count = 2
    high_repeats: Count = 5


class AlertRules(BaseModel):
    """The ``[rules.*]`` tables: one per kind, each optional (a missing rule keeps its defaults)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    overdue: OverdueRule = OverdueRule()
    due_soon: DueSoonRule = DueSoonRule()
    complaint_surge: ComplaintSurgeRule = ComplaintSurgeRule()
    intake_surge: IntakeSurgeRule = IntakeSurgeRule()
    count_creep: CountCreepRule = CountCreepRule()
    overdue_rate_jump: OverdueRateJumpRule = OverdueRateJumpRule()
    score_drop: ScoreDropRule = ScoreDropRule()
    stage_stall: StageStallRule = StageStallRule()
    repeat_cluster: RepeatClusterRule = RepeatClusterRule()


class Episodes(BaseModel):
    """``[episodes]``: flagged days at most ``merge_gap_days`` apart belong to one alert."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    merge_gap_days: Count = 2


class AlertsFile(BaseModel):
    """The whole file: ``[rules.*]`` and ``[episodes]``, nothing else."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    rules: AlertRules = AlertRules()
    episodes: Episodes = Episodes()


RULE_TYPES: dict[str, type[Rule]] = {
    name: info.annotation for name, info in AlertRules.model_fields.items() if isinstance(info.annotation, type)
}


class AlertConfig(AlertRules):
    """Every rule, validated; ``merge_gap_days``: flagged days this far apart still form one alert."""

    merge_gap_days: Count = 2
    source: Path | None = None

    def enabled(self, kind: str) -> bool:
        return bool(getattr(self, kind).enabled)


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


TYPE_NAMES: dict[Any, str] = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _type_name(rule: str, key: str) -> str:
    """What a key's value must be, in words, from the rule model's declared type."""
    annotation = RULE_TYPES[rule].model_fields[key].annotation
    return TYPE_NAMES.get(annotation, "a list of strings")


def _file_order(raw: dict[str, Any]) -> Callable[[ErrorDetails], tuple[int, ...]]:
    """Sort key of errors in the order of the file's checks: sections, then rules and keys as written."""

    def position(names: list[str], name: object) -> int:
        return names.index(name) if name in names else len(names)

    def key(error: ErrorDetails) -> tuple[int, ...]:
        loc = error["loc"]
        section = loc[0]
        if section not in ("rules", "episodes"):
            return (0, position(list(raw), section))
        table = raw.get(section)
        tables = list(table) if isinstance(table, dict) else []
        if section == "episodes" or len(loc) < 2:
            return (2 if section == "episodes" else 1, position(tables, loc[1] if len(loc) > 1 else None))
        values = table.get(loc[1]) if isinstance(table, dict) else None
        keys = list(values) if isinstance(values, dict) else []
        return (1, position(tables, loc[1]), position(keys, loc[2] if len(loc) > 2 else None))

    return key


def _message(path: Path, text: str, raw: dict[str, Any], error: ErrorDetails) -> str:
    """The old checker's sentence for one pydantic error: file, line, section, key, value and the rule broken."""
    loc = [str(part) for part in error["loc"]]
    if len(loc) == 1 and error["type"] == "extra_forbidden":
        return f"{path} line {line_of(text, loc[0])}: unknown section [{loc[0]}] (allowed: [rules.*], [episodes])"
    if len(loc) == 1:
        return f"{path} line {line_of(text, '', loc[0])}: {loc[0]} must be a table"
    section, name = loc[0], loc[1]
    if section == "episodes":
        where = f"{path} line {line_of(text, 'episodes', name)}"
        if error["type"] == "extra_forbidden":
            return f"{where}: unknown key '{name}' in [episodes] (allowed: merge_gap_days)"
        return f"{where}: [episodes] {name} = {raw['episodes'][name]!r} must be a non-negative integer"
    if len(loc) == 2 and error["type"] == "extra_forbidden":
        line = line_of(text, f"rules.{name}")
        return f"{path} line {line}: unknown rule [rules.{name}] (known: {', '.join(RULE_TYPES)})"
    if len(loc) == 2:
        return f"{path} line {line_of(text, 'rules', name)}: rules.{name} must be a table"
    rule, key = f"rules.{name}", loc[2]
    where = f"{path} line {line_of(text, rule, key)}"
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(RULE_TYPES[name].model_fields)
        return f"{where}: unknown key '{key}' in [{rule}] (allowed: {allowed})"
    value = raw["rules"][name][key]
    phrase = error["msg"] if error["type"] == "alerts_rule" else f"must be {_type_name(name, key)}"
    return f"{where}: [{rule}] {key} = {value!r} {phrase}"


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
    try:
        parsed = AlertsFile.model_validate(raw)
    except ValidationError as exc:
        first = min(exc.errors(), key=_file_order(raw))
        raise AlertsProblem(_message(path, text, raw, first)) from None
    return AlertConfig(**dict(parsed.rules), merge_gap_days=parsed.episodes.merge_gap_days, source=path)
