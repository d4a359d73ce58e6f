"""The interactions ``bench.interactions`` times, built with the requests the pages really build.

Each :class:`Step` is a drill, a filter change, a detail page or an export: the reads it makes
(only those that change from the view before), the reads cached before it, and the file it makes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

import sqlalchemy as sa

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
from data_access.semantic.details import DETAIL_COLUMNS, DetailPage, DetailRequest
from data_access.semantic.metrics import code_names, region_names, run_metrics
from data_access.semantic.query import OrderBy

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
