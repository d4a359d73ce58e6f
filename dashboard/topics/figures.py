"""Figures and tables of the topic pages: polars frames in, ``go.Figure`` or display frames out. No Streamlit.

Every clickable chart carries the code behind each bar or sector in ``customdata`` so a click can
be turned back into a filter (``clicked_code``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
import polars as pl

from dashboard.charts import theme
from dashboard.charts.figures import category_names
from dashboard.core.formatting import format_number, format_value, scaled
from dashboard.core.i18n import metric_label, t
from data_access.contract.schema import SERVICE_RATINGS
from data_access.semantic.metric_defs import Unit
from data_access.semantic.metric_registry import METRICS

SELECTED = "#E08E0B"  # the bar or sector the page is filtered to
# Share-of-limit bins, from comfortably early (green) to far over the limit (red).
LIMIT_COLOURS: tuple[str, ...] = ("#1E9E6A", "#5DB585", "#A7CF8E", "#E3C25B", "#E58A3A", "#D64545", "#9E1F1F")


def clicked_code(selection: Any, codes: Sequence[str]) -> str | None:
    """The code of the bar or sector a viewer clicked (``st.plotly_chart`` selection state), if any."""
    try:
        points = selection["selection"]["points"]
    except (KeyError, TypeError):
        return None
    for point in points or []:
        if not isinstance(point, Mapping):
            continue
        data = point.get("customdata")
        if isinstance(data, list):
            data = data[0] if data else None
        named = [value for value in (data, point.get("id")) if isinstance(value, str)]
        if named:  # the point says which code it is: trust only that
            found = next((value for value in named if value in codes), None)
            if found is not None:
                return found
            continue
        index = point.get("point_index", point.get("point_number"))
        if isinstance(index, int) and 0 <= index < len(codes):
            return codes[index]
    return None


def clickable_bar(
    frame: pl.DataFrame,
    *,
    dimension: str,
    value: str,
    names: Mapping[str, str],
    lang: str,
    selected: str | None = None,
    title: str | None = None,
    rate: str | None = None,
    max_bars: int = 15,
) -> go.Figure:
    """Horizontal bars of ``value`` per ``dimension`` value, largest first; the selected one highlighted.

    ``rate`` adds the rate of each row to its hover text (e.g. on-time completion beside volume).
    """
    shown = frame.drop_nulls(dimension).sort(value, descending=True, nulls_last=True).head(max_bars)
    unit = METRICS[value].unit
    codes = [str(code) for code in shown[dimension].to_list()]
    labels = category_names(shown, dimension, names, lang)
    values = shown[value].to_list()
    hover = [format_value(v, unit, lang) for v in values]
    if rate is not None and rate in shown.columns:
        rates = shown[rate].to_list()
        hover = [
            f"{h}<br>{metric_label(rate, lang)} {format_value(r, METRICS[rate].unit, lang)}"
            for h, r in zip(hover, rates, strict=True)
        ]
    bar = go.Bar(
        x=[None if v is None else scaled(v, unit) for v in values],
        y=labels,
        orientation="h",
        marker={"color": [SELECTED if code == selected else theme.PRIMARY for code in codes]},
        text=[format_value(v, unit, lang) for v in values],
        textposition="outside",
        cliponaxis=False,
        customdata=codes,
        hovertext=hover,
        hovertemplate="%{y}: %{hovertext}<extra></extra>",
    )
    fig = theme.base_layout(go.Figure(bar), title=title, height=max(240, 80 + 26 * len(labels)))
    top = max([scaled(v, unit) for v in values if v is not None], default=0.0)
    fig.update_xaxes(range=[0, top * 1.2 if top > 0 else 1])
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_layout(showlegend=False, clickmode="event+select", dragmode=False)
    return fig


def category_sunburst(
    levels: Sequence[pl.DataFrame],
    *,
    value: str,
    names: Mapping[str, str],
    parents: Mapping[str, str | None],
    lang: str,
    selected: str | None = None,
    title: str | None = None,
) -> go.Figure:
    """The category tree as a sunburst: ``levels`` are the volume by category_l1, l2 (, l3) frames.

    Sectors are the categories' codes (``ids``), so a click names one; the view opens at the selected
    category when there is one.
    """
    ids: list[str] = []
    labels: list[str] = []
    tree_parents: list[str] = []
    values: list[float] = []
    for depth, frame in enumerate(levels):
        column = frame.columns[0]
        for code, count in frame.drop_nulls(column).select(column, value).iter_rows():
            parent = parents.get(str(code)) if depth else None
            if depth and (parent is None or parent not in ids):
                continue  # an orphan code (no known parent) would break the tree
            ids.append(str(code))
            labels.append(names.get(str(code), str(code)))
            tree_parents.append(parent or "")
            values.append(float(count or 0))
    trace = go.Sunburst(
        ids=ids,
        labels=labels,
        parents=tree_parents,
        values=values,
        branchvalues="remainder",
        maxdepth=2,
        level=selected if selected in ids else "",
        customdata=ids,
        insidetextorientation="radial",
        hovertemplate="%{label}: %{value:,.0f}<extra></extra>",
        marker={"colors": None},
    )
    fig = theme.base_layout(go.Figure(trace), title=title, height=420)
    fig.update_layout(margin={"l": 8, "r": 8, "t": 60 if title else 8, "b": 8}, sunburstcolorway=list(theme.PALETTE))
    return fig


def limit_share_figure(
    frame: pl.DataFrame,
    *,
    labels: Sequence[str],
    late_from: int,
    names: Mapping[str, str],
    lang: str,
    title: str | None = None,
) -> go.Figure:
    """Stacked bars per department: the share of its completed cases in each bin of limit used.

    Bins from ``late_from`` on are over the limit; departments with the largest late share come first.
    """
    if frame.height == 0:
        return theme.base_layout(go.Figure(), title=title, height=260)
    totals = frame.group_by("department").agg(pl.col("count").sum().alias("total"))
    late = frame.filter(pl.col("bin") >= late_from).group_by("department").agg(pl.col("count").sum().alias("late"))
    order = (
        totals.join(late, on="department", how="left")
        .with_columns((pl.col("late").fill_null(0) / pl.col("total")).alias("late_share"))
        .sort("late_share", descending=True)
    )
    departments = order["department"].to_list()
    shares = frame.join(totals, on="department").with_columns((pl.col("count") / pl.col("total")).alias("share"))
    fig = go.Figure()
    for index, label in enumerate(labels):
        part = shares.filter(pl.col("bin") == index)
        share = dict(zip(part["department"].to_list(), part["share"].to_list(), strict=True))
        fig.add_trace(
            go.Bar(
                y=[names.get(code, code) for code in departments],
                x=[round(100 * share.get(code, 0.0), 1) for code in departments],
                orientation="h",
                name=label,
                marker={"color": LIMIT_COLOURS[index % len(LIMIT_COLOURS)]},
                hovertemplate="%{y} · " + label + ": %{x:.1f}%<extra></extra>",
            )
        )
    height = max(280, 110 + 26 * len(departments))
    theme.base_layout(fig, title=title, height=height)
    fig.update_layout(barmode="stack", bargap=0.25, legend={"traceorder": "normal"})
    fig.update_xaxes(range=[0, 100], ticksuffix="%")
    fig.update_yaxes(autorange="reversed", type="category")
    return fig


def histogram_figure(
    frame: pl.DataFrame, *, labels: Sequence[str], lang: str, title: str | None = None, colour: str = theme.PRIMARY
) -> go.Figure:
    """Records per bin, with each bin's share in the hover."""
    counts = [int(c) for c in frame.sort("bin")["count"].to_list()] if frame.height else [0] * len(labels)
    total = sum(counts) or 1
    fig = go.Figure(
        go.Bar(
            x=list(labels),
            y=counts,
            marker={"color": colour},
            text=[format_number(c) for c in counts],
            textposition="outside",
            cliponaxis=False,
            customdata=[f"{100 * c / total:.1f}%" for c in counts],
            hovertemplate="%{x}: %{y:,} (%{customdata})<extra></extra>",
        )
    )
    theme.base_layout(fig, title=title, height=320)
    fig.update_xaxes(type="category")
    fig.update_layout(showlegend=False)
    return fig


