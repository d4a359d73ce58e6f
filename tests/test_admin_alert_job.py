"""The admin page's view of the early-warning job, on literal job states and stored runs.

The server's clock runs on UTC here (``utc_server``); the city (Hangzhou) is UTC+8, so every time the
job took from the server's clock is shown eight hours later, as the data's own times are.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from dashboard.admin import alert_job
from data_access.alerts.job import JobStatus
from data_access.alerts.refresh import RefreshReport, SetOutcome
from data_access.alerts.store import StoredRun


@pytest.fixture(autouse=True)
def utc_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _ctx(lang: str = "zh", version: str = "v2") -> Any:
    city = SimpleNamespace(timezone="Asia/Shanghai")
    return SimpleNamespace(lang=lang, city=city, data=SimpleNamespace(version=version, engine=None))


def test_stored_sets_say_which_are_of_the_current_data() -> None:
    runs = [
        StoredRun("all", dt.datetime(2026, 10, 31, 23, 59), "v2", dt.datetime(2026, 11, 1, 0, 3), 21.42, 886),
        StoredRun("department=ZJJ", dt.datetime(2026, 10, 30, 23, 59), "v1", dt.datetime(2026, 10, 31, 0, 2), 3.7, 12),
    ]
    rows = alert_job.set_rows(_ctx(), runs).rows()
    assert rows == [
        ("全市", "2026-10-31 23:59", "是", "2026-11-01 08:03", "21.4", "886"),
        ("department=ZJJ", "2026-10-30 23:59", "否（等待重新计算）", "2026-10-31 08:02", "3.7", "12"),
    ]
    english = alert_job.set_rows(_ctx("en"), runs)
    assert english.columns[:3] == ["Scope", "As of", "Of the current data"]
    assert english.row(0)[0] == "whole city" and english.row(1)[2] == "no (to be recomputed)"


def test_the_job_rows_name_its_state_outcome_and_waiting_requests() -> None:
    off = JobStatus(False, False, 0, None, None, "", 0, ())
    rows = dict(alert_job.job_rows(_ctx(), off).rows())
    assert rows["状态"].startswith("已关闭（COCKPIT_ALERTS_JOB=off）") and rows["上次计算结果"] == "本进程尚未计算"
    finished = dt.datetime(2026, 11, 1, 0, 3)
    at = dt.datetime(2026, 10, 31, 23, 59)
    report = RefreshReport(
        "v2",
        at,
        [SetOutcome("all", at, "computed", 886, 21.4), *(SetOutcome(f"region={n}", at, "skipped") for n in (1, 2))],
        pruned=3,
        seconds=21.5,
    )
    busy = JobStatus(True, True, 4, finished, report, "", 3, ("region=330102",))
    rows = dict(alert_job.job_rows(_ctx("en"), busy).rows())
    assert rows == {
        "State": "background thread running",
        "Last refresh by this process": "2026-11-01 08:03",
        "Its outcome": "refreshed 1 set(s), skipped 2 up to date, 0 failed, 3 old set(s) removed, in 21.50 s",
        "Requests waiting": "3",
        "Scopes added on request": "region=330102",
    }
    chinese = dict(alert_job.job_rows(_ctx(), busy).rows())
    assert chinese["上次计算结果"] == "计算 1 组，2 组已是最新，0 组失败，清理旧预警 3 组，用时 21.50 秒"
    failed = JobStatus(True, True, 4, finished, None, "RuntimeError: database away", 1, ())
    assert dict(alert_job.job_rows(_ctx(), failed).rows())["上次计算结果"] == "计算失败：RuntimeError: database away"
