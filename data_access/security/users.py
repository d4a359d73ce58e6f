"""Local accounts, password sign-in with lock-out, and wall-screen device tokens; the ``users`` CLI.

Passwords are stored only as salted argon2id hashes (argon2-cffi); a wrong password counts towards a
lock-out, an unknown name costs the same hash check as a known one. Device tokens (for 大屏 wall
screens) are random 256-bit secrets shown once when issued and stored as SHA-256 hashes: a leaked
database does not hold a usable token. Every change to an account or token is written to the audit
trail in the same transaction as the change.

``python -m data_access.security.users [--url URL] COMMAND``:

* ``add NAME --role ROLE [--scope department=A,B] [--scope region=330102] [--grant unmasked] --password-stdin``
  (a ``screen`` account takes no password: it signs in with a device token);
* ``passwd NAME --password-stdin``, ``disable NAME``, ``enable NAME``, ``unlock NAME``;
* ``grant NAME [--role ROLE] [--scope …] [--city-wide] [--grant PERM] [--revoke PERM]``;
* ``list``;
* ``token issue NAME [--label TEXT] [--days N]``, ``token revoke TOKEN_ID``, ``token list``.

On the embedded DuckDB file the app holds the file open: stop the app before running the CLI.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import getpass
import hashlib
import hmac
import json
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import argon2
import polars as pl
import sqlalchemy as sa

from data_access.contract import schema
from data_access.runtime import engine as db
from data_access.security import audit
from data_access.security.access import (
    AccessConfig,
    AccessProblem,
    Viewer,
    check_grants,
    check_role_scope,
    describe_scope,
    load_access,
    local_now,
    parse_scope,
    role_key,
)
from data_access.semantic.query import Scope

# argon2id with the library's defaults (RFC 9106's second recommended profile: 64 MiB, 3 passes).
HASHER = argon2.PasswordHasher()
NAME_MAX = 64
TOKEN_PREFIX = "cst"
DEMO_PREFIX = "demo_"
DEMO_META_KEY = "demo_accounts"

u = schema.users.c
k = schema.device_tokens.c


class UserProblem(ValueError):
    """A user-management request that cannot be done, with a message naming the account or value."""


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


def _account(row: sa.RowMapping) -> Account:
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
    return None if row is None else _account(row)


def list_accounts(engine: sa.Engine) -> list[Account]:
    with engine.connect() as connection:
        if not audit.table_exists(connection, schema.users.name):
            return []
        rows = connection.execute(sa.select(schema.users).order_by(u.name)).mappings().all()
    return [_account(row) for row in rows]


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


def _change(connection: sa.Connection, actor: str, target: str, change: str, **detail: Any) -> None:
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
                    "password_hash": None if password is None else HASHER.hash(password),
                    "disabled": False,
                    "failed_logins": 0,
                    "locked_until": None,
                    "created_at": now,
                    "updated_at": now,
                    "last_login_at": None,
                }
            ],
        )
        _change(connection, actor, name, "add", role=role, scope=describe_scope(scope), grants=sorted(extra))
    account = get_account(engine, name)
    assert account is not None
    return account


def _require(connection: sa.Connection, name: str) -> sa.RowMapping:
    row = connection.execute(sa.select(schema.users).where(u.name == name)).mappings().first()
    if row is None:
        raise UserProblem(f"no account named {name!r} (python -m data_access.security.users list)")
    return row


def _users_table(engine: sa.Engine) -> None:
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
    _users_table(engine)
    with engine.begin() as connection:
        row = _require(connection, name)
        if row["role"] == "screen":
            raise UserProblem("a screen (大屏) account signs in with a device token, not a password")
        check_password(name, password, config)
        connection.execute(
            schema.users.update()
            .where(u.name == name)
            .values(password_hash=HASHER.hash(password), failed_logins=0, locked_until=None, updated_at=local_now())
        )
        _change(connection, actor, name, "password")


def set_disabled(engine: sa.Engine, name: str, disabled: bool, *, actor: str) -> None:
    _users_table(engine)
    with engine.begin() as connection:
        _require(connection, name)
        connection.execute(
            schema.users.update().where(u.name == name).values(disabled=disabled, updated_at=local_now())
        )
        _change(connection, actor, name, "disable" if disabled else "enable")


def unlock(engine: sa.Engine, name: str, *, actor: str) -> None:
    _users_table(engine)
    with engine.begin() as connection:
        _require(connection, name)
        connection.execute(
            schema.users.update()
            .where(u.name == name)
            .values(failed_logins=0, locked_until=None, updated_at=local_now())
        )
        _change(connection, actor, name, "unlock")


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
    _users_table(engine)
    added, removed = check_grants(allow), check_grants(revoke)
    if scope is not None:
        check_scope_codes(engine, scope)
    with engine.begin() as connection:
        current = _account(_require(connection, name))
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
        _change(
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


# ---- sign-in ----------------------------------------------------------------------------------------------


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the name is unknown, so an unknown name costs as long as a wrong password."""
    return HASHER.hash(secrets.token_urlsafe(16))


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
        _verify(_dummy_hash(), password)
        audit.record(engine, "login_failed", user=name, detail={"reason": Outcome.UNKNOWN.value}, **trace)
        return SignIn(Outcome.UNKNOWN)
    account = _account(row)
    if account.locked_until is not None and account.locked_until > now:
        audit.record(
            engine, "login_failed", user=name, role=account.role, detail={"reason": Outcome.LOCKED.value}, **trace
        )
        return SignIn(Outcome.LOCKED, locked_until=account.locked_until)
    stored = row["password_hash"]
    if stored is None:
        _verify(_dummy_hash(), password)
        audit.record(
            engine, "login_failed", user=name, role=account.role, detail={"reason": Outcome.NO_PASSWORD.value}, **trace
        )
        return SignIn(Outcome.NO_PASSWORD)
    if not _verify(stored, password):
        return _failed(engine, account, now, config, trace)
    if account.disabled:  # told only to someone who knows the password
        audit.record(
            engine, "login_failed", user=name, role=account.role, detail={"reason": Outcome.DISABLED.value}, **trace
        )
        return SignIn(Outcome.DISABLED)
    with engine.begin() as connection:
        values: dict[str, Any] = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
        if HASHER.check_needs_rehash(stored):
            values["password_hash"] = HASHER.hash(password)
        connection.execute(schema.users.update().where(u.name == name).values(**values))
        audit.record_in(connection, "login", user=name, role=account.role, detail={"method": "password"}, **trace)
    return SignIn(Outcome.OK, viewer=account.viewer("password"))


