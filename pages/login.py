"""登录: the sign-in form, single sign-on when configured, and (demo databases only) the demo accounts."""

from __future__ import annotations

from dashboard.auth import login_page
from dashboard.session import display, furniture

lang = display.language()
furniture.compact_layout()
login_page.login_page(lang)
