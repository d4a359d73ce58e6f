"""The big-screen cockpit: shared queries across screens, the last-good fallback, the alert ticker.

App-level tests run the real app (AppTest) on the tiny literal city of ``tests/fixture_city.py``,
whose overdue items are known by hand; pure helpers are tested directly.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard.charts import map_geometry, maps
from dashboard.core.metric_requests import OVERDUE_METRIC, cockpit_requests
from dashboard.core.periods import resolve_period, trend_window
from dashboard.screen import bigscreen, ticker
from dashboard.session import display, early_warning
from data_access.config.city import load_city
from data_access.runtime import session as data_session
from data_access.runtime.cache import RESULTS
from data_access.semantic import metrics
from data_access.semantic.metrics import data_as_of
from tests import fixture_city

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def board(at: AppTest) -> str:
    return "\n".join(element.proto.body for element in at.get("html"))


def values(at: AppTest) -> dict[str, str]:
    return dict(re.findall(r'class="cs-kpi"[^>]*data-metric="([^"]+)" data-value="([^"]+)"', board(at)))


def open_cockpit() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def ticker_lines(at: AppTest) -> list[tuple[str, str]]:
    """(link, message without its tag) for every ticker line."""
    found = re.findall(r'<a href="([^"]+)"[^>]*class="cs-alert"[^>]*>(.*?)</a>', board(at))
    return [(html.unescape(link), re.sub(r"<b>.*?</b>", "", message).strip()) for link, message in found]


@pytest.mark.slow
def test_ticker_shows_the_early_warning_overdue_items(tiny_app: sa.Engine) -> None:
    at = open_cockpit()
    lines = ticker_lines(at)
    # By hand, open past their limit at the as-of time, per district × department:
    # T5 (西湖区, 城管), T6 (上城区, 城管); S4 (西湖区, 市监), S6 (上城区, 城管), S7 (上城区, 市监);
    # E3 (西湖区, 市监).
    possible = {
        "上城区 城市管理局 12345诉求超期未办结 1 件",
        "西湖区 城市管理局 12345诉求超期未办结 1 件",
        "上城区 城市管理局 政务服务办件超期未办结 1 件",
        "上城区 市场监督管理局 政务服务办件超期未办结 1 件",
        "西湖区 市场监督管理局 政务服务办件超期未办结 1 件",
        "西湖区 市场监督管理局 网格事件超期未办结 1 件",
    }
    messages = [message for _, message in lines]
    assert len(messages) == ticker.TICKER_OVERDUE  # the five largest of the six (nothing is near its deadline)
    assert set(messages) <= possible
    link = dict((message, link) for link, message in lines).get("西湖区 城市管理局 12345诉求超期未办结 1 件")
    assert link is None or link.startswith(f"complaints?district={fixture_city.D2}&department={fixture_city.A}")


@pytest.mark.slow
def test_ticker_falls_back_to_the_metric_layer(tiny_app: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_: object) -> pl.DataFrame:
        raise RuntimeError("early warning unavailable")

    monkeypatch.setattr(early_warning, "early_warning_set", broken)
    at = open_cockpit()
    text = " ".join(message for _, message in ticker_lines(at))
    # By hand: T5 (西湖区) and T6 (上城区) are open past their limit; S4 (西湖区) and S6 (上城区) too; E3 (西湖区).
    assert "西湖区 · 超期未办结 1 件" in text and "上城区 · 超期未办结 1 件" in text
    assert "西湖区 · 超期未处置 1 件" in text
    assert "城市管理局 · 超期未办结 2 件" in text  # T5 and T6 are both department A's
    links = [link for link, _ in ticker_lines(at)]
    assert f"complaints?district={fixture_city.D2}" in links and f"grid?district={fixture_city.D2}" in links


@pytest.mark.slow
def test_twenty_screens_cost_one_set_of_queries(tiny_app: sa.Engine) -> None:
    before = metrics.statements_executed
    open_cockpit()
    first = metrics.statements_executed - before
    as_of = data_as_of(tiny_app)
    assert as_of is not None
    expected = set(cockpit_requests(resolve_period("month", as_of), trend_window("day", as_of)))
    assert first == len(expected)
    for _ in range(4):  # four more wall screens (sessions) within the cache TTL
        open_cockpit()
    assert metrics.statements_executed - before == first


@pytest.mark.slow
def test_failed_refresh_keeps_the_last_good_numbers(tiny_app: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_cockpit()
    good = values(at)
    assert good["complaint_received"] == "5 件"  # T1–T5 were received in February (as-of 28 Feb)

    def broken(*_: object, **__: object) -> pl.DataFrame:
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(data_session, "run_metrics", broken)
    RESULTS.clear()
    at.run()
    assert not at.exception and not at.error
    assert values(at) == good
    assert "数据更新失败，显示" in board(at)


@pytest.mark.slow
def test_no_data_at_all_shows_one_readable_line(tiny_app: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object, **__: object) -> pl.DataFrame:
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(data_session, "run_metrics", broken)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert len(at.error) == 1 and "server closed the connection" in at.error[0].value


def test_overdue_alerts_shape_and_order() -> None:
    frames = {
        ("complaints", "district"): pl.DataFrame({"district": ["A", "B", "C"], "complaint_overdue_open": [8, 1, 0]}),
        ("grid", "department"): pl.DataFrame({"department": ["X"], "grid_overdue_open": [3]}),
    }
    alerts = ticker.overdue_alerts(frames, {"district": {"A": "上城区"}}, dt.datetime(2026, 2, 28))
    assert list(alerts.columns) == list(ticker.ALERT_SCHEMA)
    assert alerts["observed"].to_list() == [8.0, 3.0, 1.0]  # high first, then by count; zero dropped
    assert alerts["severity"].to_list() == ["high", "high", "medium"]
    assert alerts["message_zh"][0] == "上城区 · 超期未办结 8 件（占全市 89%）"
    assert alerts["link"].to_list() == ["complaints?district=A", "grid", "complaints?district=B"]
    items = ticker.ticker_items(alerts, "en")
    assert items[0].tag == "Overdue" and "Overdue open tickets: 8" in items[0].message
    assert set(OVERDUE_METRIC) == {"services", "complaints", "grid"}


def test_ticker_html_escapes_and_links() -> None:
    item = bigscreen.TickerItem("high", "超期", "<b>x</b>", "grid?district=1")
    markup = bigscreen.ticker_html([item], "zh")
    assert "&lt;b&gt;x&lt;/b&gt;" in markup and 'href="grid?district=1"' in markup
    assert "当前没有超期事项" in bigscreen.ticker_html([], "zh")


@pytest.mark.parametrize(
    ("text", "parts"),
    [("12,601 件", ("12,601", "件")), ("95.0%", ("95.0", "%")), ("17.8 小时", ("17.8", "小时")), ("—", ("—", ""))],
)
def test_split_unit(text: str, parts: tuple[str, str]) -> None:
    assert bigscreen.split_unit(text) == parts


def test_map_view_fits_the_regions_undistorted() -> None:
    (x0, x1), (y0, y1), ratio = map_geometry.fit_view((119.0, 29.0, 121.0, 31.0), 860, 600)
    assert ratio == pytest.approx(1 / math.cos(math.radians(30.0)))
    assert x0 < 119.0 and x1 > 121.0 and y0 < 29.0 and y1 > 31.0 and (x0 + x1) / 2 == pytest.approx(120.0)
    assert (x1 - x0) / ((y1 - y0) * ratio) == pytest.approx(860 / 600), "the view has the chart's aspect"


def test_map_click_reads_the_region_code() -> None:
    point = {"curve_number": 2, "point_index": 7, "x": 120.1, "y": 30.2}
    assert maps.selected_code({"selection": {"points": [{**point, "customdata": "330102"}]}}) == "330102"
    assert maps.selected_code({"selection": {"points": [{**point, "customdata": ["330106"]}]}}) == "330106"
    assert maps.selected_code({"selection": {"points": []}}) is None
    assert maps.selected_code({"selection": {"points": [point]}}) is None
    assert maps.selected_code(None) is None


SQUARE = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0)]
HOLE = [(4.0, 4.0), (6.0, 4.0), (6.0, 6.0), (4.0, 6.0), (4.0, 4.0)]


def test_hit_points_cover_a_region_but_not_its_holes() -> None:
    hits = map_geometry.hit_points([[SQUARE, HOLE]], 1.0, 1.0, (5.0, 5.0))
    assert all(0 <= x <= 10 and 0 <= y <= 10 for x, y in hits)
    assert not any(4 < x < 6 and 4 < y < 6 for x, y in hits)
    assert (2.0, 2.0) in hits and (8.0, 7.0) in hits
    assert map_geometry.hit_points([[[(0.1, 0.1), (0.2, 0.1), (0.2, 0.2), (0.1, 0.1)]]], 1.0, 1.0, (0.15, 0.12)) == [
        (0.15, 0.12)
    ], "a region smaller than the lattice is still clickable at its centre"
    assert map_geometry.svg_path([[SQUARE]]).startswith("M0.00000,0.00000L10.00000,0.00000")
    assert map_geometry.svg_path([]) == ""


def test_density_glow_peaks_at_the_heaviest_point_and_fades() -> None:
    xs, ys, z = maps.density_grid([2.5, 7.5], [2.5, 2.5], [10.0, 5.0], (0.0, 10.0), (0.0, 10.0), (10, 10), (1.0, 1.0))
    assert len(xs) == 10 and len(ys) == 10 and z.shape == (10, 10)
    lone = 1 / maps.GLOW_SATURATION  # the heaviest point alone: scaled by the largest weight
    assert z[2, 2] == pytest.approx(lone, abs=1e-3) and z[2, 7] == pytest.approx(lone / 2, abs=0.01)
    assert z[2, 3] < z[2, 2] and z[9, 9] < 0.001, "a Gaussian glow, gone far away"
    assert maps.density_grid([], [], [], (0.0, 1.0), (0.0, 1.0), (4, 4), (1.0, 1.0))[2].max() == 0


def test_map_figure_is_offline_and_every_region_is_clickable() -> None:
    city = load_city()
    layer = city.geo["district"]
    collection = maps.load_features(layer.file, layer.code_property)
    codes = [str(f["properties"][layer.code_property]) for f in collection["features"]]
    areas = pl.DataFrame({"district": codes, "complaint_received": list(range(len(codes)))})
    points = pl.DataFrame({"lon": [120.17, 120.2], "lat": [30.27, 30.3], "grid_collected": [4, 9]})
    figure = maps.map_figure(
        collection,
        areas,
        points,
        code_property=layer.code_property,
        area_metric="complaint_received",
        point_metric="grid_collected",
        names={},
        area_label="诉求量",
        point_label="网格事件",
        lang="zh",
        width=860,
        height=586,
    )
    spec = figure.to_plotly_json()
    assert [trace["type"] for trace in spec["data"]] == ["heatmap", "scatter"], "no MapLibre trace, nothing to fetch"
    assert "map" not in spec["layout"] and "mapbox" not in spec["layout"] and "geo" not in spec["layout"]
    assert [shape["name"] for shape in spec["layout"]["shapes"]] == codes
    fills = [shape["fillcolor"] for shape in spec["layout"]["shapes"]]
    assert fills[0] != fills[-1], "coloured by complaints"
    hits = spec["data"][-1]
    assert set(hits["customdata"]) == set(codes) and hits["marker"]["opacity"] == 0
    by_code = {str(f["properties"][layer.code_property]): f for f in collection["features"]}
    xs, ys = figure.data[-1].x, figure.data[-1].y  # numpy (sent as typed arrays)
    for x, y, code in list(zip(xs, ys, hits["customdata"], strict=True))[::25]:
        parts = maps.polygons(by_code[code]["geometry"])
        inside = [map_geometry.inside_ring(np.array([x]), np.array([y]), rings[0])[0] for rings in parts]
        assert any(inside), f"hit point of {code} outside it"
    assert spec["layout"]["clickmode"] == "event+select" and spec["layout"]["yaxis"]["scaleanchor"] == "x"
    heat = np.asarray(figure.data[0].z)
    assert heat.dtype == np.uint8 and 0 < heat.max() <= figure.data[0].zmax and heat.min() == 0


@pytest.mark.slow
def test_kiosk_playlist_is_read_from_the_url(tiny_app: sa.Engine) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["kiosk"] = "1"
    at.query_params["rotate"] = "3"
    at.run()
    assert not at.exception and values(at), "the playlist starts with the cockpit"
    assert at.session_state["rotate"] == display.MIN_ROTATE_SECONDS  # clamped: a page needs time to be read
    assert not at.sidebar.children
