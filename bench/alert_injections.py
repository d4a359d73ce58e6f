"""Pure builders of injected anomalies for ``python -m bench.alerts --trials``: frames in, frames out.

Why a module of its own: the randomized evaluation is only as honest as its injections. Every extra
row is a *clone* of a real row of the same series (same street, category, department …) so that the
detectors see nothing but more of what the city already produces; every modification keeps the
workflow's timestamps in order and never reaches past the data's end (``as_of``). These functions do
no I/O, so ``tests/test_alert_trials.py`` checks them on tiny literal frames; the driver
(``bench.alert_trials``) picks the places, dates and sizes and writes the frames into a copy of the
demo database.

Sizes are expressed in standard deviations (σ) of the target series' local baseline, so a "4σ"
anomaly is equally hard on a quiet pair and on a busy department (see ``sigma_count``,
``sigma_rate``, ``sigma_queue``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

US = pl.Datetime("us")


@dataclass(frozen=True)
class TableSpec:
    """How one fact table's rows hang together: its id, its clock and its workflow timestamps in order.

    ``dependents``: columns that only make sense once a timestamp is set (a follow-up needs a closed
    ticket), nulled with it. ``status``: the status a row must carry given its (possibly nulled)
    timestamps, or ``None`` for a table without a status column.
    """

    name: str
    id_column: str
    anchor: str  # when the item came in: the day it is counted on
    times: tuple[str, ...]  # every timestamp, in workflow order (anchor first)
    dependents: dict[str, tuple[str, ...]] = field(default_factory=dict)
    status: Callable[[], pl.Expr] | None = None


def _complaint_status() -> pl.Expr:
    # The demo's three states: 已关闭 (closed), 已办结 (resolved, not closed), 办理中 (open).
    return (
        pl.when(pl.col("closed_at").is_not_null())
        .then(pl.lit("已关闭"))
        .when(pl.col("resolved_at").is_not_null())
        .then(pl.lit("已办结"))
        .otherwise(pl.lit("办理中"))
    )


def _service_status() -> pl.Expr:
    # A refusal (不予受理) stays a refusal; a completed case whose completion is gone is open again.
    done = pl.col("completed_at").is_null() & (pl.col("status") == "已办结")
    return pl.when(done).then(pl.lit("办理中")).otherwise(pl.col("status"))


COMPLAINTS = TableSpec(
    "complaints",
    "ticket_id",
    "received_at",
    ("received_at", "first_response_at", "resolved_at", "closed_at"),
    {"first_response_at": ("contacted",), "resolved_at": ("resolved",), "closed_at": ("follow_up",)},
    _complaint_status,
)
SERVICE_CASES = TableSpec(
    "service_cases",
    "case_id",
    "submitted_at",
    ("submitted_at", "accepted_at", "completed_at"),
    {"completed_at": ("rating",)},
    _service_status,
)
GRID_EVENTS = TableSpec(
    "grid_events",
    "event_id",
    "collected_at",
    ("collected_at", "filed_at", "dispatched_at", "handled_at", "feedback_at", "verified_at", "closed_at"),
)
TABLES: dict[str, TableSpec] = {spec.name: spec for spec in (COMPLAINTS, SERVICE_CASES, GRID_EVENTS)}
# A grid workflow stage → (the timestamp that starts the wait, the one that ends it).
STAGE_COLUMNS: dict[str, tuple[str, str]] = {
    stage: (GRID_EVENTS.times[i], GRID_EVENTS.times[i + 1])
    for i, stage in enumerate(("file", "dispatch", "handle", "feedback", "verify", "close"))
}


# ---- sizes -----------------------------------------------------------------------------------------


def sigma_count(expected: float) -> float:
    """σ of a count whose normal value over the anomaly's days is ``expected`` (Poisson), floored at 1."""
    return max(1.0, math.sqrt(max(expected, 0.0)))


def extra_count(k: float, expected: float) -> int:
    """Extra rows for a k·σ count anomaly (at least one)."""
    return max(1, round(k * sigma_count(expected)))


def sigma_rate(share: float, cases: int) -> float:
    """Binomial standard error of a late share ``share`` over ``cases`` cases (0 when there are none)."""
    if cases <= 0:
        return 0.0
    return math.sqrt(max(share * (1.0 - share), 0.0) / cases)


