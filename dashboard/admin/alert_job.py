"""The admin page's view of the early-warning job: is it running, what did its last refresh do, and
which alert sets are stored for which data (``data_access.alerts.job`` and ``store``).

An IT admin reads this after an import to see whether the pages' alerts are current yet, and when the
job is off (``COCKPIT_ALERTS_JOB=off``, a cron job instead) whether that job has run.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import polars as pl

from dashboard.admin.facts import item_rows
from dashboard.core.formatting import format_datetime, format_number
from dashboard.core.i18n import t
from dashboard.session.context import Context
from data_access.alerts.job import JOB, JobStatus
from data_access.alerts.store import StoredRun


def job_rows(ctx: Context, status: JobStatus | None = None) -> pl.DataFrame:
    """The job of this app process, item by item (``status``: given by tests, else the process's own)."""
    lang = ctx.lang
    status = status or JOB.status(ctx.data.engine)
    state = "job_running" if status.running else "job_on_idle" if status.enabled else "job_off"
    items = [
        (t("job_state", lang), t(state, lang)),
        (t("job_last_refresh", lang), format_datetime(city_time(ctx, status.finished_at))),
        (t("job_outcome", lang), outcome_text(status, lang)),
        (t("job_waiting", lang), format_number(status.waiting)),
        (t("job_kept_scopes", lang), ", ".join(status.kept_scopes) or "—"),
    ]
    return item_rows(lang, items)


def city_time(ctx: Context, moment: dt.datetime | None) -> dt.datetime | None:
    """A time the job took from the server's clock (naive, server-local), in the city's time zone, as
    every other time on the page (the data's as-of time): a server keeping UTC would otherwise show
    a set computed hours "before" the data it was computed for."""
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(ctx.city.timezone)).replace(tzinfo=None)


def outcome_text(status: JobStatus, lang: str) -> str:
    """What the last refresh did, in the page's language."""
    if status.error:
        return t("job_failed", lang, error=status.error)
    report = status.report
    if report is None:
        return t("job_no_refresh_yet", lang)
    return t(
        "job_refreshed",
        lang,
        computed=report.count("computed"),
        skipped=report.count("skipped"),
        failed=report.count("failed"),
        pruned=report.pruned,
        seconds=f"{report.seconds:.2f}",
    )


def set_rows(ctx: Context, runs: list[StoredRun] | None = None) -> pl.DataFrame:
    """One row per stored alert set: its scope, as-of time, whether it is of the current data, when it
    was computed, in how long, and how many alerts it holds."""
    lang = ctx.lang
    runs = ctx.data.alert_runs() if runs is None else runs
    current = ctx.data.version
    columns = {
        t("job_scope", lang): [t("job_scope_all", lang) if r.scope_key == "all" else r.scope_key for r in runs],
        t("job_as_of", lang): [format_datetime(r.as_of) for r in runs],
        t("job_current", lang): [t("yes" if r.data_version == current else "job_stale", lang) for r in runs],
        t("job_computed_at", lang): [format_datetime(city_time(ctx, r.computed_at)) for r in runs],
        t("job_seconds", lang): [f"{r.seconds:,.1f}" for r in runs],
        t("job_alerts", lang): [format_number(r.alert_count) for r in runs],
    }
    return pl.DataFrame(columns, schema={name: pl.String() for name in columns})
