"""Local accounts: the ``cockpit_users`` store, the password rules and hashing, and account management.

Passwords are stored only as salted argon2id hashes (argon2-cffi). Every change to an account is
written to the audit trail in the same transaction as the change. Sign-in lives in ``logins``,
wall-screen device tokens in ``tokens``, the command line in ``users``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import argon2
import sqlalchemy as sa

from data_access.contract import schema
from data_access.security import audit
from data_access.security.access import (
    AccessConfig,
    Viewer,
    check_grants,
    check_role_scope,
    describe_scope,
    load_access,
    local_now,
    role_key,
)
from data_access.semantic.query import Scope

# argon2id with the library's defaults (RFC 9106's second recommended profile: 64 MiB, 3 passes).
# Looked up at call time by the functions below, so a test can swap in cheap parameters.
HASHER = argon2.PasswordHasher()
NAME_MAX = 64

u = schema.users.c


class UserProblem(ValueError):
    """A user-management request that cannot be done, with a message naming the account or value."""


@dataclass(frozen=True)
class Account:
    """One row of ``cockpit_users`` as Python values."""

    name: str
    role: str
    scope: Scope = field(default_factory=Scope)
    grants: frozenset[str] = frozenset()
    display_name: str | None = None
    has_password: bool = False
    disabled: bool = False
    failed_logins: int = 0
    locked_until: dt.datetime | None = None
    last_login_at: dt.datetime | None = None

    def viewer(self, method: str = "password", token_id: str | None = None) -> Viewer:
        return Viewer(
            name=self.name,
            role=self.role,
            scope=self.scope,
            grants=self.grants,
            display_name=self.display_name,
            method=method,
            token_id=token_id,
        )


# ---- password hashes --------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """A salted argon2id hash of ``password`` (what the ``password_hash`` column holds)."""
    return HASHER.hash(password)


def password_matches(stored: str, password: str) -> bool:
    """True when ``password`` is the one ``stored`` was made from; a malformed hash matches nothing."""
    try:
        return HASHER.verify(stored, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when ``stored`` was made with weaker parameters than ``HASHER``'s (rehashed at the next sign-in)."""
    return HASHER.check_needs_rehash(stored)


# ---- storage helpers --------------------------------------------------------------------------------


def ensure_tables(engine: sa.Engine) -> None:
    """Create the accounts, tokens and audit tables when missing (never alters or drops)."""
    schema.metadata.create_all(engine, tables=list(schema.ACCESS_TABLES), checkfirst=True)


def account_count(engine: sa.Engine) -> int:
    """Accounts in the database, enabled or not; 0 when the table does not exist yet.

    Any account switches sign-in on: disabling the last one must not open the cockpit to everyone.
    """
    with engine.connect() as connection:
        if not audit.table_exists(connection, schema.users.name):
            return 0
        return int(connection.execute(sa.select(sa.func.count()).select_from(schema.users)).scalar_one())


def _codes_text(codes: frozenset[str] | None) -> str | None:
    return None if codes is None else json.dumps(sorted(codes), ensure_ascii=False)


def _codes(value: str | None) -> frozenset[str] | None:
    if value is None:
        return None
    loaded = json.loads(value)
    return frozenset(str(code) for code in loaded)


def _grants(value: str | None) -> frozenset[str]:
    return frozenset(part for part in (value or "").split(",") if part)


def account_from_row(row: sa.RowMapping) -> Account:
    """A ``cockpit_users`` row as an ``Account`` (scope codes and grants decoded)."""
    return Account(
        name=row["name"],
        role=row["role"],
        scope=Scope(departments=_codes(row["scope_departments"]), regions=_codes(row["scope_regions"])),
        grants=_grants(row["grants"]),
        display_name=row["display_name"],
        has_password=row["password_hash"] is not None,
        disabled=bool(row["disabled"]),
        failed_logins=int(row["failed_logins"] or 0),
        locked_until=row["locked_until"],
        last_login_at=row["last_login_at"],
    )


