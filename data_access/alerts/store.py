"""The early warning's store: the ``alerts`` and ``alert_runs`` tables, written by a job, read by the pages.

Computing the alerts takes seconds at city scale (about 30 s on a cold wall), far too long for a
viewer's request, and the answer changes only with the data. So a job (``data_access.alerts.refresh``,
run by the app's background thread, the demo build, an import and ``python -m data_access.alerts
--refresh``) computes one *set* per scope and as-of time and stores it here; pages read it back in
milliseconds (``DataSession.alerts``).

A set is identified by its scope (the canonical text of :func:`scope_key`, hashed into ``scope_id``
so that long scopes still make a short key on every engine) and its as-of time, and it records the
data version it was computed for: a reader only takes a set of the version it reads, so after an
import nobody sees alerts of the old data. A set is replaced whole, in one transaction (run row
first: it serialises two writers of the same set on every engine), so a reader sees the old set or
the new one, never half of one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import polars as pl
import sqlalchemy as sa

from data_access.alerts.schema import ALERT_SCHEMA
from data_access.contract import schema
from data_access.runtime.engine import database_reason
from data_access.security.access import describe_scope
from data_access.semantic.query import Scope

log = logging.getLogger(__name__)
T = TypeVar("T")

CITY_WIDE = "all"  # the scope key of the whole city
NO_VERSION = "-"  # the version of a database no cockpit load has stamped (no ``cockpit_meta.data_version``)
# How often a write is tried when another writer holds the set or the database (DuckDB lets one process
# write a file; two transactions writing one set conflict on every engine), and the first pause between tries.
WRITE_TRIES = 8
FIRST_PAUSE_SECONDS = 0.2


@dataclass(frozen=True)
class AlertSet:
    """The alerts of one scope at one as-of time. ``ready`` False: not computed yet for this data version
    (the job has been asked), so an empty frame means "being computed", not "no alerts". A set that is
    not ready may still carry the scope's newest stored set of older data (``previous_as_of`` says which
    as-of time): after an import the pages keep showing it, marked as being updated, instead of nothing."""

    frame: pl.DataFrame
    ready: bool
    computed_at: dt.datetime | None = None
    previous_as_of: dt.datetime | None = None

    @classmethod
    def pending(cls) -> AlertSet:
        return cls(pl.DataFrame(schema=ALERT_SCHEMA), ready=False)

    @classmethod
    def empty(cls) -> AlertSet:
        """Nothing to show and nothing to wait for (no records yet, or a scope that sees nothing)."""
        return cls(pl.DataFrame(schema=ALERT_SCHEMA), ready=True)


@dataclass(frozen=True)
class StoredRun:
    """One ``alert_runs`` row: which set is stored, for which data version, and what it cost."""

    scope_key: str
    as_of: dt.datetime
    data_version: str
    computed_at: dt.datetime
    seconds: float
    alert_count: int


# ---- keys -----------------------------------------------------------------------------------------


def scope_key(scope: Scope) -> str:
    """``all`` for the whole city, else ``department=A,B``, ``region=X`` or both (sorted codes): one text per
    scope, spelt as the audit trail spells it (``describe_scope``)."""
    return CITY_WIDE if scope.unrestricted else describe_scope(scope)


def scope_from_key(key: str) -> Scope:
    """The scope a key names (the inverse of :func:`scope_key`)."""
    if key == CITY_WIDE:
        return Scope()
    found: dict[str, frozenset[str]] = {}
    for part in key.split(" "):
        name, _, codes = part.partition("=")
        found[name] = frozenset(code for code in codes.split(",") if code)
    return Scope(departments=found.get("department"), regions=found.get("region"))


def scope_id(key: str) -> str:
    """A short fixed-length id of a scope key (the table's key column: a scope may list many codes)."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


def as_of_key(as_of: dt.datetime) -> dt.datetime:
    """The as-of time as stored: whole seconds (MySQL's DATETIME keeps no fraction), naive."""
    return as_of.replace(microsecond=0, tzinfo=None)


def version_text(version: str | None) -> str:
    return version or NO_VERSION


def sees_nothing(scope: Scope) -> bool:
    """A scope with an empty list (a signed-out viewer): it has no alerts, and nothing to compute."""
    return scope.departments == frozenset() or scope.regions == frozenset()


# ---- tables ---------------------------------------------------------------------------------------

STORE_TABLES: tuple[sa.Table, ...] = (schema.alert_runs, schema.alerts)


def ensure_tables(engine: sa.Engine) -> None:
    """Create the two tables where missing (a database made before the store existed), and ``cockpit_meta``,
    whose data version every write checks (a database loaded by the city's platform may lack it)."""
    tables = [*STORE_TABLES, schema.cockpit_meta]
    schema.metadata.create_all(engine, tables=tables, checkfirst=True)


def has_tables(engine: sa.Engine) -> bool:
    """Whether the store's tables exist (a database the job has never run on has none)."""
    inspector = sa.inspect(engine)
    return all(inspector.has_table(table.name) for table in STORE_TABLES)


# ---- reading --------------------------------------------------------------------------------------


def _stored_rows(engine: sa.Engine, statement: sa.Select[Any]) -> list[tuple[Any, ...]] | None:
    """The rows of a read of the store, or None when its tables do not exist (the job never ran here)."""
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(statement)]
    except sa.exc.DBAPIError:
        if not has_tables(engine):
            return None
        raise


