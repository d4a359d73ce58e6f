"""The audit trail: append-only, searchable, exported from the admin page, and each audited action once."""

from __future__ import annotations

import ast
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from dashboard.exports import downloads
from data_access.contract import schema
from data_access.contract.replace import CONTRACT_TABLES
from data_access.demo import cli
from data_access.runtime.engine import dispose_engine, get_engine
from data_access.security import accounts, audit, demo_users, logins, tokens
from tests import fixture_city as city
from tests.app_driver import audit_rows, go, on_login_page, rendered, sign_in, signed_in, start
from tests.conftest import PASSWORD

REPO = Path(__file__).resolve().parent.parent
T0 = dt.datetime(2026, 3, 1, 9, 0)


@pytest.fixture
def trail(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = get_engine(f"duckdb:///{tmp_path / 'trail.duckdb'}")
    yield engine
    dispose_engine(engine.url.render_as_string(hide_password=False))


def test_rows_are_recorded_and_searched(trail: sa.Engine) -> None:
    audit.record(trail, "login", user="alice", role="analyst", at=T0)
    audit.record(trail, "view", user="alice", page="services", filters={"district": ["330102"]}, rows=12, at=T0)
    audit.record(trail, "export", user="bob", page="explore", filters={"time": "2026-02"}, rows=3, at=T0)
    audit.record(trail, "view", user="bob", page="grid", at=T0 + dt.timedelta(days=2))
    assert audit.search(trail).height == 4
    assert sorted(audit.search(trail, user="alice")["action"].to_list()) == ["login", "view"]
    assert audit.search(trail, actions=["export"])["row_count"].to_list() == [3]
    assert audit.search(trail, text="330102")["page"].to_list() == ["services"]
    assert audit.search(trail, since=T0 + dt.timedelta(days=1))["page"].to_list() == ["grid"]
    assert audit.search(trail, until=T0 + dt.timedelta(days=1)).height == 3
    newest = audit.search(trail)["occurred_at"].to_list()
    assert newest == sorted(newest, reverse=True)
    stored = audit.search(trail, actions=["view"], user="alice").row(0, named=True)
    assert json.loads(stored["filters"]) == {"district": ["330102"]} and stored["row_count"] == 12


def test_search_input_is_data_not_sql(trail: sa.Engine) -> None:
    audit.record(trail, "view", user="alice", page="services", filters={"district": ["330102"]}, at=T0)
    for text in ("' OR '1'='1", "%", "_", "x'; DELETE FROM cockpit_audit; --"):
        assert audit.search(trail, text=text).height == 0, text  # wildcards are matched literally
    assert audit.search(trail, user="' OR 1=1 --").height == 0
    audit.record(trail, "view", user="bob", page="grid", filters={"note": "100% done_ok"}, at=T0)
    assert audit.search(trail, text="0% done_").height == 1
    assert audit.search(trail, text="%").height == 1
    assert audit.search(trail).height == 2, "nothing was deleted"
    with pytest.raises(audit.AuditProblem, match="unknown audit action"):
        audit.search(trail, actions=["drop"])
    with pytest.raises(audit.AuditProblem, match="unknown audit action 'erase'"):
        audit.record(trail, "erase")


def test_long_values_are_cut_to_their_columns(trail: sa.Engine) -> None:
    audit.record(trail, "login_failed", user="x" * 500, page="p" * 500, client="c" * 500, at=T0)
    row = audit.search(trail).row(0, named=True)
    assert len(row["user_name"]) == 64 and len(row["page"]) == 64 and len(row["client"]) == 64


def _writes_to_audit(node: ast.AST) -> bool:
    """``<something audit>.update(...)`` / ``.delete(...)`` or SQL text that updates or deletes it."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("update", "delete"):
        target = ast.unparse(node.func.value)
        return "audit" in target
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = " ".join(node.value.upper().split())
        return any(f"{verb} COCKPIT_AUDIT" in text for verb in ("UPDATE", "DELETE FROM", "TRUNCATE", "DROP TABLE"))
    return False


def test_no_code_path_updates_or_deletes_audit_rows() -> None:
    sources = [REPO / "streamlit_app.py", *REPO.glob("pages/*.py"), *REPO.rglob("dashboard/**/*.py")]
    sources += list(REPO.rglob("data_access/**/*.py"))
    # The walk follows the packages: it reads the audit module itself and the pages that audit.
    assert {"audit.py", "sign_in.py", "admin.py"} <= {path.name for path in sources}
    offending = []
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offending += [f"{path.name}:{node.lineno}" for node in ast.walk(tree) if _writes_to_audit(node)]  # type: ignore[attr-defined]
    assert offending == []
    # The check itself can fail: it finds the statement it forbids.
    assert _writes_to_audit(ast.parse("schema.audit_log.delete()").body[0].value)  # type: ignore[attr-defined]
    assert _writes_to_audit(ast.parse("'delete from cockpit_audit'").body[0].value)  # type: ignore[attr-defined]
    # The demo generator replaces the contract tables' rows, never the accounts, tokens or trail.
    assert set(schema.ACCESS_TABLES).isdisjoint(CONTRACT_TABLES)


# ---- each audited action exactly once, in the app -------------------------------------------------------


def actions(engine: sa.Engine, since: int = 0) -> list[tuple[str, str | None, str | None]]:
    return [(row["action"], row["user_name"], row["page"]) for row in audit_rows(engine)[since:]]


@pytest.mark.slow
def test_every_audited_action_appears_once(secured_city: tuple[sa.Engine, dict[str, str]]) -> None:
    engine, extra = secured_city
    before = len(audit_rows(engine))
    at = start()
    sign_in(at, "analyst", "wrong password!")
    assert actions(engine, before) == [("login_failed", "analyst", "login")]
    sign_in(at, "analyst", PASSWORD)
    assert actions(engine, before)[1:] == [("login", "analyst", "login"), ("view", "analyst", "cockpit")]
    at.run()  # the same page with the same filters again: no second view
    go(at, "pages/services.py")
    go(at, "pages/services.py")
    assert actions(engine, before)[3:] == [("view", "analyst", "services")]
    at.selectbox(key="district").set_value(city.D2).run()  # other filters: another view
    views = audit_rows(engine, "view")
    assert [city.D2] in json.loads(views[-1]["filters"]).values()  # the district chosen, as a filter
    assert views[-1]["row_count"] > 0
    go(at, "pages/explore.py")
    assert any(button.key.endswith("__export_csv") for button in at.download_button), "an analyst may export"
    # The file is made (and the download recorded) when the browser fetches it, outside any script
    # run — AppTest cannot fetch it, so make the file the way the menu's button does.
    data = pl.DataFrame({"district": [city.D1], "complaint_received": [2]})
    (csv_file,) = [f for f in downloads.export_files(None, data, title="趋势", stem="trend") if f.fmt == "csv"]
    event = downloads.ExportEvent("csv", "trend.csv", "趋势", "trend", 1, "analyst", "analyst", "/explore", {"a": 1})
    assert downloads._audited(csv_file, event)().startswith("\ufeff".encode())
    exports = audit_rows(engine, "export")
    assert len(exports) == 1 and exports[0]["user_name"] == "analyst" and exports[0]["page"] == "explore"
    assert exports[0]["row_count"] == 1 and json.loads(exports[0]["detail"])["file"] == "trend.csv"
    at.sidebar.button(key="auth_sign_out").click().run()
    assert [row["action"] for row in audit_rows(engine)[before:]].count("logout") == 1
    assert on_login_page(at)
    wall = start({"kiosk": "1", "screen_token": extra["wall_token"]})
    wall.run()
    assert len(audit_rows(engine, "token_use")) == 1
    assert [row["action"] for row in audit_rows(engine)[before:]].count("login") == 1


@pytest.mark.slow
def test_the_admin_searches_and_exports_the_trail(secured_city: tuple[sa.Engine, dict[str, str]]) -> None:
    engine, _ = secured_city
    at = start()
    sign_in(at, "head_d1", "wrong password!")
    sign_in(at, "admin", PASSWORD)
    go(at, "pages/audit.py")
    assert not at.error
    at.multiselect(key="audit_actions").set_value(["login_failed"]).run()
    (shown,) = [frame.value for frame in at.dataframe if "操作" in frame.value.columns]
    assert shown["用户"].tolist() == ["head_d1"] and shown["操作"].tolist() == ["登录失败"]
    at.download_button(key="audit_download").click().run()
    (export,) = audit_rows(engine, "export")
    assert export["page"] == "audit" and export["row_count"] == 1
    assert json.loads(export["filters"])["action"] == ["login_failed"]
    csv = pl.read_csv(io.BytesIO(audit.to_csv(audit.search(engine, actions=["login_failed"]))))
    assert csv["user_name"].to_list() == ["head_d1"]
    views = [row for row in audit_rows(engine, "view") if row["page"] == "audit"]
    assert views and views[-1]["row_count"] == 1


@pytest.mark.slow
def test_heads_cannot_open_the_audit_page(secured_city: tuple[sa.Engine, dict[str, str]]) -> None:
    at = signed_in("head_d1", PASSWORD)
    with pytest.raises(ValueError):
        at.switch_page("pages/audit.py")


# ---- demo accounts ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_demo_with_accounts_lists_them_on_its_own_login_page_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fast_hashes: None
) -> None:
    url = f"duckdb:///{tmp_path / 'demo.duckdb'}"
    args = ["--url", url, "--scale", "0.003", "--seed", "3", "--end", "2025-06-30"]
    assert cli.main([*args, "--with-accounts"]) == 0
    printed = capsys.readouterr().out
    assert all(f"demo account demo_{role}" in printed for role in ("leader", "head", "analyst", "admin", "screen"))
    engine = get_engine(url)
    listed = demo_users.demo_accounts(dict(engine.connect().execute(sa.select(schema.cockpit_meta)).all()))
    assert [entry["role"] for entry in listed] == ["leader", "department_head", "analyst", "admin", "screen"]
    for entry in listed[:4]:
        assert logins.authenticate(engine, entry["name"], entry["password"]).ok, entry["name"]
    assert tokens.token_sign_in(engine, listed[4]["token"]) is not None
    audit.record(engine, "view", user="demo_leader", page="cockpit")
    dispose_engine(url)

    monkeypatch.setenv("COCKPIT_DATABASE_URL", url)
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(tmp_path / "data"))
    at = start()
    assert on_login_page(at)
    page = rendered(at)
    assert all(entry["password"] in page for entry in listed[:4]) and listed[4]["token"] in page
    head = listed[1]
    sign_in(at, head["name"], head["password"])
    assert not on_login_page(at) and not at.error
    dispose_engine(url)

    # Regenerating the demo keeps accounts and trail, but lists no credentials unless asked again.
    assert cli.main(args) == 0
    engine = get_engine(url)
    assert len(accounts.list_accounts(engine)) == 5
    assert any(row["user_name"] == "demo_leader" and row["action"] == "view" for row in audit_rows(engine))
    assert demo_users.demo_accounts(dict(engine.connect().execute(sa.select(schema.cockpit_meta)).all())) == []
    dispose_engine(url)


@pytest.mark.slow
def test_no_other_database_shows_credentials(secured_city: tuple[sa.Engine, dict[str, str]]) -> None:
    engine, extra = secured_city
    with engine.begin() as connection:  # even a planted list is ignored outside a demo database
        connection.execute(
            schema.cockpit_meta.insert(),
            [{"key": demo_users.DEMO_META_KEY, "value": json.dumps([{"name": "x", "password": "planted-secret"}])}],
        )
    at = start()
    assert on_login_page(at) and "planted-secret" not in rendered(at) and extra["wall_token"] not in rendered(at)
