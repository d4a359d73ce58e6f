"""The early warning's job: compute the alerts of every scope in use and store them (``data_access.alerts.store``).

Run by the app's background thread (``data_access.alerts.job``), after the demo build and after an
import, and by ``python -m data_access.alerts --refresh``. The detectors count only the rows a scope
may see (a department head's surges are not the city's, filtered), so there is one set per scope:
the whole city, every distinct scope of the local accounts, and whatever scope a caller names (the
job passes the scopes viewers asked for).

Incremental: a set already stored for the current data version and as-of time is skipped, so a
refresh with nothing new costs a few small reads. Each set is written in its own transaction (see
``store.write_set``), so a scope that fails leaves the others stored and readers never see half a set.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from data_access.alerts import store
from data_access.alerts.config import AlertConfig, load_alert_config
from data_access.alerts.run import compute_alerts
from data_access.config.city import CityConfig, load_city
from data_access.runtime.engine import DatabaseProblem, check_database, database_reason, read_meta
from data_access.runtime.session import DataSession
from data_access.security.accounts import list_accounts
from data_access.semantic.query import Scope

log = logging.getLogger(__name__)

# How long a refresh in a process of its own waits for another process to let go of the database.
LOCK_WAIT_SECONDS = 300.0


@dataclass(frozen=True)
class SetOutcome:
    """What a refresh did with one set: ``computed``, ``skipped`` (already current), ``superseded`` (the data
    changed while it was computed: not stored) or ``failed``."""

    scope_key: str
    as_of: dt.datetime
    status: str
    alerts: int = 0
    seconds: float = 0.0
    error: str | None = None


@dataclass
class RefreshReport:
    """One refresh: the data version and as-of time it computed for, and each set's outcome."""

    data_version: str | None
    as_of: dt.datetime | None
    outcomes: list[SetOutcome] = field(default_factory=list)
    pruned: int = 0
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    def lines(self) -> list[str]:
        """What the command line prints."""
        if self.as_of is None:
            return ["alerts: the database holds no records yet, nothing to compute"]
        out = [f"alerts at {self.as_of:%Y-%m-%d %H:%M:%S}, data version {store.version_text(self.data_version)}:"]
        for o in self.outcomes:
            at = "" if o.as_of == store.as_of_key(self.as_of) else f" (as of {o.as_of:%Y-%m-%d %H:%M})"
            if o.status == "computed":
                out.append(f"  {o.scope_key}{at}: {o.alerts} alerts computed in {o.seconds:.2f} s")
            elif o.status == "failed":
                out.append(f"  {o.scope_key}{at}: FAILED: {o.error}")
            else:
                out.append(f"  {o.scope_key}{at}: {o.status}")
        out.append(
            f"refreshed {self.count('computed')} set(s), skipped {self.count('skipped')} up to date, "
            f"{self.count('failed')} failed, {self.pruned} old set(s) removed, in {self.seconds:.2f} s"
        )
        return out


def account_scopes(engine: sa.Engine) -> list[Scope]:
    """The distinct scopes of the enabled local accounts (none when sign-in is off)."""
    scopes = {store.scope_key(a.scope): a.scope for a in list_accounts(engine) if not a.disabled}
    return [scope for scope in scopes.values() if not store.sees_nothing(scope)]


def scopes_in_use(engine: sa.Engine, extra: Iterable[Scope] = ()) -> list[Scope]:
    """The whole city, the accounts' scopes and ``extra``, each once (city-wide first)."""
    found: dict[str, Scope] = {store.CITY_WIDE: Scope()}
    for scope in [*account_scopes(engine), *extra]:
        if not store.sees_nothing(scope):
            found.setdefault(store.scope_key(scope), scope)
    return list(found.values())


