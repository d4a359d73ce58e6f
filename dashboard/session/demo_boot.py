"""First start on the embedded DuckDB: generate the demo city in a thread of its own, with a progress bar.

Only the embedded database is ever filled with the demo (never a server a city points the cockpit at).
The job is shared by every session of the process, so a viewer closing the tab does not abort it.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import streamlit as st

if TYPE_CHECKING:
    import sqlalchemy as sa

from dashboard.core.i18n import t
from data_access.runtime.engine import DatabaseProblem, DatabaseTarget, get_engine

_demo_ready: set[str] = set()
_demo_jobs: dict[str, _DemoJob] = {}
_demo_lock = threading.Lock()
DEMO_POLL_SECONDS = 0.5


class _DemoJob:
    """First-start demo generation in a thread of its own, shared by every session.

    It must not run in a session's script thread: when that viewer closes the tab, Streamlit stops
    the script, the generator's transaction rolls back and the next visitor would start again.
    Sessions only watch the job's progress.
    """

    def __init__(self, ensure: Callable[..., Any], engine: sa.Engine) -> None:
        self.fraction = 0.0
        self.error: BaseException | None = None
        self.generated = False
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ensure, engine), name="demo-generation", daemon=True)
        self._thread.start()

    def _progress(self, fraction: float, message: str) -> None:
        self.fraction = min(max(float(fraction), 0.0), 1.0)

    def _run(self, ensure: Callable[..., Any], engine: sa.Engine) -> None:
        try:
            self.generated = bool(ensure(engine, progress=self._progress))
        except BaseException as exc:  # handed to every watching session
            self.error = exc
        finally:
            self.done.set()


def ensure_embedded_demo(target: DatabaseTarget, lang: str) -> None:
    """Fill the embedded DuckDB with the demo city on first start (never any other database)."""
    if not target.is_embedded or target.url in _demo_ready:
        return
    try:
        demo: Any = importlib.import_module("data_access.demo.generate")
    except ImportError:
        return  # no generator installed: the schema check below explains what is missing
    with _demo_lock:
        job = _demo_jobs.get(target.url)
        if job is None or (job.done.is_set() and job.error is not None):
            job = _demo_jobs[target.url] = _DemoJob(demo.ensure_demo, get_engine(target.url))
    bar = st.progress(0.0, text=t("demo_generating", lang))
    while not job.done.wait(DEMO_POLL_SECONDS):
        bar.progress(job.fraction, text=t("demo_generating_progress", lang, percent=f"{job.fraction:.0%}"))
    bar.empty()
    if job.error is not None:  # a failed generation is a database problem, shown like one
        raise DatabaseProblem(f"generating the demo data in {target.display_url} failed: {job.error}") from job.error
    with _demo_lock:
        _demo_ready.add(target.url)
    if job.generated:
        # A toast, not a banner: on the dark wall a light banner is unreadable and pushes the screen down.
        st.toast(t("demo_generated", lang))
