"""Load a city's own files into one contract fact table, all or nothing: :func:`ingest_files`.

Reads CSV (UTF-8, UTF-8 with BOM, GB18030/GBK, detected), XLSX, Parquet and Open311 GeoReport v2 JSON
in bounded batches; maps columns and values with a mapping file (``docs/ingest.md``); validates every
row, staging the valid ones to Parquet (``data_access.contract.writer``) and the rejected ones, with row
number, column and reason, to a quarantine CSV (``data_access.ingest.quarantine``); finds duplicate ids
over the whole import; and only then loads the rows in **one transaction**, upserting by id (a newer
version of a record replaces the older one, an identical one changes nothing). The city's regions (from
its GeoJSON layers), the categories and the departments the records use are written in the same
transaction, and ``cockpit_meta`` gets a new ``data_version`` so the app can drop cached results.

The command line (``python -m data_access.ingest``) is ``data_access.ingest.cli``; the admin page's upload
calls :func:`ingest_files` too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Generator, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import sqlalchemy as sa

from data_access.config.city import CityConfig
from data_access.contract import schema
from data_access.contract.bulk import upsert_rows
from data_access.contract.staging import scratch_parent, work_engine
from data_access.contract.writer import FILE, FactWriter
from data_access.ingest.mapping import Mapping, MappingProblem
from data_access.ingest.quarantine import Quarantine, default_quarantine
from data_access.ingest.readers import open_source
from data_access.ingest.regions import CityRegions, RegionProblem, load_regions
from data_access.ingest.rules import REASONS, Prepared
from data_access.ingest.transform import Transformer
from data_access.runtime import engine as db
from data_access.semantic.rollups.refresh import STATES, refresh_rollups

BATCH_ROWS = 200_000
PREPARE_THREADS = min(2, os.cpu_count() or 1)  # batches validated at once (``prepared_batches``)
DATASET = "imported"
# One load at a time per process: DuckDB fact tables keep their ids unique without an index
# (``FactWriter._check_unique``), which holds only if no other load commits in between.
_LOADING = threading.Lock()


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
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase: validate, duplicates, database
    alerts: str | None = None  # what the early-warning refresh after the commit did (None: not run)

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
        if self.alerts is not None:
            out.append(f"  early warning: {self.alerts}")
        return out


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
    file_names: Sequence[str] | None = None,
    refresh_alerts: bool = True,
) -> IngestSummary:
    """Validate and load files into one fact table in one transaction; the admin page calls this too.

    Every file is read, mapped and validated first (valid rows staged to Parquet in a scratch folder,
    rejects to the quarantine); only then is the database written, in one transaction. ``file_names``
    are the names the summary and the quarantine show (default: the files' own names; the admin page
    passes the names of the uploaded files). Raises MappingProblem, SourceProblem, IngestProblem or
    DatabaseProblem (nothing is written then). When no row is valid nothing is committed and the
    summary says so (``committed`` is False).

    After a commit that changed data, the early warning's stored alerts are refreshed for the new data
    version (``refresh_alerts``; the app passes False: its background job sees the new version itself).
    A failed refresh is said in the summary; the import stands.
    """
    began = time.perf_counter()
    if mapping.table != table:
        raise MappingProblem(f"the mapping is for table {mapping.table!r}, not {table!r}")
    if not files:
        raise IngestProblem("no input file given")
    paths = [Path(f) for f in files]
    names = list(file_names) if file_names is not None else [path.name for path in paths]
    regions = _city_regions(city)
    db.check_connection(engine)
    schema.create_schema(engine)
    _check_target(engine, city)
    version_before = data_version(engine)
    transformer = Transformer(mapping, city, regions)
    summary = IngestSummary(table=table, files=[str(f) for f in files])
    fact = schema.metadata.tables[table]
    scratch = Path(tempfile.mkdtemp(prefix=".ingest-", dir=scratch_parent(engine)))
    try:
        sink = Quarantine(quarantine or default_quarantine(paths[0]), scratch)
        writer = FactWriter(fact, scratch, batch_rows)
        _stage_files(paths, names, mapping, transformer, writer, sink, summary, batch_rows)
        summary.phases["validate"] = time.perf_counter() - began
        with work_engine(scratch) as work:
            try:
                duplicates = writer.find_duplicates(work)
                sink.write(work, names, writer, mapping.id_column)
            except (duckdb.Error, OSError) as exc:
                raise IngestProblem(f"staging the import in {scratch} failed, nothing was written: {exc}") from exc
            if duplicates:
                summary.rejected["duplicate_id"] += duplicates
            summary.quarantine = sink.path if sink.rows or duplicates else None
            summary.phases["duplicates"] = time.perf_counter() - began - summary.phases["validate"]
            if writer.to_load:
                _load_database(engine, writer, work, transformer, regions.rows(), city, summary)
    except OSError as exc:  # the scratch folder (a full disk) or the quarantine file
        raise IngestProblem(f"cannot write {exc.filename or scratch}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    summary.seconds = time.perf_counter() - began
    summary.phases["database"] = summary.seconds - sum(summary.phases.values())
    if summary.committed:
        _forget_cached_results()
    if refresh_alerts and summary.committed and summary.data_version != version_before:
        summary.alerts = _refresh_alerts(engine, city)
    return summary


def _refresh_alerts(engine: sa.Engine, city: CityConfig) -> str:
    """The early-warning refresh after an import's commit, as one line for the summary (never raises)."""
    from data_access.alerts.refresh import refresh_after_load  # the detectors: only when an import committed

    report = refresh_after_load(engine, city)
    if report is None:
        return "WARNING: the alerts could not be refreshed (see the log); the app's job will retry"
    return report.lines()[-1]


