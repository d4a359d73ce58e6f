"""Every entry point reads the city's data through the data session (scope, audit, settings, cache).

The engine is watched while each entry point runs: every SELECT that names one of the city's tables
(facts, rollups, regions, departments, categories, targets) must run while a ``DataSession`` is
reading (``data_access.runtime.session.active_session``). Entry points walked: every page of the app
(the cockpit with its ticker and alerts, the three topic pages with their detail lists and
histograms, the workbench with a chart, the briefing page, the admin and audit pages), the
briefing's command line and the early warning's command line. A read outside the session would
skip the viewer's scope, the audit trail and the city's 三率 weights.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard.report import cli as report_cli
from data_access.alerts import cli as alerts_cli
from data_access.contract import schema
from data_access.runtime.session import active_session
from data_access.semantic.metrics import run_metrics
from data_access.semantic.query import MetricRequest
from data_access.semantic.rollups.refresh import GROUPS, OPEN_TABLES, ROLLUPS
from tests import fixture_city
from tests.app_driver import APP

pytestmark = pytest.mark.slow

CITY_TABLES = frozenset(
    {
        *(table.name for table in schema.FACT_TABLES),
        *(table.name for table in ROLLUPS),
        *(table.name for table in GROUPS.values()),
        *(table.name for table in OPEN_TABLES.values()),
        schema.regions.name,
        schema.departments.name,
        schema.categories.name,
        schema.targets.name,
    }
)
PAGES = (
    "pages/cockpit.py",
    "pages/services.py",
    "pages/complaints.py",
    "pages/grid.py",
    "pages/explore.py",
    "pages/report.py",
    "pages/admin.py",
    "pages/audit.py",
)


def _names_city_table(statement: str) -> bool:
    words = set(statement.replace('"', " ").replace("`", " ").replace(",", " ").replace("(", " ").split())
    return bool(words & CITY_TABLES)


class Watch(list[str]):
    """The SELECTs on the city's tables run outside a session (the list), and how many ran in all."""

    reads = 0


@contextmanager
def sessionless_reads(engine: sa.Engine) -> Iterator[Watch]:
    """The SELECTs on the city's tables that ``engine`` runs while no data session is reading."""
    found = Watch()

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and _names_city_table(statement):
            found.reads += 1
            if active_session() is None:
                found.append(" ".join(statement.split())[:240])

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield found
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


def test_the_watch_sees_a_read_that_skips_the_session(tiny_engine: sa.Engine) -> None:
    with sessionless_reads(tiny_engine) as found:
        run_metrics(tiny_engine, MetricRequest(("complaint_received",)), cache=None)
    assert found, "a direct run_metrics call is a read outside the session"


def test_every_page_reads_through_the_session(tiny_app: sa.Engine) -> None:
    with sessionless_reads(tiny_app) as found:
        at = AppTest.from_file(APP, default_timeout=120)
        at.query_params["dims"] = "district"  # the workbench draws a chart and its table
        at.run()
        for page in PAGES:
            at.switch_page(page).run()
            assert not at.exception, (page, [e.value for e in at.exception])
    assert found == []
    assert found.reads > 50, "the watch saw the pages' reads"


def test_the_command_lines_read_through_the_session(
    tiny_app: sa.Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = tiny_app.url.render_as_string(hide_password=False)
    with sessionless_reads(tiny_app) as found:
        out = tmp_path / "briefing.html"
        assert report_cli.main(["--url", url, "--period", "2026-02", "--out", str(out)]) == 0
        assert alerts_cli.main(["--url", url, "--as-of", f"{fixture_city.AS_OF:%Y-%m-%dT%H:%M}"]) == 0
    capsys.readouterr()
    assert out.is_file()
    assert found == []
    assert found.reads > 10, "the watch saw the commands' reads"
