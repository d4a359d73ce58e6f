"""Duration histograms are counted in SQL: checked against hand-computed bins on the fixture city."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from data_access.semantic.distributions import HistogramRequest, bin_labels, histogram
from data_access.semantic.query import RequestError, Scope
from tests import fixture_city
from tests.test_metrics import FEBRUARY


def test_handling_time_against_the_promised_limit_by_department(tiny_engine: sa.Engine) -> None:
    # Completed February cases (service_completed): S1 A 24 h, S2 A 96 h, S3 B 12 h; limit 72 h.
    # Share of the limit used: S1 1/3, S2 4/3, S3 1/6 → bins [<0.5, 0.5–1, ≥1].
    request = HistogramRequest(
        "service_completed", "submitted_at", "completed_at", (0.5, 1.0), per_limit="promised_limit_hours",
        by="department", time_range=FEBRUARY,
    )  # fmt: skip
    frame = histogram(tiny_engine, request, cache=None)
    assert frame.rows() == [
        (fixture_city.A, 0, 1),
        (fixture_city.A, 1, 0),
        (fixture_city.A, 2, 1),
        (fixture_city.B, 0, 1),
        (fixture_city.B, 1, 0),
        (fixture_city.B, 2, 0),
    ]


def test_close_time_bins_in_hours_with_scope(tiny_engine: sa.Engine) -> None:
    # Close hours of February tickets: T1 48, T2 72, T3 96, T4 48 (T5 open). Edges 24, 72: [<24, 24–72, ≥72].
    request = HistogramRequest("complaint_received", "received_at", "closed_at", (24.0, 72.0), time_range=FEBRUARY)
    assert histogram(tiny_engine, request, cache=None).rows() == [(0, 0), (1, 2), (2, 2)]
    scoped = HistogramRequest(
        "complaint_received", "received_at", "closed_at", (24.0, 72.0), time_range=FEBRUARY,
        scope=Scope(departments=frozenset({fixture_city.B})),
    )  # fmt: skip
    assert histogram(tiny_engine, scoped, cache=None).rows() == [(0, 0), (1, 1), (2, 1)]  # T4 48, T3 96


def test_bin_labels() -> None:
    assert bin_labels((1.0, 24.0, 72.0)) == ["<1h", "1–24h", "24–72h", "≥72h"]


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (HistogramRequest("complaint_received", "received_at", "phone", (1.0,), time_range=FEBRUARY), "no column"),
        (
            HistogramRequest("complaint_received", "received_at", "closed_at", (2.0, 1.0), time_range=FEBRUARY),
            "increasing",
        ),
        (HistogramRequest("nope", "received_at", "closed_at", (1.0,), time_range=FEBRUARY), "unknown metric"),
    ],
)
def test_bad_histograms_name_the_problem(tiny_engine: sa.Engine, request_: HistogramRequest, message: str) -> None:
    with pytest.raises(RequestError, match=message):
        histogram(tiny_engine, request_, cache=None)


@pytest.mark.slow
@pytest.mark.xdist_group("servers")
@pytest.mark.parametrize("server", ["postgres_engine", "mysql_engine"])
def test_histograms_match_the_embedded_engine(
    server: str, tiny_engine: sa.Engine, request: pytest.FixtureRequest
) -> None:
    engine: sa.Engine = request.getfixturevalue(server)
    fixture_city.load(engine)
    histogram_request = HistogramRequest(
        "service_completed", "submitted_at", "completed_at", (0.5, 1.0), per_limit="promised_limit_hours",
        by="department", time_range=FEBRUARY,
    )  # fmt: skip
    assert (
        histogram(engine, histogram_request, cache=None).rows()
        == histogram(tiny_engine, histogram_request, cache=None).rows()
    )
