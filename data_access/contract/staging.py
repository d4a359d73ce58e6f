"""Staging contract rows on disk and the DuckDB settings a bulk load runs under; shared by every writer.

Both writers of contract rows (the import's :class:`~data_access.contract.writer.FactWriter` and the
demo's :class:`~data_access.contract.replace.ContractReplacement`) stage their rows batch by batch to
Parquet files in a scratch folder before the database sees any of them. Why: a DuckDB transaction keeps
what it inserted (and the Arrow chunks handed to it) in memory until it commits, while one
``INSERT … SELECT`` from Parquet files streams, with the engine's memory capped (:func:`lowered_memory`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import sqlalchemy as sa

# DuckDB's memory during a load: the import's work engine's, and the target's while it merges (restored after).
WORK_MEMORY = "512MB"
LOAD_MEMORY = "1GB"
_SIZE_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "KIB": 1 << 10, "MIB": 1 << 20,
               "GIB": 1 << 30, "TIB": 1 << 40}  # fmt: skip


def polars_types(table: sa.Table) -> dict[str, pl.DataType]:
    """Polars dtypes of a table's columns, so every staged part (all-NULL columns too) has one schema."""
    types: dict[str, pl.DataType] = {}
    for column in table.columns:
        kind = column.type
        if isinstance(kind, sa.DateTime):
            types[column.name] = pl.Datetime("us")
        elif isinstance(kind, sa.Date):
            types[column.name] = pl.Date()
        elif isinstance(kind, sa.Boolean):
            types[column.name] = pl.Boolean()
        elif isinstance(kind, sa.Integer):
            types[column.name] = pl.Int64()
        elif isinstance(kind, sa.Float):
            types[column.name] = pl.Float64()
        else:
            types[column.name] = pl.String()
    return types


def quote_path(path: Path) -> str:
    """A path as a DuckDB string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def parquet_source(paths: Sequence[Path]) -> str:
    """A ``read_parquet([...])`` table expression over the staged files."""
    return "read_parquet([" + ", ".join(quote_path(p) for p in paths) + "])"


def scratch_parent(engine: sa.Engine) -> str | None:
    """Stage next to an embedded database file (same disk as the data), else in the system's temp folder."""
    database = engine.url.database if engine.dialect.name == "duckdb" else None
    if database and database != ":memory:" and not database.startswith("md:"):
        return str(Path(database).resolve().parent)
    return None


def size_bytes(text: str) -> float:
    """A DuckDB size setting ('18.6 GiB', '500MB') in bytes; infinite when it cannot be read."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", text)
    if not match or match.group(2).upper() not in _SIZE_UNITS:
        return float("inf")
    return float(match.group(1)) * _SIZE_UNITS[match.group(2).upper()]


def _midpoint(shown: str) -> str:
    """A size that DuckDB shows as ``shown`` again ('7.4 GiB' -> '7.45 GiB'): restoring it does not drift."""
    match = re.fullmatch(r"\s*([0-9]+)(?:\.([0-9]+))?\s*([A-Za-z]*)\s*", shown)
    if not match:
        return shown
    decimals = len(match.group(2) or "")
    value = float(f"{match.group(1)}.{match.group(2) or '0'}") + 0.5 * 10**-decimals
    return f"{value:.{decimals + 1}f} {match.group(3)}"


@contextlib.contextmanager
def work_engine(scratch: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A private in-memory DuckDB for the import's own set work, capped in memory, spilling into ``scratch``."""
    work = duckdb.connect(":memory:")
    try:
        work.execute(f"SET memory_limit = '{WORK_MEMORY}'")
        work.execute(f"SET temp_directory = {quote_path(scratch / 'spill')}")
        work.execute("SET preserve_insertion_order = false")
        yield work
    finally:
        work.close()


@contextlib.contextmanager
def unordered_inserts(duck: Any) -> Iterator[None]:
    """Let DuckDB write an ``INSERT … SELECT`` with both cores, in any row order; restored after.

    No table of ours has a meaningful row order, and keeping the order (DuckDB's default) made the
    rollup refresh's copy of the open items take 1.1 s instead of 0.67 s for 400,000 rows.
    """
    previous = bool(duck.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0])
    duck.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        duck.execute(f"SET preserve_insertion_order = {str(previous).lower()}")


@contextlib.contextmanager
def lowered_memory(duck: Any, limit: str) -> Iterator[None]:
    """Lower a DuckDB's memory limit (never raise it) for one load; restored after, without drift.

    The limit caps the buffer cache of freshly written blocks, so a big ``INSERT … SELECT`` streams to
    disk instead of holding what it wrote.
    """
    previous_limit = str(duck.execute("SELECT current_setting('memory_limit')").fetchone()[0])
    lowered = size_bytes(limit) < size_bytes(previous_limit)
    if lowered:
        duck.execute(f"SET memory_limit = '{limit}'")
    try:
        yield
    finally:
        if lowered:  # the setting reads back truncated: RESET is exact when it was the default
            duck.execute("RESET memory_limit")
            if str(duck.execute("SELECT current_setting('memory_limit')").fetchone()[0]) != previous_limit:
                duck.execute(f"SET memory_limit = '{_midpoint(previous_limit)}'")


@contextlib.contextmanager
def capped_memory(duck: Any, limit: str = LOAD_MEMORY) -> Iterator[None]:
    """Lower a DuckDB's memory limit (never raise it) and drop insertion order for one load; restored after."""
    with lowered_memory(duck, limit), unordered_inserts(duck):
        yield


def append_frame(duck: Any, table: str, frame: pl.DataFrame) -> None:
    """Append a frame to a DuckDB table through Arrow (``executemany`` is slow on DuckDB)."""
    names = ", ".join(f'"{name}"' for name in frame.columns)
    duck.register("contract_frame", frame.to_arrow())
    try:
        duck.execute(f'INSERT INTO "{table}" ({names}) SELECT {names} FROM contract_frame')
    finally:
        duck.unregister("contract_frame")


class PartWriter:
    """Writes batches of one table to numbered Parquet parts in a scratch folder, in the background.

    Each part is written by a background thread while the caller prepares the next batch (polars
    releases the GIL); at most one part is in flight, so memory stays at two batches. A failed write
    raises at the next :meth:`write`, in :meth:`flush` or in :meth:`close`.
    """

    def __init__(self, scratch: Path, stem: str, types: dict[str, pl.DataType], thread_name: str) -> None:
        self.scratch = scratch
        self.stem = stem
        self.schema = pl.Schema(types)
        self.thread_name = thread_name
        self.parts: list[Path] = []
        self.rows = 0
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None

    def write(self, frame: pl.DataFrame) -> int:
        """Stage one batch (its columns cast to the schema); returns the rows staged."""
        if frame.height == 0:
            return 0
        self.flush()
        path = self.scratch / f"{self.stem}-{len(self.parts):06d}.parquet"
        staged = frame.select(list(self.schema)).cast(self.schema)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.thread_name)
        # lz4 and no statistics: the cheapest Parquet to write; it is read once, whole.
        self._pending = self._pool.submit(staged.write_parquet, path, compression="lz4", statistics=False)
        self.parts.append(path)
        self.rows += frame.height
        return frame.height

    def flush(self) -> None:
        """Wait for the part being written (raising its error, if any)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Wait for the last part (raising its error, if any) and stop the thread."""
        try:
            self.flush()
        finally:
            self.abandon()

    def abandon(self) -> None:
        """Stop the thread after another error: a write still running ends, its own error is dropped."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.exception()  # waits; the caller is raising an error of its own already
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
