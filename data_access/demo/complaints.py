"""12345 hotline tickets of one chunk: baseline, repeats, surges and repeat clusters, then their handling.

Titles, descriptions and addresses are built by polars expressions (no Python loop per row); about 5 % of
the descriptions carry made-up personal data (``data_access.demo.people``) for the masking to hide.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

import numpy as np
import polars as pl

from data_access.contract import schema
from data_access.demo.columns import lookup_column, null_unless, timestamp_column, with_ids
from data_access.demo.people import personal_data
from data_access.demo.reference import (
    COMPLAINT_CHANNEL_SHARE,
    COMPLAINT_CHANNELS,
    COMPLAINT_HOURS,
    DAY,
    DEPARTMENTS,
    DESCRIPTION_TEMPLATES,
    DETAILS,
    HOUR,
    PII_SHARE,
    POINTS_PER_GRID,
    REPEAT_TEMPLATE,
    ROADS_PER_STREET,
    BoolArray,
    FloatArray,
    IntArray,
)
from data_access.demo.sampling import choose, cut_at_horizon, days_in_chunk, draw_times, lognormal, median_for_overdue
from data_access.demo.timeline import Chunk
from data_access.demo.world import World


@dataclasses.dataclass
class ComplaintDraft:
    """The who/where/what of complaint rows before their handling is simulated."""

    received: FloatArray
    grid: IntArray
    category: IntArray
    point: IntArray
    road: IntArray
    house: IntArray
    repeat_src: IntArray  # row index of the ticket this one repeats, or -1
    flag: IntArray  # 0 baseline, 1 repeat, 2 surge, 3 cluster

    def extend(self, other: ComplaintDraft, *, shift: bool = True) -> ComplaintDraft:
        """Append rows; ``shift`` when other's repeat_src counts from its own first row."""
        offset = len(self.received) if shift else 0
        shifted = np.where(other.repeat_src >= 0, other.repeat_src + offset, -1)

        def both(a: Any, b: Any) -> Any:
            return np.concatenate([a, b])

        return ComplaintDraft(
            received=both(self.received, other.received),
            grid=both(self.grid, other.grid),
            category=both(self.category, other.category),
            point=both(self.point, other.point),
            road=both(self.road, other.road),
            house=both(self.house, other.house),
            repeat_src=both(self.repeat_src, shifted),
            flag=both(self.flag, other.flag),
        )


def _draft(
    received: FloatArray, grid: IntArray, category: IntArray, flag: int, rng: np.random.Generator
) -> ComplaintDraft:
    n = len(received)
    return ComplaintDraft(
        received=received,
        grid=grid,
        category=category,
        point=rng.integers(0, POINTS_PER_GRID, size=n),
        road=rng.integers(0, ROADS_PER_STREET, size=n),
        house=rng.integers(1, 300, size=n),
        repeat_src=np.full(n, -1, dtype=np.int64),
        flag=np.full(n, flag, dtype=np.int64),
    )


def _baseline_complaints(world: World, chunk: Chunk, rng: np.random.Generator) -> ComplaintDraft:
    day = days_in_chunk(world.complaint_daily, chunk, rng)
    received = draw_times(world.calendar, day, COMPLAINT_HOURS, rng)
    grid = choose(world.complaint_grid_p, len(day), rng)
    category = choose(world.taxonomy.weight, len(day), rng)
    return _draft(received, grid, category, 0, rng)


def _repeats(world: World, chunk: Chunk, base: ComplaintDraft, rng: np.random.Generator) -> ComplaintDraft:
    """About 4 % repeat tickets: same grid, category and address, a few days after the original."""
    source = np.flatnonzero(rng.random(len(base.received)) < 0.042)
    delay = rng.uniform(0.5, 20.0, size=len(source)) * DAY
    received = np.round(base.received[source] + delay)
    keep = received < world.calendar.horizon
    source, received = source[keep], received[keep]
    return ComplaintDraft(
        received=received,
        grid=base.grid[source],
        category=base.category[source],
        point=base.point[source],
        road=base.road[source],
        house=base.house[source],
        repeat_src=source.astype(np.int64),
        flag=np.full(len(source), 1, dtype=np.int64),
    )


