"""The workbench's result: the chart (with its export menu) and the table beneath it, the same frame in both."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import streamlit as st

from dashboard.charts.maps import load_features
from dashboard.charts.tables import result_table
from dashboard.core.formatting import format_date
from dashboard.core.i18n import metric_label, t
from dashboard.core.periods import Period
from dashboard.exports import downloads
from dashboard.session import context
from dashboard.workbench import view_state as wb
from dashboard.workbench.controls import region_tree
from dashboard.workbench.figures import WORKBENCH_TOP_N, workbench_figure, workbench_map
from data_access.semantic.query import TIME_GRAINS


def title_of(state: wb.WorkbenchState, period: Period, lang: str) -> str:
    metrics = "、".join(metric_label(name, lang) for name in state.chosen_metrics)
    by = " × ".join(t(f"grain_{state.grain}", lang) if d == wb.TIME else t(f"dim_{d}", lang) for d in state.dimensions)
    end = period.current.end - dt.timedelta(microseconds=1)
    return f"{metrics} · {by} · {format_date(period.current.start)}–{format_date(end)}"


def names_for(ctx: context.Context, dimensions: tuple[str, ...]) -> dict[str, dict[str, str]]:
    return {name: ctx.names(name) for name in dimensions if name not in TIME_GRAINS}


def show_result(ctx: context.Context, state: wb.WorkbenchState, frame: pl.DataFrame, period: Period) -> None:
    """The chart (with its export menu) and the table beneath it — the same frame in both."""
    lang = ctx.lang
    dimensions = state.request_dimensions
    metrics = state.chosen_metrics
    names = names_for(ctx, dimensions)
    title = title_of(state, period, lang)
    stem = "_".join(["workbench", state.domain, *dimensions, f"{period.current.start:%Y%m%d}"])
    table = result_table(frame, dimensions=dimensions, metrics=metrics, names=names, lang=lang)
    audit_filters = wb.to_params(state)
    problem = wb.chart_problem(state)
    if state.chart != "table" and problem is not None:
        st.info(t(problem, lang))
    elif state.chart != "table":
        figure = _figure(ctx, state, frame, names)
        if figure is not None:
            st.subheader(t("chart", lang))
            downloads.chart(ctx, figure, table, key="explore_chart", title=title, file_name=stem, filters=audit_filters)
            if state.chart in ("heatmap", "map") and len(metrics) > 1:
                st.caption(t("wb_first_metric_only", lang, metric=metric_label(metrics[0], lang)))
            elif _cut_on_axis(frame, dimensions):
                st.caption(t("chart_top_n", lang, n=WORKBENCH_TOP_N))
    st.subheader(t("table", lang))
    if state.chart == "table":
        downloads.table(ctx, table, key="explore_table", title=title, file_name=stem, filters=audit_filters)
    else:
        st.dataframe(table, hide_index=True, key="explore_table")


def _cut_on_axis(frame: pl.DataFrame, dimensions: tuple[str, ...]) -> bool:
    return any(d not in TIME_GRAINS and frame[d].n_unique() > WORKBENCH_TOP_N for d in dimensions)


def _figure(
    ctx: context.Context, state: wb.WorkbenchState, frame: pl.DataFrame, names: dict[str, dict[str, str]]
) -> Any:
    lang = ctx.lang
    dimensions = state.request_dimensions
    if state.chart == "map":
        level = dimensions[0]
        layer = ctx.city.geo.get(level)
        if layer is None:
            st.info(t("wb_map_no_layer", lang, level=t(f"dim_{level}", lang)))
            return None
        collection = load_features(layer.file, layer.code_property, _map_codes(ctx, state, level))
        return workbench_map(
            collection,
            frame,
            code_property=layer.code_property,
            dimension=level,
            metric=state.chosen_metrics[0],
            names=names.get(level, {}),
            lang=lang,
        )
    return workbench_figure(
        frame, chart=state.chart, dimensions=dimensions, metrics=state.chosen_metrics, names=names, lang=lang
    )


def _map_codes(ctx: context.Context, state: wb.WorkbenchState, level: str) -> list[str] | None:
    """The regions the map draws: all of the level, or those inside the view's region filter."""
    if not state.region:
        return None
    regions = region_tree(ctx)
    region_level = regions.levels.get(state.region)
    if region_level == level:
        return [state.region]
    if region_level == "district" and level == "street":
        return ctx.children(state.region)
    return None
