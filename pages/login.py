"""登录: the sign-in form, single sign-on when configured, and (demo databases only) the demo accounts."""

from __future__ import annotations

from dashboard.auth import sign_in
from dashboard.session import display, furniture

lang = display.language()
furniture.compact_layout()
sign_in.login_page(lang)
