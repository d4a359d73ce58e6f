"""The quarantine of an import: every rejected row with its file, row number, column, reason and value.

Rejects are staged to Parquet batch by batch while the files are read; once every file is through, they
and the duplicate ids the writer found (``data_access.contract.writer.FactWriter.find_duplicates``) are
merged, in file and row order, into one CSV that names the first occurrence of each duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import polars as pl

from data_access.contract.staging import parquet_source, quote_path
from data_access.contract.writer import FILE, FactWriter
from data_access.ingest.readers import ROW

QUARANTINE_SUFFIX = ".rejected.csv"
QUARANTINE_COLUMNS = ("file", "row", "column", "reason", "value")


class Quarantine:
    """Rejected rows: staged batch by batch, then merged, in file and row order, into one CSV.

    The CSV (columns ``file,row,column,reason,value``) is written only when something was rejected;
    an older run's file of the same name is removed otherwise (its rejects are no longer true).
    """

    def __init__(self, path: Path, scratch: Path) -> None:
        self.path = path
        self.scratch = scratch
        self.parts: list[Path] = []
        self.rows = 0

    def add(self, file_index: int, rejects: pl.DataFrame) -> None:
        if rejects.height == 0:
            return
        part = self.scratch / f"rejects-{len(self.parts):06d}.parquet"
        rejects.select(
            pl.lit(file_index, dtype=pl.Int32).alias(FILE), pl.col(ROW).cast(pl.Int64), "column", "reason", "value"
        ).write_parquet(part)
        self.parts.append(part)
        self.rows += rejects.height

    def write(
        self, work: duckdb.DuckDBPyConnection, file_names: Sequence[str], writer: FactWriter, id_column: str
    ) -> None:
        """Merge the staged rejects and the writer's duplicates into the quarantine CSV (or remove a stale one)."""
        if not self.parts and writer.duplicates_file is None:
            if self.path.is_file() and self.path.name.endswith(QUARANTINE_SUFFIX):
                self.path.unlink()
            return
        work.execute("CREATE OR REPLACE TABLE import_files (_file INTEGER, name VARCHAR)")
        work.executemany("INSERT INTO import_files VALUES (?, ?)", list(enumerate(file_names)))
        sources = []
        if self.parts:
            sources.append(f'SELECT {FILE}, {ROW}, "column", reason, value FROM {parquet_source(self.parts)}')
        if writer.duplicates_file is not None:
            first_at = f"CASE WHEN d.first_file = d.{FILE} THEN '' ELSE f.name || ' ' END || 'row ' || d.first_row"
            sources.append(
                f"SELECT d.{FILE}, d.{ROW}, '{id_column}' AS \"column\", 'duplicate_id' AS reason, "
                f"d.id || ' (first at ' || {first_at} || ')' AS value "
                f"FROM read_parquet({quote_path(writer.duplicates_file)}) d "
                "JOIN import_files f ON f._file = d.first_file"
            )
        merged = " UNION ALL ".join(sources)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        work.execute(
            f'COPY (SELECT f.name AS "file", q.{ROW} AS "row", q."column", q.reason, q.value '
            f"FROM ({merged}) q JOIN import_files f ON f._file = q.{FILE} ORDER BY q.{FILE}, q.{ROW}) "
            f"TO {quote_path(self.path)} (FORMAT csv, HEADER)"
        )


def default_quarantine(first_file: Path) -> Path:
    return first_file.with_name(first_file.name + QUARANTINE_SUFFIX)
