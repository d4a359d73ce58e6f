"""Replacing every contract table's rows all-or-nothing, whatever the engine: how the demo city is written.

The import (``data_access.contract.writer``) upserts into one fact table; the demo replaces them all. Both
stage through the same Parquet parts and DuckDB settings (``data_access.contract.staging``) and insert into
a server through the same :func:`~data_access.contract.bulk.bulk_insert`.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from data_access.contract import schema
from data_access.contract.bulk import bulk_insert
from data_access.contract.staging import (
    PartWriter,
    append_frame,
    lowered_memory,
    parquet_source,
    polars_types,
    scratch_parent,
)

CONTRACT_TABLES: tuple[sa.Table, ...] = (
    *schema.FACT_TABLES,
    *schema.DIMENSION_TABLES,
    schema.demo_anomalies,
    schema.cockpit_meta,
)
STAGE_PREFIX = "_demo_stage_"  # DuckDB fact tables are built under this prefix, then renamed into place
SCRATCH_PREFIX = ".demo-load-"  # the scratch folder of the Parquet parts, next to the database file
# DuckDB's memory limit while it builds the fact tables: it caps the buffer cache of freshly written
# blocks; the ART index of the table being built is pinned, so the limit grows with the largest table.
LOAD_MEMORY_FLOOR = 1 << 30
LOAD_MEMORY_PER_ROW = 100


class ContractReplacement:
    """Replaces the contract tables' rows all-or-nothing, whatever the engine.

    PostgreSQL and MySQL: one transaction that deletes every contract table's rows and bulk-inserts the
    new ones. DuckDB got the same once, but a transaction there holds what it inserted (the Arrow
    chunks registered for each INSERT, the transaction-local rows and the primary keys' ART indexes) in
    memory until it commits: about 0.5 GB per million fact rows, 14 GB at scale 30. So DuckDB keeps the
    guarantee another way: fact chunks go to Parquet files in a scratch directory next to the database;
    once all are written, each fact table is built as a staging copy (same DDL, prefixed name) by one
    ``INSERT ... SELECT`` from its files in its own transaction, which DuckDB streams to disk, index
    included, under a temporarily lowered memory limit; then one short transaction replaces the small
    tables' rows and swaps the staging tables in (DROP + RENAME). Until that commit the contract tables
    are untouched; on failure the staging tables are dropped (leftovers of a killed run are dropped by
    the next one).
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.is_duckdb = engine.dialect.name == "duckdb"
        self._raw: Any = None
        self._duck: Any = None
        self._connection: sa.Connection | None = None
        self._scratch: Path | None = None
        self._parts: dict[str, PartWriter] = {}
        self._small: list[tuple[sa.Table, pl.DataFrame]] = []

    def __enter__(self) -> ContractReplacement:
        if self.is_duckdb:
            self._raw = self.engine.raw_connection()
            self._duck = self._raw.driver_connection
            self._drop_staging()
            self._scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=scratch_parent(self.engine)))
            for table in schema.FACT_TABLES:
                self._parts[table.name] = PartWriter(self._scratch, table.name, polars_types(table), "demo-stage")
        else:
            self._connection = self.engine.connect()
            self._connection.begin()
            for table in CONTRACT_TABLES:
                self._connection.execute(table.delete())
        return self

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        try:
            if self.is_duckdb:
                try:
                    if not exc_type:
                        for parts in self._parts.values():
                            parts.close()  # a failed background write raises here
                        self._load_duckdb()
                finally:
                    for parts in self._parts.values():
                        parts.abandon()
                    with contextlib.suppress(Exception):  # never mask the error that got us here
                        self._drop_staging()
            elif self._connection is not None:
                (self._connection.rollback if exc_type else self._connection.commit)()
        finally:
            if self._scratch is not None:
                shutil.rmtree(self._scratch, ignore_errors=True)
            if self._raw is not None:
                self._raw.close()
            if self._connection is not None:
                self._connection.close()

    def _drop_staging(self) -> None:
        for table in schema.FACT_TABLES:
            self._duck.execute(f'DROP TABLE IF EXISTS "{STAGE_PREFIX}{table.name}"')

    def _build_staging_tables(self) -> None:
        """Each fact table as a staging copy, filled from its Parquet parts in its own transaction."""
        largest = max((parts.rows for parts in self._parts.values()), default=0)
        limit = max(LOAD_MEMORY_FLOOR, LOAD_MEMORY_PER_ROW * largest)
        with lowered_memory(self._duck, f"{limit}B"):
            for table in schema.FACT_TABLES:  # each in its own transaction: memory stays bounded
                stage = f"{STAGE_PREFIX}{table.name}"
                ddl = sa.schema.CreateTable(table.to_metadata(sa.MetaData(), name=stage))
                self._duck.execute(str(ddl.compile(dialect=self.engine.dialect)))
                files = self._parts[table.name].parts
                if files:
                    columns = ", ".join(f'"{c.name}"' for c in table.columns)
                    self._duck.execute(
                        f'INSERT INTO "{stage}" ({columns}) SELECT {columns} FROM {parquet_source(files)}'
                    )

    def _load_duckdb(self) -> None:
        self._build_staging_tables()
        self._duck.begin()
        try:
            for table in schema.FACT_TABLES:
                self._duck.execute(f'DROP TABLE IF EXISTS "{table.name}"')
                self._duck.execute(f'ALTER TABLE "{STAGE_PREFIX}{table.name}" RENAME TO "{table.name}"')
            for table in CONTRACT_TABLES:
                if table not in schema.FACT_TABLES:
                    self._duck.execute(f'DELETE FROM "{table.name}"')
            for table, frame in self._small:
                self.append_duckdb(table.name, frame)
            self._duck.commit()
        except BaseException:
            self._duck.rollback()
            raise

    def append_duckdb(self, name: str, frame: pl.DataFrame) -> None:
        """Append a small table's frame inside the final DuckDB transaction (tests fail it on purpose)."""
        append_frame(self._duck, name, frame)

    def insert(self, table: sa.Table, frame: pl.DataFrame) -> int:
        """Append a frame whose columns are the table's columns, in order; returns its rows."""
        if frame.height == 0:
            return 0
        if self.is_duckdb:
            if table in schema.FACT_TABLES:
                self._parts[table.name].write(frame)
            else:
                self._small.append((table, frame))
        else:
            assert self._connection is not None
            bulk_insert(self._connection, table.name, frame.cast(pl.Schema(polars_types(table))))
        return frame.height

    def insert_rows(self, table: sa.Table, rows: list[dict[str, Any]]) -> int:
        """Append rows given as dicts (the small tables)."""
        if not rows:
            return 0
        frame = pl.DataFrame(rows, schema=polars_types(table), orient="row")
        return self.insert(table, frame.select([c.name for c in table.columns]))