def ratings_figure(frame: pl.DataFrame, *, lang: str, title: str | None = None) -> go.Figure:
    """The five 好差评 levels in their order, good ones green, bad ones red."""
    counts = dict(zip(frame["rating"].to_list(), frame["service_rated"].to_list(), strict=True)) if frame.height else {}
    values = [int(counts.get(level) or 0) for level in SERVICE_RATINGS]
    colours = ["#1E9E6A", "#5DB585", "#E3C25B", "#E58A3A", "#D64545"]
    total = sum(values) or 1
    fig = go.Figure(
        go.Bar(
            x=list(SERVICE_RATINGS),
            y=values,
            marker={"color": colours},
            text=[f"{format_number(v)} ({100 * v / total:.1f}%)" for v in values],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}: %{y:,}<extra></extra>",
        )
    )
    theme.base_layout(fig, title=title, height=320)
    fig.update_xaxes(type="category")
    fig.update_layout(showlegend=False)
    return fig


def funnel_figure(
    row: pl.DataFrame, *, stages: Sequence[str], hours: Sequence[str | None], lang: str, title: str | None = None
) -> go.Figure:
    """The seven workflow stages as a funnel: events reaching each, share of collected, median hours spent."""
    counts = [int(row[name][0] or 0) if row.height else 0 for name in stages]
    first = counts[0] or 1
    texts = []
    for count, hour in zip(counts, hours, strict=True):
        median = row[hour][0] if (hour and row.height) else None
        spent = (
            f" · {t('median_hours', lang, value=format_value(median, Unit.HOURS, lang))}" if median is not None else ""
        )
        texts.append(f"{format_number(count)}（{100 * count / first:.1f}%）{spent}")
    fig = go.Figure(
        go.Funnel(
            y=[metric_label(name, lang) for name in stages],
            x=counts,
            text=texts,
            textinfo="text",
            marker={"color": [theme.PALETTE[i % 2] for i in range(len(stages))]},
            hovertemplate="%{y}: %{x:,}<extra></extra>",
            connector={"line": {"color": theme.GRID_LINE}},
        )
    )
    theme.base_layout(fig, title=title, height=400)
    fig.update_yaxes(type="category")
    return fig


