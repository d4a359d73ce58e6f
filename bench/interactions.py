"""``python -m bench.interactions [--url URL]… [--scale 30] [--repeat N] [--no-embedded]``

Times what a viewer does after the first render, with the requests the pages really build
(``dashboard.core.metric_requests``, ``dashboard.topics.data``, ``dashboard.exports.downloads``):

* **drill** — the cockpit map from the city into its interaction_steps.busiest district, and each topic page from
  that district into its interaction_steps.busiest street: only the reads that change (the others are cached);
* **filter** — each topic page with its interaction_steps.busiest department picked, and the 12345 page with its
  interaction_steps.busiest first-level category: only the reads that change;
* **detail** — one page of the records behind the view (``data_access.semantic.details``), sorted as the
  page sorts by default: the first page opened cold, and later pages with the first one cached;
* **export** — the CSV and the XLSX of the detail table (its largest page size), made the way the
  download button makes them.

Each step runs cold (result cache and rollup state cleared, as ``bench.__main__`` does) and warm
(the same again, from the cache); *first* is its very first run (statements not yet compiled).
Before any step the cockpit and the three topic pages are rendered once, as a viewer would have.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb
import sqlalchemy as sa

from bench import interaction_steps
from bench.__main__ import END, MARK_END, MARK_START, REPO_ROOT, ensure_database, machine, route_summary, write_report
from bench.interaction_steps import Step
from dashboard.topics.data import TOPIC_TABLES, TopicQueries, TopicRender
from dashboard.topics.state import TopicState
from data_access.config.city import ThreeRates, load_city
from data_access.runtime.cache import RESULTS
from data_access.runtime.engine import dispose_engine, get_engine
from data_access.semantic.details import DetailPage, DetailRequest, fetch_details
from data_access.semantic.distributions import HistogramRequest, histogram
from data_access.semantic.metrics import data_as_of, run_metrics
from data_access.semantic.query import MetricRequest
from data_access.semantic.rollups.refresh import STATES, read_state

TARGET_SECONDS = 0.5  # issue 9: a drill or filter change under 500 ms
LOCK_RETRIES = 30  # DuckDB allows one writer or many read-only readers: wait for another benchmark's writer
T = TypeVar("T")


@dataclass(frozen=True)
class InteractionResult:
    database: str
    rows_per_table: str
    step: str
    kind: str
    selects: int  # queries the cold run sent (result-cache loads)
    view_selects: int
    first: float
    cold: float
    warm: float
    rows: int  # rows the step's reads returned
    routes: str  # metrics from rollups / open items / facts
    fact_selects: int  # detail and histogram SELECTs: always on the facts
    file_bytes: int | None
    load: float  # 1-minute load average when the step began
    slowest: str  # the read that takes longest alone, cold
    slowest_seconds: float
    state_seconds: float  # reading the rollup state again: part of every cold figure


def run_reads(engine: sa.Engine, reads: TopicRender, rates: ThreeRates) -> tuple[int, list[DetailPage]]:
    """Make every read through the app's caches; (rows returned, the detail pages)."""
    rows = 0
    for request in reads.metrics:
        rows += run_metrics(engine, request, rates).height
    for histogram_request in reads.histograms:
        rows += histogram(engine, histogram_request, rates).height
    pages = [fetch_details(engine, detail, rates) for detail in reads.details]
    rows += sum(page.rows.height + 1 for page in pages)  # the page and its count
    return rows, pages


def run_step(
    engine: sa.Engine, step: Step, rates: ThreeRates, names: Mapping[str, Mapping[str, str]]
) -> tuple[int, int | None]:
    """One run of a step: (rows its reads returned, bytes of the file it made)."""
    rows, pages = run_reads(engine, step.reads, rates)
    if step.export is None:
        return rows, None
    (request,) = step.reads.details
    return rows, len(interaction_steps.export_file(pages[0], request.table, request.metric_name, step.export, names))


def clear_caches() -> None:
    """An empty result cache and the rollup state read again: cold, as ``bench.__main__`` measures it."""
    RESULTS.clear()
    STATES.clear()


def describe(read: MetricRequest | HistogramRequest | DetailRequest) -> str:
    """A short name for one read, for the "slowest read" column."""
    if isinstance(read, MetricRequest):
        names = ", ".join(read.metrics[:2]) + (", …" if len(read.metrics) > 2 else "")
        return f"{names} by {', '.join(read.dimensions) or 'total'}"
    if isinstance(read, HistogramRequest):
        return f"histogram {read.start} → {read.stop}" + (f" by {read.by}" if read.by else "")
    return f"detail page {read.page} ({read.sort or 'time'})"


