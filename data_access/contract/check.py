"""``python -m data_access.contract.check [--url URL]``: can the cockpit use this database?

Prints where the database was found, whether it connects, what the contract check finds, row
counts and the data's as-of time. Exits 0 when the cockpit can run on it, 2 otherwise — the same
messages the app shows, for admins and for deployment scripts.
"""

from __future__ import annotations

import argparse
import sys

import sqlalchemy as sa

from data_access.contract import schema
from data_access.runtime.engine import (
    DatabaseProblem,
    check_connection,
    existing_columns,
    get_engine,
    read_meta,
    resolve_target,
    schema_problems,
)
from data_access.semantic.metrics import data_as_of


def table_counts(engine: sa.Engine) -> dict[str, int]:
    """Row counts of the contract tables that exist."""
    present = existing_columns(engine)
    counts: dict[str, int] = {}
    with engine.connect() as connection:
        for table in schema.metadata.sorted_tables:
            if table.name in present:
                counts[str(table.name)] = connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data_access.contract.check", description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="SQLAlchemy database URL (default: as the app finds it)")
    args = parser.parse_args(argv)
    try:
        target = resolve_target(args.url)
        print(f"database: {target.display_url} (from {target.origin})")
        engine = get_engine(target.url)
        check_connection(engine)
        print("connection: ok")
        problems = schema_problems(engine)
        for problem in problems:
            print(f"problem: {problem}", file=sys.stderr)
        if problems:
            return 2
        for name, count in table_counts(engine).items():
            print(f"{name}: {count:,} rows")
        meta = read_meta(engine)
        print(f"dataset: {meta.get('dataset', 'city data')}")
        print(f"data as of: {data_as_of(engine) or 'no records yet'}")
    except DatabaseProblem as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