def ranking_table(
    current: pl.DataFrame,
    previous: pl.DataFrame,
    *,
    names: Mapping[str, str],
    metrics: Sequence[str],
    lang: str,
    min_volume: int,
    volume: str,
) -> pl.DataFrame:
    """The monthly 三率 ranking of streets: rank by composite, the rates, volume, and the change of rank.

    Streets with fewer than ``min_volume`` tickets in the month are left out of the ranking (as the
    assessment does): their rates rest on too few follow-ups to compare.
    """
    score = metrics[0]

    def ranked(frame: pl.DataFrame) -> pl.DataFrame:
        eligible = frame.drop_nulls(score).filter(pl.col(volume) >= min_volume)
        return eligible.sort([score, "street"], descending=[True, False]).with_row_index("rank", offset=1)

    now, before = ranked(current), ranked(previous).select("street", pl.col("rank").alias("previous_rank"))
    table = now.join(before, on="street", how="left").sort("rank")
    changes: list[str] = []
    for rank, previous_rank in zip(table["rank"].to_list(), table["previous_rank"].to_list(), strict=True):
        if previous_rank is None:
            changes.append(t("rank_new", lang))
        elif previous_rank == rank:
            changes.append("—")
        else:
            changes.append(f"{'↑' if previous_rank > rank else '↓'}{abs(previous_rank - rank)}")
    columns: dict[str, list[Any]] = {
        t("rank", lang): table["rank"].to_list(),
        t("rank_change", lang): changes,
        t("dim_street", lang): [names.get(code, code) for code in table["street"].to_list()],
    }
    for name in metrics:
        columns[metric_label(name, lang)] = [format_value(v, METRICS[name].unit, lang) for v in table[name].to_list()]
    return pl.DataFrame(columns)


