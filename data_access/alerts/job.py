"""The app's background early-warning job: one daemon thread per process that keeps the alert store current.

Pages never run the detectors (a cold city-scale run takes about 30 s); they read the stored sets
(``DataSession.alerts``). This thread refreshes them (``data_access.alerts.refresh``):

* soon after it sees a new data version (it reads ``cockpit_meta`` every ``POLL_SECONDS``);
* every ``REFRESH_SECONDS`` anyway (incremental: current sets are skipped, so this costs little, and
  it catches facts written behind the cockpit's back, which move the as-of time but not the version);
* at once when a reader found no set for its scope (:meth:`AlertJob.ask`); that scope is then kept
  in every later refresh of this process.

One refresh at a time per process (one thread does them all). Other processes (another app
replica, an import, the command line) may refresh the same database at the same moment: the store's
writes are safe against that. Set ``COCKPIT_ALERTS_JOB=off`` to run no thread (for example when
``python -m data_access.alerts --refresh`` runs from cron instead); readers then wait for that job.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa

from data_access.alerts import store
from data_access.runtime.engine import read_meta
from data_access.runtime.session import engine_key
from data_access.semantic.query import Scope

if TYPE_CHECKING:
    from data_access.alerts.refresh import RefreshReport

log = logging.getLogger(__name__)

JOB_ENV = "COCKPIT_ALERTS_JOB"
REFRESH_SECONDS = 300.0
POLL_SECONDS = 10.0
FAILURE_PAUSE_SECONDS = 60.0  # after a refresh raised (database away): wait this long before the next try


def enabled() -> bool:
    """False when ``COCKPIT_ALERTS_JOB`` is ``off`` (or ``0``/``false``/``no``)."""
    return os.environ.get(JOB_ENV, "on").strip().lower() not in ("off", "0", "false", "no")


@dataclass
class Target:
    """One database the job keeps current: what it last saw and what readers asked for."""

    engine: sa.Engine
    last_version: str | None = None
    last_run: float = float("-inf")  # time.monotonic() of the last refresh
    retry_after: float = float("-inf")  # after a failed refresh: nothing before this time.monotonic()
    scopes: dict[str, Scope] = field(default_factory=dict)  # scopes readers asked for, kept
    requests: dict[tuple[str, dt.datetime], tuple[Scope, dt.datetime]] = field(default_factory=dict)
    finished_at: dt.datetime | None = None  # wall time (server clock) of the last refresh, however it ended
    report: RefreshReport | None = None  # what the last refresh did, if it ended normally
    error: str = ""  # the error the last refresh raised, if it did


@dataclass(frozen=True)
class JobStatus:
    """What the admin page shows of this process's job for one database."""

    enabled: bool  # COCKPIT_ALERTS_JOB is not off
    running: bool  # the thread is alive
    refreshes: int  # refreshes done by this process, all databases
    finished_at: dt.datetime | None  # the last refresh of this database, if any (server clock)
    report: RefreshReport | None  # what it did, when it ended normally
    error: str  # the error it raised, when it did not
    waiting: int  # readers' requests not served yet
    kept_scopes: tuple[str, ...]  # scopes readers asked for, refreshed every time since


