"""Sign-in and sign-out in a real browser, and a department head who edits the URL towards another scope.

The app runs a second time (``secured`` in conftest.py) on its own copy of the fixture city, with two
local accounts added through ``python -m data_access.security.users add … --password-stdin`` as docs/security.md
says: the head of one district and the head of one department. Once an account exists every address
answers with the login form. A sign-in lasts as long as the tab's Streamlit session, so a person who
edits the address bar signs in again; the edited URL's page then opens, and must show only their own
scope: the foreign parameter named in a notice, the pickers holding nothing else, and the volume KPI
equal to their own records, counted here from the fixture tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from dashboard.core.formatting import format_value
from dashboard.core.i18n import t
from dashboard.core.periods import period_start
from data_access.semantic.metric_defs import Unit
from tests.e2e import browser as web
from tests.e2e.conftest import Account, SecuredApp, Tab
from tests.e2e.test_url_state import volume_shown

METRIC = '[data-testid="stMetric"]'
LOGIN = (".st-key-auth_name input", ".st-key-auth_password input")
SIGN_OUT = ".st-key-auth_sign_out button"


def body_text(tab: Tab) -> str:
    return tab.page.locator("body").inner_text()


def sidebar_text(tab: Tab) -> str:
    return tab.page.locator('[data-testid="stSidebar"]').inner_text()


def submit(tab: Tab, name: str, password: str, need: tuple[str, ...]) -> None:
    """Type name and password into the login form and press 登录, as a person would."""
    tab.page.locator(LOGIN[0]).fill(name)
    tab.page.locator(LOGIN[1]).fill(password)
    with web.rerun(tab.page, need):
        tab.page.locator('[data-testid="stFormSubmitButton"] button').click()


def sign_in_at(tab: Tab, path: str, account: Account, need: tuple[str, ...]) -> None:
    tab.open(path, LOGIN)
    submit(tab, account.name, account.password, need)


def options_of(tab: Tab, key: str) -> list[str]:
    """The entries a selectbox offers (its list opened and closed again)."""
    box = tab.page.locator(f".st-key-{key} [data-testid='stSelectbox']")
    box.click()
    options = tab.page.get_by_role("option")
    options.first.wait_for()
    found = [text.strip() for text in options.all_inner_texts()]
    tab.page.keyboard.press("Escape")
    return found


def warnings(tab: Tab) -> list[str]:
    return tab.page.locator('[data-testid="stAlertContentWarning"]').all_inner_texts()


def test_sign_in_and_sign_out(secured: SecuredApp) -> None:
    city, head = secured.city, secured.accounts["district"]
    own = city.districts[head.code]
    tab = secured.new_tab()

    tab.open("/complaints", LOGIN)  # a page's address, signed out: the login form answers it
    assert t("page_login", "zh") in tab.page.locator("h1").first.inner_text()
    assert tab.page.locator(METRIC).count() == 0, "a signed-out session sees numbers"
    assert t("auth_sign_out", "zh") not in sidebar_text(tab)

    submit(tab, head.name, head.password + "x", LOGIN)  # a wrong password: refused, still the form
    assert t("auth_failed", "zh") in tab.page.locator('[data-testid="stAlertContentError"]').inner_text()
    assert tab.page.locator(METRIC).count() == 0

    submit(tab, head.name, head.password, (METRIC,))  # the right one: the address's page opens
    assert tab.path == "/complaints"
    assert t("page_complaints", "zh") in tab.page.locator("h1").first.inner_text()
    sidebar = sidebar_text(tab)
    assert t("auth_signed_in_as", "zh", name=head.name, role=t("role_department_head", "zh")) in sidebar
    assert t("auth_scope", "zh", scope=own) in sidebar
    assert volume_shown(tab, city, "complaints", "month", head.code, "zh"), "the KPI is not the head's district"
    nav = tab.page.locator('[data-testid="stSidebarNav"] a').evaluate_all("links => links.map(a => a.href)")
    assert not [href for href in nav if href.endswith(("/admin", "/audit", "/report"))], nav

    with web.rerun(tab.page, LOGIN):
        tab.page.locator(SIGN_OUT).click()
    assert t("auth_signed_out", "zh") in tab.page.locator('[data-testid="stAlertContentInfo"]').inner_text()
    assert tab.page.locator(METRIC).count() == 0, "numbers stay on screen after signing out"
    assert t("auth_sign_out", "zh") not in sidebar_text(tab)

    tab.open("/services", LOGIN)  # another address afterwards: the login form again
    assert tab.page.locator(METRIC).count() == 0
    assert web.page_problems(tab.page) == []
    assert tab.recorder.console_errors == []
    assert tab.recorder.foreign() == []


@dataclass(frozen=True)
class Edit:
    """A scoped user's hand-edited URL: the foreign code put in, and what the page must then show."""

    name: str
    account: str  # key of SecuredApp.accounts
    path: Callable[[SecuredApp], str]
    notice: Callable[[SecuredApp], str]  # the text of the warning naming the dropped parameter
    need: tuple[str, ...]
    shown: Callable[[Tab, SecuredApp], list[str]]  # problems with what the page shows (empty: in scope)
    foreign_names: Callable[[SecuredApp], list[str]]  # names of the other scope, none of which may appear