def _verify(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


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


# ---- device tokens (wall screens) -----------------------------------------------------------------------


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_token(
    engine: sa.Engine, name: str, *, actor: str, label: str | None = None, days: int | None = None
) -> tuple[str, str]:
    """A new device token for a screen account: (token id, the token). The token is shown only now."""
    _users_table(engine)
    if days is not None and days <= 0:
        raise UserProblem("--days must be positive")
    token_id = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    now = local_now()
    with engine.begin() as connection:
        row = _require(connection, name)
        if row["role"] != "screen":
            raise UserProblem(f"{name!r} is not a screen (大屏) account: device tokens are for wall screens")
        connection.execute(
            schema.device_tokens.insert(),
            [
                {
                    "id": token_id,
                    "user_name": name,
                    "label": label,
                    "token_hash": _token_hash(secret),
                    "created_at": now,
                    "created_by": actor,
                    "expires_at": None if days is None else now + dt.timedelta(days=days),
                    "revoked_at": None,
                    "last_used_at": None,
                }
            ],
        )
        _change(connection, actor, name, "token_issue", token=token_id, label=label, days=days)
    return token_id, f"{TOKEN_PREFIX}_{token_id}_{secret}"


def revoke_token(engine: sa.Engine, token_id: str, *, actor: str) -> None:
    _users_table(engine)
    with engine.begin() as connection:
        row = connection.execute(sa.select(k.user_name, k.revoked_at).where(k.id == token_id)).first()
        if row is None:
            raise UserProblem(f"no device token with id {token_id!r} (python -m data_access.security.users token list)")
        if row.revoked_at is None:
            connection.execute(schema.device_tokens.update().where(k.id == token_id).values(revoked_at=local_now()))
        _change(connection, actor, row.user_name, "token_revoke", token=token_id)


def list_tokens(engine: sa.Engine) -> pl.DataFrame:
    columns = ("id", "user_name", "label", "created_at", "created_by", "expires_at", "revoked_at", "last_used_at")
    with engine.connect() as connection:
        if not audit.table_exists(connection, schema.device_tokens.name):
            rows: list[Any] = []
        else:
            statement = sa.select(*(k[name] for name in columns)).order_by(k.user_name, k.created_at)
            rows = [tuple(row) for row in connection.execute(statement)]
    return pl.DataFrame(
        rows,
        schema={name: pl.Datetime("us") if name.endswith("_at") else pl.String() for name in columns},
        orient="row",
    )


def token_sign_in(
    engine: sa.Engine, token: str, *, session_id: str | None = None, client: str | None = None
) -> Viewer | None:
    """The screen viewer a device token signs in, or None (unknown, revoked, expired, disabled). Audited."""
    parts = token.strip().split("_", 2)
    token_id = parts[1] if len(parts) == 3 and parts[0] == TOKEN_PREFIX else None
    trace = {"session_id": session_id, "client": client, "page": "kiosk"}
    now = local_now()
    row = None
    if token_id is not None:
        with engine.connect() as connection:
            if audit.table_exists(connection, schema.device_tokens.name):
                row = connection.execute(sa.select(schema.device_tokens).where(k.id == token_id)).mappings().first()
    reason = None
    if row is None or not hmac.compare_digest(row["token_hash"], _token_hash(parts[2] if len(parts) == 3 else "")):
        reason = "unknown_token"
    elif row["revoked_at"] is not None:
        reason = "revoked_token"
    elif row["expires_at"] is not None and row["expires_at"] <= now:
        reason = "expired_token"
    account = get_account(engine, row["user_name"]) if row is not None and reason is None else None
    if reason is None and (account is None or account.disabled or account.role != "screen"):
        reason = "disabled"
    if reason is not None or account is None:
        detail = {"reason": reason, "token": token_id if row is not None else None}
        audit.record(engine, "login_failed", user=row["user_name"] if row else None, detail=detail, **trace)
        return None
    with engine.begin() as connection:
        connection.execute(schema.device_tokens.update().where(k.id == token_id).values(last_used_at=now))
        connection.execute(schema.users.update().where(u.name == account.name).values(last_login_at=now))
        audit.record_in(
            connection, "token_use", user=account.name, role=account.role, detail={"token": token_id}, **trace
        )
    return account.viewer("token", token_id)


# ---- demo accounts ----------------------------------------------------------------------------------------


def create_demo_accounts(engine: sa.Engine) -> list[dict[str, str]]:
    """One account per role on a demo database (fresh passwords each time), listed on its login page.

    The head runs the first district; the screen gets a device token. The list (with the passwords)
    goes to ``cockpit_meta`` under ``demo_accounts``, which only a demo database's login page shows.
    """
    ensure_tables(engine)
    with engine.connect() as connection:
        meta = dict(connection.execute(sa.select(schema.cockpit_meta.c.key, schema.cockpit_meta.c.value)).all())
        if meta.get("dataset") != "demo":
            raise UserProblem("demo accounts go only into a demo database (cockpit_meta dataset = demo)")
        district = connection.execute(
            sa.select(schema.regions.c.code).where(schema.regions.c.level == "district").order_by(schema.regions.c.code)
        ).scalar()
    actor = "demo"
    plans: list[tuple[str, str, Scope, tuple[str, ...]]] = [
        ("leader", "leader", Scope(), ()),
        ("head", "department_head", Scope(regions=frozenset({district or ""})), ()),
        ("analyst", "analyst", Scope(), ()),
        ("admin", "admin", Scope(), ("unmasked",)),
        ("screen", "screen", Scope(), ()),
    ]
    listed: list[dict[str, str]] = []
    with engine.begin() as connection:
        names = [DEMO_PREFIX + suffix for suffix, *_ in plans]
        connection.execute(schema.device_tokens.delete().where(k.user_name.in_(names)))
        connection.execute(schema.users.delete().where(u.name.in_(names)))
    for suffix, role, scope, grants in plans:
        name = DEMO_PREFIX + suffix
        password = None if role == "screen" else secrets.token_urlsafe(9)
        add_user(engine, name, role, password=password, scope=scope, grants=grants, actor=actor)
        entry = {"name": name, "role": role, "scope": describe_scope(scope), "password": password or ""}
        if role == "screen":
            _, token = issue_token(engine, name, actor=actor, label="demo wall screen")
            entry["token"] = token
        listed.append(entry)
    with engine.begin() as connection:
        connection.execute(schema.cockpit_meta.delete().where(schema.cockpit_meta.c.key == DEMO_META_KEY))
        connection.execute(
            schema.cockpit_meta.insert(), [{"key": DEMO_META_KEY, "value": json.dumps(listed, ensure_ascii=False)}]
        )
    return listed


def demo_accounts(meta: dict[str, str]) -> list[dict[str, str]]:
    """The demo accounts a demo database lists on its login page; none for any other database."""
    if meta.get("dataset") != "demo" or DEMO_META_KEY not in meta:
        return []
    try:
        loaded = json.loads(meta[DEMO_META_KEY])
    except ValueError:
        return []
    return [entry for entry in loaded if isinstance(entry, dict)] if isinstance(loaded, list) else []


# ---- command line -----------------------------------------------------------------------------------------


def _read_password(prompt_name: str) -> str:
    line = sys.stdin.readline()
    password = line[:-1] if line.endswith("\n") else line
    if not password:
        raise UserProblem(f"no password on standard input for {prompt_name!r}")
    return password


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m data_access.security.users", description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (default: as the app finds it)")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, help="leader, department_head, analyst, admin, screen (or 领导 …)")
    add.add_argument("--scope", action="append", default=[], help="department=CODE[,CODE…] or region=CODE[,CODE…]")
    add.add_argument("--grant", action="append", default=[], help="extra permission: export, unmasked")
    add.add_argument("--display-name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd = commands.add_parser("passwd", help="set a new password (also unlocks)")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", required=True)
    for command in ("disable", "enable", "unlock"):
        commands.add_parser(command, help=f"{command} an account").add_argument("name")
    change = commands.add_parser("grant", help="change role, scope or extra permissions")
    change.add_argument("name")
    change.add_argument("--role")
    change.add_argument("--scope", action="append", default=[], help="replaces the whole scope")
    change.add_argument("--city-wide", action="store_true", help="remove every scope restriction")
    change.add_argument("--grant", action="append", default=[], dest="allow", help="add: export, unmasked")
    change.add_argument("--revoke", action="append", default=[], help="remove: export, unmasked")
    commands.add_parser("list", help="list accounts")
    token = commands.add_parser("token", help="wall-screen device tokens").add_subparsers(dest="token", required=True)
    issue = token.add_parser("issue", help="issue a token for a screen account (printed once)")
    issue.add_argument("name")
    issue.add_argument("--label")
    issue.add_argument("--days", type=int, help="valid for this many days (default: until revoked)")
    token.add_parser("revoke", help="revoke a token").add_argument("token_id")
    token.add_parser("list", help="list tokens (never the secrets)")
    return parser


