"""Writing an import's valid rows: staged batch by batch to Parquet, then upserted by id in one go.

Why staged. A DuckDB transaction keeps what it inserted (and the Arrow chunks handed to it) in memory
until it commits, and appending batch by batch to the keyed fact table costs a key lookup per row and
a statement per batch; one ``INSERT … SELECT`` from Parquet files streams instead, with the engine's
memory capped. Staging also lets the duplicates be found over the whole import at once, with no table
of ids seen so far. Nothing touches the target database until :meth:`FactWriter.finish`, which runs
inside the caller's transaction.

The duplicate search, the merge of the quarantine and, for PostgreSQL/MySQL targets, the reading of
the staged rows run in a private in-memory DuckDB (:func:`work_engine`) with a memory cap and its
spill directory in the scratch folder.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import sqlalchemy as sa

ROW = "_row"  # 1-based record number in its file
FILE = "_file"  # 0-based position of the file in the import
INSERT_SLICE = 5_000  # rows per executemany (drivers other than psycopg and PyMySQL)
STATEMENT_BYTES = 1 << 20  # MySQL: size of one multi-row INSERT (max_allowed_packet is 4 MB or more)
COPY_SLICE = 50_000  # rows per CSV chunk sent to PostgreSQL's COPY
# DuckDB's memory during a load: the work engine's, and the target's while it merges (restored after).
WORK_MEMORY = "512MB"
LOAD_MEMORY = "1GB"
_SIZE_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "KIB": 1 << 10, "MIB": 1 << 20,
               "GIB": 1 << 30, "TIB": 1 << 40}  # fmt: skip


@dataclass(frozen=True)
class BatchOutcome:
    """What writing the staged rows did: ``new`` and ``updated`` rows were written, ``unchanged`` ones were there."""

    new: int
    updated: int
    unchanged: int


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
    return "'" + str(path).replace("'", "''") + "'"


def parquet_source(paths: Sequence[Path]) -> str:
    """A ``read_parquet([...])`` table expression over the staged files."""
    return "read_parquet([" + ", ".join(quote_path(p) for p in paths) + "])"


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
def capped_memory(duck: Any, limit: str = LOAD_MEMORY) -> Iterator[None]:
    """Lower a DuckDB's memory limit (never raise it) and drop insertion order for one load; restored after."""
    previous_limit = str(duck.execute("SELECT current_setting('memory_limit')").fetchone()[0])
    lowered = size_bytes(limit) < size_bytes(previous_limit)
    if lowered:
        duck.execute(f"SET memory_limit = '{limit}'")
    try:
        with unordered_inserts(duck):
            yield
    finally:
        if lowered:  # the setting reads back truncated: RESET is exact when it was the default
            duck.execute("RESET memory_limit")
            if str(duck.execute("SELECT current_setting('memory_limit')").fetchone()[0]) != previous_limit:
                duck.execute(f"SET memory_limit = '{_midpoint(previous_limit)}'")


