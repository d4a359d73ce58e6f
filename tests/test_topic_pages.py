"""The topic pages as a department head drives them (AppTest on the fixture city, as-of 2026-02-28).

Expected numbers are worked out by hand from tests/fixture_city.py; clicks are sent the way a
browser sends them (the chart's selection state).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

from dashboard.topics.data import TOPIC_TABLES, TopicQueries, month_of, topic_render
from dashboard.topics.state import Vocabulary, parse_state
from data_access.config.city import load_city
from data_access.runtime.cache import RESULTS
from data_access.semantic.details import fetch_details
from data_access.semantic.distributions import histogram
from data_access.semantic.metrics import data_as_of, run_metrics
from tests import fixture_city as city

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
FEBRUARY = {"period": "custom", "start": "2026-02-01", "end": "2026-03-01"}


def open_page(page: str, params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(page)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def cards(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def chart(at: AppTest, key: str) -> Any:
    (found,) = [element for element in at.get("plotly_chart") if element.key == key]
    return found


def click(at: AppTest, key: str, point: dict[str, Any]) -> AppTest:
    """What the browser sends when a viewer clicks ``point`` of the chart ``key``."""
    element = chart(at, key)
    selection = {
        "selection": {"points": [point], "point_indices": [point.get("point_index", 0)], "box": [], "lasso": []}
    }
    states = at._tree.get_widget_states()
    states.widgets.append(WidgetState(id=element.proto.id, string_value=json.dumps(selection)))
    at = at._run(states)
    assert not at.exception, at.exception
    return at


def table(at: AppTest, which: str) -> Any:
    """The services page's overdue list or detail table (st.dataframe keeps no key: they come in that order)."""
    overdue, details = [frame.value for frame in at.dataframe if "办件编号" in frame.value.columns]
    return overdue if which == "overdue" else details


def map_codes(at: AppTest) -> set[str]:
    """The regions the topic map shows (each clickable: the last trace's customdata)."""
    return set(json.loads(chart(at, "topic_map").proto.spec)["data"][-1]["customdata"])


@pytest.mark.slow
def test_a_department_filter_changes_the_kpis_and_the_url(tiny_app: sa.Engine) -> None:
    at = open_page("pages/complaints.py", FEBRUARY)
    assert cards(at)["诉求量"] == "5 件"  # T1..T5
    at.selectbox(key="department").set_value(city.B).run()
    assert not at.exception
    assert at.query_params["department"] == city.B
    # Department B in February: T3 and T4; valid follow-ups T3 (不满意, not contacted, resolved).
    shown = cards(at)
    assert (shown["诉求量"], shown["响应率"], shown["解决率"], shown["满意率"]) == ("2 件", "0.0%", "100.0%", "0.0%")


@pytest.mark.slow
def test_the_url_restores_the_same_view(tiny_app: sa.Engine) -> None:
    params = {**FEBRUARY, "district": city.D2, "department": city.A, "compare": "last_year", "grain": "week"}
    at = open_page("pages/complaints.py", params)
    assert at.selectbox(key="district").value == city.D2
    assert at.selectbox(key="department").value == city.A
    assert at.segmented_control(key="compare").value == "last_year"
    assert at.segmented_control(key="grain").value == "week"
    assert cards(at)["诉求量"] == "1 件"  # T5: 西湖区, department A, 20 February
    assert all(metric.proto.delta_description == "较去年同期" for metric in at.metric)
    assert dict(at.query_params) == {key: value for key, value in params.items()}


@pytest.mark.slow
def test_clicking_the_map_drills_down_and_the_breadcrumb_goes_back(tiny_app: sa.Engine) -> None:
    at = open_page("pages/grid.py", FEBRUARY)
    assert map_codes(at) == {city.D1, city.D2}
    hits = json.loads(chart(at, "topic_map").proto.spec)["data"][-1]
    index = hits["customdata"].index(city.D1)
    at = click(at, "topic_map", {"point_index": index, "point_number": index, "customdata": city.D1})
    assert at.query_params["district"] == city.D1
    assert map_codes(at) == {city.S1}
    assert [button.label for button in at.button if button.key and button.key.startswith("crumb_")] == [
        "杭州市",
        "上城区",
    ]
    assert cards(at)["采集量"] == "2 件"  # E1, E2 in 上城区
    at = click(at, "topic_map", {"point_index": 0, "point_number": 0, "customdata": city.S1})
    assert (at.query_params["street"], map_codes(at)) == (city.S1, {city.C1})
    at.button(key="crumb_0").click().run()
    assert not at.exception and "district" not in at.query_params and map_codes(at) == {city.D1, city.D2}