def get_account(engine: sa.Engine, name: str) -> Account | None:
    with engine.connect() as connection:
        if not audit.table_exists(connection, schema.users.name):
            return None
        row = connection.execute(sa.select(schema.users).where(u.name == name)).mappings().first()
    return None if row is None else account_from_row(row)


def list_accounts(engine: sa.Engine) -> list[Account]:
    with engine.connect() as connection:
        if not audit.table_exists(connection, schema.users.name):
            return []
        rows = connection.execute(sa.select(schema.users).order_by(u.name)).mappings().all()
    return [account_from_row(row) for row in rows]


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX or any(ch.isspace() for ch in name) or name.startswith("cli:"):
        raise UserProblem(f"account name {name!r}: 1 to {NAME_MAX} characters, no spaces, not starting with 'cli:'")
    return name


def check_password(name: str, password: str, config: AccessConfig) -> None:
    if len(password) < config.min_password_length:
        raise UserProblem(f"password for {name!r} is shorter than {config.min_password_length} characters")
    if password.strip().lower() == name.lower():
        raise UserProblem(f"password for {name!r} must not be the account name")


def check_scope_codes(engine: sa.Engine, scope: Scope) -> None:
    """Every code of a scope must name a known region or department (a typo would hide everything)."""
    with engine.connect() as connection:
        for codes, table, what in (
            (scope.regions, schema.regions, "region"),
            (scope.departments, schema.departments, "department"),
        ):
            if not codes or not audit.table_exists(connection, table.name):
                continue
            known = set(connection.execute(sa.select(table.c.code).where(table.c.code.in_(sorted(codes)))).scalars())
            unknown = sorted(codes - known)
            if unknown:
                raise UserProblem(f"unknown {what} code(s) {', '.join(unknown)} (see the {table.name} table)")


def record_change(connection: sa.Connection, actor: str, target: str, change: str, **detail: Any) -> None:
    """The audit row of a change to an account or token, written in the change's own transaction."""
    audit.record_in(connection, "user_change", user=actor, detail={"account": target, "change": change, **detail})


# ---- account management ------------------------------------------------------------------------------


def add_user(
    engine: sa.Engine,
    name: str,
    role: str,
    *,
    password: str | None = None,
    scope: Scope | None = None,
    grants: Sequence[str] = (),
    display_name: str | None = None,
    actor: str,
    config: AccessConfig | None = None,
) -> Account:
    """Create an account; a screen account has no password, every other role needs one."""
    config = config or load_access()
    name = _check_name(name)
    role = role_key(role)
    scope = scope or Scope()
    check_role_scope(role, scope)
    extra = check_grants(grants)
    if role == "screen" and password is not None:
        raise UserProblem("a screen (大屏) account signs in with a device token, not a password")
    if role != "screen":
        if password is None:
            raise UserProblem(f"account {name!r} needs a password (--password-stdin)")
        check_password(name, password, config)
    ensure_tables(engine)
    check_scope_codes(engine, scope)
    now = local_now()
    with engine.begin() as connection:
        if connection.execute(sa.select(u.name).where(u.name == name)).first() is not None:
            raise UserProblem(f"account {name!r} already exists (use grant or passwd to change it)")
        connection.execute(
            schema.users.insert(),
            [
                {
                    "name": name,
                    "display_name": display_name,
                    "role": role,
                    "scope_departments": _codes_text(scope.departments),
                    "scope_regions": _codes_text(scope.regions),
                    "grants": ",".join(sorted(extra)) or None,
                    "password_hash": None if password is None else hash_password(password),
                    "disabled": False,
                    "failed_logins": 0,
                    "locked_until": None,
                    "created_at": now,
                    "updated_at": now,
                    "last_login_at": None,
                }
            ],
        )
        record_change(connection, actor, name, "add", role=role, scope=describe_scope(scope), grants=sorted(extra))
    account = get_account(engine, name)
    assert account is not None
    return account


