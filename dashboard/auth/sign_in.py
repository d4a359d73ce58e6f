"""The Streamlit glue of sign-in and the audit trail: the gate every run passes, the login page, sign-out,
and the record of what each session viewed and exported.

Decisions live elsewhere (``data_access.security.access``: roles, scopes, settings; ``data_access.security``'s
``accounts``, ``logins`` and ``tokens``: accounts, password sign-in, device tokens; ``data_access.security.audit``:
the trail); this module keeps the per-session state.

* **The gate** (``gate``, called by ``streamlit_app.py`` before navigation): a database without any
  account runs open (every page, whole city, a notice that sign-in is off); as soon as one account
  exists — or single sign-on is configured — a session sees only the login page until it signs in.
  A signed-in session is re-read from the database every ``recheck_seconds`` (a disabled account or
  revoked token ends it) and ends ``session_hours`` after sign-in (device tokens do not expire).
  If the database cannot be asked, the gate shows the database problem and stops: it never fails open.
* **Access** (``current_access``): what ``context.Context`` applies to every request a page makes.
* **Views** (``run_page``): the requests a page run made are summed into one ``view`` audit row per
  page and filters; the same view again within ``repeat_view_minutes`` is not written twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, NoReturn

import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

if TYPE_CHECKING:
    import sqlalchemy as sa

from dashboard.core.i18n import t
from data_access.runtime.cache import ResultCache
from data_access.runtime.engine import (
    DatabaseProblem,
    database_reason,
    get_engine,
    is_database_error,
    resolve_target,
)
from data_access.security import accounts, audit, logins, tokens
from data_access.security.access import (
    NOTHING,
    ROLES,
    AccessConfig,
    AccessProblem,
    Viewer,
    load_access,
    local_now,
    oidc_viewer,
)
from data_access.semantic.query import EVERYTHING, Scope

TOKEN_PARAM = "screen_token"
ACCESS_KEY = "_auth_access"
SIGNED_KEY = "_auth_signed"
NOTICE_KEY = "_auth_notice"
MESSAGE_KEY = "_auth_message"
TOKEN_TRIED_KEY = "_auth_token_tried"
OIDC_DONE_KEY = "_auth_oidc_done"
READS_KEY = "_auth_reads"
VIEWS_KEY = "_auth_views"
ACCOUNTS_TTL_SECONDS = 5
# The address of every page but the default one (the login page answers them all while signed out).
PAGE_PATHS: tuple[str, ...] = ("services", "complaints", "grid", "explore", "report", "admin", "audit")
log = logging.getLogger(__name__)
Mode = Literal["open", "signed_in", "signed_out"]

_accounts: ResultCache[bool] = ResultCache(ttl_seconds=ACCOUNTS_TTL_SECONDS, max_entries=16)


@dataclass(frozen=True)
class Access:
    """What this session may do in this run: ``open`` (no accounts), ``signed_in`` or ``signed_out``."""

    mode: Mode
    viewer: Viewer | None = None
    url: str = ""

    @property
    def scope(self) -> Scope:
        if self.mode == "open":
            return EVERYTHING
        return self.viewer.scope if self.viewer is not None else NOTHING

    @property
    def needs_sign_in(self) -> bool:
        return self.mode == "signed_out"

    def can(self, permission: str) -> bool:
        if self.mode == "open":
            return permission != "unmasked"  # no accounts: whole city, but personal data stays masked
        return self.viewer is not None and self.viewer.can(permission)

    @property
    def user(self) -> str | None:
        return self.viewer.name if self.viewer is not None else None

    @property
    def role(self) -> str | None:
        return self.viewer.role if self.viewer is not None else None


SIGNED_OUT = Access("signed_out")


@dataclass
class _Signed:
    """A session's sign-in: who, how, since when, when it was last re-read from the database."""

    viewer: Viewer
    signed_in_at: dt.datetime
    checked_at: float = field(default_factory=lambda: clock())


# ---- helpers ------------------------------------------------------------------------------------------


def clock() -> float:
    """Seconds on a monotonic clock (a function of its own, so tests can move it on)."""
    return time.monotonic()


def _session_id() -> str | None:
    ctx = get_script_run_ctx()
    value = getattr(ctx, "session_id", None)
    return value if isinstance(value, str) else None


def _client() -> str | None:
    try:
        value = st.context.ip_address
    except Exception:  # no browser behind this session (tests, bare mode)
        return None
    return value if isinstance(value, str) else None


def trace() -> dict[str, Any]:
    return {"session_id": _session_id(), "client": _client()}


def stop(message: str) -> NoReturn:
    st.error(message)
    st.stop()
    raise AssertionError("unreachable")


