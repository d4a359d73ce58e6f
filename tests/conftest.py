"""Shared fixtures: the tiny literal city on the embedded engine, and on the servers when configured.

PostgreSQL and MySQL/MariaDB tests read their server URLs from COCKPIT_TEST_POSTGRES_URL and
COCKPIT_TEST_MYSQL_URL (``.ci/run`` sets both); each run creates and drops its own database there.

The generated demo city (``demo_city``) is made once per run, even under pytest-xdist, whose workers
are processes of their own: see ``generated_demo``. Tests never open that file; each module copies it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from _pytest.nodeid import NodeId  # private: see pytest_collection_modifyitems

from data_access.alerts.job import JOB_ENV
from data_access.alerts.refresh import refresh_alerts
from data_access.demo.generate import DemoSummary, generate_demo
from data_access.runtime.engine import dispose_engine, get_engine
from tests import fixture_city

SERVER_ENVS = {"postgresql": "COCKPIT_TEST_POSTGRES_URL", "mysql": "COCKPIT_TEST_MYSQL_URL"}
# No background early-warning thread in the test process: it would write into the tests' databases at
# moments no test chose. The fixtures below store the alerts themselves (as the job would); the job's own
# tests (tests/test_alerts_store.py) drive it explicitly.
os.environ.setdefault(JOB_ENV, "off")


@pytest.fixture(scope="session")
def tiny_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """The literal fixture city in an embedded DuckDB file."""
    url = f"duckdb:///{tmp_path_factory.mktemp('tiny') / 'tiny.duckdb'}"
    engine = get_engine(url)
    fixture_city.load(engine)
    refresh_alerts(engine)  # the early warning's stored alerts, as the app's job would have computed them
    yield engine
    dispose_engine(url)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    """An empty embedded database of this test's own (imports, refreshes), its rollup state forgotten after."""
    from data_access.semantic.rollups.refresh import STATES

    url = f"duckdb:///{tmp_path / 'city.duckdb'}"
    yield get_engine(url)
    STATES.clear()
    dispose_engine(url)


def _server_database(kind: str) -> Iterator[sa.Engine]:
    env = SERVER_ENVS[kind]
    base_url = os.environ.get(env)
    if not base_url:
        pytest.skip(f"{env} is not set: no {kind} server configured for this run (.ci/run sets it)")
    name = f"cockpit_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            charset = " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" if kind == "mysql" else ""
            connection.execute(sa.text(f"CREATE DATABASE {name}{charset}"))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.skip(f"{env}={base_url} is set but the server cannot be reached: {exc.orig}")
    url = sa.make_url(base_url).set(database=name).render_as_string(hide_password=False)
    engine = get_engine(url)
    try:
        yield engine
    finally:
        dispose_engine(url)
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE {name}"))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[sa.Engine]:
    yield from _server_database("postgresql")


@pytest.fixture(scope="session")
def mysql_engine() -> Iterator[sa.Engine]:
    yield from _server_database("mysql")


