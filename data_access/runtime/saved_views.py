"""Named views of the analyst workbench, stored in the cockpit's database (table ``saved_views``).

A view's state is the query string of the workbench's URL (``domain=complaints&metrics=…``), so a
saved view, a shared link and the page's own address are one format, parsed by one strict parser
(``dashboard.workbench.view_state.parse_params``). Views belong to their ``owner``: the signed-in user's name,
or NULL while sign-in is off (then everyone is the same anonymous user and shares the NULL-owned
views). Everyone lists, opens and deletes only views with their own owner value. Saving under a name
the owner already uses replaces that view's state.

The cockpit otherwise only reads the city's tables; this table is its own, created on the first save
when it is missing (``ensure_table``). A database the cockpit may not write to gives a
``SavedViewProblem`` naming the reason, and nothing else is touched.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from data_access.contract import schema
from data_access.runtime.engine import database_reason

MAX_NAME_LENGTH = 128
MAX_STATE_LENGTH = 8000
WORKBENCH = "workbench"


class SavedViewProblem(ValueError):
    """A view that cannot be saved, opened or deleted, with the reason."""


@dataclass(frozen=True)
class SavedView:
    id: str
    owner: str | None
    page: str
    name: str
    state: str
    created_at: dt.datetime
    updated_at: dt.datetime


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def clean_name(name: str) -> str:
    """The name as stored: trimmed, 1–128 characters, no control characters."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise SavedViewProblem("a saved view needs a name")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise SavedViewProblem(f"the name is {len(cleaned)} characters long; at most {MAX_NAME_LENGTH} are allowed")
    if any(ord(char) < 32 for char in cleaned):
        raise SavedViewProblem("the name contains control characters")
    return cleaned


def _owned(owner: str | None) -> sa.ColumnElement[bool]:
    column = schema.saved_views.c.owner
    return column.is_(None) if owner is None else column == owner


def _failed(action: str, exc: sa.exc.SQLAlchemyError) -> SavedViewProblem:
    return SavedViewProblem(f"{action} failed in the database: {database_reason(exc)}")


def table_exists(engine: sa.Engine) -> bool:
    return sa.inspect(engine).has_table(schema.saved_views.name)


def ensure_table(engine: sa.Engine) -> None:
    """Create ``saved_views`` (and its index) if the database lacks it; never alters an existing one."""
    try:
        schema.saved_views.create(engine, checkfirst=True)
    except sa.exc.SQLAlchemyError as exc:
        raise _failed("creating the table saved_views", exc) from exc


def _row(row: sa.Row[tuple[object, ...]]) -> SavedView:
    values = row._mapping
    return SavedView(
        id=str(values["id"]),
        owner=None if values["owner"] is None else str(values["owner"]),
        page=str(values["page"]),
        name=str(values["name"]),
        state=str(values["state"]),
        created_at=values["created_at"],
        updated_at=values["updated_at"],
    )


def list_views(engine: sa.Engine, owner: str | None, page: str = WORKBENCH) -> list[SavedView]:
    """The owner's views of a page, most recently saved first (none while the table does not exist)."""
    if not table_exists(engine):
        return []
    table = schema.saved_views
    statement = (
        sa.select(table).where(_owned(owner), table.c.page == page).order_by(table.c.updated_at.desc(), table.c.name)
    )
    try:
        with engine.connect() as connection:
            return [_row(row) for row in connection.execute(statement)]
    except sa.exc.SQLAlchemyError as exc:
        raise _failed("listing saved views", exc) from exc


def get_view(engine: sa.Engine, view_id: str, owner: str | None) -> SavedView | None:
    """One of the owner's views by id; ``None`` when it does not exist or is someone else's."""
    if not table_exists(engine):
        return None
    table = schema.saved_views
    statement = sa.select(table).where(table.c.id == view_id, _owned(owner))
    with engine.connect() as connection:
        row = connection.execute(statement).first()
    return None if row is None else _row(row)


def save_view(engine: sa.Engine, name: str, state: str, owner: str | None, page: str = WORKBENCH) -> SavedView:
    """Store ``state`` under ``name`` for ``owner`` (replacing the owner's view of that name); one transaction."""
    cleaned = clean_name(name)
    if len(state) > MAX_STATE_LENGTH:
        raise SavedViewProblem(f"the view's state is {len(state)} characters long; at most {MAX_STATE_LENGTH}")
    ensure_table(engine)
    table = schema.saved_views
    now = _now()
    try:
        with engine.begin() as connection:
            existing = connection.execute(
                sa.select(table.c.id, table.c.created_at).where(
                    _owned(owner), table.c.page == page, table.c.name == cleaned
                )
            ).first()
            if existing is not None:
                view_id, created = str(existing.id), existing.created_at
                connection.execute(table.update().where(table.c.id == view_id).values(state=state, updated_at=now))
            else:
                view_id, created = uuid.uuid4().hex, now
                connection.execute(
                    table.insert().values(
                        id=view_id, owner=owner, page=page, name=cleaned, state=state, created_at=now, updated_at=now
                    )
                )
    except sa.exc.SQLAlchemyError as exc:
        raise _failed(f"saving the view {cleaned!r}", exc) from exc
    return SavedView(view_id, owner, page, cleaned, state, created, now)


def delete_view(engine: sa.Engine, view_id: str, owner: str | None) -> bool:
    """Delete one of the owner's views; False when there is no such view of theirs (nothing is deleted)."""
    if not table_exists(engine):
        return False
    table = schema.saved_views
    try:
        with engine.begin() as connection:
            result = connection.execute(table.delete().where(table.c.id == view_id, _owned(owner)))
    except sa.exc.SQLAlchemyError as exc:
        raise _failed("deleting the view", exc) from exc
    return bool(result.rowcount)
