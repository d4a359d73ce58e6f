"""Ids stay unique on DuckDB without a primary-key index; PostgreSQL and MySQL keep their keys.

The DuckDB fact tables are created without the primary key's ART index (``schema._keyed_on_this_engine``:
it was about half an import's database time). The import keeps the ids unique itself; these tests
check that it does on every path (first load, re-import, newer versions, several files, databases
created with the key), and that a load which would break uniqueness is refused and rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from duckdb_engine import Dialect
from sqlalchemy.dialects import mysql, postgresql

from data_access.config.city import DEFAULT_CITY_FILE, load_city
from data_access.contract import schema, writer
from data_access.ingest import pipeline
from data_access.ingest.mapping import load_mapping
from tests.conftest import _server_database
from tests.test_ingest import FIXTURES, GOOD, HZ_MAPPING, snapshot
from tests.test_ingest_pipeline import _csv


def _load(engine: sa.Engine, tmp_path: Path, *files: Path) -> pipeline.IngestSummary:
    mapping, city = load_mapping(HZ_MAPPING), load_city(DEFAULT_CITY_FILE)
    return pipeline.ingest_files(engine, "complaints", mapping, city, list(files), quarantine=tmp_path / "q.csv")


def _ids(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        found = connection.exec_driver_sql("SELECT count(*), count(DISTINCT ticket_id) FROM complaints").one()
    return int(found[0]), int(found[1])


def _constraints(engine: sa.Engine, table: str) -> set[str]:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT constraint_type FROM information_schema.table_constraints WHERE table_name = ?", (table,)
        ).all()
    return {row[0] for row in rows}


def test_fact_tables_have_no_key_index_on_duckdb_but_keep_it_elsewhere() -> None:
    for table in schema.FACT_TABLES:
        assert list(table.primary_key.columns) == [next(iter(table.primary_key.columns))]  # still declared
        assert "PRIMARY KEY" not in str(sa.schema.CreateTable(table).compile(dialect=Dialect()))
        for dialect in (postgresql.dialect(), mysql.dialect()):
            assert "PRIMARY KEY" in str(sa.schema.CreateTable(table).compile(dialect=dialect))
    for table in (schema.regions, schema.categories, schema.departments, schema.cockpit_meta):
        assert "PRIMARY KEY" in str(sa.schema.CreateTable(table).compile(dialect=Dialect()))


@pytest.mark.slow
def test_ids_stay_unique_through_loads_reimports_and_newer_versions(engine: sa.Engine, tmp_path: Path) -> None:
    schema.create_schema(engine)
    assert "PRIMARY KEY" not in _constraints(engine, "complaints")
    assert "PRIMARY KEY" in _constraints(engine, "regions")
    fixture = FIXTURES / "hz_12345.csv"
    first = _load(engine, tmp_path, fixture)
    rows = first.new
    assert _ids(engine) == (rows, rows)
    again = _load(engine, tmp_path, fixture)  # every row unchanged
    assert (again.new, again.updated, again.unchanged) == (0, 0, rows) and _ids(engine) == (rows, rows)
    newer = tmp_path / "newer.csv"
    newer.write_text(fixture.read_text(encoding="utf-8").replace("办理中", "已关闭") + GOOD + "\n", "utf-8")
    extra = _csv(tmp_path / "extra.csv", GOOD.replace("GD100", "GD900"), GOOD)  # GD100 again in a second file
    summary = _load(engine, tmp_path, newer, extra)
    assert summary.new == 2 and summary.updated > 0 and summary.rejected["duplicate_id"] == 1
    assert _ids(engine) == (rows + 2, rows + 2)


@pytest.mark.slow
def test_a_database_created_with_the_key_loads_the_same(engine: sa.Engine, tmp_path: Path) -> None:
    with engine.begin() as connection:  # as before this change: the fact table with its primary key
        ddl = str(sa.schema.CreateTable(schema.complaints).compile(dialect=postgresql.dialect()))
        connection.exec_driver_sql(ddl.replace("TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMP"))
    schema.create_schema(engine)
    assert "PRIMARY KEY" in _constraints(engine, "complaints")
    fixture = FIXTURES / "hz_12345.csv"
    rows = _load(engine, tmp_path, fixture).new
    summary = _load(engine, tmp_path, fixture, _csv(tmp_path / "extra.csv", GOOD.replace("GD100", "GD900")))
    assert (summary.new, summary.unchanged) == (1, rows) and _ids(engine) == (rows + 1, rows + 1)


@pytest.mark.slow
def test_a_load_that_would_duplicate_an_id_is_refused_and_rolled_back(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A merge that went wrong (injected: rows inserted twice) never commits: the check refuses it."""
    fixture = FIXTURES / "hz_12345.csv"
    assert _load(engine, tmp_path, fixture).committed
    before, version = snapshot(engine), pipeline.data_version(engine)
    merge = writer.FactWriter._merge_duckdb

    def twice(self: writer.FactWriter, duck: Any, was_empty: bool) -> writer.BatchOutcome:
        outcome = merge(self, duck, was_empty)
        names = ", ".join(f'"{name}"' for name in self.columns)
        duck.execute(f"INSERT INTO complaints ({names}) SELECT {names} FROM ingest_final")  # the bug injected
        return outcome

    monkeypatch.setattr(writer.FactWriter, "_merge_duckdb", twice)
    newer = _csv(tmp_path / "newer.csv", GOOD.replace("GD100", "GD900"))
    with pytest.raises(pipeline.IngestProblem, match="duplicate key: ticket_id 'GD900'"):
        _load(engine, tmp_path, newer)
    assert snapshot(engine) == before and pipeline.data_version(engine) == version


def test_a_first_load_that_would_duplicate_an_id_is_refused(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same check after a first load into an empty table (the one-INSERT path)."""
    schema.create_schema(engine)
    before = snapshot(engine)
    merge = writer.FactWriter._merge_duckdb

    def twice(self: writer.FactWriter, duck: Any, was_empty: bool) -> writer.BatchOutcome:
        assert was_empty
        outcome = merge(self, duck, was_empty)
        names = ", ".join(f'"{name}"' for name in self.columns)
        duck.execute(f"INSERT INTO complaints ({names}) SELECT {names} FROM ingest_final LIMIT 1")
        return outcome

    monkeypatch.setattr(writer.FactWriter, "_merge_duckdb", twice)
    with pytest.raises(pipeline.IngestProblem, match="duplicate key: ticket_id"):
        _load(engine, tmp_path, FIXTURES / "hz_12345.csv")
    assert snapshot(engine) == before and pipeline.data_version(engine) is None


@pytest.fixture(
    params=[
        pytest.param(kind, marks=[pytest.mark.slow, pytest.mark.xdist_group("servers")])
        for kind in ("postgresql", "mysql")
    ]
)
def server(request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    yield from _server_database(request.param)


def test_servers_keep_the_primary_key(server: sa.Engine) -> None:
    schema.create_schema(server)
    inspector = sa.inspect(server)
    for table in schema.FACT_TABLES:
        key = next(iter(table.primary_key.columns)).name
        assert inspector.get_pk_constraint(table.name)["constrained_columns"] == [key]
