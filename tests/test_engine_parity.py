"""The same fixture in every available engine gives the same number for every metric.

PostgreSQL and MySQL/MariaDB run when COCKPIT_TEST_POSTGRES_URL / COCKPIT_TEST_MYSQL_URL are set
(``.ci/run`` sets them); otherwise these tests skip and say why.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from data_access.semantic.metric_registry import METRICS
from data_access.semantic.metrics import run_metrics
from data_access.semantic.query import MetricRequest, Scope
from tests import fixture_city
from tests.test_metrics import EXPECTED_FEBRUARY, FEBRUARY

TABLES = ("service_cases", "complaints", "grid_events")
GROUPINGS: tuple[tuple[str, ...], ...] = ((), ("district",), ("department",), ("week",))


def _requests() -> list[MetricRequest]:
    requests = []
    for table in TABLES:
        for dims in GROUPINGS:
            names = tuple(n for n, m in METRICS.items() if m.table == table and not (dims == ("week",) and m.snapshot))
            requests.append(MetricRequest(names, dims, time_range=FEBRUARY))
            requests.append(
                MetricRequest(names, dims, time_range=FEBRUARY, scope=Scope(departments=frozenset({"DEP_B"})))
            )
    return requests


def _assert_same(got: list[dict[str, object]], want: list[dict[str, object]]) -> None:
    assert len(got) == len(want)
    for got_row, want_row in zip(got, want, strict=True):
        assert got_row.keys() == want_row.keys()
        for key, value in want_row.items():
            if isinstance(value, float):
                assert got_row[key] == pytest.approx(value, rel=1e-9), key
            else:
                assert got_row[key] == value, key


@pytest.mark.slow
@pytest.mark.xdist_group("servers")
@pytest.mark.parametrize("server", ["postgres_engine", "mysql_engine"])
def test_every_metric_matches_embedded_engine(
    server: str, tiny_engine: sa.Engine, request: pytest.FixtureRequest
) -> None:
    engine: sa.Engine = request.getfixturevalue(server)
    fixture_city.load(engine)
    for metric_request in _requests():
        want = run_metrics(tiny_engine, metric_request, cache=None).to_dicts()
        got = run_metrics(engine, metric_request, cache=None).to_dicts()
        _assert_same(got, want)
    # and, independently of DuckDB, the hand-computed values
    for name, expected in EXPECTED_FEBRUARY.items():
        value = run_metrics(engine, MetricRequest((name,), time_range=FEBRUARY), cache=None)[name][0]
        assert value == pytest.approx(expected, rel=1e-9), name
