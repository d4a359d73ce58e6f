"""Plotly figure builders: polars frames from ``run_metrics`` in, ``go.Figure`` out. No Streamlit here.

Values are drawn as displayed (rates in percent, scores in 0–100 points); hover texts and bar
labels use the same formatting as the KPI cards, so a number reads the same everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from dashboard.charts import theme
from dashboard.core.formatting import format_value, scaled
from dashboard.core.i18n import t
from dashboard.core.periods import Shift
from data_access.semantic.metric_defs import Direction, Unit
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.query import TimeRange

_INTERVALS = {"day": "1d", "week": "1w", "month": "1mo"}


def metric_unit(metric: str) -> Unit:
    """The registry's unit of a metric: it decides scaling, formatting and the axis suffix."""
    return METRICS[metric].unit


def display_values(values: Sequence[float | None], unit: Unit) -> list[float | None]:
    """Values as drawn (rates in percent, scores in points), so axes read like the KPI cards."""
    return [None if value is None else scaled(value, unit) for value in values]


def value_texts(values: Sequence[float | None], unit: Unit, lang: str) -> list[str]:
    """Hover and label texts formatted like the KPI cards (unit included), one per value."""
    return [format_value(value, unit, lang) for value in values]


def axis_suffix(unit: Unit) -> str:
    """The value axis's tick suffix: ``%`` for rates (drawn in percent), nothing otherwise."""
    return "%" if unit is Unit.RATE else ""


def complete_buckets(frame: pl.DataFrame, grain: str, time_range: TimeRange, metric: str) -> pl.DataFrame:
    """Every bucket of the range, in order; counts are 0 where no records fell, other metrics null."""
    start = time_range.start.date()
    last = (time_range.end - dt.timedelta(microseconds=1)).date()
    buckets = pl.date_range(start, last, interval=_INTERVALS[grain], eager=True).alias(grain)
    if grain == "month":
        buckets = buckets.dt.truncate("1mo")
    elif grain == "week":
        buckets = buckets.dt.truncate("1w")
    full = pl.DataFrame({grain: buckets.unique(maintain_order=True)})
    present = (
        frame.select(grain, metric) if frame.height else pl.DataFrame(schema={grain: pl.Date(), metric: pl.Float64()})
    )
    joined = full.join(present.cast({grain: pl.Date()}), on=grain, how="left")
    if metric_unit(metric) is Unit.COUNT:
        joined = joined.with_columns(pl.col(metric).fill_null(0))
    return joined.sort(grain)


def trend_figure(
    current: pl.DataFrame,
    previous: pl.DataFrame,
    *,
    grain: str,
    metric: str,
    shift: Shift,
    lang: str,
    comparison_label: str,
    title: str | None = None,
    height: int = 320,
) -> go.Figure:
    """The metric per bucket (solid) with the comparison window shifted onto the same axis (dashed)."""
    unit = metric_unit(metric)
    shifted = previous.with_columns(pl.col(grain).alias("_original"), pl.col(grain).dt.offset_by(shift.polars_offset))
    date_format = "%Y-%m" if grain == "month" else "%Y-%m-%d"
    fig = go.Figure()
    previous_values = shifted[metric].to_list()
    fig.add_trace(
        go.Scatter(
            x=shifted[grain].to_list(),
            y=display_values(previous_values, unit),
            name=comparison_label,
            mode="lines",
            line={"color": theme.COMPARISON, "dash": "dash", "width": 2},
            customdata=[
                [f"{original:{date_format}}", text]
                for original, text in zip(
                    shifted["_original"].to_list(), value_texts(previous_values, unit, lang), strict=True
                )
            ],
            hovertemplate="%{customdata[0]}: %{customdata[1]}<extra>" + comparison_label + "</extra>",
        )
    )
    current_values = current[metric].to_list()
    fig.add_trace(
        go.Scatter(
            x=current[grain].to_list(),
            y=display_values(current_values, unit),
            name=t("current_period", lang),
            mode="lines+markers",
            line={"color": theme.PRIMARY, "width": 3},
            marker={"size": 5},
            customdata=value_texts(current_values, unit, lang),
            hovertemplate="%{x|" + date_format + "}: %{customdata}<extra></extra>",
        )
    )
    theme.base_layout(fig, title=title, height=height)
    fig.update_xaxes(tickformat="%m-%d" if grain != "month" else "%Y-%m", hoverformat=date_format)
    fig.update_yaxes(ticksuffix=axis_suffix(unit))
    return fig


def category_names(frame: pl.DataFrame, dimension: str, names: Mapping[str, str], lang: str) -> list[str]:
    """Display names for a dimension column: code → name where known, the value itself otherwise."""
    labels: list[str] = []
    for value in frame[dimension].to_list():
        if value is None:
            labels.append(t("value_missing", lang))
        elif isinstance(value, dt.date):
            labels.append(f"{value:%Y-%m-%d}")
        else:
            labels.append(names.get(str(value), str(value)))
    return labels


