"""The docs describe the code as it is: every column, allowed value, metric and dimension is documented.

``docs/data-contract.md`` has one ``## `` section per table (the table name in backticks in the heading)
holding a markdown table whose rows start with the column name in backticks. ``docs/metrics.md`` has a
row per dimension and per metric, likewise starting with the name in backticks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from data_access.contract import schema
from data_access.semantic.metric_registry import METRICS, SETTINGS
from data_access.semantic.model import DIMENSIONS, MODELS
from data_access.semantic.query import TIME_GRAINS

DOCS = Path(__file__).resolve().parent.parent / "docs"
CONTRACT = (DOCS / "data-contract.md").read_text(encoding="utf-8")
METRICS_DOC = (DOCS / "metrics.md").read_text(encoding="utf-8")
ROLLUPS_DOC = (DOCS / "rollups.md").read_text(encoding="utf-8")
NONE = "—"


def section(text: str, name: str) -> str:
    """The body of the one ``## `` section whose heading names ``name`` in backticks."""
    found = []
    for part in ("\n" + text).split("\n## ")[1:]:
        heading, _, body = part.partition("\n")
        if f"`{name}`" in heading:
            found.append(body)
    assert len(found) == 1, f"expected exactly one '## ' section naming `{name}`, found {len(found)}"
    return found[0]


def rows(text: str) -> dict[str, list[str]]:
    """Markdown table rows whose first cell is a name in backticks: name -> all cells."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        name = cells[0].strip("`")
        assert name not in found, f"{name!r} is documented twice"
        found[name] = cells
    return found


def sql_type(column: sa.Column[object]) -> str:
    """The type as data-contract.md spells it (subclasses before their bases: Text is a String)."""
    kind = column.type
    if isinstance(kind, sa.Text):
        return "TEXT"
    if isinstance(kind, sa.String):
        return f"VARCHAR({kind.length})"
    if isinstance(kind, sa.DateTime):
        return "TIMESTAMP"
    if isinstance(kind, sa.Date):
        return "DATE"
    if isinstance(kind, sa.Double):
        return "DOUBLE"
    if isinstance(kind, sa.Float):
        return "FLOAT"
    if isinstance(kind, sa.Boolean):
        return "BOOLEAN"
    if isinstance(kind, sa.Integer):
        return "INTEGER"
    raise AssertionError(f"{column.table.name}.{column.name}: no documented spelling for {kind!r}")


TABLES = sorted(schema.metadata.tables)


@pytest.mark.parametrize("table_name", TABLES)
def test_every_column_is_documented_in_its_table_section(table_name: str) -> None:
    table = schema.metadata.tables[table_name]
    body = section(CONTRACT, table_name)
    documented = rows(body)
    missing = [column.name for column in table.columns if column.name not in documented]
    assert not missing, f"{table_name}: columns not documented in its section: {missing}"
    for column in table.columns:
        assert f"`{column.name}`" in body
    extra = sorted(set(documented) - set(table.columns.keys()))
    assert not extra, f"{table_name}: documented columns that are not in schema.py: {extra}"


@pytest.mark.parametrize("table_name", TABLES)
def test_documented_types_required_and_allowed_values_match_schema(table_name: str) -> None:
    table = schema.metadata.tables[table_name]
    documented = rows(section(CONTRACT, table_name))
    for column in table.columns:
        cells = documented[column.name]
        assert len(cells) == 6, f"{table_name}.{column.name}: expected 6 cells, got {cells}"
        _, type_, required, allowed, meaning, _open311 = cells
        assert type_ == sql_type(column), f"{table_name}.{column.name}: type {type_!r}"
        assert required == ("no" if column.nullable else "yes"), f"{table_name}.{column.name}: required {required!r}"
        assert meaning and meaning != NONE, f"{table_name}.{column.name}: no meaning given"
        values = schema.ALLOWED_VALUES.get((table_name, column.name))
        if values is None:
            assert allowed == NONE, f"{table_name}.{column.name}: allowed values given but none in ALLOWED_VALUES"
        else:
            assert allowed == ", ".join(f"`{value}`" for value in values), f"{table_name}.{column.name}: {allowed!r}"


def test_every_allowed_value_appears_in_the_contract() -> None:
    missing = [
        f"{table}.{column} = {value}"
        for (table, column), values in schema.ALLOWED_VALUES.items()
        for value in values
        if f"`{value}`" not in CONTRACT
    ]
    assert not missing, f"allowed values not in docs/data-contract.md: {missing}"


def test_grid_workflow_stages_are_documented() -> None:
    body = section(CONTRACT, "grid_events")
    for number, (stage, column) in enumerate(schema.GRID_WORKFLOW, start=1):
        assert f"| {number} | `{stage}` |" in body and body.count(f"`{column}`") >= 2, (stage, column)
    for value in schema.ALLOWED_VALUES[("grid_events", "side_state")]:
        assert value in body.split("### The grid workflow", 1)[1], value


def test_valid_follow_up_rule_is_documented() -> None:
    rule = section(CONTRACT, "complaints").split("### Valid follow-ups", 1)[1]
    for value in schema.FOLLOW_UP_RESULTS:
        assert value in rule, value
    assert "NULL" in rule


def test_every_metric_is_documented_as_declared() -> None:
    documented = rows(METRICS_DOC)
    missing = [name for name in METRICS if f"`{name}`" not in METRICS_DOC or name not in documented]
    assert not missing, f"metrics not in docs/metrics.md: {missing}"
    for name, metric in METRICS.items():
        cells = documented[name]
        assert len(cells) == 8, f"{name}: expected 8 cells, got {cells}"
        _, zh, en, table, formula, unit, direction, target = cells
        assert (zh, en) == (metric.label_zh, metric.label_en), name
        assert table == f"`{metric.table}`", name
        assert formula and formula != NONE, name
        assert (metric.snapshot and "**Snapshot.**" in formula) or (not metric.snapshot and "Snapshot" not in formula)
        assert unit == metric.unit.value, name
        assert direction == metric.direction.value, name
        if metric.default_target is None:
            assert target == NONE, name
        else:
            assert float(target) == pytest.approx(metric.default_target), name


def test_no_documented_metric_is_unknown() -> None:
    documented = {name for name, cells in rows(METRICS_DOC).items() if len(cells) == 8}
    assert documented == set(METRICS)


def test_every_dimension_is_documented_with_its_columns() -> None:
    """The dimension table of metrics.md is the semantic models': every dimension, column and time column."""
    documented = rows(METRICS_DOC)
    header = next(line for line in METRICS_DOC.splitlines() if line.startswith("| dimension |"))
    assert header == "| dimension | " + " | ".join(f"`{name}`" for name in MODELS) + " |"
    for dimension in DIMENSIONS:
        assert f"`{dimension}`" in METRICS_DOC, dimension
        cells = documented.get(dimension)
        assert cells is not None and len(cells) == 1 + len(MODELS), f"{dimension}: no row in the dimension table"
        for model, cell in zip(MODELS.values(), cells[1:], strict=True):
            if dimension in TIME_GRAINS:
                assert cell.startswith(f"`{model.time_column}`"), (dimension, model.name, cell)
            elif dimension in model.dimensions:
                assert cell == f"`{model.dimensions[dimension]}`", (dimension, model.name, cell)
            else:
                assert cell == NONE, (dimension, model.name, cell)
    assert set(documented) >= {*TIME_GRAINS, *(d for model in MODELS.values() for d in model.dimensions)}


