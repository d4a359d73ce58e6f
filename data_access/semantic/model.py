"""One semantic model per fact table, declared once as data (as dbt MetricFlow's or Cube's semantic models).

A model says what the rest of the data layer and the pages need to know about one fact table of the
contract (``data_access.contract.schema``): the domain (page) it belongs to, the column its time
ranges and grains apply to, the dimensions it can be split and filtered by (dimension name → column),
the dimension that says how a record reached the city (its "channel"), and the daily rollups kept of
it (``data_access.semantic.rollups``). The compiler, the rollup router and refresh, the topic pages,
the request builders and the docs test all read it from here, so adding a dimension or a rollup is
one edit in this file. Metrics stay in ``metric_registry`` and name a model's table.

Every model is validated when this module is imported: a dimension or rollup naming a column the
table lacks, a rollup summed from a parent that does not hold its columns, or a fact table of the
contract without a model fails at import, not at the first query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from data_access.contract import schema
from data_access.semantic.query import REGION_DIMENSIONS, REGION_FILTER, TIME_GRAINS

# The shared dimension vocabulary, in the order pages and docs list dimensions: a name means the same
# thing on every table that has it (a model may only use these names; ``day``/``week``/``month`` are
# the time grains, on each model's time column). The region levels come first, coarse to fine.
DIMENSION_ORDER: tuple[str, ...] = (
    *REGION_DIMENSIONS,
    "department",
    "category_l1",
    "category_l2",
    "category_l3",
    "service_item",
    "channel",
    "applicant_type",
    "source",
    "kind",
    "side_state",
    "reporter",
    "status",
    "rating",
    "follow_up",
)


class ModelError(ValueError):
    """A semantic model that contradicts its table or itself (raised at import)."""


@dataclass(frozen=True)
class RollupSpec:
    """One daily rollup of a model's table: the dimensions it keeps (one column each).

    ``parent`` names a finer rollup of the same model holding every one of these dimensions: this
    one is then summed from it at refresh (thousands of rows read instead of millions). A model lists
    its rollups smallest first: the router takes the first one that covers a request.
    """

    name: str
    dimensions: tuple[str, ...]
    parent: str | None = None


@dataclass(frozen=True, eq=False)
class SemanticModel:
    """What the data layer knows about one fact table beyond its columns."""

    table: sa.Table
    domain: str
    time_column: str
    dimensions: dict[str, str]
    channel_dimension: str
    rollups: tuple[RollupSpec, ...] = ()

    @property
    def name(self) -> str:
        """The fact table's name (the key metrics, rollups and URLs use)."""
        return self.table.name

    def rollup_columns(self, rollup: RollupSpec) -> tuple[str, ...]:
        """The table columns a rollup keeps, in the order of its dimensions."""
        return tuple(self.dimensions[dimension] for dimension in rollup.dimensions)


def validate_model(model: SemanticModel) -> None:
    """Every name a model uses must exist: columns in its table, dimensions in the vocabulary, parents."""
    where = f"semantic model {model.name}"
    if model.time_column not in model.table.c:
        raise ModelError(f"{where}: time column {model.time_column!r} is not a column of the table")
    if not isinstance(model.table.c[model.time_column].type, sa.DateTime):
        raise ModelError(f"{where}: time column {model.time_column!r} is not a timestamp")
    for dimension, column in model.dimensions.items():
        if dimension not in DIMENSION_ORDER:
            raise ModelError(f"{where}: dimension {dimension!r} is not in DIMENSION_ORDER")
        if column not in model.table.c:
            raise ModelError(f"{where}: dimension {dimension!r} names a missing column {column!r}")
    if model.channel_dimension not in model.dimensions:
        raise ModelError(f"{where}: channel dimension {model.channel_dimension!r} is not one of its dimensions")
    rollups = {rollup.name: rollup for rollup in model.rollups}
    if len(rollups) != len(model.rollups):
        raise ModelError(f"{where}: two rollups share a name")
    for rollup in model.rollups:
        missing = [dimension for dimension in rollup.dimensions if dimension not in model.dimensions]
        if missing:
            raise ModelError(f"{where}: rollup {rollup.name} keeps unknown dimension(s) {missing}")
        if rollup.parent is None:
            continue
        parent = rollups.get(rollup.parent)
        if parent is None or parent.parent is not None or not set(rollup.dimensions) <= set(parent.dimensions):
            raise ModelError(f"{where}: rollup {rollup.name} cannot be summed from {rollup.parent!r}")


