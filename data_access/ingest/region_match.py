"""Finding each record's regions: from codes or names per level, or from coordinates in the city's polygons.

:class:`RegionMatcher` adds every region level column the table has (ancestors from the hierarchy), and
the rules ``out_of_bounds``, ``region_mismatch`` and ``unknown_region`` to the batch's rules.
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import sqlalchemy as sa

from data_access.ingest.mapping import RegionSpec
from data_access.ingest.regions import CityRegions
from data_access.ingest.rules import Rule, source_name

POINT_PATTERN = r"^\s*\(?\s*(-?[0-9.]+)\s*[, ]\s*(-?[0-9.]+)\s*\)?\s*$"


class RegionMatcher:
    """Region columns for the batches of one table, one mapping's ``[region]`` and one city."""

    def __init__(self, spec: RegionSpec, regions: CityRegions, table: sa.Table) -> None:
        self.spec = spec
        self.regions = regions
        self.table = table
        self._ancestors: dict[str, dict[str, str]] = {}
        self._known_codes: dict[str, pl.Series] = {}

    def _coordinates(self, work: pl.DataFrame) -> pl.DataFrame:
        spec = self.spec
        if spec.point:
            text = pl.col(source_name(spec.point))
            groups = text.str.extract_groups(POINT_PATTERN)
            lat = groups.struct.field("1").cast(pl.Float64, strict=False)
            lon = groups.struct.field("2").cast(pl.Float64, strict=False)
            raw = text
        else:
            assert spec.lat is not None and spec.lon is not None
            lat_text, lon_text = pl.col(source_name(spec.lat)), pl.col(source_name(spec.lon))
            lat = lat_text.cast(pl.Float64, strict=False)
            lon = lon_text.cast(pl.Float64, strict=False)
            raw = pl.concat_str([lat_text, lon_text], separator=", ")
        return work.with_columns(lat.alias("lat"), lon.alias("lon"), raw.alias("raw:point"))

    def _region_columns(self) -> list[str]:
        return [f"{level}_code" for level in self.regions.levels if f"{level}_code" in self.table.columns]

    def _expand(self, finest: pl.Series) -> dict[str, pl.Series]:
        """Finest code per row -> one Series per region level column (ancestors from the hierarchy).

        One left join against a small frame of codes and their ancestors: the rows' codes are hashed
        once for every level column, not once per column.
        """
        for code in finest.unique().to_list():
            if code is not None and code not in self._ancestors:
                self._ancestors[code] = self.regions.ancestors(code)
        columns = self._region_columns()
        known = list(self._ancestors)
        levels = {
            column: [self._ancestors[code].get(column.removesuffix("_code")) for code in known] for column in columns
        }
        table = pl.DataFrame({"finest": known, **levels}, schema=dict.fromkeys(["finest", *columns], pl.String()))
        found = finest.rename("finest").to_frame().join(table, on="finest", how="left", maintain_order="left")
        return {column: found.get_column(column) for column in columns}

    def apply(self, work: pl.DataFrame, rules: list[Rule]) -> pl.DataFrame:
        """The batch with its region columns; the region rules appended to ``rules``."""
        spec = self.spec
        west, south, east, north = self.regions.bounds
        outside = (pl.col("lat") < south) | (pl.col("lat") > north) | (pl.col("lon") < west) | (pl.col("lon") > east)
        if spec.method == "point":
            work = self._coordinates(work)
            rules.append(Rule("lat", "out_of_bounds", outside.fill_null(False), pl.col("raw:point")))
            lon = work.get_column("lon").to_numpy().astype(np.float64)
            lat = work.get_column("lat").to_numpy().astype(np.float64)
            finest = pl.Series("finest", self.regions.locate(lon, lat), dtype=pl.String())
            work = work.with_columns(finest, pl.col("raw:point").alias("raw:region"))
            region_column = spec.point or spec.lat or "lat"
        else:
            if "lat" in self.table.columns:
                rules.append(Rule("lat", "out_of_bounds", outside.fill_null(False), pl.col("raw:lat")))
            work = self._finest_from_columns(work)
            if spec.method == "code" and len(self._given_levels()) > 1:
                rules.append(Rule("region", "region_mismatch", pl.col("region_mismatch"), pl.col("raw:region")))
            region_column = next(iter(spec.columns.values()))
        derived = [f"derived:{column}" for column in self._region_columns()]
        if all(name in work.columns for name in derived):  # already expanded for the mismatch rule
            work = work.with_columns(pl.col(name).alias(name.removeprefix("derived:")) for name in derived)
        else:
            work = work.with_columns(list(self._expand(work.get_column("finest")).values()))
        rules.append(Rule(region_column, "unknown_region", pl.col("finest").is_null(), pl.col("raw:region")))
        return work

    def _given_levels(self) -> list[str]:
        return [level for level in self.regions.levels if level in self.spec.columns]

    def _finest_from_columns(self, work: pl.DataFrame) -> pl.DataFrame:
        """Region codes (or names) per level -> ``finest`` known code, ``raw:region`` its text, ``region_mismatch``."""
        spec = self.spec
        levels = self._given_levels()
        texts = {level: pl.col(source_name(spec.columns[level])) for level in levels}
        resolved: dict[str, pl.Expr] = {}
        if spec.method == "code":
            for level in levels:
                known = self._known_codes.setdefault(
                    level, pl.Series([r.code for r in self.regions.levels[level]], dtype=pl.String())
                )
                resolved[level] = pl.when(texts[level].is_in(known.implode())).then(texts[level])
        else:
            parent: str | None = None
            for level in levels:
                work = work.with_columns(self._names_to_codes(level, texts[level], parent).alias(f"code:{level}"))
                resolved[level] = pl.col(f"code:{level}")
                parent = f"code:{level}"
        finest = pl.coalesce([resolved[level] for level in reversed(levels)])
        raw = pl.coalesce([texts[level] for level in reversed(levels)])
        # A text given at some level that does not resolve makes the row unknown, whatever the others say.
        unresolved = pl.any_horizontal([texts[level].is_not_null() & resolved[level].is_null() for level in levels])
        work = work.with_columns(
            pl.when(unresolved).then(None).otherwise(finest).alias("finest"),
            raw.alias("raw:region"),
            *[resolved[level].alias(f"resolved:{level}") for level in levels],
        )
        if spec.method != "code" or len(levels) < 2:
            return work
        expanded = self._expand(work.get_column("finest"))
        work = work.with_columns([series.alias(f"derived:{name}") for name, series in expanded.items()])
        # On the columns computed above (not their expressions again): a code given that is not the
        # finest code's ancestor (or the finest code itself) at its level.
        mismatch = pl.any_horizontal(
            [
                pl.col(f"resolved:{level}").is_not_null()
                & pl.col(f"resolved:{level}").ne_missing(pl.col(f"derived:{level}_code"))
                for level in levels
            ]
        )
        return work.with_columns(mismatch.alias("region_mismatch"))

    def _names_to_codes(self, level: str, names: pl.Expr, parent: str | None) -> pl.Expr:
        regions = self.regions.levels[level]
        if parent is None:
            table = {r.name: r.code for r in regions}
            return names.replace_strict(list(table), list(table.values()), default=None, return_dtype=pl.String())
        keyed = {f"{r.parent_code}\x1f{r.name}": r.code for r in regions}
        key = pl.concat_str([pl.col(parent), pl.lit("\x1f"), names])
        return key.replace_strict(list(keyed), list(keyed.values()), default=None, return_dtype=pl.String())


def point_columns(text: str) -> tuple[float, float] | None:
    """``"(37.77, -122.39)"`` -> (lat, lon); for tests and docs."""
    match = re.match(POINT_PATTERN, text)
    return (float(match.group(1)), float(match.group(2))) if match else None
