"""The login page: the sign-in form, single sign-on when configured, and a demo database's accounts.

The decisions (who may sign in, lock-out, sessions) are ``dashboard.auth.sign_in`` and
``data_access.security.users``; this module only draws the form and hands its values over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
import streamlit as st

from dashboard.auth import sign_in
from dashboard.core.i18n import t
from data_access.config.city import SettingsProblem, load_city
from data_access.runtime.engine import is_database_error, read_meta
from data_access.security import accounts, demo_users

if TYPE_CHECKING:
    import sqlalchemy as sa


def _city_name(lang: str) -> str:
    try:
        city = load_city()
    except SettingsProblem:
        return t("app_title", lang)
    return city.name_en if lang == "en" else city.name


def login_page(lang: str) -> None:
    """The login form, single sign-on when configured, and the demo accounts of a demo database."""
    engine = sign_in.accounts_engine(lang)
    st.title(f"{_city_name(lang)} · {t('page_login', lang)}")
    notice = st.session_state.get(sign_in.NOTICE_KEY)
    if notice:
        (st.warning if notice != "auth_signed_out" else st.info)(t(notice, lang))
    if sign_in.oidc_configured():
        st.button(t("auth_sso", lang), key="auth_sso", type="primary", on_click=_start_sso, args=(lang,))
    problem = st.session_state.get(sign_in.MESSAGE_KEY)
    with st.form("auth_login", border=True):
        st.text_input(t("auth_name", lang), key="auth_name", max_chars=accounts.NAME_MAX)
        st.text_input(t("auth_password", lang), key="auth_password", type="password")
        st.form_submit_button(t("auth_submit", lang), type="primary", on_click=_submit, args=(lang,))
    if problem:
        st.error(problem)
    _demo_accounts(engine, lang)


def _submit(lang: str) -> None:
    """The login form's callback: runs before the rerun, so the run that follows already shows the pages."""
    name = str(st.session_state.get("auth_name") or "")
    password = str(st.session_state.get("auth_password") or "")
    st.session_state["auth_password"] = ""  # the plain password does not stay in the session
    st.session_state.pop(sign_in.MESSAGE_KEY, None)
    if not name.strip() or not password:
        st.session_state[sign_in.MESSAGE_KEY] = t("auth_missing", lang)
        return
    message = sign_in.sign_in(sign_in.accounts_engine(lang), name, password, lang)
    if message is not None:
        st.session_state[sign_in.MESSAGE_KEY] = message


def _start_sso(lang: str) -> None:
    st.session_state.pop(sign_in.OIDC_DONE_KEY, None)
    try:
        st.login(sign_in.settings(lang).oidc_provider or None)
    except Exception as exc:  # Authlib missing, or the [auth] section incomplete
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        st.session_state[sign_in.MESSAGE_KEY] = t("auth_sso_problem", lang, message=reason)


def _demo_accounts(engine: sa.Engine, lang: str) -> None:
    """A demo database made with ``--with-accounts`` lists its accounts; no other database shows credentials."""
    try:
        listed = demo_users.demo_accounts(read_meta(engine))
    except Exception as exc:
        if not is_database_error(exc):
            raise
        return
    if not listed:
        return
    st.subheader(t("auth_demo_title", lang))
    st.caption(t("auth_demo_note", lang))
    frame = pl.DataFrame(
        {
            t("auth_name", lang): [entry.get("name", "") for entry in listed],
            t("auth_role", lang): [sign_in.role_label(entry.get("role"), lang) for entry in listed],
            t("auth_scope_column", lang): [entry.get("scope", "") for entry in listed],
            t("auth_password", lang): [entry.get("password", "") for entry in listed],
        }
    )
    st.dataframe(frame, hide_index=True, key="auth_demo_accounts")
    for entry in listed:
        if entry.get("token"):
            st.caption(t("auth_demo_screen", lang, name=entry.get("name", "")))
            st.code(f"?kiosk=1&{sign_in.TOKEN_PARAM}={entry['token']}", language=None)
