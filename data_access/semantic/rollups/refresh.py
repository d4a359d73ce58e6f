"""Aggregates the cockpit reads instead of scanning fact tables: daily rollups and open-item copies.

At ten million rows a year a month-long KPI scans close to a million rows, and a snapshot metric
("overdue open") scans every row ever received; PostgreSQL needs seconds for that. So the metric
layer keeps, per fact table:

* **daily rollups** — per day × the dimensions a ``RollupSpec`` of the table's semantic model keeps
  (``data_access.semantic.model``), one count column per row condition a metric counts (derived
  from the metric registry in ``rollups.measures``, so a new count metric is rolled up without
  code; the tables themselves are in ``rollups.tables``); the router (``rollups.routing``) answers
  a request from the smallest rollup whose columns cover its dimensions, filters and scope, and
  reads only the partial first and last days from the facts;
* **open items** — the rows whose workflow is not finished (a copy of the fact rows with the
  snapshot metrics' "not done" column unset): overdue-open metrics are judged on these only.

Both are exact only while the facts are unchanged since the refresh and only for as-of times at or
after the latest timestamp the facts held then (the *watermark*): "done by the as-of time" then
means "done at all". Requests that need anything else are compiled on the facts as before.
Everything that writes facts (the demo generator, ``data_access.ingest.pipeline``) refreshes them in the same
transaction; a city whose own ETL writes the fact tables runs ``python -m data_access.semantic.rollups``.
This module rebuilds them and reads their state (``read_state``) for the router.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from data_access.contract import schema
from data_access.contract.staging import unordered_inserts
from data_access.runtime.cache import ResultCache
from data_access.semantic.compiler import compiled_sql, driver_params
from data_access.semantic.dialects import time_bucket
from data_access.semantic.metric_defs import Cond
from data_access.semantic.model import MODELS, time_column
from data_access.semantic.rollups.measures import live_condition, live_sql, open_columns, rollup_conditions
from data_access.semantic.rollups.tables import (
    GROUPS,
    OPEN_TABLES,
    ROLLUP_METADATA,
    ROLLUPS,
    ROLLUPS_BY_NAME,
    aggregate_tables,
    rollup_state,
    timestamp_columns,
)

# PostgreSQL's memory per hash aggregate during a refresh: with the default 4 MB a street rollup of
# 2M facts sorted instead (7.9 s against 6.7 s). Set for the refresh's transaction only.
POSTGRES_REFRESH_WORK_MEM = "128MB"
# MySQL/MariaDB: the refresh's in-memory temporary tables (``_mysql_temp_tables``).
MYSQL_REFRESH_TEMP_BYTES = 256 << 20
STAGE_TABLE = "rollup_stage"  # PostgreSQL: a rollup's rows before they are inserted (``_insert_staged``)


# ---- refresh -----------------------------------------------------------------------------------


def _count_case(fact: sa.Table, where: Cond | None) -> sa.ColumnElement[Any]:
    if where is None:
        return sa.func.count()
    live = live_condition(where)
    assert live is not None
    return sa.func.count(sa.case((live_sql(fact, live), 1), else_=None))


def _rollup_source(table: sa.Table) -> sa.Select[Any]:
    """The rows of a rollup: from its parent rollup (summed) when it has one, else from the facts."""
    names = list(rollup_conditions(table.info["fact"]))
    if table.info["parent"] is not None:
        parent = ROLLUPS_BY_NAME[table.info["parent"]]
        dims = [parent.c[column.name] for column in table.columns if column.name not in ("day", *names)]
        sums = [sa.cast(sa.func.sum(parent.c[name]), sa.BigInteger).label(name) for name in names]
        return sa.select(parent.c.day, *dims, *sums).group_by(parent.c.day, *dims)
    fact = MODELS[table.info["fact"]].table
    day = sa.cast(time_bucket("day", time_column(fact)), sa.DateTime)
    dims = [fact.c[column.name] for column in table.columns if column.name in fact.c]
    counts = [_count_case(fact, where).label(name) for name, where in rollup_conditions(fact.name).items()]
    return sa.select(day.label("day"), *dims, *counts).group_by(day, *dims)


def _refresh_rollup(connection: sa.Connection, table: sa.Table) -> None:
    select = _rollup_source(table)
    connection.execute(table.delete())
    if connection.dialect.name == "postgresql" and table.info["parent"] is None:
        _insert_staged(connection, table, select)
    else:
        connection.execute(table.insert().from_select([c.name for c in table.columns], select))
    groups = GROUPS[table.name]
    keys = [table.c[c.name] for c in groups.columns if c.name != "day"]
    connection.execute(groups.delete())
    first = sa.select(sa.func.min(table.c.day).label("day"), *keys).group_by(*keys)
    connection.execute(groups.insert().from_select(["day", *(k.name for k in keys)], first))


def _insert_staged(connection: sa.Connection, table: sa.Table, select: sa.Select[Any]) -> None:
    """PostgreSQL: aggregate the facts with ``CREATE TABLE AS`` (parallel workers), then insert the result.

    PostgreSQL never plans parallel workers for ``INSERT … SELECT``; it does for ``CREATE TABLE AS``.
    With 2M facts one street rollup took 6.7 s inserted directly, 4.4 s staged (128,000 rows).
    """
    sql, params = compiled_sql(select, connection.dialect)
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {STAGE_TABLE} ON COMMIT DROP AS {sql}",
        driver_params(connection.dialect, params),
    )
    names = ", ".join(f'"{column.name}"' for column in table.columns)
    connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM {STAGE_TABLE}')
    connection.exec_driver_sql(f"DROP TABLE {STAGE_TABLE}")


def _refresh_open(connection: sa.Connection, fact: sa.Table, table: sa.Table) -> None:
    open_rows = sa.or_(*(fact.c[name].is_(None) for name in open_columns(fact.name)))
    connection.execute(table.delete())
    names = [column.name for column in fact.columns]
    connection.execute(table.insert().from_select(names, sa.select(*fact.columns).where(open_rows)))


def refresh_rollups(connection: sa.Connection, facts: Iterable[str] | None = None) -> dict[str, int]:
    """Rebuild the rollups and open items of ``facts`` (default: every fact table) in the caller's transaction.

    A full rebuild per table: simple and exact. Returns the row count of each rebuilt table.
    """
    chosen = [MODELS[name].table for name in (MODELS if facts is None else facts)]
    ROLLUP_METADATA.create_all(connection, checkfirst=True)
    if connection.dialect.name == "postgresql":  # for this transaction only: hash aggregates, not sorts
        connection.exec_driver_sql(f"SET LOCAL work_mem = '{POSTGRES_REFRESH_WORK_MEM}'")
    if connection.dialect.name in ("mysql", "mariadb"):
        with _mysql_temp_tables(connection):
            return _refresh(connection, chosen)
    if connection.dialect.name != "duckdb":
        return _refresh(connection, chosen)
    with unordered_inserts(connection.connection.driver_connection):
        return _refresh(connection, chosen)


@contextlib.contextmanager
def _mysql_temp_tables(connection: sa.Connection) -> Iterator[None]:
    """MySQL/MariaDB: room for the refresh's GROUP BY temporary tables in memory; restored after.

    With the default 16 MB they go to disk: a street rollup of 2M facts took 54 s on MariaDB 10.11,
    15.5 s with 256 MB. Session settings outlive the transaction (and the pooled connection keeps
    them), hence the restore; never lowered.
    """
    names = ("tmp_table_size", "max_heap_table_size")
    before = connection.exec_driver_sql("SELECT " + ", ".join(f"@@session.{n}" for n in names)).one()
    raised = [name for name, value in zip(names, before, strict=True) if int(value) < MYSQL_REFRESH_TEMP_BYTES]
    for name in raised:
        connection.exec_driver_sql(f"SET SESSION {name} = {MYSQL_REFRESH_TEMP_BYTES}")
    try:
        yield
    finally:
        for name, value in zip(names, before, strict=True):
            if name in raised:
                connection.exec_driver_sql(f"SET SESSION {name} = {int(value)}")


def _refresh(connection: sa.Connection, chosen: list[sa.Table]) -> dict[str, int]:
    names = {fact.name for fact in chosen}
    rebuilt = [table for table in ROLLUPS if table.info["fact"] in names]
    # parents before the rollups summed from them
    for table in sorted(rebuilt, key=lambda t: t.info["parent"] is not None):
        _refresh_rollup(connection, table)
    for name, table in OPEN_TABLES.items():
        if name in names:
            _refresh_open(connection, MODELS[name].table, table)
            rebuilt.append(table)
    connection.execute(rollup_state.delete().where(rollup_state.c.fact.in_(sorted(names))))
    now = dt.datetime.now().replace(microsecond=0)
    for fact in chosen:
        # One scan for every timestamp column's maximum (portable: MySQL's GREATEST is NULL on any NULL).
        maxima = connection.execute(sa.select(*(sa.func.max(c) for c in timestamp_columns(fact)))).one()
        present = [value for value in (_as_datetime(v) for v in maxima) if value is not None]
        watermark_value = max(present) if present else None
        rows = connection.execute(sa.select(sa.func.count()).select_from(fact)).scalar_one()
        connection.execute(
            rollup_state.insert().values(fact=fact.name, watermark=watermark_value, fact_rows=rows, refreshed_at=now)
        )
    STATES.clear()
    return {
        table.name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() for table in rebuilt
    }


def invalidate_rollups(connection: sa.Connection) -> None:
    """Forget the refresh state before facts are rewritten: until the next refresh, queries read the facts."""
    if sa.inspect(connection).has_table(rollup_state.name):
        connection.execute(rollup_state.delete())
    STATES.clear()


# ---- what the router needs to know ---------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RollupState:
    """The refreshed aggregates of one database: watermark per fact table, level of each region code.

    Compared and hashed by value (a key of the compiled SQL): re-reading an unchanged state, as every
    cold render does once the state's minute is up, must find the SQL already compiled.
    """

    watermarks: dict[str, dt.datetime | None]
    region_levels: dict[str, str]

    @functools.cached_property
    def _key(self) -> tuple[tuple[tuple[str, dt.datetime | None], ...], tuple[tuple[str, str], ...]]:
        return tuple(sorted(self.watermarks.items())), tuple(sorted(self.region_levels.items()))

    @functools.cached_property
    def _hash(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, RollupState) and self._key == other._key)

    def __hash__(self) -> int:
        return self._hash


STATES: ResultCache[RollupState | None] = ResultCache(ttl_seconds=60)


def read_state(engine: sa.Engine) -> RollupState | None:
    """The database's rollup state (cached a minute), or None when it has no refreshed rollups."""
    key = engine.url.render_as_string(hide_password=False)
    return STATES.get_or_load(key, lambda: _interned(_load_state(engine)))


