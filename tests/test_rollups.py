"""Rollups and open items give exactly the numbers the facts give, and are read when they can be.

The fixture city (hand-computed values in tests/test_metrics.py) is loaded into its own database,
its aggregates refreshed, and every request of a wide grid (every metric of a table × groupings ×
scopes × filters × aligned and ragged time ranges × live and past as-of times) is answered both
routed and on the facts alone: the frames must be equal. Then the routes themselves are asserted,
so a router that silently always fell back to the facts would fail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal

from data_access.config.city import ThreeRates
from data_access.contract import schema
from data_access.runtime.engine import dispose_engine, get_engine
from data_access.runtime.session import engine_key
from data_access.semantic.compiler import compile_request
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.metrics import _frame, run_metrics
from data_access.semantic.query import Filter, MetricRequest, OrderBy, Scope, TimeRange
from data_access.semantic.rollups.measures import rollup_conditions
from data_access.semantic.rollups.refresh import STATES, invalidate_rollups, read_state, refresh_rollups
from data_access.semantic.rollups.routing import sources
from data_access.semantic.rollups.tables import OPEN_TABLES, ROLLUPS
from data_access.semantic.routed import compile_routed
from tests import fixture_city
from tests.test_metrics import EXPECTED_FEBRUARY, FEBRUARY

T = dt.datetime
TABLES = ("service_cases", "complaints", "grid_events")
# Later than every timestamp in the fixture: "done by the as-of time" means "done at all".
LIVE = TimeRange(T(2026, 2, 1), T(2026, 12, 31, 10, 30))
FEBRUARY_10 = TimeRange(T(2026, 2, 1), T(2026, 2, 10))
RANGES = (
    FEBRUARY,  # whole days, as-of = 1 March (some records finish later: not live)
    TimeRange(T(2026, 2, 3, 10, 30), T(2026, 2, 20, 15, 0)),  # ragged edges: facts for the edge days
    TimeRange(T(2026, 1, 15), T(2026, 3, 31, 23, 59)),
    LIVE,
)
SCOPES = (
    Scope(),
    Scope(departments=frozenset({fixture_city.B})),
    Scope(regions=frozenset({fixture_city.D1})),
    Scope(regions=frozenset({fixture_city.S2})),
    Scope(regions=frozenset({fixture_city.G1})),  # a grid code: only the grid rollups hold it
    Scope(regions=frozenset({"NOT_A_CODE"})),
)
GROUPINGS = (
    (),
    ("district",),
    ("street",),
    ("department",),
    ("day",),
    ("week",),
    ("grid",),
    ("channel",),
    ("category_l1",),
)
CATEGORY = {"complaints": "C01", "grid_events": "GE01"}  # a first-level category of the fixture


@pytest.fixture(scope="module")
def rolled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    url = f"duckdb:///{tmp_path_factory.mktemp('rollups') / 'rolled.duckdb'}"
    engine = get_engine(url)
    fixture_city.load(engine)
    with engine.begin() as connection:
        refresh_rollups(connection)
    yield engine
    STATES.clear()
    dispose_engine(url)


def _names(table: str, snapshot: bool | None = None) -> tuple[str, ...]:
    return tuple(
        name for name, m in METRICS.items() if m.table == table and (snapshot is None or m.snapshot == snapshot)
    )


def _valid(table: str, dims: tuple[str, ...]) -> bool:
    from data_access.semantic.model import DIMENSION_COLUMNS
    from data_access.semantic.query import TIME_GRAINS

    return all(d in TIME_GRAINS or table in DIMENSION_COLUMNS[d] for d in dims)


def _requests() -> Iterator[MetricRequest]:
    for table in TABLES:
        for dims in GROUPINGS:
            if not _valid(table, dims):
                continue
            timed = any(d in ("day", "week") for d in dims)
            names = _names(table, snapshot=False) if timed or dims else _names(table)
            for time_range in RANGES:
                for scope in SCOPES:
                    yield MetricRequest(names, dims, time_range=time_range, scope=scope)
                    if not timed:
                        yield MetricRequest(_names(table, snapshot=True), dims, time_range=time_range, scope=scope)
            yield MetricRequest(
                names, dims, time_range=FEBRUARY, filters=(Filter("region", (fixture_city.S1, fixture_city.C2)),)
            )
            yield MetricRequest(names, dims, time_range=LIVE, filters=(Filter("department", (fixture_city.A,)),))
            if table in CATEGORY:
                for time_range in (FEBRUARY, LIVE):
                    category = (Filter("category_l1", (CATEGORY[table],)),)
                    yield MetricRequest(names, dims, time_range=time_range, filters=category)


def _answer(engine: sa.Engine, request: MetricRequest, routed: bool) -> pl.DataFrame:
    rates = ThreeRates()
    state = read_state(engine) if routed else None
    statement = (
        compile_routed(request, rates, engine.dialect.name, state)
        if routed
        else compile_request(request, rates, engine.dialect.name)
    )
    with engine.connect() as connection:
        return _frame(request, list(connection.execute(statement)))


# The facts-only answers of the grid on the DuckDB fixture, by request: the same for every engine the
# routed answers are compared on, so a worker computes them once (the server tests reuse them).
_FACTS_ANSWERS: dict[tuple[str, MetricRequest], pl.DataFrame] = {}


def _facts_answer(engine: sa.Engine, request: MetricRequest) -> pl.DataFrame:
    key = (engine_key(engine), request)
    if key not in _FACTS_ANSWERS:
        _FACTS_ANSWERS[key] = _answer(engine, request, routed=False)
    return _FACTS_ANSWERS[key]


def _assert_same_answers(engine: sa.Engine, facts: sa.Engine | None = None) -> int:
    """Every request of the grid: routed on ``engine`` == facts only on ``facts`` (default: the same)."""
    checked = 0
    for request in _requests():
        want = _facts_answer(facts or engine, request)
        got = _answer(engine, request, routed=True)
        assert_frame_equal(got, want, check_exact=False, rel_tol=1e-9, abs_tol=1e-12), request
        checked += 1
    return checked


@pytest.mark.slow
@pytest.mark.xdist_group("servers")  # beside the server grids: one worker computes the facts answers once
def test_every_request_of_the_grid_gives_the_facts_answer(rolled: sa.Engine) -> None:
    assert _assert_same_answers(rolled) > 800


def test_the_router_reads_rollups_and_open_items_where_it_can(rolled: sa.Engine) -> None:
    state = read_state(rolled)
    assert state is not None
    live_kpis = MetricRequest(
        ("complaint_received", "complaint_composite_score", "complaint_overdue_open", "complaint_close_hours_median"),
        time_range=LIVE,
    )
    assert sources(live_kpis, state) == {
        "rollup": ["complaint_received", "complaint_composite_score"],
        "open": ["complaint_overdue_open"],
        "fact": ["complaint_close_hours_median"],
    }
    # February's as-of time (1 March) is before S7 completes: its done-conditions need the facts;
    # received counts and the follow-up-based 三率 do not depend on the as-of time.
    february = MetricRequest(("service_received", "service_on_time_rate", "service_overdue_open"), time_range=FEBRUARY)
    assert sources(february, state) == {
        "rollup": ["service_received"],
        "open": ["service_overdue_open"],
        "fact": ["service_on_time_rate"],
    }
    # a grid code in the scope: only the grid-level rollup holds that column
    by_grid = MetricRequest(
        ("grid_collected",), ("day",), time_range=LIVE, scope=Scope(regions=frozenset({"330102001001001"}))
    )
    sql = str(compile_routed(by_grid, ThreeRates(), "duckdb", state))
    assert "rollup_grid_events_grid_daily" in sql and "grid_events.collected_at" in sql  # edge day from facts
    # city- or district-wide and department scopes read the smallest rollup, streets the street one
    by_department = MetricRequest(
        ("complaint_received",), ("department",), time_range=LIVE, scope=Scope(regions=frozenset({"330102"}))
    )
    assert "rollup_complaints_district_daily" in str(compile_routed(by_department, ThreeRates(), "duckdb", state))
    by_street = MetricRequest(("complaint_received",), ("street",), time_range=LIVE)
    by_street_sql = str(compile_routed(by_street, ThreeRates(), "duckdb", state))
    assert "rollup_complaints_daily" in by_street_sql and "rollup_complaints_district_daily" not in by_street_sql
    # a first-level category, filtered or split by: the category rollup
    by_category = MetricRequest(
        ("complaint_received",), ("district",), time_range=LIVE, filters=(Filter("category_l1", ("C01",)),)
    )
    assert "rollup_complaints_category_daily" in str(compile_routed(by_category, ThreeRates(), "duckdb", state))
    assert sources(by_category, state) == {"rollup": ["complaint_received"]}
    # department scope + grid dimension: no rollup has both, the facts answer
    assert sources(
        MetricRequest(("grid_collected",), ("grid",), time_range=LIVE, scope=Scope(departments=frozenset({"DEP_A"}))),
        state,
    ) == {"fact": ["grid_collected"]}
    # with dimensions, mixed sources are not split
    mixed = MetricRequest(("service_received", "service_handling_hours_median"), ("district",), time_range=LIVE)
    assert "rollup_" not in str(compile_routed(mixed, ThreeRates(), "duckdb", state))


def test_hand_computed_february_values_through_the_router(rolled: sa.Engine) -> None:
    STATES.clear()
    for name, expected in EXPECTED_FEBRUARY.items():
        frame = run_metrics(rolled, MetricRequest((name,), time_range=FEBRUARY), cache=None)
        assert frame[name][0] == pytest.approx(expected, rel=1e-12), name


def test_rollup_rows_hold_the_counts_of_the_fixture(rolled: sa.Engine) -> None:
    """Complaints in February, by day and street, counted by hand from tests/fixture_city.py."""
    table = next(t for t in ROLLUPS if t.name == "rollup_complaints_daily")
    with rolled.connect() as connection:
        total = connection.execute(
            sa.select(sa.func.sum(table.c.n_rows)).where(table.c.day >= FEBRUARY.start, table.c.day < FEBRUARY.end)
        ).scalar_one()
        facts = connection.execute(
            sa.select(sa.func.count()).where(
                schema.complaints.c.received_at >= FEBRUARY.start, schema.complaints.c.received_at < FEBRUARY.end
            )
        ).scalar_one()
        opened = connection.execute(sa.select(sa.func.count()).select_from(OPEN_TABLES["complaints"])).scalar_one()
        unresolved = sum(1 for row in fixture_city.COMPLAINTS if row["resolved_at"] is None)
    assert total == facts == EXPECTED_FEBRUARY["complaint_received"]
    assert opened == unresolved
    # one column per counted condition, no more: received, contacted, resolved, follow-ups, ...
    assert "n_rows" in rollup_conditions("complaints")


def test_stale_or_missing_aggregates_fall_back_to_the_facts(engine: sa.Engine) -> None:
    fixture_city.load(engine)
    with engine.begin() as connection:
        refresh_rollups(connection)
    request = MetricRequest(("complaint_received",), time_range=FEBRUARY)
    assert read_state(engine) is not None
    with engine.begin() as connection:  # what the demo and ingest do before rewriting facts
        invalidate_rollups(connection)
        connection.execute(schema.complaints.delete().where(schema.complaints.c.ticket_id == "T1"))
    assert read_state(engine) is None
    february = EXPECTED_FEBRUARY["complaint_received"] - 1  # T1 was received in February
    assert run_metrics(engine, request, cache=None)["complaint_received"][0] == february
    with engine.begin() as connection:
        refresh_rollups(connection)
    state = read_state(engine)
    assert state is not None and sources(request, state) == {"rollup": ["complaint_received"]}
    assert run_metrics(engine, request, cache=None)["complaint_received"][0] == february
    # the aggregates vanish while the state is cached: the facts answer, no error
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE rollup_complaints_daily"))
    assert read_state(engine) is not None
    assert run_metrics(engine, request, cache=None)["complaint_received"][0] == february


def test_ordering_and_limit_survive_the_rollup(rolled: sa.Engine) -> None:
    request = MetricRequest(
        ("complaint_received",),
        ("street",),
        time_range=LIVE,
        order_by=(OrderBy("complaint_received", descending=True),),
        limit=1,
    )
    state = read_state(rolled)
    assert state is not None and sources(request, state) == {"rollup": ["complaint_received"]}
    assert _answer(rolled, request, routed=True).to_dicts() == _answer(rolled, request, routed=False).to_dicts()


@pytest.mark.slow
@pytest.mark.xdist_group("servers")
@pytest.mark.parametrize("server", ["postgres_engine", "mysql_engine"])
def test_servers_route_to_the_same_answers(server: str, rolled: sa.Engine, request: pytest.FixtureRequest) -> None:
    engine: sa.Engine = request.getfixturevalue(server)
    fixture_city.load(engine)
    with engine.begin() as connection:
        refresh_rollups(connection)
    try:
        assert _assert_same_answers(engine, facts=rolled) > 800
    finally:
        with engine.begin() as connection:
            invalidate_rollups(connection)


def test_refreshing_one_table_leaves_the_others_on_the_facts(engine: sa.Engine) -> None:
    fixture_city.load(engine)
    with engine.begin() as connection:
        rebuilt = refresh_rollups(connection, facts=("complaints",))
    assert set(rebuilt) == {
        "rollup_complaints_district_daily",
        "rollup_complaints_daily",
        "rollup_complaints_grid_daily",
        "rollup_complaints_category_daily",
        "open_complaints",
    }
    state = read_state(engine)
    assert state is not None and set(state.watermarks) == {"complaints"}
    services = MetricRequest(("service_received",), time_range=LIVE)
    assert sources(services, state) == {"fact": ["service_received"]}
    assert sources(MetricRequest(("complaint_received",), time_range=LIVE), state) == {"rollup": ["complaint_received"]}
    assert run_metrics(engine, services, cache=None)["service_received"][0] == len(
        [row for row in fixture_city.SERVICE_CASES if row["submitted_at"] >= LIVE.start]
    )


@pytest.mark.slow
def test_an_import_refreshes_the_aggregates_it_changes(engine: sa.Engine, tmp_path: Path) -> None:
    """Import, re-import with changed statuses: the routed answers follow the facts each time."""
    from data_access.config.city import DEFAULT_CITY_FILE, load_city
    from data_access.ingest import pipeline
    from data_access.ingest.mapping import load_mapping
    from tests.test_ingest import FIXTURES, HZ_MAPPING

    mapping, city = load_mapping(HZ_MAPPING), load_city(DEFAULT_CITY_FILE)
    source = FIXTURES / "hz_12345.csv"
    assert pipeline.ingest_files(engine, "complaints", mapping, city, [source]).committed
    state = read_state(engine)
    assert state is not None and "complaints" in state.watermarks
    with engine.connect() as connection:
        first, last = connection.execute(
            sa.select(sa.func.min(schema.complaints.c.received_at), sa.func.max(schema.complaints.c.received_at))
        ).one()
    whole = TimeRange(first.replace(hour=0, minute=0, second=0), last + dt.timedelta(days=400))
    names = _names("complaints", snapshot=False)
    for dims in ((), ("district",), ("day",)):
        request = MetricRequest(names, dims, time_range=whole)
        assert "rollup" in sources(request, state)
        assert_frame_equal(_answer(engine, request, True), _answer(engine, request, False), rel_tol=1e-9)
    newer = tmp_path / "newer.csv"
    newer.write_text(source.read_text(encoding="utf-8").replace("办理中", "已关闭"), "utf-8")
    assert pipeline.ingest_files(engine, "complaints", mapping, city, [newer], quarantine=tmp_path / "q.csv").updated
    state = read_state(engine)
    assert state is not None
    for dims in ((), ("district",), ("day",)):
        request = MetricRequest(names, dims, time_range=whole)
        assert "rollup" in sources(request, state)
        assert_frame_equal(_answer(engine, request, True), _answer(engine, request, False), rel_tol=1e-9)


def test_a_table_missing_an_aggregate_reads_the_facts_until_refreshed(engine: sa.Engine) -> None:
    """A database refreshed by an earlier release lacks the rollups added since: those facts are read."""
    fixture_city.load(engine)
    with engine.begin() as connection:
        refresh_rollups(connection)
        connection.execute(sa.text("DROP TABLE rollup_grid_events_district_daily"))
    STATES.clear()
    state = read_state(engine)
    assert state is not None and set(state.watermarks) == {"complaints", "service_cases"}
    grid = MetricRequest(("grid_collected",), time_range=LIVE)
    assert sources(grid, state) == {"fact": ["grid_collected"]}
    with engine.begin() as connection:
        refresh_rollups(connection, facts=("grid_events",))
    state = read_state(engine)
    assert state is not None and sources(grid, state) == {"rollup": ["grid_collected"]}


@pytest.mark.parametrize("metric", ["service_overdue_open", "complaint_overdue_open", "grid_overdue_open"])
def test_live_overdue_lists_read_the_open_items_and_list_the_same_records(
    metric: str, rolled: sa.Engine, tiny_engine: sa.Engine
) -> None:
    """超期未办结 now: the open-items copy lists exactly the records the facts list; a past as-of reads the facts."""
    from data_access.semantic.details import DetailRequest, _compiled, fetch_details

    table = METRICS[metric].table
    state = read_state(rolled)
    assert read_state(tiny_engine) is None  # the fixture without aggregates: the facts answer
    assert state is not None
    watermark = state.watermarks[table]
    assert watermark is not None and FEBRUARY_10.end < watermark <= LIVE.end
    for scope in SCOPES:
        # live: the as-of time is past every timestamp; 10 February: records finished later are not open items
        for time_range, reads_open in ((LIVE, True), (FEBRUARY_10, False)):
            request = DetailRequest(table, metric, time_range=time_range, scope=scope, sort="overdue_hours")
            (_, (count_sql, _)), (_, (rows_sql, _)) = _compiled(request, ThreeRates(), rolled.dialect, state)
            assert (f"FROM open_{table}" in rows_sql and f"FROM open_{table}" in count_sql) is reads_open
            routed = fetch_details(rolled, request, cache=None)
            facts = fetch_details(tiny_engine, request, cache=None)
            assert routed.total == facts.total
            assert_frame_equal(routed.rows, facts.rows)
    # the live list is not empty: the comparison above compared records, not two empty pages
    live = fetch_details(rolled, DetailRequest(table, metric, time_range=LIVE), cache=None)
    assert live.total > 0 and live.rows.height == min(live.total, 50)
