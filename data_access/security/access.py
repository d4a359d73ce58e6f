"""Who may see what: roles, their permissions, a viewer's row-level scope, and the access settings. Pure.

The cockpit knows five roles (issue 7): 领导 leader (whole city, read), 部门负责人 department head
(their departments and/or regions, read), 分析员 analyst (assigned scope, may export), 管理员 admin
(users, audit trail, data sources) and 大屏 screen (a wall screen signed in with a device token).
A viewer is an account resolved for one session: its role, its ``Scope`` and any extra grants
(``export``, ``unmasked``). Scope is applied by the metric compiler (``compiler.scope_condition``);
this module only combines scopes and works out which region codes a viewer may see named.

The access settings file (``config/access.toml``, or ``$COCKPIT_ACCESS``) holds the sign-in rules
(lock-out, session lifetime), the audit's view rule and the single-sign-on group mapping; its pydantic
models (``AccessFile`` and one per section) read it as strictly as the city file: an unknown key or a
mistyped value is refused with the file and key.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, Field, StrictFloat, StrictInt, StrictStr, model_validator

from data_access.config.city import CITY_ENV, SettingsProblem, load_city
from data_access.config.validation import SECTION, positive, read_toml, validate_file
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


PositiveInt = Annotated[StrictInt, AfterValidator(positive)]


class SignInSettings(BaseModel):
    """``[sign_in]``: lock-out, session lifetime and the password rule."""

    model_config = SECTION
    max_failed_logins: PositiveInt = 5
    lockout_minutes: PositiveInt = 15
    session_hours: Annotated[StrictFloat, AfterValidator(positive)] = 8.0
    recheck_seconds: PositiveInt = 60
    min_password_length: PositiveInt = 10


class AuditSettings(BaseModel):
    """``[audit]``: the same page with the same filters again within this time is one view."""

    model_config = SECTION
    repeat_view_minutes: PositiveInt = 60


@dataclass(frozen=True)
class GroupRule:
    """One line of the single-sign-on mapping: members of ``group`` get ``role`` with this scope."""

    group: str
    role: str
    scope: Scope = EVERYTHING
    grants: frozenset[str] = frozenset()


def _not_empty(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


class GroupEntry(BaseModel):
    """``[[oidc.groups]]`` as the file spells it; ``rule()`` is the checked mapping line."""

    model_config = SECTION
    group: Annotated[StrictStr, AfterValidator(_not_empty)]
    role: Annotated[StrictStr, AfterValidator(_not_empty)]
    departments: list[StrictStr] | None = None
    regions: list[StrictStr] | None = None
    grants: list[StrictStr] = Field(default_factory=list)

    @model_validator(mode="after")
    def _usable(self) -> GroupEntry:
        try:
            self.rule()
        except AccessProblem as problem:
            raise ValueError(str(problem)) from problem
        return self

    def rule(self) -> GroupRule:
        """The mapping line; ``AccessProblem`` for an unknown role or grant or a role/scope mismatch."""
        role = role_key(self.role)
        scope = Scope(
            departments=None if self.departments is None else frozenset(self.departments),
            regions=None if self.regions is None else frozenset(self.regions),
        )
        check_role_scope(role, scope)
        return GroupRule(self.group, role, scope, check_grants(self.grants))


class OidcSettings(BaseModel):
    """``[oidc]``: which provider, which claims, and the group → role mapping (first match wins)."""

    model_config = SECTION
    provider: StrictStr = ""
    groups_claim: StrictStr = "groups"
    name_claim: StrictStr = "email"
    groups: list[GroupEntry] = Field(default_factory=list)


class AccessFile(BaseModel):
    """The whole access settings file; every section and key is optional."""

    model_config = SECTION
    sign_in: SignInSettings = SignInSettings()
    audit: AuditSettings = AuditSettings()
    oidc: OidcSettings = OidcSettings()


_DEFAULTS = AccessFile()


@dataclass(frozen=True)
class AccessConfig:
    """The access settings as the cockpit reads them (defaults: the section models' defaults)."""

    max_failed_logins: int = _DEFAULTS.sign_in.max_failed_logins
    lockout_minutes: int = _DEFAULTS.sign_in.lockout_minutes
    session_hours: float = _DEFAULTS.sign_in.session_hours
    recheck_seconds: int = _DEFAULTS.sign_in.recheck_seconds
    min_password_length: int = _DEFAULTS.sign_in.min_password_length
    repeat_view_minutes: int = _DEFAULTS.audit.repeat_view_minutes
    oidc_provider: str = _DEFAULTS.oidc.provider
    oidc_groups_claim: str = _DEFAULTS.oidc.groups_claim
    oidc_name_claim: str = _DEFAULTS.oidc.name_claim
    oidc_groups: tuple[GroupRule, ...] = field(default_factory=tuple)
    source: Path | None = None


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
    checked = validate_file(AccessFile, read_toml(file, AccessProblem), file, AccessProblem)
    sign_in, oidc = checked.sign_in, checked.oidc
    return AccessConfig(
        max_failed_logins=sign_in.max_failed_logins,
        lockout_minutes=sign_in.lockout_minutes,
        session_hours=sign_in.session_hours,
        recheck_seconds=sign_in.recheck_seconds,
        min_password_length=sign_in.min_password_length,
        repeat_view_minutes=checked.audit.repeat_view_minutes,
        oidc_provider=oidc.provider,
        oidc_groups_claim=oidc.groups_claim,
        oidc_name_claim=oidc.name_claim,
        oidc_groups=tuple(entry.rule() for entry in oidc.groups),
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
