"""The demo database's accounts: one per role, listed with their passwords on the demo login page only."""

from __future__ import annotations

import json
import secrets

import sqlalchemy as sa

from data_access.contract import schema
from data_access.security.access import describe_scope
from data_access.security.accounts import UserProblem, add_user, ensure_tables
from data_access.security.tokens import issue_token
from data_access.semantic.query import Scope

DEMO_PREFIX = "demo_"
DEMO_META_KEY = "demo_accounts"

u = schema.users.c
k = schema.device_tokens.c


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