def settings(lang: str) -> AccessConfig:
    try:
        return load_access()
    except AccessProblem as problem:
        stop(t("settings_problem", lang, message=str(problem)))


def accounts_engine(lang: str) -> sa.Engine:
    try:
        return get_engine(resolve_target().url)
    except DatabaseProblem as problem:
        stop(t("db_problem", lang, message=str(problem)))


def _db_message(engine: sa.Engine, exc: Exception) -> str:
    reason = database_reason(exc)
    return f"{engine.url.render_as_string(hide_password=True)}: {reason}"


def oidc_configured() -> bool:
    """``[auth]`` in ``.streamlit/secrets.toml``: single sign-on through ``st.login`` is on."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def sign_in_enforced(engine: sa.Engine) -> bool:
    """True once any account exists or single sign-on is configured (checked at most every few seconds)."""
    if oidc_configured():
        return True
    key = engine.url.render_as_string(hide_password=False)
    return _accounts.get_or_load(key, lambda: accounts.account_count(engine) > 0)


def forget_accounts_check() -> None:
    _accounts.clear()


def record(engine: sa.Engine, action: str, **fields: Any) -> None:
    """Write an audit row; a failure is logged and never breaks the page (the trail needs INSERT rights)."""
    try:
        audit.record(engine, action, **trace(), **fields)
    except Exception:
        log.exception("could not write the audit row (%s)", action)


# ---- the gate ----------------------------------------------------------------------------------------------


def gate(lang: str) -> Access:
    """Decide this run's access (see the module docstring); stores it for ``current_access``."""
    engine = accounts_engine(lang)
    url = engine.url.render_as_string(hide_password=False)
    config = settings(lang)
    try:
        enforced = sign_in_enforced(engine)
    except Exception as exc:
        if not is_database_error(exc):
            raise
        stop(t("db_problem", lang, message=_db_message(engine, exc)))
    if not enforced:
        st.session_state.pop(SIGNED_KEY, None)
        access = Access("open", url=url)
        st.session_state[ACCESS_KEY] = access
        return access
    try:
        _token_sign_in(engine, lang)
        _oidc_sign_in(engine, config, lang)
        signed = _still_signed_in(engine, config)
    except Exception as exc:
        if not is_database_error(exc):
            raise
        stop(t("db_problem", lang, message=_db_message(engine, exc)))
    access = Access("signed_in", signed.viewer, url) if signed is not None else replace(SIGNED_OUT, url=url)
    st.session_state[ACCESS_KEY] = access
    return access


def _token_sign_in(engine: sa.Engine, lang: str) -> None:
    """``?screen_token=`` signs a wall screen in (once per session and token; audited as token use)."""
    token = str(st.query_params.get(TOKEN_PARAM, "")).strip()
    if not token or st.session_state.get(TOKEN_TRIED_KEY) == token:
        return
    st.session_state[TOKEN_TRIED_KEY] = token
    viewer = tokens.token_sign_in(engine, token, **trace())
    if viewer is None:
        st.session_state.pop(SIGNED_KEY, None)
        st.session_state[NOTICE_KEY] = "auth_token_invalid"
        return
    st.session_state[SIGNED_KEY] = _Signed(viewer, local_now())
    st.session_state.pop(NOTICE_KEY, None)


def _oidc_sign_in(engine: sa.Engine, config: AccessConfig, lang: str) -> None:
    """An identity the provider signed in (``st.user``) becomes a viewer through the group mapping."""
    if SIGNED_KEY in st.session_state or st.session_state.get(OIDC_DONE_KEY) or not oidc_configured():
        return  # signed in already, or this session's single sign-on ended (signed out, expired, unmapped)
    try:
        logged_in = bool(st.user.is_logged_in)
    except Exception:
        return
    if not logged_in:
        return
    claims = {key: st.user[key] for key in st.user}
    viewer = oidc_viewer(claims, config)
    if viewer is None:
        record(engine, "login_failed", user=str(claims.get(config.oidc_name_claim) or "")[:64] or None,
               page="login", detail={"reason": "no_group_mapping", "method": "oidc"})  # fmt: skip
        st.session_state[OIDC_DONE_KEY] = True
        st.session_state[NOTICE_KEY] = "auth_sso_unmapped"
        return
    st.session_state[SIGNED_KEY] = _Signed(viewer, local_now())
    record(engine, "login", user=viewer.name, role=viewer.role, page="login", detail={"method": "oidc"})