def rising_categories(
    current: pl.DataFrame, baseline: pl.DataFrame, *, periods: int, value: str, min_volume: int, limit: int = 10
) -> pl.DataFrame:
    """Categories whose volume now most exceeds their own baseline (mean over ``periods`` equal periods before).

    Columns: the category code, ``now``, ``baseline`` (per period), ``ratio``; categories below
    ``min_volume`` now are left out (one complaint more than none is not a trend).
    """
    column = current.columns[0]
    base = baseline.select(pl.col(column), (pl.col(value) / periods).alias("baseline"))
    joined = (
        current.select(pl.col(column), pl.col(value).alias("now"))
        .join(base, on=column, how="left")
        .with_columns(pl.col("baseline").fill_null(0.0))
        .filter(pl.col("now") >= min_volume)
        .with_columns((pl.col("now") / pl.max_horizontal(pl.col("baseline"), pl.lit(1.0))).alias("ratio"))
    )
    return joined.sort(["ratio", "now"], descending=True).head(limit)


def add_alert_markers(
    fig: go.Figure, alerts: pl.DataFrame, *, grain: str, lang: str, window: tuple[dt.date, dt.date]
) -> go.Figure:
    """Mark each alert's start on the trend: a red triangle on the axis, its message in the hover."""
    if alerts.height == 0:
        return fig
    message = "message_en" if lang == "en" else "message"
    xs: list[dt.date] = []
    texts: list[str] = []
    for start, text in alerts.select("start", message).iter_rows():
        day = (start if isinstance(start, dt.datetime) else dt.datetime.fromisoformat(str(start))).date()
        if grain == "week":
            day = day - dt.timedelta(days=day.weekday())
        elif grain == "month":
            day = day.replace(day=1)
        if window[0] <= day < window[1]:
            xs.append(day)
            texts.append(str(text))
    if not xs:
        return fig
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=[0] * len(xs),
            mode="markers",
            name=t("alerts", lang),
            marker={"symbol": "triangle-up", "size": 14, "color": theme.BAD, "line": {"color": "white", "width": 1}},
            hovertext=texts,
            hovertemplate="%{x|%Y-%m-%d}: %{hovertext}<extra></extra>",
            cliponaxis=False,
        )
    )
    return fig


def histogram_table(
    frame: pl.DataFrame,
    *,
    labels: Sequence[str],
    lang: str,
    by: str | None = None,
    names: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """A histogram as a table: [group,] bin label, count — what its chart's export holds."""
    columns: dict[str, list[Any]] = {}
    if by is not None:
        columns[t(f"dim_{by}", lang)] = [(names or {}).get(code, code) for code in frame[by].to_list()]
    columns[t("bin", lang)] = [labels[index] for index in frame["bin"].to_list()]
    columns[t("count", lang)] = frame["count"].to_list()
    return pl.DataFrame(columns)


def funnel_table(row: pl.DataFrame, *, stages: Sequence[str], hours: Sequence[str | None], lang: str) -> pl.DataFrame:
    """The funnel as a table: stage, events reaching it, median hours spent in it."""
    counts = [int(row[name][0] or 0) if row.height else 0 for name in stages]
    medians = [row[hour][0] if (hour and row.height) else None for hour in hours]
    return pl.DataFrame(
        {
            t("stage", lang): [metric_label(name, lang) for name in stages],
            t("count", lang): counts,
            t("median_hours_column", lang): [None if m is None else round(float(m), 1) for m in medians],
        }
    )
