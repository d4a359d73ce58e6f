"""One render of a topic page (``TopicPage``) and how a change reaches the URL.

The URL is the page's state: every widget's value is set from it before the widget is drawn, and
every change (a widget, a click on the map, a bar or a sector, a breadcrumb) writes the new state
back into ``st.query_params`` and reruns — so a copied link always reproduces the view.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import streamlit as st

from dashboard.core.i18n import t
from dashboard.core.periods import Period
from dashboard.session.context import Context
from dashboard.topics.code_names import vocabulary
from dashboard.topics.data import TopicQueries
from dashboard.topics.state import STATE_PARAMS, TopicState, Vocabulary, parse_state, region_path, state_params
from dashboard.topics.topic_view import TopicView

# ---- the page ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicPage:
    """One render of a topic page: the context, its table, the state read from the URL, its requests."""

    ctx: Context
    domain: str
    state: TopicState
    vocabulary: Vocabulary

    @property
    def queries(self) -> TopicQueries:
        return TopicQueries(self.domain, self.state, self.ctx.as_of)

    @property
    def table(self) -> str:
        return self.queries.table

    @property
    def period(self) -> Period:
        return self.queries.period

    @property
    def district(self) -> str | None:
        path = region_path(self.state.region, self.vocabulary.parents)
        return path[0] if path else None

    @property
    def view(self) -> TopicView:
        return TopicView(self.period, self.district, self.queries.filters())

    @property
    def comparison_label(self) -> str:
        return t("vs_last_year" if self.state.compare == "last_year" else "vs_previous", self.ctx.lang)


def _query_params() -> dict[str, str]:
    return {key: str(st.query_params[key]) for key in STATE_PARAMS if key in st.query_params}


def _write(table: str, state: TopicState, parents: Mapping[str, str | None]) -> None:
    """Put ``state`` into the URL, keeping parameters that are not the page's (lang, kiosk, …)."""
    others = {key: str(st.query_params[key]) for key in st.query_params if key not in STATE_PARAMS}
    st.query_params.from_dict({**others, **state_params(state, parents, table)})


def read_state(ctx: Context, domain: str) -> TopicPage:
    """The page as the URL describes it; a link with bad parameters is named once, then rewritten clean."""
    words = vocabulary(ctx)
    table = TopicQueries(domain, TopicState(), ctx.as_of).table
    state, notices = parse_state(_query_params(), words, table)
    if notices:
        st.warning(t("link_ignored", ctx.lang, params=", ".join(notices)))
        _write(table, state, words.parents)  # a copied link now reproduces what is shown
    return TopicPage(ctx, domain, state, words)


def apply_change(page: TopicPage, change: Callable[[TopicState], TopicState]) -> None:
    """Write ``change(state)`` into the URL: the rerun that follows draws the changed page."""
    _write(page.table, change(page.state), page.vocabulary.parents)


def on_widget_change(page: TopicPage, key: str, change: Callable[[TopicState, Any], TopicState]) -> None:
    """Widget callback: the widget's new value, through ``change``, becomes the page's state."""
    apply_change(page, lambda state: change(state, st.session_state.get(key)))


def show_in_widget(key: str, value: Any) -> None:
    """Show ``value`` in the widget ``key`` (set before the widget is drawn, so the URL always wins)."""
    st.session_state[key] = value


def drill_to(code: str | None, state: TopicState) -> TopicState:
    """The state drilled to region ``code`` (None: the whole city), other filters kept."""
    return replace(state, region=code)