def other_district(app: SecuredApp) -> str:
    own = app.accounts["district"].code
    return next(code for code in sorted(app.city.districts) if code != own)


def other_department(app: SecuredApp) -> str:
    own = app.accounts["department"].code
    since = month_start(app)
    return max((code for code in app.departments if code != own), key=lambda code: app.complaints_of(code, since))


def month_start(app: SecuredApp) -> dt.date:
    return period_start("month", app.city.as_of).date()


def district_topic_page(tab: Tab, app: SecuredApp) -> list[str]:
    head = app.accounts["district"]
    own, problems = app.city.districts[head.code], []
    if web.selectbox_value(tab.page, "district") != t("all_regions", "zh"):
        problems.append(f"district box: {web.selectbox_value(tab.page, 'district')}")
    if (options := options_of(tab, "district")) != [t("all_regions", "zh"), own]:
        problems.append(f"district box offers {options}")
    if not volume_shown(tab, app.city, "complaints", "month", head.code, "zh"):
        problems.append("the volume KPI is not the head's district's count")
    return problems


def department_topic_page(tab: Tab, app: SecuredApp) -> list[str]:
    head = app.accounts["department"]
    expected = format_value(app.complaints_of(head.code, month_start(app)), Unit.COUNT, "zh")
    value = tab.page.locator(f"{METRIC} [data-testid='stMetricValue']").first.inner_text().strip()
    return [] if value == expected else [f"volume KPI {value}, the department's own: {expected}"]


def district_workbench(tab: Tab, app: SecuredApp) -> list[str]:
    own, problems = app.city.districts[app.accounts["district"].code], []
    if web.selectbox_value(tab.page, "wb_district") != t("all_districts", "zh"):
        problems.append(f"district filter: {web.selectbox_value(tab.page, 'wb_district')}")
    if own not in sidebar_text(tab):
        problems.append("the sidebar does not name the head's scope")
    return problems


def other_district_names(app: SecuredApp) -> list[str]:
    return [name for code, name in app.city.districts.items() if code != app.accounts["district"].code]


EDITS = (
    Edit(
        "district head, topic page, another district",
        "district",
        path=lambda app: f"/complaints?district={other_district(app)}",
        notice=lambda app: t("link_ignored", "zh", params=f"district={other_district(app)}"),
        need=(METRIC,),
        shown=district_topic_page,
        foreign_names=other_district_names,
    ),
    Edit(
        "department head, topic page, another department",
        "department",
        path=lambda app: f"/complaints?department={other_department(app)}",
        notice=lambda app: t("link_ignored", "zh", params=f"department={other_department(app)}"),
        need=(METRIC,),
        shown=department_topic_page,
        foreign_names=lambda app: [app.departments[other_department(app)]],
    ),
    Edit(
        "district head, workbench, another district",
        "district",
        path=lambda app: f"/explore?region={other_district(app)}",
        notice=lambda app: t("wb_params_ignored", "zh", params=f"region={other_district(app)}"),
        need=('[data-testid="stPlotlyChart"]',),
        shown=district_workbench,
        foreign_names=other_district_names,
    ),
)


@pytest.mark.parametrize("edit", EDITS, ids=lambda edit: edit.name)
def test_a_scoped_user_cannot_reach_another_scope_by_editing_the_url(edit: Edit, secured: SecuredApp) -> None:
    tab = secured.new_tab()
    sign_in_at(tab, edit.path(secured), secured.accounts[edit.account], edit.need)

    assert tab.page.locator(LOGIN[0]).count() == 0, "still on the login form"
    assert edit.notice(secured) in warnings(tab), f"no notice naming the dropped parameter: {warnings(tab)}"
    assert edit.shown(tab, secured) == []
    text = body_text(tab)
    assert [name for name in edit.foreign_names(secured) if name in text] == [], "another scope's name is on screen"
    assert web.page_problems(tab.page) == []
    assert tab.recorder.console_errors == []
    assert tab.recorder.foreign() == []
    tab.page.close()
