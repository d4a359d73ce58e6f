"""How the app is shown: the language, kiosk (wall-screen) mode and the kiosk playlist's rotation.

``?lang=en`` switches to English (zh by default); ``?kiosk=1`` hides all Streamlit chrome;
``?kiosk=1&rotate=30`` turns through the playlist every 30 seconds. These settings are read once
from the URL and remembered in the session, so page switches keep them.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from typing import Any

import streamlit as st

from dashboard.auth import sign_in
from dashboard.core.i18n import LANGUAGE_NAMES, LANGUAGES, normalise_language, t
from dashboard.screen import bigscreen

KIOSK_PARAM = "kiosk"
ROTATE_PARAM = "rotate"
MIN_ROTATE_SECONDS = 10
_TRUE = ("1", "true", "yes", "on")


def _leave_pages_directory_mode() -> None:
    """Make a deep link that is the first request after a server start go through streamlit_app.py.

    A ``pages/`` folder makes Streamlit start in its legacy multipage mode: until some run has called
    ``st.navigation``, a URL like ``/services`` executes ``pages/services.py`` on its own (no language
    switch, default sidebar listing file names, centred layout). A wall screen restarting with the
    server hits exactly that, so switch the process to ``st.navigation`` mode and rerun once.

    This touches a Streamlit internal because no public API does the job: ``st.navigation`` can only
    be called by a run, and the legacy mode has already picked the page file before any run starts;
    the ``pages/`` folder itself is the project's fixed layout. Without the internal (another
    Streamlit version) the function does nothing and the first deep link shows the legacy page once.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - a Streamlit without this internal
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


def language() -> str:
    """The viewer's language: the sidebar choice, first taken from ``?lang=``; zh by default."""
    _leave_pages_directory_mode()
    if "lang" not in st.session_state:
        st.session_state["lang"] = normalise_language(st.query_params.get("lang"))
    return normalise_language(st.session_state["lang"])


def kiosk_mode() -> bool:
    """``?kiosk=1``: a wall screen with no Streamlit chrome; remembered for the session."""
    if KIOSK_PARAM not in st.session_state:
        st.session_state[KIOSK_PARAM] = str(st.query_params.get(KIOSK_PARAM, "")).lower() in _TRUE
    return bool(st.session_state[KIOSK_PARAM])


def rotate_seconds() -> int | None:
    """``?kiosk=1&rotate=30``: seconds each page of the playlist stays on screen (kiosk mode only)."""
    if ROTATE_PARAM not in st.session_state:
        raw = str(st.query_params.get(ROTATE_PARAM, "")).strip()
        st.session_state[ROTATE_PARAM] = max(int(raw), MIN_ROTATE_SECONDS) if raw.isdigit() and int(raw) > 0 else 0
    seconds = int(st.session_state[ROTATE_PARAM])
    return seconds if seconds and kiosk_mode() else None


def setup() -> str:
    """Page config, kiosk chrome and the sidebar language switch; returns the language. Called by streamlit_app.py."""
    lang = language()
    kiosk = kiosk_mode()
    st.set_page_config(
        page_title=t("app_title", lang),
        layout="wide",
        initial_sidebar_state="collapsed" if kiosk else "auto",
    )
    if kiosk:  # no sidebar at all: the language comes from ?lang=
        st.html(bigscreen.KIOSK_CSS)
        return lang
    lang = normalise_language(
        st.sidebar.selectbox(t("language", lang), LANGUAGES, key="lang", format_func=LANGUAGE_NAMES.__getitem__)
    )
    if lang == "en":
        st.query_params["lang"] = "en"
    elif "lang" in st.query_params:
        del st.query_params["lang"]
    return lang


def kiosk_params(lang: str) -> dict[str, str]:
    """The query parameters that keep a wall screen in kiosk mode across page switches."""
    params = {KIOSK_PARAM: "1"}
    token = st.query_params.get(sign_in.TOKEN_PARAM)
    if token:  # a wall screen that reloads after a server restart signs itself in again
        params[sign_in.TOKEN_PARAM] = str(token)
    seconds = rotate_seconds()
    if seconds:
        params[ROTATE_PARAM] = str(seconds)
    if lang != "zh":
        params["lang"] = lang
    return params


def rotation(playlist: Sequence[Any], current: Any, seconds: int, lang: str) -> None:
    """Kiosk playlist: after ``seconds`` on screen, switch to the next page of ``playlist`` (cyclic).

    A fragment ticking every ``seconds`` in the browser; the page's own refresh fragment and any
    fragment-only rerun leave the page's start time alone, so each page gets its full time.
    """
    paths = [page.url_path for page in playlist]
    if current.url_path not in paths:
        return
    st.session_state["_rotation_since"] = time.monotonic()
    following = playlist[(paths.index(current.url_path) + 1) % len(playlist)]

    def turn() -> None:
        if time.monotonic() - st.session_state.get("_rotation_since", time.monotonic()) >= seconds - 1:
            st.switch_page(following, query_params=kiosk_params(lang))

    st.fragment(turn, run_every=dt.timedelta(seconds=seconds))()
