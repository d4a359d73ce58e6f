"""The leak test of issue 7: signed in as the head of one district (or one department) of the tiny city,
open every page the role may open, and assert that nothing belonging only to the other appears in
anything rendered — names, codes, map shapes, table cells, chart data — and that the numbers shown are
the head's own, counted by hand from ``tests/fixture_city.py``. Then malicious input in URL parameters,
widgets and requests: a clear message or an empty result, never a row outside the scope.

Hand counts, February 2026 (the fixture's month; as-of 2026-02-28 08:00):
- 上城区 (D1): service cases S1, S2, S7, S8 (4); complaints T1, T2 (2); grid events E1, E2 (2).
- 城市管理局 (A): service cases S1, S2, S5 (3; S6 is January); complaints T1, T2, T5 (3); grid events E1, E2 (2).
- Whole city: 7 service cases, 5 complaints, 5 grid events.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard.core.metric_requests import DOMAINS
from dashboard.report import content, html_page, periods
from dashboard.session import context, early_warning
from dashboard.workbench import view_state as wb
from data_access.config.city import load_city
from data_access.runtime.engine import resolve_target
from data_access.runtime.session import DataSession
from data_access.security import accounts
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.metrics import data_as_of, run_metrics
from data_access.semantic.query import Filter, MetricRequest, Scope, TimeRange
from tests import fixture_city as city
from tests.app_driver import ADMIN_PAGES, DATA_PAGES, audit_rows, go, html_text, kpis, rendered, signed_in, start
from tests.conftest import PASSWORD

# Everything that names 西湖区 (D2) or anything inside it; codes of D2's street, community and grid start with D2.
OTHER_DISTRICT = (city.D2, "西湖区", "北山街道", "保俶塔社区", "保俶塔社区第1网格")
OTHER_DISTRICT_NAMES = OTHER_DISTRICT[1:]
OTHER_DEPARTMENT = (city.B, "市场监督管理局", "Market Regulation")
FEB = TimeRange(*city.FEB)

OWN_COUNTS = {
    "head_d1": {"pages/services.py": "4 件", "pages/complaints.py": "2 件", "pages/grid.py": "2 件"},
    "head_a": {"pages/services.py": "3 件", "pages/complaints.py": "3 件", "pages/grid.py": "2 件"},
}
VOLUME_LABEL = {
    "pages/services.py": METRICS["service_received"].label_zh,
    "pages/complaints.py": METRICS["complaint_received"].label_zh,
    "pages/grid.py": METRICS["grid_collected"].label_zh,
}
FORBIDDEN = {"head_d1": OTHER_DISTRICT, "head_a": OTHER_DEPARTMENT}


def leaks(text: str, forbidden: tuple[str, ...]) -> list[str]:
    return [item for item in forbidden if item in text]


def cockpit_cards(text: str) -> dict[str, str]:
    return dict(re.findall(r'data-metric="([^"]+)" data-value="([^"]+)"', text))


@pytest.mark.slow
@pytest.mark.parametrize("head", ["head_d1", "head_a"])
def test_a_head_sees_nothing_of_the_other_on_any_page(
    secured_city: tuple[sa.Engine, dict[str, str]], head: str
) -> None:
    at = signed_in(head, PASSWORD)
    forbidden = FORBIDDEN[head]
    for page in DATA_PAGES:
        if page != "pages/cockpit.py":
            go(at, page)
        assert not at.error, (page, [e.value for e in at.error])
        text = rendered(at)
        assert not leaks(text, forbidden), (page, leaks(text, forbidden))
        if page in OWN_COUNTS[head]:
            assert kpis(at)[VOLUME_LABEL[page]] == OWN_COUNTS[head][page], page
    go(at, "pages/cockpit.py")
    cards = cockpit_cards(html_text(at))  # default period 本月: February up to the as-of time
    own = OWN_COUNTS[head]
    assert cards["complaint_received"].startswith(own["pages/complaints.py"].split()[0])
    assert cards["service_received"].startswith(own["pages/services.py"].split()[0])
    for page in ADMIN_PAGES:  # not in a head's navigation at all
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


@pytest.mark.slow
def test_the_district_head_map_and_pickers_hold_only_their_district(
    secured_city: tuple[sa.Engine, dict[str, str]],
) -> None:
    at = signed_in("head_d1", PASSWORD)
    text = rendered(at)
    assert "上城区" in text and city.D1 in text  # their own district is drawn and named
    assert at.selectbox(key="map_district").options == ["全市", "上城区"]
    go(at, "pages/services.py")
    assert at.selectbox(key="district").options == ["全部", "上城区"]


@pytest.mark.slow
@pytest.mark.parametrize("head", ["head_d1", "head_a"])
def test_explore_by_every_dimension_stays_inside_the_scope(
    secured_city: tuple[sa.Engine, dict[str, str]], head: str
) -> None:
    at = go(signed_in(head, PASSWORD), "pages/explore.py")
    for domain in DOMAINS:
        at.selectbox(key="domain").set_value(domain).run()
        for dimension in wb.dimension_choices(domain):
            at.selectbox(key="dimension").set_value(dimension).run()
            assert not at.exception and not at.error, (domain, dimension)
            text = rendered(at)
            assert not leaks(text, FORBIDDEN[head]), (domain, dimension, leaks(text, FORBIDDEN[head]))
    # A department head may not export: no download button is offered, and no briefing page.
    assert not at.get("download_button")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/report.py")


MALICIOUS = [
    {"district": city.D2},  # another scope's code
    {"street": "330106001", "community": "330106001001", "grid": "330106001001001"},
    {"district": "330102' OR '1'='1"},  # SQL fragments
    {"department": "DEP_A' --", "category": "C01; DROP TABLE complaints"},
    {"start": "2026-02-01' OR 1=1 --", "end": "2026-03-01"},
    {"district": "999999"},  # unknown code
    {"period": "month'; DELETE FROM complaints; --", "lang": "en<script>"},
    {"district": city.D1, "street": "330106001"},  # own district, other's street
]


@pytest.mark.slow
@pytest.mark.parametrize("params", MALICIOUS, ids=[str(i) for i in range(len(MALICIOUS))])
def test_malicious_url_parameters_never_widen_the_scope(
    secured_city: tuple[sa.Engine, dict[str, str]], params: dict[str, str]
) -> None:
    engine, _ = secured_city
    at = go(signed_in("head_d1", PASSWORD), "pages/complaints.py")
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = rendered(at)
    assert not leaks(text, OTHER_DISTRICT_NAMES), leaks(text, OTHER_DISTRICT_NAMES)
    received = kpis(at)[METRICS["complaint_received"].label_zh]
    assert received in ("2 件", "0 件"), received  # D1's two tickets, or nothing — never D2's or the city's
    if any(key in params for key in ("district", "street", "department", "category", "start")):
        assert at.warning, "a parameter that was ignored is named in a notice"
    with engine.connect() as connection:  # the fragments were never executed as SQL
        assert connection.execute(sa.select(sa.func.count()).select_from(sa.table("complaints"))).scalar_one() == 6


@pytest.mark.slow
def test_a_department_head_cannot_reach_another_department_by_link(
    secured_city: tuple[sa.Engine, dict[str, str]],
) -> None:
    at = go(signed_in("head_a", PASSWORD), "pages/complaints.py")
    at.query_params.update({"department": city.B})
    at.run()
    assert not at.exception
    assert kpis(at)[METRICS["complaint_received"].label_zh] == "3 件"
    assert any(f"department={city.B}" in warning.value for warning in at.warning)
    assert not leaks(rendered(at), OTHER_DEPARTMENT[1:])


@pytest.mark.slow
def test_a_widget_value_outside_the_options_is_refused(secured_city: tuple[sa.Engine, dict[str, str]]) -> None:
    at = go(signed_in("head_d1", PASSWORD), "pages/services.py")
    with pytest.raises(ValueError):
        at.selectbox(key="district").set_value(city.D2).run()


def scoped_context(engine: sa.Engine, scope: Scope) -> context.Context:
    return context.Context(
        target=resolve_target(),
        data=DataSession(engine, load_city(), scope=scope),
        lang="zh",
        as_of=city.AS_OF,
        meta={},
    )


@pytest.mark.parametrize(
    ("filters", "request_scope", "expected"),
    [
        ((), Scope(), 2),  # a page that sets no scope gets the viewer's
        ((Filter("region", (city.D2,)),), Scope(), 0),  # the other district: empty, not an error
        ((Filter("region", ("330102' OR '1'='1",)),), Scope(), 0),  # a fragment is a bound value
        ((Filter("department", (city.B,)),), Scope(), 0),  # B has no February ticket in D1
        ((), Scope(regions=frozenset({city.D2})), 0),  # a request may not widen its own scope
        ((), Scope(regions=frozenset({city.S1})), 2),  # but may narrow it (S1 lies inside D1)
        ((Filter("region", (city.C1,)),), Scope(), 2),
    ],
)
def test_every_request_is_narrowed_to_the_viewer(
    secured_city: tuple[sa.Engine, dict[str, str]], filters: tuple[Filter, ...], request_scope: Scope, expected: int
) -> None:
    engine, _ = secured_city
    ctx = scoped_context(engine, Scope(regions=frozenset({city.D1})))
    request = MetricRequest(("complaint_received",), filters=filters, time_range=FEB, scope=request_scope)
    scoped = ctx.data.scoped(request)
    assert run_metrics(engine, scoped, cache=None)["complaint_received"][0] == expected
    # Without the context the same request sees the whole city (so the narrowing above is the context's).
    assert run_metrics(engine, MetricRequest(("complaint_received",), time_range=FEB), cache=None)[0, 0] == 5


def test_the_early_warning_list_is_scoped(secured_city: tuple[sa.Engine, dict[str, str]]) -> None:
    engine, _ = secured_city
    ctx = scoped_context(engine, Scope(regions=frozenset({city.D1})))
    # At the pages' as-of time (the data's), the time the job stored the head's alerts for.
    alerts = early_warning.early_warning_set(dataclasses.replace(ctx, as_of=ctx.data.as_of())).frame
    assert alerts.height > 0
    assert set(alerts["region_code"].drop_nulls().to_list()) <= {city.D1, city.S1, city.C1, city.G1}
    assert not any(city.D2 in str(value) for value in alerts["link"].to_list())
    overdue = sorted(alerts.filter(alerts["kind"] == "overdue")["message"].to_list())
    assert overdue == [  # T6, S6 (城管) and S7 (市监) are D1's overdue items; T5, S4 and E3 are D2's
        "上城区 城市管理局 12345诉求超期未办结 1 件",
        "上城区 城市管理局 政务服务办件超期未办结 1 件",
        "上城区 市场监督管理局 政务服务办件超期未办结 1 件",
    ]


def table_columns(at: AppTest, column: str) -> list[list[str]]:
    """The values of ``column`` in every table that has it, in page order, each sorted."""
    frames = [element.value for element in at.dataframe if column in element.value.columns]
    return [sorted(str(value) for value in frame[column].tolist()) for frame in frames]


# (head, February's tickets, February's cases, cases open past their limit) in the head's scope, by hand:
# D1 holds T1, T2 / S1, S2, S7, S8, overdue S6 (A) and S7 (B); A holds T1, T2, T5 / S1, S2, S5, overdue S6.
OWN_ROWS = [
    ("head_d1", ["T1", "T2"], ["S1", "S2", "S7", "S8"], ["S6", "S7"]),
    ("head_a", ["T1", "T2", "T5"], ["S1", "S2", "S5"], ["S6"]),
]


@pytest.mark.slow
@pytest.mark.parametrize(("head", "tickets", "cases", "overdue"), OWN_ROWS, ids=[row[0] for row in OWN_ROWS])
def test_detail_rows_are_the_heads_own_and_masked(
    secured_city: tuple[sa.Engine, dict[str, str]], head: str, tickets: list[str], cases: list[str], overdue: list[str]
) -> None:
    engine, _ = secured_city
    at = go(signed_in(head, PASSWORD), "pages/complaints.py")
    assert table_columns(at, "工单编号") == [tickets]
    text = rendered(at)
    assert not [value for value in city.PERSONAL_NUMBERS if value in text], "personal data shown unmasked"
    assert "来电人王**" in text and "138****5678" in text  # T2's text, masked
    view = [row for row in audit_rows(engine, "view") if row["page"] == "complaints"][-1]
    assert "unmasked" not in json.loads(view["detail"])
    go(at, "pages/services.py")
    assert table_columns(at, "办件编号") == [overdue, cases]  # the overdue list, then the detail table


@pytest.mark.slow
def test_only_a_grant_reveals_personal_data_and_the_view_records_it(
    secured_city: tuple[sa.Engine, dict[str, str]],
) -> None:
    engine, _ = secured_city
    accounts.grant(engine, "head_d1", actor="test", allow=["unmasked"])
    at = go(signed_in("head_d1", PASSWORD), "pages/complaints.py")
    text = rendered(at)
    assert "13812345678" in text and "王建国" in text  # T2 is in D1: shown in clear to the granted head
    assert "330106199001011234" not in text  # T5 is outside the scope, granted or not
    view = [row for row in audit_rows(engine, "view") if row["page"] == "complaints"][-1]
    assert json.loads(view["detail"])["unmasked"] is True
    accounts.grant(engine, "head_d1", actor="test", revoke=["unmasked"])
    again = go(signed_in("head_d1", PASSWORD), "pages/complaints.py")
    assert "13812345678" not in rendered(again)


@pytest.mark.slow
def test_sign_in_off_masks_personal_data(tiny_app: sa.Engine) -> None:
    at = start()
    go(at, "pages/complaints.py")
    text = rendered(at)
    assert not [value for value in city.PERSONAL_NUMBERS if value in text]


@pytest.mark.slow
def test_the_briefing_of_a_head_holds_nothing_of_the_other(secured_city: tuple[sa.Engine, dict[str, str]]) -> None:
    engine, _ = secured_city
    accounts.grant(engine, "head_d1", actor="test", allow=["export"])  # a briefing is an export
    at = go(signed_in("head_d1", PASSWORD), "pages/report.py")
    assert not at.error
    # The page builds the briefing for the session's scope (``ctx.scope``); AppTest loses a plain
    # button's click to the app's first-run rerun, so build it here the way the page does.
    scope = at.session_state["_auth_access"].scope
    assert scope == Scope(regions=frozenset({city.D1}))
    as_of = data_as_of(engine)
    assert as_of is not None
    period = periods.recent_periods("month", as_of)[0]
    session = DataSession(engine, load_city(), scope=scope)
    briefing = content.build_briefing(session, period, lang="zh", as_of=as_of, live_alerts=True)
    page = html_page.render_html(briefing, svgs=[b"<svg></svg>"] * len(briefing.charts))
    assert "上城区" in page
    assert not leaks(page, OTHER_DISTRICT), leaks(page, OTHER_DISTRICT)
    at.session_state["report_made"] = ("briefing.pdf", b"%PDF-1.4", "pdf", dt.datetime.now())
    at.run()
    at.download_button(key="report_download").click().run()
    (export,) = audit_rows(engine, "export")
    assert (export["user_name"], export["page"], json.loads(export["detail"])["file"]) == (
        "head_d1",
        "report",
        "briefing.pdf",
    )