_SEEN: dict[RollupState, RollupState] = {}


def _interned(state: RollupState | None) -> RollupState | None:
    """The state object read before when nothing changed: cache lookups keyed on it then compare identity."""
    if state is None:
        return None
    if len(_SEEN) > 64:  # refreshes and databases come and go; a few states are live at once
        _SEEN.clear()
    return _SEEN.setdefault(state, state)


def _load_state(engine: sa.Engine) -> RollupState | None:
    with engine.connect() as connection:
        present = set(sa.inspect(connection).get_table_names())
        if rollup_state.name not in present:
            return None
        rows = connection.execute(sa.select(rollup_state.c.fact, rollup_state.c.watermark)).all()
        r = schema.regions.c
        levels = {str(code): str(level) for code, level in connection.execute(sa.select(r.code, r.level))}
    # A table refreshed by an earlier release lacks the aggregates added since: it reads the facts
    # until the next refresh (``python -m data_access.semantic.rollups``) builds them.
    watermarks = {str(fact): _as_datetime(value) for fact, value in rows if aggregate_tables(str(fact)) <= present}
    if not watermarks:
        return None
    return RollupState(watermarks=watermarks, region_levels=levels)


def _as_datetime(value: object) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def main(argv: list[str] | None = None) -> int:
    from data_access.runtime.engine import get_engine

    parser = argparse.ArgumentParser(
        prog="python -m data_access.semantic.rollups",
        description="Rebuild the cockpit's daily rollups and open-items tables from the fact tables.",
    )
    parser.add_argument("--url", help="database URL (default: COCKPIT_DATABASE_URL, secrets, or the embedded DuckDB)")
    args = parser.parse_args(argv)
    engine = get_engine(args.url)
    with engine.begin() as connection:
        counts = refresh_rollups(connection)
    for name, count in counts.items():
        print(f"{name}: {count:,} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
