"""``python -m bench [--rows 1e6,1e7 | --scale 1,30] [--url URL] [--quick] [--repeat N] [--out FILE] [--interactions]``

(``python -m bench --browser [--scale S] [--url URL] [--rounds N]`` times the pages in a browser
instead, against their Streamlit floor: ``bench.browser``.)

Measures the complete set of metric queries one render of the cockpit page issues (the very
MetricRequests the page builds, from ``dashboard.core.metric_requests``), on the embedded engine at each scale
and, with ``--url``, on a server database that holds the demo city (``python -m data_access.demo
--url URL``):

* **ours, cold** — through the metric layer with an empty result cache (rollup state re-read);
* **ours, warm** — the same render again, answered from the shared result cache;
* **facts only** — the same requests compiled without the rollups (what the cockpit cost before
  ``data_access.semantic.rollups.refresh``), executed through SQLAlchemy;
* **engine floor** — the SQL the metric layer sends, rendered once, run directly on the engine's own
  connection (DuckDB's, psycopg's, the MySQL driver's);
* **usual way** — what many Streamlit dashboards do: read the whole fact tables into a DataFrame
  on each render and filter and aggregate in Python (here only the volume KPIs and trends, a
  subset of the cockpit's work, so the usual way is flattered).

With ``--interactions`` it then times what a viewer does next (``bench.interactions``: a drill, a
filter change, detail pages, an export) on the largest embedded scale and each ``--url``.
Ingestion is measured by ``python -m bench.ingest`` (a child process per file, see docs/ingest.md).

Demo databases are generated once per scale into ``data/bench/`` by a separate process (so this
process's peak memory is the app's, not the generator's) and reused afterwards; a reused database
without rollups gets them refreshed first. Results are medians of ``--repeat`` runs, written as a
markdown table. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import sqlalchemy as sa

from dashboard.core import metric_requests as queries
from dashboard.core.metric_requests import DOMAIN_TABLES, DOMAINS, VOLUME_METRIC
from dashboard.core.periods import resolve_period, trend_window
from data_access.config.city import ThreeRates, load_city
from data_access.runtime.cache import ResultCache
from data_access.runtime.engine import dispose_engine, get_engine, read_meta
from data_access.runtime.paths import REPO_ROOT
from data_access.semantic.compiler import compile_request
from data_access.semantic.metric_registry import TIME_COLUMN
from data_access.semantic.metrics import build_statement, data_as_of, run_metrics
from data_access.semantic.query import MetricRequest
from data_access.semantic.rollups.refresh import STATES, read_state, refresh_rollups
from data_access.semantic.rollups.routing import sources

BENCH_DIR = REPO_ROOT / "data" / "bench"
END = dt.date(2026, 10, 31)  # fixed, so every run measures the same data
ROWS_PER_SCALE = 333_000  # rows per fact table at scale 1 (two years of the demo city)


@dataclass(frozen=True)
class Result:
    label: str
    rows: dict[str, int]
    ours_cold: float
    ours_warm: float
    facts_only: float
    floor: float
    usual: float | None
    first_render: float
    peak_ours_mib: float  # max RSS before the usual-way comparison loads whole tables
    routes: str  # how many requests read rollups / open items / facts


def cockpit_requests(as_of: dt.datetime) -> list[MetricRequest]:
    """Every metric request one render of the big-screen cockpit issues (period: this month, city map)."""
    return queries.cockpit_requests(resolve_period("month", as_of), trend_window("day", as_of))


def ensure_database(scale: float) -> Path:
    """The demo at this scale, generated once by a child process and reused."""
    path = BENCH_DIR / f"demo_scale_{scale:g}.duckdb"
    if path.exists():
        engine = get_engine(f"duckdb:///{path}")
        same = read_meta(engine).get("scale") in (str(scale), f"{scale:g}", repr(float(scale)))
        dispose_engine(f"duckdb:///{path}")
        if same:
            return path
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "data_access.demo", "--scale", str(scale), "--end", END.isoformat()]
    print(f"generating the demo at scale {scale:g} into {path} …", flush=True)
    subprocess.run([*command, "--url", f"duckdb:///{path}"], check=True, cwd=REPO_ROOT)
    return path


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        timings.append(time.perf_counter() - began)
    return statistics.median(timings)


def usual_way(engine: sa.Engine, requests: list[MetricRequest]) -> None:
    """Read each fact table whole, then count the volume KPIs and daily trends in polars."""
    for domain in DOMAINS:
        table = DOMAIN_TABLES[domain]
        with engine.connect() as connection:
            # Every row decides the schema: psycopg hands polars plain rows, and a column NULL in the
            # first 100 (complaints.repeat_of) was typed Null, failing at its first value ("could not
            # append value … increase infer_schema_length"). The embedded DuckDB never hit it.
            frame = pl.read_database(f"SELECT * FROM {table}", connection, infer_schema_length=None)
        time_column = TIME_COLUMN[table]
        for request in requests:
            if request.time_range is None or VOLUME_METRIC[domain] not in request.metrics:
                continue
            rows = frame.filter(
                (pl.col(time_column) >= request.time_range.start) & (pl.col(time_column) < request.time_range.end)
            )
            if request.dimensions:
                rows.group_by(pl.col(time_column).dt.date()).len()
            else:
                rows.height  # noqa: B018 - the count is the work


def ensure_rollups(url: str) -> None:
    """A database generated before rollups existed gets them, so the render measured is today's."""
    engine = get_engine(url)
    state = read_state(engine)
    if state is None or set(state.watermarks) != set(TIME_COLUMN):  # some table's aggregates are missing
        print(f"refreshing rollups in {engine.url.render_as_string(hide_password=True)} …", flush=True)
        with engine.begin() as connection:
            refresh_rollups(connection)


