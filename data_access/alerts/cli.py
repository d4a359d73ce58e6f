"""The command line: ``python -m data_access.alerts [--url URL] [--as-of T | --since D --until D]
[--scope ...] [--kind ...] [--format table|csv|json] [--lang zh|en] [--rules FILE]`` (docs/alerts.md),
and ``python -m data_access.alerts --refresh [--url URL] [--scope ...]``, the early warning's job.

A listing at an explicit ``--as-of`` and a replay (``--since/--until``) compute live: they are tools
to look back. A plain listing reads the stored set when it is current, else computes it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence

import polars as pl

from data_access.alerts.config import ALERTS_ENV, AlertConfig, AlertsProblem, load_alert_config
from data_access.alerts.refresh import refresh_when_free
from data_access.alerts.run import compute_alerts
from data_access.alerts.schema import CSV_COLUMNS, KINDS, SEVERITY_ZH
from data_access.config.city import SettingsProblem, load_city
from data_access.runtime.engine import DatabaseProblem, check_database, get_engine, resolve_target
from data_access.runtime.session import open_session
from data_access.security import audit
from data_access.security.access import describe_scope
from data_access.semantic.query import Scope


def parse_scope(items: Sequence[str]) -> Scope:
    """``department=CGJ,SCJG`` and ``region=330106`` (repeatable) → a Scope; nothing → everything."""
    departments: set[str] | None = None
    regions: set[str] | None = None
    for item in items:
        key, sep, value = item.partition("=")
        codes = {code.strip() for code in value.split(",") if code.strip()}
        if not sep or key.strip() not in ("department", "region"):
            raise ValueError(f"--scope {item!r}: expected department=CODE[,CODE…] or region=CODE[,CODE…]")
        if key.strip() == "department":
            departments = (departments or set()) | codes
        else:
            regions = (regions or set()) | codes
    return Scope(
        departments=None if departments is None else frozenset(departments),
        regions=None if regions is None else frozenset(regions),
    )


def _parse_time(value: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date or time: {value!r}") from exc


def _parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {value!r}") from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m data_access.alerts",
        description="Print the cockpit's alerts (风险研判与临期预警) at a time, or replay a window (docs/alerts.md).",
    )
    parser.add_argument("--url", help="SQLAlchemy database URL (default: as every entry point resolves it)")
    parser.add_argument("--as-of", type=_parse_time, help="judge at this time (default: the latest record time)")
    parser.add_argument("--since", type=_parse_date, help="replay: first day (inclusive)")
    parser.add_argument("--until", type=_parse_date, help="replay: last day (inclusive)")
    parser.add_argument(
        "--scope", action="append", default=[], help="department=CODE[,CODE…] or region=CODE[,CODE…]; repeatable"
    )
    parser.add_argument("--kind", action="append", default=[], choices=KINDS, help="only these kinds; repeatable")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the message column")
    parser.add_argument("--rules", help=f"rules file (default: ${ALERTS_ENV} or config/alerts.toml)")
    parser.add_argument(
        "--refresh",
        action="store_true",
        help="compute and store the alerts of every scope in use (and --scope) for the current data",
    )
    return parser


def render(alerts: pl.DataFrame, fmt: str, lang: str = "zh") -> str:
    """The alerts as text: the exact csv columns, json records, or an aligned table."""
    frame = alerts.with_columns(
        (pl.col("message_en") if lang == "en" else pl.col("message")).alias("message"),
        pl.col("start").dt.strftime("%Y-%m-%dT%H:%M:%S"),
        pl.col("end").dt.strftime("%Y-%m-%dT%H:%M:%S"),
    )
    if fmt == "csv":
        return frame.select(CSV_COLUMNS).write_csv()
    if fmt == "json":
        records = frame.with_columns(pl.col("raised_at").dt.strftime("%Y-%m-%dT%H:%M:%S")).to_dicts()
        return json.dumps(records, ensure_ascii=False, indent=1) + "\n"
    if frame.is_empty():
        return "没有预警 / no alerts\n"
    lines = []
    for r in frame.iter_rows(named=True):
        severity = r["severity"] if lang == "en" else SEVERITY_ZH[r["severity"]]
        lines.append(f"[{severity}] {r['kind']:<18} {r['start'][:10]}→{r['end'][:10]}  {r['message']}  ({r['link']})")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if (args.since is None) != (args.until is None):
        print("error: --since and --until go together", file=sys.stderr)
        return 2
    if args.since is not None and args.as_of is not None:
        print("error: give either --as-of or --since/--until, not both", file=sys.stderr)
        return 2
    if args.refresh and (args.since is not None or args.as_of is not None or args.kind):
        print(
            "error: --refresh stores the current alerts of every kind: no --as-of, --since or --kind", file=sys.stderr
        )
        return 2
    try:
        config = load_alert_config(args.rules)
        scope = parse_scope(args.scope)
    except (AlertsProblem, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.refresh:
        return _refresh(args.url, scope, config)
    try:
        engine = get_engine(resolve_target(args.url).url)
        check_database(engine)
        log = audit.ViewLog(page="cli:alerts")
        session = open_session(engine, load_city(), scope=scope, log=log)
        if args.as_of is None and args.since is None and args.rules is None:
            alerts = session.alerts(compute_missing=True).frame  # the stored set when current
            if args.kind:
                alerts = alerts.filter(pl.col("kind").is_in(args.kind))
        else:
            alerts = compute_alerts(
                session, as_of=args.as_of, since=args.since, until=args.until, config=config, kinds=args.kind or None
            )
    except (DatabaseProblem, SettingsProblem, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(render(alerts, args.format, args.lang))
    try:  # one audit row for the listing, as a page view is one
        audit.record_view(engine, log, user=audit.command_user(), role=None, scope=describe_scope(scope))
    except Exception as exc:  # the listing is printed; a trail without INSERT rights is said, not fatal
        print(f"warning: the audit row could not be written: {exc}", file=sys.stderr)
    return 0


def _refresh(url: str | None, scope: Scope, config: AlertConfig) -> int:
    """``--refresh``: the job, once; prints what it refreshed and how long it took. 1 when a scope failed."""
    try:
        engine = get_engine(resolve_target(url).url)
        report = refresh_when_free(engine, load_city(), scopes=[] if scope.unrestricted else [scope], config=config)
    except (DatabaseProblem, SettingsProblem) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write("\n".join(report.lines()) + "\n")
    return 1 if report.count("failed") else 0
