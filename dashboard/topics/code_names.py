"""What a topic page knows about codes: the category tree, service item names and the viewer's vocabulary.

The two cached reads here are the only queries a topic page runs outside its ``Context`` (names, not facts).
"""

from __future__ import annotations

import sqlalchemy as sa
import streamlit as st

from dashboard.session import app_state
from dashboard.session.app_state import NAMES_TTL_SECONDS, Context
from dashboard.topics.state import Vocabulary
from data_access.contract import schema


@st.cache_data(show_spinner=False, ttl=NAMES_TTL_SECONDS)
def category_tree(url: str) -> tuple[dict[str, str], dict[str, str | None], dict[str, str]]:
    """(code → domain, code → parent, code → name) of every category."""
    c = schema.categories.c
    with app_state.engine_for(url).connect() as connection:
        rows = list(connection.execute(sa.select(c.code, c.domain, c.parent_code, c.name).order_by(c.code)))
    return (
        {code: domain for code, domain, _, _ in rows},
        {code: parent for code, _, parent, _ in rows},
        {code: name for code, _, _, name in rows},
    )


def vocabulary(ctx: Context) -> Vocabulary:
    """The codes the viewer may see, as the pure state functions need them to check a URL."""
    domains, _, _ = category_tree(ctx.target.url)
    return Vocabulary(
        region_levels=app_state.region_levels(ctx),
        parents=app_state.region_parents(ctx),
        departments=ctx.names("department"),
        categories=domains,
    )


@st.cache_data(show_spinner=False, ttl=NAMES_TTL_SECONDS)
def service_item_names(url: str) -> dict[str, str]:
    """Service item code → name (the items are not a dimension table: read the distinct pairs)."""
    c = schema.service_cases.c
    with app_state.engine_for(url).connect() as connection:
        rows = connection.execute(sa.select(c.service_item_code, c.service_item_name).distinct())
        return {str(code): str(name) for code, name in rows}
