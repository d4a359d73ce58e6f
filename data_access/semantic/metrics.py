"""Run metric requests: compile once, execute in the database, return a small polars DataFrame.

This is the API pages call. Results are cached process-wide, keyed on (database, SQL, parameters),
so many viewers of the same view share one query.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any

import polars as pl
import sqlalchemy as sa

from data_access.config.city import ThreeRates
from data_access.contract import schema
from data_access.runtime.cache import RESULTS, ResultCache
from data_access.semantic.compiler import compile_request, compiled_sql, driver_params, metric_table
from data_access.semantic.metric_defs import Unit
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.model import MODELS
from data_access.semantic.query import TIME_GRAINS, MetricRequest
from data_access.semantic.rollups.refresh import STATES, RollupState, read_state
from data_access.semantic.routed import compile_routed

# Statements actually sent to a database by this module (tests count them).
statements_executed = 0


def build_statement(
    request: MetricRequest, rates: ThreeRates, dialect: sa.Dialect, state: RollupState | None = None
) -> sa.Select[Any]:
    """The request's SELECT: on the rollups where they answer it exactly (``state``), else on the facts."""
    if state is None:
        return compile_request(request, rates, dialect.name)
    return compile_routed(request, rates, dialect.name, state)


@functools.lru_cache(maxsize=2048)
def _compiled(
    request: MetricRequest, rates: ThreeRates, dialect: sa.Dialect, state: RollupState | None = None
) -> tuple[str, tuple[Any, ...]]:
    """SQL text and parameters, memoised: compiling costs milliseconds, a cache hit must not."""
    return compiled_sql(build_statement(request, rates, dialect, state), dialect)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _frame(request: MetricRequest, rows: list[sa.Row[Any]]) -> pl.DataFrame:
    """Typed frame: time buckets as Date, other dimensions as text, counts as Int64, else Float64."""
    schema_: dict[str, pl.DataType] = {}
    for name in dict.fromkeys(request.dimensions):
        schema_[name] = pl.Date() if name in TIME_GRAINS else pl.String()
    for name in request.metrics:
        schema_[name] = pl.Int64() if METRICS[name].unit is Unit.COUNT else pl.Float64()
    data = [[_plain(value) for value in row] for row in rows]
    return pl.DataFrame(data, schema=schema_, orient="row")


def run_metrics(
    engine: sa.Engine,
    request: MetricRequest,
    rates: ThreeRates | None = None,
    *,
    cache: ResultCache[pl.DataFrame] | None = RESULTS,
    ttl_seconds: float | None = None,
    version: str | None = None,
) -> pl.DataFrame:
    """Answer a request with one SELECT; cached by its SQL text and parameters under the data ``version``."""
    state = read_state(engine)
    sql, params = _compiled(request, rates or ThreeRates(), engine.dialect, state)

    def load() -> pl.DataFrame:
        global statements_executed
        try:
            with engine.connect() as connection:
                rows = list(connection.exec_driver_sql(sql, driver_params(engine.dialect, params)))
        except sa.exc.DBAPIError:
            if state is None:
                raise
            # The aggregates went away under us (a database replaced or restored): answer from the facts.
            STATES.clear()
            with engine.connect() as connection:
                rows = list(connection.execute(build_statement(request, rates or ThreeRates(), engine.dialect)))
        statements_executed += 1
        return _frame(request, rows)

    if cache is None:
        return load()
    key = (engine.url.render_as_string(hide_password=False), version, sql, params)
    return cache.get_or_load(key, load, ttl_seconds)


def latest_record_times(engine: sa.Engine) -> dict[str, dt.datetime | None]:
    """Per fact table, the latest time on its time column (None for an empty table)."""
    latest = [sa.func.max(model.table.c[model.time_column]).label(name) for name, model in MODELS.items()]
    subqueries = [sa.select(column).scalar_subquery().label(column.name) for column in latest]
    with engine.connect() as connection:
        row = connection.execute(sa.select(*subqueries)).one()
    return {name: None if value is None else _as_datetime(value) for name, value in zip(MODELS, row, strict=True)}


def _as_datetime(value: object) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def data_as_of(engine: sa.Engine) -> dt.datetime | None:
    """The latest record time in the facts: 'now' for the data, shown as the as-of time."""
    present = [value for value in latest_record_times(engine).values() if value is not None]
    return max(present) if present else None


def region_names(engine: sa.Engine) -> pl.DataFrame:
    """code, name, level, parent_code for every region (a small dimension, read whole)."""
    r = schema.regions.c
    statement = sa.select(r.code, r.name, r.level, r.parent_code, r.population).order_by(r.code)
    with engine.connect() as connection:
        rows = list(connection.execute(statement))
    return pl.DataFrame(
        [tuple(row) for row in rows],
        schema={
            "code": pl.String(),
            "name": pl.String(),
            "level": pl.String(),
            "parent_code": pl.String(),
            "population": pl.Int64(),
        },
        orient="row",
    )


def code_names(engine: sa.Engine, dimension: str) -> dict[str, str]:
    """Code → display name for a dimension whose values are codes (regions, departments, categories)."""
    if dimension in ("district", "street", "community", "grid"):
        table, filter_ = schema.regions, schema.regions.c.level == dimension
    elif dimension == "department":
        table, filter_ = schema.departments, sa.true()
    elif dimension.startswith("category_"):
        table, filter_ = schema.categories, sa.true()
    else:
        return {}
    with engine.connect() as connection:
        rows = connection.execute(sa.select(table.c.code, table.c.name).where(filter_))
        return {code: name for code, name in rows}


def table_for(metric_names: tuple[str, ...]) -> str:
    return metric_table(metric_names).name
