"""Pure presentation logic against hand-computed values: formatting, periods, KPIs, i18n, figures."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest

from dashboard.charts.figures import complete_buckets, top_bottom, trend_figure
from dashboard.charts.tables import display_table
from dashboard.core import formatting, i18n, kpi, metric_requests, periods
from data_access.semantic.metric_defs import Direction, Unit
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.model import DIMENSION_COLUMNS
from data_access.semantic.query import TIME_GRAINS, TimeRange

REPO = Path(__file__).resolve().parent.parent
D = dt.datetime


# ---- formatting ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "lang", "expected"),
    [
        (1462, Unit.COUNT, "zh", "1,462 件"),
        (1462, Unit.COUNT, "en", "1,462"),
        (0, Unit.COUNT, "zh", "0 件"),
        (1234567, Unit.COUNT, "zh", "1,234,567 件"),
        (34.06, Unit.HOURS, "zh", "34.1 小时"),
        (34.06, Unit.HOURS, "en", "34.1 h"),
        (1234.56, Unit.HOURS, "zh", "1,234.6 小时"),
        (0.770132, Unit.RATE, "zh", "77.0%"),
        (1.0, Unit.RATE, "en", "100.0%"),
        (0.81634, Unit.SCORE, "zh", "81.6 分"),
        (0.81634, Unit.SCORE, "en", "81.6 pts"),
        (None, Unit.RATE, "zh", "—"),
        (float("nan"), Unit.COUNT, "zh", "—"),
    ],
)
def test_format_value(value: float | None, unit: Unit, lang: str, expected: str) -> None:
    assert formatting.format_value(value, unit, lang) == expected


@pytest.mark.parametrize(
    ("change", "unit", "relative", "lang", "expected"),
    [
        (0.123, Unit.COUNT, True, "zh", "+12.3%"),
        (-0.0871, Unit.HOURS, True, "zh", "-8.7%"),
        (0.0, Unit.COUNT, True, "zh", "0.0%"),
        (-0.00001, Unit.COUNT, True, "zh", "0.0%"),  # never "-0.0%"
        (-0.004, Unit.RATE, False, "zh", "-0.4 个百分点"),
        (0.012, Unit.RATE, False, "en", "+1.2 pp"),
        (0.061, Unit.SCORE, False, "zh", "+6.1 分"),
        (5, Unit.COUNT, False, "zh", "+5 件"),
        (1.25, Unit.HOURS, False, "en", "+1.2 h"),  # round half to even, as Python does
        (None, Unit.RATE, False, "zh", None),
    ],
)
def test_format_change(change: float | None, unit: Unit, relative: bool, lang: str, expected: str | None) -> None:
    assert formatting.format_change(change, unit, relative=relative, lang=lang) == expected


def test_format_number_index_and_datetime() -> None:
    assert formatting.format_number(1234567.891, 1) == "1,234,567.9"
    assert formatting.format_number(None) == "—"
    assert formatting.format_number(3, signed=True) == "+3"
    assert formatting.format_index(0.96666) == "0.96"  # truncated, so it agrees with the colour
    assert formatting.format_index(0.9978) == "0.99"
    assert formatting.format_index(1.0) == "1.00"
    assert formatting.format_index(1.25) == "1.25"
    assert formatting.format_index(0.29) == "0.29"  # no float artefact (0.29 * 100 = 28.999...)
    assert formatting.format_index(None) == "—"
    assert formatting.format_datetime(D(2025, 6, 30, 17, 54, 30)) == "2025-06-30 17:54"
    assert formatting.format_datetime(None) == "—"


# ---- periods ------------------------------------------------------------------------------------

AS_OF = D(2025, 3, 12, 17, 54, 30)  # a Wednesday
CUT = D(2025, 3, 12, 17, 55)


def test_cutoff_includes_the_as_of_minute() -> None:
    assert periods.cutoff(AS_OF) == CUT
    assert periods.cutoff(D(2025, 3, 12, 23, 59, 59)) == D(2025, 3, 13, 0, 0)


@pytest.mark.parametrize(
    ("key", "current", "previous", "last_year"),
    [
        (
            "today",
            (D(2025, 3, 12), CUT),
            (D(2025, 3, 11), D(2025, 3, 11, 17, 55)),
            (D(2024, 3, 12), D(2024, 3, 12, 17, 55)),
        ),
        (
            "week",
            (D(2025, 3, 10), CUT),  # Monday
            (D(2025, 3, 3), D(2025, 3, 5, 17, 55)),
            (D(2024, 3, 10), D(2024, 3, 12, 17, 55)),
        ),
        (
            "month",
            (D(2025, 3, 1), CUT),
            (D(2025, 2, 1), D(2025, 2, 12, 17, 55)),
            (D(2024, 3, 1), D(2024, 3, 12, 17, 55)),
        ),
        (
            "last_30_days",
            (D(2025, 2, 11), CUT),
            (D(2025, 1, 12), D(2025, 2, 10, 17, 55)),
            (D(2024, 2, 11), D(2024, 3, 12, 17, 55)),
        ),
        (
            "last_12_months",
            (D(2024, 4, 1), CUT),
            (D(2023, 4, 1), D(2024, 3, 12, 17, 55)),
            (D(2023, 4, 1), D(2024, 3, 12, 17, 55)),
        ),
    ],
)
def test_period_presets(key: str, current: tuple[D, D], previous: tuple[D, D], last_year: tuple[D, D]) -> None:
    period = periods.resolve_period(key, AS_OF)
    assert (period.current.start, period.current.end) == current
    assert (period.previous.start, period.previous.end) == previous
    assert (period.last_year.start, period.last_year.end) == last_year
    # the comparison covers the same elapsed span as the current period (up to month lengths)
    if key in ("today", "week", "last_30_days"):
        assert period.previous.end - period.previous.start == period.current.end - period.current.start


def test_month_arithmetic_clamps_to_month_end() -> None:
    period = periods.resolve_period("month", D(2025, 3, 31, 10, 0))
    assert period.previous == TimeRange(D(2025, 2, 1), D(2025, 2, 28, 10, 1))
    assert periods.add_months(D(2024, 2, 29), -12) == D(2023, 2, 28)
    assert periods.add_months(D(2025, 1, 31), 1) == D(2025, 2, 28)
    assert periods.add_months(D(2025, 11, 15), 3) == D(2026, 2, 15)


def test_unknown_period_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown period"):
        periods.resolve_period("fortnight", AS_OF)


def test_trend_windows() -> None:
    day = periods.trend_window("day", AS_OF)
    assert day.current == TimeRange(D(2025, 2, 10), D(2025, 3, 12))  # the 30 complete days before today
    assert day.previous == TimeRange(D(2025, 1, 6), D(2025, 2, 5))  # five weeks earlier
    assert day.previous.start.weekday() == day.current.start.weekday() == 0
    week = periods.trend_window("week", AS_OF)
    assert week.current == TimeRange(D(2024, 12, 9), D(2025, 3, 10))  # 13 complete weeks, Monday to Monday
    assert week.previous == TimeRange(D(2024, 9, 9), D(2024, 12, 9))
    month = periods.trend_window("month", AS_OF)
    assert month.current == TimeRange(D(2024, 3, 1), D(2025, 3, 1))  # 12 complete months
    assert month.previous == TimeRange(D(2023, 3, 1), D(2024, 3, 1))
    assert month.shift.polars_offset == "12mo0d"


# ---- KPIs ---------------------------------------------------------------------------------------

HIGHER, LOWER = Direction.HIGHER_IS_BETTER, Direction.LOWER_IS_BETTER


@pytest.mark.parametrize(
    ("value", "target", "direction", "expected"),
    [
        (0.90, 0.95, HIGHER, 0.9473684210526315),
        (0.95, 0.95, HIGHER, 1.0),
        (1.30, 1.00, HIGHER, 1.25),  # capped
        (60.0, 72.0, LOWER, 1.2),  # 72 / 60
        (80.0, 72.0, LOWER, 0.9),  # 72 / 80
        (50.0, 72.0, LOWER, 1.25),  # 1.44 capped
        (0.0, 0.05, LOWER, 1.25),  # nothing at all: best possible
        (0.0, 0.95, HIGHER, 0.0),
        (None, 0.95, HIGHER, None),
        (0.9, None, HIGHER, None),
        (0.9, 0.0, HIGHER, None),
    ],
)
def test_target_index(value: float | None, target: float | None, direction: Direction, expected: float | None) -> None:
    result = kpi.target_index(value, target, direction)
    assert result == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize(
    ("index", "status"),
    [
        (None, None),
        (0.0, kpi.Status.RED),
        (0.894, kpi.Status.RED),
        (0.8999, kpi.Status.RED),  # shown as 0.89
        (0.90, kpi.Status.AMBER),
        (0.994, kpi.Status.AMBER),
        (0.9978, kpi.Status.AMBER),  # 89.8 points against 90: a miss, shown as 0.99
        (1.00, kpi.Status.GREEN),
        (1.25, kpi.Status.GREEN),
    ],
)
def test_status_thresholds(index: float | None, status: kpi.Status | None) -> None:
    assert kpi.status_for(index) == status


def test_build_kpis_direction_targets_and_changes() -> None:
    current = pl.DataFrame({"complaint_received": [110], "service_on_time_rate": [0.96]})
    previous = pl.DataFrame({"complaint_received": [100], "service_on_time_rate": [0.94]})
    received, on_time = kpi.build_kpis(("complaint_received", "service_on_time_rate"), current, previous, {})
    # complaints received: a volume (neutral), +10 % is neither better nor worse; no target
    assert received.value == 110 and received.previous == 100
    assert received.change == pytest.approx(0.1) and received.relative
    assert received.improved is None
    assert received.target is None and received.target_index is None and received.status is None
    # on-time rate: +2 points is better; registry default target 0.95 -> index 0.96 / 0.95
    assert on_time.change == pytest.approx(0.02) and not on_time.relative
    assert on_time.improved is True
    assert on_time.target == 0.95
    assert on_time.target_index == pytest.approx(1.0105263157894737)
    assert on_time.status is kpi.Status.GREEN
    # the city's target wins over the registry default
    (overridden,) = kpi.build_kpis(("service_on_time_rate",), current, previous, {"service_on_time_rate": 0.98})
    assert overridden.target == 0.98
    assert overridden.target_index == pytest.approx(0.9795918367346939)
    assert overridden.status is kpi.Status.AMBER


def test_build_kpis_edge_cases() -> None:
    current = pl.DataFrame(
        {"service_overdue_open": [5], "service_handling_hours_median": [None]},
        schema_overrides={"service_handling_hours_median": pl.Float64},
    )
    previous = pl.DataFrame({"service_overdue_open": [0], "service_handling_hours_median": [40.0]})
    overdue, hours = kpi.build_kpis(("service_overdue_open", "service_handling_hours_median"), current, previous, {})
    assert overdue.change == 5 and not overdue.relative  # from zero: absolute change
    assert overdue.improved is False
    assert hours.value is None and hours.change is None and hours.improved is None
    assert hours.target is None  # no registry default, and no city target passed
    empty = kpi.build_kpis(("grid_collected",), pl.DataFrame(), pl.DataFrame(), {})
    assert empty[0].value is None


# ---- i18n ---------------------------------------------------------------------------------------


def test_every_text_has_both_languages() -> None:
    for key, texts in i18n.TEXTS.items():
        assert len(texts) == 2, key
        zh, en = texts
        assert zh.strip() and en.strip(), f"{key} lacks a translation"
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), f"{key}: placeholders differ"


def test_every_metric_has_both_labels() -> None:
    for name, metric in METRICS.items():
        assert metric.label_zh.strip() and metric.label_en.strip(), name
        assert i18n.metric_label(name, "zh") == metric.label_zh
        assert i18n.metric_label(name, "en") == metric.label_en


def test_t_defaults_to_chinese_and_fills_placeholders() -> None:
    assert i18n.t("page_cockpit") == "城市运行总览"
    assert i18n.t("page_cockpit", "en") == "City overview"
    assert i18n.t("page_cockpit", "fr") == "城市运行总览"
    assert i18n.t("data_as_of", "en", time="2025-06-30 17:54") == "Data as of 2025-06-30 17:54"
    assert i18n.normalise_language("en") == "en"
    assert i18n.normalise_language(None) == "zh"
    assert i18n.normalise_language("de") == "zh"


def test_every_key_used_in_code_exists() -> None:
    sources = [
        REPO / "streamlit_app.py",
        *sorted((REPO / "pages").glob("*.py")),
        *sorted((REPO / "dashboard").rglob("*.py")),
        *sorted((REPO / "data_access").rglob("*.py")),
    ]
    assert len(sources) > 60, "the walk over the packages found too few modules"
    used = {
        key for path in sources for key in re.findall(r"\bt\(\s*\"([a-z0-9_]+)\"", path.read_text(encoding="utf-8"))
    }
    assert used, "no t(...) calls found"
    assert sorted(used - set(i18n.TEXTS)) == []
    # keys built at run time
    dynamic = [
        *(f"period_{key}" for key in periods.PERIODS),
        *(f"grain_{grain}" for grain in periods.GRAINS),
        *(f"domain_{domain}" for domain in metric_requests.DOMAINS),
        *(f"row_{domain}" for domain in metric_requests.DOMAINS),
        *(f"dim_{name}" for name in (*TIME_GRAINS, *DIMENSION_COLUMNS)),
        *(f"stage_{stage}" for stage in metric_requests.GRID_STAGES),
        *(f"origin_{origin}" for origin in ("argument", "environment", "secrets", "embedded")),
        *(f"status_{status.value}" for status in kpi.Status),
    ]
    assert [key for key in dynamic if key not in i18n.TEXTS] == []


# ---- queries, figures and tables ----------------------------------------------------------------


def test_view_metric_lists_are_registered_and_single_table() -> None:
    for domain, metrics in (*metric_requests.COCKPIT_ROWS.items(), *metric_requests.TOPIC_KPIS.items()):
        assert {METRICS[name].table for name in metrics} == {metric_requests.DOMAIN_TABLES[domain]}
    assert all(name in METRICS for name in metric_requests.STAGE_METRICS)
    assert metric_requests.domain_dimensions("services")[:3] == ("day", "week", "month")
    assert "grid" not in metric_requests.domain_dimensions("services")
    assert metric_requests.district_filters(None) == ()


def test_complete_buckets_fills_missing_days_with_zero() -> None:
    frame = pl.DataFrame({"day": [dt.date(2025, 3, 1), dt.date(2025, 3, 3)], "grid_collected": [4, 6]})
    full = complete_buckets(frame, "day", TimeRange(D(2025, 3, 1), D(2025, 3, 3, 12)), "grid_collected")
    assert full["day"].to_list() == [dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 3, 3)]
    assert full["grid_collected"].to_list() == [4, 0, 6]


def test_trend_figure_aligns_the_comparison_by_offset() -> None:
    current = pl.DataFrame({"day": [dt.date(2025, 3, 10), dt.date(2025, 3, 11)], "service_received": [10, 12]})
    previous = pl.DataFrame({"day": [dt.date(2025, 2, 3), dt.date(2025, 2, 4)], "service_received": [8, 9]})
    figure = trend_figure(
        current,
        previous,
        grain="day",
        metric="service_received",
        shift=periods.Shift(days=35),
        lang="zh",
        comparison_label="上期",
    )
    dashed, solid = figure.data
    assert dashed.line.dash == "dash"
    assert list(dashed.x) == list(solid.x) == [dt.date(2025, 3, 10), dt.date(2025, 3, 11)]
    assert list(dashed.y) == [8, 9]
    assert dashed.customdata[0][0] == "2025-02-03"  # hover shows the real earlier date
    # The cockpit's template (Plotly's default once dashboard.charts.theme is imported) carries the font.
    assert figure.layout.font.family is None
    assert "Noto Sans CJK SC" in figure.layout.template.layout.font.family


def test_top_bottom_keeps_best_and_worst() -> None:
    frame = pl.DataFrame(
        {"street": list("abcdef"), "score": [0.9, 0.5, 0.7, None, 0.8, 0.6], "n": [20, 20, 20, 20, 3, 20]}
    )
    ranked = top_bottom(frame, "score", 1, volume="n", min_volume=10)
    assert ranked["street"].to_list() == ["a", "b"]
    assert ranked["group"].to_list() == ["top", "bottom"]


def test_display_table_scales_rates_and_names_codes() -> None:
    frame = pl.DataFrame({"department": ["D1", "D2"], "service_on_time_rate": [0.9512, None]})
    table = display_table(
        frame, dimension="department", metrics=("service_on_time_rate",), names={"D1": "人社局"}, lang="zh"
    )
    assert table.columns == ["部门代码", "部门名称", "按时办结率（%）"]
    assert table.row(0) == ("D1", "人社局", 95.1)
    assert table.row(1) == ("D2", "D2", None)
