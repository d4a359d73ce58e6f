"""Writing a first load straight into an empty DuckDB fact table while the next batch is validated.

Why. Staging every valid row to Parquet and inserting it all once validation is over makes the
engine's insert (about a third of an import's CPU) wait for the whole validation, and writes and
reads every row an extra time. Into an *empty* table, inside the import's one transaction (opened
before the first batch), a batch can be appended as soon as it is valid, by a background thread,
while polars validates the next one: DuckDB and polars then share the two cores.

What stays exact: the duplicate rule (the first valid row of an id wins). A row can only be a later
copy if its id was seen before; :class:`SeenIds` (a fixed-size Bloom filter of the ids appended so
far, no false negatives) and the batch's own earlier rows flag every such row. Flagged rows are held
back (staged to Parquet, as every row was before); all others cannot be a later copy and go into the
table at once. Once every file is read, the duplicates are found over the ids of all valid rows (a
three-column staging of ``id, _file, _row``) exactly as before, and the held-back rows that are not
duplicates are inserted. False positives only cost a row's staging; memory stays bounded.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import sqlalchemy as sa

from data_access.fact_writer import FILE, ROW, BatchOutcome, FactWriter, parquet_source, quote_path

BLOOM_BITS = 1 << 28  # 32 MB: under 1 % of 10 million distinct ids flagged by mistake
_HASH_SEED = 0x5EED


class SeenIds:
    """A blocked Bloom filter over ids: "maybe seen" or "surely not" (no false negatives).

    Each id sets two bits of one 64-bit word chosen by its hash: one memory access per id (the
    filter is far larger than the CPU's caches, so accesses, not arithmetic, are the cost).
    """

    def __init__(self, bits: int = BLOOM_BITS) -> None:
        self.words = np.zeros(bits // 64, dtype=np.uint64)
        self.mask = np.uint64(len(self.words) - 1)

    def check_and_add(self, ids: pl.Series) -> np.ndarray:
        """True for ids that may have been added before (or earlier in ``ids``); then adds them all."""
        hashed = ids.hash(seed=_HASH_SEED).to_numpy()
        where = (hashed & self.mask).astype(np.intp)
        one = np.uint64(1)
        bits = (one << ((hashed >> np.uint64(40)) & np.uint64(63))) | (
            one << ((hashed >> np.uint64(52)) & np.uint64(63))
        )
        maybe = (self.words[where] & bits) == bits
        maybe |= ~ids.is_first_distinct().to_numpy()
        np.bitwise_or.at(self.words, where, bits)
        return np.asarray(maybe, dtype=bool)


class DirectWriter(FactWriter):
    """A :class:`FactWriter` for a first load into an empty DuckDB table, inside an open transaction.

    ``parts`` hold the ids (``id, _file, _row``) of every valid row, for :meth:`find_duplicates`;
    ``held`` the full rows flagged by :class:`SeenIds`, inserted by :meth:`finish` minus duplicates.
    """

    def __init__(self, table: sa.Table, scratch: Path, batch_rows: int, duck: Any) -> None:
        """``duck``: the DuckDB connection of the import's open transaction, its table found empty."""
        super().__init__(table, scratch, batch_rows)
        self.duck = duck
        self.seen = SeenIds(BLOOM_BITS)
        self.held: list[Path] = []

    def write(self, frame: pl.DataFrame) -> int:
        """Append the batch's surely-first rows to the table (background thread); hold back the rest."""
        if frame.height == 0:
            return 0
        self.flush()
        staged = frame.select(list(self._schema)).cast(self._schema)
        maybe = pl.Series(self.seen.check_and_add(staged.get_column(self.key)))
        clear, held = staged.filter(~maybe), staged.filter(maybe)
        ids = self.scratch / f"ids-{len(self.parts):06d}.parquet"
        self.parts.append(ids)
        held_path = None
        if held.height:
            held_path = self.scratch / f"held-{len(self.held):06d}.parquet"
            self.held.append(held_path)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-append")
        self._pending = self._pool.submit(self._append, clear, held, ids, held_path)
        self.staged += frame.height
        return frame.height

    def _append(self, clear: pl.DataFrame, held: pl.DataFrame, ids: Path, held_path: Path | None) -> None:
        # lz4 and no statistics: the cheapest Parquet to write; it is read once, whole.
        clear.select(self.key, FILE, ROW).vstack(held.select(self.key, FILE, ROW)).write_parquet(
            ids, compression="lz4", statistics=False
        )
        if held_path is not None:
            held.write_parquet(held_path, compression="lz4", statistics=False)
        if clear.height:
            self._insert(clear.select(self.columns))

    def _insert(self, frame: pl.DataFrame) -> None:
        names = ", ".join(f'"{name}"' for name in self.columns)
        # An Arrow stream over the frame's own buffers: no copy into a pyarrow table first.
        self.duck.register("ingest_direct_arrow", pa.RecordBatchReader.from_stream(frame))
        try:
            self.duck.execute(f'INSERT INTO "{self.table.name}" ({names}) SELECT {names} FROM ingest_direct_arrow')
        finally:
            self.duck.unregister("ingest_direct_arrow")

    def _final_rows(self) -> str:
        """SELECT of the held-back rows to load: those that are not duplicates."""
        columns = ", ".join(f's."{name}"' for name in self.columns)
        sql = f"SELECT {columns} FROM {parquet_source(self.held)} AS s"
        if self.duplicates_file is not None:
            sql += (
                f" ANTI JOIN read_parquet({quote_path(self.duplicates_file)}) AS d"
                f" ON s.{FILE} = d.{FILE} AND s.{ROW} = d.{ROW}"
            )
        return sql

    def finish(self, connection: sa.Connection, work: duckdb.DuckDBPyConnection) -> BatchOutcome:
        """Insert the held-back rows that are not duplicates, then check the ids are unique."""
        if self.held:
            names = ", ".join(f'"{name}"' for name in self.columns)
            self.duck.execute(f'INSERT INTO "{self.table.name}" ({names}) {self._final_rows()}')
        self._check_unique(self.duck, was_empty=True)
        return BatchOutcome(self.to_load, 0, 0)
