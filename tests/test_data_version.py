"""An import that changes the data (new cockpit_meta.data_version) makes running pages drop cached answers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data_access.contract import schema
from data_access.runtime import session as data_session
from data_access.runtime.cache import RESULTS
from data_access.runtime.engine import dispose_engine, get_engine
from data_access.semantic.metric_registry import METRICS
from tests import fixture_city

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def received(at: AppTest) -> str:
    return {metric.label: metric.value for metric in at.metric}[METRICS["complaint_received"].label_zh]


@pytest.mark.slow
def test_new_data_version_refreshes_the_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"duckdb:///{tmp_path / 'city.duckdb'}"
    engine = get_engine(url)
    fixture_city.load(engine)
    monkeypatch.setenv("COCKPIT_DATABASE_URL", url)
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("COCKPIT_CITY", raising=False)
    RESULTS.clear()
    # The version check interval, made long for the test so a slow machine cannot pass it by accident.
    monkeypatch.setattr(data_session, "VERSION_TTL_SECONDS", 3600.0)
    try:
        at = AppTest.from_file(APP, default_timeout=60).run()
        at.switch_page("pages/complaints.py").run()
        assert received(at) == "5 件"  # T1..T5 in February

        # An import in another process: one more February ticket and a new data version.
        extra = {**fixture_city.COMPLAINTS[0], "ticket_id": "T7", "received_at": dt.datetime(2026, 2, 10, 9)}
        with engine.begin() as connection:
            connection.execute(schema.complaints.insert(), [extra])
            connection.execute(schema.cockpit_meta.insert(), [{"key": "data_version", "value": "2026-02-28T09:00"}])
        at.run()
        assert received(at) == "5 件"  # within the check interval the cached answer still stands
        monkeypatch.setattr(data_session, "VERSION_TTL_SECONDS", 0.0)  # the interval has passed
        at.run()
        assert received(at) == "6 件"
    finally:
        RESULTS.clear()
        dispose_engine(url)
