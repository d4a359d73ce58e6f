"""The records behind a number, paged and sorted in SQL, masked, scoped — checked on the fixture city.

Expected rows and hours are worked out by hand from tests/fixture_city.py (as-of 2026-03-01 00:00).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from data_access.runtime.cache import RESULTS
from data_access.security.masking import mask_text
from data_access.semantic.details import DetailRequest, fetch_details
from data_access.semantic.query import Filter, RequestError, Scope
from tests import fixture_city
from tests.fixture_city import PERSONAL_NUMBERS, PERSONAL_TEXT
from tests.test_metrics import FEBRUARY


def _ids(engine: sa.Engine, request: DetailRequest, column: str) -> list[str]:
    return fetch_details(engine, request, cache=None).rows[column].to_list()


def test_overdue_list_holds_exactly_what_the_kpi_counts_with_hours_overdue(tiny_engine: sa.Engine) -> None:
    # S6: Jan 15 09:00 → Mar 1 = 1071 h, limit 72 → 999 h over; S4: 447 h → 375; S7 (done after as-of): 399 h → 327.
    request = DetailRequest("service_cases", "service_overdue_open", time_range=FEBRUARY, sort="overdue_hours")
    page = fetch_details(tiny_engine, request, cache=None)
    assert page.total == 3  # service_overdue_open in February (tests/test_metrics.py)
    assert page.rows.select("case_id", "elapsed_hours", "overdue_hours").rows() == [
        ("S6", 1071.0, 999.0),
        ("S4", 447.0, 375.0),
        ("S7", 399.0, 327.0),
    ]


def test_completed_records_count_hours_to_their_stop(tiny_engine: sa.Engine) -> None:
    request = DetailRequest("service_cases", time_range=FEBRUARY, sort="submitted_at", descending=False)
    rows = fetch_details(tiny_engine, request, cache=None).rows
    hours = dict(zip(rows["case_id"].to_list(), rows["elapsed_hours"].to_list(), strict=True))
    overdue = dict(zip(rows["case_id"].to_list(), rows["overdue_hours"].to_list(), strict=True))
    # S1 24 h, S2 96 h (late by 24), S3 12 h; S6 is January, so not in February's cohort.
    assert (hours["S1"], hours["S2"], hours["S3"]) == (24.0, 96.0, 12.0)
    assert (overdue["S1"], overdue["S2"], overdue["S3"]) == (None, 24.0, None)
    assert rows["case_id"].to_list() == ["S1", "S2", "S3", "S4", "S7", "S8", "S5"]


def test_pages_are_cut_in_sql_and_a_page_past_the_end_shows_the_last(tiny_engine: sa.Engine) -> None:
    # February complaints T1..T5 (T6 is January), newest first: T5, T4 | T3, T2 | T1.
    def page(number: int) -> list[str]:
        return _ids(
            tiny_engine, DetailRequest("complaints", time_range=FEBRUARY, page=number, page_size=2), "ticket_id"
        )

    assert [page(1), page(2), page(3)] == [["T5", "T4"], ["T3", "T2"], ["T1"]]
    last = fetch_details(tiny_engine, DetailRequest("complaints", time_range=FEBRUARY, page=9, page_size=2), cache=None)
    assert (last.page, last.pages, last.total, last.rows["ticket_id"].to_list()) == (3, 3, 5, ["T1"])


def test_scope_and_filters_hold_for_detail_rows(tiny_engine: sa.Engine) -> None:
    head_of_b = Scope(departments=frozenset({fixture_city.B}))
    assert _ids(tiny_engine, DetailRequest("complaints", time_range=FEBRUARY, scope=head_of_b), "ticket_id") == [
        "T4",
        "T3",
    ]
    in_street = DetailRequest("grid_events", time_range=FEBRUARY, filters=(Filter("region", (fixture_city.S1,)),))
    assert _ids(tiny_engine, in_street, "event_id") == ["E2", "E1"]
    nothing = Scope(regions=frozenset())
    assert (
        fetch_details(tiny_engine, DetailRequest("complaints", time_range=FEBRUARY, scope=nothing), cache=None).total
        == 0
    )


def test_personal_data_is_masked_unless_revealed(tiny_engine: sa.Engine) -> None:
    request = DetailRequest("complaints", time_range=FEBRUARY, sort="ticket_id", descending=False)
    masked = fetch_details(tiny_engine, request, cache=None).rows
    text = masked.write_csv()
    for number in PERSONAL_NUMBERS:
        assert number not in text, number
    t2 = masked.filter(masked["ticket_id"] == "T2")["description"][0]
    assert t2 == "来电人王**，电话138****5678，家住清波街道柳翠井巷**幢*单元***室，反映路灯不亮。"
    assert masked.filter(masked["ticket_id"] == "T1")["address"][0] == "清波街道柳翠井巷*号"
    revealed = fetch_details(tiny_engine, request, reveal_personal_data=True, cache=None).rows
    assert revealed.filter(revealed["ticket_id"] == "T2")["description"][0] == PERSONAL_TEXT["T2"]
    assert mask_text(PERSONAL_TEXT["T5"]) == "来电人身份证号330106************，手机 139 **** 4321，反映施工噪声。"


def test_cached_pages_stay_masked(tiny_engine: sa.Engine) -> None:
    RESULTS.clear()
    request = DetailRequest("complaints", time_range=FEBRUARY)
    fetch_details(tiny_engine, request, reveal_personal_data=True)
    again = fetch_details(tiny_engine, request).rows.write_csv()
    assert all(number not in again for number in PERSONAL_NUMBERS)
    RESULTS.clear()


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (DetailRequest("complaints", time_range=FEBRUARY, sort="phone"), "cannot sort complaints by 'phone'"),
        (DetailRequest("complaints", time_range=FEBRUARY, page=0), "page must be 1 or more"),
        (DetailRequest("complaints", time_range=FEBRUARY, page_size=100_000), "page size must be 1 to 500"),
        (DetailRequest("complaints", "complaint_on_time_rate", time_range=FEBRUARY), "is not a count"),
        (DetailRequest("complaints", "service_received", time_range=FEBRUARY), "is not on complaints"),
        (DetailRequest("people", time_range=FEBRUARY), "unknown table 'people'"),
        (DetailRequest("complaints"), "time range or an as-of"),
    ],
)
def test_bad_detail_requests_name_the_problem(tiny_engine: sa.Engine, request_: DetailRequest, message: str) -> None:
    with pytest.raises(RequestError, match=message.replace("(", r"\(")):
        fetch_details(tiny_engine, request_, cache=None)


@pytest.mark.slow
@pytest.mark.xdist_group("servers")
@pytest.mark.parametrize("server", ["postgres_engine", "mysql_engine"])
def test_detail_pages_match_the_embedded_engine(
    server: str, tiny_engine: sa.Engine, request: pytest.FixtureRequest
) -> None:
    engine: sa.Engine = request.getfixturevalue(server)
    fixture_city.load(engine)
    for detail in (
        DetailRequest("service_cases", "service_overdue_open", time_range=FEBRUARY, sort="overdue_hours"),
        DetailRequest("complaints", time_range=FEBRUARY, page=2, page_size=2),
        DetailRequest("grid_events", "grid_overdue_open", time_range=FEBRUARY, sort="elapsed_hours"),
    ):
        want = fetch_details(tiny_engine, detail, cache=None)
        got = fetch_details(engine, detail, cache=None)
        assert got.total == want.total
        assert got.rows.to_dicts() == want.rows.to_dicts()
