"""Links into topic pages (from the alert ticker and the alerts CLI) carry filters the page honours."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard.core.formatting import format_value
from dashboard.core.links import LinkFilters, category_dimension, parse_link
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.metrics import run_metrics
from data_access.semantic.query import Filter, MetricRequest, TimeRange
from tests import fixture_city as city

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
LEVELS = {row["code"]: row["level"] for row in city.REGIONS}
DEPARTMENTS = {row["code"]: row["name"] for row in city.DEPARTMENTS}
CATEGORIES = {row["code"]: row["name"] for row in city.CATEGORIES}


def test_parse_a_full_link() -> None:
    link = parse_link(
        {"district": city.D2, "street": city.S2, "department": city.A, "category": "C02.01.001",
         "start": "2026-02-03", "end": "2026-02-06"},
        LEVELS, DEPARTMENTS, CATEGORIES,
    )  # fmt: skip
    assert link == LinkFilters(
        regions=(("district", city.D2), ("street", city.S2)),
        department=city.A,
        category="C02.01.001",
        time_range=TimeRange(dt.datetime(2026, 2, 3), dt.datetime(2026, 2, 6)),
    )
    assert link.finest_region == city.S2 and link.district == city.D2


@pytest.mark.parametrize(
    ("params", "notice"),
    [
        ({"district": "999999"}, "district=999999"),
        ({"street": city.D1}, f"street={city.D1}"),  # a district code is no street
        ({"department": "'; DROP TABLE complaints; --"}, "department='; DROP TABLE complaints; --"),
        ({"category": "X9"}, "category=X9"),
        ({"start": "yesterday", "end": "2026-02-06"}, "start=yesterday"),
        ({"start": "2026-02-06", "end": "2026-02-01"}, "start=2026-02-06&end=2026-02-01"),
    ],
)
def test_bad_parameters_are_dropped_and_named(params: dict[str, str], notice: str) -> None:
    link = parse_link(params, LEVELS, DEPARTMENTS, CATEGORIES)
    assert not link.active
    assert link.notices == (notice,)


def test_category_dimension_follows_the_dots_of_the_code() -> None:
    assert category_dimension("C02") == "category_l1" and category_dimension("C02.01.001") == "category_l3"


def open_with(params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/complaints.py")
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.slow
def test_complaints_page_shows_what_the_link_points_at(tiny_app: sa.Engine) -> None:
    params = {"district": city.D2, "category": "C02.01.001", "start": "2026-02-01", "end": "2026-02-06"}
    at = open_with(params)
    metrics = ("complaint_received", "complaint_response_rate")
    request = MetricRequest(
        metrics,
        filters=(Filter("region", (city.D2,)), Filter("category_l3", ("C02.01.001",))),
        time_range=TimeRange(dt.datetime(2026, 2, 1), dt.datetime(2026, 2, 6)),
    )
    frame = run_metrics(tiny_app, request, cache=None)
    # By hand: in 西湖区, category 施工噪声, received 1–5 Feb: T3 and T4 (T5 came on the 20th).
    assert frame["complaint_received"][0] == 2
    shown = {metric.label: metric.value for metric in at.metric}
    for name in metrics:
        assert shown[METRICS[name].label_zh] == format_value(frame[name][0], METRICS[name].unit, "zh")
    # The filter bar shows what the link asked for: the district, the category, the date range (last day 5 Feb).
    assert at.selectbox(key="district").value == city.D2
    assert at.selectbox(key="category").value == "C02.01.001"
    assert at.segmented_control(key="period").value == "custom"
    assert at.date_input(key="period_range").value == (dt.date(2026, 2, 1), dt.date(2026, 2, 5))


@pytest.mark.slow
def test_bad_link_falls_back_with_a_notice(tiny_app: sa.Engine) -> None:
    at = open_with({"district": "not-a-code", "start": "2026-13-01", "end": "2026-02-06"})
    assert not at.error
    warning = " ".join(w.value for w in at.warning)
    assert "district=not-a-code" in warning and "start=2026-13-01" in warning
    received = {metric.label: metric.value for metric in at.metric}[METRICS["complaint_received"].label_zh]
    # the default view: this month (February at the fixture's as-of), the whole city: T1..T5
    assert received == "5 件"


def alert_messages(at: AppTest) -> list[str]:
    """The 说明 column of the page's alert table."""
    (table,) = [frame.value for frame in at.dataframe if "说明" in frame.value.columns]
    return [str(value) for value in table["说明"].to_list()]


@pytest.mark.slow
def test_topic_pages_list_their_alerts_in_their_region(tiny_app: sa.Engine) -> None:
    # By hand: unresolved past their limit at the as-of time — T5 (西湖区, 城管) and T6 (上城区, 城管).
    at = open_with({})
    assert sorted(alert_messages(at)) == [
        "上城区 城市管理局 12345诉求超期未办结 1 件",
        "西湖区 城市管理局 12345诉求超期未办结 1 件",
    ]
    at = open_with({"district": city.D2})
    assert alert_messages(at) == ["西湖区 城市管理局 12345诉求超期未办结 1 件"]