def refresh_alerts(
    engine: sa.Engine,
    city: CityConfig | None = None,
    *,
    scopes: Iterable[Scope] = (),
    requests: Iterable[tuple[Scope, dt.datetime]] = (),
    config: AlertConfig | None = None,
) -> RefreshReport:
    """Compute and store the alerts of every scope in use (plus ``scopes``) at the data's as-of time, and the
    one-off ``requests`` (scope, as-of time: a briefing of a past period), skipping sets already current.

    Never raises for one scope's failure (it is reported); raises when the database cannot be read at all.
    """
    began = time.perf_counter()
    city = city or load_city()
    config = config or load_alert_config()
    store.ensure_tables(engine)
    version = read_meta(engine).get("data_version")
    city_session = DataSession(engine, city, version=version)
    as_of = city_session.as_of()
    report = RefreshReport(data_version=version, as_of=as_of)
    if as_of is None:
        return report
    wanted: dict[tuple[str, dt.datetime], tuple[Scope, dt.datetime]] = {}
    for scope in scopes_in_use(engine, scopes):
        wanted[(store.scope_key(scope), store.as_of_key(as_of))] = (scope, as_of)
    for scope, when in requests:
        if not store.sees_nothing(scope):
            wanted.setdefault((store.scope_key(scope), store.as_of_key(when)), (scope, when))
    for scope, when in wanted.values():
        report.outcomes.append(_refresh_set(engine, city, config, scope, when, version))
    report.pruned = store.prune(engine, version)
    report.seconds = time.perf_counter() - began
    return report


def _refresh_set(
    engine: sa.Engine, city: CityConfig, config: AlertConfig, scope: Scope, as_of: dt.datetime, version: str | None
) -> SetOutcome:
    key, at = store.scope_key(scope), store.as_of_key(as_of)
    found = store.stored_run(engine, key, as_of)
    if found is not None and found.data_version == store.version_text(version):
        return SetOutcome(key, at, "skipped", found.alert_count)
    began = time.perf_counter()
    try:
        session = DataSession(engine, city, scope=scope, version=version)
        frame = compute_alerts(session, as_of=as_of, config=config)
        seconds = time.perf_counter() - began
        stored = store.write_set(engine, scope, as_of, version, frame, seconds)
    except Exception as exc:  # one scope's failure must not keep the others from being stored
        log.exception("early warning: computing the alerts of %s failed", key)
        return SetOutcome(key, at, "failed", seconds=time.perf_counter() - began, error=database_reason(exc))
    return SetOutcome(key, at, "computed" if stored else "superseded", frame.height, time.perf_counter() - began)


def refresh_when_free(
    engine: sa.Engine,
    city: CityConfig | None = None,
    *,
    scopes: Iterable[Scope] = (),
    config: AlertConfig | None = None,
    wait_seconds: float = LOCK_WAIT_SECONDS,
) -> RefreshReport:
    """:func:`refresh_alerts` for a process of its own (the command line), after checking the database, waiting
    while another process holds it: DuckDB lets one process at a time open a file for writing, so a second
    refresh (or an import) waits for the first to finish instead of failing. Raises DatabaseProblem."""
    deadline = time.monotonic() + wait_seconds
    pause = 0.5
    while True:
        try:
            check_database(engine)
            return refresh_alerts(engine, city, scopes=scopes, config=config)
        except (DatabaseProblem, sa.exc.DBAPIError) as exc:
            reason = database_reason(exc)
            if "lock" not in reason.lower() or time.monotonic() + pause > deadline:
                if isinstance(exc, DatabaseProblem):
                    raise
                raise DatabaseProblem(f"refreshing the alerts failed: {reason}") from exc
            log.info("the database is held by another process (%s); trying again in %.1f s", reason, pause)
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


def refresh_after_load(engine: sa.Engine, city: CityConfig | None = None) -> RefreshReport | None:
    """The refresh a load (the demo build, an import) runs after its commit. A failure is logged and
    returned as None: the load itself has succeeded and must not be reported as failed."""
    try:
        return refresh_alerts(engine, city)
    except Exception:
        log.warning("the early warning could not be refreshed after the load", exc_info=True)
        return None
