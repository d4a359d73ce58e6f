"""Accounts, passwords, lock-out, sessions, device tokens, single-sign-on mapping and the sign-in gate.

Database tests use the tiny literal city (``tests/fixture_city.py``) in a file of their own; the
argon2 cost parameters are lowered for speed (``fast_hashes``), the code path is the same.
"""

from __future__ import annotations

import datetime as dt
import getpass
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard.auth import sign_in as auth_ui
from data_access.config.validation import setting_keys
from data_access.contract import schema
from data_access.runtime.engine import dispose_engine, get_engine
from data_access.security import accounts as account_store
from data_access.security import audit, logins, tokens, users
from data_access.security.access import (
    AccessConfig,
    AccessProblem,
    GroupRule,
    Viewer,
    intersect,
    load_access,
    local_now,
    oidc_viewer,
    parse_scope,
    role_key,
    visible_regions,
)
from data_access.semantic.query import Scope
from tests import fixture_city as city
from tests.app_driver import ADMIN_PAGES, APP, DATA_PAGES, audit_rows, go, on_login_page, sign_in, signed_in, start
from tests.conftest import PASSWORD

PARENTS = {row["code"]: row["parent_code"] for row in city.REGIONS}
CONFIG = AccessConfig()


@pytest.fixture
def accounts(tmp_path: Path, fast_hashes: None) -> Iterator[sa.Engine]:
    url = f"duckdb:///{tmp_path / 'accounts.duckdb'}"
    engine = get_engine(url)
    city.load(engine)
    yield engine
    dispose_engine(url)


# ---- passwords and lock-out --------------------------------------------------------------------------


def test_passwords_are_stored_as_salted_argon2id_hashes(accounts: sa.Engine) -> None:
    account_store.add_user(accounts, "alice", "analyst", password=PASSWORD, actor="test")
    account_store.add_user(accounts, "bob", "analyst", password=PASSWORD, actor="test")
    with accounts.connect() as connection:
        hashes = dict(connection.execute(sa.select(schema.users.c.name, schema.users.c.password_hash)).all())
        dump = json.dumps([list(row) for row in connection.execute(sa.select(schema.users)).all()], default=str)
    assert all(value.startswith("$argon2id$") for value in hashes.values())
    assert hashes["alice"] != hashes["bob"], "same password, different salt"
    assert PASSWORD not in dump


def test_sign_in_counts_failures_and_locks_the_account(accounts: sa.Engine) -> None:
    account_store.add_user(accounts, "alice", "analyst", password=PASSWORD, actor="test")
    config = AccessConfig(max_failed_logins=3, lockout_minutes=15)
    now = dt.datetime(2026, 3, 1, 9, 0)
    assert logins.authenticate(accounts, "alice", PASSWORD, config=config, now=now).ok
    for attempt in (1, 2):
        result = logins.authenticate(accounts, "alice", "wrong password", config=config, now=now)
        assert result.outcome is logins.Outcome.WRONG_PASSWORD
        assert account_store.get_account(accounts, "alice").failed_logins == attempt  # type: ignore[union-attr]
    third = logins.authenticate(accounts, "alice", "wrong password", config=config, now=now)
    assert third.outcome is logins.Outcome.LOCKED and third.locked_until == now + dt.timedelta(minutes=15)
    # Locked: even the right password is refused until the lock runs out.
    during = logins.authenticate(accounts, "alice", PASSWORD, config=config, now=now + dt.timedelta(minutes=14))
    assert during.outcome is logins.Outcome.LOCKED
    after = logins.authenticate(accounts, "alice", PASSWORD, config=config, now=now + dt.timedelta(minutes=16))
    assert after.ok and after.viewer is not None and after.viewer.role == "analyst"
    account = account_store.get_account(accounts, "alice")
    assert account is not None and account.failed_logins == 0 and account.locked_until is None
    failed = audit_rows(accounts, "login_failed")
    assert [json.loads(row["detail"])["reason"] for row in failed] == ["wrong_password"] * 3 + ["locked"]
    assert len(audit_rows(accounts, "login")) == 2


