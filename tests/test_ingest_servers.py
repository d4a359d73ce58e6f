"""The same import on PostgreSQL and MariaDB/MySQL as on the embedded engine: rows, rejects, upsert counts.

Runs when COCKPIT_TEST_POSTGRES_URL / COCKPIT_TEST_MYSQL_URL are set (``.ci/run`` sets both; each test
creates and drops its own database there); otherwise skips and says why.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from data_access import ingest, schema
from data_access.engine import dispose_engine, get_engine
from data_access.mapping import load_mapping
from data_access.settings import DEFAULT_CITY_FILE, load_city
from tests.conftest import _server_database
from tests.test_ingest import FIXTURES, GOOD, HZ_MAPPING, corrupt, quarantine_rows, snapshot


@pytest.fixture(params=["postgresql", "mysql"])
def server(request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    yield from _server_database(request.param)


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"duckdb:///{tmp_path / 'embedded.duckdb'}"
    yield get_engine(url)
    dispose_engine(url)


def _source(tmp_path: Path) -> Path:
    """The 12345 fixture plus a bad channel, a duplicate id and one more good row."""
    rows = [corrupt(工单编号="GD200", 渠道="传真"), GOOD.replace("GD100", "GD003"), GOOD]
    path = tmp_path / "hz.csv"
    text = (FIXTURES / "hz_12345.csv").read_text(encoding="utf-8").rstrip("\n")
    path.write_text(text + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _facts(engine: sa.Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.select(schema.complaints).order_by("ticket_id"))]


def test_import_on_a_server_matches_the_embedded_engine(server: sa.Engine, embedded: sa.Engine, tmp_path: Path) -> None:
    mapping, city = load_mapping(HZ_MAPPING), load_city(DEFAULT_CITY_FILE)
    source = _source(tmp_path)
    results = {}
    for name, engine in (("embedded", embedded), ("server", server)):
        quarantine = tmp_path / f"{name}.rejected.csv"
        summary = ingest.ingest_files(
            engine, "complaints", mapping, city, [source], quarantine=quarantine, batch_rows=3
        )
        results[name] = summary, quarantine_rows(quarantine)
    (local, local_rejects), (remote, remote_rejects) = results["embedded"], results["server"]
    assert (remote.new, remote.updated, remote.unchanged) == (local.new, local.updated, local.unchanged) == (7, 0, 0)
    assert remote_rejects == local_rejects
    assert [(r["row"], r["reason"], r["value"]) for r in remote_rejects] == [
        ("7", "bad_value", "传真"),
        ("8", "duplicate_id", "GD003 (first at row 3)"),
    ]
    assert _facts(server) == _facts(embedded)
    assert {t: len(rows) for t, rows in snapshot(server).items()} == {
        t: len(rows) for t, rows in snapshot(embedded).items()
    }

    # Again: nothing changes; then a newer version of one record replaces the older.
    before = snapshot(server)
    again = ingest.ingest_files(server, "complaints", mapping, city, [source], quarantine=tmp_path / "q.csv")
    assert (again.new, again.updated, again.unchanged) == (0, 0, 7)
    assert snapshot(server) == before
    newer = tmp_path / "newer.csv"
    newer.write_text(
        source.read_text(encoding="utf-8").replace("GD001,2024-05-01 08:00:00,电话", "GD001,2024-05-01 08:00:00,网站"),
        "utf-8",
    )
    summary = ingest.ingest_files(server, "complaints", mapping, city, [newer], quarantine=tmp_path / "q.csv")
    assert (summary.new, summary.updated, summary.unchanged) == (0, 1, 6)
    with server.connect() as connection:
        channel = connection.execute(
            sa.select(schema.complaints.c.channel).where(schema.complaints.c.ticket_id == "GD001")
        ).scalar_one()
    assert channel == "网站"


def test_a_failing_server_load_writes_nothing(
    server: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapping, city = load_mapping(HZ_MAPPING), load_city(DEFAULT_CITY_FILE)
    assert ingest.ingest_files(server, "complaints", mapping, city, [FIXTURES / "hz_12345.csv"]).committed
    before = snapshot(server)
    calls = {"n": 0}
    original = ingest.upsert_rows

    def failing(connection: sa.Connection, table: sa.Table, rows: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 2:  # facts written, regions written, categories fail
            raise RuntimeError("connection lost (injected)")
        return original(connection, table, rows)

    monkeypatch.setattr(ingest, "upsert_rows", failing)
    with pytest.raises(RuntimeError, match="injected"):
        ingest.ingest_files(server, "complaints", mapping, city, [_source(tmp_path)], quarantine=tmp_path / "q.csv")
    assert snapshot(server) == before
