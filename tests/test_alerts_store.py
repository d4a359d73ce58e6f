"""The early warning off the request path: the alert store, the refresh job and its thread, and the readers.

Stored sets are checked against ``compute_alerts`` run on the same data (the detectors are the reference);
pages are run with every detector replaced by one that fails, so a page that computed instead of
reading would show it. The new alert an import adds is worked out by hand from ``tests/fixture_city.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal
from streamlit.testing.v1 import AppTest

from data_access.alerts import cli, run, store
from data_access.alerts.job import JOB, JOB_ENV, AlertJob
from data_access.alerts.refresh import refresh_alerts
from data_access.config.city import load_city
from data_access.contract import schema
from data_access.runtime.cache import RESULTS
from data_access.runtime.engine import dispose_engine, get_engine, new_data_version
from data_access.runtime.session import DataSession, open_session
from data_access.semantic.query import Scope
from tests import fixture_city as city
from tests.app_driver import APP, html_text

CITY = Scope()
DEPARTMENT_A = Scope(departments=frozenset({city.A}))
DISTRICT_1 = Scope(regions=frozenset({city.D1}))
DETECTORS = (
    "complaint_surge_alerts",
    "intake_surge_alerts",
    "rate_jump_alerts",
    "score_drop_alerts",
    "stall_alerts",
    "repeat_alerts",
    "deadline_alerts",
)


@pytest.fixture
def city_db(tmp_path: Path) -> Iterator[sa.Engine]:
    """The tiny fixture city in a file of this test's own (the tests here write into it)."""
    url = f"duckdb:///{tmp_path / 'alerts.duckdb'}"
    engine = get_engine(url)
    city.load(engine)
    yield engine
    dispose_engine(url)


