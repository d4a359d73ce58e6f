"""Plotly figure builders: polars frames from ``run_metrics`` in, ``go.Figure`` out. No Streamlit here.

Values are drawn as displayed (rates in percent, scores in 0–100 points); hover texts and bar
labels use the same formatting as the KPI cards, so a number reads the same everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
import polars as pl
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from dashboard.charts import theme
from dashboard.core.formatting import format_value, scaled
from dashboard.core.i18n import metric_label, t
from dashboard.core.periods import Shift
from data_access.semantic.metric_defs import Direction, Unit
from data_access.semantic.metric_registry import METRICS
from data_access.semantic.query import TIME_GRAINS, TimeRange

_INTERVALS = {"day": "1d", "week": "1w", "month": "1mo"}


def _unit(metric: str) -> Unit:
    return METRICS[metric].unit


def _display(values: Sequence[float | None], unit: Unit) -> list[float | None]:
    return [None if value is None else scaled(value, unit) for value in values]


def _texts(values: Sequence[float | None], unit: Unit, lang: str) -> list[str]:
    return [format_value(value, unit, lang) for value in values]


def _axis_suffix(unit: Unit) -> str:
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
    if _unit(metric) is Unit.COUNT:
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
    unit = _unit(metric)
    shifted = previous.with_columns(pl.col(grain).alias("_original"), pl.col(grain).dt.offset_by(shift.polars_offset))
    date_format = "%Y-%m" if grain == "month" else "%Y-%m-%d"
    fig = go.Figure()
    previous_values = shifted[metric].to_list()
    fig.add_trace(
        go.Scatter(
            x=shifted[grain].to_list(),
            y=_display(previous_values, unit),
            name=comparison_label,
            mode="lines",
            line={"color": theme.COMPARISON, "dash": "dash", "width": 2},
            customdata=[
                [f"{original:{date_format}}", text]
                for original, text in zip(
                    shifted["_original"].to_list(), _texts(previous_values, unit, lang), strict=True
                )
            ],
            hovertemplate="%{customdata[0]}: %{customdata[1]}<extra>" + comparison_label + "</extra>",
        )
    )
    current_values = current[metric].to_list()
    fig.add_trace(
        go.Scatter(
            x=current[grain].to_list(),
            y=_display(current_values, unit),
            name=t("current_period", lang),
            mode="lines+markers",
            line={"color": theme.PRIMARY, "width": 3},
            marker={"size": 5},
            customdata=_texts(current_values, unit, lang),
            hovertemplate="%{x|" + date_format + "}: %{customdata}<extra></extra>",
        )
    )
    theme.base_layout(fig, title=title, height=height)
    fig.update_xaxes(tickformat="%m-%d" if grain != "month" else "%Y-%m", hoverformat=date_format)
    fig.update_yaxes(ticksuffix=_axis_suffix(unit))
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
    texts = _texts(values, unit, lang)
    bar = go.Bar(
        x=_display(values, unit) if horizontal else labels,
        y=labels if horizontal else _display(values, unit),
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
    value_axis(ticksuffix=_axis_suffix(unit))
    numeric = [v for v in _display(values, unit) if v is not None]
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
        fig.update_yaxes(ticksuffix=_axis_suffix(_unit(metric)), rangemode="tozero", row=row, col=1)
    theme.base_layout(fig, height=max(300, 200 * len(panels)))
    fig.update_xaxes(tickformat="%m-%d" if grain != "month" else "%Y-%m")
    fig.update_annotations(font={"family": theme.FONT_FAMILY, "size": 17}, x=0.0, xanchor="left")
    return fig


# ---- the analyst workbench (issue 6) ---------------------------------------------------------------

WORKBENCH_TOP_N = 30  # categories drawn along an axis (the table below has every row)
WORKBENCH_SERIES = len(theme.PALETTE)  # values of a second dimension drawn as series, one colour each
_HEAT_SCALE: list[list[Any]] = [[0.0, "#EEF4FB"], [0.5, "#6FA6DB"], [1.0, theme.PRIMARY]]
_NO_VALUE_FILL = "#EEF1F5"


def _axis_values(frame: pl.DataFrame, dimension: str, ranking: str, n: int) -> list[Any]:
    """The values a dimension shows: every time bucket in order, else the ``n`` with the largest ``ranking`` sum."""
    if dimension in TIME_GRAINS:
        return sorted(value for value in frame[dimension].unique().to_list() if value is not None)
    totals = (
        frame.group_by(dimension, maintain_order=True)
        .agg(pl.col(ranking).fill_null(0).abs().sum().alias("_total"), pl.len().alias("_rows"))
        .sort("_total", "_rows", descending=True, maintain_order=True)
    )
    return totals[dimension].head(n).to_list()


def _labels(values: Sequence[Any], dimension: str, names: Mapping[str, str], lang: str) -> list[Any]:
    """Axis labels: dates stay dates on a time axis; codes become names; a missing value says so."""
    if dimension in TIME_GRAINS:
        return list(values)
    return [t("value_missing", lang) if value is None else names.get(str(value), str(value)) for value in values]


def _text_labels(values: Sequence[Any], dimension: str, names: Mapping[str, Mapping[str, str]], lang: str) -> list[str]:
    """Labels as text (a heatmap's category axes): dates as ``YYYY-MM-DD``."""
    if dimension in TIME_GRAINS:
        return [f"{value:%Y-%m-%d}" for value in values]
    return [str(label) for label in _labels(values, dimension, names.get(dimension, {}), lang)]


def _lookup(frame: pl.DataFrame, keys: Sequence[str], metric: str) -> dict[tuple[Any, ...], float | None]:
    return {tuple(row[:-1]): row[-1] for row in frame.select(*keys, metric).iter_rows()}


def workbench_figure(
    frame: pl.DataFrame,
    *,
    chart: str,
    dimensions: Sequence[str],
    metrics: Sequence[str],
    names: Mapping[str, Mapping[str, str]],
    lang: str,
    top_n: int = WORKBENCH_TOP_N,
    series_n: int = WORKBENCH_SERIES,
) -> go.Figure:
    """The workbench chart of a result with one or two dimensions (request names: grains, not ``time``).

    ``line`` / ``bar`` / ``stacked``: one panel per metric (units differ) sharing the first dimension's
    axis, the second dimension's values as coloured series (legend). ``heatmap``: the first metric
    over first × second dimension. Category axes show the ``top_n`` values with the largest totals of
    the first metric; series the ``series_n`` largest.
    """
    if chart == "heatmap":
        return _workbench_heatmap(frame, dimensions, metrics[0], names, lang, top_n)
    first = dimensions[0]
    second = dimensions[1] if len(dimensions) > 1 else None
    xs = _axis_values(frame, first, metrics[0], top_n)
    x_labels = _labels(xs, first, names.get(first, {}), lang)
    series = _axis_values(frame, second, metrics[0], series_n) if second else [None]
    series_labels = _labels(series, second, names.get(second, {}), lang) if second else [None]
    if second in TIME_GRAINS:
        series_labels = [f"{value:%Y-%m-%d}" for value in series]
    fig = make_subplots(
        rows=len(metrics),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1 if len(metrics) > 1 else 0.0,
        subplot_titles=[metric_label(name, lang) for name in metrics],
    )
    keys = [first, second] if second else [first]
    for row, metric in enumerate(metrics, start=1):
        unit = _unit(metric)
        values = _lookup(frame, keys, metric)
        for index, (value, label) in enumerate(zip(series, series_labels, strict=True)):
            ys = [values.get((x, value) if second else (x,)) for x in xs]
            colour = theme.PALETTE[index % len(theme.PALETTE)] if second else theme.PALETTE[(row - 1) % 7]
            texts = _texts(ys, unit, lang)
            common: dict[str, Any] = {
                "x": x_labels,
                "y": _display(ys, unit),
                "name": label if second else metric_label(metric, lang),
                "legendgroup": str(label),
                "showlegend": bool(second) and row == 1,
                "customdata": texts,
                "hovertemplate": ("%{x|%Y-%m-%d}" if first in TIME_GRAINS else "%{x}")
                + (f" · {label}" if second else "")
                + ": %{customdata}<extra></extra>",
            }
            trace: go.Scatter | go.Bar
            if chart == "line":
                trace = go.Scatter(**common, mode="lines+markers", line={"color": colour, "width": 2.5})
            else:
                # Only counts add up: rates, scores and hours of the series stand side by side, never stacked.
                group = "stack" if chart == "stacked" and unit is Unit.COUNT else str(index)
                trace = go.Bar(**common, marker={"color": colour}, offsetgroup=group)
            fig.add_trace(trace, row=row, col=1)
        fig.update_yaxes(ticksuffix=_axis_suffix(unit), row=row, col=1)
    theme.base_layout(fig, height=max(360, 300 * len(metrics) + (40 if second else 0)))
    fig.update_layout(
        barmode="stack" if chart == "stacked" else "group",
        showlegend=bool(second),
        margin={"t": 70 if second else 40},
        legend={"y": 1.04, "yanchor": "bottom"},
    )
    if first in TIME_GRAINS:
        fig.update_xaxes(tickformat="%Y-%m" if first == "month" else "%m-%d")
    else:
        fig.update_xaxes(
            type="category",
            categoryorder="array",
            categoryarray=x_labels,
            tickangle=-40 if len(x_labels) > 8 else 0,
        )
    fig.update_annotations(font={"family": theme.FONT_FAMILY, "size": 15})
    return fig


def _workbench_heatmap(
    frame: pl.DataFrame,
    dimensions: Sequence[str],
    metric: str,
    names: Mapping[str, Mapping[str, str]],
    lang: str,
    top_n: int,
) -> go.Figure:
    first, second = dimensions[0], dimensions[1]
    unit = _unit(metric)
    xs = _axis_values(frame, first, metric, top_n)
    ys = _axis_values(frame, second, metric, top_n)
    values = _lookup(frame, [first, second], metric)
    z = [[values.get((x, y)) for x in xs] for y in ys]
    x_labels = _text_labels(xs, first, names, lang)
    y_labels = _text_labels(ys, second, names, lang)
    fig = go.Figure(
        go.Heatmap(
            x=x_labels,
            y=y_labels,
            z=[_display(row, unit) for row in z],
            customdata=[_texts(row, unit, lang) for row in z],
            colorscale=_HEAT_SCALE,
            hoverongaps=False,
            hovertemplate="%{x} · %{y}: %{customdata}<extra></extra>",
            colorbar={"title": {"text": metric_label(metric, lang), "side": "right"}, "ticksuffix": _axis_suffix(unit)},
        )
    )
    theme.base_layout(fig, title=metric_label(metric, lang), height=max(380, 120 + 24 * len(y_labels)))
    fig.update_xaxes(type="category", tickangle=-40 if len(x_labels) > 8 else 0, showgrid=False)
    fig.update_yaxes(type="category", autorange="reversed", showgrid=False)
    return fig


def workbench_map(
    collection: Mapping[str, Any],
    frame: pl.DataFrame,
    *,
    code_property: str,
    dimension: str,
    metric: str,
    names: Mapping[str, str],
    lang: str,
    width: int = 1100,
    height: int = 620,
) -> go.Figure:
    """A light choropleth of one metric over districts or streets, drawn on plain axes (nothing to fetch).

    Regions are filled ``path`` shapes coloured on a blue scale (grey where the view has no value);
    an invisible marker on each region's centre carries the hover text and the colour bar.
    """
    from dashboard.charts.maps import bounds, fit_view, polygons, svg_path  # the big screen's geometry helpers

    unit = _unit(metric)
    values = {str(code): value for code, value in frame.select(dimension, metric).iter_rows() if code is not None}
    shown = [scaled(float(value), unit) for value in values.values() if value is not None]
    low, high = (min(shown), max(shown)) if shown else (0.0, 1.0)
    spread = (high - low) or 1.0
    x_range, y_range, ratio = fit_view(bounds(collection) or (119.9, 29.9, 120.1, 30.1), width, height)
    shapes: list[dict[str, Any]] = []
    centre_x: list[float] = []
    centre_y: list[float] = []
    centre_value: list[float | None] = []
    centre_text: list[str] = []
    for feature in collection.get("features", []):
        code = str(feature["properties"][code_property])
        parts = polygons(feature.get("geometry") or {})
        if not parts:
            continue
        value = values.get(code)
        if value is None:
            fill = _NO_VALUE_FILL
        else:
            (fill,) = sample_colorscale(_HEAT_SCALE, [(scaled(float(value), unit) - low) / spread])
        shapes.append(
            {
                "type": "path",
                "path": svg_path(parts),
                "xref": "x",
                "yref": "y",
                "fillcolor": fill,
                "line": {"color": "white", "width": 1},
                "layer": "below",
            }
        )
        outer = max(parts, key=len)[0]
        centre_x.append(sum(p[0] for p in outer) / len(outer))
        centre_y.append(sum(p[1] for p in outer) / len(outer))
        centre_value.append(None if value is None else scaled(float(value), unit))
        centre_text.append(f"{names.get(code, code)}：{format_value(value, unit, lang)}")
    fig = go.Figure(
        go.Scatter(
            x=centre_x,
            y=centre_y,
            mode="markers",
            hovertext=centre_text,
            hovertemplate="%{hovertext}<extra></extra>",
            marker={
                "size": 14,
                "opacity": 0,
                "color": [low if v is None else v for v in centre_value],
                "colorscale": _HEAT_SCALE,
                "cmin": low,
                "cmax": high,
                "showscale": True,
                "colorbar": {"title": {"text": metric_label(metric, lang)}, "ticksuffix": _axis_suffix(unit)},
            },
        )
    )
    axis = {"visible": False, "fixedrange": True, "showgrid": False, "zeroline": False}
    theme.base_layout(fig, title=f"{metric_label(metric, lang)} · {t(f'dim_{dimension}', lang)}", height=height)
    fig.update_layout(
        xaxis={**axis, "range": list(x_range)},
        yaxis={**axis, "range": list(y_range), "scaleanchor": "x", "scaleratio": ratio},
        shapes=shapes,
        showlegend=False,
        dragmode=False,
    )
    return fig
