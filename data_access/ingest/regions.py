"""A city's regions from its GeoJSON layers: the ``regions`` dimension rows and a point locator.

Each ``[geo.<level>]`` layer of the city file gives one level. A region's code and name come from the
configured properties; its parent is the feature property ``parent_property`` names, or else the
region one level up that contains the child's representative point (a point guaranteed to lie inside
the child's polygon). Locating a record's lat/lon finds the finest level whose polygon contains it and
takes the coarser codes from the hierarchy, so a fact's district, street, ... always nest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from data_access.config.city import CityConfig, GeoLayer
from data_access.contract.schema import REGION_LEVELS

# Records may lie a little outside the outlines (piers, rounding): the bounds check allows this margin.
BOUNDS_MARGIN_DEGREES = 0.01


class RegionProblem(Exception):
    """A GeoJSON layer cannot be read or does not fit the city file (missing property, orphan region)."""


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str
    parent_code: str | None
    center_lon: float
    center_lat: float
    geometry: BaseGeometry = field(repr=False, compare=False)

    def row(self) -> dict[str, Any]:
        """The ``regions`` table row (population unknown)."""
        return {
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "parent_code": self.parent_code,
            "population": None,
            "center_lon": round(self.center_lon, 6),
            "center_lat": round(self.center_lat, 6),
        }


def _read_features(level: str, layer: GeoLayer) -> list[dict[str, Any]]:
    try:
        with layer.file.open(encoding="utf-8") as handle:
            collection = json.load(handle)
    except (OSError, json.JSONDecodeError) as exc:
        raise RegionProblem(f"[geo.{level}] {layer.file}: cannot read GeoJSON: {exc}") from exc
    features = collection.get("features") if isinstance(collection, dict) else None
    if not isinstance(features, list) or not features:
        raise RegionProblem(f"[geo.{level}] {layer.file}: not a GeoJSON FeatureCollection with features")
    return features


def _property(level: str, layer: GeoLayer, feature: dict[str, Any], name: str) -> str:
    value = (feature.get("properties") or {}).get(name)
    if value is None or str(value).strip() == "":
        raise RegionProblem(f"[geo.{level}] {layer.file}: a feature has no property {name!r}")
    return str(value).strip()


def read_level(level: str, layer: GeoLayer, above: list[Region] | None) -> list[Region]:
    """The regions of one layer, linked to the level above (by property or point in polygon)."""
    features = _read_features(level, layer)
    geometries = [shape(feature["geometry"]) for feature in features]
    points = [geometry.representative_point() for geometry in geometries]
    parents: list[str | None] = [None] * len(features)
    if above is not None:
        if layer.parent_property:
            parents = [_property(level, layer, f, layer.parent_property) for f in features]
            known = {region.code for region in above}
            orphans = [p for p in parents if p not in known]
            if orphans:
                raise RegionProblem(f"[geo.{level}] {layer.file}: parent code {orphans[0]!r} is not a region above")
        else:
            tree = shapely.STRtree([region.geometry for region in above])
            child_index, parent_index = tree.query(points, predicate="within")
            found = dict(zip(child_index.tolist(), parent_index.tolist(), strict=True))
            for i in range(len(features)):
                if i not in found:  # fall back to the parent covering most of the child
                    overlaps = [geometries[i].intersection(r.geometry).area for r in above]
                    found[i] = int(np.argmax(overlaps))
                parents[i] = above[found[i]].code
    regions = [
        Region(
            code=_property(level, layer, feature, layer.code_property),
            name=_property(level, layer, feature, layer.name_property),
            level=level,
            parent_code=parent,
            center_lon=point.x,
            center_lat=point.y,
            geometry=geometry,
        )
        for feature, geometry, point, parent in zip(features, geometries, points, parents, strict=True)
    ]
    codes = [region.code for region in regions]
    if len(set(codes)) != len(codes):
        duplicate = next(code for code in codes if codes.count(code) > 1)
        raise RegionProblem(f"[geo.{level}] {layer.file}: region code {duplicate!r} appears twice")
    return regions


@dataclass(frozen=True)
class CityRegions:
    """All regions of a city by level, with the lookups the import needs."""

    levels: dict[str, list[Region]]
    bounds: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat (with margin)
    _trees: dict[str, shapely.STRtree] = field(repr=False, compare=False)
    by_code: dict[str, Region] = field(repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.by_code.update({region.code: region for regions in self.levels.values() for region in regions})

    def rows(self) -> list[dict[str, Any]]:
        return [region.row() for level in self.levels.values() for region in level]

    def ancestors(self, code: str) -> dict[str, str]:
        """Level -> code for the region and every region above it."""
        found: dict[str, str] = {}
        region: Region | None = self.by_code.get(code)
        while region is not None:
            found[region.level] = region.code
            region = self.by_code.get(region.parent_code) if region.parent_code else None
        return found

    def locate(self, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> list[str | None]:
        """Code of the finest region containing each point (None: outside every region or no point)."""
        result = np.full(len(lon), None, dtype=object)
        pending = np.flatnonzero(~(np.isnan(lon) | np.isnan(lat)))
        for level in reversed(list(self.levels)):
            if pending.size == 0:
                break
            points = shapely.points(lon[pending], lat[pending])
            point_index, region_index = self._trees[level].query(points, predicate="intersects")
            codes = np.array([region.code for region in self.levels[level]], dtype=object)
            # A point on a shared border lies in two regions: keep the one whose index is lowest.
            order = np.lexsort((region_index, point_index))
            hits, first = np.unique(point_index[order], return_index=True)
            result[pending[hits]] = codes[region_index[order][first]]
            pending = np.delete(pending, hits)
        return list(result)


def load_regions(city: CityConfig) -> CityRegions:
    """Read every configured layer of a city, top level first."""
    levels: dict[str, list[Region]] = {}
    above: list[Region] | None = None
    for level in REGION_LEVELS:
        layer = city.geo.get(level)
        if layer is None:
            break  # levels must be contiguous from the district down
        above = levels[level] = read_level(level, layer, above)
    extent = shapely.union_all([region.geometry for region in levels["district"]]).bounds
    margin = BOUNDS_MARGIN_DEGREES
    bounds = (extent[0] - margin, extent[1] - margin, extent[2] + margin, extent[3] + margin)
    trees = {level: shapely.STRtree([region.geometry for region in regions]) for level, regions in levels.items()}
    return CityRegions(levels=levels, bounds=bounds, _trees=trees)
