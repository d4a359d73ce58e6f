"""The demo's command line: ``python -m data_access.demo [--scale S] [--url URL] [--seed N] [--end YYYY-MM-DD]
[--force] [--with-accounts]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from data_access.demo.generate import DemoRefused, generate_demo
from data_access.demo.reference import DemoProblem
from data_access.runtime import engine as db


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m data_access.demo",
        description="Create the cockpit tables and fill them with a generated demo city (two years of data).",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="volume multiplier (1.0 = about 1M fact rows)")
    parser.add_argument("--url", help="database URL (default: COCKPIT_DATABASE_URL, secrets, or the embedded DuckDB)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (same seed, scale and end = same rows)")
    parser.add_argument(
        "--end",
        type=dt.date.fromisoformat,
        help="last day of the data, YYYY-MM-DD (default: up to now, in the city time zone)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite a database that holds non-demo data")
    parser.add_argument(
        "--with-accounts", action="store_true", help="also create one demo account per role (listed on its login page)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.scale <= 0:
        print("--scale must be positive", file=sys.stderr)
        return 2
    target = db.resolve_target(args.url)
    print(f"Demo city -> {target.display_url} ({target.origin})")

    def show(fraction: float, message: str) -> None:
        print(f"[{fraction * 100:5.1f}%] {message}", flush=True)

    try:
        engine = db.get_engine(target.url)
        summary = generate_demo(engine, scale=args.scale, seed=args.seed, end=args.end, force=args.force, progress=show)
        if args.with_accounts:
            from data_access.security.demo_users import create_demo_accounts

            for account in create_demo_accounts(engine):
                print(f"  demo account {account['name']} ({account['role']}, {account['scope']})")
    except (db.DatabaseProblem, DemoRefused, DemoProblem) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    finally:
        db.dispose_engine(target.url)
    for table, count in summary.rows.items():
        print(f"  {table:15s} {count:>12,}")
    print(f"Done in {summary.seconds:.1f} s")
    return 0
