"""The demo city's geography: regions from the city config's GeoJSON layers, populations, points inside grids.

Every region gets a population (districts from the census, the levels below by a random split of their
parent's), and every grid a pool of random points strictly inside it, from which records get coordinates.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from data_access.config.city import CityConfig
from data_access.contract import schema
from data_access.demo.reference import (
    DISTRICT_POPULATION,
    POINTS_PER_GRID,
    BoolArray,
    DemoProblem,
    FloatArray,
    IntArray,
)


@dataclasses.dataclass(frozen=True)
class Level:
    """One region level as parallel arrays, in file order."""

    codes: list[str]
    names: list[str]
    parent: IntArray  # index into the level above (-1 for districts)
    center: FloatArray  # (n, 2) lon, lat
    population: IntArray


@dataclasses.dataclass(frozen=True)
class Geography:
    """The four levels plus, for every grid, its ancestors and a pool of points inside it."""

    district: Level
    street: Level
    community: Level
    grid: Level
    grid_street: IntArray
    grid_district: IntArray
    street_district: IntArray
    points: FloatArray  # (n_grids, POINTS_PER_GRID, 2)


def _read_layer(path: Path, code_property: str, name_property: str) -> list[dict[str, Any]]:
    """Features of one GeoJSON layer as plain dicts with code, name, parent, center and rings."""
    with path.open(encoding="utf-8") as handle:
        collection = json.load(handle)
    features = []
    for feature in collection["features"]:
        props = feature["properties"]
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        rings = [np.asarray(ring, dtype=np.float64) for polygon in polygons for ring in polygon]
        code = str(props[code_property])
        parent = props.get("parent_code")
        features.append(
            {
                "code": code,
                "name": str(props[name_property]),
                "parent": str(parent) if parent else code[:-3],
                "center": props.get("center"),
                "rings": rings,
            }
        )
    return features


def points_in_rings(xs: FloatArray, ys: FloatArray, rings: Sequence[FloatArray]) -> BoolArray:
    """Even-odd point-in-polygon test for many points against all rings of one (multi)polygon."""
    inside = np.zeros(len(xs), dtype=bool)
    for ring in rings:
        x1, y1, x2, y2 = ring[:-1, 0], ring[:-1, 1], ring[1:, 0], ring[1:, 1]
        spans = (y1[None, :] > ys[:, None]) != (y2[None, :] > ys[:, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            cross_x = x1[None, :] + (ys[:, None] - y1[None, :]) * (x2 - x1)[None, :] / (y2 - y1)[None, :]
        crossings = np.count_nonzero(spans & (xs[:, None] < cross_x), axis=1)
        inside ^= crossings % 2 == 1
    return inside


def _grid_point_pool(rings: Sequence[FloatArray], rng: np.random.Generator) -> FloatArray:
    """POINTS_PER_GRID random points (6 decimals) strictly inside one grid, by rejection sampling."""
    stacked = np.vstack(rings)
    low, high = stacked.min(axis=0), stacked.max(axis=0)
    found: list[FloatArray] = []
    total = 0
    while total < POINTS_PER_GRID:
        candidates = np.round(rng.uniform(low, high, size=(POINTS_PER_GRID * 2, 2)), 6)
        keep = candidates[points_in_rings(candidates[:, 0], candidates[:, 1], rings)]
        found.append(keep)
        total += len(keep)
    return np.vstack(found)[:POINTS_PER_GRID]


def _split_population(total: IntArray, parent: IntArray, rng: np.random.Generator) -> IntArray:
    """Split each parent's population over its children by random (Dirichlet-like) weights."""
    weights = rng.gamma(3.0, 1.0, size=len(parent))
    sums = np.bincount(parent, weights=weights, minlength=len(total))
    exact = total[parent] * weights / sums[parent]
    result = np.floor(exact).astype(np.int64)
    shortfall = total - np.bincount(parent, weights=result, minlength=len(total)).astype(np.int64)
    # Hand the rounding remainder to the children with the largest fractional parts.
    order = np.lexsort((-(exact - result), parent))
    rank = np.empty(len(parent), dtype=np.int64)
    starts = np.searchsorted(parent[order], np.arange(len(total)))
    rank[order] = np.arange(len(parent)) - starts[parent[order]]
    result += (rank < shortfall[parent]).astype(np.int64)
    return result


def load_geography(city: CityConfig, rng: np.random.Generator) -> Geography:
    """Read the four layers, link each region to its parent, and give every region a population."""
    missing = [level for level in schema.REGION_LEVELS if level not in city.geo]
    if missing:
        raise DemoProblem(f"The city config {city.source} has no [geo.{missing[0]}] layer; the demo needs all four.")
    raw = {
        level: _read_layer(city.geo[level].file, city.geo[level].code_property, city.geo[level].name_property)
        for level in schema.REGION_LEVELS
    }
    levels: dict[str, Level] = {}
    previous: dict[str, int] = {}
    parent_population = np.zeros(0, dtype=np.int64)
    for level in schema.REGION_LEVELS:
        features = raw[level]
        if level == "district":
            parent = np.full(len(features), -1, dtype=np.int64)
            population = np.array(
                [DISTRICT_POPULATION.get(f["code"], int(rng.integers(300_000, 1_500_000))) for f in features]
            )
        else:
            unknown = [f["code"] for f in features if f["parent"] not in previous]
            if unknown:
                raise DemoProblem(f"{level} {unknown[0]} has no parent region in the layer above")
            parent = np.array([previous[f["parent"]] for f in features], dtype=np.int64)
            population = _split_population(parent_population, parent, rng)
        center = np.array(
            [f["center"] if f["center"] else np.vstack(f["rings"]).mean(axis=0) for f in features], dtype=np.float64
        )
        levels[level] = Level([f["code"] for f in features], [f["name"] for f in features], parent, center, population)
        previous = {f["code"]: i for i, f in enumerate(features)}
        parent_population = population
    pools = np.stack([_grid_point_pool(f["rings"], rng) for f in raw["grid"]])
    grid_street = levels["community"].parent[levels["grid"].parent]
    return Geography(
        district=levels["district"],
        street=levels["street"],
        community=levels["community"],
        grid=levels["grid"],
        grid_street=grid_street,
        grid_district=levels["street"].parent[grid_street],
        street_district=levels["street"].parent,
        points=pools,
    )
