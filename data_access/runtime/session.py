"""The data session: the one door every read of the cockpit's data goes through.

Pages, the workbench, exports, the briefing (page and CLI), the early warning (page, ticker and CLI)
and the admin tables all read through a :class:`DataSession`. It does the three things no entry
point may forget:

* **scope** — every request is narrowed to the viewer's row-level scope (a request's own scope can
  only narrow it further), and the names, regions and children it lists are only those the viewer
  may see;
* **audit** — every answered read is counted in the session's :class:`~data_access.security.audit.ViewLog`,
  which becomes one audit row per page view or per command;
* **settings and caching** — the city's 三率 weights and cache TTL go with every request, and every
  answer is cached in the one process-wide result cache under a key that holds the database's
  ``data_version``: after an import (in any process) the keys change, so nothing has to be cleared
  by hand and no cache can be forgotten.

While a session reads, :func:`active_session` returns it; a test listens to every statement the
engine runs and fails if one touches the data outside a session.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

import polars as pl
import sqlalchemy as sa

from data_access.alerts import store as alert_store
from data_access.alerts.store import AlertSet
from data_access.config.city import CityConfig
from data_access.contract import catalog
from data_access.contract.check import table_counts
from data_access.runtime.cache import RESULTS
from data_access.runtime.engine import read_meta, schema_problems
from data_access.security import audit
from data_access.security.access import intersect, visible_regions
from data_access.semantic.details import DetailPage, DetailRequest, fetch_details
from data_access.semantic.distributions import HistogramRequest, histogram
from data_access.semantic.metrics import code_names, data_as_of, latest_record_times, region_names, run_metrics
from data_access.semantic.query import EVERYTHING, REGION_DIMENSIONS, MetricRequest, Scope
from data_access.semantic.targets import resolve_targets, target_rows

T = TypeVar("T")


class ReadLog(Protocol):
    """Where a session counts what it read, for the audit row of the view or command
    (:class:`~data_access.security.audit.ViewLog`, or the app's per-page-run forwarder)."""

    def note(self, request: MetricRequest, rows: int, *, unmasked: bool = False) -> None: ...

    def note_rows(self, filters: dict[str, Any], rows: int) -> None: ...


# How long a read of ``cockpit_meta.data_version`` is trusted: an import in another process shows
# within this many seconds (plus one refresh), and a page run reads the version at most once.
VERSION_TTL_SECONDS = 5.0
# Dimension tables (names, regions, targets) change only with the data version; the TTL only bounds
# how long a database edited behind the cockpit's back (no new version) shows old names.
LOOKUP_TTL_SECONDS = 600.0

_active: contextvars.ContextVar[DataSession | None] = contextvars.ContextVar("cockpit_data_session", default=None)


def active_session() -> DataSession | None:
    """The session reading right now in this thread or task, if any (for the entry-point test)."""
    return _active.get()


def engine_key(engine: sa.Engine) -> str:
    """The engine's URL as a cache key (with the password: two accounts may see different data)."""
    return engine.url.render_as_string(hide_password=False)


def current_version(engine: sa.Engine) -> str | None:
    """``cockpit_meta.data_version`` now (each import that changes data writes a new one), read at most
    every few seconds per database."""
    key = ("data_version", engine_key(engine))
    version = RESULTS.get_or_load(key, lambda: read_meta(engine).get("data_version"), VERSION_TTL_SECONDS)
    return None if version is None else str(version)


@dataclass(frozen=True, eq=False)
class DataSession:
    """One viewer's (or one command's) reads: scope, audit, the city's settings and the shared cache.

    ``version`` is the database's data version when the session was opened: part of every cache
    key. ``log`` collects what was read, for the audit row the caller writes when the page run or
    the command ends (``None``: an internal job that nobody views, such as a scheduled refresh).
    """

    engine: sa.Engine
    city: CityConfig
    scope: Scope = EVERYTHING
    reveal_personal_data: bool = False
    log: ReadLog | None = None
    version: str | None = None
    lookups_ttl: float = LOOKUP_TTL_SECONDS
    _visible: dict[str, frozenset[str] | None] = field(default_factory=dict, repr=False)

    # ---- the door -------------------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[DataSession]:
        """Mark the reads inside as this session's (the entry-point test checks every statement)."""
        token = _active.set(self)
        try:
            yield self
        finally:
            _active.reset(token)

    def _cache_key(self, what: Hashable) -> Hashable:
        return (engine_key(self.engine), self.version, what)

    def cached(self, what: Hashable, load: Callable[[], T], ttl: float | None = None) -> T:
        """``load()`` through the one result cache, keyed on the database, its data version and ``what``."""
        key = self._cache_key(what)

        def read() -> T:
            with self.reading():
                return load()

        found: T = RESULTS.get_or_load(key, read, self.lookups_ttl if ttl is None else ttl)
        return found

    # ---- scope ----------------------------------------------------------------------------------

    def narrowed(self, scope: Scope) -> Scope:
        """A request's scope narrowed to the session's (a request's own scope can only narrow it further)."""
        if self.scope.unrestricted:
            return scope
        if scope.unrestricted:
            return self.scope
        return intersect(scope, self.scope, self.region_parents())

    def scoped(self, request: MetricRequest) -> MetricRequest:
        """The request narrowed to the session's scope."""
        scope = self.narrowed(request.scope)
        return request if scope == request.scope else replace(request, scope=scope)

    def visible_regions(self) -> frozenset[str] | None:
        """Region codes the viewer may see named (theirs, below and above); None = every region."""
        if self.scope.regions is None:
            return None
        if "regions" not in self._visible:
            self._visible["regions"] = visible_regions(self.scope, self.region_parents())
        return self._visible["regions"]

    # ---- facts ----------------------------------------------------------------------------------

    def metrics(self, request: MetricRequest) -> pl.DataFrame:
        """One metric request, scoped, with the city's 三率 weights, cached under the data version."""
        request = self.scoped(request)
        with self.reading():
            frame = run_metrics(
                self.engine,
                request,
                self.city.three_rates,
                ttl_seconds=self.city.cache_ttl_seconds,
                version=self.version,
            )
        self._note(request, frame.height)
        return frame

    def details(self, request: DetailRequest) -> DetailPage:
        """One page of the records behind a number, in scope; personal data masked unless revealed."""
        request = replace(request, scope=self.narrowed(request.scope))
        with self.reading():
            found = fetch_details(
                self.engine,
                request,
                self.city.three_rates,
                reveal_personal_data=self.reveal_personal_data,
                ttl_seconds=self.city.cache_ttl_seconds,
                version=self.version,
            )
        self._note(request.metric_request(), found.rows.height, unmasked=self.reveal_personal_data)
        return found

    def histogram(self, request: HistogramRequest) -> pl.DataFrame:
        """Bin counts of a duration distribution, in scope."""
        request = replace(request, scope=self.narrowed(request.scope))
        with self.reading():
            frame = histogram(
                self.engine,
                request,
                self.city.three_rates,
                ttl_seconds=self.city.cache_ttl_seconds,
                version=self.version,
            )
        self._note(request.metric_request(), frame.height)
        return frame

    def _note(self, request: MetricRequest, rows: int, *, unmasked: bool = False) -> None:
        if self.log is not None:
            self.log.note(request, rows, unmasked=unmasked)

    def note_rows(self, filters: dict[str, Any], rows: int) -> None:
        """Count rows read outside the metric layer (the audit page's search) towards the view."""
        if self.log is not None:
            self.log.note_rows(filters, rows)

    # ---- dimensions and settings ----------------------------------------------------------------

    def as_of(self) -> dt.datetime | None:
        """The latest record time in the facts: 'now' for the data."""
        return self.cached("as_of", lambda: data_as_of(self.engine), self.city.cache_ttl_seconds)

    def meta(self) -> dict[str, str]:
        """``cockpit_meta`` (dataset, city file, generated at, ...)."""
        return self.cached("meta", lambda: read_meta(self.engine), self.city.cache_ttl_seconds)

    def regions(self) -> pl.DataFrame:
        """code, name, level, parent_code, population of every region (the whole small dimension)."""
        return self.cached("regions", lambda: region_names(self.engine))

    def region_parents(self) -> dict[str, str | None]:
        """Region code → its parent's code (every region: scope checks need the whole tree)."""

        def parents() -> dict[str, str | None]:
            regions = self.regions()
            return dict(zip(regions["code"].to_list(), regions["parent_code"].to_list(), strict=True))

        return self.cached("parents", parents)

    def region_levels(self) -> dict[str, str]:
        """Region code → level, for the regions the viewer may see."""

        def levels() -> dict[str, str]:
            regions = self.regions()
            return dict(zip(regions["code"].to_list(), regions["level"].to_list(), strict=True))

        return self._visible_only(self.cached("levels", levels))

    def names(self, dimension: str) -> dict[str, str]:
        """Code → name; for regions and departments only the codes in the viewer's scope."""
        names = self.all_names(dimension)
        if dimension in REGION_DIMENSIONS:
            return self._visible_only(names)
        if dimension == "department" and self.scope.departments is not None:
            return {code: name for code, name in names.items() if code in self.scope.departments}
        return names

    def all_names(self, dimension: str) -> dict[str, str]:
        """Code → name of every code, whatever the scope (to describe the viewer's own scope in words)."""
        return dict(self.cached(("names", dimension), lambda: code_names(self.engine, dimension)))

    def children(self, parent: str) -> list[str]:
        """Codes of the regions directly below ``parent`` that the viewer may see."""

        def grouped() -> dict[str, list[str]]:
            found: dict[str, list[str]] = {}
            for code, above in self.region_parents().items():
                if above is not None:
                    found.setdefault(str(above), []).append(str(code))
            return {key: sorted(codes) for key, codes in found.items()}

        visible = self.visible_regions()
        below = self.cached("children", grouped).get(parent, [])
        return below if visible is None else [code for code in below if code in visible]

    def districts(self) -> list[tuple[str, str]]:
        """(code, name) of the districts the viewer may see, by code."""
        return sorted(self.names("district").items())

    def grid_centres(self) -> dict[str, tuple[float, float]]:
        """Grid code → (lon, lat) of its centroid: the map's point layer."""
        return self.cached("grid_centres", lambda: catalog.grid_centres(self.engine))

    def category_tree(self) -> catalog.CategoryTree:
        """(code → domain, code → parent, code → name) of every category."""
        return self.cached("category_tree", lambda: catalog.category_tree(self.engine))

    def category_choices(self, table: str, level: int = 1) -> dict[str, str]:
        """Code → name of one fact table's categories at one level (the workbench's filter)."""
        return self.cached(
            ("category_choices", table, level), lambda: catalog.category_choices(self.engine, table, level)
        )

    def service_item_names(self) -> dict[str, str]:
        """Service item code → name (distinct pairs of the service facts)."""
        return self.cached("service_items", lambda: catalog.service_item_names(self.engine))

    def targets(self, metrics: Sequence[str], day: dt.date, region: str | None = None) -> dict[str, float]:
        """Targets that apply on ``day``: a ``targets`` table row for the region, else the city file, else defaults."""
        resolved = resolve_targets(metrics, self.target_rows(), self.city.targets, region=region, day=day)
        return {name: value for name, value in resolved.items() if value is not None}

    # ---- the admin page and the early warning ------------------------------------------------------

    def table_counts(self) -> dict[str, int]:
        """Rows per contract table."""
        return self.cached("table_counts", lambda: table_counts(self.engine), self.city.cache_ttl_seconds)

    def latest_record_times(self) -> dict[str, dt.datetime | None]:
        """Per fact table, its latest record time."""
        return self.cached("latest", lambda: latest_record_times(self.engine), self.city.cache_ttl_seconds)

    def alert_runs(self) -> list[alert_store.StoredRun]:
        """Every stored alert set's run row (the admin's view of the job); never cached."""
        with self.reading():
            return alert_store.stored_runs(self.engine) if alert_store.has_tables(self.engine) else []

    def schema_problems(self) -> list[str]:
        """The contract check, run now (never cached: the admin runs it after fixing something)."""
        with self.reading():
            return schema_problems(self.engine)

    def audit_trail(self, filters: dict[str, Any], **search: Any) -> pl.DataFrame:
        """The audit trail's rows for the admin's search (``audit.search`` arguments), counted as read with
        ``filters`` as the page shows them; never cached (the trail grows while the admin looks)."""
        with self.reading():
            found = audit.search(self.engine, **search)
        self.note_rows(filters, found.height)
        return found

    def alerts(self, *, as_of: dt.datetime | None = None, compute_missing: bool = False) -> AlertSet:
        """The early warning's alerts at ``as_of`` (default: the data's as-of time) in the session's scope.

        Read from the alert store (``data_access.alerts.store``: milliseconds), never computed in a
        viewer's request: when no set is stored yet for this scope and data version, the answer is
        marked not ready ("being computed") and the background job is asked for it; it carries the
        scope's newest stored set of older data when there is one (``previous_as_of``), so the alerts
        do not vanish from the pages between an import and the job's refresh. A command
        (``compute_missing``) has no job to wait for: it computes the set itself, without storing it.
        Rows outside the scope are dropped on read, whatever the store holds.
        """
        when = as_of or self.as_of()
        if when is None or alert_store.sees_nothing(self.scope):
            return AlertSet.empty()
        what = ("alerts", alert_store.scope_key(self.scope), alert_store.as_of_key(when))
        found: AlertSet = self.cached(
            what,
            lambda: (
                alert_store.read_set(self.engine, self.scope, when, self.version)
                or alert_store.read_previous(self.engine, self.scope)
                or AlertSet.pending()
            ),
        )
        if not found.ready:
            RESULTS.discard(self._cache_key(what))  # asked again next time: the job may have stored it by then
            if compute_missing:
                found = self.cached(("alerts-live", *what[1:]), lambda: self._compute_alerts(when))
            else:
                from data_access.alerts.job import JOB

                JOB.ask(self.engine, self.scope, when)
        frame = alert_store.within_scope(found.frame, self.scope, self.visible_regions())
        return replace(found, frame=frame)

    def _compute_alerts(self, as_of: dt.datetime) -> AlertSet:
        from data_access.alerts.run import compute_alerts  # heavy: only commands compute in place

        return AlertSet(compute_alerts(self, as_of=as_of), ready=True)

    def target_rows(self) -> list[dict[str, Any]]:
        """The ``targets`` table's rows (per region and period), for ``resolve_targets``."""
        rows: list[dict[str, Any]] = self.cached("target_rows", lambda: target_rows(self.engine))
        return rows

    def _visible_only(self, codes: dict[str, T]) -> dict[str, T]:
        visible = self.visible_regions()
        if visible is None:
            return dict(codes)
        return {code: value for code, value in codes.items() if code in visible}


def open_session(
    engine: sa.Engine,
    city: CityConfig,
    *,
    scope: Scope = EVERYTHING,
    reveal_personal_data: bool = False,
    log: ReadLog | None = None,
) -> DataSession:
    """A session on ``engine`` at the database's current data version."""
    return DataSession(
        engine=engine,
        city=city,
        scope=scope,
        reveal_personal_data=reveal_personal_data,
        log=log,
        version=current_version(engine),
    )
