"""A topic page's state round-trips through its URL; bad parameters are named and ignored."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.topics.state import (
    TopicState,
    Vocabulary,
    child_level,
    parse_state,
    region_path,
    state_filters,
    state_params,
    state_period,
    state_trend_window,
)
from data_access.semantic.query import Filter, TimeRange
from tests import fixture_city as city

VOCABULARY = Vocabulary(
    region_levels={row["code"]: row["level"] for row in city.REGIONS},
    parents={row["code"]: row["parent_code"] for row in city.REGIONS},
    departments={row["code"]: row["name"] for row in city.DEPARTMENTS},
    categories={row["code"]: row["domain"] for row in city.CATEGORIES},
)
PARENTS = VOCABULARY.parents
AS_OF = dt.datetime(2026, 3, 1, 0, 0)


def parse(params: dict[str, str], table: str = "complaints") -> tuple[TopicState, tuple[str, ...]]:
    return parse_state(params, VOCABULARY, table)


def test_defaults_from_an_empty_url() -> None:
    assert parse({}) == (TopicState(), ())
    assert state_params(TopicState(), PARENTS, "complaints") == {}


def test_a_full_state_round_trips() -> None:
    state = TopicState(
        period="custom",
        custom=TimeRange(dt.datetime(2026, 2, 3), dt.datetime(2026, 2, 10)),
        compare="last_year",
        region=city.C2,
        department=city.B,
        category="C02.01",
        channel="电话",
        grain="week",
    )
    params = state_params(state, PARENTS, "complaints")
    assert params == {
        "period": "custom",
        "start": "2026-02-03",
        "end": "2026-02-10",
        "compare": "last_year",
        "district": city.D2,
        "street": city.S2,
        "community": city.C2,
        "department": city.B,
        "category": "C02.01",
        "channel": "电话",
        "grain": "week",
    }
    assert parse(params) == (state, ())


def test_grid_events_carry_their_source_in_the_url() -> None:
    state = TopicState(channel="视频")
    assert state_params(state, PARENTS, "grid_events") == {"source": "视频"}
    assert parse({"source": "视频"}, "grid_events") == (state, ())
    assert parse({"channel": "电话"}, "grid_events") == (TopicState(), ("channel=电话",))


@pytest.mark.parametrize(
    ("params", "notice"),
    [
        ({"district": "999999"}, "district=999999"),
        ({"street": city.D1}, f"street={city.D1}"),  # a district code given as a street
        ({"period": "yesterday"}, "period=yesterday"),
        ({"start": "2026-02-10", "end": "2026-02-03"}, "start=2026-02-10&end=2026-02-03"),
        ({"start": "soon", "end": "2026-02-03"}, "start=soon"),
        ({"compare": "both"}, "compare=both"),
        ({"department": "DEP_X'; DROP TABLE complaints;--"}, "department=DEP_X'; DROP TABLE complaints;--"),
        ({"category": "GE01"}, "category=GE01"),  # a grid-event category on the complaints page
        ({"channel": "传真"}, "channel=传真"),
        ({"grain": "hour"}, "grain=hour"),
        ({"district": city.D1, "street": city.S2}, f"district={city.D1}&street={city.S2}"),  # not inside
    ],
)
def test_bad_parameters_fall_back_to_defaults_and_are_named(params: dict[str, str], notice: str) -> None:
    state, notices = parse(params)
    assert notice in notices
    assert state == TopicState()


def test_levels_a_table_lacks_fall_back_to_the_coarser_region() -> None:
    # Service cases carry district and street only: a grid in the link keeps its street.
    state, notices = parse({"grid": city.G1}, "service_cases")
    assert (state.region, notices) == (city.S1, (f"grid={city.G1}",))


def test_filters_follow_the_state_and_can_leave_one_out() -> None:
    state = TopicState(region=city.S1, department=city.A, category="C01.01.001", channel="电话")
    assert state_filters(state, "complaints") == (
        Filter("region", (city.S1,)),
        Filter("department", (city.A,)),
        Filter("category_l3", ("C01.01.001",)),
        Filter("channel", ("电话",)),
    )
    assert Filter("department", (city.A,)) not in state_filters(state, "complaints", without="department")


def test_comparison_choice_changes_the_previous_range() -> None:
    month = state_period(TopicState(), AS_OF)
    # as-of 2026-03-01 00:00: this month so far is the first minute of March; 环比 is the same span of February.
    assert month.current == TimeRange(dt.datetime(2026, 3, 1), dt.datetime(2026, 3, 1, 0, 1))
    assert month.previous == TimeRange(dt.datetime(2026, 2, 1), dt.datetime(2026, 2, 1, 0, 1))
    year = state_period(TopicState(compare="last_year"), AS_OF)
    assert year.previous == TimeRange(dt.datetime(2025, 3, 1), dt.datetime(2025, 3, 1, 0, 1))
    custom = TopicState(period="custom", custom=TimeRange(dt.datetime(2026, 2, 1), dt.datetime(2026, 3, 1)))
    assert state_period(custom, AS_OF).previous == TimeRange(dt.datetime(2026, 1, 4), dt.datetime(2026, 2, 1))


def test_trend_comparison_a_year_back() -> None:
    window = state_trend_window(TopicState(compare="last_year"), AS_OF)
    assert window.current == TimeRange(dt.datetime(2026, 1, 30), dt.datetime(2026, 3, 1))
    assert window.previous == TimeRange(dt.datetime(2025, 1, 30), dt.datetime(2025, 3, 1))


def test_region_path_and_the_level_below() -> None:
    assert region_path(city.G2, PARENTS) == [city.D2, city.S2, city.C2, city.G2]
    assert region_path(None, PARENTS) == []
    assert child_level(None, VOCABULARY, "complaints") == "district"
    assert child_level(city.D1, VOCABULARY, "complaints") == "street"
    assert child_level(city.C1, VOCABULARY, "grid_events") == "grid"
    assert child_level(city.G1, VOCABULARY, "grid_events") is None
    assert child_level(city.S1, VOCABULARY, "service_cases") is None
