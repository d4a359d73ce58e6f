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
from typing import Any

import polars as pl
import sqlalchemy as sa

from data_access.contract import schema
from data_access.runtime import engine as db
from data_access.security.access import local_now

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
            record(engine, "export", user=f"cli:{getpass.getuser()}", page="audit", filters=filters, rows=found.height)
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
