"""Small look-ups of the dimension tables the pickers, filters and maps offer (read whole: they are small)."""

from __future__ import annotations

import sqlalchemy as sa

from data_access.contract import schema


def category_choices(engine: sa.Engine, table: str, level: int = 1) -> dict[str, str]:
    """Code → name of the categories of one fact table at one level (``categories.domain`` = the table)."""
    c = schema.categories.c
    statement = sa.select(c.code, c.name).where(c.domain == table, c.level == level).order_by(c.code)
    with engine.connect() as connection:
        return {str(code): str(name) for code, name in connection.execute(statement)}


CategoryTree = tuple[dict[str, str], dict[str, str | None], dict[str, str]]


def category_tree(engine: sa.Engine) -> CategoryTree:
    """(code → domain, code → parent, code → name) of every category, for the topic pages' pickers."""
    c = schema.categories.c
    with engine.connect() as connection:
        rows = list(connection.execute(sa.select(c.code, c.domain, c.parent_code, c.name).order_by(c.code)))
    return (
        {code: domain for code, domain, _, _ in rows},
        {code: parent for code, _, parent, _ in rows},
        {code: name for code, _, _, name in rows},
    )


def service_item_names(engine: sa.Engine) -> dict[str, str]:
    """Service item code → name (the items are not a dimension table: the distinct pairs of the facts)."""
    c = schema.service_cases.c
    with engine.connect() as connection:
        rows = connection.execute(sa.select(c.service_item_code, c.service_item_name).distinct())
        return {str(code): str(name) for code, name in rows}


def grid_centres(engine: sa.Engine) -> dict[str, tuple[float, float]]:
    """Grid code → (lon, lat) of its centroid (``regions.center_lon/center_lat``): the map's point layer."""
    r = schema.regions.c
    statement = sa.select(r.code, r.center_lon, r.center_lat).where(
        r.level == "grid", r.center_lon.is_not(None), r.center_lat.is_not(None)
    )
    with engine.connect() as connection:
        return {code: (float(lon), float(lat)) for code, lon, lat in connection.execute(statement)}