class FactWriter:
    """Stages valid contract rows of one fact table, finds duplicate ids, then upserts them by id.

    :meth:`write` appends one batch (contract columns, ``_row``, ``_file``) to a Parquet part. After the
    last batch, :meth:`find_duplicates` marks every row whose id an earlier valid row of the import
    already had (earlier file, or earlier row of the same file); :meth:`finish` writes the rest inside
    the caller's transaction: rows absent from the table are inserted, rows present with other values
    replace them (*updated*), rows present with identical values are left alone (*unchanged*).
    """

    def __init__(self, table: sa.Table, scratch: Path, batch_rows: int) -> None:
        self.table = table
        self.key = next(iter(table.primary_key.columns)).name
        self.scratch = scratch
        self.batch_rows = batch_rows
        self.parts: list[Path] = []
        self.staged = 0
        self.duplicates = 0
        self.duplicates_file: Path | None = None
        self._schema = pl.Schema({**polars_types(table), ROW: pl.Int64(), FILE: pl.Int32()})
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None

    @property
    def columns(self) -> list[str]:
        return [column.name for column in self.table.columns]

    def write(self, frame: pl.DataFrame) -> int:
        """Stage one batch; nothing is written to the database yet. Returns the rows staged.

        The Parquet file is written by a background thread while the caller prepares the next batch
        (polars releases the GIL); at most one batch is in flight, so memory stays at two batches.
        A failed write raises here, at the next batch, or in :meth:`flush`.
        """
        if frame.height == 0:
            return 0
        self.flush()
        path = self.scratch / f"valid-{len(self.parts):06d}.parquet"
        staged = frame.select(list(self._schema)).cast(self._schema)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-stage")
        # lz4 and no statistics: the cheapest Parquet to write; it is read once, whole.
        self._pending = self._pool.submit(staged.write_parquet, path, compression="lz4", statistics=False)
        self.parts.append(path)
        self.staged += frame.height
        return frame.height

    def flush(self) -> None:
        """Wait for the batch being staged (raising its error, if any)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Wait for the last batch (raising its error, if any) and stop the staging thread."""
        try:
            self.flush()
        finally:
            self.abandon()

    def abandon(self) -> None:
        """Stop the staging thread after another error: a write still running ends, its own error is dropped."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.exception()  # waits; the caller is raising an error of its own already
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # ---- duplicates ----------------------------------------------------------------------------

    def find_duplicates(self, work: duckdb.DuckDBPyConnection) -> int:
        """Write ``duplicates.parquet`` (``_file, _row, id, first_file, first_row``); returns how many."""
        self.close()
        if not self.parts:
            return 0
        key = f'"{self.key}"'
        work.execute(
            f"""CREATE OR REPLACE TABLE duplicates AS
            WITH staged AS (SELECT {key} AS id, {FILE}, {ROW} FROM {parquet_source(self.parts)}),
            repeated AS (SELECT id FROM staged GROUP BY id HAVING count(*) > 1),
            ranked AS (
                SELECT s.id, s.{FILE}, s.{ROW},
                       first_value(s.{FILE}) OVER w AS first_file, first_value(s.{ROW}) OVER w AS first_row,
                       row_number() OVER w AS n
                FROM staged s SEMI JOIN repeated r ON s.id = r.id
                WINDOW w AS (PARTITION BY s.id ORDER BY s.{FILE}, s.{ROW})
            )
            SELECT {FILE}, {ROW}, id, first_file, first_row FROM ranked WHERE n > 1"""
        )
        self.duplicates = int(work.execute("SELECT count(*) FROM duplicates").fetchone()[0])  # type: ignore[index]
        if self.duplicates:
            self.duplicates_file = self.scratch / "duplicates.parquet"
            work.execute(f"COPY duplicates TO {quote_path(self.duplicates_file)} (FORMAT parquet)")
        work.execute("DROP TABLE duplicates")
        return self.duplicates

    @property
    def to_load(self) -> int:
        """Valid rows that are not duplicates: what :meth:`finish` writes or finds unchanged."""
        return self.staged - self.duplicates

    def _final_rows(self) -> str:
        """SELECT of the rows to load: the staged ones minus the duplicates."""
        columns = ", ".join(f's."{name}"' for name in self.columns)
        sql = f"SELECT {columns} FROM {parquet_source(self.parts)} AS s"
        if self.duplicates_file is not None:
            sql += (
                f" ANTI JOIN read_parquet({quote_path(self.duplicates_file)}) AS d"
                f" ON s.{FILE} = d.{FILE} AND s.{ROW} = d.{ROW}"
            )
        return sql

    # ---- writing -------------------------------------------------------------------------------

    def finish(self, connection: sa.Connection, work: duckdb.DuckDBPyConnection) -> BatchOutcome:
        """Upsert the rows to load into the table, inside the caller's open transaction."""
        if self.to_load == 0:
            return BatchOutcome(0, 0, 0)
        if connection.dialect.name == "duckdb":
            return self._finish_duckdb(connection.connection.driver_connection)
        return self._finish_server(connection, work)

    def _finish_duckdb(self, duck: Any) -> BatchOutcome:
        with capped_memory(duck):
            duck.execute(f"CREATE OR REPLACE TEMP VIEW ingest_final AS {self._final_rows()}")
            try:
                was_empty = duck.execute(f'SELECT count(*) = 0 FROM "{self.table.name}"').fetchone()[0]
                outcome = self._merge_duckdb(duck, was_empty)
                self._check_unique(duck, was_empty)
            finally:
                duck.execute("DROP VIEW IF EXISTS ingest_final")
        return outcome

    def _merge_duckdb(self, duck: Any, was_empty: bool) -> BatchOutcome:
        table, key = f'"{self.table.name}"', f'"{self.key}"'
        names = ", ".join(f'"{name}"' for name in self.columns)
        if was_empty:  # the common first load: one INSERT … SELECT, nothing to compare
            duck.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM ingest_final")
            return BatchOutcome(self.to_load, 0, 0)
        identical = " AND ".join(f'f."{n}" IS NOT DISTINCT FROM t."{n}"' for n in self.columns)
        existing, same = duck.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {identical}) "
            f"FROM ingest_final f JOIN {table} t ON f.{key} = t.{key}"
        ).fetchone()
        if existing > same:
            duck.execute(f"DELETE FROM {table} t USING ingest_final f WHERE t.{key} = f.{key} AND NOT ({identical})")
        if self.to_load > same:
            duck.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM ingest_final f "
                f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.{key} = f.{key})"
            )
        return BatchOutcome(self.to_load - existing, existing - same, same)

    def _check_unique(self, duck: Any, was_empty: bool) -> None:
        """Raise (the caller rolls back) if an id of the import is in the table twice after the writes.

        DuckDB fact tables carry no primary-key index (``schema._keyed_on_this_engine``): the ids stay
        unique because the import's rows are unique (:meth:`find_duplicates`), the changed rows are
        deleted before they are inserted again, only absent ids are inserted, and imports into one
        database run one at a time (the DuckDB file admits one writing process; ``ingest`` serialises
        the loads of its own process). This check, inside the same transaction, is the guarantee.
        """
        table, key = f'"{self.table.name}"', f'"{self.key}"'
        # After a first load the table holds the import's rows only: group them all, no join needed.
        rows = f"{table} t" if was_empty else f"{table} t SEMI JOIN ingest_final f ON t.{key} = f.{key}"
        twice = duck.execute(f"SELECT t.{key} FROM {rows} GROUP BY t.{key} HAVING count(*) > 1 LIMIT 1").fetchone()
        if twice is not None:
            raise duckdb.ConstraintException(
                f"duplicate key: {self.key} {twice[0]!r} would be in {self.table.name} twice; nothing written"
            )

    def _finish_server(self, connection: sa.Connection, work: duckdb.DuckDBPyConnection) -> BatchOutcome:
        """PostgreSQL/MySQL: the rows to load, read by the work engine in batches, upserted via a temp table."""
        upsert = ServerUpsert(connection, self.table)
        totals = [0, 0, 0]
        try:
            reader = work.sql(self._final_rows()).to_arrow_reader(self.batch_rows)
            for record_batch in reader:
                frame = pl.from_arrow(record_batch)
                assert isinstance(frame, pl.DataFrame)
                outcome = upsert.write(frame)
                totals = [totals[0] + outcome.new, totals[1] + outcome.updated, totals[2] + outcome.unchanged]
            upsert.finish()
        finally:
            upsert.close()
        return BatchOutcome(*totals)


