"""Generate a deterministic, realistic demo city into any database that speaks the data contract.

Two years (730 days ending at ``end``) of government service cases, 12345 complaints and grid
events for the regions in the city config's GeoJSON layers, with a few injected anomalies (listed
in ``demo_anomalies``, see ``data_access.demo.anomalies``) that the cockpit's alerts and drill-downs
should find. Everything is drawn from ``numpy.random.default_rng`` streams keyed by the seed, so the same
seed, scale and end date always give the same rows. Facts are generated (one module per fact table) and
written one calendar month at a time, so memory stays bounded at any scale; the contract tables are
replaced all-or-nothing by :class:`data_access.contract.replace.ContractReplacement`. The command line
is ``data_access.demo.cli`` (``python -m data_access.demo``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import sqlalchemy as sa

from data_access.alerts.refresh import refresh_after_load
from data_access.config.city import load_city
from data_access.contract import schema
from data_access.contract.replace import ContractReplacement
from data_access.demo.anomalies import anomaly_rows
from data_access.demo.city_model import build_world
from data_access.demo.complaints import complaint_chunk
from data_access.demo.dimensions import department_rows, region_rows, target_rows
from data_access.demo.grid_events import grid_event_chunk
from data_access.demo.service_cases import service_chunk
from data_access.demo.timeline import Chunk, fact_chunks
from data_access.demo.world import World
from data_access.runtime import engine as db
from data_access.semantic.rollups.refresh import invalidate_rollups, refresh_rollups

Progress = Callable[[float, str], None]


class DemoRefused(Exception):
    """The target database holds data that is not a generated demo; writing would destroy it."""


@dataclasses.dataclass(frozen=True)
class DemoSummary:
    """Rows written per table and the seconds the whole generation took."""

    regions: int
    departments: int
    categories: int
    targets: int
    service_cases: int
    complaints: int
    grid_events: int
    demo_anomalies: int
    seconds: float

    @property
    def rows(self) -> dict[str, int]:
        return {
            "regions": self.regions,
            "departments": self.departments,
            "categories": self.categories,
            "targets": self.targets,
            "service_cases": self.service_cases,
            "complaints": self.complaints,
            "grid_events": self.grid_events,
            "demo_anomalies": self.demo_anomalies,
        }


def _fact_row_counts(engine: sa.Engine) -> dict[str, int]:
    """Rows in each fact table that exists (missing tables are simply absent)."""
    present = set(sa.inspect(engine).get_table_names())
    counts: dict[str, int] = {}
    with engine.connect() as connection:
        for table in schema.FACT_TABLES:
            if table.name in present:
                counts[table.name] = int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
    return counts


def is_demo_database(engine: sa.Engine) -> bool:
    """True when cockpit_meta says the data is a generated demo (safe to regenerate)."""
    return db.read_meta(engine).get("dataset") == "demo"


def ensure_demo(engine: sa.Engine, progress: Progress | None = None) -> bool:
    """Fill an empty database (no fact tables, or all empty) with the default demo; True if it did."""
    db.check_connection(engine)
    counts = _fact_row_counts(engine)
    if counts and any(counts.values()):
        return False
    generate_demo(engine, progress=progress)
    return True


def _check_writable(engine: sa.Engine, force: bool) -> None:
    counts = _fact_row_counts(engine)
    if force or not any(counts.values()) or is_demo_database(engine):
        return
    shown = engine.url.render_as_string(hide_password=True)
    held = ", ".join(f"{name}: {count:,} rows" for name, count in counts.items() if count)
    raise DemoRefused(
        f"The database {shown} already holds data that is not a generated demo ({held}). "
        "Refusing to overwrite it; pass --force (force=True) to replace its contents with the demo city."
    )


def _as_of(frames: Sequence[pl.DataFrame]) -> dt.datetime | None:
    """The latest timestamp in a set of fact frames."""
    latest: dt.datetime | None = None
    for frame in frames:
        for name, dtype in frame.schema.items():
            if isinstance(dtype, pl.Datetime):
                value = frame.get_column(name).max()
                if isinstance(value, dt.datetime) and (latest is None or value > latest):
                    latest = value
    return latest


def _chunk_rngs(seed: int, index: int) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
    """Independent streams per table and chunk: a change to one table leaves the others alone."""
    return (
        np.random.default_rng([seed, 10, index]),
        np.random.default_rng([seed, 11, index]),
        np.random.default_rng([seed, 12, index]),
    )


def world_chunks(world: World) -> list[Chunk]:
    """The world's chunks, sized by the busiest day of any fact table (bounded memory at any scale)."""
    busiest = max(float(daily.max()) for daily in (world.service_daily, world.complaint_daily, world.grid_daily))
    return fact_chunks(world.calendar, busiest)