def native_connection(raw: Any) -> Any:
    """The driver's own connection: duckdb-engine wraps DuckDB's; psycopg and PyMySQL are used as they are."""
    return getattr(raw.driver_connection, "_ConnectionWrapper__c", raw.driver_connection)


def route_summary(engine: sa.Engine, requests: list[MetricRequest]) -> str:
    state = read_state(engine)
    counts = {"rollup": 0, "open": 0, "fact": 0}
    for request in requests:
        for source, names in (sources(request, state) if state else {"fact": list(request.metrics)}).items():
            counts[source] += len(names)
    return f"{counts['rollup']} / {counts['open']} / {counts['fact']}"


def native_floor(engine: sa.Engine, requests: list[MetricRequest], rates: ThreeRates, repeat: int) -> float:
    """Median seconds of the same SQL (literal values) run on the driver's own connection: the floor."""
    dialect = engine.dialect
    state = read_state(engine)
    sql = [
        str(
            build_statement(request, rates, dialect, state).compile(
                dialect=dialect, compile_kwargs={"literal_binds": True}
            )
        )
        for request in requests
    ]
    raw = engine.raw_connection()
    try:
        native = native_connection(raw)

        def run_native() -> None:
            if isinstance(native, duckdb.DuckDBPyConnection):
                for text in sql:
                    native.execute(text).fetchall()
                return
            cursor = native.cursor()
            for text in sql:
                cursor.execute(text)  # no parameters: the drivers leave the text as it is
                cursor.fetchall()
            cursor.close()
            native.rollback()

        floor = median_seconds(run_native, repeat)
    finally:
        raw.close()
    return floor


def measure(url: str, label: str, repeat: int, usual: bool) -> Result:
    ensure_rollups(url)
    engine = get_engine(url)
    rates = load_city().three_rates
    as_of = data_as_of(engine)
    assert as_of is not None, f"{url} holds no records"
    requests = cockpit_requests(as_of)
    with engine.connect() as connection:
        rows = {
            table: connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() for table in TIME_COLUMN
        }

    def render(cache: ResultCache[pl.DataFrame], cold: bool = True) -> None:
        if cold:
            STATES.clear()  # the rollup state is read again too
        for request in requests:
            run_metrics(engine, request, rates, cache=cache)

    began = time.perf_counter()
    render(ResultCache())  # the first render after start: data files not yet in memory
    first_render = time.perf_counter() - began

    cold = median_seconds(lambda: render(ResultCache()), repeat)
    shared: ResultCache[pl.DataFrame] = ResultCache(ttl_seconds=3600)
    render(shared)
    warm = median_seconds(lambda: render(shared, cold=False), repeat)

    def facts_only() -> None:
        with engine.connect() as connection:
            for request in requests:
                connection.execute(compile_request(request, rates, engine.dialect.name)).all()

    facts = median_seconds(facts_only, repeat)

    floor = native_floor(engine, requests, rates, repeat)
    peak_ours = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    usual_seconds = None
    if usual:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # polars' note on Arrow copies: part of the usual way
            usual_seconds = median_seconds(lambda: usual_way(engine, requests), max(1, min(repeat, 3)))
    routes = route_summary(engine, requests)
    dispose_engine(url)
    return Result(label, rows, cold, warm, facts, floor, usual_seconds, first_render, peak_ours, routes)


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, SQLAlchemy {sa.__version__}, "
        f"polars {pl.__version__}"
    )


def _ms(seconds: float | None, digits: int = 0) -> str:
    return "—" if seconds is None else f"{seconds * 1000:,.{digits}f}"


