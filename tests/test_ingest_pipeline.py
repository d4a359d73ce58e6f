"""The staged pipeline: duplicates over the whole import, a failure inside the database phase, Open311 streamed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from data_access.config.city import DEFAULT_CITY_FILE, load_city
from data_access.contract.staging import capped_memory, size_bytes
from data_access.ingest import pipeline as ingest
from data_access.ingest.mapping import load_mapping, preset_path
from data_access.ingest.readers import SourceProblem, open_source
from data_access.runtime.paths import REPO_ROOT
from tests.test_ingest import FIXTURES, GOOD, HZ_HEADER, HZ_MAPPING, complaints, quarantine_rows, snapshot

SF_CITY = REPO_ROOT / "config" / "sf_city.toml"


def _csv(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([HZ_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_duplicates_across_files_name_the_first_file(engine: sa.Engine, tmp_path: Path) -> None:
    first = _csv(tmp_path / "a.csv", GOOD, GOOD.replace("GD100", "GD101"))
    second = _csv(tmp_path / "b.csv", GOOD.replace("GD100", "GD102"), GOOD.replace("GD100", "GD101"), GOOD)
    quarantine = tmp_path / "q.csv"
    mapping, city = load_mapping(HZ_MAPPING), load_city(DEFAULT_CITY_FILE)
    summary = ingest.ingest_files(engine, "complaints", mapping, city, [first, second], quarantine=quarantine)
    assert (summary.read, summary.new, dict(summary.rejected)) == (5, 3, {"duplicate_id": 2})
    assert [(r["file"], r["row"], r["column"], r["reason"], r["value"]) for r in quarantine_rows(quarantine)] == [
        ("b.csv", "2", "ticket_id", "duplicate_id", "GD101 (first at a.csv row 2)"),
        ("b.csv", "3", "ticket_id", "duplicate_id", "GD100 (first at a.csv row 1)"),
    ]
    assert complaints(engine)["ticket_id"].to_list() == ["GD100", "GD101", "GD102"]


def test_a_duplicate_of_a_rejected_row_is_loaded(engine: sa.Engine, tmp_path: Path) -> None:
    """The first valid row of an id wins: an earlier copy that broke another rule does not block it."""
    bad = GOOD.replace("电话", "传真")  # row 1: bad_value
    file = _csv(tmp_path / "a.csv", bad, GOOD)
    quarantine = tmp_path / "q.csv"
    summary = ingest.ingest_files(
        engine, "complaints", load_mapping(HZ_MAPPING), load_city(DEFAULT_CITY_FILE), [file], quarantine=quarantine
    )
    assert (summary.new, dict(summary.rejected)) == (1, {"bad_value": 1})
    assert [(r["row"], r["reason"]) for r in quarantine_rows(quarantine)] == [("1", "bad_value")]


@pytest.mark.slow
def test_failure_inside_the_database_phase_rolls_everything_back(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Facts already deleted and reinserted, then the dimensions fail: the database is exactly as before."""
    mapping, city = load_mapping(HZ_MAPPING), load_city(DEFAULT_CITY_FILE)
    assert ingest.ingest_files(engine, "complaints", mapping, city, [FIXTURES / "hz_12345.csv"]).committed
    before, version = snapshot(engine), ingest.data_version(engine)
    text = (FIXTURES / "hz_12345.csv").read_text(encoding="utf-8").replace("办理中", "已关闭")
    newer = tmp_path / "newer.csv"
    newer.write_text(text + GOOD + "\n", "utf-8")
    original = ingest.upsert_rows

    def failing(connection: sa.Connection, table: sa.Table, rows: Any) -> int:
        if table.name == "categories":
            raise RuntimeError("disk full (injected)")
        return original(connection, table, rows)

    monkeypatch.setattr(ingest, "upsert_rows", failing)
    with pytest.raises(RuntimeError, match="injected"):
        ingest.ingest_files(engine, "complaints", mapping, city, [newer], quarantine=tmp_path / "q.csv")
    assert snapshot(engine) == before and ingest.data_version(engine) == version
    with engine.connect() as connection:  # the memory cap is lifted again after the failed load
        duck: Any = connection.connection.driver_connection
        assert duck.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0] is True
    monkeypatch.setattr(ingest, "upsert_rows", original)
    summary = ingest.ingest_files(engine, "complaints", mapping, city, [newer], quarantine=tmp_path / "q.csv")
    assert (summary.new, summary.updated, summary.unchanged) == (1, 2, 4)


def test_capped_memory_lowers_and_restores() -> None:
    import duckdb

    def limit(duck: duckdb.DuckDBPyConnection) -> float:
        return size_bytes(str(duck.execute("SELECT current_setting('memory_limit')").fetchone()[0]))

    duck = duckdb.connect()
    default = limit(duck)
    with capped_memory(duck, "1GB"):
        assert limit(duck) == pytest.approx(1e9, rel=0.01)
    assert limit(duck) == default  # RESET: exact
    duck.execute("SET memory_limit = '8GB'")
    shown = duck.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    for _ in range(3):  # restored to what it showed, load after load (no drift)
        with capped_memory(duck, "1GB"):
            assert limit(duck) == pytest.approx(1e9, rel=0.01)
        assert duck.execute("SELECT current_setting('memory_limit')").fetchone()[0] == shown
    duck.execute("SET memory_limit = '256MB'")
    with capped_memory(duck, "1GB"):  # never raised
        assert limit(duck) == pytest.approx(256e6, rel=0.01)


