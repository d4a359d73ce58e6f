"""The analyst workbench's charts: one or two dimensions as lines, bars, stacked bars, a heatmap or a map.

Built on the shared figure helpers of ``dashboard.charts.figures`` (units, scaling, hover texts), so a
number reads the same here as on the cockpit and the topic pages. No Streamlit here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go
import polars as pl
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from dashboard.charts import theme
from dashboard.charts.figures import axis_suffix, display_values, metric_unit, value_texts
from dashboard.charts.map_geometry import Ring, fit_view, svg_path
from dashboard.charts.maps import bounds, polygons
from dashboard.core.formatting import format_value, scaled
from dashboard.core.i18n import metric_label, t
from data_access.semantic.metric_defs import Unit
from data_access.semantic.query import TIME_GRAINS

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
        unit = metric_unit(metric)
        values = _lookup(frame, keys, metric)
        for index, (value, label) in enumerate(zip(series, series_labels, strict=True)):
            ys = [values.get((x, value) if second else (x,)) for x in xs]
            colour = theme.PALETTE[index % len(theme.PALETTE)] if second else theme.PALETTE[(row - 1) % 7]
            texts = value_texts(ys, unit, lang)
            common: dict[str, Any] = {
                "x": x_labels,
                "y": display_values(ys, unit),
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
        fig.update_yaxes(ticksuffix=axis_suffix(unit), row=row, col=1)
    _lay_out(fig, chart=chart, first=first, second=second, x_labels=x_labels, panels=len(metrics))
    fig.update_annotations(font={"family": theme.FONT_FAMILY, "size": 15})
    return fig


def _lay_out(fig: go.Figure, *, chart: str, first: str, second: str | None, x_labels: list[Any], panels: int) -> None:
    """Height per panel, bar mode, the legend (only for series of a second dimension) and the shared x axis."""
    theme.base_layout(fig, height=max(360, 300 * panels + (40 if second else 0)))
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


def _workbench_heatmap(
    frame: pl.DataFrame,
    dimensions: Sequence[str],
    metric: str,
    names: Mapping[str, Mapping[str, str]],
    lang: str,
    top_n: int,
) -> go.Figure:
    first, second = dimensions[0], dimensions[1]
    unit = metric_unit(metric)
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
            z=[display_values(row, unit) for row in z],
            customdata=[value_texts(row, unit, lang) for row in z],
            colorscale=_HEAT_SCALE,
            hoverongaps=False,
            hovertemplate="%{x} · %{y}: %{customdata}<extra></extra>",
            colorbar={"title": {"text": metric_label(metric, lang), "side": "right"}, "ticksuffix": axis_suffix(unit)},
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
    unit = metric_unit(metric)
    values = {str(code): value for code, value in frame.select(dimension, metric).iter_rows() if code is not None}
    shown = [scaled(float(value), unit) for value in values.values() if value is not None]
    low, high = (min(shown), max(shown)) if shown else (0.0, 1.0)
    x_range, y_range, ratio = fit_view(bounds(collection) or (119.9, 29.9, 120.1, 30.1), width, height)
    regions = _RegionLayer()
    for feature in collection.get("features", []):
        code = str(feature["properties"][code_property])
        parts = polygons(feature.get("geometry") or {})
        if parts:
            regions.add(parts, values.get(code), names.get(code, code), unit, lang, (low, high))
    shapes, centre_x, centre_y = regions.shapes, regions.centre_x, regions.centre_y
    centre_value, centre_text = regions.centre_value, regions.centre_text
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
                "colorbar": {"title": {"text": metric_label(metric, lang)}, "ticksuffix": axis_suffix(unit)},
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


@dataclass
class _RegionLayer:
    """The map's regions as filled ``path`` shapes, and the centre points that carry their hover text."""

    shapes: list[dict[str, Any]] = field(default_factory=list)
    centre_x: list[float] = field(default_factory=list)
    centre_y: list[float] = field(default_factory=list)
    centre_value: list[float | None] = field(default_factory=list)
    centre_text: list[str] = field(default_factory=list)

    def add(
        self,
        parts: list[list[Ring]],
        value: Any,
        name: str,
        unit: Unit,
        lang: str,
        scale: tuple[float, float],
    ) -> None:
        """One region: filled on the blue scale between ``scale`` (low, high), grey without a value."""
        low, high = scale
        if value is None:
            fill = _NO_VALUE_FILL
        else:
            (fill,) = sample_colorscale(_HEAT_SCALE, [(scaled(float(value), unit) - low) / ((high - low) or 1.0)])
        self.shapes.append(
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
        self.centre_x.append(sum(p[0] for p in outer) / len(outer))
        self.centre_y.append(sum(p[1] for p in outer) / len(outer))
        self.centre_value.append(None if value is None else scaled(float(value), unit))
        self.centre_text.append(f"{name}：{format_value(value, unit, lang)}")
