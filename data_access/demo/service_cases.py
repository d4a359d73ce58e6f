"""Government service cases of one chunk: items, channels drifting to mobile, durations, overdue jumps."""

from __future__ import annotations

import numpy as np
import polars as pl

from data_access.contract import schema
from data_access.demo.columns import lookup_column, null_unless, timestamp_column, with_ids
from data_access.demo.reference import (
    DAY,
    DAYS,
    DEPARTMENTS,
    HOUR,
    OFFICE_HOURS,
    ONLINE_HOURS,
    SERVICE_CHANNEL_END,
    SERVICE_CHANNEL_START,
    SERVICE_CHANNELS,
    SERVICE_ITEMS,
)
from data_access.demo.sampling import choose, days_in_chunk, draw_times, lognormal, median_for_overdue
from data_access.demo.taxonomy import department_index
from data_access.demo.timeline import Chunk
from data_access.demo.world import World


# Over 60 lines on purpose: every column of the table is drawn from one random stream in a fixed order (the
# order fixes the rows of a seed); split up, the draws' order would be spread over several functions.
def service_chunk(world: World, chunk: Chunk, rng: np.random.Generator, first_seq: int = 1) -> pl.DataFrame:
    """Government service cases submitted in one chunk."""
    cal = world.calendar
    day = days_in_chunk(world.service_daily, chunk, rng)
    n = len(day)
    items = np.array([w for *_, w, _ in SERVICE_ITEMS])
    item = choose(items, n, rng)
    departments = department_index()
    item_dept = np.array([departments[d] for d, *_ in SERVICE_ITEMS], dtype=np.int64)
    promised = np.array([p for _, _, p, *_ in SERVICE_ITEMS], dtype=np.float64)[item]
    legal = np.array([legal for _, _, _, legal, *_ in SERVICE_ITEMS], dtype=np.float64)[item]
    enterprise = rng.random(n) < np.array([e for *_, e in SERVICE_ITEMS])[item]
    dept = item_dept[item]

    # Channel shares drift towards mobile over the two years.
    progress = (day / (DAYS - 1))[:, None]
    shares = (
        np.asarray(SERVICE_CHANNEL_START)
        + (np.asarray(SERVICE_CHANNEL_END) - np.asarray(SERVICE_CHANNEL_START)) * progress
    )
    channel = (rng.random(n)[:, None] > np.cumsum(shares, axis=1)[:, :-1]).sum(axis=1)
    online = (channel == 1) | (channel == 2)
    submitted = np.where(online, draw_times(cal, day, ONLINE_HOURS, rng), draw_times(cal, day, OFFICE_HOURS, rng))
    street = choose(world.service_street_p, n, rng)

    sigma = 0.7
    median = median_for_overdue(promised, world.service_z[dept], sigma)
    total = lognormal(median, sigma, n, rng) * HOUR
    for jump in world.jumps:
        start, stop = cal.start[jump.first], cal.start[jump.first] + jump.days * DAY
        hit = (dept == jump.department) & (submitted >= start) & (submitted < stop) & (rng.random(n) < jump.share)
        total = np.where(hit, promised * HOUR * rng.uniform(1.05, 2.2, size=n), total)
    accept_delay = np.where(online, lognormal(2.0, 1.0, n, rng), rng.uniform(0.05, 0.5, size=n)) * HOUR
    accept_delay = np.minimum(accept_delay, 0.4 * total)
    rejected = rng.random(n) < 0.015
    accepted = np.where(rejected, np.nan, submitted + accept_delay)
    completed = np.where(rejected, submitted + rng.uniform(1, 24, size=n) * HOUR, submitted + total)
    accepted, completed = (np.where(t >= cal.horizon, np.nan, np.round(t)) for t in (accepted, completed))
    status = np.where(rejected, 2, np.where(np.isnan(completed), 0, 1))
    overdue = total > promised * HOUR
    good = np.where(overdue[:, None], [[0.45, 0.30, 0.12, 0.08, 0.05]], [[0.74, 0.21, 0.03, 0.015, 0.005]])
    rating_index = (rng.random(n)[:, None] > np.cumsum(good, axis=1)[:, :-1]).sum(axis=1)
    rated = (status == 1) & (rng.random(n) < 0.6)

    names = [name for _, name, *_ in SERVICE_ITEMS]
    item_codes = [f"{d}-{i + 1:03d}" for i, (d, *_) in enumerate(SERVICE_ITEMS)]
    frame = pl.DataFrame(
        {
            "_row": np.arange(n),
            "service_item_code": lookup_column(item_codes, item),
            "service_item_name": lookup_column(names, item),
            "department_code": lookup_column([c for c, _, _ in DEPARTMENTS], dept),
            "district_code": lookup_column(world.geo.district.codes, world.geo.street_district[street]),
            "street_code": lookup_column(world.geo.street.codes, street),
            "channel": lookup_column(SERVICE_CHANNELS, channel),
            "applicant_type": pl.Series(np.where(enterprise, "企业", "个人")),
            "submitted_at": timestamp_column(submitted),
            "accepted_at": timestamp_column(accepted),
            "completed_at": timestamp_column(completed),
            "promised_limit_hours": promised,
            "legal_limit_hours": legal,
            "status": lookup_column(("办理中", "已办结", "不予受理"), status),
            "rating": null_unless(lookup_column(schema.SERVICE_RATINGS, rating_index), rated),
        }
    )
    frame = with_ids(frame, "submitted_at", "case_id", "ZW", first_seq)
    return frame.select([c.name for c in schema.service_cases.columns])
