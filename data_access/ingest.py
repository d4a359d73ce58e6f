"""Load a city's own files into the contract tables: ``python -m data_access.ingest``.

    python -m data_access.ingest --table complaints --preset sf311 [--city C.toml] [--url URL] FILE...
    python -m data_access.ingest --table complaints --mapping my_city.toml FILE...

Reads CSV (UTF-8, UTF-8 with BOM, GB18030/GBK, detected), XLSX, Parquet and Open311 GeoReport v2 JSON
in bounded batches; maps columns and values with a mapping file (``docs/ingest.md``); validates every
row and writes the rejected ones to a quarantine CSV with row number, column and reason; and loads the
rest in **one transaction**, upserting by id (a newer version of a record replaces the older one, an
identical one changes nothing). The city's regions (from its GeoJSON layers), the categories and the
departments the records use are written in the same transaction, and ``cockpit_meta`` gets a new
``data_version`` so the app can drop cached results.

Exit status: 0 when at least one valid row was found (loaded, updated or already present), 1 when
none was, 2 when the mapping, the city file, a source file or the database is unusable (the message
names the column, key or setting at fault).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import polars as pl
import sqlalchemy as sa

from data_access import engine as db
from data_access import schema
from data_access.mapping import Mapping, MappingProblem, load_mapping, preset_path
from data_access.readers import ROW, SourceProblem, open_source
from data_access.regions import RegionProblem, load_regions
from data_access.settings import CITY_ENV, CityConfig, SettingsProblem, load_city
from data_access.transform import REASONS, Transformer

BATCH_ROWS = 200_000
INSERT_SLICE = 5_000  # rows per executemany on engines without the Arrow path
DATASET = "imported"
QUARANTINE_SUFFIX = ".rejected.csv"
QUARANTINE_COLUMNS = ("file", "row", "column", "reason", "value")


class IngestProblem(Exception):
    """The import cannot run: database refused, source unreadable, mapping or city file wrong (exit 2)."""


@dataclass
class IngestSummary:
    """What an import did. ``new`` + ``updated`` rows were written; ``unchanged`` ones were already there."""

    table: str
    files: list[str] = field(default_factory=list)
    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    quarantine: Path | None = None
    encodings: dict[str, str] = field(default_factory=dict)
    dimensions: dict[str, int] = field(default_factory=dict)
    data_version: str | None = None
    committed: bool = False
    seconds: float = 0.0

    @property
    def valid(self) -> int:
        return self.new + self.updated + self.unchanged

    @property
    def rows_per_second(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0

    def lines(self) -> list[str]:
        out = [
            f"table {self.table}: read {self.read:,} rows from {len(self.files)} file(s) in {self.seconds:.2f} s",
            f"  loaded (new)      {self.new:>10,}",
            f"  updated           {self.updated:>10,}",
            f"  unchanged         {self.unchanged:>10,}",
            f"  rejected          {sum(self.rejected.values()):>10,}",
        ]
        out += [f"    {reason:<16}{count:>10,}  {REASONS[reason]}" for reason, count in self.rejected.most_common()]
        if self.quarantine is not None:
            out.append(f"  quarantine: {self.quarantine}")
        for name, count in self.dimensions.items():
            out.append(f"  {name}: {count:,} rows new or changed")
        for name, encoding in self.encodings.items():
            out.append(f"  {name}: encoding {encoding}")
        if self.committed and (self.new or self.updated or any(self.dimensions.values())):
            out.append(f"  committed; data_version {self.data_version}")
        elif self.committed:
            out.append(f"  nothing changed; data_version stays {self.data_version}")
        else:
            out.append("  nothing committed: no valid row")
        return out


# ---- writing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchOutcome:
    new: int
    updated: int
    unchanged: int
    duplicates: pl.DataFrame  # _row, id, first_row: ids already loaded from an earlier batch


def _staging(name: str, columns: Sequence[sa.Column[Any]]) -> sa.Table:
    """A temporary table (per connection, gone at its end) with plain copies of the columns."""
    copies = [sa.Column(column.name, column.type) for column in columns]
    return sa.Table(name, sa.MetaData(), *copies, sa.Column(ROW, sa.BigInteger), prefixes=["TEMPORARY"])


class FactWriter:
    """Upserts batches of contract rows into one fact table inside the caller's transaction.

    Per batch: rows whose id an earlier batch of this import already had are set aside as duplicates;
    target rows with the batch's ids are deleted and the batch inserted (so a newer version replaces
    the older, an identical one is rewritten unchanged); counts tell new, updated and unchanged apart.
    Every statement names each temporary table once (MySQL cannot reopen a temporary table).
    """

    def __init__(self, connection: sa.Connection, table: sa.Table) -> None:
        self.connection = connection
        self.table = table
        self.key = next(iter(table.primary_key.columns)).name
        suffix = uuid.uuid4().hex[:8]
        self.batch = _staging(f"ingest_batch_{suffix}", list(table.columns))
        self.seen = _staging(f"ingest_seen_{suffix}", [table.c[self.key]])
        self.is_duckdb = connection.dialect.name == "duckdb"
        for staging in (self.batch, self.seen):
            staging.create(connection)
        # Into an empty table only this import's own earlier batches can hold an id (caught as duplicates).
        self.target_was_empty = connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 0

    def _stage(self, frame: pl.DataFrame) -> None:
        columns = [column.name for column in self.batch.columns]
        frame = frame.select(columns)
        if self.is_duckdb:
            duck: Any = self.connection.connection.driver_connection
            view = f"{self.batch.name}_arrow"
            duck.register(view, frame.to_arrow())
            try:
                duck.execute(f"INSERT INTO {self.batch.name} SELECT * FROM {view}")
            finally:
                duck.unregister(view)
            return
        for part in frame.iter_slices(INSERT_SLICE):
            self.connection.execute(self.batch.insert(), part.to_dicts())

    def write(self, frame: pl.DataFrame) -> BatchOutcome:
        c, t, b, s, key = self.connection, self.table, self.batch, self.seen, self.key
        empty = pl.DataFrame(schema={ROW: pl.Int64(), "id": pl.String(), "first_row": pl.Int64()})
        if frame.height == 0:
            return BatchOutcome(0, 0, 0, empty)
        self._stage(frame)
        duplicate_rows = c.execute(
            sa.select(b.c[ROW], b.c[key], s.c[ROW]).select_from(b.join(s, b.c[key] == s.c[key]))
        ).all()
        duplicates = (
            pl.DataFrame([tuple(row) for row in duplicate_rows], schema=empty.schema, orient="row")
            if duplicate_rows
            else empty
        )
        if duplicate_rows:
            c.execute(b.delete().where(b.c[key].in_(sa.select(s.c[key]))))
        c.execute(s.insert().from_select([key, ROW], sa.select(b.c[key], b.c[ROW])))
        staged = frame.height - len(duplicate_rows)
        existing = same = 0
        if not self.target_was_empty:
            identical = sa.and_(*[t.c[col.name].is_not_distinct_from(b.c[col.name]) for col in t.columns])
            found = c.execute(
                sa.select(sa.func.count(), sa.func.sum(sa.case((identical, 1), else_=0))).select_from(
                    b.join(t, b.c[key] == t.c[key])
                )
            ).one()
            existing, same = int(found[0] or 0), int(found[1] or 0)
        if existing:
            c.execute(t.delete().where(t.c[key].in_(sa.select(b.c[key]))))
        names = [col.name for col in t.columns]
        c.execute(t.insert().from_select(names, sa.select(*[b.c[name] for name in names])))
        c.execute(b.delete())
        return BatchOutcome(int(staged) - existing, existing - same, same, duplicates)

    def close(self) -> None:
        for staging in (self.batch, self.seen):
            staging.drop(self.connection)


def upsert_rows(connection: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert or replace small dimension rows by primary key; returns how many were new or changed."""
    if not rows:
        return 0
    key = next(iter(table.primary_key.columns)).name
    rows = list({row[key]: row for row in rows}.values())
    wanted = [{column.name: row.get(column.name) for column in table.columns} for row in rows]
    keys = [row[key] for row in wanted]
    existing: dict[Any, dict[str, Any]] = {}
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        for found in connection.execute(sa.select(table).where(table.c[key].in_(chunk))).mappings():
            existing[found[key]] = dict(found)
    changed = [row for row in wanted if existing.get(row[key]) != row]
    stale = [row[key] for row in changed if row[key] in existing]
    for start in range(0, len(stale), 1000):
        connection.execute(table.delete().where(table.c[key].in_(stale[start : start + 1000])))
    if changed and connection.dialect.name == "duckdb":  # executemany is slow on DuckDB: go through Arrow
        frame = pl.DataFrame(changed, schema=_polars_types(table), orient="row")
        duck: Any = connection.connection.driver_connection
        duck.register("ingest_dimension_arrow", frame.to_arrow())
        try:
            names = ", ".join(f'"{c.name}"' for c in table.columns)
            duck.execute(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM ingest_dimension_arrow")
        finally:
            duck.unregister("ingest_dimension_arrow")
    elif changed:
        connection.execute(table.insert(), changed)
    return len(changed)


def _polars_types(table: sa.Table) -> dict[str, pl.DataType]:
    types: dict[str, pl.DataType] = {}
    for column in table.columns:
        kind = column.type
        if isinstance(kind, sa.DateTime):
            types[column.name] = pl.Datetime("us")
        elif isinstance(kind, sa.Date):
            types[column.name] = pl.Date()
        elif isinstance(kind, sa.Boolean):
            types[column.name] = pl.Boolean()
        elif isinstance(kind, sa.Integer):
            types[column.name] = pl.Int64()
        elif isinstance(kind, sa.Float):
            types[column.name] = pl.Float64()
        else:
            types[column.name] = pl.String()
    return types


# ---- quarantine ---------------------------------------------------------------------------------


class Quarantine:
    """Rejected rows, appended batch by batch to one CSV (created only when something is rejected)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[bytes] | None = None
        self.rows = 0

    def add(self, file: str, rejects: pl.DataFrame) -> None:
        if rejects.height == 0:
            return
        frame = rejects.select(pl.lit(file).alias("file"), pl.col(ROW).alias("row"), "column", "reason", "value")
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("wb")
            frame.write_csv(self._handle, include_header=True)
        else:
            frame.write_csv(self._handle, include_header=False)
        self.rows += rejects.height

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        elif self.path.is_file() and self.path.name.endswith(QUARANTINE_SUFFIX):
            self.path.unlink()  # an older run's rejects, no longer true


def default_quarantine(first_file: Path) -> Path:
    return first_file.with_name(first_file.name + QUARANTINE_SUFFIX)


# ---- the import -----------------------------------------------------------------------------------


def data_version(engine: sa.Engine, connection: sa.Connection | None = None) -> str | None:
    """The ``data_version`` the last import that changed something left in ``cockpit_meta``.

    None when no import ran. An import that changes nothing (same file again) keeps the version, so
    caches keyed on it stay valid.
    """
    if connection is None:
        return db.read_meta(engine).get("data_version")
    meta = schema.cockpit_meta
    return connection.execute(sa.select(meta.c.value).where(meta.c.key == "data_version")).scalar_one_or_none()


def _check_target(engine: sa.Engine, city: CityConfig) -> None:
    """Refuse to mix an import into the demo city or into another city's database."""
    meta = db.read_meta(engine)
    shown = engine.url.render_as_string(hide_password=True)
    if meta.get("dataset") == "demo":
        raise IngestProblem(
            f"The database {shown} holds the generated demo city; import into a database of your own "
            "(--url duckdb:///data/<city>.duckdb, or a server URL)."
        )
    if meta.get("city_name") and meta["city_name"] != city.name:
        raise IngestProblem(
            f"The database {shown} holds {meta['city_name']}, not {city.name} (city file {city.source}); "
            "use another database or the matching --city."
        )


def _missing_columns(mapping: Mapping, columns: list[str], file: Path) -> None:
    missing = sorted(mapping.source_columns() - set(columns) - set(mapping.source.optional))
    if missing:
        used = {source: target for target, sources in mapping.columns.items() for source in sources}
        named = ", ".join(f"{m!r} (for {used.get(m, 'region')})" for m in missing)
        raise MappingProblem(
            f"{file}: source column(s) {named} named in the mapping are not in the file; "
            f"its columns are: {', '.join(repr(c) for c in columns)}"
        )


def ingest_files(
    engine: sa.Engine,
    table: str,
    mapping: Mapping,
    city: CityConfig,
    files: Sequence[Path],
    *,
    quarantine: Path | None = None,
    batch_rows: int = BATCH_ROWS,
) -> IngestSummary:
    """Validate and load files into one fact table in one transaction; the admin page can call this.

    Raises MappingProblem, SourceProblem, IngestProblem or DatabaseProblem (nothing is written then).
    When no row is valid nothing is committed and the summary says so (``committed`` is False).
    """
    began = time.perf_counter()
    if mapping.table != table:
        raise MappingProblem(f"the mapping is for table {mapping.table!r}, not {table!r}")
    if not files:
        raise IngestProblem("no input file given")
    try:
        regions = load_regions(city)
    except RegionProblem as exc:
        raise IngestProblem(f"city file {city.source}: {exc}") from exc
    db.check_connection(engine)
    schema.create_schema(engine)
    _check_target(engine, city)
    transformer = Transformer(mapping, city, regions)
    summary = IngestSummary(table=table, files=[str(f) for f in files])
    sink = Quarantine(quarantine or default_quarantine(Path(files[0])))
    fact = schema.metadata.tables[table]
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            try:
                writer = FactWriter(connection, fact)
                for file in files:
                    _load_file(Path(file), mapping, transformer, writer, sink, summary, batch_rows)
                writer.close()
                if summary.valid:
                    _write_dimensions(connection, transformer, regions.rows(), summary)
                    changed = summary.new + summary.updated + sum(summary.dimensions.values())
                    summary.data_version = (
                        _write_meta(connection, city, table, summary) if changed else data_version(engine, connection)
                    )
                    transaction.commit()
                    summary.committed = True
                else:
                    transaction.rollback()
            except BaseException:
                transaction.rollback()
                raise
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise IngestProblem(f"the database refused the load, nothing was written: {reason}") from exc
    finally:
        sink.close()
    summary.quarantine = sink.path if sink.rows else None
    summary.seconds = time.perf_counter() - began
    if summary.committed:
        _forget_cached_results()
    return summary


def _load_file(
    file: Path,
    mapping: Mapping,
    transformer: Transformer,
    writer: FactWriter,
    sink: Quarantine,
    summary: IngestSummary,
    batch_rows: int,
) -> None:
    with open_source(file, mapping.source, batch_rows) as source:
        _missing_columns(mapping, source.columns, file)
        if source.encoding:
            summary.encodings[file.name] = source.encoding
        for batch in source.batches:
            prepared = transformer(batch)
            outcome = writer.write(prepared.valid)
            duplicates = outcome.duplicates.select(
                pl.col(ROW),
                pl.lit(mapping.id_column).alias("column"),
                pl.lit("duplicate_id").alias("reason"),
                (pl.col("id") + " (first at row " + pl.col("first_row").cast(pl.String) + ")").alias("value"),
            )
            rejects = pl.concat([prepared.rejects, duplicates]).sort(ROW)
            sink.add(file.name, rejects)
            summary.read += batch.height
            summary.new += outcome.new
            summary.updated += outcome.updated
            summary.unchanged += outcome.unchanged
            summary.rejected.update(rejects.get_column("reason").to_list())


def _write_dimensions(
    connection: sa.Connection, transformer: Transformer, region_rows: list[dict[str, Any]], summary: IngestSummary
) -> None:
    categories = transformer.categories.city_rows() + list(transformer.categories.added.values())
    summary.dimensions = {
        "regions": upsert_rows(connection, schema.regions, region_rows),
        "categories": upsert_rows(connection, schema.categories, categories),
        "departments": upsert_rows(connection, schema.departments, list(transformer.departments.used.values())),
    }


def _write_meta(connection: sa.Connection, city: CityConfig, table: str, summary: IngestSummary) -> str:
    version = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    meta = {
        "dataset": DATASET,
        "city_name": city.name,
        "city_file": str(city.source or ""),
        "data_version": version,
        "imported_at": dt.datetime.now().isoformat(timespec="seconds"),
        f"last_import_{table}": ", ".join(Path(f).name for f in summary.files)[:512],
    }
    upsert_rows(connection, schema.cockpit_meta, [{"key": k, "value": v} for k, v in meta.items()])
    return version


def _forget_cached_results() -> None:
    """Drop this process's cached query results (the app in the same process sees the new data)."""
    from data_access.metrics import RESULTS

    RESULTS.clear()


# ---- command line -------------------------------------------------------------------------------


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m data_access.ingest",
        description="Validate and load a city's files (CSV, XLSX, Parquet, Open311 JSON) into a fact table.",
    )
    parser.add_argument("--table", required=True, choices=[t.name for t in schema.FACT_TABLES])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--mapping", type=Path, help="mapping file (TOML), see docs/ingest.md")
    source.add_argument("--preset", help="a mapping shipped in data_access/presets/ (open311, sf311)")
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


if __name__ == "__main__":
    raise SystemExit(main())