def _before_horizon(world: World, frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Drop records that would arrive after the demo's 'now' (only the last day can have them)."""
    horizon = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=world.calendar.horizon)
    return frame.filter(pl.col(column) < horizon)


def iter_fact_chunks(world: World) -> Iterator[tuple[Chunk, pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
    """(chunk, service cases, complaints, grid events), chunk by chunk in time order."""
    next_seq = [1, 1, 1]
    for index, chunk in enumerate(world_chunks(world)):
        service_rng, complaint_rng, grid_rng = _chunk_rngs(world.seed, index)
        frames = (
            _before_horizon(world, service_chunk(world, chunk, service_rng, next_seq[0]), "submitted_at"),
            _before_horizon(world, complaint_chunk(world, chunk, complaint_rng, next_seq[1]), "received_at"),
            _before_horizon(world, grid_event_chunk(world, chunk, grid_rng, next_seq[2]), "collected_at"),
        )
        next_seq = [seq + frame.height for seq, frame in zip(next_seq, frames, strict=True)]
        yield (chunk, *frames)


def generate_demo(
    engine: sa.Engine,
    *,
    scale: float = 1.0,
    seed: int = 7,
    end: dt.date | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> DemoSummary:
    """Create the contract tables and (re)fill them with the demo city; refuses to clobber real data."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    report = progress or (lambda fraction, message: None)
    began = time.perf_counter()
    until = None
    if end is None:  # a live-looking demo: two years up to this very moment, city time
        until = dt.datetime.now(ZoneInfo(load_city().timezone)).replace(tzinfo=None, microsecond=0)
        end = until.date()
    db.check_connection(engine)
    schema.create_schema(engine)
    _check_writable(engine, force)
    with engine.begin() as connection:  # until the refresh at the end, queries read the facts
        invalidate_rollups(connection)

    report(0.0, "Reading the map and preparing the demo city")
    city = load_city()
    world = build_world(city, scale, seed, end, until)
    with ContractReplacement(engine) as writer:
        counts, latest = _write_world(writer, world, report)
        meta = {
            "dataset": "demo",
            "data_version": db.new_data_version(),  # every process's cached answers move on
            "city_name": city.name,
            "generated_at": dt.datetime.now().isoformat(timespec="seconds"),
            "seed": str(seed),
            "scale": repr(float(scale)),
            "end_date": end.isoformat(),
            "as_of": latest.isoformat(timespec="seconds") if latest else "",
        }
        writer.insert_rows(schema.cockpit_meta, [{"key": k, "value": v} for k, v in meta.items()])
    report(0.98, "Refreshing the daily rollups and open items")
    with engine.begin() as connection:
        refresh_rollups(connection)
    report(0.99, "Computing the early warning's alerts")
    refreshed = refresh_after_load(engine, city)  # after the commits; a failure is logged, the demo stands
    if refreshed is None:
        report(0.99, "Warning: the early warning's alerts could not be computed; the app's job will retry")
    seconds = time.perf_counter() - began
    report(1.0, f"Demo city ready in {seconds:.1f} s")
    return DemoSummary(**counts, seconds=seconds)


def _write_world(
    writer: ContractReplacement, world: World, report: Progress
) -> tuple[dict[str, int], dt.datetime | None]:
    """Every table but ``cockpit_meta``: rows written per table, and the latest record time."""
    counts = {
        "regions": writer.insert_rows(schema.regions, region_rows(world.geo)),
        "departments": writer.insert_rows(schema.departments, department_rows()),
        "categories": writer.insert_rows(schema.categories, world.taxonomy.rows + world.grid_taxonomy.rows),
        "targets": writer.insert_rows(schema.targets, target_rows(world)),
        "demo_anomalies": writer.insert_rows(schema.demo_anomalies, anomaly_rows(world)),
        "service_cases": 0,
        "complaints": 0,
        "grid_events": 0,
    }
    report(0.05, "Regions, departments and categories written")
    latest: dt.datetime | None = None
    chunks = world_chunks(world)
    for index, (chunk, cases, tickets, events) in enumerate(iter_fact_chunks(world)):
        counts["service_cases"] += writer.insert(schema.service_cases, cases)
        counts["complaints"] += writer.insert(schema.complaints, tickets)
        counts["grid_events"] += writer.insert(schema.grid_events, events)
        chunk_latest = _as_of([cases, tickets, events])
        if chunk_latest is not None and (latest is None or chunk_latest > latest):
            latest = chunk_latest
        rows = cases.height + tickets.height + events.height
        report(0.05 + 0.94 * (index + 1) / len(chunks), f"{chunk.label}: {rows:,} rows")
    return counts, latest
