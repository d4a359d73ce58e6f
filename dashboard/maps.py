"""The big screen's city map: complaints as a choropleth, grid events as a density layer. No Streamlit.

Drawn with Plotly's MapLibre traces (``choropleth_map``, ``density_map``) on a style that has
only a background layer: no tiles, no sprite, no glyphs, so the browser asks no other server for
anything (Plotly's own ``white-bg`` style names a remote glyph server; this one names none, and
no trace draws map text). The GeoJSON of the shown regions is passed inline.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import polars as pl

from dashboard import bigscreen, theme
from dashboard.formatting import format_value
from data_access.metric_defs import Unit

# A MapLibre style with nothing to fetch: one background layer in the screen's colour.
OFFLINE_STYLE: dict[str, Any] = {
    "version": 8,
    "sources": {},
    "layers": [{"id": "background", "type": "background", "paint": {"background-color": "rgba(0,0,0,0)"}}],
}
# Complaints: cool blues rising to cyan; grid events: a warm glow on top, transparent at zero.
AREA_SCALE: list[list[Any]] = [[0.0, "#0B2B55"], [0.35, "#1557A0"], [0.7, "#2A8FD8"], [1.0, "#6FD6FF"]]
DENSITY_SCALE: list[list[Any]] = [
    [0.0, "rgba(255,176,32,0)"],
    [0.15, "rgba(255,176,32,0.35)"],
    [0.5, "rgba(255,120,40,0.7)"],
    [1.0, "rgba(255,60,60,0.95)"],
]


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


def _positions(geometry: Mapping[str, Any]) -> Iterable[tuple[float, float]]:
    def walk(node: Any) -> Iterable[tuple[float, float]]:
        if node and isinstance(node[0], int | float):
            yield float(node[0]), float(node[1])
        else:
            for child in node:
                yield from walk(child)

    return walk(geometry.get("coordinates", []))


def bounds(collection: Mapping[str, Any]) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of every feature, or None for an empty collection."""
    lons: list[float] = []
    lats: list[float] = []
    for feature in collection.get("features", []):
        for lon, lat in _positions(feature.get("geometry") or {}):
            lons.append(lon)
            lats.append(lat)
    if not lons:
        return None
    return min(lons), min(lats), max(lons), max(lats)


def _mercator_y(lat: float) -> float:
    lat = max(min(lat, 85.0), -85.0)
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def fit_view(
    box: tuple[float, float, float, float], width: int, height: int, padding: float = 0.06
) -> tuple[float, float, float]:
    """(centre lon, centre lat, zoom) that shows ``box`` inside a ``width`` × ``height`` pixel map."""
    west, south, east, north = box
    lon_span = max(east - west, 1e-4)
    y_span = max(_mercator_y(north) - _mercator_y(south), 1e-6)
    usable_w, usable_h = width * (1 - 2 * padding), height * (1 - 2 * padding)
    zoom_x = math.log2(usable_w * 360.0 / (512.0 * lon_span))
    zoom_y = math.log2(usable_h * 2 * math.pi / (512.0 * y_span))
    centre_y = (_mercator_y(north) + _mercator_y(south)) / 2
    centre_lat = math.degrees(2 * math.atan(math.exp(centre_y)) - math.pi / 2)
    return (west + east) / 2, centre_lat, max(min(zoom_x, zoom_y), 1.0)


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
) -> go.Figure:
    """Choropleth of ``areas`` (code column first, then ``area_metric``) over the regions in
    ``collection``, and a density layer of ``points`` (columns lon, lat, ``point_metric``)."""
    shown = [str(f["properties"][code_property]) for f in collection.get("features", [])]
    values = dict(zip(areas[areas.columns[0]].cast(pl.String).to_list(), areas[area_metric].to_list(), strict=True))
    z = [float(values.get(code) or 0) for code in shown]
    texts = [
        f"{names.get(code, code)}<br>{area_label}：{format_value(values.get(code) or 0, Unit.COUNT, lang)}"
        for code in shown
    ]
    fig = go.Figure()
    fig.add_trace(
        go.Choroplethmap(
            geojson=dict(collection),
            featureidkey=f"properties.{code_property}",
            locations=shown,
            z=z,
            customdata=shown,
            text=texts,
            hovertemplate="%{text}<extra></extra>",
            colorscale=AREA_SCALE,
            zmin=0,
            zmax=max(z) if z and max(z) > 0 else 1,
            marker={"line": {"color": "rgba(120, 210, 255, 0.85)", "width": 1.2}, "opacity": 0.88},
            colorbar={
                "title": {"text": area_label, "side": "top", "font": {"size": 15, "color": bigscreen.MUTED}},
                "orientation": "h",
                "x": 0.02,
                "xanchor": "left",
                "y": 0.02,
                "yanchor": "bottom",
                "len": 0.32,
                "thickness": 10,
                "tickfont": {"size": 13, "color": bigscreen.MUTED},
                "outlinewidth": 0,
                "bgcolor": "rgba(4,13,30,0.6)",
            },
            selected={"marker": {"opacity": 1.0}},
            unselected={"marker": {"opacity": 0.88}},
            name=area_label,
        )
    )
    if points.height:
        counts = points[point_metric].cast(pl.Float64).to_list()
        fig.add_trace(
            go.Densitymap(
                lon=points["lon"].to_list(),
                lat=points["lat"].to_list(),
                z=counts,
                radius=radius,
                colorscale=DENSITY_SCALE,
                zmin=0,
                zmax=max(counts) if counts else 1,
                showscale=False,
                hoverinfo="skip",
                name=point_label,
            )
        )
    box = bounds(collection)
    lon, lat, zoom = fit_view(box, width, height) if box else (120.0, 30.0, 7.0)
    fig.update_layout(
        map={"style": OFFLINE_STYLE, "center": {"lon": lon, "lat": lat}, "zoom": zoom},
        height=height,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        paper_bgcolor="rgba(0,0,0,0)",
        font={"family": theme.FONT_FAMILY, "color": bigscreen.TEXT},
        hoverlabel={"font": {"family": theme.FONT_FAMILY, "size": 16}},
        showlegend=False,
        clickmode="event+select",
        dragmode=False,
    )
    return fig


def selected_code(selection: Any) -> str | None:
    """The region code of a click on the choropleth (``st.plotly_chart`` selection state), if any."""
    try:
        points = selection["selection"]["points"]
    except (KeyError, TypeError):
        return None
    for point in points or []:
        for key in ("location", "customdata"):
            value = point.get(key) if isinstance(point, Mapping) else None
            if isinstance(value, list):
                value = value[0] if value else None
            if value:
                return str(value)
    return None
