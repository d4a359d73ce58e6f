"""bench.interactions on a tiny generated demo: the steps make the page's reads and return real rows and files.

No timing is asserted here (speed is measured by the benchmark itself, docs/benchmarks-interactions.md).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import sqlalchemy as sa

from bench import interaction_steps, interactions
from data_access.config.city import load_city
from data_access.runtime.cache import RESULTS
from data_access.runtime.engine import dispose_engine, get_engine
from data_access.semantic.details import fetch_details
from data_access.semantic.metrics import data_as_of
from data_access.semantic.query import Filter
from data_access.semantic.rollups.refresh import STATES


@pytest.fixture(scope="module")
def demo_engine(demo_city_copy: Path) -> Iterator[sa.Engine]:
    url = f"duckdb:///{demo_city_copy}"  # the run's demo city (scale 0.01, seed 7, 2025-06-30), this module's copy
    engine = get_engine(url)
    yield engine
    RESULTS.clear()
    STATES.clear()
    dispose_engine(url)


@pytest.fixture(scope="module")
def steps(demo_engine: sa.Engine) -> list[interaction_steps.Step]:
    as_of = data_as_of(demo_engine)
    assert as_of is not None
    return interaction_steps.interaction_steps(demo_engine, as_of, load_city().three_rates)


def named(steps: list[interaction_steps.Step], kind: str, start: str) -> list[interaction_steps.Step]:
    return [step for step in steps if step.kind == kind and step.name.startswith(start)]


def test_the_cockpit_drill_makes_only_the_two_map_requests_of_the_district(
    demo_engine: sa.Engine, steps: list[interaction_steps.Step]
) -> None:
    (drill,) = named(steps, "drill", "cockpit")
    district = drill.name.rsplit(" ", 1)[1]
    assert drill.view_reads == 22
    assert [request.dimensions for request in drill.reads.metrics] == [("street",), ("grid",)]
    assert all(request.filters == (Filter("district", (district,)),) for request in drill.reads.metrics)


def test_a_topic_drill_or_filter_reads_only_requests_that_carry_the_new_filter(
    steps: list[interaction_steps.Step],
) -> None:
    for step in named(steps, "drill", "complaints") + named(steps, "filter", "grid: department"):
        value = step.name.rsplit(" ", 1)[1]
        assert step.reads.metrics, step.name
        for request in step.reads.metrics:
            assert any(value in f.values for f in request.filters), (step.name, request)


def test_detail_pages_return_the_page_size_and_later_pages_continue_the_sort(
    demo_engine: sa.Engine, steps: list[interaction_steps.Step]
) -> None:
    rates, names = load_city().three_rates, interaction_steps.detail_names(demo_engine)
    first, later, *_ = named(steps, "detail", "complaints")
    RESULTS.clear()
    rows, size = interactions.run_step(demo_engine, first, rates, names)
    (request,) = first.reads.details
    assert (rows, size) == (request.page_size + 1, None)  # the page and its count
    (later_request,) = later.reads.details
    assert later_request.page > 1 and later_request.sort == request.sort == "received_at"
    shown = fetch_details(demo_engine, request, rates).rows["received_at"]
    following = fetch_details(demo_engine, later_request, rates).rows["received_at"]
    assert shown.is_sorted(descending=True) and following.is_sorted(descending=True)
    assert following.max() <= shown.min()


def test_the_exports_hold_the_rows_and_columns_of_the_detail_table(
    demo_engine: sa.Engine, steps: list[interaction_steps.Step]
) -> None:
    rates, names = load_city().three_rates, interaction_steps.detail_names(demo_engine)
    csv_step, xlsx_step = named(steps, "export", "complaints")
    (request,) = csv_step.reads.details
    page = fetch_details(demo_engine, request, rates)
    assert page.rows.height == request.page_size == 100
    csv = pl.read_csv(io.BytesIO(interaction_steps.export_file(page, request.table, request.metric_name, "csv", names)))
    assert csv.height == page.rows.height and "工单编号" in csv.columns
    book = openpyxl.load_workbook(
        io.BytesIO(interaction_steps.export_file(page, request.table, request.metric_name, "xlsx", names))
    )
    sheet = book.worksheets[0]
    assert sheet.max_row == page.rows.height + 1 and [cell.value for cell in sheet[1]] == csv.columns
    rows, size = interactions.run_step(demo_engine, xlsx_step, rates, names)
    assert rows == 101 and size is not None and size > 0


@pytest.mark.slow
def test_measure_interactions_reports_every_step_with_its_reads(demo_engine: sa.Engine) -> None:
    url = demo_engine.url.render_as_string(hide_password=False)
    results = interactions.measure_interactions(url, repeat=1, label="tiny demo")
    kinds = {result.kind for result in results}
    assert kinds == {"drill", "filter", "detail", "export"}
    for result in results:
        assert result.rows > 0 and result.cold > 0 and result.warm >= 0, result
        assert 1 <= result.selects <= result.view_selects, result
    assert all(result.file_bytes for result in results if result.kind == "export")
    table = interactions.interactions_table(results)
    assert table.count("\n| ") == len(results) + 1 and "**tiny demo**" in table


def test_changed_keeps_only_what_the_old_view_did_not_read() -> None:
    as_of = dt.datetime(2026, 10, 31, 12)
    before = interaction_steps.cockpit_reads(as_of, None)
    after = interaction_steps.cockpit_reads(as_of, "330102")
    delta = interaction_steps.changed(after, before)
    assert set(delta.metrics) == set(after.metrics) - set(before.metrics)
    assert len(delta.metrics) == 2 and interaction_steps.changed(before, before).metrics == ()
    assert interaction_steps.selects(delta) == 2


def test_each_topic_drill_goes_to_a_street_of_the_district_it_starts_from(
    demo_engine: sa.Engine, steps: list[interaction_steps.Step]
) -> None:
    parents = interaction_steps.vocabulary(demo_engine).parents
    drills = [step for step in steps if step.kind == "drill" and "→ street" in step.name]
    assert len(drills) == 3
    for step in drills:
        words = step.name.split()
        district, street = words[words.index("district") + 1], words[-1]
        assert parents[street] == district, step.name