def require_account_row(connection: sa.Connection, name: str) -> sa.RowMapping:
    """The account's row; ``UserProblem`` naming the list command when there is none."""
    row = connection.execute(sa.select(schema.users).where(u.name == name)).mappings().first()
    if row is None:
        raise UserProblem(f"no account named {name!r} (python -m data_access.security.users list)")
    return row


def require_users_table(engine: sa.Engine) -> None:
    """``UserProblem`` saying how to add the first account when the accounts table does not exist yet."""
    with engine.connect() as connection:
        if not audit.table_exists(connection, schema.users.name):
            raise UserProblem(
                "no accounts yet: add one with `python -m data_access.security.users add NAME --role ROLE …`"
            )


def set_password(
    engine: sa.Engine, name: str, password: str, *, actor: str, config: AccessConfig | None = None
) -> None:
    """New password; also clears a lock-out."""
    config = config or load_access()
    require_users_table(engine)
    with engine.begin() as connection:
        row = require_account_row(connection, name)
        if row["role"] == "screen":
            raise UserProblem("a screen (大屏) account signs in with a device token, not a password")
        check_password(name, password, config)
        connection.execute(
            schema.users.update()
            .where(u.name == name)
            .values(password_hash=hash_password(password), failed_logins=0, locked_until=None, updated_at=local_now())
        )
        record_change(connection, actor, name, "password")


def set_disabled(engine: sa.Engine, name: str, disabled: bool, *, actor: str) -> None:
    require_users_table(engine)
    with engine.begin() as connection:
        require_account_row(connection, name)
        connection.execute(
            schema.users.update().where(u.name == name).values(disabled=disabled, updated_at=local_now())
        )
        record_change(connection, actor, name, "disable" if disabled else "enable")


def unlock(engine: sa.Engine, name: str, *, actor: str) -> None:
    require_users_table(engine)
    with engine.begin() as connection:
        require_account_row(connection, name)
        connection.execute(
            schema.users.update()
            .where(u.name == name)
            .values(failed_logins=0, locked_until=None, updated_at=local_now())
        )
        record_change(connection, actor, name, "unlock")


def grant(
    engine: sa.Engine,
    name: str,
    *,
    actor: str,
    role: str | None = None,
    scope: Scope | None = None,
    allow: Sequence[str] = (),
    revoke: Sequence[str] = (),
) -> Account:
    """Change an account's role, scope (replaced whole when given) or extra grants."""
    require_users_table(engine)
    added, removed = check_grants(allow), check_grants(revoke)
    if scope is not None:
        check_scope_codes(engine, scope)
    with engine.begin() as connection:
        current = account_from_row(require_account_row(connection, name))
        new_role = role_key(role) if role is not None else current.role
        new_scope = scope if scope is not None else current.scope
        check_role_scope(new_role, new_scope)
        if new_role == "screen" and current.has_password:
            raise UserProblem(f"{name!r} has a password: a screen (大屏) account signs in with a device token only")
        if current.role == "screen" and new_role != "screen":
            raise UserProblem(f"{name!r} is a screen account without a password: add a new account instead")
        new_grants = (current.grants | added) - removed
        connection.execute(
            schema.users.update()
            .where(u.name == name)
            .values(
                role=new_role,
                scope_departments=_codes_text(new_scope.departments),
                scope_regions=_codes_text(new_scope.regions),
                grants=",".join(sorted(new_grants)) or None,
                updated_at=local_now(),
            )
        )
        record_change(
            connection,
            actor,
            name,
            "grant",
            role=[current.role, new_role],
            scope=[describe_scope(current.scope), describe_scope(new_scope)],
            grants=[sorted(current.grants), sorted(new_grants)],
        )
    account = get_account(engine, name)
    assert account is not None
    return account
