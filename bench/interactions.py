"""``python -m bench.interactions [--url URL]… [--scale 30] [--repeat N] [--no-embedded]``

Times what a viewer does after the first render, with the requests the pages really build
(``dashboard.core.metric_requests``, ``dashboard.topics.data``, ``dashboard.exports.downloads``):

* **drill** — the cockpit map from the city into its busiest district, and each topic page from
  that district into its busiest street: only the reads that change (the others are cached);
* **filter** — each topic page with its busiest department picked, and the 12345 page with its
  busiest first-level category: only the reads that change;
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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import duckdb
import sqlalchemy as sa

from bench.__main__ import END, MARK_END, MARK_START, REPO_ROOT, ensure_database, machine, route_summary, write_report
from dashboard.core import metric_requests as queries
from dashboard.core.i18n import metric_label, t
from dashboard.core.periods import resolve_period, trend_window
from dashboard.exports.downloads import export_files
from dashboard.topics.data import TOPIC_TABLES, TopicQueries, TopicRender, count_metrics, month_of, topic_render
from dashboard.topics.records import PAGE_SIZES
from dashboard.topics.state import TopicState, Vocabulary, child_level, region_path
from dashboard.topics.tables import detail_frame
from data_access.config.city import ThreeRates, load_city
from data_access.contract import schema
from data_access.runtime.engine import dispose_engine, get_engine
from data_access.semantic.details import DETAIL_COLUMNS, DetailPage, DetailRequest, fetch_details
from data_access.semantic.distributions import HistogramRequest, histogram
from data_access.semantic.metrics import RESULTS, code_names, data_as_of, region_names, run_metrics
from data_access.semantic.query import MetricRequest, OrderBy
from data_access.semantic.rollups.refresh import STATES, read_state

LANG = "zh"
LATER_PAGE = 50  # a page a viewer pages on to (with the first page already shown)
TARGET_SECONDS = 0.5  # issue 9: a drill or filter change under 500 ms
LOCK_RETRIES = 30  # DuckDB allows one writer or many read-only readers: wait for another benchmark's writer
T = TypeVar("T")
NOTHING = TopicRender((), (), ())


@dataclass(frozen=True)
class Step:
    """One interaction: the reads it makes, what is cached before it, and the file it makes (exports)."""

    name: str
    kind: str  # drill | filter | detail | export
    reads: TopicRender
    view_reads: int  # SELECTs of the whole new view (the step makes only the changed ones)
    cached: TopicRender = NOTHING  # made before the step on every run (the view shown before)
    export: str | None = None  # csv | xlsx


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


def selects(reads: TopicRender) -> int:
    """SELECTs a set of reads sends uncached (a detail page is a count and a page)."""
    return len(reads.metrics) + len(reads.histograms) + 2 * len(reads.details)


def changed(after: TopicRender, before: TopicRender) -> TopicRender:
    """The reads of ``after`` that ``before`` did not make: what a change costs with the old view cached."""
    return TopicRender(
        tuple(r for r in after.metrics if r not in before.metrics),
        tuple(r for r in after.histograms if r not in before.histograms),
        tuple(r for r in after.details if r not in before.details),
    )


def vocabulary(engine: sa.Engine) -> Vocabulary:
    """What the page knows about codes (``dashboard.topics.code_names.vocabulary``), read here without Streamlit."""
    regions = region_names(engine)
    c = schema.categories.c
    with engine.connect() as connection:
        categories = {code: domain for code, domain in connection.execute(sa.select(c.code, c.domain))}
    return Vocabulary(
        region_levels=dict(zip(regions["code"], regions["level"], strict=True)),
        parents=dict(zip(regions["code"], regions["parent_code"], strict=True)),
        departments=code_names(engine, "department"),
        categories=categories,
    )


def page_reads(topic: TopicQueries, words: Vocabulary, geo_levels: frozenset[str]) -> TopicRender:
    """The reads of one topic-page render, its map level chosen as ``dashboard.topics.drill_map`` chooses it."""
    region = topic.state.region
    level = child_level(region, words, topic.table)
    within: str | None
    if level is not None and level in geo_levels:
        within = region
    elif region is None:
        level, within = "district", None
    else:  # the finest level the table has: its siblings, inside its parent
        level, within = words.region_levels[region], words.parents.get(region)
    path = region_path(region, words.parents)
    return topic_render(
        topic, map_level=level, map_within=within, district=path[0] if path else None, month=month_of(topic.as_of)
    )


def cockpit_reads(as_of: dt.datetime, district: str | None) -> TopicRender:
    """One big-screen render (``screen_data.gather``'s requests), drilled into ``district`` if given."""
    period, window = resolve_period("month", as_of), trend_window("day", as_of)
    level = "street" if district else "district"  # View.shown_level
    requests = queries.cockpit_requests(period, window, map_level=level, map_district=district)
    return TopicRender(tuple(dict.fromkeys(requests)), (), ())


def busiest(engine: sa.Engine, topic: TopicQueries, dimension: str, rates: ThreeRates) -> str:
    """The value of ``dimension`` with the most records in the view, its filters kept.

    (``bench.topic_pages.busiest`` drops the filters: inside a district it can name another district's street.)
    """
    volume = topic.by(dimension)
    top = replace(volume, metrics=volume.metrics[:1], order_by=(OrderBy(volume.metrics[0], descending=True),), limit=1)
    return str(run_metrics(engine, top, rates, cache=None)[dimension][0])


def interaction_steps(engine: sa.Engine, as_of: dt.datetime, rates: ThreeRates) -> list[Step]:
    """Every step measured, built from the page's own request builders (busiest region, department, …)."""
    words = vocabulary(engine)
    geo_levels = frozenset(load_city().geo)
    city = TopicQueries("complaints", TopicState(), as_of)
    district = busiest(engine, city, "district", rates)  # the cockpit map shows complaints by district
    before, after = cockpit_reads(as_of, None), cockpit_reads(as_of, district)
    steps = [
        Step(f"cockpit: city → district {district}", "drill", changed(after, before), selects(after)),
    ]
    for domain in TOPIC_TABLES:
        base = TopicQueries(domain, TopicState(), as_of)
        shown = page_reads(base, words, geo_levels)
        in_district = replace(base, state=TopicState(region=district))
        street = busiest(engine, in_district, "street", rates)
        drilled = page_reads(replace(base, state=TopicState(region=street)), words, geo_levels)
        steps.append(
            Step(
                f"{domain}: district {district} → street {street}",
                "drill",
                changed(drilled, page_reads(in_district, words, geo_levels)),
                selects(drilled),
            )
        )
        department = busiest(engine, base, "department", rates)
        filtered = page_reads(replace(base, state=TopicState(department=department)), words, geo_levels)
        steps.append(Step(f"{domain}: department {department}", "filter", changed(filtered, shown), selects(filtered)))
        if domain == "complaints":
            category = busiest(engine, base, "category_l1", rates)
            filtered = page_reads(replace(base, state=TopicState(category=category)), words, geo_levels)
            steps.append(Step(f"{domain}: category {category}", "filter", changed(filtered, shown), selects(filtered)))
    for domain in TOPIC_TABLES:
        steps.extend(detail_steps(engine, TopicQueries(domain, TopicState(), as_of), rates))
    steps.extend(export_steps(TopicQueries("complaints", TopicState(), as_of)))
    return steps


def detail_request(topic: TopicQueries, page: int, page_size: int = PAGE_SIZES[0]) -> DetailRequest:
    """The detail table's request with its default widgets (first count metric, first sort column, descending)."""
    table = topic.table
    return topic.details(
        count_metrics(table)[0], sort=DETAIL_COLUMNS[table][1], descending=True, page=page, page_size=page_size
    )


def _only(request: DetailRequest) -> TopicRender:
    return TopicRender((), (), (request,))


def detail_steps(engine: sa.Engine, topic: TopicQueries, rates: ThreeRates) -> list[Step]:
    """Page 1 opened cold; page ``LATER_PAGE`` and the last page with page 1 (and the count) cached."""
    first = detail_request(topic, 1)
    # The count metric counts exactly the list's records; asked here so the detail SQL stays uncompiled.
    total = int(run_metrics(engine, first.metric_request(), rates, cache=None)[first.metric_name][0] or 0)
    size = first.page_size
    pages = max(1, -(-total // size))
    steps = [Step(f"{topic.domain}: detail page 1 of {pages:,} ({size} rows)", "detail", _only(first), 2)]
    for number in dict.fromkeys((min(LATER_PAGE, pages), pages)):
        if number > 1:
            steps.append(
                Step(
                    f"{topic.domain}: detail page {number:,} of {pages:,}",
                    "detail",
                    _only(detail_request(topic, number)),
                    2,
                    cached=_only(first),
                )
            )
    return steps


def export_steps(topic: TopicQueries) -> list[Step]:
    """The CSV and XLSX download of the detail table at its largest page size."""
    request = detail_request(topic, 1, PAGE_SIZES[-1])
    return [
        Step(
            f"{topic.domain}: export {fmt.upper()} ({request.page_size} rows)", "export", _only(request), 2, export=fmt
        )
        for fmt in ("csv", "xlsx")
    ]


def detail_names(engine: sa.Engine) -> dict[str, Mapping[str, str]]:
    """Names for the code columns of a detail table (``dashboard.topics.records``; cached by the app)."""
    categories = code_names(engine, "category_l1")  # every category, whatever its level
    return {
        "department_code": code_names(engine, "department"),
        "district_code": code_names(engine, "district"),
        "street_code": code_names(engine, "street"),
        "grid_code": code_names(engine, "grid"),
        "category_l1_code": categories,
        "category_l3_code": categories,
        "major_category_code": categories,
    }


def export_file(page: DetailPage, table: str, metric: str, fmt: str, names: Mapping[str, Mapping[str, str]]) -> bytes:
    """The file the detail table's download button makes (``records.detail_table`` → ``downloads``)."""
    frame = detail_frame(page.rows, table, names, LANG)
    title = f"{t('detail_title', LANG)} · {metric_label(metric, LANG)}"
    (file,) = [f for f in export_files(None, frame, title=title, stem=title) if f.fmt == fmt]
    return file.make()


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
    return rows, len(export_file(pages[0], request.table, request.metric_name, step.export, names))


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
    engine: sa.Engine, step: Step, rates: ThreeRates, names: Mapping[str, Mapping[str, str]], repeat: int
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
    steps = interaction_steps(engine, as_of, rates)
    names = detail_names(engine)
    words, geo_levels = vocabulary(engine), frozenset(load_city().geo)
    clear_caches()
    for domain in TOPIC_TABLES:  # the pages a viewer has seen before drilling or filtering
        run_reads(engine, page_reads(TopicQueries(domain, TopicState(), as_of), words, geo_levels), rates)
    run_reads(engine, cockpit_reads(as_of, None), rates)
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
        "the SELECTs of the whole new view (a drill or filter makes only those that changed).",
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