def bar_figure(
    frame: pl.DataFrame,
    *,
    dimension: str,
    value: str,
    unit: Unit,
    names: Mapping[str, str],
    lang: str,
    title: str | None = None,
    target: float | None = None,
    colours: Sequence[str] | None = None,
    horizontal: bool = True,
) -> go.Figure:
    """One bar per dimension value, in the frame's order (first at the top when horizontal).

    ``value`` is the column drawn, in ``unit``; ``names`` maps codes to display names.
    """
    labels = category_names(frame, dimension, names, lang)
    values = frame[value].to_list()
    texts = value_texts(values, unit, lang)
    bar = go.Bar(
        x=display_values(values, unit) if horizontal else labels,
        y=labels if horizontal else display_values(values, unit),
        orientation="h" if horizontal else "v",
        marker={"color": list(colours) if colours else theme.PRIMARY},
        text=texts,
        textposition="outside",
        cliponaxis=False,
        customdata=texts,
        hovertemplate="%{" + ("y" if horizontal else "x") + "}: %{customdata}<extra></extra>",
    )
    height = max(260, 70 + 28 * len(labels)) if horizontal else 380
    fig = theme.base_layout(go.Figure(bar), title=title, height=height)
    value_axis = fig.update_xaxes if horizontal else fig.update_yaxes
    value_axis(ticksuffix=axis_suffix(unit))
    numeric = [v for v in display_values(values, unit) if v is not None]
    if numeric:
        top = max([*numeric, scaled(target, unit) if target is not None else 0.0])
        value_axis(range=[0, top * 1.18 if top > 0 else 1])
    if horizontal:
        fig.update_yaxes(autorange="reversed", type="category")
    if target is not None:
        shown = scaled(target, unit)
        label = t("target_line", lang, value=format_value(target, unit, lang))
        line = {"color": theme.BAD, "dash": "dot", "width": 2}
        if horizontal:
            fig.add_vline(x=shown, line=line, annotation_text=label, annotation_position="top")
        else:
            fig.add_hline(y=shown, line=line, annotation_text=label, annotation_position="top left")
    fig.update_layout(showlegend=False)
    return fig


def top_bottom(
    frame: pl.DataFrame, metric: str, n: int, *, volume: str | None = None, min_volume: int = 0
) -> pl.DataFrame:
    """The best ``n`` and worst ``n`` rows by ``metric`` (best first), with a ``group`` column top/bottom.

    Rows without a value are dropped; with ``volume``, rows below ``min_volume`` are dropped unless
    that would leave nothing (small samples give extreme rates).
    """
    valued = frame.filter(pl.col(metric).is_not_null())
    if volume is not None and min_volume > 0:
        enough = valued.filter(pl.col(volume) >= min_volume)
        valued = enough if enough.height else valued
    ordered = valued.sort(metric, descending=True, maintain_order=True)
    if ordered.height <= 2 * n:
        half = (ordered.height + 1) // 2
        return ordered.with_columns(
            pl.when(pl.int_range(pl.len()) < half).then(pl.lit("top")).otherwise(pl.lit("bottom")).alias("group")
        )
    top = ordered.head(n).with_columns(pl.lit("top").alias("group"))
    bottom = ordered.tail(n).with_columns(pl.lit("bottom").alias("group"))
    return pl.concat([top, bottom])


def target_colours(values: Sequence[float | None], target: float | None, direction: Direction) -> list[str]:
    """Blue for values meeting the target, red for those that miss it (blue for all without a target)."""

    def meets(value: float | None) -> bool:
        if value is None or target is None or direction is Direction.NEUTRAL:
            return True
        return value >= target if direction is Direction.HIGHER_IS_BETTER else value <= target

    return [theme.PRIMARY if meets(value) else theme.BAD for value in values]


def stacked_trends(
    panels: Sequence[tuple[str, pl.DataFrame, pl.DataFrame]],
    *,
    metrics: Sequence[str],
    shift: Shift,
    lang: str,
    comparison_label: str,
    grain: str = "day",
) -> go.Figure:
    """Several trends one above the other, sharing the time axis: (title, current, comparison) each.

    Each panel is ``trend_figure``'s two traces; one legend (current solid, comparison dashed).
    """
    fig = make_subplots(
        rows=len(panels),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        subplot_titles=[title for title, _, _ in panels],
    )
    for row, ((_title, current, previous), metric) in enumerate(zip(panels, metrics, strict=True), start=1):
        single = trend_figure(
            current, previous, grain=grain, metric=metric, shift=shift, lang=lang, comparison_label=comparison_label
        )
        for trace in single.data:
            trace.update(showlegend=row == 1, legendgroup=trace.name)
            fig.add_trace(trace, row=row, col=1)
        fig.update_yaxes(ticksuffix=axis_suffix(metric_unit(metric)), rangemode="tozero", row=row, col=1)
    theme.base_layout(fig, height=max(300, 200 * len(panels)))
    fig.update_xaxes(tickformat="%m-%d" if grain != "month" else "%Y-%m")
    fig.update_annotations(font={"family": theme.FONT_FAMILY, "size": 17}, x=0.0, xanchor="left")
    return fig
