"""What a topic page shows, kept in its URL so a copied link reproduces the view. Pure functions.

URL parameters (all optional; defaults are left out of the URL):

* ``period`` — a preset (``today``, ``week``, ``month``, ``last_30_days``, ``last_12_months``) or
  ``custom`` with ``start`` and ``end`` (ISO dates, half-open: ``end`` is the day after the last);
  ``start``/``end`` alone mean ``custom`` (the links of the alert ticker look like that);
* ``compare`` — ``previous`` (环比, default) or ``last_year`` (同比);
* ``district``, ``street``, ``community``, ``grid`` — the region drilled into (the finest wins; the
  coarser ones are written too, so the link reads as a path);
* ``department``, ``category`` (a code at any level of the tree), ``channel`` (services and
  complaints) or ``source`` (grid events), ``grain`` (``day``, ``week``, ``month``).

Anything unknown or malformed — a region code that does not exist, a backwards range, a category of
another domain — is dropped and named in the returned notices; parsing never raises, and nothing in
the URL can widen what the viewer may see (scope is applied by the metric layer, separately).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from dashboard.core.links import category_dimension, parse_link
from dashboard.core.periods import (
    GRAINS,
    PERIODS,
    Period,
    Shift,
    TrendWindow,
    custom_period,
    resolve_period,
    trend_window,
)
from data_access.contract.schema import ALLOWED_VALUES
from data_access.semantic.model import DIMENSION_COLUMNS, MODELS
from data_access.semantic.query import REGION_DIMENSIONS, Filter, TimeRange

CUSTOM = "custom"
COMPARISONS: tuple[str, ...] = ("previous", "last_year")
DEFAULT_PERIOD = "month"
DEFAULT_GRAIN = "day"
# The "how did it reach us" dimension of each table, and the URL parameter that carries it.
CHANNEL_DIMENSION: dict[str, str] = {name: model.channel_dimension for name, model in MODELS.items()}
STATE_PARAMS: tuple[str, ...] = (
    "period",
    "start",
    "end",
    "compare",
    *REGION_DIMENSIONS,
    "department",
    "category",
    "channel",
    "source",
    "grain",
)


def region_levels(table: str) -> tuple[str, ...]:
    """The region levels a table's records carry (service cases stop at the street)."""
    return tuple(level for level in REGION_DIMENSIONS if table in DIMENSION_COLUMNS[level])


def channel_values(table: str) -> tuple[str, ...]:
    dimension = CHANNEL_DIMENSION[table]
    return ALLOWED_VALUES[(table, dimension)]


@dataclass(frozen=True)
class Vocabulary:
    """What a URL may name: every region (code → level and parent), department and category."""

    region_levels: Mapping[str, str]
    parents: Mapping[str, str | None]
    departments: Mapping[str, str]
    categories: Mapping[str, str]  # code → domain (the fact table it classifies)


@dataclass(frozen=True)
class TopicState:
    """The view: period, comparison, region drilled into, department, category, channel, grain."""

    period: str = DEFAULT_PERIOD
    custom: TimeRange | None = None  # when period == "custom": half-open, whole days
    compare: str = "previous"
    region: str | None = None
    department: str | None = None
    category: str | None = None
    channel: str | None = None
    grain: str = DEFAULT_GRAIN


def region_path(code: str | None, parents: Mapping[str, str | None]) -> list[str]:
    """The chain from the district down to ``code`` (empty for the whole city)."""
    path: list[str] = []
    seen: set[str] = set()
    while code and code not in seen:
        seen.add(code)
        path.append(code)
        code = parents.get(code)
    return path[::-1]


def parse_state(params: Mapping[str, str], vocabulary: Vocabulary, table: str) -> tuple[TopicState, tuple[str, ...]]:
    """The page's state from its query parameters, and the parameters it had to ignore."""
    link = parse_link(
        params,
        vocabulary.region_levels,
        vocabulary.departments,
        {code: code for code in vocabulary.categories},
    )
    notices = list(link.notices)
    region = link.finest_region
    if region is not None and vocabulary.region_levels.get(region) not in region_levels(table):
        notices.append(f"{vocabulary.region_levels.get(region)}={region}")
        region = next(
            (code for code in reversed(region_path(region, vocabulary.parents))
             if vocabulary.region_levels.get(code) in region_levels(table)),
            None,
        )  # fmt: skip
    if region is not None and not _consistent(link.regions, vocabulary.parents):
        notices.append("&".join(f"{level}={code}" for level, code in link.regions))
        region = None
    category = link.category
    if category is not None and (
        vocabulary.categories.get(category) != table
        or table not in DIMENSION_COLUMNS.get(category_dimension(category), {})
    ):
        notices.append(f"category={category}")
        category = None
    period, custom = _period(params, link.time_range, notices)
    compare = params.get("compare", "previous")
    if compare not in COMPARISONS:
        notices.append(f"compare={compare}")
        compare = "previous"
    channel_param = CHANNEL_DIMENSION[table]
    channel = params.get(channel_param)
    if channel is not None and channel not in channel_values(table):
        notices.append(f"{channel_param}={channel}")
        channel = None
    other = "source" if channel_param == "channel" else "channel"
    if other in params:
        notices.append(f"{other}={params[other]}")
    grain = params.get("grain", DEFAULT_GRAIN)
    if grain not in GRAINS:
        notices.append(f"grain={grain}")
        grain = DEFAULT_GRAIN
    state = TopicState(period, custom, compare, region, link.department, category, channel, grain)
    return state, tuple(dict.fromkeys(notices))