def bulk_insert(connection: sa.Connection, table: str, frame: pl.DataFrame) -> None:
    """Append a frame to a table of the open transaction, by the fastest path the driver has.

    psycopg (PostgreSQL): ``COPY … FROM STDIN`` as CSV. PyMySQL (MySQL, MariaDB and engines that
    speak it): multi-row INSERTs whose literals polars builds (:func:`insert_statements`). Others: the
    driver's ``executemany`` with plain tuples in slices, not SQLAlchemy's per-row binding.
    """
    names = ", ".join(f'"{name}"' if connection.dialect.name == "postgresql" else f"`{name}`" for name in frame.columns)
    cursor: Any = connection.connection.cursor()
    try:
        if connection.dialect.name == "postgresql" and hasattr(cursor, "copy"):
            # As CSV written by polars, a slice at a time: row by row in Python (``write_row``) cost
            # 21 µs a row. polars writes NULL as an empty field and an empty text as "", which is
            # exactly how PostgreSQL's CSV format tells them apart; times as ISO 8601, floats exact.
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT csv)") as copy:
                for part in frame.iter_slices(COPY_SLICE):
                    buffer = io.BytesIO()
                    part.write_csv(buffer, include_header=False)
                    copy.write(buffer.getvalue())
            return
        backslashes = _backslash_escapes(cursor)
        if backslashes is not None:
            for statement in insert_statements(table, names, frame, backslashes=backslashes):
                cursor.execute(statement)
            return
        marks = ", ".join(["%s"] * frame.width)
        statement = f"INSERT INTO {table} ({names}) VALUES ({marks})"
        for part in frame.iter_slices(INSERT_SLICE):
            cursor.executemany(statement, part.rows())
    finally:
        cursor.close()


