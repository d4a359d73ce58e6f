"""The big screen's alert ticker: which alerts to show, in the early-warning module's shape. Pure.

The lines come from the early warning (``ticker_alerts`` of the alerts standing at the data's as-of
time, read through the viewer's data session by ``dashboard.session.early_warning``). When that
run fails, the metric layer's open overdue items (超期未办结 / 超期未处置) by district and by department
stand in (``overdue_alerts``), in the same columns (``data_access.alerts.schema.TICKER_ALERT_SCHEMA``):

    kind, severity, region_code, department, category, start, end, observed, expected,
    message_zh, message_en, link
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from urllib.parse import urlencode

import polars as pl

from dashboard.core.formatting import format_number
from dashboard.core.i18n import TEXTS, metric_label, t
from dashboard.core.metric_requests import OVERDUE_METRIC
from dashboard.screen.bigscreen import TickerItem
from data_access.alerts.schema import TICKER_ALERT_SCHEMA as ALERT_SCHEMA

# The topic page of each domain (``st.Page`` url paths).
TOPIC_PAGES: dict[str, str] = {"services": "services", "complaints": "complaints", "grid": "grid"}
# Per domain and dimension, the groups with the most overdue items make the ticker.
TOP_PER_LIST = 3
# A group holding at least this share of the city's overdue items of a domain is "high".
HIGH_SHARE = 0.2
_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def topic_link(domain: str, *, district: str | None = None, period: str | None = None) -> str:
    """The topic page of ``domain`` with its filters set (read by ``dashboard.topics.state.parse_state``)."""
    params = {key: value for key, value in (("district", district), ("period", period)) if value}
    query = f"?{urlencode(params)}" if params else ""
    return f"{TOPIC_PAGES[domain]}{query}"


def _message(lang: str, name: str, domain: str, count: int, share: float) -> str:
    metric = metric_label(OVERDUE_METRIC[domain], lang)
    return t("alert_overdue", lang, name=name, metric=metric, count=format_number(count), share=f"{share:.0%}")


def overdue_alerts(
    frames: Mapping[tuple[str, str], pl.DataFrame],
    names: Mapping[str, Mapping[str, str]],
    as_of: dt.datetime,
    *,
    top: int = TOP_PER_LIST,
) -> pl.DataFrame:
    """Alerts from open-overdue counts: ``frames[(domain, dimension)]`` has columns (dimension, metric).

    For each domain and dimension (district, department), the ``top`` groups with the most overdue
    items, most first; severity ``high`` when a group holds at least ``HIGH_SHARE`` of the domain's
    overdue items, else ``medium``. District alerts link to the topic page filtered to the district.
    """
    rows: list[dict[str, object]] = []
    for (domain, dimension), frame in frames.items():
        metric = OVERDUE_METRIC[domain]
        if frame.height == 0 or metric not in frame.columns:
            continue
        valued = frame.filter(pl.col(metric) > 0).sort(metric, descending=True, maintain_order=True)
        total = int(valued[metric].sum() or 0)
        if total == 0:
            continue
        dimension_names = names.get(dimension, {})
        for code, count in valued.select(dimension, metric).head(top).iter_rows():
            share = count / total
            name = dimension_names.get(str(code), str(code)) if code is not None else t("value_missing")
            is_region = dimension == "district"
            rows.append(
                {
                    "kind": "overdue",
                    "severity": "high" if share >= HIGH_SHARE else "medium",
                    "region_code": str(code) if is_region and code is not None else None,
                    "department": str(code) if not is_region and code is not None else None,
                    "category": domain,
                    "start": None,
                    "end": as_of,
                    "observed": float(count),
                    "expected": 0.0,
                    "message_zh": _message("zh", name, domain, int(count), share),
                    "message_en": _message("en", name, domain, int(count), share),
                    "link": topic_link(domain, district=str(code) if is_region and code is not None else None),
                }
            )
    alerts = pl.DataFrame(rows, schema=ALERT_SCHEMA, orient="row") if rows else pl.DataFrame(schema=ALERT_SCHEMA)
    return (
        alerts.with_columns(pl.col("severity").replace_strict(_SEVERITY_ORDER, default=9).alias("_order"))
        .sort(["_order", "observed"], descending=[False, True], maintain_order=True)
        .drop("_order")
    )


def ticker_items(alerts: pl.DataFrame, lang: str) -> list[TickerItem]:
    """The ticker's lines from an alerts frame (this module's or the early-warning module's)."""
    message = "message_en" if lang == "en" else "message_zh"
    items: list[TickerItem] = []
    for row in alerts.iter_rows(named=True):
        kind = str(row.get("kind") or "")
        tag_key = f"alert_kind_{kind}"
        tag = t(tag_key, lang) if tag_key in TEXTS else kind
        items.append(
            TickerItem(
                severity=str(row.get("severity") or "medium"),
                tag=tag,
                message=str(row.get(message) or row.get("message_zh") or ""),
                link=str(row.get("link") or ""),
            )
        )
    return items


# How many of each operational kind the ticker shows after the detected risks.
TICKER_OVERDUE = 5
TICKER_DUE_SOON = 3


def ticker_alerts(
    early_warning: pl.DataFrame, *, overdue: int = TICKER_OVERDUE, due_soon: int = TICKER_DUE_SOON
) -> pl.DataFrame:
    """The ticker's lines from the early-warning module's alerts, in this module's columns.

    Detected risks (surges, jumps, drops, stalls, repeat clusters) come first, all of them, most
    severe first; then the ``overdue`` largest overdue groups and the ``due_soon`` largest
    near-deadline groups: hundreds of department × district deadline rows would drown the risks.
    """
    if early_warning.height == 0:
        return pl.DataFrame(schema=ALERT_SCHEMA)
    frame = early_warning.rename({"message": "message_zh"}) if "message" in early_warning.columns else early_warning
    order = pl.col("severity").replace_strict(_SEVERITY_ORDER, default=9)
    detections = frame.filter(~pl.col("kind").is_in(["overdue", "due_soon"])).sort(
        [order, "observed"], descending=[False, True], maintain_order=True
    )
    largest = [
        frame.filter(pl.col("kind") == kind).sort("observed", descending=True, maintain_order=True).head(count)
        for kind, count in (("overdue", overdue), ("due_soon", due_soon))
    ]
    chosen = pl.concat([detections, *largest], how="vertical_relaxed")
    return chosen.select(
        [
            pl.col(name).cast(dtype, strict=False) if name in chosen.columns else pl.lit(None, dtype).alias(name)
            for name, dtype in ALERT_SCHEMA.items()
        ]
    )


def alerts_for_page(
    alerts: pl.DataFrame, table: str, region: str | None, parents: Mapping[str, str | None], *, limit: int = 20
) -> pl.DataFrame:
    """A topic page's alerts: its fact table's, inside its region (any alert at or below it), risks first.

    ``parents`` maps each region code to its parent's, so a street's alert shows on its district's page.
    """
    if alerts.height == 0:
        return alerts

    def inside(code: str | None) -> bool:
        seen = 0
        while code is not None and seen < 8:  # region trees are four levels deep; stop on bad data
            if code == region:
                return True
            code, seen = parents.get(code), seen + 1
        return False

    mine = alerts.filter(pl.col("domain") == table)
    if region is not None:
        mine = mine.filter(pl.col("region_code").map_elements(inside, return_dtype=pl.Boolean))
    order = pl.col("severity").replace_strict(_SEVERITY_ORDER, default=9)
    operational = pl.col("kind").is_in(["overdue", "due_soon"])
    return mine.sort([operational, order, "observed"], descending=[False, False, True], maintain_order=True).head(limit)