def _consistent(regions: Sequence[tuple[str, str]], parents: Mapping[str, str | None]) -> bool:
    """Each region named in the URL lies inside the coarser one named before it."""
    codes = [code for _, code in regions]
    return all(parent in region_path(child, parents) for parent, child in itertools.pairwise(codes))


def _period(
    params: Mapping[str, str], time_range: TimeRange | None, notices: list[str]
) -> tuple[str, TimeRange | None]:
    period = params.get("period")
    if period is None:
        return (CUSTOM, time_range) if time_range is not None else (DEFAULT_PERIOD, None)
    if period == CUSTOM:
        if time_range is None:
            if "start" not in params and "end" not in params:
                notices.append("period=custom")
            return DEFAULT_PERIOD, None
        return CUSTOM, time_range
    if period not in PERIODS:
        notices.append(f"period={period}")
        return DEFAULT_PERIOD, None
    if time_range is not None:  # a preset and a range: the preset wins, the range is named
        notices.append(f"start={params.get('start')}&end={params.get('end')}")
    return period, None


def state_params(state: TopicState, parents: Mapping[str, str | None], table: str) -> dict[str, str]:
    """The query parameters that reproduce ``state`` (defaults left out)."""
    params: dict[str, str] = {}
    if state.period == CUSTOM and state.custom is not None:
        params["period"] = CUSTOM
        params["start"] = state.custom.start.date().isoformat()
        params["end"] = state.custom.end.date().isoformat()
    elif state.period != DEFAULT_PERIOD:
        params["period"] = state.period
    if state.compare != "previous":
        params["compare"] = state.compare
    for level, code in zip(REGION_DIMENSIONS, region_path(state.region, parents), strict=False):
        params[level] = code
    if state.department:
        params["department"] = state.department
    if state.category:
        params["category"] = state.category
    if state.channel:
        params[CHANNEL_DIMENSION[table]] = state.channel
    if state.grain != DEFAULT_GRAIN:
        params["grain"] = state.grain
    return params


def state_filters(state: TopicState, table: str, *, without: str | None = None) -> tuple[Filter, ...]:
    """Request filters for the view; ``without`` leaves one out (a breakdown by that dimension)."""
    filters: list[Filter] = []
    if state.region and without != "region":
        filters.append(Filter("region", (state.region,)))
    if state.department and without != "department":
        filters.append(Filter("department", (state.department,)))
    if state.category and without != "category":
        filters.append(Filter(category_dimension(state.category), (state.category,)))
    if state.channel and without != "channel":
        filters.append(Filter(CHANNEL_DIMENSION[table], (state.channel,)))
    return tuple(filters)


def state_period(state: TopicState, as_of: dt.datetime) -> Period:
    """The period at ``as_of``, with ``previous`` replaced by the chosen comparison."""
    period = (
        custom_period(state.custom, as_of)
        if state.period == CUSTOM and state.custom is not None
        else resolve_period(state.period, as_of)
    )
    if state.compare == "last_year":
        return replace(period, previous=period.last_year)
    return period


def state_trend_window(state: TopicState, as_of: dt.datetime) -> TrendWindow:
    """The trend's buckets; with ``compare=last_year`` the dashed line is the same window a year earlier."""
    window = trend_window(state.grain, as_of)
    if state.compare != "last_year" or window.shift == Shift(months=12):
        return window
    year = Shift(months=12)
    return TrendWindow(window.grain, window.current, year.range_back(window.current), year)


def drill(state: TopicState, code: str | None) -> TopicState:
    """The state with ``code`` as the region drilled into (``None``: the whole city)."""
    return replace(state, region=code)


def child_level(region: str | None, vocabulary: Vocabulary, table: str) -> str | None:
    """The level the map shows below ``region``; ``None`` at the finest level the table has."""
    levels = region_levels(table)
    if region is None:
        return levels[0]
    level = vocabulary.region_levels.get(region)
    if level not in levels:
        return None
    index = levels.index(level)
    return levels[index + 1] if index + 1 < len(levels) else None
