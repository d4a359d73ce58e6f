"""The workbench's saved-views menu: save the view under a name, open or delete one's own, share the link.

Opening a saved view sets every widget from the view's stored query string, parsed as strictly as a URL.
"""

from __future__ import annotations

import streamlit as st

from dashboard.core.i18n import t
from dashboard.session import context
from dashboard.workbench import view_state as wb
from dashboard.workbench.controls import NOTICES_KEY, choices, seed_widgets, widget_values
from data_access.runtime import saved_views

MESSAGE_KEY = "wb_view_message"


def owner(ctx: context.Context) -> str | None:
    """Whose saved views these are: the signed-in user's name, None while sign-in is off."""
    return getattr(getattr(ctx, "viewer", None), "name", None)


def _open_view(ctx: context.Context, view: saved_views.SavedView) -> None:
    state, notices = wb.parse_query_string(view.state, choices(ctx))
    seed_widgets(widget_values(ctx, state), overwrite=True)
    st.session_state[NOTICES_KEY] = list(notices)
    st.session_state[MESSAGE_KEY] = t("wb_view_opened", ctx.lang, name=view.name)


def _delete_view(ctx: context.Context, view_id: str, name: str) -> None:
    try:
        deleted = saved_views.delete_view(ctx.engine, view_id, owner(ctx))
    except saved_views.SavedViewProblem as problem:
        st.session_state[MESSAGE_KEY] = str(problem)
        return
    st.session_state[MESSAGE_KEY] = t("wb_view_deleted" if deleted else "wb_view_missing", ctx.lang, name=name)


def saved_views_menu(ctx: context.Context, state: wb.WorkbenchState) -> None:
    """Save the view under a name, open or delete one's own views, and the link that shares this view."""
    lang = ctx.lang
    message = st.session_state.pop(MESSAGE_KEY, None)
    if message:
        st.toast(message)
    with st.popover(t("wb_saved_views", lang)):
        name = st.text_input(t("wb_view_name", lang), max_chars=saved_views.MAX_NAME_LENGTH, key="wb_view_name")
        if st.button(t("wb_save", lang), key="wb_save"):
            try:
                saved = saved_views.save_view(ctx.engine, name, wb.query_string(state), owner(ctx))
            except saved_views.SavedViewProblem as problem:
                st.error(t("wb_save_failed", lang, reason=str(problem)))
            else:
                st.success(t("wb_view_saved", lang, name=saved.name))
        try:
            views = saved_views.list_views(ctx.engine, owner(ctx))
        except saved_views.SavedViewProblem as problem:
            st.error(str(problem))
            views = []
        if not views:
            st.caption(t("wb_no_views", lang))
        for view in views:
            with st.container(horizontal=True, vertical_alignment="center"):
                st.button(
                    view.name,
                    key=f"wb_open_{view.id}",
                    on_click=_open_view,
                    args=(ctx, view),
                    help=t("wb_view_saved_at", lang, time=f"{view.updated_at:%Y-%m-%d %H:%M}"),
                    type="tertiary",
                )
                st.button(
                    t("wb_delete", lang),
                    key=f"wb_delete_{view.id}",
                    on_click=_delete_view,
                    args=(ctx, view.id, view.name),
                )
        st.caption(t("wb_share", lang))
        st.code("?" + wb.query_string(state) if wb.to_params(state) else "?", language=None)
