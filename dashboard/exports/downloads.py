"""Show a chart or a table with its downloads: the one Streamlit helper every page uses for exports.

    from dashboard.exports import downloads

    downloads.chart(ctx, figure, table, key="trend", title="投诉量趋势")   # chart + 导出 menu
    downloads.table(ctx, frame, key="ranking", title="街道排名")          # table + 导出 menu

``chart`` draws ``st.plotly_chart(figure)`` (extra keyword arguments such as ``on_select`` pass
through, and its return value is returned) with a small 导出 / Export popover above its right
corner: PNG, SVG and a standalone offline HTML file of the chart, and CSV, XLSX and Parquet of
``data`` — the frame behind the chart, normally the very table the page shows under it (pass
``None`` when there is none). ``table`` draws ``st.dataframe`` with the same menu for the data only.

Nothing is rendered until someone clicks: each button's bytes are made by a callable that
Streamlit runs on the click (``st.download_button(data=callable)``), so a rerun costs nothing and a
PNG costs its one to few seconds of Chromium only when asked for. Exports hold exactly what the
viewer sees: the same figure and frame, from the same scoped requests, after masking.

Every export is reported to ``record_export`` — the single place where the audit trail is written.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard.auth import sign_in
from dashboard.charts.theme import PLOTLY_CONFIG
from dashboard.core.i18n import t
from dashboard.exports import files as export
from dashboard.exports import table_files
from data_access.runtime.engine import get_engine, resolve_target
from data_access.security import audit

log = logging.getLogger(__name__)

CHART_FORMATS: tuple[str, ...] = ("png", "svg", "html")
DATA_FORMATS: tuple[str, ...] = ("csv", "xlsx", "parquet")
BROWSER_FORMATS: tuple[str, ...] = ("png", "svg")


@dataclass(frozen=True)
class ExportEvent:
    """One download, as the audit trail records it."""

    fmt: str
    file_name: str
    title: str
    key: str
    rows: int | None
    user: str | None = None
    role: str | None = None
    page: str | None = None
    filters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExportFile:
    """One button of the menu: what it downloads and how the bytes are made when clicked."""

    fmt: str
    file_name: str
    mime: str
    make: Callable[[], bytes]


def export_files(figure: go.Figure | None, data: pl.DataFrame | None, *, title: str, stem: str) -> list[ExportFile]:
    """The downloads a chart and its data offer, in menu order (pure: nothing is rendered here)."""
    files: list[ExportFile] = []
    if figure is not None:
        makers: dict[str, Callable[[], bytes]] = {
            "png": functools.partial(export.figure_png, figure, title),
            "svg": functools.partial(export.figure_svg, figure, title),
            "html": functools.partial(export.figure_html, figure, title),
        }
        files.extend(ExportFile(fmt, f"{stem}.{fmt}", export.MIME_TYPES[fmt], makers[fmt]) for fmt in CHART_FORMATS)
    if data is not None:
        table_makers: dict[str, Callable[[], bytes]] = {
            "csv": functools.partial(table_files.csv_bytes, data),
            "xlsx": functools.partial(table_files.xlsx_bytes, data, sheet=title),
            "parquet": functools.partial(table_files.parquet_bytes, data),
        }
        files.extend(
            ExportFile(fmt, f"{stem}.{fmt}", export.MIME_TYPES[fmt], table_makers[fmt]) for fmt in DATA_FORMATS
        )
    return files


def record_export(event: ExportEvent) -> None:
    """THE call point of the audit trail for exports: every download of every page passes here once.

    Runs on the thread Streamlit uses to make the file, after the bytes were made (no script run
    context there: who, role and page were taken when the menu was drawn). Writes one ``export``
    row of ``cockpit_audit`` (docs/security.md).
    """
    log.info(
        "export %s %r (%s rows) by %s on %s: %s",
        event.fmt,
        event.file_name,
        event.rows,
        event.user or "anonymous",
        event.page or event.key,
        dict(event.filters),
    )
    audit.record(
        get_engine(resolve_target().url),
        "export",
        user=event.user,
        role=event.role,
        page=(event.page or event.key).strip("/") or None,
        filters=dict(event.filters),
        rows=event.rows,
        detail={"file": event.file_name, "format": event.fmt, "title": event.title, "chart": event.key},
    )


def may_export(ctx: Any) -> bool:
    """Whether this viewer's role or grants allow downloads (analysts and admins; sign-in off: everyone)."""
    can = getattr(ctx, "can", None)
    return bool(can("export")) if callable(can) else sign_in.current_access().can("export")


