"""The big screen's city map: complaints as a choropleth, grid events as a density glow. No Streamlit.

Drawn on plain Plotly cartesian axes (no MapLibre, no tiles, no glyphs: nothing for the browser to
fetch): x is longitude, y latitude, the y axis scaled by 1 / cos(latitude) so the map is not
stretched, both axes hidden and fixed. Three layers, bottom to top:

* each region is a filled ``path`` shape (``layer="below"``) coloured by its complaint count;
* the grid-event density is a ``Heatmap`` of the grid counts smoothed with a Gaussian, transparent
  where there is nothing (Plotly draws heatmaps under every scatter trace but over shapes
  placed below, which is why the regions are shapes and not filled ``Scatter`` traces);
* invisible hit points: one ``Scatter`` trace of points on a lattice a few pixels apart inside each
  region, ``customdata`` = the region's code. They carry the hover text, the colour bar and the
  click: ``st.plotly_chart(on_select=..., selection_mode="points")`` reports the point nearest the
  click, so a click anywhere inside a region reports its code (``selected_code``).

Why not the MapLibre traces (``choropleth_map``, ``density_map``): inside ``st.plotly_chart`` they
never report a click or selection, so the map could not be clicked into. A filled area is not
selectable in Plotly either (only points are), hence the lattice.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import polars as pl
from plotly.colors import sample_colorscale, unlabel_rgb

from dashboard.charts import theme
from dashboard.charts.map_geometry import Ring, fit_view, region_geometry
from dashboard.core.formatting import format_value
from dashboard.screen import bigscreen
from data_access.semantic.metric_defs import Unit

# Complaints: cool blues rising to cyan; grid events: a warm glow on top, transparent at zero.
AREA_SCALE: list[list[Any]] = [[0.0, "#0B2B55"], [0.35, "#1557A0"], [0.7, "#2A8FD8"], [1.0, "#6FD6FF"]]
AREA_OPACITY = 0.88
OUTLINE = "rgba(120, 210, 255, 0.85)"
DENSITY_SCALE: list[list[Any]] = [
    [0.0, "rgba(255,176,32,0)"],
    [0.15, "rgba(255,176,32,0.35)"],
    [0.5, "rgba(255,120,40,0.7)"],
    [1.0, "rgba(255,60,60,0.95)"],
]


@dataclass(frozen=True)
class MapStyle:
    """Colours of one map look: the wall screen's dark one, or the light one of the topic pages."""

    area_scale: list[list[Any]]
    outline: str
    text: str
    muted: str
    legend_background: str
    highlight: str  # outline of the region the viewer drilled to


WALL = MapStyle(AREA_SCALE, OUTLINE, bigscreen.TEXT, bigscreen.MUTED, "rgba(4,13,30,0.6)", "#FFD166")
LIGHT = MapStyle(
    [[0.0, "#EAF2FB"], [0.35, "#9CC3EA"], [0.7, "#3C86CF"], [1.0, "#0B4A8B"]],
    "rgba(255,255,255,0.95)",
    theme.TEXT,
    "#4B5563",
    "rgba(255,255,255,0.8)",
    "#E08E0B",
)
HIT_SPACING_PX = 9  # hit points this far apart (design pixels): a click lands at most ~6 px from one
DENSITY_CELL_PX = 5  # the density glow's raster cell
GLOW_SATURATION = 2.0  # the glow reaches its top colour where the summed kernels reach twice the largest count
EMPTY_BOX = (119.9, 29.9, 120.1, 30.1)  # an empty map still needs a view


@functools.lru_cache(maxsize=16)
def _read(path: str) -> dict[str, Any]:
    with Path(path).open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def load_features(path: Path, code_property: str, codes: Iterable[str] | None = None) -> dict[str, Any]:
    """The FeatureCollection at ``path``, reduced to ``codes`` when given (read once per process)."""
    collection = _read(str(path))
    if codes is None:
        return collection
    wanted = set(codes)
    features = [f for f in collection["features"] if str(f["properties"].get(code_property)) in wanted]
    return {"type": "FeatureCollection", "features": features}