def _surge_complaints(world: World, chunk: Chunk, rng: np.random.Generator) -> ComplaintDraft | None:
    drafts: list[ComplaintDraft] = []
    for surge in world.surges:
        days = [d for d in range(surge.first, surge.first + surge.days) if chunk.first <= d < chunk.stop]
        if not days:
            continue
        counts = rng.poisson(surge.rate, size=len(days))
        day = np.repeat(np.array(days, dtype=np.int64), counts)
        street_grids = np.flatnonzero(world.geo.grid_street == surge.street)
        grid = np.where(
            rng.random(len(day)) < 0.7,
            rng.choice(surge.focus, size=len(day)),
            rng.choice(street_grids, size=len(day)),
        )
        received = draw_times(world.calendar, day, COMPLAINT_HOURS, rng)
        drafts.append(_draft(received, grid.astype(np.int64), np.full(len(day), surge.category), 2, rng))
    return _concat_drafts(drafts)


def _cluster_complaints(world: World, chunk: Chunk, rng: np.random.Generator) -> ComplaintDraft | None:
    """Chains of repeat tickets at one address: each one points at the ticket before it."""
    drafts: list[ComplaintDraft] = []
    for cluster in world.clusters:
        if not chunk.first <= cluster.first < chunk.stop:
            continue
        n = cluster.repeats + 1
        start = world.calendar.start[cluster.first]
        received = np.sort(np.round(start + 8 * HOUR + rng.uniform(0, 13.5 * DAY, size=n)))
        drafts.append(
            ComplaintDraft(
                received=received,
                grid=np.full(n, cluster.grid, dtype=np.int64),
                category=np.full(n, cluster.category, dtype=np.int64),
                point=np.full(n, cluster.point, dtype=np.int64),
                road=np.full(n, cluster.road, dtype=np.int64),
                house=np.full(n, cluster.house, dtype=np.int64),
                repeat_src=np.arange(-1, n - 1, dtype=np.int64),
                flag=np.full(n, 3, dtype=np.int64),
            )
        )
    return _concat_drafts(drafts)


def _concat_drafts(drafts: list[ComplaintDraft]) -> ComplaintDraft | None:
    if not drafts:
        return None
    result = drafts[0]
    for draft in drafts[1:]:
        result = result.extend(draft)
    return result


def complaint_chunk(world: World, chunk: Chunk, rng: np.random.Generator, first_seq: int = 1) -> pl.DataFrame:
    """12345 tickets received in one chunk: baseline, repeats, surges and repeat clusters."""
    base = _baseline_complaints(world, chunk, rng)
    draft = base.extend(_repeats(world, chunk, base, rng), shift=False)
    for extra in (_surge_complaints(world, chunk, rng), _cluster_complaints(world, chunk, rng)):
        if extra is not None:
            draft = draft.extend(extra)
    return _simulate_complaints(world, draft, rng, first_seq)


def _complaint_limits(world: World, category: IntArray, rng: np.random.Generator) -> FloatArray:
    """Time limits by urgency: 2 h emergencies, 24 h utilities, 168 h normal, 360 h complex."""
    tax = world.taxonomy
    n = len(category)
    u = rng.random(n)
    emergency = u < np.where(tax.urgent[category], 0.35, np.where(tax.utility[category], 0.1, 0.025))
    complex_ = ~emergency & (rng.random(n) < np.where(tax.complex[category], 0.6, 0.08))
    limit = np.where(tax.utility[category], 24.0, 168.0)
    return np.where(emergency, 2.0, np.where(complex_, 360.0, limit))