def slowest_read(engine: sa.Engine, step: Step, rates: ThreeRates) -> tuple[str, float]:
    """The step's read that takes longest alone, cold (rollup state already read), and its seconds."""
    clear_caches()
    run_reads(engine, step.cached, rates)
    read_state(engine)
    reads: list[tuple[MetricRequest | HistogramRequest | DetailRequest, TopicRender]] = [
        (r, TopicRender((r,), (), ())) for r in step.reads.metrics
    ]
    reads += [(h, TopicRender((), (h,), ())) for h in step.reads.histograms]
    reads += [(d, TopicRender((), (), (d,))) for d in step.reads.details]
    timed = [(read, _timed(functools.partial(run_reads, engine, alone, rates))) for read, alone in reads]
    read, seconds = max(timed, key=lambda pair: pair[1])
    return describe(read), seconds


def _state_read(engine: sa.Engine) -> None:
    STATES.clear()
    read_state(engine)


def _timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def measure_step(
    engine: sa.Engine,
    step: Step,
    rates: ThreeRates,
    names: Mapping[str, Mapping[str, str]],
    repeat: int,
) -> tuple[float, float, float, int, int, int | None]:
    """(first, cold median, warm median, SELECTs sent cold, rows, file bytes) over ``repeat`` runs."""
    outcome: dict[str, tuple[int, int | None]] = {}

    def cold() -> float:
        clear_caches()
        run_reads(engine, step.cached, rates)
        loads = RESULTS.loads
        seconds = _timed(lambda: outcome.__setitem__("run", run_step(engine, step, rates, names)))
        outcome["loads"] = (RESULTS.loads - loads, None)
        return seconds

    first = cold()
    colds, warms = [], []
    for _ in range(repeat):
        colds.append(cold())
        warms.append(_timed(lambda: run_step(engine, step, rates, names)))
    rows, size = outcome["run"]
    return first, statistics.median(colds), statistics.median(warms), outcome["loads"][0], rows, size


def _label(url: str) -> str:
    name = sa.make_url(url)
    if name.get_backend_name() == "duckdb":
        return f"DuckDB `{os.path.basename(name.database or '')}`"
    return f"{name.get_backend_name()} `{name.database}`"


def _with_lock_retries(action: Callable[[], T]) -> T:
    """DuckDB refuses a second process while one holds the file read-write: wait and try again."""
    for attempt in range(LOCK_RETRIES):
        try:
            return action()
        except (duckdb.IOException, sa.exc.OperationalError) as exc:
            if "lock" not in str(exc).lower() or attempt == LOCK_RETRIES - 1:
                raise
            print(f"the database is locked by another process; retrying in 20 s ({exc})", file=sys.stderr, flush=True)
            time.sleep(20)
    raise AssertionError("unreachable")


def measure_interactions(url: str, repeat: int, label: str | None = None) -> list[InteractionResult]:
    """Every step on the database at ``url`` (holding the demo city), cold and warm, medians of ``repeat``."""
    engine = get_engine(url)
    rates = load_city().three_rates
    as_of = data_as_of(engine)
    assert as_of is not None, f"{url} holds no records"
    with engine.connect() as connection:
        counts = [
            connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("service_cases", "complaints", "grid_events")
        ]
    rows_per_table = " / ".join(f"{count:,}" for count in counts)
    steps = interaction_steps.interaction_steps(engine, as_of, rates)
    names = interaction_steps.detail_names(engine)
    words, geo_levels = interaction_steps.vocabulary(engine), frozenset(load_city().geo)
    clear_caches()
    for domain in TOPIC_TABLES:  # the pages a viewer has seen before drilling or filtering
        run_reads(
            engine, interaction_steps.page_reads(TopicQueries(domain, TopicState(), as_of), words, geo_levels), rates
        )
    run_reads(engine, interaction_steps.cockpit_reads(as_of, None), rates)
    state_seconds = statistics.median(_timed(functools.partial(_state_read, engine)) for _ in range(repeat))
    results = []
    for step in steps:
        load = os.getloadavg()[0]
        first, cold, warm, sent, rows, size = measure_step(engine, step, rates, names, repeat)
        slowest, slowest_seconds = slowest_read(engine, step, rates)
        results.append(
            InteractionResult(
                database=label or _label(url),
                rows_per_table=rows_per_table,
                step=step.name,
                kind=step.kind,
                selects=sent,
                view_selects=step.view_reads,
                first=first,
                cold=cold,
                warm=warm,
                rows=rows,
                routes=route_summary(engine, list(step.reads.metrics)) if step.reads.metrics else "—",
                fact_selects=len(step.reads.histograms) + 2 * len(step.reads.details),
                file_bytes=size,
                load=load,
                slowest=slowest,
                slowest_seconds=slowest_seconds,
                state_seconds=state_seconds,
            )
        )
    clear_caches()
    return results


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}" if seconds < 0.1 else f"{seconds * 1000:,.0f}"


