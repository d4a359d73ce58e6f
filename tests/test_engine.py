"""Finding the database, and saying clearly what is wrong when it cannot be used."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from data_access.contract import check, schema
from data_access.runtime.engine import (
    DatabaseProblem,
    check_database,
    dispose_engine,
    get_engine,
    resolve_target,
    schema_problems,
)
from data_access.semantic.metrics import data_as_of
from tests import fixture_city


def test_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = tmp_path / "secrets.toml"
    monkeypatch.delenv("COCKPIT_DATABASE_URL", raising=False)
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(tmp_path / "data"))
    embedded = resolve_target(secrets_file=secrets)
    assert (embedded.origin, embedded.url) == ("embedded", f"duckdb:///{tmp_path / 'data' / 'cockpit.duckdb'}")

    secrets.write_text('[connections.cockpit]\nurl = "postgresql+psycopg://u:secret@db/x"\n', encoding="utf-8")
    from_secrets = resolve_target(secrets_file=secrets)
    assert (from_secrets.origin, from_secrets.url) == ("secrets", "postgresql+psycopg://u:secret@db/x")
    assert "secret" not in from_secrets.display_url

    monkeypatch.setenv("COCKPIT_DATABASE_URL", "mysql+pymysql://root@h/y")
    assert resolve_target(secrets_file=secrets).origin == "environment"
    assert resolve_target("duckdb:///z.duckdb", secrets_file=secrets).origin == "argument"


def test_broken_secrets_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COCKPIT_DATABASE_URL", raising=False)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("[connections.cockpit\nurl = 1", encoding="utf-8")
    with pytest.raises(DatabaseProblem, match=r"secrets\.toml is not valid TOML"):
        resolve_target(secrets_file=secrets)


def test_unreachable_server_message_names_the_url_and_the_fix() -> None:
    url = "postgresql+psycopg://nobody:pw@127.0.0.1:1/none"
    try:
        with pytest.raises(DatabaseProblem) as caught:
            check_database(get_engine(url))
    finally:
        dispose_engine(url)
    message = str(caught.value)
    assert "Cannot connect to postgresql+psycopg://nobody:***@127.0.0.1:1/none" in message
    assert "COCKPIT_DATABASE_URL" in message
    assert "pw@" not in message


def test_invalid_url_is_named() -> None:
    with pytest.raises(DatabaseProblem, match="not a valid SQLAlchemy URL"):
        get_engine("not a url at all")


def test_missing_table_and_missing_column_are_named(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'partial.duckdb'}"
    engine = get_engine(url)
    try:
        schema.create_schema(engine)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE grid_events"))
            connection.execute(sa.text("ALTER TABLE complaints DROP COLUMN follow_up"))
        problems = schema_problems(engine)
        assert len(problems) == 2
        assert problems[0].startswith("table 'complaints' lacks required column(s) follow_up")
        assert problems[1].startswith("table 'grid_events' is missing")
        with pytest.raises(DatabaseProblem, match="grid_events"):
            check_database(engine)
    finally:
        dispose_engine(url)


def test_check_cli_reports_and_exits_non_zero(
    tmp_path: Path, tiny_engine: sa.Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check.main(["--url", tiny_engine.url.render_as_string(hide_password=False)]) == 0
    out = capsys.readouterr().out
    assert "service_cases: 8 rows" in out
    assert "data as of: 2026-02-28 08:00:00" in out  # the latest record: grid event E5

    empty = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    assert check.main(["--url", empty]) == 2
    assert "table 'service_cases' is missing" in capsys.readouterr().err
    dispose_engine(empty)
    assert check.main(["--url", "postgresql+psycopg://x@127.0.0.1:1/none"]) == 2
    assert "Cannot connect" in capsys.readouterr().err


def test_data_as_of_is_latest_record(tiny_engine: sa.Engine) -> None:
    assert str(data_as_of(tiny_engine)) == "2026-02-28 08:00:00"
    assert max(row["collected_at"] for row in fixture_city.GRID_EVENTS).isoformat(" ") == "2026-02-28 08:00:00"


@pytest.mark.slow
@pytest.mark.xdist_group("servers")
def test_postgres_sessions_get_the_cockpit_settings(postgres_engine: sa.Engine) -> None:
    """JIT off and SSD page costs on every pooled connection (docs/benchmarks.md says why)."""
    from data_access.runtime.engine import POSTGRES_SESSION

    assert POSTGRES_SESSION == {"jit": "off", "random_page_cost": "1.1"}
    with postgres_engine.connect() as first, postgres_engine.connect() as second:
        for connection in (first, second):
            assert connection.exec_driver_sql("SHOW jit").scalar_one() == "off"
            assert connection.exec_driver_sql("SHOW random_page_cost").scalar_one() == "1.1"
