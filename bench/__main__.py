"""``python -m bench [--scale 1,30] [--quick] [--repeat N] [--out docs/benchmarks.md]``

Measures, on the embedded engine, the complete set of metric queries one render of the cockpit
page issues (the very MetricRequests the page builds, from ``dashboard.queries``):

* **ours, cold** — through the metric layer with an empty result cache;
* **ours, warm** — the same render again, answered from the shared result cache;
* **engine floor** — the same SQL, rendered once, run directly on DuckDB's own connection;
* **usual way** — what many Streamlit dashboards do: read the whole fact tables into a DataFrame
  on each render and filter and aggregate in Python (here only the volume KPIs and trends, a
  subset of the cockpit's work, so the usual way is flattered).

Demo databases are generated once per scale into ``data/bench/`` by a separate process (so this
process's peak memory is the app's, not the generator's) and reused afterwards. Results are
medians of ``--repeat`` runs, written as a markdown table. Not part of the test suite.
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

import duckdb
import polars as pl
import sqlalchemy as sa

from dashboard import queries
from dashboard.periods import resolve_period, trend_window
from dashboard.queries import DOMAIN_TABLES, DOMAINS, VOLUME_METRIC
from data_access.cache import ResultCache
from data_access.compiler import compile_request
from data_access.engine import REPO_ROOT, dispose_engine, get_engine, read_meta
from data_access.metric_registry import TIME_COLUMN
from data_access.metrics import data_as_of, run_metrics
from data_access.query import MetricRequest
from data_access.settings import load_city

BENCH_DIR = REPO_ROOT / "data" / "bench"
END = dt.date(2026, 10, 31)  # fixed, so every run measures the same data


@dataclass(frozen=True)
class Result:
    scale: float
    rows: dict[str, int]
    ours_cold: float
    ours_warm: float
    floor: float
    usual: float
    first_render: float
    peak_ours_mib: float  # max RSS before the usual-way comparison loads whole tables


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
            frame = pl.read_database(f"SELECT * FROM {table}", connection)
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


def measure(scale: float, repeat: int) -> Result:
    path = ensure_database(scale)
    url = f"duckdb:///{path}"
    engine = get_engine(url)
    rates = load_city().three_rates
    as_of = data_as_of(engine)
    assert as_of is not None, f"{path} holds no records"
    requests = cockpit_requests(as_of)
    with engine.connect() as connection:
        rows = {
            table: connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() for table in TIME_COLUMN
        }

    def render(cache: ResultCache[pl.DataFrame]) -> None:
        for request in requests:
            run_metrics(engine, request, rates, cache=cache)

    began = time.perf_counter()
    render(ResultCache())  # the first render after start: data files not yet in memory
    first_render = time.perf_counter() - began

    cold = median_seconds(lambda: render(ResultCache()), repeat)
    shared: ResultCache[pl.DataFrame] = ResultCache(ttl_seconds=3600)
    render(shared)
    warm = median_seconds(lambda: render(shared), repeat)

    dialect = engine.dialect
    sql = [
        str(
            compile_request(request, rates, dialect.name).compile(
                dialect=dialect, compile_kwargs={"literal_binds": True}
            )
        )
        for request in requests
    ]
    raw = engine.raw_connection()
    try:
        # duckdb-engine wraps DuckDB's connection; take DuckDB's own to leave no Python layer between.
        native = getattr(raw.driver_connection, "_ConnectionWrapper__c", raw.driver_connection)
        assert isinstance(native, duckdb.DuckDBPyConnection), type(native)
        floor = median_seconds(lambda: [native.execute(text).fetchall() for text in sql], repeat)
    finally:
        raw.close()
    peak_ours = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # polars' note on Arrow copies: part of the usual way
        usual = median_seconds(lambda: usual_way(engine, requests), max(1, min(repeat, 3)))
    dispose_engine(url)
    return Result(scale, rows, cold, warm, floor, usual, first_render, peak_ours)


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


def report(results: list[Result], repeat: int, requests: int) -> str:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        "# Benchmarks",
        "",
        f"Measured {dt.datetime.now():%Y-%m-%d %H:%M} with `python -m bench {' '.join(sys.argv[1:])}`",
        f"on {machine()}.",
        "",
        f"One cockpit render = the {requests} metric queries the big-screen cockpit issues (KPIs of this month",
        "and the previous period, the city map, 30-day trends and their comparison for the three domains,",
        "the street and department rankings, and the overdue items behind the alert ticker).",
        f"Times are medians of {repeat} runs, in milliseconds.",
        "",
        "| scale | rows per fact table (services / complaints / grid) | first render | ours, cold | ours, warm "
        "| engine floor | usual way | ours ÷ floor | usual ÷ ours | peak memory, ours (MiB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        counts = " / ".join(f"{r.rows[t]:,}" for t in ("service_cases", "complaints", "grid_events"))
        lines.append(
            f"| {r.scale:g} | {counts} | {r.first_render * 1000:,.0f} | {r.ours_cold * 1000:,.0f} "
            f"| {r.ours_warm * 1000:,.2f} | {r.floor * 1000:,.0f} | {r.usual * 1000:,.0f} "
            f"| {r.ours_cold / r.floor:.2f} | {r.usual / r.ours_cold:,.0f} | {r.peak_ours_mib:,.0f} |"
        )
    lines += [
        "",
        "*Peak memory, ours* is the benchmark process's max RSS after our measurements (before the",
        f"usual-way comparison loads whole tables); with that comparison the process peaked at {peak:,.0f} MiB.",
        "",
        "- *first render*: the first render after opening the database (its data not yet read into memory);",
        "- *ours, cold*: through the metric layer with an empty result cache;",
        "- *ours, warm*: the same render again, answered by the shared result cache (what the 2nd … 20th",
        "  wall screen costs);",
        "- *engine floor*: the same SQL text run on DuckDB's own connection, with no Python layer;",
        "- *usual way*: read each fact table whole into polars on every render, then filter and count —",
        "  only the volume KPIs and trends, so it is flattered.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--scale", default="1", help="comma-separated demo scales (1 ≈ 0.35M rows per fact table)")
    parser.add_argument("--quick", action="store_true", help="scale 0.1 and 3 repetitions, for a smoke run")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    scales = [0.1] if args.quick else [float(part) for part in args.scale.split(",")]
    repeat = 3 if args.quick else args.repeat
    results = [measure(scale, repeat) for scale in scales]
    text = report(results, repeat, len(cockpit_requests(dt.datetime(2026, 10, 31, 12))))
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
