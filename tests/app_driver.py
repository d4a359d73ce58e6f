"""Driving the app as a signed-in viewer (Streamlit AppTest), and reading back everything it rendered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from google.protobuf import text_format
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Dataframe, Element

from data_access.contract import schema

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
DATA_PAGES = ("pages/cockpit.py", "pages/services.py", "pages/complaints.py", "pages/grid.py", "pages/explore.py")
ADMIN_PAGES = ("pages/admin.py", "pages/audit.py")


def start(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def login_button(at: AppTest) -> Any:
    return next(button for button in at.button if button.proto.is_form_submitter)


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="auth_name").input(name)
    at.text_input(key="auth_password").input(password)
    login_button(at).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def signed_in(name: str, password: str, params: dict[str, str] | None = None) -> AppTest:
    at = sign_in(start(params), name, password)
    assert not at.error, [e.value for e in at.error]
    return at


def on_login_page(at: AppTest) -> bool:
    return any(node.key == "auth_name" for node in at.text_input)


def go(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def rendered(at: AppTest) -> str:
    """Every element of the page as text: protos (UTF-8), chart specs (decoded JSON) and table cells."""
    parts: list[str] = []
    for node in at._tree:
        if not isinstance(node, Element):
            continue
        if isinstance(node, Dataframe):
            parts.append(node.value.to_csv())
            continue
        proto = node.proto
        spec = getattr(proto, "spec", None)
        if isinstance(spec, str) and spec.startswith("{"):
            parts.append(json.dumps(json.loads(spec), ensure_ascii=False))
        parts.append(text_format.MessageToString(proto, as_utf8=True))
    return "\n".join(parts)


def audit_rows(engine: sa.Engine, action: str | None = None) -> list[dict[str, Any]]:
    a = schema.audit_log.c
    statement = sa.select(schema.audit_log).order_by(a.occurred_at, a.id)
    if action is not None:
        statement = statement.where(a.action == action)
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(statement).mappings()]


def html_text(at: AppTest) -> str:
    """Everything drawn with st.html (the big screen's cards, rankings and ticker)."""
    return "\n".join(element.proto.body for element in at.get("html"))


def kpis(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}