@pytest.mark.slow
def test_a_click_on_a_bar_or_a_sector_filters_the_page(tiny_app: sa.Engine) -> None:
    at = open_page("pages/complaints.py", FEBRUARY)
    at = click(at, "by_department", {"point_index": 0, "customdata": city.B, "y": "市场监督管理局"})
    assert at.query_params["department"] == city.B and cards(at)["诉求量"] == "2 件"
    sectors = json.loads(chart(at, "by_category").proto.spec)["data"][0]["ids"]
    assert sectors == ["C02", "C02.01", "C02.01.001"], "department B's February tickets are all 施工噪声"
    at = click(at, "by_category", {"point_number": 1, "id": "C02.01", "label": "噪声污染", "customdata": "C02.01"})
    assert at.query_params["category"] == "C02.01" and cards(at)["诉求量"] == "2 件"
    at.selectbox(key="department").set_value(city.A).run()
    assert cards(at)["诉求量"] == "1 件"  # T5: department A, 施工噪声
    at.button(key="clear_filters").click().run()
    assert not at.exception and "category" not in at.query_params and "department" not in at.query_params


@pytest.mark.slow
def test_no_personal_data_reaches_any_rendered_table_or_text(tiny_app: sa.Engine) -> None:
    at = open_page("pages/complaints.py", FEBRUARY)
    rendered = [frame.value.to_csv() for frame in at.dataframe]
    rendered += [str(element.value) for element in (*at.markdown, *at.caption, *at.info, *at.warning)]
    rendered += [element.proto.spec for element in at.get("plotly_chart")]
    text = "\n".join(rendered)
    assert "反映路灯不亮" in text, "the detail table shows the descriptions (masked)"
    for secret in city.PERSONAL_NUMBERS:
        assert secret not in text, secret


@pytest.mark.slow
def test_the_detail_table_pages_in_the_database(tiny_app: sa.Engine) -> None:
    at = open_page("pages/services.py", FEBRUARY)
    # February cases, newest first: S5 (27th), S8, S7, S4, S3, S2, S1.
    assert table(at, "details")["办件编号"].to_list() == ["S5", "S8", "S7", "S4", "S3", "S2", "S1"]
    # The overdue list: open past the promised 72 h at the end of February, longest first (999, 375, 327 h).
    overdue = table(at, "overdue")
    assert overdue["办件编号"].to_list() == ["S6", "S4", "S7"]
    assert overdue["超期时长（小时）"].to_list() == ["999", "375", "327"]
    at.selectbox(key="detail_metric").set_value("service_completed").run()
    at.selectbox(key="detail_sort").set_value("elapsed_hours").run()
    at.selectbox(key="detail_page_size").set_value(20).run()
    assert not at.exception
    # Completed by the end of February (S7 completes in March, S8 was rejected): S2 96 h, S1 24 h, S3 12 h.
    assert table(at, "details")["办件编号"].to_list() == ["S2", "S1", "S3"]
    assert any("共 3 条" in caption.value for caption in at.caption)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"district": "999999"}, "district=999999"),
        ({"compare": "yesterday"}, "compare=yesterday"),
        ({"period": "custom", "start": "2026-02-10", "end": "2026-02-01"}, "start=2026-02-10&end=2026-02-01"),
        ({"department": "1 OR 1=1"}, "department=1 OR 1=1"),
    ],
)
def test_bad_parameters_are_named_and_the_default_view_shown(
    tiny_app: sa.Engine, params: dict[str, str], named: str
) -> None:
    at = open_page("pages/complaints.py", params)
    assert any(named in warning.value for warning in at.warning)
    assert cards(at)["诉求量"] == "5 件"  # the default view: this month (February at the as-of), whole city


@pytest.mark.slow
@pytest.mark.parametrize("domain", ["services", "complaints", "grid"])
def test_the_benchmarked_reads_are_the_ones_a_render_makes(tiny_app: sa.Engine, domain: str) -> None:
    """bench times ``topic_render``: after one render, every read it lists is already in the cache."""
    open_page(f"pages/{domain}.py", FEBRUARY)
    as_of = data_as_of(tiny_app)
    assert as_of == dt.datetime(2026, 2, 28, 8)  # E5, the latest record
    vocabulary = Vocabulary(
        region_levels={row["code"]: row["level"] for row in city.REGIONS},
        parents={row["code"]: row["parent_code"] for row in city.REGIONS},
        departments={row["code"]: row["name"] for row in city.DEPARTMENTS},
        categories={row["code"]: row["domain"] for row in city.CATEGORIES},
    )
    state, notices = parse_state(FEBRUARY, vocabulary, TOPIC_TABLES[domain])
    assert notices == ()
    queries = TopicQueries(domain, state, as_of)
    reads = topic_render(queries, map_level="district", map_within=None, district=None, month=month_of(as_of))
    rates, loads = load_city().three_rates, RESULTS.loads
    for request in reads.metrics:
        run_metrics(tiny_app, request, rates)
    for histogram_request in reads.histograms:
        histogram(tiny_app, histogram_request, rates)
    for detail in reads.details:
        fetch_details(tiny_app, detail, rates)
    assert RESULTS.loads == loads, "a listed read was not made by the page"