def interactions_table(results: list[InteractionResult]) -> str:
    """The measured table (markdown), one block per database, with a legend."""
    lines: list[str] = []
    for database in dict.fromkeys(r.database for r in results):
        mine = [r for r in results if r.database == database]
        loads = [r.load for r in mine]
        lines += [
            f"**{database}** — rows per fact table (services / complaints / grid): {mine[0].rows_per_table}; "
            f"1-minute load average {min(loads):.1f}–{max(loads):.1f} during the steps; reading the rollup state "
            f"again (part of every cold figure) {_ms(mine[0].state_seconds)} ms.",
            "",
            "| step | kind | SELECTs sent (of the view's) | first | cold | warm | < 500 ms cold? | rows read "
            "| metrics from rollups / open items / facts | detail & histogram SELECTs | slowest read alone, cold "
            "| file | load |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in mine:
            size = "—" if r.file_bytes is None else f"{r.file_bytes / 1024:,.1f} KiB"
            met = "yes" if r.cold < TARGET_SECONDS else "no"
            lines.append(
                f"| {r.step} | {r.kind} | {r.selects} ({r.view_selects}) | {_ms(r.first)} | {_ms(r.cold)} "
                f"| {_ms(r.warm)} | {met} | {r.rows:,} | {r.routes} | {r.fact_selects} "
                f"| {r.slowest}: {_ms(r.slowest_seconds)} | {size} | {r.load:.1f} |"
            )
        lines.append("")
    lines += [
        "Times in milliseconds. *first*: the step's first run (its statements compiled for the first time);",
        "*cold*: result cache and rollup state cleared, then the step's reads (with the view it starts",
        "from cached: for a later detail page, page 1 and the count); *warm*: the same again, from the",
        "shared result cache. *SELECTs sent*: queries the cold run sent to the database; in brackets,",
        "the SELECTs of the whole new view (a drill or filter makes only those that interaction_steps.changed).",
        "*rows read*: rows the step's reads returned to Python. *slowest read*: each read of the step",
        "timed alone, cold, once (rollup state already read). Exports include making the file; the",
        "audit-trail row the app writes after a download is not included.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.interactions", description=__doc__.splitlines()[0] if __doc__ else ""
    )
    parser.add_argument("--url", action="append", default=[], help="also measure this database (holding the demo)")
    parser.add_argument("--scale", type=float, default=30.0, help="scale of the embedded demo (30 ≈ 10 M rows)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-embedded", action="store_true", help="measure only the --url databases")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "benchmarks-interactions.md")
    args = parser.parse_args(argv)
    command = " ".join(sys.argv[1:] if argv is None else argv)
    header = [
        f"Measured {dt.datetime.now():%Y-%m-%d %H:%M} with `python -m bench.interactions {command}`",
        f"on {machine()}; demo data up to {END}; medians of {args.repeat} runs;"
        f" load average before the run {os.getloadavg()[0]:.1f}.",
        "",
    ]
    results: list[InteractionResult] = []
    if not args.no_embedded:
        path = _with_lock_retries(lambda: ensure_database(args.scale))
        url = f"duckdb:///{path}?access_mode=read_only"  # other benchmarks may read the file at the same time
        results += _with_lock_retries(lambda: measure_interactions(url, args.repeat, f"DuckDB, scale {args.scale:g}"))
        dispose_engine(url)
    for url in args.url:
        results += measure_interactions(url, args.repeat)
        dispose_engine(url)
    section = "\n".join(header) + interactions_table(results)
    write_report(args.out, f"{MARK_START}\n{section}\n{MARK_END}")
    print(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
