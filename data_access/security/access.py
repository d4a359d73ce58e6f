"""Who may see what: roles, their permissions, a viewer's row-level scope, and the access settings. Pure.

The cockpit knows five roles (issue 7): 领导 leader (whole city, read), 部门负责人 department head
(their departments and/or regions, read), 分析员 analyst (assigned scope, may export), 管理员 admin
(users, audit trail, data sources) and 大屏 screen (a wall screen signed in with a device token).
A viewer is an account resolved for one session: its role, its ``Scope`` and any extra grants
(``export``, ``unmasked``). Scope is applied by the metric compiler (``compiler.scope_condition``);
this module only combines scopes and works out which region codes a viewer may see named.

The access settings file (``config/access.toml``, or ``$COCKPIT_ACCESS``) holds the sign-in rules
(lock-out, session lifetime), the audit's view rule and the single-sign-on group mapping; it is read
as strictly as the city file: an unknown key or a mistyped value is refused with the file and key.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from data_access.config.city import CITY_ENV, SettingsProblem, load_city
from data_access.contract.schema import USER_ROLES
from data_access.runtime.paths import REPO_ROOT
from data_access.semantic.query import EVERYTHING, Scope

ACCESS_ENV = "COCKPIT_ACCESS"
DEFAULT_ACCESS_FILE = REPO_ROOT / "config" / "access.toml"

ROLES: tuple[str, ...] = USER_ROLES
ROLE_NAMES_ZH: dict[str, str] = {
    "leader": "领导",
    "department_head": "部门负责人",
    "analyst": "分析员",
    "admin": "管理员",
    "screen": "大屏",
}
PERMISSIONS: tuple[str, ...] = ("view", "export", "admin", "unmasked")
# What each role may do without any extra grant.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "leader": frozenset({"view"}),
    "department_head": frozenset({"view"}),
    "analyst": frozenset({"view", "export"}),
    "admin": frozenset({"view", "export", "admin"}),
    "screen": frozenset({"view"}),
}
# Permissions an admin may add to one account on top of its role ("admin" comes only with the role).
GRANTS: tuple[str, ...] = ("export", "unmasked")
# A scope that lets nothing through: what a session gets when its access cannot be established.
NOTHING = Scope(departments=frozenset(), regions=frozenset())


class AccessProblem(ValueError):
    """A role, scope, grant or setting that cannot be used, with a message naming it."""


def role_key(value: str) -> str:
    """``leader`` or ``领导`` → ``leader``; anything else is refused with the known roles named."""
    value = value.strip()
    if value in ROLES:
        return value
    for key, name in ROLE_NAMES_ZH.items():
        if value == name:
            return key
    known = ", ".join(f"{key} ({name})" for key, name in ROLE_NAMES_ZH.items())
    raise AccessProblem(f"unknown role {value!r} (known: {known})")


def check_role_scope(role: str, scope: Scope) -> None:
    """A leader sees the whole city; a department head needs a department or region to head."""
    if role == "leader" and not scope.unrestricted:
        raise AccessProblem("a leader (领导) sees the whole city: leave out --scope")
    if role == "department_head" and scope.unrestricted:
        raise AccessProblem("a department head (部门负责人) needs --scope department=… and/or --scope region=…")


def check_grants(grants: Iterable[str]) -> frozenset[str]:
    found = frozenset(grants)
    unknown = sorted(found - set(GRANTS))
    if unknown:
        raise AccessProblem(f"unknown grant(s) {', '.join(unknown)} (known: {', '.join(GRANTS)})")
    return found


@dataclass(frozen=True)
class Viewer:
    """A signed-in account as one session sees it."""

    name: str
    role: str
    scope: Scope = EVERYTHING
    grants: frozenset[str] = frozenset()
    display_name: str | None = None
    method: str = "password"  # "password", "token" (wall screen) or "oidc" (single sign-on)
    token_id: str | None = None

    def can(self, permission: str) -> bool:
        return permission in ROLE_PERMISSIONS[self.role] or permission in self.grants

    @property
    def label(self) -> str:
        return self.display_name or self.name


def parse_scope(items: Iterable[str]) -> Scope:
    """``department=A,B`` and ``region=330102`` (repeatable) → a Scope; nothing → the whole city."""
    departments: set[str] | None = None
    regions: set[str] | None = None
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        codes = {code.strip() for code in value.split(",") if code.strip()}
        if not sep or key not in ("department", "region") or not codes:
            raise AccessProblem(f"scope {item!r}: expected department=CODE[,CODE…] or region=CODE[,CODE…]")
        if key == "department":
            departments = (departments or set()) | codes
        else:
            regions = (regions or set()) | codes
    return Scope(
        departments=None if departments is None else frozenset(departments),
        regions=None if regions is None else frozenset(regions),
    )


def describe_scope(scope: Scope) -> str:
    """``department=A,B region=330102`` or ``city-wide``: how lists and the audit trail spell a scope."""
    if scope.unrestricted:
        return "city-wide"
    parts = []
    if scope.departments is not None:
        parts.append("department=" + (",".join(sorted(scope.departments)) or "(none)"))
    if scope.regions is not None:
        parts.append("region=" + (",".join(sorted(scope.regions)) or "(none)"))
    return " ".join(parts)


# ---- combining scopes ---------------------------------------------------------------------------


def _covered(code: str, codes: frozenset[str], parents: Mapping[str, str | None]) -> bool:
    """True when ``code`` or one of its ancestors is in ``codes``."""
    seen: set[str] = set()
    current: str | None = code
    while current is not None and current not in seen:
        if current in codes:
            return True
        seen.add(current)
        current = parents.get(current)
    return False


def _intersect_regions(
    a: frozenset[str] | None, b: frozenset[str] | None, parents: Mapping[str, str | None]
) -> frozenset[str] | None:
    """Region codes (any level) whose rows are inside both sets.

    A row is inside a set when any code on its chain (district, street, …) is listed. Two codes on
    one chain are ancestor and descendant, so a row is inside both sets exactly when it is inside
    one of the codes of either set that the other set covers (the code itself or an ancestor listed).
    """
    if a is None:
        return b
    if b is None:
        return a
    return frozenset(
        {code for code in a if _covered(code, b, parents)} | {code for code in b if _covered(code, a, parents)}
    )


def intersect(a: Scope, b: Scope, parents: Mapping[str, str | None]) -> Scope:
    """The rows both scopes let through (``parents``: region code → parent code)."""
    if a.unrestricted:
        return b
    if b.unrestricted:
        return a
    if a.departments is None:
        departments = b.departments
    elif b.departments is None:
        departments = a.departments
    else:
        departments = a.departments & b.departments
    return Scope(departments=departments, regions=_intersect_regions(a.regions, b.regions, parents))


def visible_regions(scope: Scope, parents: Mapping[str, str | None]) -> frozenset[str] | None:
    """The region codes a viewer may see named: their regions, everything below and the regions above.

    ``None`` = every region (no region scope; a department's work may lie anywhere in the city).
    """
    if scope.regions is None:
        return None
    visible = set(scope.regions)
    for code in list(parents):
        if _covered(code, scope.regions, parents):
            visible.add(code)
    for code in scope.regions:  # ancestors: a street's head sees its district's name
        current = parents.get(code)
        while current is not None and current not in visible:
            visible.add(current)
            current = parents.get(current)
    return frozenset(visible)


# ---- settings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupRule:
    """One line of the single-sign-on mapping: members of ``group`` get ``role`` with this scope."""

    group: str
    role: str
    scope: Scope = EVERYTHING
    grants: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AccessConfig:
    max_failed_logins: int = 5
    lockout_minutes: int = 15
    session_hours: float = 8.0
    recheck_seconds: int = 60
    min_password_length: int = 10
    repeat_view_minutes: int = 60
    oidc_provider: str = ""
    oidc_groups_claim: str = "groups"
    oidc_name_claim: str = "email"
    oidc_groups: tuple[GroupRule, ...] = field(default_factory=tuple)
    source: Path | None = None


_KEYS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "sign_in": {
        "max_failed_logins": int,
        "lockout_minutes": int,
        "session_hours": (int, float),
        "recheck_seconds": int,
        "min_password_length": int,
    },
    "audit": {"repeat_view_minutes": int},
    "oidc": {"provider": str, "groups_claim": str, "name_claim": str, "groups": list},
}
_GROUP_KEYS: dict[str, type] = {"group": str, "role": str, "departments": list, "regions": list, "grants": list}


def _checked(path: Path, section: str, values: Any, spec: Mapping[str, type | tuple[type, ...]]) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise AccessProblem(f"{path}: [{section}] must be a table")
    for key, value in values.items():
        if key not in spec:
            raise AccessProblem(f"{path}: unknown key '{key}' in [{section}] (allowed: {', '.join(spec)})")
        expected = spec[key]
        if isinstance(value, bool) or not isinstance(value, expected):
            names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
            raise AccessProblem(f"{path}: [{section}] {key} = {value!r} must be {names}")
    return values


def _group_rule(path: Path, index: int, raw: Any) -> GroupRule:
    where = f"oidc.groups[{index}]"
    entry = _checked(path, where, raw, _GROUP_KEYS)
    for key in ("group", "role"):
        if not entry.get(key):
            raise AccessProblem(f"{path}: [{where}] is missing {key}")
    for key in ("departments", "regions", "grants"):
        if not all(isinstance(item, str) for item in entry.get(key, [])):
            raise AccessProblem(f"{path}: [{where}] {key} must be a list of strings")
    try:
        role = role_key(entry["role"])
        scope = Scope(
            departments=frozenset(entry["departments"]) if "departments" in entry else None,
            regions=frozenset(entry["regions"]) if "regions" in entry else None,
        )
        check_role_scope(role, scope)
        grants = check_grants(entry.get("grants", []))
    except AccessProblem as problem:
        raise AccessProblem(f"{path}: [{where}] {problem}") from problem
    return GroupRule(entry["group"], role, scope, grants)


def load_access(path: Path | str | None = None) -> AccessConfig:
    """Read and validate the access settings: argument, else $COCKPIT_ACCESS, else config/access.toml.

    A missing default file means the defaults; a named file that does not exist is a problem.
    """
    explicit = path or os.environ.get(ACCESS_ENV)
    file = Path(explicit or DEFAULT_ACCESS_FILE)
    if not file.is_file():
        if explicit:
            raise AccessProblem(f"Access settings file {file} does not exist (set {ACCESS_ENV} to a TOML file)")
        return AccessConfig()
    try:
        with file.open("rb") as handle:
            raw = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise AccessProblem(f"{file} is not valid TOML: {exc}") from exc
    for section in raw:
        if section not in _KEYS:
            raise AccessProblem(f"{file}: unknown section [{section}] (allowed: {', '.join(_KEYS)})")
    sign_in = _checked(file, "sign_in", raw.get("sign_in", {}), _KEYS["sign_in"])
    audit = _checked(file, "audit", raw.get("audit", {}), _KEYS["audit"])
    oidc = _checked(file, "oidc", raw.get("oidc", {}), _KEYS["oidc"])
    for key, value in {**sign_in, **audit}.items():
        if value <= 0:
            raise AccessProblem(f"{file}: {key} = {value!r} must be positive")
    rules = tuple(_group_rule(file, index, entry) for index, entry in enumerate(oidc.get("groups", [])))
    defaults = AccessConfig()
    return AccessConfig(
        max_failed_logins=sign_in.get("max_failed_logins", defaults.max_failed_logins),
        lockout_minutes=sign_in.get("lockout_minutes", defaults.lockout_minutes),
        session_hours=float(sign_in.get("session_hours", defaults.session_hours)),
        recheck_seconds=sign_in.get("recheck_seconds", defaults.recheck_seconds),
        min_password_length=sign_in.get("min_password_length", defaults.min_password_length),
        repeat_view_minutes=audit.get("repeat_view_minutes", defaults.repeat_view_minutes),
        oidc_provider=oidc.get("provider", defaults.oidc_provider),
        oidc_groups_claim=oidc.get("groups_claim", defaults.oidc_groups_claim),
        oidc_name_claim=oidc.get("name_claim", defaults.oidc_name_claim),
        oidc_groups=rules,
        source=file,
    )


# ---- single sign-on ---------------------------------------------------------------------------------


def claim_groups(claims: Mapping[str, Any], claim: str) -> tuple[str, ...]:
    """The groups an identity provider put in ``claim``: a list, or one string (comma or space separated)."""
    value = claims.get(claim)
    if isinstance(value, str):
        return tuple(part for part in value.replace(",", " ").split() if part)
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value)
    return ()


def oidc_viewer(claims: Mapping[str, Any], config: AccessConfig) -> Viewer | None:
    """The viewer a single-sign-on identity maps to: the first group rule the identity matches.

    ``None`` when no rule matches (the identity provider knows the person, the cockpit does not let
    them in). The first match wins, so list the narrower rules first when groups overlap.
    """
    groups = set(claim_groups(claims, config.oidc_groups_claim))
    name = str(claims.get(config.oidc_name_claim) or claims.get("sub") or "").strip()
    if not name:
        return None
    for rule in config.oidc_groups:
        if rule.group in groups:
            display = claims.get("name")
            return Viewer(
                name=name[:64],
                role=rule.role,
                scope=rule.scope,
                grants=rule.grants,
                display_name=str(display) if display else None,
                method="oidc",
            )
    return None


# ---- time ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _city_zone(city_file: str | None) -> ZoneInfo | None:
    try:
        return ZoneInfo(load_city(Path(city_file) if city_file else None).timezone)
    except (SettingsProblem, KeyError, ValueError):
        return None


def local_now() -> dt.datetime:
    """Now as naive wall time in the city's time zone, like every timestamp in the database."""
    zone = _city_zone(os.environ.get(CITY_ENV))
    if zone is None:
        return dt.datetime.now().replace(microsecond=0)
    return dt.datetime.now(zone).replace(tzinfo=None)