def test_a_success_resets_the_failure_count(accounts: sa.Engine) -> None:
    account_store.add_user(accounts, "alice", "analyst", password=PASSWORD, actor="test")
    config = AccessConfig(max_failed_logins=2)
    assert not logins.authenticate(accounts, "alice", "nope nope nope", config=config).ok
    assert logins.authenticate(accounts, "alice", PASSWORD, config=config).ok
    assert (
        logins.authenticate(accounts, "alice", "nope nope nope", config=config).outcome is logins.Outcome.WRONG_PASSWORD
    )


def test_unknown_disabled_and_passwordless_accounts(accounts: sa.Engine) -> None:
    account_store.add_user(accounts, "alice", "analyst", password=PASSWORD, actor="test")
    account_store.add_user(accounts, "wall", "screen", actor="test")
    assert logins.authenticate(accounts, "nobody", PASSWORD).outcome is logins.Outcome.UNKNOWN
    assert logins.authenticate(accounts, "wall", PASSWORD).outcome is logins.Outcome.NO_PASSWORD
    account_store.set_disabled(accounts, "alice", True, actor="test")
    # A disabled account is named as such only to someone who knows its password.
    assert logins.authenticate(accounts, "alice", "wrong password").outcome is logins.Outcome.WRONG_PASSWORD
    assert logins.authenticate(accounts, "alice", PASSWORD).outcome is logins.Outcome.DISABLED
    account_store.set_disabled(accounts, "alice", False, actor="test")
    assert logins.authenticate(accounts, "alice", PASSWORD).ok


def test_password_and_role_rules_are_named(accounts: sa.Engine) -> None:
    with pytest.raises(account_store.UserProblem, match="shorter than 10"):
        account_store.add_user(accounts, "alice", "analyst", password="short", actor="test")
    with pytest.raises(account_store.UserProblem, match="must not be the account name"):
        account_store.add_user(accounts, "alice_smith", "analyst", password="Alice_Smith", actor="test")
    with pytest.raises(AccessProblem, match=r"leader .* whole city"):
        account_store.add_user(
            accounts, "boss", "leader", password=PASSWORD, scope=Scope(regions=frozenset({city.D1})), actor="t"
        )
    with pytest.raises(AccessProblem, match=r"department head .* needs"):
        account_store.add_user(accounts, "head", "department_head", password=PASSWORD, actor="test")
    with pytest.raises(account_store.UserProblem, match="unknown region code"):
        account_store.add_user(
            accounts, "head", "部门负责人", password=PASSWORD, scope=Scope(regions=frozenset({"330199"})), actor="t"
        )
    with pytest.raises(AccessProblem, match="unknown role 'mayor'"):
        role_key("mayor")
    with pytest.raises(account_store.UserProblem, match="device token, not a password"):
        account_store.add_user(accounts, "wall", "screen", password=PASSWORD, actor="test")
    with pytest.raises(AccessProblem, match="unknown grant"):
        account_store.add_user(accounts, "alice", "analyst", password=PASSWORD, grants=("superuser",), actor="test")
    assert account_store.list_accounts(accounts) == []  # nothing half-written


# ---- the command line ---------------------------------------------------------------------------------