def _city_regions(city: CityConfig) -> CityRegions:
    """The city's regions from its GeoJSON layers; a broken layer is a problem of the city file."""
    try:
        return load_regions(city)
    except RegionProblem as exc:
        raise IngestProblem(f"city file {city.source}: {exc}") from exc


def _stage_files(
    paths: Sequence[Path],
    names: Sequence[str],
    mapping: Mapping,
    transformer: Transformer,
    writer: FactWriter,
    sink: Quarantine,
    summary: IngestSummary,
    batch_rows: int,
) -> None:
    """Read, map and validate every file; returns once the writer's last batch is staged (or raises)."""
    try:
        for index, path in enumerate(paths):
            _load_file(index, path, names[index], mapping, transformer, writer, sink, summary, batch_rows)
    except BaseException:
        writer.abandon()  # the staging thread stopped; the caller removes the scratch folder
        raise
    writer.close()  # the last batch staged (its write error, if any, raised here)


def _load_database(
    engine: sa.Engine,
    writer: FactWriter,
    work: Any,
    transformer: Transformer,
    region_rows: list[dict[str, Any]],
    city: CityConfig,
    summary: IngestSummary,
) -> None:
    """The one transaction: facts, then the dimensions they use, then ``cockpit_meta``; all or nothing."""
    try:
        with _LOADING, engine.connect() as connection:
            transaction = connection.begin()
            try:
                outcome = writer.finish(connection, work)
                summary.new, summary.updated, summary.unchanged = outcome.new, outcome.updated, outcome.unchanged
                _write_dimensions(connection, transformer, region_rows, summary)
                changed = summary.new + summary.updated + sum(summary.dimensions.values())
                summary.data_version = (
                    record_import(connection, city, summary.table, summary.files)
                    if changed
                    else data_version(engine, connection)
                )
                transaction.commit()
                summary.committed = True
            except BaseException:
                transaction.rollback()
                summary.new = summary.updated = summary.unchanged = 0
                summary.dimensions = {}
                raise
    except (sa.exc.SQLAlchemyError, duckdb.Error) as exc:
        reason = db.database_reason(exc)
        raise IngestProblem(f"the database refused the load, nothing was written: {reason}") from exc