def _still_signed_in(engine: sa.Engine, config: AccessConfig) -> _Signed | None:
    """The session's sign-in if it has not expired and the account may still sign in (re-read when due)."""
    signed: _Signed | None = st.session_state.get(SIGNED_KEY)
    if signed is None:
        return None
    viewer = signed.viewer
    if viewer.method != "token" and local_now() - signed.signed_in_at > dt.timedelta(hours=config.session_hours):
        _end(engine, signed, "expired", "auth_expired")
        return None
    if clock() - signed.checked_at >= config.recheck_seconds:
        fresh = logins.current_viewer(engine, viewer)
        if fresh is None:
            _end(engine, signed, "revoked", "auth_revoked")
            return None
        signed.viewer, signed.checked_at = fresh, clock()
    return signed


def _end(engine: sa.Engine, signed: _Signed, reason: str, notice: str) -> None:
    viewer = signed.viewer
    st.session_state.pop(SIGNED_KEY, None)
    st.session_state[NOTICE_KEY] = notice
    record(engine, "logout", user=viewer.name, role=viewer.role, detail={"reason": reason, "method": viewer.method})
    if viewer.method == "oidc":
        st.session_state[OIDC_DONE_KEY] = True
        with _quietly():
            st.logout()


@contextmanager
def _quietly() -> Iterator[None]:
    try:
        yield
    except Exception:
        log.exception("single sign-on logout failed")


def current_access(engine: sa.Engine | None = None) -> Access:
    """This run's access, as the gate decided it; signed out (sees nothing) when the gate has not run.

    With ``engine``, a signed-in session that is due is re-read first; if it has ended meanwhile
    (a wall screen's token revoked while its page refreshes itself) the whole app reruns, so the
    gate shows the login page instead of the last numbers.
    """
    access: Access = st.session_state.get(ACCESS_KEY, SIGNED_OUT)
    if engine is None or access.mode != "signed_in":
        return access
    signed = _still_signed_in(engine, settings(st.session_state.get("lang", "zh")))
    if signed is None:
        st.session_state[ACCESS_KEY] = SIGNED_OUT
        st.rerun()
    if signed.viewer != access.viewer:
        access = replace(access, viewer=signed.viewer)
        st.session_state[ACCESS_KEY] = access
    return access


def sign_in(engine: sa.Engine, name: str, password: str, lang: str) -> str | None:
    """Check a password (audited); on success the session is signed in. Returns the message to show, or None."""
    outcome = logins.authenticate(engine, name, password, config=settings(lang), **trace())
    if outcome.ok and outcome.viewer is not None:
        st.session_state[SIGNED_KEY] = _Signed(outcome.viewer, local_now())
        st.session_state.pop(NOTICE_KEY, None)
        st.session_state.pop(VIEWS_KEY, None)
        return None
    if outcome.outcome is logins.Outcome.LOCKED and outcome.locked_until is not None:
        return t("auth_locked", lang, time=f"{outcome.locked_until:%H:%M}")
    if outcome.outcome is logins.Outcome.DISABLED:
        return t("auth_disabled", lang)
    if outcome.outcome is logins.Outcome.NO_PASSWORD:
        return t("auth_no_password", lang)
    return t("auth_failed", lang)


def sign_out() -> None:
    """The sidebar's sign-out button (an on_click callback: runs before the rerun)."""
    signed: _Signed | None = st.session_state.get(SIGNED_KEY)
    if signed is None:
        return
    try:
        engine = get_engine(resolve_target().url)
    except DatabaseProblem:
        engine = None
    if engine is not None:
        viewer = signed.viewer
        record(engine, "logout", user=viewer.name, role=viewer.role, detail={"reason": "sign_out"})
    for key in (SIGNED_KEY, ACCESS_KEY, VIEWS_KEY, TOKEN_TRIED_KEY):
        st.session_state.pop(key, None)
    st.session_state[NOTICE_KEY] = "auth_signed_out"
    if signed.viewer.method == "oidc":
        st.session_state[OIDC_DONE_KEY] = True
        with _quietly():
            st.logout()


# ---- what the pages show -------------------------------------------------------------------------------------


def role_label(role: str | None, lang: str) -> str:
    return t(f"role_{role}", lang) if role in ROLES else "—"


def sidebar(access: Access, lang: str, scope_text: str | None = None) -> None:
    """Open mode: the notice that sign-in is off. Signed in: who, with which role and scope; sign-out."""
    if access.mode == "open":
        st.sidebar.warning(t("auth_off", lang))
        return
    viewer = access.viewer
    if viewer is None:
        return
    st.sidebar.caption(t("auth_signed_in_as", lang, name=viewer.label, role=role_label(viewer.role, lang)))
    if scope_text:
        st.sidebar.caption(t("auth_scope", lang, scope=scope_text))
    st.sidebar.button(t("auth_sign_out", lang), key="auth_sign_out", on_click=sign_out)


def require(permission: str, lang: str) -> None:
    """Stop a page that this session's role may not open (navigation hides it too; this is the second lock)."""
    if not current_access().can(permission):
        stop(t("auth_forbidden", lang))
