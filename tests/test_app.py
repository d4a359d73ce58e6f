"""The app as a user drives it (Streamlit AppTest): every page renders real numbers from the metric layer.

A small demo city (scale 0.01, fixed seed and end date) is generated once per module into a temporary
DuckDB file; expected values are computed here with ``run_metrics`` on hand-built requests and
formatted the way the cards format them.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

from dashboard.core.formatting import format_value
from data_access.config.city import load_city
from data_access.contract import schema
from data_access.demo import generate
from data_access.runtime.engine import SECRETS_FILE, dispose_engine, get_engine
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.metrics import data_as_of, region_names, run_metrics
from data_access.semantic.query import Filter, MetricRequest, TimeRange

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
END = dt.date(2025, 6, 30)
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
COCKPIT = (
    "service_received",
    "service_on_time_rate",
    "service_handling_hours_median",
    "service_overdue_open",
    "complaint_received",
    "complaint_composite_score",
    "complaint_satisfaction_rate",
    "complaint_overdue_open",
    "grid_collected",
    "grid_closure_rate",
    "grid_on_time_rate",
    "grid_overdue_open",
)
SERVICES = (
    "service_received",
    "service_on_time_rate",
    "service_handling_hours_median",
    "service_online_share",
    "service_good_rating_rate",
    "service_overdue_open",
)


@dataclass(frozen=True)
class Demo:
    url: str
    engine: sa.Engine
    as_of: dt.datetime

    @property
    def cutoff(self) -> dt.datetime:
        return self.as_of.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)

    @property
    def midnight(self) -> dt.datetime:
        return self.as_of.replace(hour=0, minute=0, second=0, microsecond=0)


@pytest.fixture(scope="module")
def demo_db(demo_city_copy: Path) -> Iterator[Demo]:
    folder = demo_city_copy.parent  # the run's demo city (scale 0.01, seed 7, END), this module's copy
    url = f"duckdb:///{demo_city_copy}"
    engine = get_engine(url)
    as_of = data_as_of(engine)
    assert as_of is not None
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COCKPIT_DATABASE_URL", url)
        patch.setenv("COCKPIT_DATA_DIR", str(folder / "data"))
        patch.delenv("COCKPIT_CITY", raising=False)
        yield Demo(url, engine, as_of)
    dispose_engine(url)


def expected_values(
    db: Demo, metrics: tuple[str, ...], start: dt.datetime, end: dt.datetime, district: str | None = None
) -> list[str]:
    """What the cards must show: run_metrics on a hand-built request, formatted like the cards."""
    filters = (Filter("district", (district,)),) if district else ()
    values: dict[str, str] = {}
    for table in dict.fromkeys(METRICS[name].table for name in metrics):  # one request per fact table
        names = tuple(name for name in metrics if METRICS[name].table == table)
        request = MetricRequest(names, filters=filters, time_range=TimeRange(start, end))
        frame = run_metrics(db.engine, request, load_city().three_rates, cache=None)
        values.update({name: format_value(frame[name][0], METRICS[name].unit, "zh") for name in names})
    return [values[name] for name in metrics]


def shown(at: AppTest) -> list[str]:
    return [metric.value for metric in at.metric]


def html_text(at: AppTest) -> str:
    """Everything the page drew with st.html (the big screen's cards, rankings and ticker)."""
    return "\n".join(element.proto.body for element in at.get("html"))


def cards(at: AppTest) -> dict[str, str]:
    """The big screen's KPI cards: metric name -> the value shown (read from the card's data attributes)."""
    return dict(re.findall(r'class="cs-kpi"[^>]*data-metric="([^"]+)" data-value="([^"]+)"', html_text(at)))


def cockpit_values(at: AppTest) -> list[str]:
    found = cards(at)
    return [html.unescape(found[name]) for name in COCKPIT]


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    if page != "pages/cockpit.py":
        at.switch_page(page).run()
    return at


def texts(at: AppTest) -> str:
    parts: list[Any] = [e.value for e in (*at.markdown, *at.caption, *at.title, *at.info, *at.error)]
    return "\n".join(str(part) for part in parts)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_error(demo_db: Demo, page: str) -> None:
    at = open_page(page)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    if page == "pages/cockpit.py":
        assert "演示数据" in html_text(at)  # the big screen's demo badge
        assert len(cards(at)) == len(COCKPIT) and all(value != "—" for value in cards(at).values())
        assert len(at.get("plotly_chart")) == 2, "trend panel and map"
        return
    assert "演示数据" in texts(at)  # the demo badge (st.badge renders as markdown)
    if page in ("pages/services.py", "pages/complaints.py", "pages/grid.py"):
        assert at.metric, "KPI cards missing"
        assert all(metric.value != "—" for metric in at.metric[:1])
        assert at.get("plotly_chart"), "charts missing"


@pytest.mark.slow
def test_cockpit_kpis_equal_the_metric_layer(demo_db: Demo) -> None:
    at = open_page("pages/cockpit.py")
    assert list(cards(at)) == list(COCKPIT)
    for name in COCKPIT:
        assert f">{METRICS[name].label_zh}<" in html_text(at)
    month_start = demo_db.midnight.replace(day=1)
    assert cockpit_values(at) == expected_values(demo_db, COCKPIT, month_start, demo_db.cutoff)  # default: 本月
    board = html_text(at)
    assert "杭州市" in board and demo_db.as_of.strftime("%Y-%m-%d %H:%M") in board
    assert "cs-rank-row" in board and "cs-ticker" in board


@pytest.mark.slow
def test_cockpit_period_switch_changes_the_numbers(demo_db: Demo) -> None:
    at = open_page("pages/cockpit.py")
    month = cockpit_values(at)
    at.segmented_control(key="period").set_value("today").run()
    assert not at.exception
    today = cockpit_values(at)
    assert today == expected_values(demo_db, COCKPIT, demo_db.midnight, demo_db.cutoff)
    assert month != today
    at.segmented_control(key="period").set_value("week").run()
    monday = demo_db.midnight - dt.timedelta(days=demo_db.as_of.weekday())
    assert cockpit_values(at) == expected_values(demo_db, COCKPIT, monday, demo_db.cutoff)


@pytest.mark.slow
def test_cockpit_map_drills_into_a_district_and_back(demo_db: Demo) -> None:
    at = open_page("pages/cockpit.py")
    districts = region_names(demo_db.engine).filter(pl.col("level") == "district")
    city_map = at.get("plotly_chart")[1].proto.spec
    at.selectbox(key="map_district").set_value(districts["code"][0]).run()
    assert not at.exception
    drilled = at.get("plotly_chart")[1].proto.spec
    streets = region_names(demo_db.engine).filter(pl.col("parent_code") == districts["code"][0])["code"].to_list()
    assert all(code in drilled for code in streets) and drilled != city_map
    at.button(key="cs_back").click().run()
    assert not at.exception and at.selectbox(key="map_district").value == "all"


def click_map(at: AppTest, code: str) -> AppTest:
    """What the browser sends when a viewer clicks inside region ``code`` on the big screen's map: the
    plotly chart's selection state with the hit point nearest the click (the last trace holds them)."""
    chart = at.get("plotly_chart")[1].proto
    hits = json.loads(chart.spec)["data"][-1]
    index = hits["customdata"].index(code)
    point = {
        "curve_number": len(json.loads(chart.spec)["data"]) - 1,
        "point_number": index,
        "point_index": index,
        "customdata": code,
        "hovertext": hits["hovertext"][index],
    }
    selection = {"selection": {"points": [point], "point_indices": [index], "box": [], "lasso": []}}
    states = at._tree.get_widget_states()
    states.widgets.append(WidgetState(id=chart.id, string_value=json.dumps(selection)))
    return at._run(states)


@pytest.mark.slow
def test_cockpit_map_click_drills_into_the_district(demo_db: Demo) -> None:
    at = open_page("pages/cockpit.py")
    regions = region_names(demo_db.engine)
    district = regions.filter(pl.col("level") == "district")["code"][1]
    streets = regions.filter(pl.col("parent_code") == district)["code"].to_list()
    city_map = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert district in city_map["data"][-1]["customdata"], "every district is clickable"
    assert {trace["type"] for trace in city_map["data"]} <= {"scatter", "heatmap"}, "no MapLibre traces"
    click_map(at, district)
    assert not at.exception and at.selectbox(key="map_district").value == district
    drilled = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert set(drilled["data"][-1]["customdata"]) == set(streets)
    assert {shape["name"] for shape in drilled["layout"]["shapes"]} == set(streets)
    click_map(at, streets[0])  # a street of the drilled district: stays put
    assert not at.exception and at.selectbox(key="map_district").value == district
    at.button(key="cs_back").click().run()
    assert not at.exception and at.selectbox(key="map_district").value == "all"
    at.segmented_control(key="map_level").set_value("street").run()
    other = regions.filter(pl.col("level") == "district")["code"][0]
    street = regions.filter(pl.col("parent_code") == other)["code"][0]
    click_map(at, street)  # city-wide street map: a street drills into its district
    assert not at.exception and at.selectbox(key="map_district").value == other


@pytest.mark.slow
def test_kiosk_mode_hides_the_chrome(demo_db: Demo) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["kiosk"] = "1"
    at.run()
    assert not at.exception
    assert not at.sidebar.children, "kiosk mode leaves the sidebar empty (no language switch)"
    kiosk_css = html_text(at)
    for chrome in ("stHeader", "stToolbar", "stMainMenu", "stAppDeployButton", "stSidebar"):
        assert f'[data-testid="{chrome}"]' in kiosk_css
    assert len(cards(at)) == len(COCKPIT)
    normal = open_page("pages/cockpit.py")
    assert 'data-testid="stAppDeployButton"' not in html_text(normal) and normal.sidebar.children


@pytest.mark.slow
def test_services_district_filter_gives_the_district_numbers(demo_db: Demo) -> None:
    at = open_page("pages/services.py")
    month_start = demo_db.midnight.replace(day=1)
    city_wide = shown(at)
    assert city_wide == expected_values(demo_db, SERVICES, month_start, demo_db.cutoff)  # default: 本月

    districts = region_names(demo_db.engine).filter(pl.col("level") == "district")["code"].to_list()
    district = districts[0]
    at.selectbox(key="district").set_value(district).run()
    assert not at.exception
    in_district = shown(at)
    assert in_district == expected_values(demo_db, SERVICES, month_start, demo_db.cutoff, district)
    assert in_district != city_wide

    at.segmented_control(key="grain").set_value("week").run()
    assert not at.exception and at.query_params["grain"] == "week" and at.query_params["district"] == district
    trend = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][1]  # the current window, solid
    weeks = [dt.date.fromisoformat(str(x)[:10]) for x in trend["x"]]
    assert len(weeks) == 13 and all(day.weekday() == 0 for day in weeks), "weekly buckets start on Mondays"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("page", "metrics"),
    [
        (
            "pages/complaints.py",
            (
                "complaint_received",
                "complaint_composite_score",
                "complaint_response_rate",
                "complaint_resolution_rate",
                "complaint_satisfaction_rate",
                "complaint_overdue_open",
            ),
        ),
        (
            "pages/grid.py",
            ("grid_collected", "grid_closure_rate", "grid_on_time_rate", "grid_rework_rate", "grid_overdue_open"),
        ),
    ],
)
def test_topic_page_kpis_follow_the_period(demo_db: Demo, page: str, metrics: tuple[str, ...]) -> None:
    at = open_page(page)
    assert shown(at) == expected_values(demo_db, metrics, demo_db.midnight.replace(day=1), demo_db.cutoff)
    at.segmented_control(key="period").set_value("last_30_days").run()
    start = demo_db.midnight - dt.timedelta(days=29)
    assert shown(at) == expected_values(demo_db, metrics, start, demo_db.cutoff)


