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

from data_access.config.city import DEFAULT_CITY_FILE, load_city
from data_access.contract import schema
from data_access.ingest import pipeline
from data_access.ingest.mapping import load_mapping
from data_access.runtime.engine import dispose_engine, get_engine
from tests.conftest import _server_database
from tests.test_ingest import FIXTURES, GOOD, HZ_MAPPING, corrupt, quarantine_rows, snapshot


@pytest.fixture(
    params=[
        pytest.param(kind, marks=[pytest.mark.slow, pytest.mark.xdist_group("servers")])
        for kind in ("postgresql", "mysql")
    ]
)
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
        summary = pipeline.ingest_files(
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
    again = pipeline.ingest_files(server, "complaints", mapping, city, [source], quarantine=tmp_path / "q.csv")
    assert (again.new, again.updated, again.unchanged) == (0, 0, 7)
    assert snapshot(server) == before
    newer = tmp_path / "newer.csv"
    newer.write_text(
        source.read_text(encoding="utf-8").replace("GD001,2024-05-01 08:00:00,电话", "GD001,2024-05-01 08:00:00,网站"),
        "utf-8",
    )
    summary = pipeline.ingest_files(server, "complaints", mapping, city, [newer], quarantine=tmp_path / "q.csv")
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
    assert pipeline.ingest_files(server, "complaints", mapping, city, [FIXTURES / "hz_12345.csv"]).committed
    before = snapshot(server)
    calls = {"n": 0}
    original = pipeline.upsert_rows

    def failing(connection: sa.Connection, table: sa.Table, rows: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 2:  # facts written, regions written, categories fail
            raise RuntimeError("connection lost (injected)")
        return original(connection, table, rows)

    monkeypatch.setattr(pipeline, "upsert_rows", failing)
    with pytest.raises(RuntimeError, match="injected"):
        pipeline.ingest_files(server, "complaints", mapping, city, [_source(tmp_path)], quarantine=tmp_path / "q.csv")
    assert snapshot(server) == before


def _indexes(engine: sa.Engine) -> list[tuple[str, tuple[str, ...]]]:
    with engine.connect() as connection:
        found = sa.inspect(connection).get_indexes("complaints")
    return sorted((index["name"], tuple(index["column_names"])) for index in found)  # type: ignore[misc]


def test_a_first_load_rebuilds_the_indexes_it_set_aside(
    server: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL loads an empty table without its secondary indexes: after the load, or a failed one, all are back."""
    mapping, city = load_mapping(HZ_MAPPING), load_city(DEFAULT_CITY_FILE)
    schema.create_schema(server)
    indexes = _indexes(server)
    assert ("ix_complaints_street", ("street_code",)) in indexes

    def failing(*args: Any) -> None:
        raise RuntimeError("connection lost (injected)")

    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "_write_dimensions", failing)  # after every fact is in
        with pytest.raises(RuntimeError, match="injected"):
            pipeline.ingest_files(server, "complaints", mapping, city, [FIXTURES / "hz_12345.csv"], batch_rows=2)
    assert _indexes(server) == indexes and _facts(server) == []
    summary = pipeline.ingest_files(server, "complaints", mapping, city, [FIXTURES / "hz_12345.csv"], batch_rows=2)
    assert summary.new > 2 and _indexes(server) == indexes
    with server.connect() as connection:  # the rebuilt index finds the rows
        street = connection.execute(sa.select(schema.complaints.c.street_code).limit(1)).scalar_one()
        count = connection.execute(
            sa.select(sa.func.count()).select_from(schema.complaints).where(schema.complaints.c.street_code == street)
        ).scalar_one()
    assert count == sum(1 for row in _facts(server) if row[10] == street)


def test_bulk_insert_keeps_every_value_exactly(server: sa.Engine) -> None:
    """NULL and empty text apart, quotes, commas, line breaks, CJK, float digits and microseconds survive."""
    import datetime as dt

    import polars as pl
    from sqlalchemy.dialects import mysql

    from data_access.contract.bulk import bulk_insert

    table = sa.Table(
        "bulk_probe",
        sa.MetaData(),
        sa.Column("n", sa.Integer, primary_key=True),
        sa.Column("text", sa.String(64)),
        sa.Column("x", sa.Double),
        # microseconds kept on MySQL too (its plain DATETIME rounds them away, whatever the insert)
        sa.Column("at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")),
        sa.Column("ok", sa.Boolean),
    )
    rows = [
        (1, "plain", 0.1, dt.datetime(2024, 1, 2, 3, 4, 5, 123456), True),
        (2, "", 1e-7, dt.datetime(2024, 1, 2, 3, 4, 5), False),
        (3, None, None, None, None),
        (4, 'say "hi", then\nleave', 123456789.12345679, dt.datetime(1999, 12, 31, 23, 59, 59, 999999), True),
        (5, "街道,社区 \\N", -2.5e300, dt.datetime(2026, 2, 28), False),
        (6, "C:\\dir\\'x'\\", 3.0, None, None),
        (7, "100% %s %(x)s ''", None, dt.datetime(2024, 2, 29, 12), True),
    ]
    frame = pl.DataFrame(
        rows,
        schema={"n": pl.Int64, "text": pl.String, "x": pl.Float64, "at": pl.Datetime("us"), "ok": pl.Boolean},
        orient="row",
    )
    # MySQL reads backslashes in literals as escapes unless the session says NO_BACKSLASH_ESCAPES: both
    modes = [None] if server.dialect.name == "postgresql" else [None, "NO_BACKSLASH_ESCAPES"]
    for mode in modes:
        with server.begin() as connection:
            if mode is not None:
                connection.exec_driver_sql(f"SET SESSION sql_mode = CONCAT(@@sql_mode, ',{mode}')")
            table.create(connection)
            try:
                bulk_insert(connection, table.name, frame)
                got = [tuple(row) for row in connection.execute(sa.select(table).order_by(table.c.n))]
            finally:
                table.drop(connection)
                if mode is not None:
                    connection.exec_driver_sql(f"SET SESSION sql_mode = REPLACE(@@sql_mode, ',{mode}', '')")
        assert [(n, text, x, at, None if ok is None else bool(ok)) for n, text, x, at, ok in got] == rows, mode


def test_a_refresh_raises_its_memory_and_leaves_the_session_as_it_was(
    server: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: work_mem for the refresh's transaction only; MySQL: temporary-table size, restored after."""
    from data_access.semantic.rollups import refresh as rollups

    mysql_like = server.dialect.name in ("mysql", "mariadb")
    setting = "@@session.tmp_table_size" if mysql_like else "current_setting('work_mem')"
    raised = rollups.MYSQL_REFRESH_TEMP_BYTES if mysql_like else rollups.POSTGRES_REFRESH_WORK_MEM
    seen: list[Any] = []
    original = rollups._refresh

    def watching(connection: sa.Connection, chosen: list[sa.Table]) -> dict[str, int]:
        seen.append(connection.exec_driver_sql(f"SELECT {setting}").scalar_one())
        return original(connection, chosen)

    monkeypatch.setattr(rollups, "_refresh", watching)
    schema.create_schema(server)
    with server.connect() as connection:
        before = connection.exec_driver_sql(f"SELECT {setting}").scalar_one()
        connection.rollback()  # the read began a transaction: the refresh gets one of its own
        with connection.begin():
            rollups.refresh_rollups(connection, facts=("complaints",))
        after = connection.exec_driver_sql(f"SELECT {setting}").scalar_one()
    assert seen == [raised if mysql_like else "128MB"] and str(after) == str(before) != str(raised)
