"""The page's context: the database target, the city, the language, and the viewer's data session.

Every page starts with :func:`load_context` (or :func:`open_context` inside a refreshing panel).
The :class:`Context` carries a :class:`~data_access.runtime.session.DataSession`: every read a page
makes goes through it, so scope, audit, the city's settings and the shared result cache (keyed on
the data version) are applied in one place, the same one the command-line entry points use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import polars as pl
import streamlit as st

if TYPE_CHECKING:
    import sqlalchemy as sa

from dashboard.auth import page_audit, sign_in
from dashboard.core.i18n import t
from dashboard.session.demo_boot import ensure_embedded_demo
from dashboard.session.display import language
from data_access.alerts.job import JOB as ALERT_JOB
from data_access.config.city import CityConfig, SettingsProblem, load_city
from data_access.runtime.engine import (
    DatabaseProblem,
    DatabaseTarget,
    check_database,
    database_reason,
    get_engine,
    is_database_error,
    resolve_target,
)
from data_access.runtime.session import DataSession, open_session
from data_access.security.access import NOTHING, Viewer
from data_access.semantic.details import DetailPage, DetailRequest
from data_access.semantic.distributions import HistogramRequest
from data_access.semantic.query import REGION_DIMENSIONS, MetricRequest, RequestError, Scope

ALL = "all"  # the "every district" choice of a select box


@st.cache_resource(show_spinner=False, ttl=60)
def _verified(url: str) -> bool:
    """Connection and contract check, repeated at most once a minute (failures are not cached)."""
    check_database(get_engine(url))
    return True


@dataclass(frozen=True)
class Context:
    """Everything a page needs to ask the data layer and label the answer.

    ``data`` is the viewer's data session: ``run``, ``query``, ``details`` and ``histogram`` go
    through it (scope, audit, settings, cache), and the names, districts and children a page can
    list are only those the viewer may see (pickers offer nothing outside the scope).
    """

    target: DatabaseTarget
    data: DataSession
    lang: str
    as_of: dt.datetime
    meta: dict[str, str]
    viewer: Viewer | None = None  # None: sign-in is off (no accounts)
    permissions: frozenset[str] = frozenset({"view", "export", "admin"})

    @property
    def city(self) -> CityConfig:
        return self.data.city

    @property
    def scope(self) -> Scope:
        return self.data.scope

    @property
    def engine(self) -> sa.Engine:
        """The database, for what a page writes on the viewer's behalf (saved views, uploads, the audit
        search). Every read of the city's data goes through ``data``."""
        return self.data.engine

    @property
    def is_demo(self) -> bool:
        return self.meta.get("dataset") == "demo"

    def can(self, permission: str) -> bool:
        """``export``, ``admin``, ``unmasked``: what the viewer's role and grants allow."""
        return permission in self.permissions

    def run(self, request: MetricRequest) -> pl.DataFrame:
        """A metric request through the data session; a failure stops the page with one clear line."""
        try:
            return self.data.metrics(request)
        except RequestError as exc:
            stop_with_error(t("query_problem", self.lang, message=str(exc).strip().splitlines()[0]))
        except Exception as exc:
            if not is_database_error(exc):
                raise
            reason = database_reason(exc)
            stop_with_error(t("query_problem", self.lang, message=reason))

    def query(self, request: MetricRequest) -> pl.DataFrame:
        """A metric request through the data session; failures raise (the big screen keeps its last good data)."""
        return self.data.metrics(request)

    def details(self, request: DetailRequest) -> DetailPage:
        """One page of the records behind a number, in the viewer's scope, masked unless allowed. Raises."""
        return self.data.details(request)

    def histogram(self, request: HistogramRequest) -> pl.DataFrame:
        """Bin counts of a duration distribution, in the viewer's scope. Raises."""
        return self.data.histogram(request)

    def names(self, dimension: str) -> dict[str, str]:
        """Code → name; for regions and departments only the codes in the viewer's scope."""
        return self.data.names(dimension)

    def region_levels(self) -> dict[str, str]:
        """Region code → level, for the regions the viewer may see (links naming others are ignored)."""
        return self.data.region_levels()

    def region_parents(self) -> dict[str, str | None]:
        """Region code → its parent's code (every region)."""
        return self.data.region_parents()

    def map_codes(self, level: str) -> list[str] | None:
        """The regions of ``level`` the city map may draw; None = all of them."""
        if self.data.visible_regions() is None:
            return None
        return [code for code, found in self.data.region_levels().items() if found == level]

    def grid_centres(self) -> dict[str, tuple[float, float]]:
        return self.data.grid_centres()

    def children(self, parent: str) -> list[str]:
        """Codes of the regions directly below ``parent`` (the streets of a district) that the viewer may see."""
        return self.data.children(parent)

    def districts(self) -> list[tuple[str, str]]:
        return self.data.districts()

    def targets(self, metrics: Sequence[str], region: str | None = None) -> dict[str, float]:
        """Targets that apply today: a ``targets`` table row for the region, else the city file, else defaults."""
        return self.data.targets(metrics, self.as_of.date(), region=region)


