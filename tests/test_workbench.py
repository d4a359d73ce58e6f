"""The analyst workbench: strict URL parsing, one request per view with hand-computed answers, saved views."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard.workbench import view_state as wb
from data_access.contract import schema
from data_access.runtime import saved_views
from data_access.runtime.engine import dispose_engine, get_engine
from data_access.semantic.metrics import run_metrics
from data_access.semantic.query import Filter
from tests import fixture_city as city

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
CHOICES = wb.Choices(
    region_levels={r["code"]: r["level"] for r in city.REGIONS},
    departments={d["code"]: d["name"] for d in city.DEPARTMENTS},
    categories={
        "complaints": {"C01": "城乡建设", "C02": "环境保护"},
        "grid_events": {"GE01": "市容环境"},
    },
)
FEB = {"period": "custom", "start": "2026-02-01", "end": "2026-03-01"}


def test_a_full_url_is_read_back() -> None:
    state, notices = wb.parse_params(
        {
            "domain": "complaints",
            "metrics": "complaint_composite_score,complaint_received",
            "dims": "street,time",
            "grain": "week",
            **FEB,
            "region": city.D2,
            "department": f"{city.A},{city.B}",
            "category": "C02",
            "channel": "电话",
            "chart": "stacked",
            "lang": "en",
        },
        CHOICES,
    )
    assert notices == ()
    assert state.metrics == ("complaint_received", "complaint_composite_score")  # registry order
    assert state.dimensions == ("street", wb.TIME) and state.request_dimensions == ("street", "week")
    assert (state.start, state.end) == (dt.date(2026, 2, 1), dt.date(2026, 3, 1))
    assert (state.region, state.departments, state.categories, state.channels) == (
        city.D2,
        (city.A, city.B),
        ("C02",),
        ("电话",),
    )
    assert state.chart == "stacked"
    again, _ = wb.parse_params(wb.to_params(state), CHOICES)
    assert again == state


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"domain": "weather"}, "domain=weather"),
        ({"metrics": "complaint_received"}, "metrics=complaint_received"),  # not a metric of services
        ({"dims": "district,department,channel"}, "dims=channel"),  # a third dimension
        ({"dims": "district,district"}, "dims=district"),
        ({"dims": "follow_up"}, "dims=follow_up"),  # not on service_cases
        ({"grain": "hour"}, "grain=hour"),
        ({"period": "forever"}, "period=forever"),
        ({"period": "custom", "start": "2026-02-30", "end": "2026-03-01"}, "start=2026-02-30"),
        ({"start": "2026-03-01", "end": "2026-02-01"}, "start=2026-03-01&end=2026-02-01"),
        ({"period": "month", "start": "2026-02-01"}, "start=2026-02-01"),
        ({"region": "999999"}, "region=999999"),
        ({"region": city.G1}, f"region={city.G1}"),  # grids are not a region filter of the workbench
        ({"department": "DEP_X"}, "department=DEP_X"),
        ({"category": "C01"}, "category=C01"),  # service cases have no categories
        ({"domain": "grid", "channel": "电话"}, "channel=电话"),  # grid events have no channel
        ({"chart": "pie"}, "chart=pie"),
        ({"metric": "x"}, "metric"),  # an unknown parameter is named, its value is not repeated
    ],
)
def test_each_bad_parameter_is_named_and_ignored(params: dict[str, str], named: str) -> None:
    state, notices = wb.parse_params(params, CHOICES)
    assert named in notices
    default = wb.WorkbenchState()
    if "domain" not in params or params["domain"] == "weather":
        assert state.domain == default.domain
    assert wb.filters_for(state) == ()  # nothing bad ever becomes a filter


def test_an_unknown_parameter_value_is_never_echoed() -> None:
    _, notices = wb.parse_params({"screen_token": "secret", "token": "secret2"}, CHOICES)
    assert notices == ("token",)


def test_the_request_answers_street_by_category_from_the_fixture(tiny_engine: sa.Engine) -> None:
    state, _ = wb.parse_params({"domain": "complaints", "dims": "street,category_l1", **FEB}, CHOICES)
    period = wb.state_period(state, city.AS_OF)
    request = wb.request_for(state, period)
    assert request.dimensions == ("street", "category_l1") and request.limit == wb.ROW_LIMIT + 1
    frame = run_metrics(tiny_engine, request, cache=None)
    counts = {(r["street"], r["category_l1"]): r["complaint_received"] for r in frame.iter_rows(named=True)}
    # February: T1, T2 in S1 (C01); T3, T4, T5 in S2 (C02).
    assert counts == {(city.S1, "C01"): 2, (city.S2, "C02"): 3}
    filtered = wb.request_for(wb.WorkbenchState(**{**state.__dict__, "departments": (city.A,)}), period)
    assert Filter("department", (city.A,)) in filtered.filters
    frame = run_metrics(tiny_engine, filtered, cache=None)
    counts = {(r["street"], r["category_l1"]): r["complaint_received"] for r in frame.iter_rows(named=True)}
    assert counts == {(city.S1, "C01"): 2, (city.S2, "C02"): 1}  # T5 is DEP_A's ticket in S2


def test_time_by_week_buckets_in_order(tiny_engine: sa.Engine) -> None:
    state, _ = wb.parse_params({"domain": "grid", "metrics": "grid_collected", "grain": "week", **FEB}, CHOICES)
    frame = run_metrics(tiny_engine, wb.request_for(state, wb.state_period(state, city.AS_OF)), cache=None)
    # E1 2/1 (week of 1/26), E2 2/2, E3 2/3 (week of 2/2), E4 2/10 (2/9), E5 2/28 (2/23).
    assert frame["week"].to_list() == [
        dt.date(2026, 1, 26),
        dt.date(2026, 2, 2),
        dt.date(2026, 2, 9),
        dt.date(2026, 2, 23),
    ]
    assert frame["grid_collected"].to_list() == [1, 2, 1, 1]


def test_chart_problems_are_explained() -> None:
    assert wb.chart_problem(wb.WorkbenchState(chart="heatmap")) == "wb_heatmap_needs_two"
    assert wb.chart_problem(wb.WorkbenchState(chart="map")) == "wb_map_needs_region"
    assert wb.chart_problem(wb.WorkbenchState(chart="map", dimensions=("street", "department"))) == (
        "wb_map_one_dimension"
    )
    assert wb.chart_problem(wb.WorkbenchState(chart="map", dimensions=("district",))) is None


# ---- saved views ---------------------------------------------------------------------------------------


@pytest.fixture
def views_engine(tmp_path: Path) -> sa.Engine:
    url = f"duckdb:///{tmp_path / 'views.duckdb'}"
    engine = get_engine(url)
    yield engine
    dispose_engine(url)


def test_saved_views_are_created_on_first_save_and_belong_to_their_owner(views_engine: sa.Engine) -> None:
    assert saved_views.list_views(views_engine, None) == []  # no table yet: nothing, no error
    first = saved_views.save_view(views_engine, "  西湖区 投诉 ", "domain=complaints&region=330106", None)
    assert first.name == "西湖区 投诉"
    assert sa.inspect(views_engine).has_table("saved_views")
    saved_views.save_view(views_engine, "mine", "domain=grid", "alice")
    assert [v.name for v in saved_views.list_views(views_engine, None)] == ["西湖区 投诉"]
    assert [v.name for v in saved_views.list_views(views_engine, "alice")] == ["mine"]
    assert saved_views.get_view(views_engine, first.id, "alice") is None  # not alice's
    assert saved_views.delete_view(views_engine, first.id, "alice") is False
    assert saved_views.get_view(views_engine, first.id, None) is not None
    again = saved_views.save_view(views_engine, "西湖区 投诉", "domain=complaints", None)
    assert again.id == first.id  # the same name replaces the state
    assert saved_views.get_view(views_engine, first.id, None).state == "domain=complaints"  # type: ignore[union-attr]
    assert saved_views.delete_view(views_engine, first.id, None) is True
    assert saved_views.list_views(views_engine, None) == []
    with views_engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(schema.saved_views)).scalar_one() == 1


@pytest.mark.parametrize(
    ("name", "problem"), [("   ", "needs a name"), ("x" * 129, "at most 128"), ("a\x07b", "control")]
)
def test_bad_view_names_are_refused(views_engine: sa.Engine, name: str, problem: str) -> None:
    with pytest.raises(saved_views.SavedViewProblem, match=problem):
        saved_views.save_view(views_engine, name, "domain=grid", None)
    assert saved_views.list_views(views_engine, None) == []


# ---- the page -----------------------------------------------------------------------------------------


def _open(params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(params)
    at.run()
    at.switch_page("pages/explore.py").run()
    assert not at.exception, at.exception
    return at


@pytest.mark.slow
def test_the_page_follows_the_url_names_bad_parameters_and_rewrites_the_url(tiny_app: sa.Engine) -> None:
    at = _open({"domain": "complaints", "dims": "street", "chart": "pie", "region": "nowhere", **FEB})
    assert any("chart=pie" in w.value and "region=nowhere" in w.value for w in at.warning)
    assert at.selectbox(key="domain").value == "complaints"
    assert at.selectbox(key="dimension").value == "street"
    table = at.dataframe[0].value
    assert sorted(table["诉求量（件）"].tolist()) == [2, 3]
    assert "chart" not in at.query_params and "region" not in at.query_params  # the bad ones are gone
    assert at.query_params["dims"] == "street" and at.query_params["start"] == "2026-02-01"


@pytest.mark.slow
def test_filters_from_the_url_narrow_the_table(tiny_app: sa.Engine) -> None:
    at = _open({"domain": "complaints", "dims": "street", "department": city.A, **FEB})
    assert sorted(at.dataframe[0].value["诉求量（件）"].tolist()) == [1, 2]
    at = _open({"domain": "complaints", "dims": "street", "region": city.D1, **FEB})
    assert at.dataframe[0].value["诉求量（件）"].tolist() == [2]