def _viewer(ctx: Any) -> tuple[str | None, str | None]:
    """(user name, role) of whoever is signed in; (None, None) while sign-in is off."""
    viewer = getattr(ctx, "viewer", None)
    return getattr(viewer, "name", None), getattr(viewer, "role", None)


def _language(ctx: Any) -> str:
    return ctx if isinstance(ctx, str) else str(ctx.lang)


def _page_path() -> str | None:
    """The page the export was made on (``/explore``), from the browser's URL; None where unknown."""
    try:
        url = st.context.url
    except Exception:  # no browser session (tests, bare mode)
        return None
    return urlparse(url).path or None if url else None


def _audited(file: ExportFile, event: ExportEvent) -> Callable[[], bytes]:
    def make() -> bytes:
        data = file.make()
        try:
            record_export(event)
        except Exception:  # the download must not fail because the trail could not be written: log loudly
            log.exception("could not record the export %s in the audit trail", file.file_name)
        return data

    return make


@functools.cache
def _browser_available() -> bool:
    return export.find_browser() is not None


def menu(
    ctx: Any,
    figure: go.Figure | None,
    data: pl.DataFrame | None,
    *,
    key: str,
    title: str,
    file_name: str | None = None,
    filters: Mapping[str, Any] | None = None,
) -> None:
    """The 导出 popover alone (for pages that place it themselves); see ``chart`` for the arguments."""
    if not may_export(ctx):
        return  # no menu at all for roles that may not export (issue 7: analysts export)
    lang = _language(ctx)
    stem = export.file_stem(file_name or title)
    user, role = _viewer(ctx)
    page = _page_path()
    with st.popover(t("export_menu", lang), help=t("export_help", lang), key=f"{key}__export"):
        st.caption(title)
        for file in export_files(figure, data, title=title, stem=stem):
            needs_browser = file.fmt in BROWSER_FORMATS and not _browser_available()
            event = ExportEvent(
                fmt=file.fmt,
                file_name=file.file_name,
                title=title,
                key=key,
                rows=None if data is None else data.height,
                user=user,
                role=role,
                page=page,
                filters=dict(filters or {}),
            )
            st.download_button(
                t(f"export_{file.fmt}", lang),
                data=_audited(file, event),
                file_name=file.file_name,
                mime=file.mime,
                key=f"{key}__export_{file.fmt}",
                on_click="ignore",
                disabled=needs_browser,
                help=t("export_no_browser", lang) if needs_browser else None,
                width="stretch",
            )


def chart(
    ctx: Any,
    figure: go.Figure,
    data: pl.DataFrame | None = None,
    *,
    key: str,
    title: str,
    file_name: str | None = None,
    filters: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    **plotly_chart: Any,
) -> Any:
    """``st.plotly_chart(figure)`` with an export menu (PNG, SVG, HTML of the chart; CSV, XLSX, Parquet of ``data``).

    ``ctx``: the page's ``context.Context`` (language; the signed-in viewer for the audit trail),
    or just the language code where a page has no context yet.
    ``key``: the chart's widget key (the menu's keys derive from it). ``title``: what the files are
    called and the title drawn into a chart that has none. ``file_name``: file name stem (default:
    the title). ``filters``: what the view shows, for the audit trail. Other keyword arguments go to
    ``st.plotly_chart``; its return value is returned.
    """
    with st.container(horizontal=True, horizontal_alignment="right"):
        menu(ctx, figure, data, key=key, title=title, file_name=file_name, filters=filters)
    return st.plotly_chart(figure, theme=None, config=dict(config or PLOTLY_CONFIG), key=key, **plotly_chart)


def table(
    ctx: Any,
    frame: pl.DataFrame,
    *,
    key: str,
    title: str,
    file_name: str | None = None,
    filters: Mapping[str, Any] | None = None,
    **dataframe: Any,
) -> Any:
    """``st.dataframe(frame, hide_index=True)`` with an export menu of the frame (CSV, XLSX, Parquet)."""
    with st.container(horizontal=True, horizontal_alignment="right"):
        menu(ctx, None, frame, key=key, title=title, file_name=file_name, filters=filters)
    return st.dataframe(frame, hide_index=True, key=key, **dataframe)
