"""Target precedence: table rows by specificity and period, then the city file, then the registry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from data_access.contract import schema
from data_access.runtime.engine import dispose_engine, get_engine
from data_access.semantic.targets import resolve_targets, target_rows

ROWS = [
    {"id": 1, "metric": "service_on_time_rate", "region_code": None, "department_code": None,
     "period_start": None, "period_end": None, "value": 0.90},
    {"id": 2, "metric": "service_on_time_rate", "region_code": "330102", "department_code": None,
     "period_start": None, "period_end": None, "value": 0.97},
    {"id": 3, "metric": "service_on_time_rate", "region_code": "330102", "department_code": "DEP_A",
     "period_start": None, "period_end": None, "value": 0.99},
    {"id": 4, "metric": "service_on_time_rate", "region_code": None, "department_code": None,
     "period_start": dt.date(2026, 6, 1), "period_end": dt.date(2026, 6, 30), "value": 0.80},
]  # fmt: skip
DAY = dt.date(2026, 2, 1)


def test_precedence() -> None:
    city = {"service_on_time_rate": 0.95, "service_online_share": 0.7}

    def target(metric: str, **kw: object) -> float | None:
        return resolve_targets([metric], ROWS, city, **kw)[metric]  # type: ignore[arg-type]

    assert target("service_on_time_rate", day=DAY) == 0.90  # city-wide table row beats the city file
    assert target("service_on_time_rate", region="330102", day=DAY) == 0.97
    assert target("service_on_time_rate", region="330102", department="DEP_A", day=DAY) == 0.99
    assert target("service_on_time_rate", region="330106", department="DEP_A", day=DAY) == 0.90
    assert target("service_on_time_rate", day=dt.date(2026, 6, 15)) == 0.80  # dated row beats open-ended
    assert target("service_online_share", day=DAY) == 0.7  # city file
    assert target("service_good_rating_rate", day=DAY) == 0.95  # registry default
    assert target("service_received", day=DAY) is None  # no target anywhere


def test_rows_from_database(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 't.duckdb'}"
    engine = get_engine(url)
    try:
        assert target_rows(engine) == []  # no table yet: no rows, no error
        schema.create_schema(engine)
        with engine.begin() as connection:
            connection.execute(schema.targets.insert(), ROWS)
        assert sorted(target_rows(engine), key=lambda row: row["id"]) == ROWS
    finally:
        dispose_engine(url)
