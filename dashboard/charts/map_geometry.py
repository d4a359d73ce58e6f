"""The map's geometry, pure and cached: the view that fits a city, the SVG outline of a region and the
lattice of hit points inside it (see ``dashboard.charts.maps`` for why a map needs them).

Geometry never changes between two renders of a map (only colours and hover texts do), so a
region's outline and lattice are computed once per view and kept (``region_geometry``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

Ring = list[tuple[float, float]]
FrozenParts = tuple[tuple[tuple[tuple[float, float], ...], ...], ...]


def fit_view(
    box: tuple[float, float, float, float], width: int, height: int, padding: float = 0.04
) -> tuple[tuple[float, float], tuple[float, float], float]:
    """(x range, y range, y scale ratio) that show ``box`` undistorted in a ``width`` × ``height`` map.

    One degree of latitude is 1 / cos(latitude) times longer on the ground than one of longitude;
    the ratio is what Plotly's ``yaxis.scaleratio`` (anchored to x) needs.
    """
    west, south, east, north = box
    ratio = 1.0 / math.cos(math.radians((south + north) / 2))
    lon_span, lat_span = max(east - west, 1e-4), max(north - south, 1e-4)
    pixels = min(width * (1 - 2 * padding) / lon_span, height * (1 - 2 * padding) / (lat_span * ratio))
    half_x, half_y = width / pixels / 2, height / (pixels * ratio) / 2
    cx, cy = (west + east) / 2, (south + north) / 2
    return (cx - half_x, cx + half_x), (cy - half_y, cy + half_y), ratio


def inside_ring(xs: np.ndarray, ys: np.ndarray, ring: Ring) -> np.ndarray:
    """Even-odd test of points (xs, ys) against one ring."""
    inside = np.zeros(xs.shape, dtype=bool)
    x1, y1 = ring[-1]
    for x2, y2 in ring:
        if y1 != y2:
            crosses = (y1 > ys) != (y2 > ys)
            at = x1 + (ys - y1) * (x2 - x1) / (y2 - y1)
            inside ^= crosses & (xs < at)
        x1, y1 = x2, y2
    return inside


def hit_points(parts: Sequence[Sequence[Ring]], step_x: float, step_y: float, centre: tuple[float, float]) -> Ring:
    """Lattice points (``step_x`` × ``step_y`` apart, on a city-wide lattice) inside the polygons
    ``parts`` (not in their holes); the region's ``centre`` when none falls inside (a region smaller
    than the lattice)."""
    found: list[tuple[float, float]] = []
    for rings in parts:
        outer_x, outer_y = [p[0] for p in rings[0]], [p[1] for p in rings[0]]
        cols = np.arange(math.ceil(min(outer_x) / step_x), math.floor(max(outer_x) / step_x) + 1) * step_x
        rows = np.arange(math.ceil(min(outer_y) / step_y), math.floor(max(outer_y) / step_y) + 1) * step_y
        if not len(cols) or not len(rows):
            continue
        grid_x, grid_y = np.meshgrid(cols, rows)
        xs, ys = grid_x.ravel(), grid_y.ravel()
        keep = np.zeros(xs.shape, dtype=bool)
        for ring in rings:  # even-odd over all rings: a hole flips its points back out
            keep ^= inside_ring(xs, ys, ring)
        found.extend(zip(xs[keep].tolist(), ys[keep].tolist(), strict=True))
    return found or [centre]


@functools.lru_cache(maxsize=8192)
def _outline_and_lattice(
    parts: FrozenParts, step_x: float, step_y: float, centre: tuple[float, float]
) -> tuple[str, Ring]:
    """A region's SVG path and hit lattice, computed once per geometry and view: only the colours and
    the hover text change between two renders of a map (a filter, a new day), never the shapes, and
    the lattice test is most of a map's build time (hundreds of ms for a district's streets)."""
    rings = [[list(ring) for ring in part] for part in parts]
    return svg_path(rings), hit_points(rings, step_x, step_y, centre)


def region_geometry(
    parts: Sequence[Sequence[Ring]], step_x: float, step_y: float, centre: tuple[float, float]
) -> tuple[str, Ring]:
    """``svg_path(parts)`` and ``hit_points(parts, …)``, cached on the geometry's coordinates."""
    frozen = tuple(tuple(tuple((float(x), float(y)) for x, y in ring) for ring in part) for part in parts)
    return _outline_and_lattice(frozen, step_x, step_y, centre)


def svg_path(parts: Sequence[Sequence[Ring]]) -> str:
    """An SVG path (in data coordinates) of every ring, for a Plotly ``path`` shape with the even-odd fill rule."""
    return "".join("M" + "L".join(f"{x:.5f},{y:.5f}" for x, y in ring) + "Z" for rings in parts for ring in rings)