def _backslash_escapes(cursor: Any) -> bool | None:
    """PyMySQL: whether the session reads backslashes in string literals as escapes (None: another driver)."""
    connection = getattr(cursor, "connection", None)
    status = getattr(connection, "server_status", None)
    if not isinstance(status, int) or type(connection).__module__.split(".")[0] != "pymysql":
        return None
    from pymysql.constants import SERVER_STATUS

    return not status & SERVER_STATUS.SERVER_STATUS_NO_BACKSLASH_ESCAPES


def _literal(expr: pl.Expr, dtype: pl.DataType, backslashes: bool) -> pl.Expr:
    """One column as MySQL literals: quoted and escaped text, numbers, 1/0, NULL."""
    if dtype == pl.Boolean():
        text = pl.when(expr).then(pl.lit("1")).otherwise(pl.lit("0"))
    elif isinstance(dtype, pl.Datetime):
        text = pl.lit("'") + expr.dt.strftime("%Y-%m-%d %H:%M:%S%.6f") + pl.lit("'")
    elif dtype == pl.Date():
        text = pl.lit("'") + expr.dt.strftime("%Y-%m-%d") + pl.lit("'")
    elif dtype.is_numeric():
        text = expr.cast(pl.String())
    else:
        escaped = expr.cast(pl.String())
        pairs = (("\\", "\\\\"), ("'", "\\'"), ("\x00", "\\0"), ("\n", "\\n"), ("\r", "\\r"), ("\x1a", "\\Z"))
        for old, new in pairs if backslashes else (("'", "''"),):
            escaped = escaped.str.replace_all(old, new, literal=True)
        text = pl.lit("'") + escaped + pl.lit("'")
    return pl.when(expr.is_null()).then(pl.lit("NULL")).otherwise(text)


