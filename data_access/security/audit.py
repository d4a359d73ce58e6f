"""The audit trail (留痕审计): one append-only table of who did what, when, on which page, with which filters.

Actions: ``view`` (a page read data), ``export`` (a download), ``login``, ``login_failed``,
``logout``, ``user_change`` (an account, role, scope, grant or device token changed) and
``token_use`` (a wall screen signed in with its device token). This module only ever INSERTs and
SELECTs: nothing in the cockpit updates or deletes an audit row (``tests/test_audit.py`` checks the
source for it), and the deployment can enforce the same with grants (docs/security.md).

``python -m data_access.security.audit [--url URL] [--since D] [--until D] [--user NAME] [--action A]
[--format table|csv]``
prints or exports the trail from a shell; the export is itself recorded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import sqlalchemy as sa

from data_access.contract import schema
from data_access.runtime import engine as db
from data_access.security.access import local_now
from data_access.semantic.query import MetricRequest

ACTIONS: tuple[str, ...] = schema.AUDIT_ACTIONS
COLUMNS: tuple[str, ...] = tuple(column.name for column in schema.audit_log.columns)
SEARCH_LIMIT = 10_000
_LENGTHS = {
    column.name: column.type.length
    for column in schema.audit_log.columns
    if isinstance(column.type, sa.String) and not isinstance(column.type, sa.Text) and column.type.length
}
_ready: set[str] = set()
_ready_lock = threading.Lock()


class AuditProblem(ValueError):
    """An audit row that cannot be written as asked (unknown action)."""


def table_exists(connection: sa.Connection, name: str) -> bool:
    """Whether ``name`` is a table of the current schema (information_schema: shared by all three engines)."""
    current = "DATABASE()" if connection.dialect.name in ("mysql", "mariadb") else "current_schema()"
    statement = sa.text(
        f"SELECT count(*) FROM information_schema.tables WHERE table_schema = {current} AND table_name = :name"
    )
    return bool(connection.execute(statement, {"name": name}).scalar_one())


def ensure_audit_table(engine: sa.Engine) -> None:
    """Create ``cockpit_audit`` when missing (checked once per process and database)."""
    key = engine.url.render_as_string(hide_password=False)
    if key in _ready:
        return
    schema.metadata.create_all(engine, tables=[schema.audit_log], checkfirst=True)
    with _ready_lock:
        _ready.add(key)


def _text(value: Mapping[str, Any] | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _fit(name: str, value: str | None) -> str | None:
    limit = _LENGTHS.get(name)
    return value[:limit] if value is not None and limit else value


def audit_row(
    action: str,
    *,
    user: str | None = None,
    role: str | None = None,
    page: str | None = None,
    filters: Mapping[str, Any] | str | None = None,
    rows: int | None = None,
    detail: Mapping[str, Any] | str | None = None,
    session_id: str | None = None,
    client: str | None = None,
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The row ``record`` inserts: JSON for filters and detail, strings cut to their column's length."""
    if action not in ACTIONS:
        raise AuditProblem(f"unknown audit action {action!r} (known: {', '.join(ACTIONS)})")
    row: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "occurred_at": at or local_now(),
        "user_name": user,
        "role": role,
        "action": action,
        "page": page,
        "filters": _text(filters),
        "row_count": rows,
        "detail": _text(detail),
        "session_id": session_id,
        "client": client,
    }
    return {key: _fit(key, value) if isinstance(value, str) else value for key, value in row.items()}


def record(engine: sa.Engine, action: str, **fields: Any) -> str:
    """Append one audit row (creating the table on first use); returns its id."""
    row = audit_row(action, **fields)
    ensure_audit_table(engine)
    with engine.begin() as connection:
        connection.execute(schema.audit_log.insert(), [row])
    return str(row["id"])


def record_in(connection: sa.Connection, action: str, **fields: Any) -> str:
    """Append one audit row inside the caller's transaction (the change and its trace commit together)."""
    row = audit_row(action, **fields)
    connection.execute(schema.audit_log.insert(), [row])
    return str(row["id"])


@dataclass
class ViewLog:
    """What one page run or one command read: filters, dimensions, the time span covered and the rows.

    The data session counts every answered read here; when the page run or the command ends, the
    log becomes ONE ``view`` (or ``export``) row, so a page of thirty panels is one line of the trail.
    """

    page: str
    open: bool = True
    filters: dict[str, set[str]] = field(default_factory=dict)
    dimensions: set[str] = field(default_factory=set)
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    rows: int = 0
    reads: int = 0
    unmasked: bool = False

    def note(self, request: MetricRequest, rows: int, *, unmasked: bool = False) -> None:
        """Count one answered request; ``unmasked``: detail rows were read with personal data in clear."""
        self.unmasked = self.unmasked or unmasked
        for item in request.filters:
            self.filters.setdefault(item.dimension, set()).update(item.values)
        self.dimensions.update(request.dimensions)
        if request.time_range is not None:
            self.start = min(filter(None, (self.start, request.time_range.start)))
            self.end = max(filter(None, (self.end, request.time_range.end)))
        self.rows += rows
        self.reads += 1

    def note_rows(self, filters: Mapping[str, Any], rows: int) -> None:
        """Count rows read outside the metric layer (the audit page's search)."""
        for key, value in filters.items():
            if value not in (None, "", [], ()):
                values = value if isinstance(value, list | tuple | set) else [value]
                self.filters.setdefault(key, set()).update(str(item) for item in values)
        self.rows += rows
        self.reads += 1

    def summary(self) -> dict[str, Any]:
        """The filters as the trail records them: sorted values, the dimensions, the time span."""
        found: dict[str, Any] = {key: sorted(values) for key, values in sorted(self.filters.items())}
        if self.dimensions:
            found["by"] = sorted(self.dimensions)
        if self.start is not None and self.end is not None:
            found["time"] = [f"{self.start:%Y-%m-%d %H:%M}", f"{self.end:%Y-%m-%d %H:%M}"]
        return found

    def key(self) -> str:
        """Identity of the view for the repeat window: the page and what it showed, the day not the minute."""
        summary = self.summary()
        if "time" in summary:  # the same view as the data's as-of time moves on within a day
            summary["time"] = [value[:10] for value in summary["time"]]
        return json.dumps([self.page, summary], ensure_ascii=False, sort_keys=True)