def _print_accounts(accounts: list[Account]) -> None:
    if not accounts:
        print("no accounts (sign-in is off)")
        return
    now = local_now()
    for account in accounts:
        state = "disabled" if account.disabled else "enabled"
        if account.locked_until is not None and account.locked_until > now:
            state += f", locked until {account.locked_until:%Y-%m-%d %H:%M}"
        grants = ",".join(sorted(account.grants)) or "-"
        last = f"{account.last_login_at:%Y-%m-%d %H:%M}" if account.last_login_at else "never"
        print(f"{account.name}\t{account.role}\t{describe_scope(account.scope)}\tgrants={grants}\t{state}\tlast={last}")


def run_command(engine: sa.Engine, args: argparse.Namespace, actor: str) -> None:
    command = args.command
    if command == "add":
        if args.password_stdin and role_key(args.role) == "screen":
            raise UserProblem("a screen (大屏) account signs in with a device token, not a password")
        password = _read_password(args.name) if args.password_stdin else None
        account = add_user(
            engine,
            args.name,
            args.role,
            password=password,
            scope=parse_scope(args.scope),
            grants=args.grant,
            display_name=args.display_name,
            actor=actor,
        )
        print(f"added {account.name} ({account.role}, {describe_scope(account.scope)})")
    elif command == "passwd":
        set_password(engine, args.name, _read_password(args.name), actor=actor)
        print(f"password of {args.name} changed")
    elif command in ("disable", "enable"):
        set_disabled(engine, args.name, command == "disable", actor=actor)
        print(f"{args.name} {command}d")
    elif command == "unlock":
        unlock(engine, args.name, actor=actor)
        print(f"{args.name} unlocked")
    elif command == "grant":
        if args.city_wide and args.scope:
            raise UserProblem("--city-wide and --scope contradict each other")
        scope = Scope() if args.city_wide else (parse_scope(args.scope) if args.scope else None)
        account = grant(
            engine, args.name, actor=actor, role=args.role, scope=scope, allow=args.allow, revoke=args.revoke
        )
        grants = ",".join(sorted(account.grants)) or "-"
        print(f"{account.name}: {account.role}, {describe_scope(account.scope)}, grants={grants}")
    elif command == "list":
        _print_accounts(list_accounts(engine))
    elif args.token == "issue":
        token_id, token = issue_token(engine, args.name, actor=actor, label=args.label, days=args.days)
        print(f"token {token_id} for {args.name} (shown only now; store it in the wall screen's start URL):")
        print(token)
        print(f"URL: http://HOST:8501/?kiosk=1&screen_token={token}")
    elif args.token == "revoke":
        revoke_token(engine, args.token_id, actor=actor)
        print(f"token {args.token_id} revoked")
    else:
        with pl.Config(tbl_rows=-1, tbl_width_chars=200):
            print(list_tokens(engine))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    actor = f"cli:{getpass.getuser()}"
    target = None
    try:
        target = db.resolve_target(args.url)
        engine = db.get_engine(target.url)
        db.check_connection(engine)
        run_command(engine, args, actor)
    except (UserProblem, AccessProblem, audit.AuditProblem) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except db.DatabaseProblem as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"error: {reason}", file=sys.stderr)
        if "lock" in reason.lower():
            print("the app holds the embedded DuckDB file open: stop it, then run this again", file=sys.stderr)
        return 2
    finally:
        if target is not None:
            db.dispose_engine(target.url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
