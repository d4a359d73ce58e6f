"""The semantic models: validated when loaded, and the one source every former copy now reads."""

from __future__ import annotations

import dataclasses
import re

import pytest

from dashboard.core.metric_requests import DOMAIN_TABLES, DOMAINS
from dashboard.topics.data import TOPIC_TABLES
from dashboard.topics.state import CHANNEL_DIMENSION
from data_access.contract import schema
from data_access.semantic.metric_registry import METRICS, TIME_COLUMN
from data_access.semantic.model import (
    DIMENSION_COLUMNS,
    MODELS,
    ModelError,
    RollupSpec,
    SemanticModel,
    validate_model,
)
from data_access.semantic.rollups.tables import GROUPS, OPEN_TABLES, ROLLUPS

COMPLAINTS = MODELS["complaints"]


def test_one_model_per_fact_table_of_the_contract() -> None:
    assert [model.table for model in MODELS.values()] == list(schema.FACT_TABLES)
    assert {metric.table for metric in METRICS.values()} <= set(MODELS)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"time_column": "nope"}, "time column 'nope'"),
        ({"time_column": "channel"}, "not a timestamp"),
        ({"dimensions": {**COMPLAINTS.dimensions, "district": "no_such_column"}}, "missing column 'no_such_column'"),
        ({"dimensions": {**COMPLAINTS.dimensions, "colour": "channel"}}, "'colour' is not in DIMENSION_ORDER"),
        ({"channel_dimension": "source"}, "channel dimension 'source'"),
        ({"rollups": (RollupSpec("r", ("district", "kind")),)}, "unknown dimension(s) ['kind']"),
        ({"rollups": (RollupSpec("r", ("district",), parent="missing"),)}, "cannot be summed from 'missing'"),
        (
            {"rollups": (RollupSpec("a", ("district", "grid"), parent="b"), RollupSpec("b", ("district",)))},
            "cannot be summed from 'b'",
        ),
        ({"rollups": (RollupSpec("a", ("district",)), RollupSpec("a", ("street",)))}, "two rollups share a name"),
    ],
)
def test_a_model_that_contradicts_its_table_is_rejected(change: dict[str, object], message: str) -> None:
    broken = dataclasses.replace(COMPLAINTS, **change)  # type: ignore[arg-type]
    with pytest.raises(ModelError, match=re.escape(message)):
        validate_model(broken)


def test_every_declared_model_is_valid() -> None:
    for model in MODELS.values():
        validate_model(model)
        assert isinstance(model, SemanticModel)


def test_the_former_copies_are_derived_from_the_models() -> None:
    assert TIME_COLUMN == {"service_cases": "submitted_at", "complaints": "received_at", "grid_events": "collected_at"}
    assert CHANNEL_DIMENSION == {"service_cases": "channel", "complaints": "channel", "grid_events": "source"}
    expected_domains = {"services": "service_cases", "complaints": "complaints", "grid": "grid_events"}
    assert DOMAIN_TABLES == TOPIC_TABLES == expected_domains
    assert DOMAINS == ("services", "complaints", "grid")
    assert DIMENSION_COLUMNS["category_l1"] == {"complaints": "category_l1_code", "grid_events": "major_category_code"}


def test_rollup_tables_are_built_from_the_models_rollups() -> None:
    expected = [
        (spec.name, model.name, model.rollup_columns(spec)) for model in MODELS.values() for spec in model.rollups
    ]
    built = [
        (
            table.name,
            table.info["fact"],
            tuple(c.name for c in table.columns if c.name != "day" and not c.name.startswith("n_")),
        )
        for table in ROLLUPS
    ]
    assert built == expected
    assert set(GROUPS) == {table.name for table in ROLLUPS}
    assert set(OPEN_TABLES) == set(MODELS)