def _follow_up(world: World, street: IntArray, dept: IntArray, overdue: BoolArray, flag: IntArray,
               rng: np.random.Generator) -> IntArray:  # fmt: skip
    """满意/基本满意/不满意/未回访 with street, department, lateness and repeat effects."""
    n = len(street)
    logit = (
        math.log(0.07 / 0.93)
        + world.street_unhappy[street]
        + world.department_unhappy[dept]
        + np.where(overdue, 0.9, 0.0)
        + np.where(flag == 1, 0.7, np.where(flag == 3, 2.5, 0.0))
    )
    unhappy = 1.0 / (1.0 + np.exp(-logit))
    basic = 0.16 * (1.0 + 0.5 * np.tanh(world.street_unhappy[street]))
    visited_u = rng.random(n)
    result = np.where(visited_u < unhappy, 2, np.where(visited_u < unhappy + basic, 1, 0))
    return np.asarray(np.where(rng.random(n) < 0.06, 3, result), dtype=np.int64)


# Over 60 lines on purpose: every column of the table is drawn from one random stream in a fixed order (the
# order fixes the rows of a seed); split up, the draws' order would be spread over several functions.
def _simulate_complaints(world: World, draft: ComplaintDraft, rng: np.random.Generator, first_seq: int) -> pl.DataFrame:
    """Handling, follow-up, text and codes for every drafted ticket."""
    geo, tax, cal = world.geo, world.taxonomy, world.calendar
    n = len(draft.received)
    category, grid = draft.category, draft.grid
    street, community = geo.grid_street[grid], geo.grid.parent[grid]
    dept = tax.department[category]
    limit = _complaint_limits(world, category, rng)

    response = lognormal(np.minimum(2.5, 0.3 * limit), 0.9, n, rng)
    sigma = 0.75
    handling = lognormal(median_for_overdue(limit, world.complaint_z[dept], sigma), sigma, n, rng)
    handling = np.maximum(handling, response + 0.1)
    closing = np.minimum(lognormal(18.0, 0.8, n, rng), 120.0)
    received = np.round(draft.received)
    first, resolved_at, closed = cut_at_horizon(
        [received + response * HOUR, received + handling * HOUR, received + (handling + closing) * HOUR], cal.horizon
    )
    status = np.where(~np.isnan(closed), 2, np.where(~np.isnan(resolved_at), 1, 0))
    follow = _follow_up(world, street, dept, handling > limit, draft.flag, rng)
    follow = np.where(status == 2, follow, -1)
    resolved_p = np.select([follow == 0, follow == 1, follow == 2], [0.97, 0.85, 0.35], 0.9)
    contacted_p = np.select([follow == 0, follow == 1, follow == 2], [0.99, 0.97, 0.85], 0.95)
    resolved = null_unless(pl.Series(rng.random(n) < resolved_p), status != 0)
    contacted = null_unless(pl.Series(rng.random(n) < contacted_p), ~np.isnan(first))
    channel = choose(COMPLAINT_CHANNEL_SHARE, n, rng)
    lonlat = geo.points[grid, draft.point]
    title, description, address = _complaint_texts(world, draft, street, rng)

    frame = pl.DataFrame(
        {
            "_row": np.arange(n),
            "_src": draft.repeat_src,
            "received_at": timestamp_column(received),
            "channel": lookup_column(COMPLAINT_CHANNELS, channel),
            "category_l1_code": lookup_column(tax.l1_code, category),
            "category_l2_code": lookup_column(tax.l2_code, category),
            "category_l3_code": lookup_column(tax.l3_code, category),
            "title": title,
            "description": description,
            "address": address,
            "district_code": lookup_column(geo.district.codes, geo.street_district[street]),
            "street_code": lookup_column(geo.street.codes, street),
            "community_code": lookup_column(geo.community.codes, community),
            "grid_code": lookup_column(geo.grid.codes, grid),
            "lat": lonlat[:, 1],
            "lon": lonlat[:, 0],
            "department_code": lookup_column([c for c, _, _ in DEPARTMENTS], dept),
            "time_limit_hours": limit,
            "first_response_at": timestamp_column(first),
            "resolved_at": timestamp_column(resolved_at),
            "closed_at": timestamp_column(closed),
            "status": lookup_column(("办理中", "已办结", "已关闭"), status),
            "contacted": contacted,
            "resolved": resolved,
            "follow_up": null_unless(lookup_column(schema.FOLLOW_UP_RESULTS, np.maximum(follow, 0)), follow >= 0),
        }
    )
    frame = with_ids(frame, "received_at", "ticket_id", "RX", first_seq)
    originals = frame.select(pl.col("_row").alias("_src"), pl.col("ticket_id").alias("repeat_of"))
    frame = frame.join(originals, on="_src", how="left").sort(["received_at", "_row"])
    return frame.select([c.name for c in schema.complaints.columns])