@pytest.mark.slow
def test_explore_shows_chart_and_table_from_run_metrics(demo_db: Demo) -> None:
    at = open_page("pages/explore.py")
    at.multiselect(key="metrics").set_value(["service_received", "service_on_time_rate"]).run()
    at.selectbox(key="dimension").set_value("district").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1
    table = at.dataframe[0].value
    request = MetricRequest(
        ("service_received", "service_on_time_rate"),
        dimensions=("district",),
        time_range=TimeRange(demo_db.midnight.replace(day=1), demo_db.cutoff),
    )
    frame = run_metrics(demo_db.engine, request, cache=None)
    assert len(table) == frame.height
    assert sorted(table["受理量（件）"].tolist()) == sorted(frame["service_received"].to_list())


@pytest.mark.slow
def test_admin_page_shows_the_source(demo_db: Demo) -> None:
    at = open_page("pages/admin.py")
    assert not at.exception
    frames = [element.value for element in at.dataframe]
    source = frames[0]
    assert demo_db.url in source["取值"].tolist()
    tables = next(frame for frame in frames if "表" in frame.columns)
    counts = dict(zip(tables["表"], tables["行数"], strict=True))
    with demo_db.engine.connect() as connection:
        cases = connection.execute(sa.select(sa.func.count()).select_from(schema.service_cases)).scalar_one()
    assert counts["service_cases"] == f"{cases:,}"
    assert at.success, "schema check result missing"
    # The early-warning job: the demo build stored the city-wide set of the current data.
    sets = next(frame for frame in frames if "范围" in frame.columns)
    city_row = sets[sets["范围"] == "全市"]
    assert len(city_row) == 1 and city_row["当前数据"].tolist() == ["是"]
    with demo_db.engine.connect() as connection:
        stored = connection.execute(sa.select(schema.alert_runs.c.alert_count)).scalars().all()
    assert city_row["预警条数"].tolist() == [f"{stored[0]:,}"]


