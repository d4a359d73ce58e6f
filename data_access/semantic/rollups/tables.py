"""The aggregate tables, built from the semantic models: daily rollups, their groups, open items, state.

Each rollup a model declares (``data_access.semantic.model``) becomes a table of ``day``, the
columns of its dimensions and one count column per rollable row condition (``measures``). Beside
each rollup, its *groups* table holds every group once with its first day; beside each fact table
with snapshot metrics, an *open-items* copy holds the rows not yet done. ``rollup_state`` records,
per fact table, the watermark of the last refresh.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from data_access.contract import schema
from data_access.semantic.model import MODELS, RollupSpec, SemanticModel
from data_access.semantic.rollups.measures import open_columns, rollup_conditions

ROLLUP_METADATA = sa.MetaData()


def _rollup_table(model: SemanticModel, spec: RollupSpec) -> sa.Table:
    fact = model.table
    columns: list[sa.Column[Any]] = [sa.Column("day", sa.DateTime, nullable=False)]
    columns += [sa.Column(name, fact.c[name].type, nullable=True) for name in model.rollup_columns(spec)]
    columns += [sa.Column(name, sa.BigInteger, nullable=False) for name in rollup_conditions(model.name)]
    # An index on the row stores only, as the contract's indexes (``schema.ROW_STORES``).
    index = sa.Index(f"ix_{spec.name}_day", "day").ddl_if(dialect=schema.ROW_STORES)  # type: ignore[arg-type]
    return sa.Table(
        spec.name,
        ROLLUP_METADATA,
        *columns,
        index,
        info={"fact": model.name, "time_column": "day", "rollup": True, "parent": spec.parent},
    )


def _open_table(fact: sa.Table) -> sa.Table:
    columns = [sa.Column(column.name, column.type, nullable=True) for column in fact.columns]
    return sa.Table(f"open_{fact.name}", ROLLUP_METADATA, *columns, info={"fact": fact.name, "open": True})


def _groups_table(rollup: sa.Table) -> sa.Table:
    """Each group of a rollup once, with its first day: which groups exist before a date, in a few rows."""
    columns = [sa.Column(c.name, c.type, nullable=c.nullable) for c in rollup.columns if not c.name.startswith("n_")]
    return sa.Table(f"{rollup.name}_groups", ROLLUP_METADATA, *columns, info={**rollup.info, "groups": True})


# Per fact table in model order, smallest first: the router takes the first one that covers a request.
ROLLUPS: tuple[sa.Table, ...] = tuple(_rollup_table(model, spec) for model in MODELS.values() for spec in model.rollups)
ROLLUPS_BY_NAME: dict[str, sa.Table] = {table.name: table for table in ROLLUPS}
GROUPS: dict[str, sa.Table] = {rollup.name: _groups_table(rollup) for rollup in ROLLUPS}
OPEN_TABLES: dict[str, sa.Table] = {
    name: _open_table(model.table) for name, model in MODELS.items() if open_columns(name)
}

rollup_state = sa.Table(
    "rollup_state",
    ROLLUP_METADATA,
    sa.Column("fact", sa.String(64), primary_key=True),
    sa.Column("watermark", sa.DateTime, nullable=True),
    sa.Column("fact_rows", sa.BigInteger, nullable=False),
    sa.Column("refreshed_at", sa.DateTime, nullable=False),
)


def timestamp_columns(fact: sa.Table) -> list[sa.Column[Any]]:
    """The fact table's timestamps: the watermark is the latest of them all."""
    return [column for column in fact.columns if isinstance(column.type, sa.DateTime)]


def aggregate_tables(fact: str) -> set[str]:
    """The names of every aggregate table the router may read for one fact table."""
    names = {table.name for table in ROLLUPS if table.info["fact"] == fact}
    names |= {GROUPS[name].name for name in list(names)}
    if fact in OPEN_TABLES:
        names.add(OPEN_TABLES[fact].name)
    return names