def cli(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return users.main(["--url", engine.url.render_as_string(hide_password=False), *args])


def test_cli_adds_grants_disables_and_lists(
    accounts: sa.Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = accounts.url.render_as_string(hide_password=False)
    dispose_engine(url)  # the CLI opens and closes its own engine, as it would in its own process
    args = ("add", "xihu_head", "--role", "部门负责人", "--scope", f"region={city.D2}", "--password-stdin")
    assert cli(accounts, monkeypatch, *args, stdin=PASSWORD + "\n") == 0
    assert "added xihu_head (department_head, region=330106)" in capsys.readouterr().out
    engine = get_engine(url)
    assert logins.authenticate(engine, "xihu_head", PASSWORD).ok
    assert cli(engine, monkeypatch, "grant", "xihu_head", "--scope", f"department={city.B}", "--grant", "unmasked") == 0
    account = account_store.get_account(get_engine(url), "xihu_head")
    assert account is not None
    assert account.scope == Scope(departments=frozenset({city.B})) and account.grants == {"unmasked"}
    assert cli(get_engine(url), monkeypatch, "disable", "xihu_head") == 0
    assert cli(get_engine(url), monkeypatch, "list") == 0
    listed = capsys.readouterr().out
    assert "xihu_head\tdepartment_head\tdepartment=DEP_B\tgrants=unmasked\tdisabled" in listed
    assert cli(get_engine(url), monkeypatch, "add", "x", "--role", "king", "--password-stdin", stdin="a\n") == 2
    assert "unknown role 'king'" in capsys.readouterr().err
    assert cli(get_engine(url), monkeypatch, "grant", "ghost", "--role", "analyst") == 2
    assert "no account named 'ghost'" in capsys.readouterr().err
    changes = [json.loads(row["detail"])["change"] for row in audit_rows(get_engine(url), "user_change")]
    assert changes == ["add", "grant", "disable"], "every change once, failed commands none"
    assert {row["user_name"] for row in audit_rows(get_engine(url), "user_change")} == {f"cli:{getpass.getuser()}"}


# ---- device tokens ------------------------------------------------------------------------------------------


def test_device_tokens_are_stored_hashed_used_once_audited_and_revocable(accounts: sa.Engine) -> None:
    account_store.add_user(accounts, "wall", "screen", actor="admin")
    token_id, token = tokens.issue_token(accounts, "wall", actor="admin", label="城运中心")
    secret = token.split("_", 2)[2]
    with accounts.connect() as connection:
        stored = connection.execute(sa.select(schema.device_tokens)).mappings().one()
    assert secret not in json.dumps(dict(stored), default=str) and len(stored["token_hash"]) == 64
    viewer = tokens.token_sign_in(accounts, token)
    assert viewer == Viewer(name="wall", role="screen", method="token", token_id=token_id)
    assert len(audit_rows(accounts, "token_use")) == 1
    assert tokens.token_sign_in(accounts, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert tokens.token_sign_in(accounts, "cst_' OR 1=1 --_x") is None
    tokens.revoke_token(accounts, token_id, actor="admin")
    assert tokens.token_sign_in(accounts, token) is None
    assert logins.current_viewer(accounts, viewer) is None, "a screen already on sees the revocation"
    reasons = [json.loads(row["detail"])["reason"] for row in audit_rows(accounts, "login_failed")]
    assert reasons == ["unknown_token", "unknown_token", "revoked_token"]
    with pytest.raises(account_store.UserProblem, match="not a screen"):
        account_store.add_user(accounts, "alice", "analyst", password=PASSWORD, actor="t")
        tokens.issue_token(accounts, "alice", actor="admin")


def test_an_expired_token_signs_nothing_in(accounts: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    account_store.add_user(accounts, "wall", "screen", actor="admin")
    _, token = tokens.issue_token(accounts, "wall", actor="admin", days=1)
    assert tokens.token_sign_in(accounts, token) is not None
    later = local_now() + dt.timedelta(days=2)
    monkeypatch.setattr(tokens, "local_now", lambda: later)
    assert tokens.token_sign_in(accounts, token) is None


# ---- scope arithmetic and settings (pure) ----------------------------------------------------------------


def test_scopes_intersect_across_region_levels() -> None:
    d1, s1, c1 = (frozenset({code}) for code in (city.D1, city.S1, city.C1))
    assert intersect(Scope(regions=d1), Scope(regions=s1), PARENTS) == Scope(regions=s1)
    assert intersect(Scope(regions=c1), Scope(regions=d1), PARENTS) == Scope(regions=c1)
    assert intersect(Scope(regions=d1), Scope(regions=frozenset({city.S2})), PARENTS) == Scope(regions=frozenset())
    both = intersect(Scope(departments=frozenset({city.A, city.B})), Scope(departments=frozenset({city.B})), PARENTS)
    assert both == Scope(departments=frozenset({city.B}))
    mixed = intersect(Scope(departments=frozenset({city.A})), Scope(regions=d1), PARENTS)
    assert mixed == Scope(departments=frozenset({city.A}), regions=d1)
    assert intersect(Scope(), Scope(regions=d1), PARENTS) == Scope(regions=d1)


def test_visible_regions_are_own_below_and_above() -> None:
    assert visible_regions(Scope(regions=frozenset({city.S1})), PARENTS) == {city.D1, city.S1, city.C1, city.G1}
    assert visible_regions(Scope(departments=frozenset({city.A})), PARENTS) is None


def test_scope_parsing() -> None:
    assert parse_scope(["department=A,B", "region=330102"]) == Scope(frozenset({"A", "B"}), frozenset({"330102"}))
    assert parse_scope([]) == Scope()
    with pytest.raises(AccessProblem, match="expected department=CODE"):
        parse_scope(["district=330102"])


def test_access_settings_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_access() == AccessConfig(source=load_access().source)  # the shipped file holds the defaults
    path = tmp_path / "access.toml"
    path.write_text("[sign_in]\nmax_failed_logins = '5'\n", "utf-8")
    with pytest.raises(AccessProblem, match=r"\[sign_in\] max_failed_logins = '5' must be int"):
        load_access(path)
    path.write_text("[sign_in]\nlockout = 5\n", "utf-8")
    with pytest.raises(AccessProblem, match="unknown key 'lockout' in \\[sign_in\\]"):
        load_access(path)
    path.write_text('[[oidc.groups]]\ngroup = "g"\nrole = "leader"\nregions = ["330102"]\n', "utf-8")
    with pytest.raises(AccessProblem, match=r"oidc.groups\[0\].*leader"):
        load_access(path)
    monkeypatch.setenv("COCKPIT_ACCESS", str(tmp_path / "absent.toml"))
    with pytest.raises(AccessProblem, match="does not exist"):
        load_access()


def test_single_sign_on_groups_map_to_roles_first_match_wins(tmp_path: Path) -> None:
    path = tmp_path / "access.toml"
    path.write_text(
        """
[oidc]
groups_claim = "groups"
name_claim = "preferred_username"

[[oidc.groups]]
group = "cockpit-admins"
role = "admin"

[[oidc.groups]]
group = "shangcheng-heads"
role = "部门负责人"
regions = ["330102"]
grants = ["unmasked"]

[[oidc.groups]]
group = "city-staff"
role = "leader"
""",
        "utf-8",
    )
    config = load_access(path)
    assert config.oidc_groups[1] == GroupRule(
        "shangcheng-heads", "department_head", Scope(regions=frozenset({"330102"})), frozenset({"unmasked"})
    )
    head = oidc_viewer({"preferred_username": "wang", "groups": ["city-staff", "shangcheng-heads"]}, config)
    assert head == Viewer(
        name="wang",
        role="department_head",
        scope=Scope(regions=frozenset({"330102"})),
        grants=frozenset({"unmasked"}),
        method="oidc",
    )
    assert oidc_viewer({"preferred_username": "li", "groups": "city-staff"}, config).role == "leader"  # type: ignore[union-attr]
    assert oidc_viewer({"preferred_username": "zhao", "groups": ["visitors"]}, config) is None
    assert oidc_viewer({"groups": ["cockpit-admins"]}, config) is None, "no name, no entry"


# ---- the gate, in the app ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_database_without_accounts_runs_open_with_a_notice(tiny_app: sa.Engine) -> None:
    at = start()
    assert not on_login_page(at)
    assert any("未启用登录" in warning.value for warning in at.sidebar.warning)
    go(at, "pages/audit.py")  # open mode: every page, the audit trail too
    assert not at.error


@pytest.mark.slow
def test_one_account_turns_sign_in_on(secured_city: tuple[sa.Engine, dict[str, str]]) -> None:
    at = start()
    assert on_login_page(at)
    assert not at.metric and not at.get("plotly_chart") and "上城区" not in str(at._tree)
    for page in (*DATA_PAGES, *ADMIN_PAGES):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)
    sign_in(at, "leader", "not the password")
    assert on_login_page(at) and at.error[0].value == "用户名或密码错误。"
    sign_in(at, "nobody", PASSWORD)
    assert at.error[0].value == "用户名或密码错误。", "an unknown name reads like a wrong password"


@pytest.mark.slow
def test_roles_see_their_pages(secured_city: tuple[sa.Engine, dict[str, str]]) -> None:
    _, extra = secured_city
    for name, allowed in (("leader", DATA_PAGES), ("analyst", DATA_PAGES), ("admin", (*DATA_PAGES, *ADMIN_PAGES))):
        at = signed_in(name, PASSWORD)
        for page in allowed:
            go(at, page)
            assert not at.error, (name, page)
        for page in set(ADMIN_PAGES) - set(allowed):
            with pytest.raises(ValueError):
                at.switch_page(page)
    wall = start({"kiosk": "1", "screen_token": extra["wall_token"]})
    assert not on_login_page(wall)
    for page in DATA_PAGES[:4]:
        go(wall, page)
    with pytest.raises(ValueError):
        wall.switch_page("pages/explore.py")


@pytest.mark.slow
def test_the_sidebar_says_who_and_signs_out(secured_city: tuple[sa.Engine, dict[str, str]]) -> None:
    engine, _ = secured_city
    at = signed_in("head_d1", PASSWORD)
    captions = [caption.value for caption in at.sidebar.caption]
    assert "已登录：head_d1（部门负责人）" in captions and "数据范围：上城区" in captions
    at.sidebar.button(key="auth_sign_out").click().run()
    assert on_login_page(at) and any("已退出登录" in info.value for info in at.info)
    assert [json.loads(row["detail"])["reason"] for row in audit_rows(engine, "logout")] == ["sign_out"]


@pytest.mark.slow
def test_a_session_expires(secured_city: tuple[sa.Engine, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    engine, _ = secured_city
    at = signed_in("analyst", PASSWORD)
    later = local_now() + dt.timedelta(hours=9)  # the default session lasts 8 hours
    monkeypatch.setattr(auth_ui, "local_now", lambda: later)
    at.run()
    assert on_login_page(at) and any("登录已过期" in warning.value for warning in at.warning)
    assert [json.loads(row["detail"])["reason"] for row in audit_rows(engine, "logout")] == ["expired"]


@pytest.mark.slow
def test_disabling_an_account_or_revoking_a_token_ends_open_sessions(
    secured_city: tuple[sa.Engine, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, extra = secured_city
    settings = tmp_path / "access.toml"
    settings.write_text("[sign_in]\nrecheck_seconds = 1\n", "utf-8")
    monkeypatch.setenv("COCKPIT_ACCESS", str(settings))
    clock = [1000.0]
    monkeypatch.setattr(auth_ui, "clock", lambda: clock[0])
    at = signed_in("analyst", PASSWORD)
    wall = start({"kiosk": "1", "screen_token": extra["wall_token"]})
    assert not on_login_page(at) and not on_login_page(wall)
    account_store.set_disabled(engine, "analyst", True, actor="test")
    (token_id,) = tokens.list_tokens(engine)["id"].to_list()
    tokens.revoke_token(engine, token_id, actor="test")
    clock[0] += 2
    at.run()
    wall.run()
    assert on_login_page(at) and on_login_page(wall)
    assert any("大屏设备令牌无效" in warning.value or "权限已变更" in warning.value for warning in wall.warning)
    reasons = sorted(json.loads(row["detail"])["reason"] for row in audit_rows(engine, "logout"))
    assert reasons == ["revoked", "revoked"]


@pytest.mark.slow
def test_a_bad_token_shows_the_login_page_with_a_notice(secured_city: tuple[sa.Engine, dict[str, str]]) -> None:
    engine, _ = secured_city
    at = start({"kiosk": "1", "screen_token": "cst_00000000_guess"})
    assert on_login_page(at) and any("设备令牌无效" in warning.value for warning in at.warning)
    at.run()  # the same session does not try (and audit) the same bad token again
    assert len([row for row in audit_rows(engine, "login_failed") if row["page"] == "kiosk"]) == 1


@pytest.mark.slow
def test_the_gate_never_fails_open(
    secured_city: tuple[sa.Engine, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(engine: sa.Engine) -> int:
        raise sa.exc.OperationalError("SELECT count(*)", {}, Exception("server closed the connection"))

    monkeypatch.setattr(account_store, "account_count", broken)
    at = start()
    assert len(at.error) == 1 and "server closed the connection" in at.error[0].value
    assert not at.metric and not on_login_page(at)


@pytest.mark.slow
def test_audit_rows_survive_a_failing_write(
    secured_city: tuple[sa.Engine, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database that refuses the audit INSERT does not break the page (the problem is logged)."""

    def refuse(*args: object, **kwargs: object) -> str:
        raise sa.exc.OperationalError("INSERT", {}, Exception("permission denied for table cockpit_audit"))

    at = signed_in("leader", PASSWORD)
    monkeypatch.setattr(audit, "record", refuse)
    go(at, "pages/services.py")
    assert not at.error and at.metric


def test_every_access_setting_is_documented(repo_root: Path) -> None:
    """Every key the access model accepts (walked from the pydantic models) is named in the docs."""
    from data_access.security import access

    doc = (repo_root / "docs" / "configuration.md").read_text(encoding="utf-8")
    keys = list(setting_keys(access.AccessFile))
    assert {"sign_in", "max_failed_logins", "audit", "repeat_view_minutes", "oidc", "groups_claim"} <= set(keys)
    assert {"groups", "group", "role", "departments", "regions", "grants"} <= set(keys)
    keys += [access.ACCESS_ENV, auth_ui.TOKEN_PARAM]
    assert [key for key in keys if f"`{key}`" not in doc and f"[{key}]" not in doc] == []


@pytest.mark.slow
@pytest.mark.xdist_group("servers")
@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_accounts_tokens_and_trail_work_on_the_servers(
    kind: str, request: pytest.FixtureRequest, fast_hashes: None
) -> None:
    engine: sa.Engine = request.getfixturevalue({"postgresql": "postgres_engine", "mysql": "mysql_engine"}[kind])
    city.load(engine)
    try:
        account_store.add_user(
            engine,
            "head",
            "department_head",
            password=PASSWORD,
            scope=Scope(regions=frozenset({city.D1})),
            actor="test",
        )
        assert logins.authenticate(engine, "head", "wrong password!").outcome is logins.Outcome.WRONG_PASSWORD
        signed = logins.authenticate(engine, "head", PASSWORD)
        assert signed.ok and signed.viewer is not None and signed.viewer.scope == Scope(regions=frozenset({city.D1}))
        account_store.add_user(engine, "wall", "screen", actor="test")
        token_id, token = tokens.issue_token(engine, "wall", actor="test", days=3)
        assert tokens.token_sign_in(engine, token) is not None
        tokens.revoke_token(engine, token_id, actor="test")
        assert tokens.token_sign_in(engine, token) is None
        assert account_store.account_count(engine) == 2
        found = audit.search(engine, actions=["login_failed"])
        assert sorted(json.loads(detail)["reason"] for detail in found["detail"].to_list()) == [
            "revoked_token",
            "wrong_password",
        ]
        assert audit.search(engine, text="token_revoke").height == 1
    finally:
        schema.metadata.drop_all(engine, tables=list(schema.ACCESS_TABLES))


@pytest.mark.slow
def test_single_sign_on_in_the_app(
    secured_city: tuple[sa.Engine, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The switch and the mapping inside the running app (st.user as AppTest simulates it; no real provider)."""
    engine, _ = secured_city
    settings = tmp_path / "access.toml"
    settings.write_text(
        '[[oidc.groups]]\ngroup = "shangcheng-heads"\nrole = "department_head"\nregions = ["330102"]\n', "utf-8"
    )
    monkeypatch.setenv("COCKPIT_ACCESS", str(settings))
    monkeypatch.setattr(auth_ui, "oidc_configured", lambda: True)
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = {"is_logged_in": True, "email": "wang@city.example", "groups": ["shangcheng-heads"]}
    at.run()
    assert not on_login_page(at)
    go(at, "pages/complaints.py")
    assert {m.label: m.value for m in at.metric}["诉求量"] == "2 件"  # 上城区's February tickets only
    logins = [row for row in audit_rows(engine, "login") if row["user_name"] == "wang@city.example"]
    assert len(logins) == 1 and json.loads(logins[0]["detail"]) == {"method": "oidc"}
    at.sidebar.button(key="auth_sign_out").click().run()
    assert on_login_page(at)
    stranger = AppTest.from_file(APP, default_timeout=60)
    stranger.user = {"is_logged_in": True, "email": "visitor@city.example", "groups": ["visitors"]}
    stranger.run()
    assert on_login_page(stranger) and any("未分配驾驶舱角色" in w.value for w in stranger.warning)
    assert any(b.key == "auth_sso" for b in stranger.button)
    failed = [row for row in audit_rows(engine, "login_failed") if row["user_name"] == "visitor@city.example"]
    assert len(failed) == 1
