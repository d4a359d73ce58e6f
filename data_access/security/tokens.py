"""Wall-screen (大屏) device tokens: issue, revoke, list, and sign in with one.

Device tokens are random 256-bit secrets shown once when issued and stored as SHA-256 hashes: a
leaked database does not hold a usable token. Issuing and revoking are written to the audit trail in
the same transaction; every use and every refused token is audited too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

import polars as pl
import sqlalchemy as sa

from data_access.contract import schema
from data_access.security import audit
from data_access.security.access import Viewer, local_now
from data_access.security.accounts import (
    UserProblem,
    get_account,
    record_change,
    require_account_row,
    require_users_table,
)

TOKEN_PREFIX = "cst"

u = schema.users.c
k = schema.device_tokens.c


# ---- device tokens (wall screens) -----------------------------------------------------------------------


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_token(
    engine: sa.Engine, name: str, *, actor: str, label: str | None = None, days: int | None = None
) -> tuple[str, str]:
    """A new device token for a screen account: (token id, the token). The token is shown only now."""
    require_users_table(engine)
    if days is not None and days <= 0:
        raise UserProblem("--days must be positive")
    token_id = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    now = local_now()
    with engine.begin() as connection:
        row = require_account_row(connection, name)
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
        record_change(connection, actor, name, "token_issue", token=token_id, label=label, days=days)
    return token_id, f"{TOKEN_PREFIX}_{token_id}_{secret}"


def revoke_token(engine: sa.Engine, token_id: str, *, actor: str) -> None:
    require_users_table(engine)
    with engine.begin() as connection:
        row = connection.execute(sa.select(k.user_name, k.revoked_at).where(k.id == token_id)).first()
        if row is None:
            raise UserProblem(f"no device token with id {token_id!r} (python -m data_access.security.users token list)")
        if row.revoked_at is None:
            connection.execute(schema.device_tokens.update().where(k.id == token_id).values(revoked_at=local_now()))
        record_change(connection, actor, row.user_name, "token_revoke", token=token_id)


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
