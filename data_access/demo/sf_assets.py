"""Derive San Francisco's map layers in ``assets/geo/sf/`` from the public boundary files.

Run ``python -m data_access.demo.sf_assets [--source DIR]`` to rewrite them. The outputs are committed, so
the cockpit never reads the source folder at run time. Geometry is copied unchanged (WGS-84); only
the properties are rewritten so that every feature carries a region ``code`` and ``name``:

* ``districts.geojson``: the 37 planning neighborhoods (codeforamerica/click_that_hood). They have
  no official code, so the code is a slug of the name: ``Castro/Upper Market`` -> ``castro-upper-market``.
* ``streets.geojson``: the 195 census tracts of 2010 (sfbrigade/data-science-wg), code = the
  6-digit ``tractce10`` (``016400``), name ``Tract 164`` (the Census Bureau's way of writing
  ``0164.00``). The tract's parent neighborhood is found at import by point in polygon (the tracts'
  own ``nhood`` property names DataSF's 41 analysis neighborhoods, a different scheme; it is kept).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from data_access.runtime.paths import REPO_ROOT

DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "data" / "boundaries"
OUT_DIR = REPO_ROOT / "assets" / "geo" / "sf"
NEIGHBORHOODS = "sf_planning_neighborhoods.geojson"
TRACTS = "sf_tracts_with_nhood.geojson"


def slug(name: str) -> str:
    """Lower-case ASCII words joined by hyphens: ``Treasure Island/YBI`` -> ``treasure-island-ybi``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def tract_name(tractce: str) -> str:
    """``016400`` -> ``Tract 164``; ``012601`` -> ``Tract 126.01``."""
    whole, part = int(tractce[:4]), tractce[4:]
    return f"Tract {whole}" if part == "00" else f"Tract {whole}.{part}"


def _collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def districts(source: dict[str, Any]) -> dict[str, Any]:
    features = [
        {
            "type": "Feature",
            "properties": {"code": slug(f["properties"]["name"]), "name": f["properties"]["name"]},
            "geometry": f["geometry"],
        }
        for f in sorted(source["features"], key=lambda f: slug(f["properties"]["name"]))
    ]
    return _collection(features)


def streets(source: dict[str, Any]) -> dict[str, Any]:
    features = [
        {
            "type": "Feature",
            "properties": {
                "code": f["properties"]["tractce10"],
                "name": tract_name(f["properties"]["tractce10"]),
                "geoid": f["properties"]["geoid"],
                "analysis_neighborhood": f["properties"]["nhood"],
            },
            "geometry": f["geometry"],
        }
        for f in sorted(source["features"], key=lambda f: str(f["properties"]["tractce10"]))
    ]
    return _collection(features)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data_access.demo.sf_assets", description=__doc__)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="folder of the two source files")
    args = parser.parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, build, out in ((NEIGHBORHOODS, districts, "districts.geojson"), (TRACTS, streets, "streets.geojson")):
        with (args.source / name).open(encoding="utf-8") as handle:
            collection = build(json.load(handle))
        (OUT_DIR / out).write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")), "utf-8")
        print(f"{out}: {len(collection['features'])} features")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