def _load_file(
    index: int,
    file: Path,
    name: str,
    mapping: Mapping,
    transformer: Transformer,
    writer: FactWriter,
    sink: Quarantine,
    summary: IngestSummary,
    batch_rows: int,
) -> None:
    """Read, map and validate one file batch by batch: valid rows staged by the writer, rejects by the sink."""
    with open_source(file, mapping.source, batch_rows) as source:
        _missing_columns(mapping, source.columns, file)
        if source.encoding:
            summary.encodings[name] = source.encoding
        # closing(): on an error here the batches still in preparation are waited for at once
        with contextlib.closing(prepared_batches(transformer, source.batches, PREPARE_THREADS)) as batches:
            for height, prepared in batches:
                writer.write(prepared.valid.with_columns(pl.lit(index, dtype=pl.Int32).alias(FILE)))
                sink.add(index, prepared.rejects)
                summary.read += height
                summary.rejected.update(prepared.rejects.get_column("reason").to_list())


def prepared_batches(
    transformer: Transformer, batches: Iterable[pl.DataFrame], threads: int = PREPARE_THREADS
) -> Generator[tuple[int, Prepared], None, None]:
    """(rows read, prepared rows) of each batch, in file order, ``threads`` batches prepared at once.

    One batch alone keeps the two cores busy only part of the time (polars runs many of its steps on
    one thread, and Python steers between them): two at once took the bench's 2M-row file from 4.95
    to 4.18 s. The transformer's lookups only add entries that are the same whichever thread adds
    them. Memory: ``threads`` batches in preparation, plus the one being staged.
    """
    if threads < 2:
        for batch in batches:
            yield batch.height, transformer(batch)
        return
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ingest-prepare")
    pending: deque[tuple[int, Future[Prepared]]] = deque()
    try:
        for batch in batches:
            pending.append((batch.height, pool.submit(transformer, batch)))
            if len(pending) >= threads:
                height, future = pending.popleft()
                yield height, future.result()
        while pending:
            height, future = pending.popleft()
            yield height, future.result()
    finally:  # also on an error of the caller's: the batches still in preparation are waited for, unused
        pool.shutdown(wait=True, cancel_futures=True)


def _write_dimensions(
    connection: sa.Connection, transformer: Transformer, region_rows: list[dict[str, Any]], summary: IngestSummary
) -> None:
    categories = transformer.categories.city_rows() + list(transformer.categories.added.values())
    summary.dimensions = {
        "regions": upsert_rows(connection, schema.regions, region_rows),
        "categories": upsert_rows(connection, schema.categories, categories),
        "departments": upsert_rows(connection, schema.departments, list(transformer.departments.used.values())),
    }


def record_import(connection: sa.Connection, city: CityConfig, table: str, files: Sequence[str]) -> str:
    """Write ``cockpit_meta`` after an import that changed something; returns the new ``data_version``.

    The one place an import marks the data as changed: the app drops its cached answers when the
    version moves. Whatever must be refreshed after a load (derived tables) belongs beside this call,
    inside the same transaction.
    """
    version = db.new_data_version()
    meta = {
        "dataset": DATASET,
        "city_name": city.name,
        "city_file": str(city.source or ""),
        "data_version": version,
        "imported_at": dt.datetime.now().isoformat(timespec="seconds"),
        f"last_import_{table}": ", ".join(Path(f).name for f in files)[:512],
    }
    upsert_rows(connection, schema.cockpit_meta, [{"key": k, "value": v} for k, v in meta.items()])
    refresh_rollups(connection, facts=(table,))  # the aggregates the cockpit reads, in the same transaction
    return version


def _forget_cached_results() -> None:
    """Drop this process's cached query results (the app in the same process sees the new data)."""
    from data_access.runtime.cache import RESULTS

    RESULTS.clear()
    STATES.clear()