def _open311(tmp_path: Path, body: str) -> list[dict[str, Any]]:
    path = tmp_path / "requests.json"
    path.write_text(body, encoding="utf-8")
    mapping = load_mapping(preset_path("open311"))
    with open_source(path, mapping.source, batch_rows=2) as source:
        frames = list(source.batches)
        assert [f.height for f in frames] == [2, 1] or sum(f.height for f in frames) < 3
        return [row for frame in frames for row in frame.to_dicts()]


def test_open311_is_streamed_in_batches_and_accepts_a_wrapper(tmp_path: Path) -> None:
    records = json.loads((FIXTURES / "open311_requests.json").read_text(encoding="utf-8"))
    direct = _open311(tmp_path, json.dumps(records))
    wrapped = _open311(tmp_path, json.dumps({"meta": {"count": 3, "list": [1]}, "service_requests": records}))
    assert direct == wrapped
    assert [r["_row"] for r in direct] == [1, 2, 3]
    assert [r["service_request_id"] for r in direct] == ["638344", "638349", "638350"]
    assert direct[0]["lat"] == "37.774007256355" and direct[2]["status_notes"] is None
    # A field only a later request has is a column too (the first pass collects every name).
    assert "closed_date" in direct[1] and direct[1]["closed_date"] is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"count": 3}', "a JSON array of service requests"),
        ('[{"service_request_id": "1"}, 5]', "request 2 is not a JSON object"),
        ('[{"service_request_id": "1"}, {"service', "cannot read as Open311 JSON"),
    ],
)
def test_bad_open311_files_name_the_problem(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(SourceProblem, match=message):
        _open311(tmp_path, body)


@pytest.mark.slow
def test_a_staging_write_failing_in_the_background_writes_nothing(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches are staged to Parquet by a background thread: its failure (a full disk) still stops the import."""
    import threading

    import polars as pl

    mapping, city = load_mapping(HZ_MAPPING), load_city(DEFAULT_CITY_FILE)
    assert ingest.ingest_files(engine, "complaints", mapping, city, [FIXTURES / "hz_12345.csv"]).committed
    before = snapshot(engine)
    original = pl.DataFrame.write_parquet
    calls = {"n": 0}

    def failing(self: pl.DataFrame, file: Any, **options: Any) -> None:
        if "valid-" in str(file):
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError(28, "No space left on device (injected)", str(file))
        original(self, file, **options)

    monkeypatch.setattr(pl.DataFrame, "write_parquet", failing)
    newer = _csv(tmp_path / "newer.csv", *[GOOD.replace("GD100", f"GD9{i:02d}") for i in range(6)])
    with pytest.raises(ingest.IngestProblem, match="No space left on device"):
        ingest.ingest_files(engine, "complaints", mapping, city, [newer], batch_rows=2)
    assert calls["n"] == 2 and snapshot(engine) == before
    assert not [t for t in threading.enumerate() if t.name.startswith("ingest-stage")]


def test_batches_prepared_at_once_come_back_in_file_order() -> None:
    """A later batch finished first still comes after the earlier ones (ids and rows keep their order)."""
    import time

    import polars as pl

    def slow_first(batch: pl.DataFrame) -> Any:
        time.sleep(0.05 if batch.item(0, 0) % 2 == 0 else 0.0)
        return batch.item(0, 0)

    batches = [pl.DataFrame({"n": [n] * (n + 1)}) for n in range(7)]
    got = list(ingest.prepared_batches(slow_first, iter(batches), 3))  # type: ignore[arg-type]
    assert got == [(n + 1, n) for n in range(7)]


@pytest.mark.slow
def test_an_import_prepared_on_several_threads_equals_one_prepared_on_one(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of two rows, prepared three at once and one at a time: the same rows, rejects and quarantine."""
    import threading

    mapping, city = load_mapping(HZ_MAPPING), load_city(DEFAULT_CITY_FILE)
    good = [GOOD.replace("GD100", f"GD9{i:02d}") for i in range(9)]
    # rows 4 (bad_value) and 8 (a repeat of row 2's id) are rejected; the rest load
    rows = [*good[:3], GOOD.replace("电话", "传真"), *good[3:6], good[1], *good[6:]]
    source = _csv(tmp_path / "many.csv", *rows)
    results = []
    for threads in (1, 3):
        monkeypatch.setattr(ingest, "PREPARE_THREADS", threads)
        with engine.begin() as connection:
            for table in ("complaints", "categories", "departments", "regions"):
                if sa.inspect(connection).has_table(table):
                    connection.execute(sa.text(f"DELETE FROM {table}"))
        quarantine = tmp_path / f"q{threads}.csv"
        summary = ingest.ingest_files(
            engine, "complaints", mapping, city, [source], quarantine=quarantine, batch_rows=2
        )
        # cockpit_meta and the stored alerts carry the import's data version and times, which differ
        derived = ("cockpit_meta", "alert_runs", "alerts")
        rows = {name: found for name, found in snapshot(engine).items() if name not in derived}
        results.append((summary.read, summary.new, dict(summary.rejected), rows, quarantine.read_text("utf-8")))
    assert results[0][:3] == (11, 9, {"bad_value": 1, "duplicate_id": 1})
    assert results[0] == results[1]
    assert not [t for t in threading.enumerate() if t.name.startswith("ingest-prepare")]