def extra_late(k: float, share: float, cases: int) -> int:
    """Extra late cases for a k·σ rate anomaly: k·σ·n, at least one (a share of 0 has no spread to scale by)."""
    return max(1, round(k * sigma_rate(share, cases) * cases))


def sigma_queue(normal_queue: float) -> float:
    """σ of a workflow queue whose normal length is ``normal_queue`` (Poisson), floored at 1."""
    return sigma_count(normal_queue)


def ramp_weights(days: int, ramp_days: int | None = None) -> list[float]:
    """Relative daily intensity: flat, or rising linearly over ``ramp_days`` to full size and staying there."""
    if not ramp_days:
        return [1.0] * days
    return [min(1.0, (day + 1) / ramp_days) for day in range(days)]


def spread_times(rng: np.random.Generator, start: dt.date, weights: Sequence[float], total: int) -> list[dt.datetime]:
    """``total`` moments in the days from ``start``, drawn by the daily ``weights``, sorted.

    Times of day are uniform over 07:00–22:00: when citizens call, and never the day's last
    seconds, so a clone stays inside its day even after the data's end is applied.
    """
    if total <= 0:
        return []
    p = np.asarray(weights, dtype=float)
    days = rng.choice(len(p), size=total, p=p / p.sum())
    seconds = rng.integers(7 * 3600, 22 * 3600, size=total)
    base = dt.datetime.combine(start, dt.time())
    return sorted(base + dt.timedelta(days=int(d), seconds=int(s)) for d, s in zip(days, seconds, strict=True))


# ---- rows ------------------------------------------------------------------------------------------


def close_after(frame: pl.DataFrame, spec: TableSpec, as_of: dt.datetime) -> pl.DataFrame:
    """Null every timestamp past ``as_of`` (with its dependent columns) and make the status say so.

    A clone or a delayed row must not know the future: what had not happened by the data's end is
    open. Only rows that lost a timestamp here get a new status.
    """
    cut = pl.lit(as_of, dtype=US)
    changed = pl.any_horizontal([pl.col(c).is_not_null() & (pl.col(c) > cut) for c in spec.times])
    frame = frame.with_columns(changed.alias("__changed"))
    frame = frame.with_columns([pl.when(pl.col(c) > cut).then(None).otherwise(pl.col(c)).alias(c) for c in spec.times])
    for column, dependents in spec.dependents.items():
        gone = pl.col("__changed") & pl.col(column).is_null()
        frame = frame.with_columns([pl.when(gone).then(None).otherwise(pl.col(d)).alias(d) for d in dependents])
    if spec.status is not None:
        frame = frame.with_columns(
            pl.when(pl.col("__changed")).then(spec.status()).otherwise(pl.col("status")).alias("status")
        )
    return frame.drop("__changed")


def _shift(frame: pl.DataFrame, columns: Sequence[str], delta: pl.Expr) -> pl.DataFrame:
    return (
        frame.with_columns(delta.alias("__delta"))
        .with_columns([(pl.col(c) + pl.col("__delta")).alias(c) for c in columns])
        .drop("__delta")
    )


def clone_rows(
    source: pl.DataFrame, spec: TableSpec, anchors: Sequence[dt.datetime], id_prefix: str, as_of: dt.datetime
) -> pl.DataFrame:
    """Copies of ``source``'s rows moved so that row i comes in at ``anchors[i]``.

    Every timestamp moves by the same amount, so the workflow's order and durations (and whether
    the row was late) are the real row's; ids are ``id_prefix`` + a counter; a clone repeats no
    ticket (``repeat_of`` cleared), so surges do not also fake repeat clusters.
    """
    if len(anchors) != source.height:
        raise ValueError(f"{len(anchors)} anchors for {source.height} rows")
    new = pl.Series("__new", list(anchors), dtype=US)
    frame = source.with_columns(new)
    frame = _shift(frame, spec.times, pl.col("__new") - pl.col(spec.anchor)).drop("__new")
    ids = pl.Series(spec.id_column, [f"{id_prefix}{i:07d}" for i in range(source.height)], dtype=pl.String())
    frame = frame.with_columns(ids)
    if "repeat_of" in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String()).alias("repeat_of"))
    return close_after(frame, spec, as_of)