class AlertJob:
    """The process's refresh thread and its to-do list (one instance: :data:`JOB`)."""

    def __init__(self, refresh: Callable[..., RefreshReport] | None = None) -> None:
        self._refresh = refresh
        self._wake = threading.Condition()
        self._targets: dict[str, Target] = {}
        self._thread: threading.Thread | None = None
        self._asked = False  # a request came in since the thread last looked
        self._stopping = False
        self.runs = 0  # refreshes done (the tests wait on it)

    def watch(self, engine: sa.Engine) -> None:
        """Keep ``engine``'s alert store current, starting the thread on the first call (when enabled)."""
        with self._wake:
            self._target(engine)
            if self._thread is None and enabled():
                self._thread = threading.Thread(target=self._loop, name="cockpit-alerts", daemon=True)
                self._thread.start()

    def ask(self, engine: sa.Engine, scope: Scope, as_of: dt.datetime) -> None:
        """A reader found no stored set for ``scope`` at ``as_of``: compute it soon (and keep the scope)."""
        key = store.scope_key(scope)
        with self._wake:
            target = self._target(engine)
            target.requests[(key, store.as_of_key(as_of))] = (scope, as_of)
            self._asked = True
            self._wake.notify_all()

    def pending(self, engine: sa.Engine) -> list[tuple[Scope, dt.datetime]]:
        """The requests not yet served for ``engine`` (for the tests and the admin)."""
        with self._wake:
            target = self._targets.get(engine_key(engine))
            return [] if target is None else list(target.requests.values())

    def status(self, engine: sa.Engine) -> JobStatus:
        """The job as the admin page shows it, for ``engine``'s database."""
        with self._wake:
            target = self._targets.get(engine_key(engine))
            return JobStatus(
                enabled=enabled(),
                running=self.running,
                refreshes=self.runs,
                finished_at=None if target is None else target.finished_at,
                report=None if target is None else target.report,
                error="" if target is None else target.error,
                waiting=0 if target is None else len(target.requests),
                kept_scopes=() if target is None else tuple(sorted(target.scopes)),
            )

    def stop(self, timeout: float = 30.0) -> None:
        """End the thread after its current refresh (tests; the app's thread lives as long as the process)."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run_due(self, now: float | None = None) -> int:
        """Refresh every watched database that is due (new version, requests, or ``REFRESH_SECONDS`` passed);
        returns how many were refreshed. The thread calls this; a test may too."""
        now = time.monotonic() if now is None else now
        with self._wake:
            targets = list(self._targets.values())
        done = 0
        for target in targets:
            if self._due(target, now):
                self._run(target)
                done += 1
        return done

    def _target(self, engine: sa.Engine) -> Target:
        return self._targets.setdefault(engine_key(engine), Target(engine))

    def _due(self, target: Target, now: float) -> bool:
        if now < target.retry_after:
            return False
        if target.requests or now - target.last_run >= REFRESH_SECONDS:
            return True
        if now - target.last_run < POLL_SECONDS:
            return False
        try:
            return read_meta(target.engine).get("data_version") != target.last_version
        except Exception:  # the database is away: the next scheduled try will say so
            log.debug("early warning job: cannot read the data version", exc_info=True)
            return False

    def _run(self, target: Target) -> None:
        from data_access.alerts.refresh import refresh_alerts  # the detectors: loaded by the thread, not the pages

        with self._wake:
            requests = dict(target.requests)
            target.requests.clear()
            for key, (scope, _) in requests.items():
                target.scopes.setdefault(key[0], scope)
            scopes = list(target.scopes.values())
        refresh = self._refresh or refresh_alerts
        try:
            report = refresh(target.engine, scopes=scopes, requests=list(requests.values()))
        except Exception as exc:
            log.exception("early warning job: the refresh failed")
            target.retry_after = time.monotonic() + FAILURE_PAUSE_SECONDS
            target.finished_at, target.report, target.error = (
                dt.datetime.now(),
                None,
                f"{type(exc).__name__}: {exc}"[:300],
            )
            with self._wake:  # asked again at the next try
                for key, request in requests.items():
                    target.requests.setdefault(key, request)
            return
        target.last_run = time.monotonic()
        target.last_version = report.data_version
        target.finished_at, target.report, target.error = dt.datetime.now(), report, ""
        self.runs += 1
        log.info("early warning job: %s", report.lines()[-1])

    def _loop(self) -> None:
        while not self._stopping:
            try:
                self.run_due()
            except Exception:  # never let the thread die: the pages would wait for ever
                log.exception("early warning job: unexpected failure")
            with self._wake:
                if not self._asked and not self._stopping:
                    self._wake.wait(timeout=POLL_SECONDS)
                self._asked = False


JOB = AlertJob()
