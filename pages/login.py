"""登录: the sign-in form, single sign-on when configured, and (demo databases only) the demo accounts."""

from __future__ import annotations

from dashboard import app_state, auth_ui

lang = app_state.language()
app_state.compact_layout()
auth_ui.login_page(lang)