def make_late(
    rows: pl.DataFrame,
    spec: TableSpec,
    done: str,
    limit_hours: str,
    factors: Sequence[float],
    as_of: dt.datetime,
) -> pl.DataFrame:
    """The rows finished at ``factors[i]`` × their time limit after they came in (factor > 1: late).

    The finishing timestamp ``done`` and every later one move by the same amount (a closed ticket
    is closed as long after its resolution as before); what would pass ``as_of`` becomes open.
    """
    if len(factors) != rows.height or any(f <= 1.0 for f in factors):
        raise ValueError("one factor > 1 per row")
    target = pl.col(spec.anchor) + (pl.col(limit_hours) * pl.Series(list(factors)) * 3_600_000_000).cast(pl.Int64).cast(
        pl.Duration("us")
    )
    later = spec.times[spec.times.index(done) :]
    return close_after(_shift(rows, later, target - pl.col(done)), spec, as_of)


def delay_stage(rows: pl.DataFrame, stage: str, delays_days: Sequence[float], as_of: dt.datetime) -> pl.DataFrame:
    """Grid events held in ``stage`` for ``delays_days[i]`` more days: the stage's end and all later steps move."""
    if len(delays_days) != rows.height:
        raise ValueError("one delay per row")
    ends = STAGE_COLUMNS[stage][1]
    later = GRID_EVENTS.times[GRID_EVENTS.times.index(ends) :]
    delta = (pl.Series(list(delays_days)) * 86_400_000_000).cast(pl.Int64).cast(pl.Duration("us"))
    return close_after(_shift(rows, later, pl.lit(delta)), GRID_EVENTS, as_of)


def rows_on_days(frame: pl.DataFrame, spec: TableSpec, first: dt.date, days: int) -> pl.DataFrame:
    """The rows that came in on ``days`` days from ``first``."""
    start = dt.datetime.combine(first, dt.time())
    return frame.filter(pl.col(spec.anchor).is_between(start, start + dt.timedelta(days=days), closed="left"))


def sample_ids(rng: np.random.Generator, frame: pl.DataFrame, spec: TableSpec, share: float) -> pl.Series:
    """A random ``share`` of ``frame``'s ids (for the holiday dip's deletions and the growth's clones)."""
    keep = rng.random(frame.height) < share
    return frame[spec.id_column].filter(pl.Series(keep))


def is_late(frame: pl.DataFrame, start: str, done: str, limit_hours: str, as_of: dt.datetime) -> pl.Series:
    """Whether each row finished (or, open, would finish) after its limit: the rate families' 'late'."""
    due = pl.col(start) + (pl.col(limit_hours) * 3_600_000_000).cast(pl.Int64).cast(pl.Duration("us"))
    late = pl.when(pl.col(done).is_null()).then(pl.lit(as_of, dtype=US) > due).otherwise(pl.col(done) > due)
    return frame.select(late.alias("late"))["late"]


# ---- the nine families -------------------------------------------------------------------------------

LOOKBACK_DAYS = 56  # the detectors' baseline window: the σ of an anomaly is the σ of what they compare with
COMPLAINT_FAMILIES = ("pair_surge", "busy_surge", "intake_rise", "creep", "street_wide", "neighbour_cluster")
FAMILIES = (*COMPLAINT_FAMILIES, "dept_stall", "complaint_overdue", "service_overdue")


@dataclass(frozen=True)
class Target:
    """What an anomaly is about (before its date is chosen): the series, how long, named how."""

    family: str
    table: str
    match: Mapping[str, tuple[str, ...]]  # column → allowed values: the target series' rows
    duration: int
    region_code: str | None = None
    department_code: str | None = None
    category_code: str | None = None
    stage: str | None = None
    ramp_days: int | None = None


@dataclass(frozen=True)
class Facts:
    """The demo's fact rows (from shortly before the replay), the data's end, and the pickable series."""

    frames: dict[str, pl.DataFrame]
    as_of: dt.datetime
    pairs: pl.DataFrame  # street_code, category_l3_code, n, busy
    departments: dict[str, list[str]]  # table → departments with enough rows to clone from

    @staticmethod
    def of(frames: dict[str, pl.DataFrame], as_of: dt.datetime) -> Facts:
        """Counts the street × level-3 pairs (busy = top decile of volume) and the departments per table."""
        c = frames["complaints"].filter(pl.col("street_code").is_not_null() & pl.col("category_l3_code").is_not_null())
        pairs = c.group_by("street_code", "category_l3_code").len("n").filter(pl.col("n") >= 3)
        pairs = pairs.with_columns((pl.col("n") >= pl.col("n").quantile(0.9)).alias("busy")).sort(pl.all())
        departments = {
            name: sorted(f.group_by("department_code").len("n").filter(pl.col("n") >= 1000)["department_code"])
            for name, f in frames.items()
        }
        return Facts(frames, as_of, pairs, departments)


