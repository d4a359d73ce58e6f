"""Every metric of the cockpit, declared once as data, and checked when this module loads.

Period metrics are cohort metrics: they look at the records *received* in the time range
(submitted_at / received_at / collected_at) and at what had happened to them by the as-of time.
Snapshot metrics (``snapshot=True``) count what is open and overdue at the as-of time.
Each metric is documented in docs/metrics.md; a test fails when one is missing there.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from data_access.contract import schema
from data_access.semantic.metric_defs import (
    Agg,
    AsOf,
    AtMost,
    Col,
    Cond,
    Direction,
    Done,
    Exceeds,
    Expr,
    Formula,
    HoursBetween,
    In,
    IsSet,
    IsTrue,
    Measure,
    Metric,
    NotDone,
    NotIn,
    Positive,
    Ratio,
    Simple,
    Unit,
    Weighted,
    WeightedSum,
)
from data_access.semantic.metric_defs import All as AllOf
from data_access.semantic.model import MODELS

HIGHER = Direction.HIGHER_IS_BETTER
LOWER = Direction.LOWER_IS_BETTER
NEUTRAL = Direction.NEUTRAL

# The column each fact table's time range, time grain and cohort are defined on (its semantic model's).
TIME_COLUMN: dict[str, str] = {name: model.time_column for name, model in MODELS.items()}

# Settings a WeightedSum or Weighted may name (values come from the city config's [three_rates]).
SETTINGS: tuple[str, ...] = (
    "response_weight",
    "resolution_weight",
    "satisfaction_weight",
    "basic_satisfied_factor",
)

COUNT = Measure(Agg.COUNT)


def _count(where: Cond) -> Measure:
    return Measure(Agg.COUNT, where=where)


# ---- government service handling (政务服务) ----------------------------------------------------
# A rejected case (不予受理) is closed but not completed: it counts in no completion metric.
_svc_done = AllOf((Done("completed_at"), NotIn("status", ("不予受理",))))
_svc_hours = HoursBetween("submitted_at", "completed_at")
_svc_on_time = AllOf((_svc_done, AtMost(_svc_hours, Col("promised_limit_hours"))))
_svc_overdue_open = AllOf(
    (
        NotDone("completed_at"),
        NotIn("status", ("不予受理",)),
        Exceeds(HoursBetween("submitted_at", AsOf()), Col("promised_limit_hours")),
    )
)

SERVICE_METRICS = (
    Metric("service_received", "service_cases", "受理量", "Cases received", Simple(COUNT),
           Unit.COUNT, NEUTRAL, "Cases submitted in the period."),
    Metric("service_completed", "service_cases", "办结量", "Cases completed", Simple(_count(_svc_done)),
           Unit.COUNT, NEUTRAL, "Cases submitted in the period and completed by the as-of time."),
    Metric("service_handling_hours_median", "service_cases", "办理时长中位数", "Median handling time",
           Simple(Measure(Agg.MEDIAN, _svc_hours, _svc_done)), Unit.HOURS, LOWER,
           "Median hours from submission to completion, over completed cases."),
    Metric("service_handling_hours_p90", "service_cases", "办理时长P90", "90th percentile handling time",
           Simple(Measure(Agg.P90, _svc_hours, _svc_done)), Unit.HOURS, LOWER,
           "90th percentile of hours from submission to completion, over completed cases."),
    Metric("service_on_time_rate", "service_cases", "按时办结率", "On-time completion rate",
           Ratio(_count(_svc_on_time), _count(_svc_done)), Unit.RATE, HIGHER,
           "Completed within the promised limit ÷ completed.", default_target=0.95),
    Metric("service_overdue_open", "service_cases", "超期未办结", "Overdue open cases",
           Simple(_count(_svc_overdue_open)), Unit.COUNT, LOWER,
           "Cases open at the as-of time whose promised limit has passed (rejected cases excluded).",
           snapshot=True),
    Metric("service_online_share", "service_cases", "网办率", "Online share",
           Ratio(_count(In("channel", ("网上", "掌上"))), COUNT), Unit.RATE, HIGHER,
           "Cases submitted online or on mobile ÷ all cases.", default_target=0.8),
    Metric("service_rated", "service_cases", "评价量", "Cases rated", Simple(_count(IsSet("rating"))),
           Unit.COUNT, NEUTRAL, "Cases submitted in the period that carry a 好差评 rating."),
    Metric("service_good_rating_rate", "service_cases", "好评率", "Good-rating rate",
           Ratio(_count(In("rating", ("非常满意", "满意"))), _count(IsSet("rating"))), Unit.RATE, HIGHER,
           "Ratings 非常满意 or 满意 ÷ all ratings (好差评).", default_target=0.95),
)  # fmt: skip

# ---- 12345 citizen complaints (接诉即办) -------------------------------------------------------
_valid_follow_up = In("follow_up", ("满意", "基本满意", "不满意"))
_cmp_resolved = Done("resolved_at")
_cmp_overdue_open = AllOf(
    (NotDone("resolved_at"), Exceeds(HoursBetween("received_at", AsOf()), Col("time_limit_hours")))
)

COMPLAINT_METRICS = (
    Metric("complaint_received", "complaints", "诉求量", "Complaints received", Simple(COUNT),
           Unit.COUNT, NEUTRAL, "Tickets received in the period."),
    Metric("complaint_response_rate", "complaints", "响应率", "Response rate",
           Ratio(_count(AllOf((_valid_follow_up, IsTrue("contacted")))), _count(_valid_follow_up)),
           Unit.RATE, HIGHER, "Contacted ÷ valid follow-ups (满意, 基本满意, 不满意).", default_target=0.98),
    Metric("complaint_resolution_rate", "complaints", "解决率", "Resolution rate",
           Ratio(_count(AllOf((_valid_follow_up, IsTrue("resolved")))), _count(_valid_follow_up)),
           Unit.RATE, HIGHER, "Resolved ÷ valid follow-ups.", default_target=0.85),
    Metric("complaint_satisfaction_rate", "complaints", "满意率", "Satisfaction rate",
           Ratio(Measure(Agg.SUM, Weighted("follow_up", (("满意", 1.0), ("基本满意", "basic_satisfied_factor")))),
                 _count(_valid_follow_up)),
           Unit.RATE, HIGHER,
           "(满意 + factor × 基本满意) ÷ valid follow-ups; the factor (default 0.9) is configuration.",
           default_target=0.9),
    Metric("complaint_composite_score", "complaints", "三率综合得分", "Composite 三率 score",
           WeightedSum((("complaint_response_rate", "response_weight"),
                        ("complaint_resolution_rate", "resolution_weight"),
                        ("complaint_satisfaction_rate", "satisfaction_weight"))),
           Unit.SCORE, HIGHER,
           "Weighted sum of response, resolution and satisfaction rates (default 0.1 / 0.5 / 0.4).",
           default_target=0.9),
    Metric("complaint_repeat_rate", "complaints", "重复诉求率", "Repeat-complaint rate",
           Ratio(_count(IsSet("repeat_of")), COUNT), Unit.RATE, LOWER,
           "Tickets that repeat an earlier ticket ÷ all tickets.", default_target=0.05),
    Metric("complaint_repeats", "complaints", "重复诉求量", "Repeat complaints",
           Simple(_count(IsSet("repeat_of"))), Unit.COUNT, LOWER, "Tickets that repeat an earlier ticket."),
    Metric("complaint_first_response_hours_median", "complaints", "首次响应时长中位数",
           "Median hours to first response",
           Simple(Measure(Agg.MEDIAN, HoursBetween("received_at", "first_response_at"), Done("first_response_at"))),
           Unit.HOURS, LOWER, "Median hours from receipt to the first response."),
    Metric("complaint_close_hours_median", "complaints", "办结时长中位数", "Median hours to close",
           Simple(Measure(Agg.MEDIAN, HoursBetween("received_at", "closed_at"), Done("closed_at"))),
           Unit.HOURS, LOWER, "Median hours from receipt to closing (after the follow-up)."),
    Metric("complaint_on_time_rate", "complaints", "按时办结率", "On-time completion rate",
           Ratio(_count(AllOf((_cmp_resolved, AtMost(HoursBetween("received_at", "resolved_at"),
                                                     Col("time_limit_hours"))))),
                 _count(_cmp_resolved)),
           Unit.RATE, HIGHER, "Resolved within the ticket's time limit ÷ resolved.", default_target=0.95),
    Metric("complaint_overdue_open", "complaints", "超期未办结", "Overdue open tickets",
           Simple(_count(_cmp_overdue_open)), Unit.COUNT, LOWER,
           "Tickets unresolved at the as-of time whose time limit has passed.", snapshot=True),
)  # fmt: skip

# ---- grid management events (网格化管理) --------------------------------------------------------
_grid_handled = Done("handled_at")
_grid_overdue_open = AllOf(
    (
        Done("dispatched_at"),
        NotDone("handled_at"),
        Exceeds(HoursBetween("dispatched_at", AsOf()), Col("time_limit_hours")),
    )
)
# The grid workflow stages after collection, with their Chinese and English names.
STAGE_LABELS: dict[str, tuple[str, str]] = {
    "file": ("立案", "filing"),
    "dispatch": ("派遣", "dispatch"),
    "handle": ("处置", "handling"),
    "feedback": ("处置反馈", "feedback"),
    "verify": ("核查", "verification"),
    "close": ("结案", "closing"),
}


def _stage_metrics() -> Iterator[Metric]:
    """Median hours spent reaching each workflow stage from the one before it."""
    for (_, previous), (stage, column) in zip(schema.GRID_WORKFLOW, schema.GRID_WORKFLOW[1:], strict=False):
        zh, en = STAGE_LABELS[stage]
        yield Metric(
            f"grid_stage_hours_{stage}",
            "grid_events",
            f"{zh}环节时长中位数",
            f"Median hours in {en} stage",
            Simple(Measure(Agg.MEDIAN, HoursBetween(previous, column), Done(column))),
            Unit.HOURS,
            LOWER,
            f"Median hours from {previous} to {column}, over events that reached {column}.",
        )


GRID_METRICS = (
    Metric("grid_collected", "grid_events", "采集量", "Events collected", Simple(COUNT),
           Unit.COUNT, NEUTRAL, "Events collected in the period."),
    Metric("grid_filed", "grid_events", "立案量", "Events filed", Simple(_count(Done("filed_at"))),
           Unit.COUNT, NEUTRAL, "Events collected in the period and filed by the as-of time."),
    Metric("grid_dispatched", "grid_events", "派遣量", "Events dispatched", Simple(_count(Done("dispatched_at"))),
           Unit.COUNT, NEUTRAL, "Events collected in the period and dispatched by the as-of time."),
    Metric("grid_handled", "grid_events", "处置量", "Events handled", Simple(_count(Done("handled_at"))),
           Unit.COUNT, NEUTRAL, "Events collected in the period and handled by the as-of time."),
    Metric("grid_fed_back", "grid_events", "反馈量", "Events fed back", Simple(_count(Done("feedback_at"))),
           Unit.COUNT, NEUTRAL, "Events collected in the period whose handling was reported back by the as-of time."),
    Metric("grid_verified", "grid_events", "核查量", "Events verified", Simple(_count(Done("verified_at"))),
           Unit.COUNT, NEUTRAL, "Events collected in the period and verified by the as-of time."),
    Metric("grid_closed", "grid_events", "结案量", "Events closed", Simple(_count(Done("closed_at"))),
           Unit.COUNT, NEUTRAL, "Events collected in the period and closed by the as-of time."),
    Metric("grid_closure_rate", "grid_events", "结案率", "Closure rate",
           Ratio(_count(AllOf((Done("filed_at"), Done("closed_at")))), _count(Done("filed_at"))),
           Unit.RATE, HIGHER, "Closed ÷ filed.", default_target=0.95),
    Metric("grid_on_time_rate", "grid_events", "按期处置率", "On-time handling rate",
           Ratio(_count(AllOf((_grid_handled, AtMost(HoursBetween("dispatched_at", "handled_at"),
                                                     Col("time_limit_hours"))))),
                 _count(AllOf((_grid_handled, Done("dispatched_at"))))),
           Unit.RATE, HIGHER, "Handled within the limit counted from dispatch ÷ handled.", default_target=0.92),
    Metric("grid_overdue_open", "grid_events", "超期未处置", "Overdue unhandled events",
           Simple(_count(_grid_overdue_open)), Unit.COUNT, LOWER,
           "Dispatched events unhandled at the as-of time whose handling limit has passed.", snapshot=True),
    Metric("grid_rework_rate", "grid_events", "返工率", "Rework rate",
           Ratio(_count(AllOf((_grid_handled, Positive("rework_count")))), _count(_grid_handled)),
           Unit.RATE, LOWER, "Handled events sent back at least once (回退) ÷ handled.", default_target=0.05),
    *_stage_metrics(),
)  # fmt: skip

METRICS: dict[str, Metric] = {m.name: m for m in (*SERVICE_METRICS, *COMPLAINT_METRICS, *GRID_METRICS)}


# ---- validation: run at import, so a bad declaration never reaches a page ----------------------


class MetricDefinitionError(Exception):
    """A metric declaration refers to something that does not exist."""


def _expr_columns(expr: Expr | None) -> Iterator[str]:
    if isinstance(expr, Col):
        yield expr.name
    elif isinstance(expr, HoursBetween):
        yield expr.start
        if isinstance(expr.end, str):
            yield expr.end
    elif isinstance(expr, Weighted):
        yield expr.column


def _cond_columns(cond: Cond | None) -> Iterator[str]:
    if cond is None:
        return
    if isinstance(cond, AllOf):
        for part in cond.conditions:
            yield from _cond_columns(part)
    elif isinstance(cond, AtMost | Exceeds):
        yield from _expr_columns(cond.left)
        yield from _expr_columns(cond.right)
    else:
        yield cond.column


def _formula_measures(formula: Formula) -> Iterator[Measure]:
    if isinstance(formula, Simple):
        yield formula.measure
    elif isinstance(formula, Ratio):
        yield formula.numerator
        yield formula.denominator


def _weighted_settings(measure: Measure) -> Iterator[str]:
    if isinstance(measure.value, Weighted):
        for _, weight in measure.value.weights:
            if isinstance(weight, str):
                yield weight


def validate_registry(metrics: dict[str, Metric]) -> None:
    """Every column, table, setting and referenced metric must exist; names must be unique."""
    tables = {name: model.table for name, model in MODELS.items()}
    for name, metric in metrics.items():
        if name != metric.name:
            raise MetricDefinitionError(f"metric registered as {name!r} is named {metric.name!r}")
        table: sa.Table | None = tables.get(metric.table)
        if table is None:
            raise MetricDefinitionError(f"{name}: unknown table {metric.table!r}")
        for measure in _formula_measures(metric.formula):
            if measure.agg.quantile is not None and measure.value is None:
                raise MetricDefinitionError(f"{name}: {measure.agg} needs a value")
            for column in (*_expr_columns(measure.value), *_cond_columns(measure.where)):
                if column not in table.c:
                    raise MetricDefinitionError(f"{name}: table {metric.table} has no column {column!r}")
            for setting in _weighted_settings(measure):
                if setting not in SETTINGS:
                    raise MetricDefinitionError(f"{name}: unknown setting {setting!r}")
        if isinstance(metric.formula, WeightedSum):
            for part, weight in metric.formula.parts:
                if part not in metrics or metrics[part].table != metric.table:
                    raise MetricDefinitionError(f"{name}: part {part!r} is not a metric of {metric.table}")
                if isinstance(weight, str) and weight not in SETTINGS:
                    raise MetricDefinitionError(f"{name}: unknown setting {weight!r}")
                if isinstance(metrics[part].formula, WeightedSum):
                    raise MetricDefinitionError(f"{name}: weighted sums cannot nest ({part})")


validate_registry(METRICS)
