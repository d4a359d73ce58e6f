"""``python -m bench.ingest [--rows 500000,2000000] [--batch-rows N] [--again] [--url URL]``: import speed and memory.

Generates a 12345-style complaints CSV per size (Chinese column names, region codes of the demo
city, 16 columns, ~185 bytes a row) into ``data/bench/``, then imports each into a fresh DuckDB
file in a child process (so the peak RSS measured is the import's alone) through
``data_access.ingest.pipeline.ingest_files``: read, map, validate, upsert, dimensions, commit. Prints rows/s,
the seconds of each phase (read + map + validate + stage; duplicates + quarantine; the database
transaction), the child's CPU seconds (user + system, all threads) and its peak RSS per size, the
floors (``csv_floor``: DuckDB alone loading the CSV itself, cast but unchecked, into the contract
table — the fastest any CSV import into the embedded engine can be here; ``engine_floor``: DuckDB
alone inserting the imported rows, already valid, from Parquet into the contract table and into one
with a primary key) and the machine's load average before each run (others share the cores).
``--again`` imports the same file a second time into the same database (every row unchanged: the
upsert's comparison path). ``--url`` imports into a PostgreSQL or MySQL database of its own instead
(its name must contain ``bench``: its contract and aggregate tables are dropped before each size). Memory must
not grow with the file size. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy.engine import make_url as sa_url

from data_access.config.city import DEFAULT_CITY_FILE, load_city
from data_access.runtime.paths import REPO_ROOT

OUT = REPO_ROOT / "data" / "bench"
MAPPING = REPO_ROOT / "tests" / "fixtures" / "hz_12345.toml"
CHANNELS = ("电话", "微信", "网站", "12345APP")
CATEGORIES = (("城乡建设", "路灯"), ("城乡建设", "道路"), ("环境保护", "噪声"), ("交通运输", "停车"))
DEPARTMENTS = ("城管局", "生态环境局", "交通局")


def make_csv(path: Path, rows: int, seed: int = 1) -> None:
    """A source file in the shape of tests/fixtures/hz_12345.csv, generated in 500k-row slices."""
    from data_access.ingest.regions import load_regions

    streets = [(r.parent_code, r.code) for r in load_regions(load_city(DEFAULT_CITY_FILE)).levels["street"]]
    rng = np.random.default_rng(seed)
    with path.open("wb") as handle:
        for start in range(0, rows, 500_000):
            n = min(500_000, rows - start)
            received = np.datetime64("2024-01-01T00:00:00") + rng.integers(0, 365 * 86400, n).astype("timedelta64[s]")
            handled = received + rng.integers(600, 10 * 86400, n).astype("timedelta64[s]")
            done = rng.random(n) < 0.8
            street = rng.integers(0, len(streets), n)
            category = rng.integers(0, len(CATEGORIES), n)
            frame = pl.DataFrame(
                {
                    "工单编号": [f"GD{start + i:010d}" for i in range(n)],
                    "来电时间": pl.Series(received.astype("datetime64[us]")).dt.strftime("%Y-%m-%d %H:%M:%S"),
                    "渠道": np.array(CHANNELS)[rng.integers(0, len(CHANNELS), n)],
                    "一级分类": np.array([c[0] for c in CATEGORIES])[category],
                    "二级分类": np.array([c[1] for c in CATEGORIES])[category],
                    "标题": "市民反映问题需要处理",
                    "区县代码": np.array([s[0] for s in streets])[street],
                    "街道代码": np.array([s[1] for s in streets])[street],
                    "承办部门": np.array(DEPARTMENTS)[rng.integers(0, len(DEPARTMENTS), n)],
                    "状态": np.where(done, "已办结", "办理中"),
                    "办结时间": pl.Series(handled.astype("datetime64[us]")).dt.strftime("%Y-%m-%d %H:%M:%S"),
                    "纬度": np.round(rng.uniform(29.9, 30.4, n), 6),
                    "经度": np.round(rng.uniform(119.9, 120.4, n), 6),
                    "回访结果": np.array(["满意", "基本满意", "不满意"])[rng.integers(0, 3, n)],
                    "是否联系": "是",
                    "是否解决": np.where(done, "是", "否"),
                }
            ).with_columns(pl.when(pl.Series(done)).then(pl.col("办结时间")).alias("办结时间"))
            frame.write_csv(handle, include_header=start == 0)


def child(csv: Path, target: str, batch_rows: int, again: bool) -> None:
    """Run one import (twice with ``again``: the second is measured) and print its figures as JSON.

    ``target`` is a DuckDB file, or a server URL whose contract and aggregate tables are dropped first.
    """
    from data_access.ingest.mapping import load_mapping
    from data_access.ingest.pipeline import ingest_files
    from data_access.runtime.engine import dispose_engine, get_engine

    server = "://" in target
    url = target if server else f"duckdb:///{target}"
    engine = get_engine(url)
    if server:
        from data_access.contract import schema
        from data_access.semantic.rollups.tables import ROLLUP_METADATA

        ROLLUP_METADATA.drop_all(engine)
        schema.metadata.drop_all(engine)
    mapping, city = load_mapping(MAPPING), load_city(DEFAULT_CITY_FILE)
    if again:
        ingest_files(engine, "complaints", mapping, city, [csv], batch_rows=batch_rows)
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    summary = ingest_files(engine, "complaints", mapping, city, [csv], batch_rows=batch_rows)
    seconds = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_SELF)
    dispose_engine(url)
    database = Path(target)
    floor = engine_floor(database) if not (again or server) else (None, None)
    csv_seconds = csv_floor(csv, database, mapping) if not (again or server) else None
    figures = {
        "rows": summary.read,
        "new": summary.new,
        "unchanged": summary.unchanged,
        "seconds": seconds,
        "cpu": after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime,
        "phases": summary.phases,
        "peak_mb": after.ru_maxrss / 1024,
        "floor_seconds": floor[0],
        "keyed_floor_seconds": floor[1],
        "csv_floor_seconds": csv_seconds,
    }
    print(json.dumps(figures))


def engine_floor(database: Path) -> tuple[float, float]:
    """Seconds DuckDB alone takes to load the imported rows, already valid, into a fresh table: (contract, keyed).

    The rows are exported to Parquet, then inserted with one ``INSERT … SELECT`` into an empty
    ``complaints`` table of a new database file, twice: with the contract's DuckDB DDL (no primary
    key index, ``schema._keyed_on_this_engine``) — what any import costs at least, with no reading,
    mapping or checking — and with ``PRIMARY KEY (ticket_id)`` added, as the table was before.
    """
    import duckdb
    import sqlalchemy as sa
    from duckdb_engine import Dialect

    from data_access.contract import schema

    staged, fresh = database.with_suffix(".floor.parquet"), database.with_suffix(".floor.duckdb")
    with duckdb.connect(str(database)) as source:
        source.execute(f"COPY complaints TO '{staged}' (FORMAT parquet, COMPRESSION lz4)")
    ddl = str(sa.schema.CreateTable(schema.complaints).compile(dialect=Dialect())).rstrip().removesuffix(")")
    seconds = []
    for table in (ddl + ")", ddl.rstrip().rstrip(",") + ", PRIMARY KEY (ticket_id))"):
        fresh.unlink(missing_ok=True)
        with duckdb.connect(str(fresh)) as target:
            target.execute(table)
            target.execute("CHECKPOINT")
            began = time.perf_counter()
            target.execute(f"INSERT INTO complaints SELECT * FROM read_parquet('{staged}')")
            seconds.append(time.perf_counter() - began)
        fresh.unlink()
    staged.unlink()
    return seconds[0], seconds[1]


def csv_floor(csv: Path, database: Path, mapping: Any) -> float:
    """Seconds DuckDB alone takes to load the CSV itself into a fresh ``complaints`` table, commit included.

    The fastest any CSV import into the embedded engine can be on this machine: DuckDB's own parallel
    CSV reader, every mapped column cast to its contract type (times with the mapping's first
    format, numbers, yes/no as ``= '是'``), written by one ``INSERT … SELECT`` in one transaction.
    Nothing is trimmed, mapped, looked up or checked, no quarantine, no duplicates search and no
    aggregates: everything the import does beyond this is validation and the cockpit's rollups.
    """
    import duckdb
    import sqlalchemy as sa
    from duckdb_engine import Dialect

    from data_access.contract import schema
    from data_access.contract.staging import quote_path

    def quoted(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    sources = {**{t: s[0] for t, s in mapping.columns.items()}}
    sources.update({f"{level}_code": column for level, column in mapping.region.columns.items()})
    names, values = [], []
    for column in schema.complaints.columns:
        source = sources.get(column.name)
        if source is None:
            if column.nullable:
                continue
            value = "24.0"  # the one required column the file lacks: time_limit_hours
        elif isinstance(column.type, sa.DateTime):
            value = f"try_strptime({quoted(source)}, '{mapping.date_formats[0]}')"
        elif isinstance(column.type, sa.Float):
            value = f"TRY_CAST({quoted(source)} AS DOUBLE)"
        elif isinstance(column.type, sa.Boolean):
            value = f"{quoted(source)} = '是'"
        else:
            value = quoted(source)
        names.append(quoted(column.name))
        values.append(value)
    fresh = database.with_suffix(".csvfloor.duckdb")
    fresh.unlink(missing_ok=True)
    ddl = str(sa.schema.CreateTable(schema.complaints).compile(dialect=Dialect()))
    with duckdb.connect(str(fresh)) as target:
        target.execute(ddl)
        target.execute("CHECKPOINT")
        target.execute("SET preserve_insertion_order = false")
        began = time.perf_counter()
        target.execute("BEGIN")
        target.execute(
            f"INSERT INTO complaints ({', '.join(names)}) SELECT {', '.join(values)} "
            f"FROM read_csv({quote_path(csv)}, all_varchar = true, header = true)"
        )
        target.execute("COMMIT")
        seconds = time.perf_counter() - began
        loaded = target.execute("SELECT count(*) FROM complaints").fetchone()
    fresh.unlink()
    assert loaded is not None and loaded[0] > 0, "the CSV floor loaded nothing"
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--rows", default="500000,2000000", help="comma-separated file sizes in rows")
    parser.add_argument("--batch-rows", type=int, default=200_000)
    parser.add_argument("--again", action="store_true", help="measure a second import of the same file")
    parser.add_argument(
        "--url",
        help="import into this PostgreSQL/MySQL database instead of a fresh DuckDB file; its name must contain "
        "'bench': every contract and aggregate table in it is dropped before each size (no floors are measured)",
    )
    parser.add_argument("--child", nargs=2, metavar=("CSV", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(Path(args.child[0]), args.child[1], args.batch_rows, args.again)
        return 0
    if args.url and "bench" not in (sa_url(args.url).database or ""):
        print(f"--url: the database name must contain 'bench' (its tables are dropped): {args.url}", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    kind = "re-import, every row unchanged" if args.again else "into an empty database"
    where = sa_url(args.url).render_as_string(hide_password=True) if args.url else "a fresh DuckDB file"
    print(f"{kind} ({where}); batch {args.batch_rows:,} rows")
    print(
        "| rows | file MB | seconds | rows/s | validate s | duplicates s | database s | CPU s | peak RSS MB "
        "| CSV floor rows/s | engine floor rows/s | keyed floor rows/s | load |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rows in (int(r) for r in args.rows.split(",")):
        csv = OUT / f"complaints_{rows}.csv"
        if not csv.exists():
            make_csv(csv, rows)
        database = OUT / f"ingest_{rows}.duckdb"
        database.unlink(missing_ok=True)
        command = [sys.executable, "-m", "bench.ingest", "--batch-rows", str(args.batch_rows)]
        command += ["--again"] if args.again else []
        load = os.getloadavg()[0]
        target = args.url or str(database)
        result = subprocess.run([*command, "--child", str(csv), target], capture_output=True, text=True)
        if result.returncode:
            print(result.stderr, file=sys.stderr)
            return result.returncode
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        assert figures["unchanged" if args.again else "new"] == rows, figures
        size = csv.stat().st_size / 1e6
        rate = figures["rows"] / figures["seconds"]
        phases = figures["phases"]
        csv_floor_rate, floor, keyed = (
            f"{rows / figures[name]:,.0f}" if figures[name] else "—"
            for name in ("csv_floor_seconds", "floor_seconds", "keyed_floor_seconds")
        )
        print(
            f"| {rows:,} | {size:.0f} | {figures['seconds']:.2f} | {rate:,.0f} | {phases['validate']:.2f} "
            f"| {phases['duplicates']:.2f} | {phases['database']:.2f} | {figures['cpu']:.1f} "
            f"| {figures['peak_mb']:.0f} | {csv_floor_rate} | {floor} | {keyed} | {load:.1f} |",
            flush=True,
        )
        database.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
