"""Every metric on the tiny fixture city, against values worked out by hand in fixture_city.py."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import sqlalchemy as sa

from data_access.config.city import ThreeRates
from data_access.semantic.compiler import compile_request
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.metrics import run_metrics
from data_access.semantic.query import Filter, MetricRequest, OrderBy, RequestError, Scope, TimeRange
from tests.fixture_city import AS_OF, D1, D2, FEB, S2, A, B

FEBRUARY = TimeRange(*FEB)

# Hand-computed from the fixture rows (see the comments there).
EXPECTED_FEBRUARY: dict[str, float | int] = {
    # service cases submitted in February: S1 S2 S3 S4 S5 S7 S8
    "service_received": 7,
    "service_completed": 3,  # S1 S2 S3 (S7 completes after the as-of time; S8 was rejected)
    "service_handling_hours_median": 24.0,  # of 12, 24, 96
    "service_handling_hours_p90": 81.6,  # 24 + 0.8 × (96 − 24)
    "service_on_time_rate": 2 / 3,  # S1, S3 within 72 h
    "service_overdue_open": 3,  # S4, S6 (January), S7 (open at as-of); S5 too young, S8 rejected
    "service_online_share": 3 / 7,  # S1 网上, S3 掌上, S7 网上
    "service_rated": 3,  # S1 非常满意, S2 不满意, S3 满意
    "service_good_rating_rate": 2 / 3,  # 非常满意, 满意 of three ratings
    # complaints received in February: T1..T5; valid follow-ups T1 满意, T2 基本满意, T3 不满意
    "complaint_received": 5,
    "complaint_response_rate": 2 / 3,
    "complaint_resolution_rate": 2 / 3,
    "complaint_satisfaction_rate": 1.9 / 3,
    "complaint_composite_score": 0.1 * 2 / 3 + 0.5 * 2 / 3 + 0.4 * 1.9 / 3,
    "complaint_repeat_rate": 2 / 5,
    "complaint_repeats": 2,  # T3 repeats T1, T4 repeats T3
    "complaint_first_response_hours_median": 3.0,  # of 1, 2, 4, 8
    "complaint_close_hours_median": 60.0,  # of 48, 48, 72, 96
    "complaint_on_time_rate": 3 / 4,  # T2 resolved in 48 h against 24
    "complaint_overdue_open": 2,  # T5, T6
    # grid events collected in February: E1..E5
    "grid_collected": 5,
    "grid_filed": 4,
    "grid_dispatched": 4,  # E1 E2 E3 E5 (E4 only collected)
    "grid_handled": 2,  # E1 E2
    "grid_fed_back": 2,
    "grid_verified": 2,
    "grid_closed": 2,
    "grid_closure_rate": 2 / 4,
    "grid_on_time_rate": 1 / 2,  # E1 10 h ≤ 24, E2 48 h > 24
    "grid_overdue_open": 1,  # E3
    "grid_rework_rate": 1 / 2,
    "grid_stage_hours_file": 1.0,  # of 0.5, 1, 1, 2
    "grid_stage_hours_dispatch": 1.0,
    "grid_stage_hours_handle": 29.0,  # of 10, 48
    "grid_stage_hours_feedback": 1.0,
    "grid_stage_hours_verify": 7.0,  # of 2, 12
    "grid_stage_hours_close": 1.0,
}


def test_every_registered_metric_has_a_hand_computed_expectation() -> None:
    assert set(EXPECTED_FEBRUARY) == set(METRICS)


@pytest.mark.parametrize("name", sorted(EXPECTED_FEBRUARY))
def test_metric_value_on_fixture(tiny_engine: sa.Engine, name: str) -> None:
    frame = run_metrics(tiny_engine, MetricRequest((name,), time_range=FEBRUARY), cache=None)
    assert frame.shape == (1, 1)
    assert frame[name][0] == pytest.approx(EXPECTED_FEBRUARY[name], rel=1e-12)


def test_whole_domain_in_one_request_matches_one_by_one(tiny_engine: sa.Engine) -> None:
    names = tuple(n for n in EXPECTED_FEBRUARY if METRICS[n].table == "complaints")
    row = run_metrics(tiny_engine, MetricRequest(names, time_range=FEBRUARY), cache=None).row(0, named=True)
    assert row == pytest.approx({n: EXPECTED_FEBRUARY[n] for n in names}, rel=1e-12)


def test_group_by_district(tiny_engine: sa.Engine) -> None:
    request = MetricRequest(("complaint_received", "complaint_on_time_rate"), ("district",), time_range=FEBRUARY)
    frame = run_metrics(tiny_engine, request, cache=None)
    # D1: T1, T2 (T2 late); D2: T3, T4 on time, T5 unresolved.
    assert frame.to_dicts() == [
        {"district": D1, "complaint_received": 2, "complaint_on_time_rate": 0.5},
        {"district": D2, "complaint_received": 3, "complaint_on_time_rate": 1.0},
    ]


def test_time_grains(tiny_engine: sa.Engine) -> None:
    jan_feb = TimeRange(dt.datetime(2026, 1, 1), dt.datetime(2026, 3, 1))
    by_month = run_metrics(
        tiny_engine, MetricRequest(("complaint_received",), ("month",), time_range=jan_feb), cache=None
    )
    assert by_month.to_dicts() == [
        {"month": dt.date(2026, 1, 1), "complaint_received": 1},
        {"month": dt.date(2026, 2, 1), "complaint_received": 5},
    ]
    by_week = run_metrics(
        tiny_engine, MetricRequest(("complaint_received",), ("week",), time_range=FEBRUARY), cache=None
    )
    # 2026-02-02 is a Monday: T1..T4 fall in that week, T5 (Friday 20th) in the week of the 16th.
    assert by_week.to_dicts() == [
        {"week": dt.date(2026, 2, 2), "complaint_received": 4},
        {"week": dt.date(2026, 2, 16), "complaint_received": 1},
    ]
    by_day = run_metrics(tiny_engine, MetricRequest(("grid_collected",), ("day",), time_range=FEBRUARY), cache=None)
    assert by_day["grid_collected"].sum() == 5
    assert by_day["day"].to_list()[0] == dt.date(2026, 2, 1)


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (Scope(departments=frozenset({A})), 3),  # S1 S2 S5
        (Scope(departments=frozenset({B})), 4),  # S3 S4 S7 S8
        (Scope(regions=frozenset({D2})), 3),  # S3 S4 S5
        (Scope(regions=frozenset({S2})), 3),  # a street code works the same way
        (Scope(departments=frozenset({A}), regions=frozenset({D2})), 1),  # S5 only
        (Scope(departments=frozenset()), 0),  # an empty grant sees nothing
        (Scope(regions=frozenset({"999999"})), 0),
    ],
)
def test_scope_restricts_rows(tiny_engine: sa.Engine, scope: Scope, expected: int) -> None:
    frame = run_metrics(tiny_engine, MetricRequest(("service_received",), time_range=FEBRUARY, scope=scope), cache=None)
    assert frame["service_received"].to_list() == [expected]


def test_scope_also_holds_for_snapshot_and_grouped_metrics(tiny_engine: sa.Engine) -> None:
    request = MetricRequest(
        ("service_overdue_open",), ("department",), time_range=FEBRUARY, scope=Scope(departments=frozenset({B}))
    )
    assert run_metrics(tiny_engine, request, cache=None).to_dicts() == [
        {"department": B, "service_overdue_open": 2}  # S4, S7
    ]


def test_filters(tiny_engine: sa.Engine) -> None:
    request = MetricRequest(
        ("complaint_received",), filters=(Filter("category_l1", ("C02",)), Filter("region", (D2,))), time_range=FEBRUARY
    )
    assert run_metrics(tiny_engine, request, cache=None)["complaint_received"].to_list() == [3]
    empty = MetricRequest(("complaint_received",), filters=(Filter("channel", ()),), time_range=FEBRUARY)
    assert run_metrics(tiny_engine, empty, cache=None)["complaint_received"].to_list() == [0]


def test_order_and_limit(tiny_engine: sa.Engine) -> None:
    request = MetricRequest(
        ("service_received",),
        ("department",),
        time_range=FEBRUARY,
        order_by=(OrderBy("service_received", True),),
        limit=1,
    )
    assert run_metrics(tiny_engine, request, cache=None).to_dicts() == [{"department": B, "service_received": 4}]


def test_three_rate_weights_are_configuration(tiny_engine: sa.Engine) -> None:
    rates = ThreeRates(response_weight=0.2, resolution_weight=0.4, satisfaction_weight=0.4, basic_satisfied_factor=0.5)
    request = MetricRequest(("complaint_satisfaction_rate", "complaint_composite_score"), time_range=FEBRUARY)
    row = run_metrics(tiny_engine, request, rates, cache=None).row(0, named=True)
    assert row["complaint_satisfaction_rate"] == pytest.approx(1.5 / 3)
    assert row["complaint_composite_score"] == pytest.approx(0.2 * 2 / 3 + 0.4 * 2 / 3 + 0.4 * 1.5 / 3)


def test_as_of_replays_the_past(tiny_engine: sa.Engine) -> None:
    # On 2026-02-06 00:00, T2 (resolved 02-05 09:00) was done but T3 and T4 (02-06) were not.
    request = MetricRequest(
        ("complaint_on_time_rate", "complaint_overdue_open"),
        time_range=TimeRange(dt.datetime(2026, 2, 1), dt.datetime(2026, 2, 6)),
    )
    row = run_metrics(tiny_engine, request, cache=None).row(0, named=True)
    assert row["complaint_on_time_rate"] == pytest.approx(1 / 2)  # T1 on time, T2 late
    # T3 and T4 are unresolved at 02-06 but within 168 h; T6 (Jan 20 + 168 h) is overdue.
    assert row["complaint_overdue_open"] == 1


def test_rank_fallback_equals_native_percentiles(tiny_engine: sa.Engine) -> None:
    """The MySQL window-function percentile, run on DuckDB, gives the native quantile_cont results."""
    names = ("service_handling_hours_median", "service_handling_hours_p90", "service_received")
    for dims in ((), ("department",), ("district", "channel")):
        request = MetricRequest(names, dims, time_range=FEBRUARY)
        fallback = compile_request(request, ThreeRates(), "mysql")  # builds the ranked subquery
        with tiny_engine.connect() as connection:
            rows = [tuple(row) for row in connection.execute(fallback)]
        native = list(run_metrics(tiny_engine, request, cache=None).iter_rows())
        assert [row[: len(dims)] for row in rows] == [row[: len(dims)] for row in native]
        for got, want in zip(rows, native, strict=True):
            for g, w in zip(got[len(dims) :], want[len(dims) :], strict=True):
                assert (g is None and w is None) or g == pytest.approx(w, rel=1e-12)
        assert len(native) >= 1 + len(dims)  # the grouped cases really have several groups


def test_empty_period_gives_zero_counts_and_null_rates(tiny_engine: sa.Engine) -> None:
    request = MetricRequest(
        ("service_received", "service_on_time_rate", "service_handling_hours_median"),
        time_range=TimeRange(dt.datetime(2030, 1, 1), dt.datetime(2030, 2, 1)),
    )
    assert run_metrics(tiny_engine, request, cache=None).to_dicts() == [
        {"service_received": 0, "service_on_time_rate": None, "service_handling_hours_median": None}
    ]


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (MetricRequest(("nope",)), "unknown metric"),
        (MetricRequest(("service_received", "complaint_received")), "different tables"),
        (MetricRequest(("service_received",), ("grid",)), "does not exist on service_cases"),
        (MetricRequest(("service_received",), ("colour",)), "unknown dimension"),
        (MetricRequest(("service_overdue_open",), ("day",), time_range=FEBRUARY), "snapshot"),
        (MetricRequest(("service_overdue_open",)), "time range or an as-of"),
        (MetricRequest(("service_received",), order_by=(OrderBy("x"),)), "cannot order by"),
        (MetricRequest(("service_received",), limit=0), "limit"),
    ],
)
def test_bad_requests_name_the_problem(request_: MetricRequest, message: str) -> None:
    with pytest.raises(RequestError, match=message):
        compile_request(request_, ThreeRates(), "duckdb")


def test_backwards_time_range_is_refused() -> None:
    with pytest.raises(RequestError, match="not after start"):
        TimeRange(AS_OF, AS_OF - dt.timedelta(days=1))


def test_result_is_polars_with_typed_columns(tiny_engine: sa.Engine) -> None:
    request = MetricRequest(("grid_collected", "grid_closure_rate"), ("month", "district"), time_range=FEBRUARY)
    frame = run_metrics(tiny_engine, request, cache=None)
    assert frame.schema == pl.Schema(
        {"month": pl.Date(), "district": pl.String(), "grid_collected": pl.Int64(), "grid_closure_rate": pl.Float64()}
    )
