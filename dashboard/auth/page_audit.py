"""The audit of what each session viewed and exported (留痕), for pages.

Every read a page makes goes through the viewer's data session, whose read log is :data:`PAGE_READS`:
it forwards each read to the ``ViewLog`` of the page run (or fragment rerun) in progress. When the
run ends (:func:`run_page`, :func:`audited_fragment`), the log becomes one ``view`` row — unless the
session recorded the same view within ``repeat_view_minutes``. Downloads write one ``export`` row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from dashboard.auth import sign_in
from dashboard.core.periods import Period
from data_access.runtime.engine import DatabaseProblem, get_engine, resolve_target
from data_access.security import audit
from data_access.security.access import describe_scope
from data_access.semantic.query import Filter, MetricRequest, Scope

log = logging.getLogger(__name__)


class _PageReads:
    """The data session's read log for pages: forwards each read to the ``ViewLog`` of the page run
    (or fragment rerun) in progress, looked up when the read happens, so a fragment refreshing on its
    own is counted towards its own view. Outside a script run (a background thread) nothing is noted.
    """

    def _log(self) -> audit.ViewLog | None:
        if get_script_run_ctx() is None:
            return None
        found: audit.ViewLog | None = st.session_state.get(sign_in.READS_KEY)
        return found

    def note(self, request: MetricRequest, rows: int, *, unmasked: bool = False) -> None:
        log = self._log()
        if log is not None:
            log.note(request, rows, unmasked=unmasked)

    def note_rows(self, filters: dict[str, Any], rows: int) -> None:
        log = self._log()
        if log is not None:
            log.note_rows(filters, rows)


PAGE_READS = _PageReads()


def _finish(reads: audit.ViewLog) -> None:
    """One ``view`` row for this page and view, unless the session recorded the same within the repeat window."""
    reads.open = False
    if reads.reads == 0:
        return
    access = sign_in.current_access()
    if access.mode == "signed_out":
        return
    key = reads.key()
    seen: dict[str, float] = st.session_state.setdefault(sign_in.VIEWS_KEY, {})
    now = sign_in.clock()
    window = sign_in.settings(st.session_state.get("lang", "zh")).repeat_view_minutes * 60
    if key in seen and now - seen[key] < window:
        return
    seen[key] = now
    try:
        engine = get_engine(resolve_target().url)
    except DatabaseProblem:
        return
    try:
        scope = describe_scope(access.scope)
        audit.record_view(engine, reads, user=access.user, role=access.role, scope=scope, **sign_in.trace())
    except Exception:  # the trail needs INSERT rights; a failure is logged and never breaks the page
        log.exception("could not write the audit row (view)")


def run_page(page: Any, default_name: str) -> None:
    """Run the navigation's page and record what it read as one view (not when it only asked to rerun)."""
    name = str(page.url_path or default_name) if default_name != "login" else "login"
    reads = audit.ViewLog(name)
    st.session_state[sign_in.READS_KEY] = reads
    try:
        page.run()
    except RerunException:
        reads.open = False
        raise
    except BaseException:
        _finish(reads)  # st.stop() ends a page early on purpose: what it showed was viewed
        raise
    _finish(reads)


def audited_fragment(body: Callable[[], None]) -> Callable[[], None]:
    """A fragment's own reruns (a wall screen refreshing, a switch inside it) count as views of the page too."""

    def run() -> None:
        reads: audit.ViewLog | None = st.session_state.get(sign_in.READS_KEY)
        if reads is not None and reads.open:
            body()  # inline in a full run: part of the page's view
            return
        own = audit.ViewLog(reads.page if reads is not None else "")
        st.session_state[sign_in.READS_KEY] = own
        try:
            body()
        except RerunException:
            own.open = False
            raise
        _finish(own)

    return run


def record_export(page: str, filters: dict[str, Any], rows: int, file_name: str) -> None:
    """An ``export`` audit row: who downloaded what, with which filters and how many rows."""
    access = sign_in.current_access()
    try:
        engine = get_engine(resolve_target().url)
    except DatabaseProblem:
        return
    sign_in.record(
        engine,
        "export",
        user=access.user,
        role=access.role,
        page=page,
        filters=filters,
        rows=rows,
        detail={"file": file_name},
    )


def export_callback(page: str, filters: dict[str, Any], rows: int, file_name: str) -> Callable[[], None]:
    """``on_click`` for a download button: the click is recorded once, before the rerun it triggers."""

    def clicked() -> None:
        record_export(page, filters, rows, file_name)

    return clicked


def view_filters(period: Period, filters: Sequence[Filter], **extra: Any) -> dict[str, Any]:
    """A page's period and filters as the audit trail records them with an export."""
    found: dict[str, Any] = {item.dimension: sorted(item.values) for item in filters}
    found["time"] = [f"{period.current.start:%Y-%m-%d %H:%M}", f"{period.current.end:%Y-%m-%d %H:%M}"]
    found["period"] = period.key
    return {**found, **extra}


def scope_text(scope: Scope, region_names: dict[str, str], department_names: dict[str, str]) -> str | None:
    """A viewer's scope in words (names, not codes) for the sidebar; None for the whole city."""
    if scope.unrestricted:
        return None
    parts: list[str] = []
    if scope.departments is not None:
        parts.extend(department_names.get(code, code) for code in sorted(scope.departments))
    if scope.regions is not None:
        parts.extend(region_names.get(code, code) for code in sorted(scope.regions))
    return "、".join(parts) or describe_scope(scope)
