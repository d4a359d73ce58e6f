"""Grid events of one chunk, with their seven workflow timestamps and the injected stalls."""

from __future__ import annotations

import numpy as np
import polars as pl

from data_access.contract import schema
from data_access.demo.columns import lookup_column, null_unless, timestamp_column, with_ids
from data_access.demo.reference import (
    DAY,
    DEPARTMENTS,
    GRID_SOURCE_SHARE,
    GRID_SOURCES,
    HOUR,
    PATROL_HOURS,
    POINTS_PER_GRID,
    VIDEO_HOURS,
    FloatArray,
    IntArray,
)
from data_access.demo.sampling import choose, cut_at_horizon, days_in_chunk, draw_times, lognormal, median_for_overdue
from data_access.demo.timeline import Chunk
from data_access.demo.world import World


# Over 60 lines on purpose: every column of the table is drawn from one random stream in a fixed order (the
# order fixes the rows of a seed); split up, the draws' order would be spread over several functions.
def grid_event_chunk(world: World, chunk: Chunk, rng: np.random.Generator, first_seq: int = 1) -> pl.DataFrame:
    """Grid events collected in one chunk, with their seven workflow timestamps."""
    geo, gt, cal = world.geo, world.grid_taxonomy, world.calendar
    day = days_in_chunk(world.grid_daily, chunk, rng)
    grid = choose(world.event_grid_p, len(day), rng)
    extra_days: list[IntArray] = []
    extra_grids: list[IntArray] = []
    for stall in world.stalls:
        days = [d for d in range(stall.first, stall.first + stall.days) if chunk.first <= d < chunk.stop]
        counts = rng.poisson(stall.rate, size=len(days))
        extra_days.append(np.repeat(np.array(days, dtype=np.int64), counts))
        extra_grids.append(np.full(int(counts.sum()), stall.grid, dtype=np.int64))
    day = np.concatenate([day, *extra_days])
    grid = np.concatenate([grid, *extra_grids])
    n = len(day)
    source = choose(GRID_SOURCE_SHARE, n, rng)
    collected = np.where(source == 1, draw_times(cal, day, VIDEO_HOURS, rng), draw_times(cal, day, PATROL_HOURS, rng))
    minor = choose(gt.weight, n, rng)
    dept = gt.department[minor]
    limit = gt.limit[minor]

    side = choose((0.94, 0.02, 0.03, 0.01), n, rng)  # none, 延期, 回退, 挂账
    rework = np.where(side == 2, 1 + (rng.random(n) < 0.2), 0)
    sigma = 0.7
    handling = lognormal(median_for_overdue(limit, world.event_z[dept], sigma), sigma, n, rng)
    handling = np.where(side == 1, handling * rng.uniform(1.2, 2.5, size=n), handling)
    handling = handling + rework * limit * rng.uniform(0.5, 1.5, size=n)
    steps = np.stack(
        [
            np.zeros(n),
            lognormal(0.4, 0.8, n, rng),
            lognormal(0.3, 0.9, n, rng),
            handling,
            lognormal(0.5, 0.8, n, rng),
            lognormal(2.0, 0.9, n, rng) + rework * 4.0,
            lognormal(0.3, 0.8, n, rng),
        ]
    )
    stages = collected + np.cumsum(steps, axis=0) * HOUR
    stages[3:, side == 3] = np.nan  # 挂账: parked after dispatch
    _apply_stalls(world, stages, grid, rng)
    timestamps = cut_at_horizon(list(stages), cal.horizon)

    worker = np.floor(rng.random(n) * world.workers[grid]).astype(np.int64) + 1
    points = geo.points[grid, rng.integers(0, POINTS_PER_GRID, size=n)]
    frame = pl.DataFrame(
        {
            "_row": np.arange(n),
            "grid_code": lookup_column(geo.grid.codes, grid),
            "community_code": lookup_column(geo.community.codes, geo.grid.parent[grid]),
            "street_code": lookup_column(geo.street.codes, geo.grid_street[grid]),
            "district_code": lookup_column(geo.district.codes, geo.grid_district[grid]),
            "source": lookup_column(GRID_SOURCES, source),
            "kind": lookup_column(gt.kind, minor),
            "major_category_code": lookup_column(gt.major_code, minor),
            "minor_category_code": lookup_column(gt.minor_code, minor),
            **{column: timestamp_column(ts) for (_, column), ts in zip(schema.GRID_WORKFLOW, timestamps, strict=True)},
            "side_state": null_unless(lookup_column(("", "延期", "回退", "挂账"), side), side > 0),
            "rework_count": pl.Series(rework, dtype=pl.Int32),
            "department_code": lookup_column([c for c, _, _ in DEPARTMENTS], dept),
            "time_limit_hours": limit,
            "lat": points[:, 1],
            "lon": points[:, 0],
            "_k": worker,
        }
    )
    frame = frame.with_columns(
        pl.concat_str([pl.lit("W"), pl.col("grid_code"), pl.lit("-"), pl.col("_k").cast(pl.String).str.zfill(2)]).alias(
            "reporter_id"
        ),
    )
    frame = with_ids(frame, "collected_at", "event_id", "WG", first_seq)
    return frame.select([c.name for c in schema.grid_events.columns])


def _apply_stalls(world: World, stages: FloatArray, grid: IntArray, rng: np.random.Generator) -> None:
    """Events of a stalled grid wait at one stage until the stall ends (later stages shift too)."""
    cal = world.calendar
    for stall in world.stalls:
        start = cal.start[stall.first]
        stop = start + stall.days * DAY
        hit = (grid == stall.grid) & (stages[0] >= start) & (stages[0] < stop) & ~np.isnan(stages[stall.stage])
        release = stop + rng.uniform(2, 36, size=int(hit.sum())) * HOUR
        delay = np.maximum(release - stages[stall.stage, hit], 0.0)
        stages[stall.stage :, hit] += delay