def scope_caption(access: sign_in.Access) -> str | None:
    """The signed-in viewer's scope in names (for the sidebar); None for the whole city."""
    if access.scope.unrestricted or not access.url:
        return None
    try:
        data = open_session(get_engine(access.url), load_city())
    except SettingsProblem:
        return None  # the page itself shows the settings problem
    regions = {code: name for level in REGION_DIMENSIONS for code, name in data.all_names(level).items()}
    return page_audit.scope_text(access.scope, regions, data.all_names("department"))


def stop_with_error(message: str) -> NoReturn:
    st.error(message)
    st.stop()
    raise AssertionError("unreachable")  # st.stop raises; this keeps type checkers honest


def friendly_problem(exc: Exception, lang: str) -> str:
    """One readable line for a failure (never a traceback)."""
    if isinstance(exc, SettingsProblem):
        return t("settings_problem", lang, message=str(exc))
    message = database_reason(exc)
    if isinstance(exc, DatabaseProblem) or is_database_error(exc):
        return t("db_problem", lang, message=message)
    return t("query_problem", lang, message=message)


def _session(target: DatabaseTarget, city: CityConfig) -> tuple[DataSession, dict[str, Any]]:
    """The viewer's data session (scope, unmasking, the page's audit log) and the Context's viewer fields."""
    engine = get_engine(target.url)
    access = sign_in.current_access(engine)
    scope = NOTHING if access.mode == "signed_out" else access.scope
    permissions = frozenset(name for name in ("view", "export", "admin", "unmasked") if access.can(name))
    data = open_session(
        engine, city, scope=scope, reveal_personal_data="unmasked" in permissions, log=page_audit.PAGE_READS
    )
    return data, {"viewer": access.viewer, "permissions": permissions}


def _context(target: DatabaseTarget, city: CityConfig, lang: str) -> Context:
    _verified(target.url)
    data, viewer = _session(target, city)
    ALERT_JOB.watch(data.engine)  # the early warning is computed off the request path, once per process
    as_of = data.as_of()
    if as_of is None:
        raise DatabaseProblem(f"{target.display_url}: {t('no_data_yet', lang)}")
    return Context(target=target, data=data, lang=lang, as_of=as_of, meta=data.meta(), **viewer)


def open_context(lang: str) -> Context:
    """The context for a refresh: like ``load_context`` but problems raise instead of stopping the page."""
    return _context(resolve_target(), load_city(), lang)


def load_context(lang: str | None = None) -> Context:
    """Resolve, connect, check, (first start: generate the demo) — or show one error and stop."""
    lang = lang or language()
    try:
        city = load_city()
    except SettingsProblem as problem:
        stop_with_error(t("settings_problem", lang, message=str(problem)))
    try:
        target = resolve_target()
        ensure_embedded_demo(target, lang)
        return _context(target, city, lang)
    except DatabaseProblem as problem:
        stop_with_error(t("db_problem", lang, message=str(problem)))
    except Exception as exc:
        if not is_database_error(exc):
            raise
        reason = database_reason(exc)
        stop_with_error(t("db_problem", lang, message=f"{target.display_url}: {reason}"))
