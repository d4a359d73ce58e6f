"""登录: the sign-in form, single sign-on when configured, and (demo databases only) the demo accounts."""

from __future__ import annotations

from dashboard.auth import sign_in
from dashboard.session import app_state

lang = app_state.language()
app_state.compact_layout()
sign_in.login_page(lang)
