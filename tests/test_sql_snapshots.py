"""The SQL the metric layer generates, per dialect, kept as reviewed files in tests/snapshots/.

A change to the compiler that alters any generated SQL fails here until the snapshots are
regenerated (``UPDATE_SNAPSHOTS=1 pytest tests/test_sql_snapshots.py``) and the diff reviewed.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from duckdb_engine import Dialect as DuckDBDialect
from sqlalchemy.dialects import mysql, postgresql

from data_access.config.city import ThreeRates
from data_access.semantic.compiler import compile_request
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.query import Filter, MetricRequest, OrderBy, Scope, TimeRange

SNAPSHOTS = Path(__file__).parent / "snapshots"
JANUARY = TimeRange(dt.datetime(2026, 1, 1), dt.datetime(2026, 2, 1))
DIALECTS: dict[str, sa.Dialect] = {
    "duckdb": DuckDBDialect(),
    "postgresql": postgresql.dialect(),
    "mysql": mysql.dialect(),
}


def _domain(table: str) -> tuple[str, ...]:
    return tuple(name for name, metric in METRICS.items() if metric.table == table and not metric.snapshot)


REQUESTS: dict[str, MetricRequest] = {
    "services_kpis": MetricRequest(
        tuple(name for name, metric in METRICS.items() if metric.table == "service_cases"), time_range=JANUARY
    ),
    "complaints_by_month_district_scoped": MetricRequest(
        _domain("complaints"),
        ("month", "district"),
        time_range=JANUARY,
        scope=Scope(departments=frozenset({"DEP_A", "DEP_B"}), regions=frozenset({"330106"})),
    ),
    "streets_ranked_by_composite": MetricRequest(
        ("complaint_composite_score",),
        ("street",),
        time_range=JANUARY,
        order_by=(OrderBy("complaint_composite_score", descending=True),),
        limit=5,
    ),
    "grid_stages_by_department_filtered": MetricRequest(
        _domain("grid_events"),
        ("week", "department"),
        filters=(Filter("source", ("视频", "网格员巡查")), Filter("region", ("330102",))),
        time_range=JANUARY,
    ),
}


def render(request: MetricRequest, dialect: sa.Dialect) -> str:
    statement = compile_request(request, ThreeRates(), dialect.name)
    compiled = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    return str(compiled).strip() + "\n"


@pytest.mark.parametrize("dialect_name", sorted(DIALECTS))
@pytest.mark.parametrize("request_name", sorted(REQUESTS))
def test_generated_sql_matches_snapshot(request_name: str, dialect_name: str) -> None:
    sql = render(REQUESTS[request_name], DIALECTS[dialect_name])
    path = SNAPSHOTS / f"{request_name}.{dialect_name}.sql"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(sql, encoding="utf-8")
    assert path.is_file(), f"no snapshot {path.name}: run with UPDATE_SNAPSHOTS=1 and review it"
    assert sql == path.read_text(encoding="utf-8")


def test_one_select_per_request() -> None:
    """A request compiles to exactly one SELECT statement (the ranked fallback nests, never unions)."""
    for request in REQUESTS.values():
        for dialect in DIALECTS.values():
            sql = render(request, dialect)
            assert ";" not in sql
            assert " UNION " not in sql.upper()


@pytest.mark.parametrize("request_name", sorted(REQUESTS))
def test_duckdb_snapshot_runs_and_equals_the_metric_layer(request_name: str, tiny_engine: sa.Engine) -> None:
    """The reviewed SQL is the SQL that runs: executed as text, it gives the metric layer's rows."""
    from data_access.semantic.metrics import run_metrics

    sql = (SNAPSHOTS / f"{request_name}.duckdb.sql").read_text(encoding="utf-8")
    with tiny_engine.connect() as connection:
        rows = [tuple(row) for row in connection.exec_driver_sql(sql)]
    expected = [tuple(row) for row in run_metrics(tiny_engine, REQUESTS[request_name], cache=None).iter_rows()]
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected, strict=True):
        assert [str(v) if isinstance(v, dt.date) else v for v in got] == [
            str(v) if isinstance(v, dt.date) else (pytest.approx(v) if isinstance(v, float) else v) for v in want
        ]