def _pick(rng: np.random.Generator, values: Sequence[str]) -> str:
    return values[int(rng.integers(len(values)))]


def choose_target(facts: Facts, family: str, rng: np.random.Generator) -> Target:
    """A random series of the family's kind (what the anomaly will be about), and its duration."""
    c = facts.frames["complaints"]
    days = int(rng.integers(*{"pair_surge": (1, 4), "busy_surge": (1, 4), "intake_rise": (3, 15)}.get(family, (2, 8))))
    if family in ("pair_surge", "busy_surge"):
        pairs = facts.pairs.filter(pl.col("busy") == (family == "busy_surge"))
        street, category = pairs.row(int(rng.integers(pairs.height)))[:2]
        match = {"street_code": (street,), "category_l3_code": (category,)}
        return Target(family, "complaints", match, days, region_code=street, category_code=category)
    if family == "intake_rise":
        department = _pick(rng, facts.departments["complaints"])
        return Target(family, "complaints", {"department_code": (department,)}, days, department_code=department)
    if family == "creep":
        region, level = (
            ("street_code", "category_l1_code") if rng.random() < 0.5 else ("district_code", "category_l2_code")
        )
        series = (
            c.drop_nulls([region, level]).group_by(region, level).len("n").filter(pl.col("n") >= 120).sort(pl.all())
        )
        place, category = series.row(int(rng.integers(series.height)))[:2]
        match = {region: (place,), level: (category,)}
        days = int(rng.integers(21, 29))
        return Target(family, "complaints", match, days, region_code=place, category_code=category, ramp_days=21)
    if family == "street_wide":
        streets = c.drop_nulls("street_code").group_by("street_code").len("n").filter(pl.col("n") >= 300)
        street = _pick(rng, sorted(streets["street_code"]))
        return Target(family, "complaints", {"street_code": (street,)}, days, region_code=street)
    if family == "neighbour_cluster":
        spread = c.drop_nulls(["community_code", "category_l3_code"]).group_by("street_code", "category_l3_code")
        options = spread.agg(pl.col("community_code").unique().sort()).filter(pl.col("community_code").list.len() >= 2)
        street, category, communities = options.sort("street_code", "category_l3_code").row(
            int(rng.integers(options.height))
        )
        chosen = tuple(rng.choice(communities, size=min(len(communities), int(rng.integers(2, 5))), replace=False))
        cluster: dict[str, tuple[str, ...]] = {
            "community_code": tuple(map(str, chosen)),
            "category_l3_code": (category,),
        }
        return Target(family, "complaints", cluster, days, region_code=street, category_code=category)
    table = {"dept_stall": "grid_events", "complaint_overdue": "complaints", "service_overdue": "service_cases"}[family]
    department = _pick(rng, facts.departments[table])
    stage = _pick(rng, list(STAGE_COLUMNS)) if family == "dept_stall" else None
    days = int(rng.integers(3, 11)) if family == "dept_stall" else int(rng.integers(3, 15))
    return Target(family, table, {"department_code": (department,)}, days, department_code=department, stage=stage)


def series_rows(facts: Facts, target: Target) -> pl.DataFrame:
    frame = facts.frames[target.table]
    return frame.filter(pl.all_horizontal([pl.col(k).is_in(list(v)) for k, v in target.match.items()]))


def daily_rate(rows: pl.DataFrame, spec: TableSpec, start: dt.date) -> float:
    """The series' mean daily count over the ``LOOKBACK_DAYS`` before ``start``."""
    return rows_on_days(rows, spec, start - dt.timedelta(days=LOOKBACK_DAYS), LOOKBACK_DAYS).height / LOOKBACK_DAYS


