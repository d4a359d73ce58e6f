"""Derive the demo city's map: real district outlines, synthetic streets, communities and grids.

Run ``python -m data_access.demo.geo`` to rewrite ``assets/geo/hangzhou/*.geojson``. The outputs are
committed, so the app never needs the source file; this script documents how they were made and
makes them reproducible (fixed seeds, no set/dict-order or time dependence).

Every level below the district is a Voronoi partition of its parent: seed points sampled inside the
parent, relaxed a few Lloyd steps so cells look like plausible administrative areas, then clipped by
the parent. Children are cut from the already-rounded parent, so each child lies inside its parent
up to the 1e-5 degree coordinate grid. Coordinates stay in the source datum (GCJ-02).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

from data_access.runtime.paths import REPO_ROOT

DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "data" / "boundaries" / "china_hangzhou_districts_datav.json"
DEFAULT_OUT_DIR = REPO_ROOT / "assets" / "geo" / "hangzhou"

SEED = 20240601
GRID_SIZE = 1e-5  # 5 decimals, about 1 m
DISTRICT_SIMPLIFY = 2e-4  # degrees, about 20 m: keeps the real outline recognisable
LLOYD_STEPS = 3
LEVELS = ("district", "street", "community", "grid")

# Streets per district: the urban core gets many small streets, big rural counties few large towns.
STREET_COUNTS: dict[str, int] = {
    "330102": 12,  # 上城区
    "330105": 14,  # 拱墅区
    "330106": 11,  # 西湖区
    "330108": 7,  # 滨江区
    "330109": 12,  # 萧山区
    "330110": 10,  # 余杭区
    "330111": 8,  # 富阳区
    "330112": 8,  # 临安区
    "330113": 8,  # 临平区
    "330114": 7,  # 钱塘区
    "330122": 6,  # 桐庐县
    "330127": 7,  # 淳安县
    "330182": 6,  # 建德市
}
URBAN_CORE = frozenset({"330102", "330105", "330106", "330108"})
RURAL = frozenset({"330122", "330127", "330182", "330112", "330111"})

# Name syllables: first and second characters of street/town and community/village names.
STREET_FIRST = tuple("清湖望文紫金翠凤龙明古新长天春柳梅桂宁和云石松竹兰华安康丰瑞嘉永泰德仁锦翔钱彭闻")
STREET_SECOND = tuple("波滨江塘桥溪山浦港林园门兴阳岭坞埠源宁湾堰墩庄泾渚")
COMMUNITY_FIRST = tuple("东南西北中上下前后大小新老青白红黄绿金银玉花桃李杏枫荷桂樟柏松竹梅兰菊星月")
COMMUNITY_SECOND = tuple("苑村园里坊湾塘桥河湖港岸浦庭府城街弄巷亭台坡田畈墩")


@dataclass(frozen=True)
class Region:
    """One generated region: its code, name, level, parent and (rounded) geometry."""

    code: str
    name: str
    level: str
    parent_code: str | None
    geometry: BaseGeometry


def _rng(*keys: int) -> np.random.Generator:
    """A generator keyed by the region, so one region's shape never depends on another's."""
    return np.random.default_rng([SEED, *keys])


def _clean(geometry: BaseGeometry) -> BaseGeometry:
    """Snap to the 5-decimal grid and keep only the polygonal part (clipping can leave slivers)."""
    snapped = shapely.set_precision(geometry, GRID_SIZE)
    parts: list[Polygon] = []
    for part in getattr(snapped, "geoms", [snapped]):
        if isinstance(part, Polygon) and not part.is_empty:
            parts.append(part)
        elif isinstance(part, MultiPolygon):
            parts.extend(p for p in part.geoms if not p.is_empty)
    if not parts:
        return Polygon()
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def _to_plane(geometry: BaseGeometry, lat0: float) -> BaseGeometry:
    """Stretch longitude by cos(lat) so Voronoi cells are round on the ground, not in degrees."""
    factor = math.cos(math.radians(lat0))
    return shapely.transform(geometry, lambda xy: xy * np.array([factor, 1.0]))


def _from_plane(geometry: BaseGeometry, lat0: float) -> BaseGeometry:
    factor = math.cos(math.radians(lat0))
    return shapely.transform(geometry, lambda xy: xy / np.array([factor, 1.0]))


def _sample_inside(polygon: BaseGeometry, count: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform random points inside a polygon by rejection from its bounding box."""
    minx, miny, maxx, maxy = polygon.bounds
    found = np.empty((0, 2))
    while len(found) < count:
        candidates = rng.uniform((minx, miny), (maxx, maxy), size=(max(64, count * 8), 2))
        inside = shapely.contains_xy(polygon, candidates[:, 0], candidates[:, 1])
        found = np.vstack([found, candidates[inside]])
    return found[:count]