def polygons(geometry: Mapping[str, Any]) -> list[list[Ring]]:
    """The polygons of a Polygon or MultiPolygon geometry, each a list of rings (outer ring first, then holes)."""
    kind, coordinates = geometry.get("type"), geometry.get("coordinates") or []
    parts = [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else []
    return [[[(float(p[0]), float(p[1])) for p in ring] for ring in part if ring] for part in parts if part and part[0]]


def bounds(collection: Mapping[str, Any]) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of every feature, or None for an empty collection."""
    points = [p for f in collection.get("features", []) for part in polygons(f.get("geometry") or {}) for p in part[0]]
    if not points:
        return None
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    return min(lons), min(lats), max(lons), max(lats)


def _centre(feature: Mapping[str, Any], parts: Sequence[Sequence[Ring]]) -> tuple[float, float]:
    centre = (feature.get("properties") or {}).get("center")
    if isinstance(centre, list | tuple) and len(centre) == 2:
        return float(centre[0]), float(centre[1])
    largest = max((rings[0] for rings in parts), key=len)
    return sum(p[0] for p in largest) / len(largest), sum(p[1] for p in largest) / len(largest)


def density_grid(
    lons: Sequence[float],
    lats: Sequence[float],
    weights: Sequence[float],
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    shape: tuple[int, int],
    sigma: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x centres, y centres, z): ``weights`` binned on a ``shape`` (rows, columns) raster over the
    view and smoothed with a Gaussian of ``sigma`` (rows, columns) cells (peak 1 at its centre), divided
    by ``GLOW_SATURATION`` × the largest weight and clipped at 1: like MapLibre's density layer, crowds
    of points reach the top colour, a lone one stays a faint glow."""
    rows, cols = shape
    x_edges = np.linspace(x_range[0], x_range[1], cols + 1)
    y_edges = np.linspace(y_range[0], y_range[1], rows + 1)
    z, _, _ = np.histogram2d(lats, lons, bins=(y_edges, x_edges), weights=weights)
    # Separable Gaussian blur: z ← K_rows · z · K_colsᵀ, K[i, j] = exp(-½ ((i - j) / σ)²).
    blur = [
        np.exp(-0.5 * ((np.arange(n)[:, None] - np.arange(n)[None, :]) / max(spread, 1e-6)) ** 2)
        for n, spread in ((rows, sigma[0]), (cols, sigma[1]))
    ]
    z = blur[0] @ z @ blur[1].T
    top = max(weights, default=0.0) * GLOW_SATURATION
    if top > 0:
        z = np.minimum(z / top, 1.0)
    return (x_edges[:-1] + x_edges[1:]) / 2, (y_edges[:-1] + y_edges[1:]) / 2, z


def _fill(value: float, top: float, scale: list[list[Any]] = AREA_SCALE) -> str:
    (colour,) = sample_colorscale(scale, [min(max(value / top, 0.0), 1.0)] if top > 0 else [0.0])
    r, g, b = unlabel_rgb(colour)
    return f"rgba({round(r)},{round(g)},{round(b)},{AREA_OPACITY})"


@dataclass
class _Regions:
    """The region layer of a map: one filled outline per region, and the invisible hit points that make
    a region clickable and hoverable anywhere inside it (the last trace)."""

    shapes: list[dict[str, Any]] = field(default_factory=list)
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def add(self, code: str, shape: dict[str, Any], lattice: Ring, value: float, text: str) -> None:
        self.shapes.append(shape)
        self.x.extend(p[0] for p in lattice)
        self.y.extend(p[1] for p in lattice)
        self.code.extend([code] * len(lattice))
        self.value.extend([value] * len(lattice))
        self.text.extend([text] * len(lattice))


def _region_shape(code: str, path: str, fill: str, style: MapStyle, highlight: str | None) -> dict[str, Any]:
    outline = {"color": style.highlight, "width": 3} if code == highlight else {"color": style.outline, "width": 1.2}
    return {
        "type": "path",
        "path": path,
        "xref": "x",
        "yref": "y",
        "fillcolor": fill,
        "fillrule": "evenodd",
        "line": outline,
        "layer": "below",
        "name": code,
    }


View = tuple[tuple[float, float], tuple[float, float]]  # (x range, y range) of the map's axes


def _density_trace(
    points: pl.DataFrame, point_metric: str, view: View, size: tuple[int, int], radius: int, label: str
) -> go.Heatmap:
    """The glow of ``points``: a Gaussian density of about ``radius`` pixels on a coarse grid."""
    (x_range, y_range), (width, height) = view, size
    cols, rows = max(width // DENSITY_CELL_PX, 2), max(height // DENSITY_CELL_PX, 2)
    spread = radius / 3 / DENSITY_CELL_PX
    gx, gy, gz = density_grid(
        points["lon"].to_list(),
        points["lat"].to_list(),
        points[point_metric].cast(pl.Float64).to_list(),
        x_range,
        y_range,
        (rows, cols),
        (spread, spread),
    )
    return go.Heatmap(
        x=gx,
        y=gy,
        z=np.round(gz * 255).astype(np.uint8),  # 256 levels are plenty for a colour; 1 byte a cell
        zmin=0,
        zmax=255,
        zsmooth="best",
        colorscale=DENSITY_SCALE,
        showscale=False,
        hoverinfo="skip",
        name=label,
    )


def _hit_trace(regions: _Regions, top: float, style: MapStyle, area_label: str) -> go.Scatter:
    """The regions' invisible hit points, carrying the colour bar of the area values."""
    invisible = {"marker": {"opacity": 0}}
    colorbar = {
        "title": {"text": area_label, "side": "top", "font": {"size": 15, "color": style.muted}},
        "orientation": "h",
        "x": 0.02,
        "xanchor": "left",
        "y": 0.02,
        "yanchor": "bottom",
        "len": 0.32,
        "thickness": 10,
        "tickfont": {"size": 13, "color": style.muted},
        "outlinewidth": 0,
        "bgcolor": style.legend_background,
    }
    return go.Scatter(
        x=np.array(regions.x, dtype=np.float32),  # ~1 m at city longitudes; half the bytes of float64
        y=np.array(regions.y, dtype=np.float32),
        mode="markers",
        customdata=regions.code,
        hovertext=regions.text,
        hovertemplate="%{hovertext}<extra></extra>",
        marker={
            "size": HIT_SPACING_PX + 3,
            "opacity": 0,
            "color": regions.value,
            "colorscale": style.area_scale,
            "cmin": 0,
            "cmax": top or 1,
            "showscale": True,
            "colorbar": colorbar,
        },
        selected=invisible,
        unselected=invisible,
        name=area_label,
    )


def _map_layout(
    fig: go.Figure, view: View, ratio: float, height: int, shapes: list[dict[str, Any]], style: MapStyle
) -> None:
    x_range, y_range = view
    axis = {"visible": False, "fixedrange": True, "showgrid": False, "zeroline": False}
    fig.update_layout(
        xaxis={**axis, "range": list(x_range)},
        yaxis={**axis, "range": list(y_range), "scaleanchor": "x", "scaleratio": ratio},
        height=height,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"family": theme.FONT_FAMILY, "color": style.text},
        hoverlabel={"font": {"family": theme.FONT_FAMILY, "size": 16}},
        shapes=shapes,
        showlegend=False,
        clickmode="event+select",
        hovermode="closest",
        hoverdistance=HIT_SPACING_PX + 4,
        dragmode=False,
    )


def map_figure(
    collection: Mapping[str, Any],
    areas: pl.DataFrame,
    points: pl.DataFrame,
    *,
    code_property: str,
    area_metric: str,
    point_metric: str,
    names: Mapping[str, str],
    area_label: str,
    point_label: str,
    lang: str,
    width: int,
    height: int,
    radius: int = 14,
    style: MapStyle = WALL,
    highlight: str | None = None,
) -> go.Figure:
    """Choropleth of ``areas`` (code column first, then ``area_metric``) over the regions in
    ``collection``, a density glow of ``points`` (columns lon, lat, ``point_metric``) with a
    Gaussian of about ``radius`` pixels, and the regions' hit points (the last trace). ``highlight``
    outlines one region (the one a topic page drilled down to)."""
    values = dict(zip(areas[areas.columns[0]].cast(pl.String).to_list(), areas[area_metric].to_list(), strict=True))
    features = [(str(f["properties"][code_property]), f) for f in collection.get("features", [])]
    top = max((float(values.get(code) or 0) for code, _ in features), default=0.0)
    x_range, y_range, ratio = fit_view(bounds(collection) or EMPTY_BOX, width, height)
    step_x = (x_range[1] - x_range[0]) / width * HIT_SPACING_PX
    step_y = (y_range[1] - y_range[0]) / height * HIT_SPACING_PX

    regions = _Regions()
    for code, feature in features:
        parts = polygons(feature.get("geometry") or {})
        if not parts:
            continue
        value = float(values.get(code) or 0)
        path, lattice = region_geometry(parts, step_x, step_y, _centre(feature, parts))
        shape = _region_shape(code, path, _fill(value, top, style.area_scale), style, highlight)
        text = f"{names.get(code, code)}<br>{area_label}：{format_value(values.get(code) or 0, Unit.COUNT, lang)}"
        regions.add(code, shape, lattice, value, text)

    fig = go.Figure()
    if points.height:
        fig.add_trace(_density_trace(points, point_metric, (x_range, y_range), (width, height), radius, point_label))
    fig.add_trace(_hit_trace(regions, top, style, area_label))
    _map_layout(fig, (x_range, y_range), ratio, height, regions.shapes, style)
    return fig


def selected_code(selection: Any) -> str | None:
    """The region code of a click on the map (``st.plotly_chart`` selection state), if any."""
    try:
        points = selection["selection"]["points"]
    except (KeyError, TypeError):
        return None
    for point in points or []:
        for key in ("customdata", "location"):
            value = point.get(key) if isinstance(point, Mapping) else None
            if isinstance(value, list):
                value = value[0] if value else None
            if value:
                return str(value)
    return None