@pytest.fixture
def tiny_app(tiny_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[sa.Engine]:
    """The app pointed at the tiny fixture city, with every process-wide cache empty before and after."""
    from dashboard.session import last_good
    from data_access.runtime.cache import RESULTS

    def clear() -> None:
        RESULTS.clear()
        last_good._LAST_GOOD.clear()

    monkeypatch.setenv("COCKPIT_DATABASE_URL", tiny_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("COCKPIT_CITY", raising=False)
    clear()
    yield tiny_engine
    clear()


@pytest.hookimpl(trylast=True)  # after every hook that adds an xdist_group mark (tests/e2e/conftest.py)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give pytest-xdist's ``--dist loadgroup`` the ``@group`` node-id suffix it reads (pytest 9.2 workaround).

    xdist 3.8 writes that suffix into ``item._nodeid``, which pytest 9.2's structured node ids no
    longer read, so every ``xdist_group`` is silently spread over the workers (two browsers and app
    servers, two year-long demo cities): pytest-dev/pytest-xdist#1386, fix pending in #1388. This
    sets the suffix on the structured id the same way. Remove it once a fixed xdist is pinned; the
    check on ``@`` keeps it harmless after that.
    """
    if not getattr(config.option, "loadgroup", False):  # set on xdist workers under --dist loadgroup only
        return
    for item in items:
        marks = item.iter_markers("xdist_group")
        groups = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default")) for mark in marks})
        if groups and "@" not in item.nodeid.rsplit("]", 1)[-1]:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")


# ---- the generated demo city, made once per run ---------------------------------------------------

# ~10k fact rows in ~4 s; what tests/test_demo.py (its SCALE, SEED, END), test_app.py and
# test_bench_interactions.py read. Changing these fails test_demo's determinism test, not silently.
DEMO_SCALE = 0.01
DEMO_SEED = 7
DEMO_END = dt.date(2025, 6, 30)


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every pytest-xdist worker of this run shares (each worker's basetemp is a child of it).

    Without xdist it is the run's own basetemp. Under xdist, ``getbasetemp()`` is ``…/pytest-N/popen-gwK``;
    its parent is the one folder of this run (other runs on the machine get another ``pytest-N``).
    """
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (``fcntl.flock``; the ``filelock`` package is not a dependency)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def generated_demo(folder: Path, scale: float, seed: int, end: dt.date) -> Path:
    """The demo city of these parameters in ``folder``, generated by whichever worker asks first.

    The others wait on the lock. The generation writes to a temporary name and is renamed when the
    engine is closed, and the summary is written last, so a summary on disk means a whole file.
    """
    stem = f"demo-{scale}-{seed}-{end.isoformat()}"
    path, summary = folder / f"{stem}.duckdb", folder / f"{stem}.json"
    with file_lock(folder / f"{stem}.lock"):
        if not summary.exists():
            partial = folder / f"{stem}.partial.duckdb"
            url = f"duckdb:///{partial}"
            try:
                made = generate_demo(get_engine(url), scale=scale, seed=seed, end=end)
            finally:
                dispose_engine(url)  # DuckDB checkpoints on close: the file alone holds everything
            assert not Path(f"{partial}.wal").exists(), "the demo file was not checkpointed on close"
            os.replace(partial, path)
            summary.write_text(json.dumps(dataclasses.asdict(made)), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def demo_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo city (DEMO_SCALE, DEMO_SEED, DEMO_END), generated once per run and shared by every worker.

    Never open this file: copy it (``demo_city_copy``). DuckDB lets one process at a time write a
    file and a process open it in one configuration only, and the app writes into the database it
    reads (audit rows, rollup state), so each module reads a copy of its own (12 MB, milliseconds).
    """
    folder = run_folder(tmp_path_factory) / "demo-cities"
    folder.mkdir(exist_ok=True)
    return generated_demo(folder, DEMO_SCALE, DEMO_SEED, DEMO_END)


@pytest.fixture(scope="session")
def demo_city_summary(demo_city: Path) -> DemoSummary:
    """What the generation of ``demo_city`` reported (rows per table), whichever worker generated it."""
    fields = json.loads(demo_city.with_suffix(".json").read_text(encoding="utf-8"))
    return DemoSummary(**fields)


@pytest.fixture(scope="module")
def demo_city_copy(demo_city: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of ``demo_city`` of this test module's own, in a folder of its own (free for a data dir)."""
    target = tmp_path_factory.mktemp("demo-copy") / "demo.duckdb"
    shutil.copyfile(demo_city, target)
    return target


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


# ---- access control (issue 7): the tiny city with one account per role -------------------------------

CHEAP_HASHER_PARAMS = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
PASSWORD = "correct horse battery"


@pytest.fixture
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with tiny cost parameters: the same code path, milliseconds instead of a third of a second."""
    import argon2

    from data_access.security import accounts

    monkeypatch.setattr(accounts, "HASHER", argon2.PasswordHasher(**CHEAP_HASHER_PARAMS))


@pytest.fixture
def secured_city(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_hashes: None
) -> Iterator[tuple[sa.Engine, dict[str, str]]]:
    """The tiny literal city in a file of its own with accounts (so sign-in is on), and the app pointed at it.

    Accounts (password ``PASSWORD``): ``head_d1`` heads district D1 (上城区), ``head_a`` department A
    (城市管理局), ``leader``, ``analyst`` (whole city), ``admin``; ``wall`` is a screen account whose
    device token is returned under ``"wall_token"``.
    """
    from dashboard.auth import sign_in
    from dashboard.session import last_good
    from data_access.runtime.cache import RESULTS
    from data_access.security import accounts, tokens
    from data_access.semantic.query import Scope

    url = f"duckdb:///{tmp_path / 'secured.duckdb'}"
    engine = get_engine(url)
    fixture_city.load(engine)
    plans = [
        ("head_d1", "department_head", Scope(regions=frozenset({fixture_city.D1}))),
        ("head_a", "department_head", Scope(departments=frozenset({fixture_city.A}))),
        ("leader", "leader", Scope()),
        ("analyst", "analyst", Scope()),
        ("admin", "admin", Scope()),
    ]
    for name, role, scope in plans:
        accounts.add_user(engine, name, role, password=PASSWORD, scope=scope, actor="test")
    accounts.add_user(engine, "wall", "screen", actor="test")
    _, token = tokens.issue_token(engine, "wall", actor="test", label="test wall")
    refresh_alerts(engine)  # the alerts of the city and of every account's scope, as the app's job would

    def clear() -> None:
        RESULTS.clear()
        last_good._LAST_GOOD.clear()
        sign_in.forget_accounts_check()

    monkeypatch.setenv("COCKPIT_DATABASE_URL", url)
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("COCKPIT_CITY", raising=False)
    monkeypatch.delenv("COCKPIT_ACCESS", raising=False)
    clear()
    yield engine, {"wall_token": token}
    clear()
    dispose_engine(url)
