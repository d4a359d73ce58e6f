"""Small look-ups of the dimension tables the workbench's filters offer (read whole: they are small)."""

from __future__ import annotations

import sqlalchemy as sa

from data_access.contract import schema


def category_choices(engine: sa.Engine, table: str, level: int = 1) -> dict[str, str]:
    """Code → name of the categories of one fact table at one level (``categories.domain`` = the table)."""
    c = schema.categories.c
    statement = sa.select(c.code, c.name).where(c.domain == table, c.level == level).order_by(c.code)
    with engine.connect() as connection:
        return {str(code): str(name) for code, name in connection.execute(statement)}