def record_view(
    engine: sa.Engine,
    log: ViewLog,
    *,
    user: str | None,
    role: str | None,
    scope: str,
    action: str = "view",
    session_id: str | None = None,
    client: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> str | None:
    """The audit row of one finished view or command (none when it read nothing); returns its id."""
    log.open = False
    if log.reads == 0:
        return None
    return record(
        engine,
        action,
        user=user,
        role=role,
        page=log.page,
        filters=log.summary(),
        rows=log.rows,
        detail={"scope": scope, **({"unmasked": True} if log.unmasked else {}), **(detail or {})},
        session_id=session_id,
        client=client,
    )


def command_user() -> str:
    """Who ran a command-line entry point, as the trail names them (``cli:<login>``)."""
    return f"cli:{getpass.getuser()}"


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(
    engine: sa.Engine,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    user: str | None = None,
    actions: Sequence[str] = (),
    page: str | None = None,
    text: str | None = None,
    limit: int = SEARCH_LIMIT,
) -> pl.DataFrame:
    """Audit rows in [since, until), newest first; every argument narrows (all values are bound parameters).

    ``text`` is looked for in the filters and the detail; ``user`` and ``page`` match exactly.
    """
    a = schema.audit_log.c
    conditions: list[sa.ColumnElement[bool]] = []
    if since is not None:
        conditions.append(a.occurred_at >= since)
    if until is not None:
        conditions.append(a.occurred_at < until)
    if user:
        conditions.append(a.user_name == user)
    if actions:
        unknown = sorted(set(actions) - set(ACTIONS))
        if unknown:
            raise AuditProblem(f"unknown audit action(s) {', '.join(unknown)} (known: {', '.join(ACTIONS)})")
        conditions.append(a.action.in_(sorted(actions)))
    if page:
        conditions.append(a.page == page)
    if text:
        pattern = _like(text)
        conditions.append(sa.or_(a.filters.like(pattern, escape="\\"), a.detail.like(pattern, escape="\\")))
    statement = (
        sa.select(*(a[name] for name in COLUMNS))
        .where(*conditions)
        .order_by(a.occurred_at.desc(), a.id.desc())
        .limit(max(1, min(limit, SEARCH_LIMIT)))
    )
    with engine.connect() as connection:
        if not table_exists(connection, schema.audit_log.name):
            rows: list[Any] = []
        else:
            rows = [tuple(row) for row in connection.execute(statement)]
    return pl.DataFrame(rows, schema=_frame_schema(), orient="row")


def _frame_schema() -> dict[str, pl.DataType]:
    kinds: dict[str, pl.DataType] = {}
    for column in schema.audit_log.columns:
        if isinstance(column.type, sa.DateTime):
            kinds[column.name] = pl.Datetime("us")
        elif isinstance(column.type, sa.Integer):
            kinds[column.name] = pl.Int64()
        else:
            kinds[column.name] = pl.String()
    return kinds


def to_csv(frame: pl.DataFrame) -> bytes:
    """CSV with a BOM, so Excel opens the Chinese text correctly."""
    return frame.write_csv().encode("utf-8-sig")


# ---- command line ---------------------------------------------------------------------------------


def _date(value: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date or time: {value!r}") from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data_access.security.audit", description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (default: as the app finds it)")
    parser.add_argument("--since", type=_date, help="from this date or time (inclusive)")
    parser.add_argument("--until", type=_date, help="up to this date or time (exclusive)")
    parser.add_argument("--user", help="only this account")
    parser.add_argument("--action", action="append", default=[], choices=ACTIONS, help="only this action (repeatable)")
    parser.add_argument("--format", choices=("table", "csv"), default="table")
    args = parser.parse_args(argv)
    try:
        target = db.resolve_target(args.url)
        engine = db.get_engine(target.url)
        found = search(engine, since=args.since, until=args.until, user=args.user, actions=args.action)
        if args.format == "csv":
            sys.stdout.buffer.write(to_csv(found))
            filters = {"since": args.since, "until": args.until, "user": args.user, "actions": args.action}
            record(engine, "export", user=command_user(), page="audit", filters=filters, rows=found.height)
        else:
            with pl.Config(tbl_rows=-1, tbl_width_chars=200, fmt_str_lengths=60):
                print(found.drop("id", "session_id"))
    except (db.DatabaseProblem, sa.exc.SQLAlchemyError) as exc:
        print(f"error: {getattr(exc, 'orig', None) or exc}", file=sys.stderr)
        return 2
    finally:
        if "target" in locals():
            db.dispose_engine(target.url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
