"""Appending rows to a table inside the caller's open transaction, by the fastest path each engine has.

:func:`bulk_insert` appends a frame (PostgreSQL's ``COPY``, MySQL's multi-row INSERTs built by polars,
the driver's ``executemany`` elsewhere); :func:`upsert_rows` inserts or replaces small dimension rows by
primary key. Both writers of contract rows use them: the import (``data_access.contract.writer``) and
the demo (``data_access.contract.replace``).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa

from data_access.contract.staging import append_frame, polars_types

INSERT_SLICE = 5_000  # rows per executemany (drivers other than psycopg and PyMySQL)
STATEMENT_BYTES = 1 << 20  # MySQL: size of one multi-row INSERT (max_allowed_packet is 4 MB or more)
COPY_SLICE = 50_000  # rows per CSV chunk sent to PostgreSQL's COPY


def upsert_rows(connection: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert or replace small dimension rows by primary key; returns how many were new or changed."""
    if not rows:
        return 0
    key = next(iter(table.primary_key.columns)).name
    rows = list({row[key]: row for row in rows}.values())
    wanted = [{column.name: row.get(column.name) for column in table.columns} for row in rows]
    # Dimension tables are small (thousands of regions): one read of the whole table beats keyed lookups.
    existing = {found[key]: dict(found) for found in connection.execute(sa.select(table)).mappings()}
    changed = [row for row in wanted if existing.get(row[key]) != row]
    stale = [row[key] for row in changed if row[key] in existing]
    for start in range(0, len(stale), 1000):
        connection.execute(table.delete().where(table.c[key].in_(stale[start : start + 1000])))
    if changed and connection.dialect.name == "duckdb":  # executemany is slow on DuckDB: go through Arrow
        frame = pl.DataFrame(changed, schema=polars_types(table), orient="row")
        append_frame(connection.connection.driver_connection, table.name, frame)
    elif changed:
        connection.execute(table.insert(), changed)
    return len(changed)


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
