"""Shared fixtures: the tiny literal city on the embedded engine, and on the servers when configured.

PostgreSQL and MySQL/MariaDB tests read their server URLs from COCKPIT_TEST_POSTGRES_URL and
COCKPIT_TEST_MYSQL_URL (``.ci/run`` sets both); each run creates and drops its own database there.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from data_access.runtime.engine import dispose_engine, get_engine
from tests import fixture_city

SERVER_ENVS = {"postgresql": "COCKPIT_TEST_POSTGRES_URL", "mysql": "COCKPIT_TEST_MYSQL_URL"}


@pytest.fixture(scope="session")
def tiny_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """The literal fixture city in an embedded DuckDB file."""
    url = f"duckdb:///{tmp_path_factory.mktemp('tiny') / 'tiny.duckdb'}"
    engine = get_engine(url)
    fixture_city.load(engine)
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
