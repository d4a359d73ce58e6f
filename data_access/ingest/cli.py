"""The import's command line: ``python -m data_access.ingest``.

    python -m data_access.ingest --table complaints --preset sf311 [--city C.toml] [--url URL] FILE...
    python -m data_access.ingest --table complaints --mapping my_city.toml FILE...

Exit status: 0 when at least one valid row was found (loaded, updated or already present), 1 when
none was, 2 when the mapping, the city file, a source file or the database is unusable (the message
names the column, key or setting at fault). The import itself is :func:`data_access.ingest.pipeline.ingest_files`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from data_access.config.city import CITY_ENV, CityConfig, SettingsProblem, load_city
from data_access.contract import schema
from data_access.ingest.mapping import Mapping, MappingProblem, load_mapping, preset_path
from data_access.ingest.pipeline import BATCH_ROWS, IngestProblem, ingest_files
from data_access.ingest.quarantine import QUARANTINE_SUFFIX
from data_access.ingest.readers import SourceProblem
from data_access.runtime import engine as db


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m data_access.ingest",
        description="Validate and load a city's files (CSV, XLSX, Parquet, Open311 JSON) into a fact table.",
    )
    parser.add_argument("--table", required=True, choices=[t.name for t in schema.FACT_TABLES])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--mapping", type=Path, help="mapping file (TOML), see docs/ingest.md")
    source.add_argument("--preset", help="a mapping shipped in data_access/ingest/presets/ (open311, sf311)")
    parser.add_argument("--city", type=Path, help=f"city file (default: ${CITY_ENV}, else the preset's city)")
    parser.add_argument("--url", help="database URL (default: COCKPIT_DATABASE_URL, secrets, or the embedded DuckDB)")
    parser.add_argument("--quarantine", type=Path, help=f"file for rejected rows (default: FILE{QUARANTINE_SUFFIX})")
    parser.add_argument("--batch-rows", type=int, default=BATCH_ROWS, help="rows per batch (bounds memory)")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    return parser.parse_args(argv)


def _city_for(args: argparse.Namespace, mapping: Mapping) -> CityConfig:
    if args.city is not None:
        return load_city(args.city)
    if os.environ.get(CITY_ENV) or mapping.city is None:
        return load_city()
    return load_city(mapping.city)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.batch_rows < 1:
        print("error: --batch-rows must be positive", file=sys.stderr)
        return 2
    target = db.resolve_target(args.url)
    try:
        mapping_file = args.mapping if args.mapping is not None else preset_path(args.preset)
        mapping = load_mapping(mapping_file, args.table)
        city = _city_for(args, mapping)
        print(f"Importing into {target.display_url} ({target.origin}); city {city.name_en} ({city.source})")
        engine = db.get_engine(target.url)
        summary = ingest_files(
            engine, args.table, mapping, city, args.files, quarantine=args.quarantine, batch_rows=args.batch_rows
        )
    except (MappingProblem, SettingsProblem, SourceProblem, IngestProblem, db.DatabaseProblem) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        db.dispose_engine(target.url)
    for line in summary.lines():
        print(line)
    return 0 if summary.valid else 1