def _load(models: tuple[SemanticModel, ...]) -> dict[str, SemanticModel]:
    """The models by table name, after checking each and that they match the contract's fact tables."""
    for model in models:
        validate_model(model)
    by_name = {model.name: model for model in models}
    if [model.table for model in models] != list(schema.FACT_TABLES) or len(by_name) != len(models):
        raise ModelError("one semantic model per fact table of the contract, in its order")
    if len({model.domain for model in models}) != len(models):
        raise ModelError("two semantic models share a domain")
    rollup_names = [rollup.name for model in models for rollup in model.rollups]
    if len(set(rollup_names)) != len(rollup_names):
        raise ModelError("two rollups share a name")
    return by_name


# Rollups: district × department answers the city- and district-wide screens and department scopes
# (a month is a few thousand rows); the street one answers street rankings and drills; the grid one
# (complaints and grid events only) the map's grid points and grid-level scopes; the category one
# (the same two) views filtered or split by first-level category (12345 诉求大类, 城管 大类).
SERVICE_CASES = SemanticModel(
    table=schema.service_cases,
    domain="services",
    time_column="submitted_at",
    dimensions={
        "district": "district_code",
        "street": "street_code",
        "department": "department_code",
        "service_item": "service_item_code",
        "channel": "channel",
        "applicant_type": "applicant_type",
        "status": "status",
        "rating": "rating",
    },
    channel_dimension="channel",
    rollups=(
        RollupSpec(
            "rollup_service_cases_district_daily", ("district", "department"), parent="rollup_service_cases_daily"
        ),
        RollupSpec("rollup_service_cases_daily", ("district", "street", "department")),
    ),
)

COMPLAINTS = SemanticModel(
    table=schema.complaints,
    domain="complaints",
    time_column="received_at",
    dimensions={
        "district": "district_code",
        "street": "street_code",
        "community": "community_code",
        "grid": "grid_code",
        "department": "department_code",
        "category_l1": "category_l1_code",
        "category_l2": "category_l2_code",
        "category_l3": "category_l3_code",
        "channel": "channel",
        "status": "status",
        "follow_up": "follow_up",
    },
    channel_dimension="channel",
    rollups=(
        RollupSpec("rollup_complaints_district_daily", ("district", "department"), parent="rollup_complaints_daily"),
        RollupSpec("rollup_complaints_daily", ("district", "street", "department")),
        RollupSpec("rollup_complaints_grid_daily", ("district", "street", "community", "grid")),
        RollupSpec("rollup_complaints_category_daily", ("district", "department", "category_l1")),
    ),
)

GRID_EVENTS = SemanticModel(
    table=schema.grid_events,
    domain="grid",
    time_column="collected_at",
    dimensions={
        "district": "district_code",
        "street": "street_code",
        "community": "community_code",
        "grid": "grid_code",
        "department": "department_code",
        "category_l1": "major_category_code",
        "category_l2": "minor_category_code",
        "source": "source",
        "kind": "kind",
        "side_state": "side_state",
        "reporter": "reporter_id",
    },
    channel_dimension="source",
    rollups=(
        RollupSpec("rollup_grid_events_district_daily", ("district", "department"), parent="rollup_grid_events_daily"),
        RollupSpec("rollup_grid_events_daily", ("district", "street", "department")),
        RollupSpec("rollup_grid_events_grid_daily", ("district", "street", "community", "grid")),
        RollupSpec("rollup_grid_events_category_daily", ("district", "department", "category_l1")),
    ),
)

MODELS: dict[str, SemanticModel] = _load((SERVICE_CASES, COMPLAINTS, GRID_EVENTS))
MODELS_BY_DOMAIN: dict[str, SemanticModel] = {model.domain: model for model in MODELS.values()}

# dimension name -> {table: column}, in DIMENSION_ORDER and model order: the view pages and the
# compiler use to ask "which tables have this dimension, and in which column".
DIMENSION_COLUMNS: dict[str, dict[str, str]] = {
    dimension: {name: model.dimensions[dimension] for name, model in MODELS.items() if dimension in model.dimensions}
    for dimension in DIMENSION_ORDER
}
if not all(DIMENSION_COLUMNS.values()) or set(DIMENSION_ORDER) & {*TIME_GRAINS, REGION_FILTER}:
    raise ModelError("every name of DIMENSION_ORDER is a dimension of some model, and none is a grain or 'region'")
DIMENSIONS: tuple[str, ...] = (*TIME_GRAINS, *DIMENSION_COLUMNS)


def fact_name(table: sa.Table) -> str:
    """The fact table a table stands for: itself, or the one a rollup or open-items copy is made of."""
    return str(table.info.get("fact", table.name))


def model_of(table: sa.Table) -> SemanticModel:
    """The semantic model of a fact table or of an aggregate made of one."""
    return MODELS[fact_name(table)]


def time_column(table: sa.Table) -> sa.Column[Any]:
    """The column time ranges and grains apply to (a rollup's is its ``day``)."""
    return table.c[table.info.get("time_column", model_of(table).time_column)]
