"""The records behind a topic page: histograms and detail pages read through the context, the overdue list
and the paged, sorted detail table (personal data masked)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
import streamlit as st

from dashboard.core.formatting import format_number
from dashboard.core.i18n import metric_label, t
from dashboard.exports import downloads
from dashboard.session import context
from dashboard.topics.data import count_metrics
from dashboard.topics.page_context import TopicPage
from dashboard.topics.tables import OVERDUE_COLUMNS, detail_frame
from data_access.runtime.engine import DatabaseError
from data_access.semantic.details import COMPUTED, DETAIL_COLUMNS, DetailPage
from data_access.semantic.distributions import HistogramRequest
from data_access.semantic.query import RequestError

PAGE_SIZES = (20, 50, 100)


def run_histogram(page: TopicPage, request: HistogramRequest) -> pl.DataFrame:
    """A histogram for the page, through the context's cache and error handling."""
    try:
        return page.ctx.histogram(request)  # in the viewer's scope
    except (DatabaseError, RequestError) as exc:
        context.stop_with_error(t("query_problem", page.ctx.lang, message=str(exc).splitlines()[0]))


def details(page: TopicPage, request: Any) -> DetailPage:
    """One page of records for the page, through the context (scope, masking, audit); a failure stops the page."""
    try:
        return page.ctx.details(request)  # in the viewer's scope, masked unless the viewer may see personal data
    except (DatabaseError, RequestError) as exc:
        context.stop_with_error(t("query_problem", page.ctx.lang, message=str(exc).splitlines()[0]))


def _names_by_column(page: TopicPage) -> dict[str, Mapping[str, str]]:
    ctx = page.ctx
    _, _, category_names = ctx.data.category_tree()
    return {
        "department_code": ctx.names("department"),
        "district_code": ctx.names("district"),
        "street_code": ctx.names("street"),
        "grid_code": ctx.names("grid"),
        "category_l1_code": category_names,
        "category_l3_code": category_names,
        "major_category_code": category_names,
    }


def overdue_list(page: TopicPage) -> None:
    """The open items past their limit, longest overdue first, with how long they are overdue."""
    found = details(page, page.queries.overdue())
    lang = page.ctx.lang
    if found.total == 0:
        st.caption(t("overdue_none", lang))
        return
    st.caption(t("overdue_count", lang, n=format_number(found.total), shown=found.rows.height))
    frame = detail_frame(found.rows, page.table, _names_by_column(page), lang, OVERDUE_COLUMNS[page.table])
    downloads.table(page.ctx, frame, key="overdue_table", title=t("overdue_title", lang))


def detail_table(page: TopicPage) -> None:
    """The records behind the view, paged and sorted in the database, personal data masked."""
    lang, table = page.ctx.lang, page.table
    choices = count_metrics(table)
    left, sort_column, order_column, size_column, page_column = st.columns([3, 2, 1, 1, 1], vertical_alignment="bottom")
    with left:
        metric = st.selectbox(
            t("detail_records", lang), choices, key="detail_metric", format_func=lambda name: metric_label(name, lang)
        )
    sortable = [*DETAIL_COLUMNS[table][1:], *COMPUTED]
    with sort_column:
        sort = st.selectbox(
            t("detail_sort", lang), sortable, key="detail_sort", format_func=lambda column: t(f"col_{column}", lang)
        )
    with order_column:
        descending = st.toggle(t("detail_descending", lang), value=True, key="detail_descending")
    with size_column:
        size = st.selectbox(t("detail_page_size", lang), PAGE_SIZES, key="detail_page_size")
    with page_column:
        number = st.number_input(t("detail_page", lang), min_value=1, value=1, step=1, key="detail_page")
    found = details(
        page,
        page.queries.details(str(metric), sort=str(sort), descending=descending, page=int(number), page_size=int(size)),
    )
    frame = detail_frame(found.rows, table, _names_by_column(page), lang)
    downloads.table(
        page.ctx, frame, key="detail_rows", title=f"{t('detail_title', lang)} · {metric_label(str(metric), lang)}"
    )
    st.caption(
        t("detail_footer", lang, total=format_number(found.total), page=found.page, pages=found.pages)
        + ("　" + t("detail_masked", lang) if table in ("complaints",) else "")
    )
