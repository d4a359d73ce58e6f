"""San Francisco as a city of its own: the SF 311 fixture imported, the app's pages run on it (AppTest)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from data_access.contract import schema
from data_access.ingest import cli
from data_access.runtime.engine import dispose_engine, get_engine
from data_access.semantic.metrics import data_as_of
from tests.test_app import PAGES

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "streamlit_app.py")
SF_CITY = REPO / "config" / "sf_city.toml"
FIXTURE = REPO / "tests" / "fixtures" / "sf311_sample_50.csv"


@pytest.fixture(scope="module")
def sf_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    folder = tmp_path_factory.mktemp("sf_app")
    url = f"duckdb:///{folder / 'sf.duckdb'}"
    code = cli.main(
        [
            "--url",
            url,
            "--table",
            "complaints",
            "--preset",
            "sf311",
            "--quarantine",
            str(folder / "q.csv"),
            str(FIXTURE),
        ]
    )
    assert code == 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COCKPIT_DATABASE_URL", url)
        patch.setenv("COCKPIT_CITY", str(SF_CITY))
        patch.setenv("COCKPIT_DATA_DIR", str(folder / "data"))
        yield get_engine(url)
    dispose_engine(url)


def _texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.markdown, *at.caption, *at.title, *at.info, *at.error, *at.html)]
    return "\n".join(str(part) for part in parts)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_san_francisco(sf_db: sa.Engine, page: str) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    if page != "pages/cockpit.py":
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert "演示数据" not in _texts(at)  # imported data: no demo badge


@pytest.mark.slow
def test_complaints_page_counts_the_imported_month(sf_db: sa.Engine) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/complaints.py").run()
    assert "旧金山" in _texts(at)
    as_of = data_as_of(sf_db)
    assert as_of is not None
    start = as_of.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    cutoff = as_of.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    c = schema.complaints.c
    with sf_db.connect() as connection:
        expected = connection.execute(
            sa.select(sa.func.count()).where(c.received_at >= start, c.received_at < cutoff)
        ).scalar_one()
    labels = {metric.label: metric.value for metric in at.metric}
    assert labels["诉求量"] == f"{expected:,} 件"
    assert labels["响应率"] == "—"  # 311 has no follow-up survey: the 三率 stay empty, not invented


@pytest.mark.slow
def test_district_filter_lists_the_planning_neighborhoods(sf_db: sa.Engine) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/complaints.py").run()
    options = at.selectbox(key="district").options
    assert len(options) == 1 + 37
    assert "Mission" in options and "South of Market" in options
