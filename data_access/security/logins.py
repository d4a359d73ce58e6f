"""Password sign-in with lock-out, and a session's periodic re-check of its viewer.

A wrong password counts towards a lock-out; an unknown name costs the same hash check as a known
one. Every attempt, good or bad, is written to the audit trail.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from dataclasses import dataclass
from enum import Enum
from typing import Any

import sqlalchemy as sa

from data_access.contract import schema
from data_access.security import audit
from data_access.security.access import AccessConfig, Viewer, load_access, local_now
from data_access.security.accounts import (
    NAME_MAX,
    Account,
    account_from_row,
    get_account,
    hash_password,
    needs_rehash,
    password_matches,
)

u = schema.users.c
k = schema.device_tokens.c


class Outcome(Enum):
    OK = "ok"
    UNKNOWN = "unknown"  # no such account (reported to the viewer like a wrong password)
    WRONG_PASSWORD = "wrong_password"
    LOCKED = "locked"
    DISABLED = "disabled"
    NO_PASSWORD = "no_password"  # screen or single-sign-on account: no password sign-in


@dataclass(frozen=True)
class SignIn:
    outcome: Outcome
    viewer: Viewer | None = None
    locked_until: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


# ---- password sign-in --------------------------------------------------------------------------------


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the name is unknown, so an unknown name costs as long as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


def authenticate(
    engine: sa.Engine,
    name: str,
    password: str,
    *,
    config: AccessConfig | None = None,
    now: dt.datetime | None = None,
    session_id: str | None = None,
    client: str | None = None,
) -> SignIn:
    """Check a password, count failures, lock after ``max_failed_logins``; audits the attempt either way."""
    config = config or load_access()
    now = now or local_now()
    name = name.strip()[:NAME_MAX]
    trace = {"session_id": session_id, "client": client, "page": "login"}
    with engine.connect() as connection:
        exists = audit.table_exists(connection, schema.users.name)
        row = connection.execute(sa.select(schema.users).where(u.name == name)).mappings().first() if exists else None
    if row is None:
        password_matches(_dummy_hash(), password)
        audit.record(engine, "login_failed", user=name, detail={"reason": Outcome.UNKNOWN.value}, **trace)
        return SignIn(Outcome.UNKNOWN)
    account = account_from_row(row)
    if account.locked_until is not None and account.locked_until > now:
        audit.record(
            engine, "login_failed", user=name, role=account.role, detail={"reason": Outcome.LOCKED.value}, **trace
        )
        return SignIn(Outcome.LOCKED, locked_until=account.locked_until)
    stored = row["password_hash"]
    if stored is None:
        password_matches(_dummy_hash(), password)
        audit.record(
            engine, "login_failed", user=name, role=account.role, detail={"reason": Outcome.NO_PASSWORD.value}, **trace
        )
        return SignIn(Outcome.NO_PASSWORD)
    if not password_matches(stored, password):
        return _failed(engine, account, now, config, trace)
    if account.disabled:  # told only to someone who knows the password
        audit.record(
            engine, "login_failed", user=name, role=account.role, detail={"reason": Outcome.DISABLED.value}, **trace
        )
        return SignIn(Outcome.DISABLED)
    with engine.begin() as connection:
        values: dict[str, Any] = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
        if needs_rehash(stored):
            values["password_hash"] = hash_password(password)
        connection.execute(schema.users.update().where(u.name == name).values(**values))
        audit.record_in(connection, "login", user=name, role=account.role, detail={"method": "password"}, **trace)
    return SignIn(Outcome.OK, viewer=account.viewer("password"))


def _failed(
    engine: sa.Engine, account: Account, now: dt.datetime, config: AccessConfig, trace: dict[str, Any]
) -> SignIn:
    """One more failure; the one that reaches the limit locks the account and starts the count again."""
    failures = account.failed_logins + 1
    locked_until = now + dt.timedelta(minutes=config.lockout_minutes) if failures >= config.max_failed_logins else None
    with engine.begin() as connection:
        connection.execute(
            schema.users.update()
            .where(u.name == account.name)
            .values(failed_logins=0 if locked_until else failures, locked_until=locked_until)
        )
        detail: dict[str, Any] = {"reason": Outcome.WRONG_PASSWORD.value, "failures": failures}
        if locked_until is not None:
            detail["locked_until"] = locked_until.isoformat(timespec="seconds")
        audit.record_in(connection, "login_failed", user=account.name, role=account.role, detail=detail, **trace)
    if locked_until is not None:
        return SignIn(Outcome.LOCKED, locked_until=locked_until)
    return SignIn(Outcome.WRONG_PASSWORD)


def current_viewer(engine: sa.Engine, viewer: Viewer) -> Viewer | None:
    """The viewer as the database has it now (role, scope, grants), or None when it may no longer sign in.

    A session calls this every ``recheck_seconds``: a disabled account, a revoked or expired token
    or a changed scope takes effect within that time, without signing anyone out by hand.
    """
    if viewer.method == "oidc":
        return viewer  # the identity provider and the group mapping decide; nothing stored here
    account = get_account(engine, viewer.name)
    if account is None or account.disabled:
        return None
    if viewer.method == "token":
        with engine.connect() as connection:
            row = connection.execute(
                sa.select(k.revoked_at, k.expires_at, k.user_name).where(k.id == (viewer.token_id or ""))
            ).first()
        if row is None or row.revoked_at is not None or row.user_name != viewer.name:
            return None
        if row.expires_at is not None and row.expires_at <= local_now():
            return None
    return account.viewer(viewer.method, viewer.token_id)