def report(results: list[Result], repeat: int, requests: int) -> str:
    """The measured section of docs/benchmarks.md (between the bench markers)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        MARK_START,
        f"Measured {dt.datetime.now():%Y-%m-%d %H:%M} with `python -m bench {' '.join(sys.argv[1:])}`",
        f"on {machine()}; load average before the run {os.getloadavg()[0]:.1f}.",
        "",
        f"One cockpit render = the {requests} metric queries the big-screen cockpit issues (KPIs of this month",
        "and the previous period, the city map, 30-day trends and their comparison for the three domains,",
        "the street and department rankings, and the overdue items behind the alert ticker).",
        f"Times are medians of {repeat} runs, in milliseconds.",
        "",
        "| database | rows per fact table (services / complaints / grid) | first render | ours, cold | ours, warm "
        "| facts only | engine floor | usual way | ours ÷ floor | usual ÷ ours | facts only ÷ ours "
        "| metrics from rollups / open items / facts | peak memory, ours (MiB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        counts = " / ".join(f"{r.rows[t]:,}" for t in ("service_cases", "complaints", "grid_events"))
        usual_ratio = "—" if r.usual is None else f"{r.usual / r.ours_cold:,.0f}"
        lines.append(
            f"| {r.label} | {counts} | {_ms(r.first_render)} | {_ms(r.ours_cold)} | {_ms(r.ours_warm, 2)} "
            f"| {_ms(r.facts_only)} | {_ms(r.floor)} | {_ms(r.usual)} | {r.ours_cold / r.floor:.2f} | {usual_ratio} "
            f"| {r.facts_only / r.ours_cold:.1f} | {r.routes} | {r.peak_ours_mib:,.0f} |"
        )
    lines += [
        "",
        "*Peak memory, ours* is the benchmark process's max RSS after our measurements (before the",
        f"usual-way comparison loads whole tables); with that comparison the process peaked at {peak:,.0f} MiB.",
        "",
        "- *first render*: the first render after opening the database (its data not yet read into memory);",
        "- *ours, cold*: through the metric layer with an empty result cache (and the rollup state read again);",
        "- *ours, warm*: the same render again, answered by the shared result cache (what the 2nd … 20th",
        "  wall screen costs);",
        "- *facts only*: the same requests compiled without rollups, run through SQLAlchemy;",
        "- *engine floor*: the SQL the metric layer sends, run on the driver's own connection, with no Python layer;",
        "- *usual way*: read each fact table whole into polars on every render, then filter and count —",
        "  only the volume KPIs and trends, so it is flattered (not run on servers: `--usual` to force).",
        MARK_END,
    ]
    return "\n".join(lines)


MARK_START = "<!-- bench:start (written by python -m bench; edit outside the markers) -->"
MARK_END = "<!-- bench:end -->"


def write_report(path: Path, section: str) -> None:
    """Replace the measured section, keep the hand-written analysis around it."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    if MARK_START in text and MARK_END in text:
        before, rest = text.split(MARK_START, 1)
        after = rest.split(MARK_END, 1)[1]
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rows", help="comma-separated rows per fact table, e.g. 1e6,1e7 (sets the demo scale)")
    parser.add_argument("--scale", default="1", help="comma-separated demo scales (1 ≈ 0.33M rows per fact table)")
    parser.add_argument("--url", action="append", default=[], help="also measure this database (holding the demo)")
    parser.add_argument("--quick", action="store_true", help="scale 0.1 and 3 repetitions, for a smoke run")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--usual", action="store_true", help="run the usual-way comparison on --url servers too")
    parser.add_argument("--no-embedded", action="store_true", help="measure only the --url databases")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "benchmarks.md")
    parser.add_argument(
        "--interactions",
        action="store_true",
        help="also time a drill, a filter change, detail pages and an export on the largest embedded scale and "
        "each --url (bench.interactions; written to docs/benchmarks-interactions.md)",
    )
    parser.add_argument(
        "--browser",
        action="store_true",
        help="time the pages in Chromium against their Streamlit floor instead (bench.browser; first --scale "
        "or the first --url; written to --out between the browser-bench markers)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="--browser: rounds, each on a fresh server")
    args = parser.parse_args(argv)
    if args.browser:
        from bench import browser

        command = " ".join(sys.argv[1:] if argv is None else argv)
        scale = float(args.scale.split(",")[0])
        print(browser.run(scale, args.url[0] if args.url else None, args.rounds, args.out, command))
        return 0
    if args.quick:
        scales = [0.1]
    elif args.rows:
        scales = [round(float(part) / ROWS_PER_SCALE, 2) for part in args.rows.split(",")]
    else:
        scales = [float(part) for part in args.scale.split(",")]
    repeat = 3 if args.quick else args.repeat
    results = []
    if not args.no_embedded:
        for scale in scales:
            path = ensure_database(scale)
            results.append(measure(f"duckdb:///{path}", f"DuckDB, scale {scale:g}", repeat, usual=True))
    for url in args.url:
        name = sa.make_url(url)
        label = f"{name.get_backend_name()} `{name.database}`"
        results.append(measure(url, label, repeat, usual=args.usual))
    section = report(results, repeat, len(cockpit_requests(dt.datetime(2026, 10, 31, 12))))
    write_report(args.out, section)
    print(section)
    if args.interactions:
        from bench import interactions

        more = ["--scale", f"{max(scales):g}", "--repeat", str(repeat)]
        more += [part for url in args.url for part in ("--url", url)]
        interactions.main([*more, "--no-embedded"] if args.no_embedded else more)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