def _voronoi_cells(parent: BaseGeometry, seeds: np.ndarray) -> list[BaseGeometry]:
    """Voronoi cells of the seeds clipped by the parent, in seed order."""
    points = shapely.points(seeds)
    diagram = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=parent.envelope.buffer(1.0))
    cells = list(diagram.geoms)
    # Pair each cell with the seed it contains (GEOS does not promise input order).
    ordered: list[BaseGeometry] = [Polygon()] * len(seeds)
    for cell in cells:
        hits = np.flatnonzero(shapely.covers(cell, points))
        if len(hits):
            ordered[int(hits[0])] = shapely.intersection(cell, parent)
    return ordered


def _partition(parent: BaseGeometry, count: int, rng: np.random.Generator) -> list[BaseGeometry]:
    """Split a polygon into ``count`` compact pieces with relaxed (Lloyd) Voronoi cells."""
    lat0 = parent.centroid.y
    plane = _to_plane(parent, lat0)
    seeds = _sample_inside(plane, count, rng)
    cells = _voronoi_cells(plane, seeds)
    for _ in range(LLOYD_STEPS):
        moved = []
        for seed, cell in zip(seeds, cells, strict=True):
            centre = cell.centroid if not cell.is_empty else shapely.Point(seed)
            if not plane.contains(centre):
                centre = cell.representative_point() if not cell.is_empty else shapely.Point(seed)
            moved.append((centre.x, centre.y))
        seeds = np.array(moved)
        cells = _voronoi_cells(plane, seeds)
    pieces = [_clean(shapely.intersection(_from_plane(cell, lat0), parent)) for cell in cells]
    return [piece for piece in pieces if not piece.is_empty and piece.area > 0]


def _order_west_to_east(pieces: list[BaseGeometry]) -> list[BaseGeometry]:
    """Number children north-west first, like a reader scanning the map (stable, deterministic)."""
    return sorted(pieces, key=lambda g: (-round(g.centroid.y, 3), round(g.centroid.x, 3)))


def _unique_names(
    count: int, first: Sequence[str], second: Sequence[str], taken: set[str], rng: np.random.Generator
) -> list[str]:
    """Two-character names drawn from syllable lists, none repeated within ``taken``."""
    names: list[str] = []
    while len(names) < count:
        name = first[int(rng.integers(len(first)))] + second[int(rng.integers(len(second)))]
        if name[0] == name[1] or name in taken:
            continue
        taken.add(name)
        names.append(name)
    return names


def _center(geometry: BaseGeometry) -> list[float]:
    """A representative point well inside the largest part (pole of inaccessibility)."""
    parts = list(getattr(geometry, "geoms", [geometry]))
    largest = max(parts, key=lambda p: p.area)
    point = polylabel(largest, tolerance=1e-4)
    lon, lat = round(point.x, 5), round(point.y, 5)
    if not geometry.contains(shapely.Point(lon, lat)):
        fallback = geometry.representative_point()
        lon, lat = round(fallback.x, 5), round(fallback.y, 5)
    return [lon, lat]


def load_districts(source: Path) -> list[Region]:
    """The real district outlines, lightly simplified and snapped to the output grid."""
    with source.open(encoding="utf-8") as handle:
        collection = json.load(handle)
    regions = []
    for feature in collection["features"]:
        props = feature["properties"]
        code = str(props["adcode"])
        outline = shape(feature["geometry"]).simplify(DISTRICT_SIMPLIFY, preserve_topology=True)
        regions.append(Region(code, str(props["name"]), "district", None, _clean(outline)))
    return sorted(regions, key=lambda r: r.code)


def _child_count(level: str, district_code: str, rng: np.random.Generator) -> int:
    """How many children a region gets: more, smaller units in the urban core."""
    if level == "street":
        return STREET_COUNTS.get(district_code, 8)
    if level == "community":
        low, high = (4, 7) if district_code in URBAN_CORE else (4, 6)
        return int(rng.integers(low, high + 1))
    return int(rng.integers(3, 6))


def _child_names(parent: Region, level: str, count: int, district_code: str, taken: set[str]) -> list[str]:
    """Names for a region's children, unique within the parent (streets: unique city-wide)."""
    rng = _rng(int(parent.code), LEVELS.index(level))
    if level == "street":
        suffix = "镇" if district_code in RURAL else "街道"
        return [n + suffix for n in _unique_names(count, STREET_FIRST, STREET_SECOND, taken, rng)]
    if level == "community":
        rural = parent.name.endswith("镇")
        bases = _unique_names(count, COMMUNITY_FIRST, COMMUNITY_SECOND, set(), rng)
        # In a town the first community is the town seat (社区), the rest are villages (村).
        return [b + ("村" if rural and i > 0 else "社区") for i, b in enumerate(bases)]
    return [f"{parent.name}第{i + 1}网格" for i in range(count)]