def insert_statements(table: str, names: str, frame: pl.DataFrame, *, backslashes: bool) -> Iterator[str]:
    """Multi-row ``INSERT … VALUES`` texts of at most about ``STATEMENT_BYTES`` each, built by polars.

    PyMySQL's ``executemany`` escapes value by value in Python: 75 µs a row of the contract tables.
    Here each column is escaped at once (as PyMySQL does it: backslash escapes, or only doubled
    quotes when the server runs with NO_BACKSLASH_ESCAPES).
    """
    rows = frame.select(
        (
            pl.lit("(")
            + pl.concat_str([_literal(pl.col(c), frame.schema[c], backslashes) for c in frame.columns], separator=",")
            + pl.lit(")")
        ).alias("row")
    )
    rows = rows.with_columns(((pl.col("row").str.len_bytes() + 1).cum_sum() // STATEMENT_BYTES).alias("statement"))
    head = f"INSERT INTO {table} ({names}) VALUES "
    for part in rows.partition_by("statement", maintain_order=True):
        yield head + ",".join(part.get_column("row").to_list())


class ServerUpsert:
    """Upserts batches into a fact table of PostgreSQL/MySQL through one temporary table.

    Each statement names the temporary table once (MySQL cannot reopen a temporary table in one query).
    """

    def __init__(self, connection: sa.Connection, table: sa.Table) -> None:
        self.connection = connection
        self.table = table
        self.key = next(iter(table.primary_key.columns)).name
        copies = [sa.Column(column.name, column.type) for column in table.columns]
        self.batch = sa.Table("ingest_batch", sa.MetaData(), *copies, prefixes=["TEMPORARY"])
        self.batch.create(connection)
        first = connection.execute(sa.select(table.c[self.key]).limit(1)).first()
        self.target_was_empty = first is None  # then no batch needs comparing (duplicates are gone already)
        self.set_aside = self._set_indexes_aside()

    def _set_indexes_aside(self) -> list[sa.Index]:
        """PostgreSQL, empty table: drop its secondary indexes for the load, rebuilt by :meth:`finish`.

        Building an index once over the loaded rows beats growing it row by row: 200,000 rows took
        6.4 s to COPY into the indexed table, 1.5 s without its four secondary indexes plus 0.9 s to
        build them. Inside the load's transaction (PostgreSQL's DDL is transactional: a failed load
        gets its indexes back). The table stays locked until the commit, so only an empty table —
        nothing the cockpit could show yet — is loaded this way. MySQL commits on DDL: never there.
        """
        if not self.target_was_empty or self.connection.dialect.name != "postgresql":
            return []
        present = {found["name"] for found in sa.inspect(self.connection).get_indexes(self.table.name)}
        aside = [index for index in self.table.indexes if index.name in present]
        for index in aside:
            self.connection.execute(sa.schema.DropIndex(index))
        return aside

    def finish(self) -> None:
        """After the last batch: rebuild the indexes set aside (the load's rows all in)."""
        for index in self.set_aside:
            self.connection.execute(sa.schema.CreateIndex(index))
        self.set_aside = []

    def write(self, frame: pl.DataFrame) -> BatchOutcome:
        c, t, b, key = self.connection, self.table, self.batch, self.key
        names = [column.name for column in t.columns]
        if self.target_was_empty:  # nothing to compare or replace (the duplicates are gone): straight in
            bulk_insert(c, t.name, frame.select(names))
            return BatchOutcome(frame.height, 0, 0)
        bulk_insert(c, b.name, frame.select(names))
        identical = sa.and_(*[t.c[name].is_not_distinct_from(b.c[name]) for name in names])
        found = c.execute(
            sa.select(sa.func.count(), sa.func.sum(sa.case((identical, 1), else_=0))).select_from(
                b.join(t, b.c[key] == t.c[key])
            )
        ).one()
        existing, same = int(found[0] or 0), int(found[1] or 0)
        if same < frame.height:  # something to write: replace the present rows, insert the batch
            if existing:
                c.execute(t.delete().where(t.c[key].in_(sa.select(b.c[key]))))
            c.execute(t.insert().from_select(names, sa.select(*[b.c[name] for name in names])))
        c.execute(b.delete())
        return BatchOutcome(frame.height - existing, existing - same, same)

    def close(self) -> None:
        # MySQL commits the open transaction on a plain DROP TABLE; DROP TEMPORARY TABLE does not.
        if self.connection.dialect.name in ("mysql", "mariadb"):
            self.connection.execute(sa.text(f"DROP TEMPORARY TABLE {self.batch.name}"))
        else:
            self.batch.drop(self.connection)