def normal_queue(rows: pl.DataFrame, stage: str, start: dt.date) -> float:
    """Mean number of the rows waiting more than a day in ``stage`` at the end of each lookback day."""
    enter, leave = STAGE_COLUMNS[stage]
    total = 0
    for back in range(1, LOOKBACK_DAYS + 1):
        end = dt.datetime.combine(start - dt.timedelta(days=back - 1), dt.time())
        waiting = (pl.col(enter) <= end - dt.timedelta(days=1)) & (pl.col(leave).is_null() | (pl.col(leave) > end))
        total += rows.filter(waiting & (pl.col("side_state").fill_null("") != "挂账")).height
    return total / LOOKBACK_DAYS


@dataclass(frozen=True)
class Injection:
    """One injected anomaly: its record, the rows to add and the existing rows replaced (same ids)."""

    record: dict[str, object]
    added: pl.DataFrame
    replaced: pl.DataFrame


def build(facts: Facts, target: Target, start: dt.date, k: float, rng: np.random.Generator, prefix: str) -> Injection:
    """The anomaly of ``target`` starting on ``start``, of size k·σ of its local baseline."""
    spec = TABLES[target.table]
    rows = series_rows(facts, target)
    empty = rows.clear()
    if target.family == "dept_stall":
        assert target.stage is not None
        enter, leave = STAGE_COLUMNS[target.stage]
        window = rows.filter(
            pl.col(enter).is_between(*_span(start, target.duration), closed="left")
            & pl.col(leave).is_not_null()
            & (pl.col("side_state").fill_null("") != "挂账")
        )
        baseline = normal_queue(rows, target.stage, start)
        n = min(window.height, extra_count(k, baseline))
        picked = window.sample(n, seed=int(rng.integers(2**31)))
        replaced = delay_stage(picked, target.stage, list(rng.uniform(6.0, 14.0, n)), facts.as_of)
        return Injection(_record(target, start, k, n, baseline, None), empty, replaced)
    if target.family in ("complaint_overdue", "service_overdue"):
        done, limit = (
            ("resolved_at", "time_limit_hours") if spec is COMPLAINTS else ("completed_at", "promised_limit_hours")
        )
        usable = rows.filter(pl.col(done).is_not_null() & (pl.col("status") != "不予受理"))
        before = rows_on_days(usable, spec, start - dt.timedelta(days=LOOKBACK_DAYS), LOOKBACK_DAYS)
        late = is_late(before, spec.anchor, done, limit, facts.as_of)
        share = int(late.sum()) / late.len() if late.len() else 0.0
        window = rows_on_days(usable, spec, start, target.duration)
        on_time = window.filter(~is_late(window, spec.anchor, done, limit, facts.as_of))
        n = min(on_time.height, extra_late(k, share, window.height))
        picked = on_time.sample(n, seed=int(rng.integers(2**31)))
        replaced = make_late(picked, spec, done, limit, list(rng.uniform(1.3, 3.0, n)), facts.as_of)
        return Injection(_record(target, start, k, n, share * window.height, None), empty, replaced)
    baseline = daily_rate(rows, spec, start) * target.duration
    n = extra_count(k, baseline)
    pool = rows_on_days(rows, spec, start - dt.timedelta(days=LOOKBACK_DAYS), LOOKBACK_DAYS)
    pool = pool if pool.height >= 5 and target.family in ("intake_rise", "street_wide") else rows
    source = pool[rng.integers(0, pool.height, n).tolist()]
    anchors = spread_times(rng, start, ramp_weights(target.duration, target.ramp_days), n)
    added = clone_rows(source, spec, anchors, prefix, facts.as_of)
    handled = str(added["department_code"].mode().sort()[0])
    return Injection(_record(target, start, k, n, baseline, handled), added, empty)


def _span(start: dt.date, days: int) -> tuple[dt.datetime, dt.datetime]:
    first = dt.datetime.combine(start, dt.time())
    return first, first + dt.timedelta(days=days)


def _record(
    target: Target, start: dt.date, k: float, extra: int, baseline: float, handled: str | None
) -> dict[str, object]:
    return {
        "family": target.family,
        "size_sigma": k,
        "start": start,
        "end": start + dt.timedelta(days=target.duration),
        "region_code": target.region_code,
        "department_code": target.department_code,
        "category_code": target.category_code,
        "stage": target.stage,
        "extra": extra,
        "baseline": round(baseline, 2),
        "handled_by": handled or target.department_code,
    }
