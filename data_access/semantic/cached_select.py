"""Run a SELECT through the process-wide result cache, keyed on its SQL text and parameters.

The metric layer's own requests go through ``metrics.run_metrics``; the other reads a page makes
(detail rows, histograms) use this, so they share the same cache, TTL, single flight and the
data-version invalidation that clears it after an import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
import sqlalchemy as sa

from data_access.runtime.cache import ResultCache
from data_access.semantic.compiler import compiled_sql

Shape = Callable[[list[sa.Row[Any]]], pl.DataFrame]


def cached_select(
    engine: sa.Engine,
    statement: sa.Select[Any],
    shape: Shape,
    cache: ResultCache[pl.DataFrame] | None,
    ttl_seconds: float | None = None,
    compiled: tuple[str, tuple[Any, ...]] | None = None,
    version: str | None = None,
) -> pl.DataFrame:
    """``shape(rows)`` of ``statement`` on ``engine``, from the cache when a fresh answer is there.

    ``compiled``: the statement's SQL text and parameters when the caller has them memoised
    (compiling costs milliseconds; a cache hit should not); ``version``: the data version, part of the key.
    """

    def load() -> pl.DataFrame:
        with engine.connect() as connection:
            return shape(list(connection.execute(statement)))

    if cache is None:
        return load()
    sql, params = compiled or compiled_sql(statement, engine.dialect)
    key = (engine.url.render_as_string(hide_password=False), version, sql, params)
    return cache.get_or_load(key, load, ttl_seconds)