@pytest.mark.slow
def test_english_via_query_parameter(demo_db: Demo) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "en"
    at.run()
    assert not at.exception
    assert ">Cases received<" in html_text(at)
    assert "City Operations Cockpit" in html_text(at)


@pytest.mark.slow
def test_bad_database_url_shows_one_error(demo_db: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCKPIT_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    for page in PAGES:
        at = open_page(page)
        assert not at.exception, page
        assert len(at.error) == 1, page
        assert "127.0.0.1" in at.error[0].value
        assert not at.metric and not cards(at)


@pytest.mark.slow
def test_database_missing_a_table_names_it(demo_db: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"duckdb:///{tmp_path / 'partial.duckdb'}"
    engine = get_engine(url)
    schema.create_schema(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE grid_events"))
    monkeypatch.setenv("COCKPIT_DATABASE_URL", url)
    at = open_page("pages/services.py")
    assert not at.exception
    assert len(at.error) == 1
    assert "grid_events" in at.error[0].value
    dispose_engine(url)


@pytest.mark.slow
@pytest.mark.skipif(SECRETS_FILE.exists(), reason="a local secrets.toml names another database")
def test_embedded_database_is_filled_with_the_demo_on_first_start(
    demo_db: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[float] = []

    def small_demo(engine: sa.Engine, progress: Any = None) -> bool:
        def report(fraction: float, message: str) -> None:
            calls.append(fraction)
            progress(fraction, message)

        generate.generate_demo(engine, scale=0.005, seed=3, end=END, progress=report)
        return True

    monkeypatch.delenv("COCKPIT_DATABASE_URL")
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(generate, "ensure_demo", small_demo)
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert calls and calls[-1] == 1.0
    assert any("演示数据" in toast.value for toast in at.toast)
    assert len(cards(at)) == len(COCKPIT)
    assert (tmp_path / "data" / "cockpit.duckdb").exists()
    dispose_engine(f"duckdb:///{tmp_path / 'data' / 'cockpit.duckdb'}")
