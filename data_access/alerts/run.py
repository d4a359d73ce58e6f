"""``compute_alerts``: the early-warning run (风险研判与临期预警) from the database to one frame of alerts.

It asks the database for small aggregates (``data_access.alerts.aggregates`` and the metric layer,
both scoped to the viewer) and hands them to the pure detectors of each family (surges, rate jumps,
score drops, stalls, repeats, deadlines). Rules and thresholds come from ``config/alerts.toml``
(``data_access.alerts.config``). The method is explained for department heads in ``docs/alerts.md``.

Time model: detectors are evaluated at the end of each day (``eval_day``), using only data that
existed then, so a replay over a past window (``--since/--until``) raises exactly what a daily run
would have raised. Consecutive flagged days of one entity merge into one alert (an *episode*):
``start`` is when the evidence begins, ``end`` the day after it was last flagged, ``raised_at`` when
a daily run would first have shown it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import polars as pl

from data_access.alerts.config import AlertConfig, load_alert_config
from data_access.alerts.deadlines import deadline_alerts
from data_access.alerts.episodes import collapse_related, merge_episodes
from data_access.alerts.names import Names, alert_link, load_names
from data_access.alerts.plan import Plan, day_start, make_plan
from data_access.alerts.rate_jumps import rate_jump_alerts
from data_access.alerts.repeats import repeat_alerts
from data_access.alerts.schema import ALERT_SCHEMA, KINDS, OPERATIONAL_KINDS, flag_frame
from data_access.alerts.score_drops import score_drop_alerts
from data_access.alerts.stalls import stall_alerts
from data_access.alerts.surges import complaint_surge_alerts, creep_alerts, intake_surge_alerts
from data_access.runtime.session import DataSession
from data_access.semantic.metrics import data_as_of


def compute_alerts(
    session: DataSession,
    *,
    as_of: dt.datetime | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    config: AlertConfig | None = None,
    kinds: Sequence[str] | None = None,
    names: Names | None = None,
) -> pl.DataFrame:
    """The alerts at ``as_of`` (default: the data's latest record time), or every alert raised in [since, until].

    Returns one row per alert (columns ``ALERT_SCHEMA``), most severe first. Every query is scoped
    to the session's scope, so an alert about rows the viewer may not see cannot appear; the metric
    layer's numbers (三率 scores) use the city's weights, as on the pages.
    """
    with session.reading():
        return _compute(session, as_of, since, until, config or load_alert_config(), kinds, names)


def _compute(
    session: DataSession,
    as_of: dt.datetime | None,
    since: dt.date | None,
    until: dt.date | None,
    config: AlertConfig,
    kinds: Sequence[str] | None,
    names: Names | None,
) -> pl.DataFrame:
    engine, scope = session.engine, session.scope
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
        "complaint_surge": lambda: complaint_surge_alerts(engine, plan, config.complaint_surge, scope, names),
        "intake_surge": lambda: intake_surge_alerts(engine, plan, config.intake_surge, scope, names),
        "count_creep": lambda: creep_alerts(engine, plan, config.count_creep, scope, names),
        "overdue_rate_jump": lambda: rate_jump_alerts(engine, plan, config.overdue_rate_jump, scope, names),
        "score_drop": lambda: score_drop_alerts(session, plan, config.score_drop, names),
        "stage_stall": lambda: stall_alerts(engine, plan, config.stage_stall, scope, names),
        "repeat_cluster": lambda: repeat_alerts(engine, plan, config.repeat_cluster, scope, names),
    }
    for kind, detect in detectors.items():
        if kind in wanted:
            frames.append(detect())
    if wanted & set(OPERATIONAL_KINDS):
        frames.append(deadline_alerts(engine, plan, config, wanted, scope, names))
    flags = pl.concat(frames) if frames else flag_frame([])
    # The deadline lists are snapshots: consecutive days always merge; detectors use the configured gap.
    episodes = collapse_related(merge_episodes(flags, config.merge_gap_days), names.parents(), config.merge_gap_days)
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
                "start": day_start(r["start"]),
                "end": min(day_start(end_day), plan.cutoff_at),
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
