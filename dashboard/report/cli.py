"""周报 / 月报 from the command line: the briefing of one period for one recipient's scope, as PDF (or PPTX,
or the HTML behind the PDF).

    python -m dashboard.report --period 2026-10 [--url URL] [--scope department=CODE] [--scope region=CODE]
                               [--lang zh|en] --out report.pdf|report.pptx|report.html

``--period`` is a month ``YYYY-MM`` or an ISO week ``YYYY-Www``. The scope is the RECIPIENT's, given
explicitly (``department=…``/``region=…``, repeatable, as ``python -m data_access.alerts`` takes it):
every number, chart, ranking and alert comes from requests carrying that scope, never from whoever
runs the scheduler. The app's report page passes the viewer's own scope to the same builder.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from dashboard.exports import files
from dashboard.report.content import Briefing, build_briefing
from dashboard.report.html_page import render_html
from dashboard.report.pdf_print import render_pdf
from dashboard.report.pptx_deck import render_pptx
from dashboard.report.problems import ReportProblem
from data_access.config.city import SettingsProblem, load_city
from data_access.runtime.engine import DatabaseProblem, check_database, get_engine, resolve_target
from data_access.runtime.session import open_session
from data_access.security import audit
from data_access.security.access import describe_scope
from data_access.semantic.query import Scope

OUTPUT_KINDS = ("pdf", "pptx", "html")


def parse_scope(items: Sequence[str]) -> Scope:
    """``department=A,B`` / ``region=330106`` (repeatable) → the recipient's scope; nothing → the whole city."""
    from data_access.alerts.cli import parse_scope as parse

    try:
        return parse(items)
    except ValueError as exc:
        raise ReportProblem(str(exc)) from exc


def parser() -> argparse.ArgumentParser:
    """The command line's options (also what ``--help`` prints)."""
    result = argparse.ArgumentParser(
        prog="python -m dashboard.report",
        description="Write the briefing (周报/月报) of one period for one recipient's scope (docs/exports.md).",
    )
    result.add_argument("--period", required=True, help="a month YYYY-MM (2026-10) or an ISO week YYYY-Www (2026-W44)")
    result.add_argument("--url", help="SQLAlchemy database URL (default: as every entry point resolves it)")
    result.add_argument(
        "--scope",
        action="append",
        default=[],
        help="the recipient's scope: department=CODE[,CODE…] or region=CODE[,CODE…]; repeatable; none = whole city",
    )
    result.add_argument("--lang", choices=("zh", "en"), default="zh")
    result.add_argument("--out", required=True, help="output file: .pdf, .pptx or .html")
    return result


def rendered(briefing: Briefing, kind: str) -> bytes:
    """The briefing as the bytes of a ``kind`` file (pdf, pptx or html)."""
    if kind == "pdf":
        return render_pdf(briefing)
    if kind == "pptx":
        return render_pptx(briefing)
    return render_html(briefing).encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    """Write the report; 0 on success, 2 with the reason on stderr (and no file) when it cannot be made."""
    args = parser().parse_args(argv)
    out = Path(args.out)
    kind = out.suffix.lower().lstrip(".")
    if kind not in OUTPUT_KINDS:
        print(f"error: --out {args.out!r}: the file must end in .pdf, .pptx or .html", file=sys.stderr)
        return 2
    try:
        scope = parse_scope(args.scope)
        engine = get_engine(resolve_target(args.url).url)
        check_database(engine)
        log = audit.ViewLog(page="cli:report")
        session = open_session(engine, load_city(), scope=scope, log=log)
        briefing = build_briefing(session, args.period, lang=args.lang, live_alerts=True)
        data = rendered(briefing, kind)
    except (ReportProblem, DatabaseProblem, SettingsProblem, files.ExportProblem) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    temporary = out.with_name(out.name + ".part")
    temporary.write_bytes(data)
    temporary.replace(out)  # a reader never sees half a report
    # Like a briefing downloaded from the page, the file written is an export of the recipient's scope.
    try:
        scope_text = describe_scope(scope)
        detail = {"file": out.name}
        audit.record_view(
            engine, log, user=audit.command_user(), role=None, scope=scope_text, action="export", detail=detail
        )
    except Exception as exc:  # the report is written; a trail without INSERT rights is said, not fatal
        print(f"warning: the audit row could not be written: {exc}", file=sys.stderr)
    print(f"{out}: {briefing.title} ({briefing.scope_label}), {len(data):,} bytes")
    return 0