@dataclass(frozen=True)
class _StoredSet:
    as_of: dt.datetime
    data_version: str
    computed_at: dt.datetime
    frame: pl.DataFrame


def _read_stored_set(engine: sa.Engine, run: sa.Select[Any]) -> _StoredSet | None:
    """The set of the one ``alert_runs`` row ``run`` selects (its scope_id, as_of, data_version and
    computed_at), with its alerts in order; None when there is no such row.

    One statement (the run row joined to its alerts), so it sees one committed state on every engine
    even while a writer replaces the set.
    """
    alerts = schema.alerts.c
    chosen = run.subquery("run")
    joined = chosen.outerjoin(
        schema.alerts,
        sa.and_(
            alerts.scope_id == chosen.c.scope_id,
            alerts.as_of == chosen.c.as_of,
            alerts.data_version == chosen.c.data_version,
        ),
    )
    columns = [getattr(alerts, name) for name in ALERT_SCHEMA]
    statement = (
        sa.select(chosen.c.as_of, chosen.c.data_version, chosen.c.computed_at, *columns)
        .select_from(joined)
        .order_by(alerts.position)
    )
    rows = _stored_rows(engine, statement)
    if not rows:
        return None
    found = [row[3:] for row in rows if row[3] is not None]  # an empty set is one run row joined to nothing
    frame = pl.DataFrame(found, schema=ALERT_SCHEMA, orient="row")
    return _StoredSet(as_of=rows[0][0], data_version=rows[0][1], computed_at=rows[0][2], frame=frame)


def _runs_of(scope: Scope) -> sa.Select[Any]:
    runs = schema.alert_runs.c
    return sa.select(runs.scope_id, runs.as_of, runs.data_version, runs.computed_at).where(
        runs.scope_id == scope_id(scope_key(scope))
    )


def read_set(engine: sa.Engine, scope: Scope, as_of: dt.datetime, version: str | None) -> AlertSet | None:
    """The stored set of ``scope`` at ``as_of`` if it was computed for ``version``; None when there is none."""
    run = _runs_of(scope).where(schema.alert_runs.c.as_of == as_of_key(as_of))
    found = _read_stored_set(engine, run)
    if found is None or found.data_version != version_text(version):
        return None
    return AlertSet(found.frame, ready=True, computed_at=found.computed_at)


def read_previous(engine: sa.Engine, scope: Scope) -> AlertSet | None:
    """The newest set stored for ``scope``, whatever its as-of time and data version, marked not ready;
    None when the scope has none. What a page shows while the job computes the set of new data: the
    refresh prunes the old sets only once it has stored the new ones, so between an import's commit
    and that refresh the previous set is still here."""
    runs = schema.alert_runs.c
    found = _read_stored_set(engine, _runs_of(scope).order_by(runs.as_of.desc(), runs.computed_at.desc()).limit(1))
    if found is None:
        return None
    return AlertSet(found.frame, ready=False, computed_at=found.computed_at, previous_as_of=found.as_of)


def stored_run(engine: sa.Engine, key: str, as_of: dt.datetime) -> StoredRun | None:
    """The ``alert_runs`` row of one set, if any."""
    runs = schema.alert_runs.c
    statement = sa.select(schema.alert_runs).where(runs.scope_id == scope_id(key), runs.as_of == as_of_key(as_of))
    with engine.connect() as connection:
        row = connection.execute(statement).mappings().first()
    return None if row is None else _run(row)


def stored_runs(engine: sa.Engine) -> list[StoredRun]:
    """Every stored set's run row (for the command line and the tests), by scope and as-of time."""
    runs = schema.alert_runs.c
    with engine.connect() as connection:
        rows = connection.execute(sa.select(schema.alert_runs).order_by(runs.scope_key, runs.as_of)).mappings()
        return [_run(row) for row in rows]


def _run(row: sa.RowMapping) -> StoredRun:
    return StoredRun(
        scope_key=row["scope_key"],
        as_of=row["as_of"],
        data_version=row["data_version"],
        computed_at=row["computed_at"],
        seconds=float(row["seconds"]),
        alert_count=int(row["alert_count"]),
    )