def _topic(l1: str, l2: str, l3: str) -> str:
    """The most specific category name that is not the catch-all 其他."""
    return next((name for name in (l3, l2, l1) if name != "其他"), l1)


def _template_expr(template: str, columns: dict[str, pl.Expr]) -> pl.Expr:
    """A str.format-style template ("{addr}…{topic}") as a vectorised polars string expression."""
    names = re.findall(r"\{(\w+)\}", template)
    return pl.format(re.sub(r"\{\w+\}", "{}", template), *(columns[name] for name in names))


def _complaint_texts(
    world: World, draft: ComplaintDraft, street: IntArray, rng: np.random.Generator
) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Title, free-text description (about 5 % with personal data to mask) and address."""
    geo, tax = world.geo, world.taxonomy
    n = len(draft.received)
    topics = [_topic(l1, l2, l3) + "问题" for l1, l2, l3 in zip(tax.l1_name, tax.l2_name, tax.l3_name, strict=True)]
    templates = (*DESCRIPTION_TEMPLATES, REPEAT_TEMPLATE)
    is_repeat = draft.repeat_src >= 0
    template = np.where(is_repeat, len(templates) - 1, rng.integers(0, len(templates) - 1, size=n))
    district = geo.street_district[street]
    road_names = [road for roads in world.roads for road in roads]
    frame = pl.DataFrame(
        {
            "district": lookup_column(geo.district.names, district),
            "street": lookup_column(geo.street.names, street),
            "road": lookup_column(road_names, street * ROADS_PER_STREET + draft.road),
            "house": pl.Series(draft.house).cast(pl.String),
            "topic": lookup_column(topics, draft.category),
            "detail": lookup_column(DETAILS, rng.integers(0, len(DETAILS), size=n)),
            "days": pl.Series(rng.integers(2, 30, size=n)).cast(pl.String),
            "template": pl.Series(template),
        }
    )
    place = pl.concat_str([pl.col("street"), pl.col("road"), pl.col("house"), pl.lit("号")])
    columns = {"addr": place, "topic": pl.col("topic"), "detail": pl.col("detail"), "days": pl.col("days")}
    description: pl.Expr = pl.lit(None, dtype=pl.String)
    for index, text in enumerate(templates):
        description = pl.when(pl.col("template") == index).then(_template_expr(text, columns)).otherwise(description)
    texts = frame.select(
        pl.col("topic").alias("title"),
        description.alias("description"),
        pl.concat_str([pl.lit(world.city.name), pl.col("district"), place]).alias("address"),
        pl.concat_str([pl.col("district"), place]).alias("home"),
    )
    # A few descriptions carry personal data (phone, ID number, name and home address) to be masked.
    rows = np.flatnonzero(rng.random(n) < PII_SHARE)
    kinds = rng.choice(4, size=len(rows), p=[0.4, 0.3, 0.2, 0.1])
    homes = texts.get_column("home").gather(pl.Series(rows)).to_list()
    extra = [
        personal_data(int(kind), geo.district.codes[int(district[row])], home, rng)
        for row, kind, home in zip(rows, kinds, homes, strict=True)
    ]
    suffix = pl.repeat("", n, dtype=pl.String, eager=True).scatter(rows, extra) if len(rows) else None
    descriptions = texts.get_column("description")
    if suffix is not None:
        descriptions = descriptions + suffix
    return texts.get_column("title"), descriptions, texts.get_column("address")
