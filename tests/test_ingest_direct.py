"""A first load appends batches straight into the empty DuckDB table (``data_access.ingest_direct``).

The staged path (every valid row to Parquet, one ``INSERT … SELECT`` at the end) is the reference:
both must leave identical databases, counts and quarantine files, whatever the Bloom filter flags.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa

from data_access import ingest, ingest_direct, schema
from data_access.engine import dispose_engine, get_engine
from data_access.fact_writer import FactWriter
from data_access.mapping import load_mapping
from data_access.settings import DEFAULT_CITY_FILE, load_city
from tests.test_ingest import GOOD, HZ_MAPPING, snapshot
from tests.test_ingest_pipeline import _csv

# Two files, with ids repeated within a batch, across batches and across files, copies that differ
# (the first valid one must win), a first copy that is rejected (the later valid copy wins) and
# rejects of other rules.
ROWS_A = [
    GOOD,
    GOOD.replace("GD100", "GD101").replace("路灯不亮", "第一份"),
    GOOD.replace("GD100", "GD102").replace("电话", "传真"),  # bad_value: not the first valid GD102
    GOOD.replace("GD100", "GD101").replace("路灯不亮", "第二份"),  # a later copy, other values
    GOOD.replace("GD100", "GD102").replace("路灯不亮", "有效"),
    GOOD.replace("GD100", "GD103"),
    GOOD.replace("GD100", "GD103"),
]
ROWS_B = [GOOD.replace("GD100", "GD104"), GOOD.replace("路灯不亮", "再一份"), GOOD.replace("GD100", "GD102")]


def _import(tmp_path: Path, name: str, batch_rows: int) -> tuple[ingest.IngestSummary, dict[str, list[tuple]], str]:
    folder = tmp_path / name
    folder.mkdir()
    files = [_csv(folder / "a.csv", *ROWS_A), _csv(folder / "b.csv", *ROWS_B)]
    url = f"duckdb:///{folder / 'city.duckdb'}"
    engine = get_engine(url)
    try:
        mapping, city = load_mapping(HZ_MAPPING), load_city(DEFAULT_CITY_FILE)
        quarantine = folder / "q.csv"
        summary = ingest.ingest_files(
            engine, "complaints", mapping, city, files, quarantine=quarantine, batch_rows=batch_rows
        )
        found = snapshot(engine)
        volatile = ("data_version", "imported_at")  # the times of the run
        found["cockpit_meta"] = [row for row in found["cockpit_meta"] if row[0] not in volatile]
        return summary, found, quarantine.read_text(encoding="utf-8")
    finally:
        dispose_engine(url)


def _figures(summary: ingest.IngestSummary) -> tuple[int, int, int, dict[str, int], bool]:
    return summary.read, summary.new, summary.updated, dict(summary.rejected), summary.committed


@pytest.mark.parametrize("bits", [64, ingest_direct.BLOOM_BITS])
@pytest.mark.parametrize("batch_rows", [1, 2, 1000])
def test_direct_first_load_equals_the_staged_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bits: int, batch_rows: int
) -> None:
    """64 bits: nearly every row is flagged (held back); the full filter: only real repeats are."""
    with monkeypatch.context() as patch:
        patch.setattr(ingest, "_writer", lambda early, fact, scratch, rows: FactWriter(fact, scratch, rows))
        staged = _import(tmp_path, "staged", batch_rows)
    used: list[ingest_direct.DirectWriter] = []
    direct_writer = ingest._writer

    def spy(*args: object) -> FactWriter:
        writer = direct_writer(*args)  # type: ignore[arg-type]
        assert isinstance(writer, ingest_direct.DirectWriter)
        used.append(writer)
        return writer

    monkeypatch.setattr(ingest_direct, "BLOOM_BITS", bits)
    monkeypatch.setattr(ingest, "_writer", spy)
    direct = _import(tmp_path, "direct", batch_rows)
    assert used and used[0].seen.words.size == max(bits // 64, 1) and used[0].held  # repeats held back
    assert _figures(direct[0]) == _figures(staged[0]) == (10, 5, 0, {"bad_value": 1, "duplicate_id": 4}, True)
    assert direct[1] == staged[1]
    assert direct[2] == staged[2]
    titles = dict(zip(*[[row[i] for row in direct[1]["complaints"]] for i in (0, 6)], strict=True))
    assert titles["GD101"] == "第一份" and titles["GD102"] == "有效" and titles["GD100"] == "路灯不亮"


def test_seen_ids_flags_every_repeat() -> None:
    """No false negatives: an id seen in an earlier call, or earlier in the same call, is flagged."""
    small = ingest_direct.SeenIds(bits=1 << 12)  # many false positives, which are allowed
    first = pl.Series([f"GD{i:06d}" for i in range(3000)])
    assert not small.check_and_add(first[:1]).any()
    small.check_and_add(first[1:])
    flagged = small.check_and_add(pl.Series(["GD000000", "X1", "X1"]))
    assert flagged[0] and flagged[2]
    assert bool(np.all(small.check_and_add(pl.concat([first, pl.Series(["X1"])]))))
    full = ingest_direct.SeenIds()
    assert not full.check_and_add(first).any()  # 3,000 distinct ids, none flagged
    fresh = pl.Series([f"NEW{i:06d}" for i in range(3000)])
    assert full.check_and_add(fresh).sum() < 5 and bool(np.all(full.check_and_add(fresh)))


def test_a_direct_load_that_would_duplicate_an_id_is_refused(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The uniqueness check guards the direct path too: a batch appended twice is rolled back."""
    insert = ingest_direct.DirectWriter._insert

    def twice(self: ingest_direct.DirectWriter, frame: pl.DataFrame) -> None:
        insert(self, frame)
        insert(self, frame.head(1))  # the bug injected

    monkeypatch.setattr(ingest_direct.DirectWriter, "_insert", twice)
    schema.create_schema(engine)
    before = snapshot(engine)
    with pytest.raises(ingest.IngestProblem, match="duplicate key: ticket_id"):
        mapping, city = load_mapping(HZ_MAPPING), load_city(DEFAULT_CITY_FILE)
        ingest.ingest_files(engine, "complaints", mapping, city, [_csv(tmp_path / "a.csv", GOOD)])
    assert snapshot(engine) == before and ingest.data_version(engine) is None