def within_scope(frame: pl.DataFrame, scope: Scope, visible_regions: frozenset[str] | None) -> pl.DataFrame:
    """A safety net on read: drop any alert naming a department or region outside the scope.

    The stored set was computed in this scope, so this drops nothing unless a set was stored under the
    wrong key; a region is visible when the viewer may see it named (theirs, below or above).
    """
    kept = frame
    if scope.departments is not None:
        kept = kept.filter(pl.col("department").is_null() | pl.col("department").is_in(sorted(scope.departments)))
    if visible_regions is not None:
        kept = kept.filter(pl.col("region_code").is_null() | pl.col("region_code").is_in(sorted(visible_regions)))
    return kept


# ---- writing --------------------------------------------------------------------------------------


def write_set(
    engine: sa.Engine, scope: Scope, as_of: dt.datetime, version: str | None, frame: pl.DataFrame, seconds: float
) -> bool:
    """Replace the stored set of ``scope`` at ``as_of`` with ``frame``, computed for ``version``, atomically.

    Returns False (nothing written) when the database has moved on to another data version meanwhile:
    the set is already out of date and would only replace a newer one. Retries when another writer
    holds the set or the database (see ``WRITE_TRIES``), and stops early once another writer has stored
    this very version.
    """
    key = scope_key(scope)
    run_row = {
        "scope_id": scope_id(key),
        "as_of": as_of_key(as_of),
        "scope_key": key,
        "data_version": version_text(version),
        "computed_at": dt.datetime.now().replace(microsecond=0),
        "seconds": float(seconds),
        "alert_count": frame.height,
    }
    rows = [
        {"scope_id": run_row["scope_id"], "as_of": run_row["as_of"], "data_version": run_row["data_version"]}
        | {"position": position}
        | record
        for position, record in enumerate(frame.select(list(ALERT_SCHEMA)).to_dicts())
    ]

    def replace(connection: sa.Connection) -> bool:
        if version_text(_current_version(connection)) != run_row["data_version"]:
            return False
        runs, alerts = schema.alert_runs.c, schema.alerts.c
        # The run row first: a second writer of the same set waits on it (or fails and retries) here.
        connection.execute(
            schema.alert_runs.delete().where(runs.scope_id == run_row["scope_id"], runs.as_of == run_row["as_of"])
        )
        connection.execute(schema.alert_runs.insert(), [run_row])
        connection.execute(
            schema.alerts.delete().where(alerts.scope_id == run_row["scope_id"], alerts.as_of == run_row["as_of"])
        )
        if rows:
            connection.execute(schema.alerts.insert(), rows)
        return True

    def done_by_another() -> bool | None:
        found = stored_run(engine, key, as_of)
        return True if found is not None and found.data_version == run_row["data_version"] else None

    return retrying(engine, replace, done_by_another)


def prune(engine: sa.Engine, version: str | None) -> int:
    """Delete the sets of other data versions (no reader takes them any more); returns how many."""
    runs, alerts = schema.alert_runs.c, schema.alerts.c
    current = version_text(version)

    def delete(connection: sa.Connection) -> int:
        gone = connection.execute(schema.alert_runs.delete().where(runs.data_version != current)).rowcount
        connection.execute(schema.alerts.delete().where(alerts.data_version != current))
        return max(int(gone or 0), 0)

    return retrying(engine, delete, lambda: None)


def retrying(engine: sa.Engine, work: Callable[[sa.Connection], T], settled: Callable[[], T | None]) -> T:
    """``work`` in one transaction, tried again after a database error while another writer holds the rows
    or the file, with growing pauses. After a failure, ``settled()`` says whether another writer has done
    the work meanwhile (its answer is returned) or not (None: try again)."""
    pause = FIRST_PAUSE_SECONDS
    for attempt in range(1, WRITE_TRIES + 1):
        try:
            with engine.begin() as connection:
                return work(connection)
        except sa.exc.DBAPIError as exc:
            if attempt == WRITE_TRIES:
                raise
            reason = database_reason(exc)
            log.info("alert store: try %d failed (%s); trying again in %.1f s", attempt, reason, pause)
            time.sleep(pause)
            pause = min(pause * 2, 5.0)
            try:
                answer = settled()
            except sa.exc.DBAPIError:
                answer = None  # the database is still held: try again
            if answer is not None:
                return answer
    raise AssertionError("unreachable")


def _current_version(connection: sa.Connection) -> str | None:
    meta = schema.cockpit_meta.c
    found = connection.execute(sa.select(meta.value).where(meta.key == "data_version")).scalar_one_or_none()
    return None if found is None else str(found)
