"""The admin page's view of the early-warning job, on literal job states and stored runs."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from dashboard.admin import alert_job
from data_access.alerts.job import JobStatus
from data_access.alerts.store import StoredRun


def _ctx(lang: str = "zh", version: str = "v2") -> Any:
    return SimpleNamespace(lang=lang, data=SimpleNamespace(version=version, engine=None))


def test_stored_sets_say_which_are_of_the_current_data() -> None:
    runs = [
        StoredRun("all", dt.datetime(2026, 10, 31, 23, 59), "v2", dt.datetime(2026, 11, 1, 0, 3), 21.42, 886),
        StoredRun("department=ZJJ", dt.datetime(2026, 10, 30, 23, 59), "v1", dt.datetime(2026, 10, 31, 0, 2), 3.7, 12),
    ]
    rows = alert_job.set_rows(_ctx(), runs).rows()
    assert rows == [
        ("全市", "2026-10-31 23:59", "是", "2026-11-01 00:03", "21.4", "886"),
        ("department=ZJJ", "2026-10-30 23:59", "否（等待重新计算）", "2026-10-31 00:02", "3.7", "12"),
    ]
    english = alert_job.set_rows(_ctx("en"), runs)
    assert english.columns[:3] == ["Scope", "As of", "Of the current data"]
    assert english.row(0)[0] == "whole city" and english.row(1)[2] == "no (to be recomputed)"


def test_the_job_rows_name_its_state_outcome_and_waiting_requests() -> None:
    off = JobStatus(False, False, 0, None, "", 0, ())
    assert dict(alert_job.job_rows(_ctx(), off).rows())["状态"].startswith("已关闭（COCKPIT_ALERTS_JOB=off）")
    finished = dt.datetime(2026, 11, 1, 0, 3)
    busy = JobStatus(True, True, 4, finished, "refreshed 1 set(s), skipped 2 up to date", 3, ("region=330102",))
    rows = dict(alert_job.job_rows(_ctx("en"), busy).rows())
    assert rows == {
        "State": "background thread running",
        "Last refresh by this process": "2026-11-01 00:03",
        "Its outcome": "refreshed 1 set(s), skipped 2 up to date",
        "Requests waiting": "3",
        "Scopes added on request": "region=330102",
    }