def test_the_contract_names_each_models_time_column_and_dimension_columns() -> None:
    """Each fact table's section says which column is its time column and lists every dimension column."""
    for model in MODELS.values():
        body = section(CONTRACT, model.name)
        assert f"time column is `{model.time_column}`" in " ".join(body.split()), model.name
        columns = rows(body)
        for dimension, column in model.dimensions.items():
            assert column in columns, f"{model.name}: dimension {dimension} column {column!r} is not documented"


def test_rollups_doc_lists_each_models_rollups() -> None:
    """docs/rollups.md names every rollup of every model with the dimensions it keeps, and no other."""
    documented = {
        name: cells for name, cells in rows(ROLLUPS_DOC).items() if len(cells) == 4 and name.startswith("rollup_")
    }
    expected = {
        spec.name: [
            f"`{spec.name}`",
            f"`{model.name}`",
            ", ".join(f"`{dimension}`" for dimension in spec.dimensions),
            NONE if spec.parent is None else f"`{spec.parent}`",
        ]
        for model in MODELS.values()
        for spec in model.rollups
    }
    assert documented == expected


def test_three_rate_settings_are_documented() -> None:
    three_rates = METRICS_DOC.split("## The 三率 weights", 1)[1]
    for setting in SETTINGS:
        assert f"{setting} = " in three_rates, setting


README = (DOCS.parent / "README.md").read_text(encoding="utf-8")


def test_readme_has_each_section_once_and_exactly_two_set_up_commands() -> None:
    """A bad edit once interleaved a section between every character of the README (8 MB of it)."""
    headings = [line for line in README.splitlines() if line.startswith("#")]
    assert len(headings) == len(set(headings)), "a README heading appears twice"
    assert len(README) < 20_000, f"README is {len(README)} characters: a section was pasted repeatedly"
    commands = [line for line in README.splitlines() if line.startswith("python3 -m venv .venv")]
    venv = "python3 -m venv .venv && .venv/bin/pip install -r"
    assert commands == [
        f"{venv} requirements.txt && .venv/bin/streamlit run streamlit_app.py",
        "python3 -m venv .venv && .venv/bin/pip install uv==0.9.30"
        " && .venv/bin/uv pip install --compile-bytecode --python .venv/bin/python -r requirements-dev.txt"
        " && .venv/bin/python -m tests",
    ]