def fail_detectors(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every detector (and ``compute_alerts`` itself) replaced by one that records its call and fails."""
    calls: list[str] = []

    def failing(name: str) -> object:
        def detector(*_: object, **__: object) -> pl.DataFrame:
            calls.append(name)
            raise AssertionError(f"{name} ran in a viewer's request")

        return detector

    for name in (*DETECTORS, "compute_alerts"):
        monkeypatch.setattr(run, name, failing(name))
    return calls


@pytest.fixture
def no_detectors(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return fail_detectors(monkeypatch)


def canonical(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows in one order: ``compute_alerts`` sorts by severity, kind, time and place, and leaves ties as they come."""
    return frame.sort(frame.columns, nulls_last=True)


def computed(engine: sa.Engine, scope: Scope) -> pl.DataFrame:
    return run.compute_alerts(DataSession(engine, load_city(), scope=scope))


def stored(engine: sa.Engine, scope: Scope) -> store.AlertSet:
    return open_session(engine, load_city(), scope=scope).alerts()


def add_overdue_ticket(engine: sa.Engine) -> None:
    """An open 12345 ticket of department B in 西湖区, received 2026-02-10 with a 24 h limit: overdue at the
    as-of time (2026-02-28 08:00, unchanged). By hand: B has no other open ticket in 西湖区 (T3, T4 are
    closed), so exactly one alert is new — overdue, 西湖区 × 市场监督管理局, 12345, one item. Then a new data
    version, as an import writes."""
    ticket = dict(city.COMPLAINTS[4], ticket_id="T7", received_at=dt.datetime(2026, 2, 10, 9), department_code=city.B)
    meta = schema.cockpit_meta
    with engine.begin() as connection:
        connection.execute(schema.complaints.insert(), [ticket])
        connection.execute(meta.delete().where(meta.c.key == "data_version"))
        connection.execute(meta.insert(), [{"key": "data_version", "value": new_data_version()}])
    RESULTS.clear()  # as an import does in its own process (others see the version within seconds)


# ---- (a) the stored sets are compute_alerts' -------------------------------------------------------


def test_stored_sets_equal_compute_alerts_for_the_city_a_department_and_a_district(city_db: sa.Engine) -> None:
    report = refresh_alerts(city_db, scopes=[DEPARTMENT_A, DISTRICT_1])
    assert [(o.scope_key, o.status) for o in report.outcomes] == [
        ("all", "computed"),
        (f"department={city.A}", "computed"),
        (f"region={city.D1}", "computed"),
    ]
    for scope in (CITY, DEPARTMENT_A, DISTRICT_1):
        found = stored(city_db, scope)
        expected = computed(city_db, scope)
        assert found.ready and expected.height > 0, store.scope_key(scope)
        assert_frame_equal(canonical(found.frame), canonical(expected))
    assert computed(city_db, DEPARTMENT_A).height < computed(city_db, CITY).height  # the scopes differ


def test_the_scopes_of_the_accounts_are_refreshed(city_db: sa.Engine, fast_hashes: None) -> None:
    from data_access.security import accounts

    accounts.add_user(city_db, "head_d1", "department_head", password="x" * 12, scope=DISTRICT_1, actor="test")
    report = refresh_alerts(city_db)
    assert {o.scope_key for o in report.outcomes} == {"all", f"region={city.D1}"}
    assert_frame_equal(canonical(stored(city_db, DISTRICT_1).frame), canonical(computed(city_db, DISTRICT_1)))


def test_scope_keys_are_canonical_and_reversible() -> None:
    scope = Scope(departments=frozenset({"B", "A"}), regions=frozenset({"330106"}))
    assert store.scope_key(scope) == "department=A,B region=330106"
    assert store.scope_key(CITY) == "all"
    for each in (scope, CITY, DEPARTMENT_A, DISTRICT_1):
        assert store.scope_from_key(store.scope_key(each)) == each


def test_reading_drops_rows_outside_the_scope_whatever_the_store_holds(city_db: sa.Engine) -> None:
    # A set stored under the wrong key (the city's rows filed as department A's) never leaks B's rows.
    everything = computed(city_db, CITY)
    assert store.write_set(city_db, DEPARTMENT_A, dt.datetime(2026, 2, 28, 8), None, everything, 0.1)
    found = stored(city_db, DEPARTMENT_A)
    assert found.ready and 0 < found.frame.height < everything.height
    assert set(found.frame["department"].drop_nulls().to_list()) == {city.A}


# ---- (b) pages read the table -----------------------------------------------------------------------


@pytest.mark.slow
def test_pages_read_the_stored_alerts_and_run_no_detector(tiny_app: sa.Engine, no_detectors: list[str]) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()  # the wall, with its ticker
    assert not at.exception, [e.value for e in at.exception]
    # The early warning's own wording (not the metric layer's fallback list): T5, overdue, department A.
    assert "西湖区 城市管理局 12345诉求超期未办结 1 件" in html_text(at)
    at.switch_page("pages/complaints.py").run()
    assert not at.exception, [e.value for e in at.exception]
    (table,) = [frame.value for frame in at.dataframe if "说明" in frame.value.columns]
    assert sorted(table["说明"].to_list()) == [
        "上城区 城市管理局 12345诉求超期未办结 1 件",
        "西湖区 城市管理局 12345诉求超期未办结 1 件",
    ]
    assert no_detectors == []


# ---- (c) after an import: only what changed -----------------------------------------------------------


@pytest.mark.slow
def test_a_refresh_after_new_data_adds_the_new_alert_and_skips_current_scopes(city_db: sa.Engine) -> None:
    refresh_alerts(city_db, scopes=[DEPARTMENT_A, DISTRICT_1])
    before = stored(city_db, CITY).frame
    add_overdue_ticket(city_db)
    assert not stored(city_db, CITY).ready  # the stored set is of the old data: nobody reads it now

    first = refresh_alerts(city_db, scopes=[DEPARTMENT_A])
    assert [(o.scope_key, o.status) for o in first.outcomes] == [
        ("all", "computed"),
        (f"department={city.A}", "computed"),
    ]
    again = refresh_alerts(city_db, scopes=[DEPARTMENT_A, DISTRICT_1])
    assert [o.status for o in again.outcomes] == ["skipped", "skipped", "computed"]
    assert again.count("computed") == 1

    after = stored(city_db, CITY).frame
    key = ["kind", "region_code", "department", "domain"]
    added = after.join(before, on=key, how="anti", nulls_equal=True)
    assert added.select(*key, "observed").rows() == [("overdue", city.D2, city.B, "complaints", 1.0)]
    assert_frame_equal(canonical(after.join(added, on=key, how="anti", nulls_equal=True)), canonical(before))
    assert_frame_equal(canonical(after), canonical(computed(city_db, CITY)))
    runs = store.stored_runs(city_db)
    assert len(runs) == 3 and len({run_.data_version for run_ in runs}) == 1  # the old version's sets are gone


def test_after_new_data_the_previous_set_stands_in_until_the_refresh(city_db: sa.Engine) -> None:
    refresh_alerts(city_db)
    before = stored(city_db, CITY)
    assert before.ready and before.previous_as_of is None and before.frame.height > 0
    add_overdue_ticket(city_db)

    during = stored(city_db, CITY)  # the import has committed, the job has not run yet
    assert not during.ready
    assert during.previous_as_of == dt.datetime(2026, 2, 28, 8)  # the stored set's as-of time
    assert_frame_equal(canonical(during.frame), canonical(before.frame))  # not the new ticket's alert
    assert (CITY, dt.datetime(2026, 2, 28, 8)) in JOB.pending(city_db)
    nothing = stored(city_db, DEPARTMENT_A)  # never stored: nothing older to show
    assert not nothing.ready and nothing.frame.is_empty() and nothing.previous_as_of is None

    refresh_alerts(city_db)
    after = stored(city_db, CITY)
    assert after.ready and after.previous_as_of is None
    assert after.frame.height == before.frame.height + 1


def test_a_set_computed_for_data_that_changed_meanwhile_is_not_stored(city_db: sa.Engine) -> None:
    store.ensure_tables(city_db)
    frame = computed(city_db, CITY)
    assert not store.write_set(city_db, CITY, dt.datetime(2026, 2, 28, 8), "an older version", frame, 0.1)
    assert store.stored_runs(city_db) == []


# ---- (d) two refreshes at once ------------------------------------------------------------------------


def _consistent(engine: sa.Engine) -> None:
    """One run per set, its rows once each, as many as the run says."""
    a = schema.alerts.c
    with engine.connect() as connection:
        rows = connection.execute(sa.select(a.scope_id, a.as_of, a.position)).all()
    assert len(rows) == len(set(rows)), "an alert row is stored twice"
    runs = store.stored_runs(engine)
    assert len({(r.scope_key, r.as_of) for r in runs}) == len(runs)
    assert sum(r.alert_count for r in runs) == len(rows)


def test_two_threads_refreshing_at_once_leave_one_consistent_table(city_db: sa.Engine) -> None:
    store.ensure_tables(city_db)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def refresh() -> None:
        try:
            start.wait()
            refresh_alerts(city_db, scopes=[DEPARTMENT_A, DISTRICT_1])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    _consistent(city_db)
    assert len(store.stored_runs(city_db)) == 3
    for scope in (CITY, DEPARTMENT_A, DISTRICT_1):
        assert_frame_equal(canonical(stored(city_db, scope).frame), canonical(computed(city_db, scope)))


@pytest.mark.slow
def test_two_processes_refreshing_one_duckdb_file_wait_for_each_other(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'shared.duckdb'}"
    city.load(get_engine(url))
    dispose_engine(url)  # this process lets go of the file: only the two commands use it
    command = [sys.executable, "-m", "data_access.alerts", "--refresh", "--url", url, "--scope", f"department={city.A}"]
    env = {**os.environ, JOB_ENV: "off"}
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)]
    processes.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    outputs = [process.communicate(timeout=300) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    summaries = sorted(out.splitlines()[-1] for out, _ in outputs)
    assert summaries[0].startswith("refreshed 0 set(s), skipped 2 up to date")  # the second found them stored
    assert summaries[1].startswith("refreshed 2 set(s), skipped 0 up to date")
    engine = get_engine(url)
    try:
        _consistent(engine)
        assert_frame_equal(canonical(stored(engine, DEPARTMENT_A).frame), canonical(computed(engine, DEPARTMENT_A)))
    finally:
        dispose_engine(url)


# ---- (e) no stored set: "being computed", and the job is asked ------------------------------------------


def test_a_scope_without_a_stored_set_is_pending_and_asks_the_job(
    city_db: sa.Engine, no_detectors: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    found = stored(city_db, DEPARTMENT_A)
    assert not found.ready and found.frame.is_empty()
    assert no_detectors == []
    assert (DEPARTMENT_A, dt.datetime(2026, 2, 28, 8)) in JOB.pending(city_db)
    monkeypatch.undo()  # the real detectors again, for the job
    job = AlertJob()
    job.ask(city_db, DEPARTMENT_A, dt.datetime(2026, 2, 28, 8))
    assert job.run_due() == 1 and job.pending(city_db) == []
    found = stored(city_db, DEPARTMENT_A)
    assert found.ready
    assert_frame_equal(canonical(found.frame), canonical(computed(city_db, DEPARTMENT_A)))
    assert job.run_due() == 0  # nothing new: not due again before its schedule


def test_the_background_thread_computes_what_a_reader_asked_for(
    city_db: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(JOB_ENV, "on")
    job = AlertJob()
    job.watch(city_db)
    try:
        job.ask(city_db, DISTRICT_1, dt.datetime(2026, 2, 28, 8))
        wanted = {"all", f"region={city.D1}"}  # the first run (at start) may come before the request

        def keys() -> set[str]:
            return {r.scope_key for r in store.stored_runs(city_db)} if job.runs else set()

        deadline = time.monotonic() + 60
        while keys() != wanted and time.monotonic() < deadline:
            time.sleep(0.05)
        assert job.running and keys() == wanted
    finally:
        job.stop()
    assert not job.running


def test_the_job_reports_its_last_refresh_and_its_failures(city_db: sa.Engine) -> None:
    job = AlertJob()
    assert job.status(city_db).finished_at is None and job.status(city_db).report is None
    job.ask(city_db, DISTRICT_1, dt.datetime(2026, 2, 28, 8))
    assert job.status(city_db).waiting == 1
    assert job.run_due() == 1
    status = job.status(city_db)
    assert status.finished_at is not None and status.waiting == 0 and status.refreshes == 1
    assert status.kept_scopes == (f"region={city.D1}",)
    assert status.report is not None and status.report.count("computed") == 2  # the city and D1
    assert status.error == ""

    def broken(*_: object, **__: object) -> object:
        raise RuntimeError("database away")

    failing = AlertJob(refresh=broken)
    failing.ask(city_db, CITY, dt.datetime(2026, 2, 28, 8))
    failing.run_due()
    status = failing.status(city_db)
    assert status.error == "RuntimeError: database away" and status.report is None and status.refreshes == 0
    assert status.waiting == 1  # asked again at the next try


def complaints_page(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AppTest:
    """The 12345 topic page of the app on ``engine``'s database, run once under AppTest, without an exception."""
    monkeypatch.setenv("COCKPIT_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(tmp_path / "data"))
    RESULTS.clear()
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/complaints.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow
def test_a_topic_page_says_the_early_warning_is_being_computed(
    city_db: sa.Engine, no_detectors: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = complaints_page(city_db, monkeypatch, tmp_path)
    assert "预警计算中" in " ".join(caption.value for caption in at.caption)
    assert no_detectors == []
    assert (CITY, dt.datetime(2026, 2, 28, 8)) in JOB.pending(city_db)
    RESULTS.clear()


@pytest.mark.slow
def test_after_an_import_a_topic_page_shows_the_previous_alerts_as_being_updated(
    city_db: sa.Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    refresh_alerts(city_db)
    add_overdue_ticket(city_db)
    calls = fail_detectors(monkeypatch)
    at = complaints_page(city_db, monkeypatch, tmp_path)
    captions = " ".join(caption.value for caption in at.caption)
    assert "预警更新中" in captions and "2026-02-28 08:00" in captions and "预警计算中" not in captions
    shown = next(frame.value for frame in at.dataframe if "级别" in frame.value.columns)
    assert len(shown) > 0  # the previous set's complaint alerts, not an empty table
    assert calls == []
    RESULTS.clear()


# ---- entry points ----------------------------------------------------------------------------------------


def test_the_refresh_command_says_what_it_did(city_db: sa.Engine, capsys: pytest.CaptureFixture[str]) -> None:
    url = city_db.url.render_as_string(hide_password=False)
    assert cli.main(["--url", url, "--refresh", "--scope", f"region={city.D1}"]) == 0
    out = capsys.readouterr().out
    assert f"region={city.D1}: " in out and "alerts computed in" in out
    assert out.splitlines()[-1].startswith("refreshed 2 set(s), skipped 0 up to date")
    assert cli.main(["--url", url, "--refresh"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("refreshed 0 set(s), skipped 1 up to date")
    assert cli.main(["--url", url, "--refresh", "--since", "2026-01-01", "--until", "2026-01-31"]) == 2


def test_the_plain_listing_reads_the_stored_set(
    city_db: sa.Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = city_db.url.render_as_string(hide_password=False)
    assert cli.main(["--url", url, "--format", "csv"]) == 0  # nothing stored yet: the command computes
    computed_csv = capsys.readouterr().out
    refresh_alerts(city_db)
    calls = fail_detectors(monkeypatch)
    assert cli.main(["--url", url, "--format", "csv"]) == 0
    listed = capsys.readouterr().out
    assert calls == []
    assert sorted(listed.splitlines()) == sorted(computed_csv.splitlines()) and len(listed.splitlines()) > 1
    with pytest.raises(AssertionError):  # an explicit --as-of is a look back: computed live, never stored
        cli.main(["--url", url, "--as-of", "2026-02-28T08:00"])


@pytest.mark.slow
def test_the_demo_build_stores_the_city_wide_alerts(demo_city_copy: Path) -> None:
    url = f"duckdb:///{demo_city_copy}"
    engine = get_engine(url)
    try:
        runs = store.stored_runs(engine)
        assert [r.scope_key for r in runs] == ["all"]
        session = open_session(engine, load_city())
        assert runs[0].data_version == session.version and runs[0].as_of == session.as_of()
        assert session.alerts().ready
    finally:
        dispose_engine(url)


def test_an_import_refreshes_the_alerts_after_its_commit(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from data_access.alerts import refresh
    from data_access.config.city import DEFAULT_CITY_FILE
    from data_access.ingest import pipeline
    from data_access.ingest.mapping import load_mapping
    from tests.test_ingest import FIXTURES, HZ_MAPPING

    mapping, hangzhou = load_mapping(HZ_MAPPING), load_city(DEFAULT_CITY_FILE)
    summary = pipeline.ingest_files(engine, "complaints", mapping, hangzhou, [FIXTURES / "hz_12345.csv"])
    assert summary.committed and summary.alerts is not None
    assert summary.alerts.startswith("refreshed 1 set(s)") and f"  early warning: {summary.alerts}" in summary.lines()
    (stored_run,) = store.stored_runs(engine)
    assert (stored_run.scope_key, stored_run.data_version) == ("all", summary.data_version)
    found = open_session(engine, hangzhou).alerts()
    assert found.ready
    assert_frame_equal(canonical(found.frame), canonical(run.compute_alerts(DataSession(engine, hangzhou))))

    def broken(*_: object, **__: object) -> refresh.RefreshReport:
        raise RuntimeError("the early warning is broken")

    monkeypatch.setattr(refresh, "refresh_alerts", broken)
    text = (FIXTURES / "hz_12345.csv").read_text(encoding="utf-8").replace("办理中", "已关闭")
    newer = Path(str(engine.url.database)).with_name("newer.csv")
    newer.write_text(text, encoding="utf-8")
    again = pipeline.ingest_files(engine, "complaints", mapping, hangzhou, [newer])
    assert again.committed and again.updated > 0  # a failed refresh does not fail the import
    assert again.alerts is not None and again.alerts.startswith("WARNING")


@pytest.mark.slow
@pytest.mark.xdist_group("servers")
@pytest.mark.parametrize("server", ["postgres_engine", "mysql_engine"])
def test_the_store_on_the_servers(server: str, request: pytest.FixtureRequest, city_db: sa.Engine) -> None:
    """PostgreSQL and MariaDB/MySQL: the same sets, and two refreshes at once leave one consistent table
    (the second writer of a set waits on its run row, then finds it stored); and the same alerts as the
    embedded DuckDB on the same city (each driver returns days and sums in types of its own)."""
    engine: sa.Engine = request.getfixturevalue(server)
    city.load(engine)
    store.ensure_tables(engine)
    with engine.begin() as connection:  # the server database is shared with other tests: start from no set
        connection.execute(schema.alerts.delete())
        connection.execute(schema.alert_runs.delete())
    RESULTS.clear()
    threads = [threading.Thread(target=refresh_alerts, args=(engine,), kwargs={"scopes": [DEPARTMENT_A, DISTRICT_1]})]
    threads.append(threading.Thread(target=refresh_alerts, args=(engine,), kwargs={"scopes": [DEPARTMENT_A]}))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    _consistent(engine)
    assert {r.scope_key for r in store.stored_runs(engine)} == {"all", f"department={city.A}", f"region={city.D1}"}
    for scope in (CITY, DEPARTMENT_A, DISTRICT_1):
        assert_frame_equal(canonical(stored(engine, scope).frame), canonical(computed(engine, scope)))
        assert_frame_equal(canonical(computed(engine, scope)), canonical(computed(city_db, scope)))
        previous = store.read_previous(engine, scope)  # the newest stored set, as a page reads it after an import
        assert previous is not None and previous.previous_as_of == dt.datetime(2026, 2, 28, 8)
        assert_frame_equal(canonical(previous.frame), canonical(stored(engine, scope).frame))


@pytest.mark.slow
def test_the_briefing_reads_the_stored_alerts_and_asks_for_a_past_period(
    tiny_engine: sa.Engine, no_detectors: list[str]
) -> None:
    from dashboard.core.i18n import t
    from dashboard.report import content

    session = open_session(tiny_engine, load_city())
    as_of = session.as_of()
    assert as_of is not None
    running = content.build_briefing(session, "2026-02", as_of=as_of)  # the running month: at the data's as-of
    assert not running.alerts_pending and running.alert_total == stored(tiny_engine, CITY).frame.height > 0
    past = content.build_briefing(session, "2026-01", as_of=as_of)  # a month ago: its own as-of time
    assert past.alerts_pending and t("report_alerts_pending", "zh") in past.summary
    assert no_detectors == []
    assert (CITY, dt.datetime(2026, 1, 31, 23, 59)) in JOB.pending(tiny_engine)