def subdivide(parents: list[Region], level: str, taken_street_names: set[str]) -> list[Region]:
    """Children of every parent at the next level, coded parent code + 3 digits."""
    children: list[Region] = []
    for parent in parents:
        district_code = parent.code[:6]
        rng = _rng(int(parent.code))
        count = _child_count(level, district_code, rng)
        pieces = _order_west_to_east(_partition(parent.geometry, count, rng))
        names = _child_names(parent, level, len(pieces), district_code, taken_street_names)
        for index, (piece, name) in enumerate(zip(pieces, names, strict=True), start=1):
            children.append(Region(f"{parent.code}{index:03d}", name, level, parent.code, piece))
    return children


def _rounded(coordinates: Any) -> Any:
    if isinstance(coordinates[0], (int, float)):
        return [round(float(coordinates[0]), 5), round(float(coordinates[1]), 5)]
    return [_rounded(c) for c in coordinates]


def to_feature_collection(regions: list[Region]) -> dict[str, Any]:
    """GeoJSON with the properties the city config names (code, name) plus level/parent/center."""
    features = []
    for region in regions:
        geometry = mapping(region.geometry)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": region.code,
                    "name": region.name,
                    "level": region.level,
                    "parent_code": region.parent_code,
                    "center": _center(region.geometry),
                },
                "geometry": {"type": geometry["type"], "coordinates": _rounded(geometry["coordinates"])},
            }
        )
    return {"type": "FeatureCollection", "features": features}


ATTRIBUTION = """# Map data attribution

- `districts.geojson`: the real district (区/县/市) outlines of Hangzhou, lightly simplified and rounded
  to 5 decimals. Source: Aliyun DataV GeoAtlas, via
  [zhChuXiao/ChinaGeoJson](https://github.com/zhChuXiao/ChinaGeoJson)
  @ `ad4d584bb975d7ab76fb9d22ae23ccdbfacef790`, path `citys/杭州市.json` (MIT licence in that repository).
- `streets.geojson` (街道/镇), `communities.geojson` (社区/村), `grids.geojson` (网格): **synthetic**,
  generated by `data_access/demo/geo.py` as Voronoi partitions of the real districts.

The streets, communities and grids, their names and their codes are made up for the demo city:
they are **not** real administrative boundaries and must not be used as such. Codes follow the
Beijing scheme: 6-digit district adcode + 3 digits street + 3 digits community + 3 digits grid.

All coordinates are **GCJ-02** (China's offset datum), not WGS-84; points drawn on these maps must
use the same datum.

Regenerate with `python -m data_access.demo.geo` (reads the source file from `../shared/data/boundaries/`,
or `--source PATH`); the output is deterministic.
"""


def build(source: Path) -> dict[str, list[Region]]:
    """All four levels, each level cut from the previous one."""
    districts = load_districts(source)
    taken: set[str] = set()
    streets = subdivide(districts, "street", taken)
    communities = subdivide(streets, "community", taken)
    grids = subdivide(communities, "grid", taken)
    return {"district": districts, "street": streets, "community": communities, "grid": grids}


def write(levels: dict[str, list[Region]], out_dir: Path) -> dict[str, int]:
    """Write one compact GeoJSON file per level and the attribution; return the file sizes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sizes: dict[str, int] = {}
    for level, regions in levels.items():
        path = out_dir / f"{level}s.geojson" if level != "community" else out_dir / "communities.geojson"
        text = json.dumps(to_feature_collection(regions), ensure_ascii=False, separators=(",", ":"))
        path.write_text(text + "\n", encoding="utf-8")
        sizes[path.name] = path.stat().st_size
    (out_dir / "ATTRIBUTION.md").write_text(ATTRIBUTION, encoding="utf-8")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the demo city's GeoJSON files.")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="DataV district GeoJSON")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR, help="output folder")
    args = parser.parse_args(argv)
    if not args.source.is_file():
        print(f"Source file {args.source} not found (pass --source).")
        return 2
    levels = build(args.source)
    sizes = write(levels, args.out)
    for level, regions in levels.items():
        print(f"{level:10s} {len(regions):5d} regions")
    for name, size in sizes.items():
        print(f"{name:22s} {size / 1e6:6.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
