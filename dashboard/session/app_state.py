"""The Streamlit glue every page shares — the one module of ``dashboard`` that imports ``streamlit``.

* one engine per process (``st.cache_resource``) for the resolved database target;
* the language (sidebar selectbox ``lang``, ``?lang=en`` query parameter, zh by default);
* the database-problem screen: a single ``st.error`` naming what is wrong and how to fix it, then stop;
* first start on the embedded DuckDB: generate the demo city with a progress bar, then continue;
* the shared controls (period, district, time grain) and the KPI cards.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, NoReturn, TypeVar

import polars as pl
import sqlalchemy as sa
import streamlit as st

from dashboard.auth import sign_in
from dashboard.core.formatting import format_change, format_datetime, format_index, format_number, format_value
from dashboard.core.i18n import LANGUAGE_NAMES, LANGUAGES, TEXTS, metric_label, normalise_language, t
from dashboard.core.kpi import Kpi, Status, build_kpis
from dashboard.core.metric_requests import kpi_requests
from dashboard.core.periods import Period
from dashboard.screen import bigscreen
from dashboard.screen.ticker import ticker_alerts
from data_access.config.city import CityConfig, SettingsProblem, load_city
from data_access.contract import schema
from data_access.contract.check import table_counts
from data_access.runtime.cache import ResultCache
from data_access.runtime.engine import (
    DatabaseProblem,
    DatabaseTarget,
    check_database,
    get_engine,
    read_meta,
    resolve_target,
    schema_problems,
)
from data_access.security.access import NOTHING, Viewer, intersect, visible_regions
from data_access.semantic.details import DetailPage, DetailRequest, fetch_details
from data_access.semantic.distributions import HistogramRequest, histogram
from data_access.semantic.metrics import RESULTS, code_names, data_as_of, latest_record_times, region_names, run_metrics
from data_access.semantic.query import EVERYTHING, REGION_DIMENSIONS, Filter, MetricRequest, RequestError, Scope
from data_access.semantic.targets import resolve_targets, target_rows

AS_OF_TTL_SECONDS = 30
NAMES_TTL_SECONDS = 600
ALL = "all"
KIOSK_PARAM = "kiosk"
ROTATE_PARAM = "rotate"
MIN_ROTATE_SECONDS = 10
_TRUE = ("1", "true", "yes", "on")
T = TypeVar("T")
log = logging.getLogger(__name__)

BadgeColour = Literal["red", "orange", "green", "gray"]
_STATUS_BADGE: dict[Status | None, tuple[BadgeColour, str]] = {
    Status.RED: ("red", "status_red"),
    Status.AMBER: ("orange", "status_amber"),
    Status.GREEN: ("green", "status_green"),
    None: ("gray", "no_target"),
}


# ---- language ---------------------------------------------------------------------------------


def _leave_pages_directory_mode() -> None:
    """Make a deep link that is the first request after a server start go through streamlit_app.py.

    A ``pages/`` folder makes Streamlit start in its legacy multipage mode: until some run has called
    ``st.navigation``, a URL like ``/services`` executes ``pages/services.py`` on its own (no language
    switch, default sidebar listing file names, centred layout). A wall screen restarting with the
    server hits exactly that, so switch the process to ``st.navigation`` mode and rerun once.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - a Streamlit without this internal
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


def language() -> str:
    """The viewer's language: the sidebar choice, first taken from ``?lang=``; zh by default."""
    _leave_pages_directory_mode()
    if "lang" not in st.session_state:
        st.session_state["lang"] = normalise_language(st.query_params.get("lang"))
    return normalise_language(st.session_state["lang"])


def kiosk_mode() -> bool:
    """``?kiosk=1``: a wall screen with no Streamlit chrome; remembered for the session."""
    if KIOSK_PARAM not in st.session_state:
        st.session_state[KIOSK_PARAM] = str(st.query_params.get(KIOSK_PARAM, "")).lower() in _TRUE
    return bool(st.session_state[KIOSK_PARAM])


def rotate_seconds() -> int | None:
    """``?kiosk=1&rotate=30``: seconds each page of the playlist stays on screen (kiosk mode only)."""
    if ROTATE_PARAM not in st.session_state:
        raw = str(st.query_params.get(ROTATE_PARAM, "")).strip()
        st.session_state[ROTATE_PARAM] = max(int(raw), MIN_ROTATE_SECONDS) if raw.isdigit() and int(raw) > 0 else 0
    seconds = int(st.session_state[ROTATE_PARAM])
    return seconds if seconds and kiosk_mode() else None


def setup() -> str:
    """Page config, kiosk chrome and the sidebar language switch; returns the language. Called by streamlit_app.py."""
    lang = language()
    kiosk = kiosk_mode()
    st.set_page_config(
        page_title=t("app_title", lang),
        layout="wide",
        initial_sidebar_state="collapsed" if kiosk else "auto",
    )
    if kiosk:  # no sidebar at all: the language comes from ?lang=
        st.html(bigscreen.KIOSK_CSS)
        return lang
    lang = normalise_language(
        st.sidebar.selectbox(t("language", lang), LANGUAGES, key="lang", format_func=LANGUAGE_NAMES.__getitem__)
    )
    if lang == "en":
        st.query_params["lang"] = "en"
    elif "lang" in st.query_params:
        del st.query_params["lang"]
    return lang


def kiosk_params(lang: str) -> dict[str, str]:
    """The query parameters that keep a wall screen in kiosk mode across page switches."""
    params = {KIOSK_PARAM: "1"}
    token = st.query_params.get(sign_in.TOKEN_PARAM)
    if token:  # a wall screen that reloads after a server restart signs itself in again
        params[sign_in.TOKEN_PARAM] = str(token)
    seconds = rotate_seconds()
    if seconds:
        params[ROTATE_PARAM] = str(seconds)
    if lang != "zh":
        params["lang"] = lang
    return params


def rotation(playlist: Sequence[Any], current: Any, seconds: int, lang: str) -> None:
    """Kiosk playlist: after ``seconds`` on screen, switch to the next page of ``playlist`` (cyclic).

    A fragment ticking every ``seconds`` in the browser; the page's own refresh fragment and any
    fragment-only rerun leave the page's start time alone, so each page gets its full time.
    """
    paths = [page.url_path for page in playlist]
    if current.url_path not in paths:
        return
    st.session_state["_rotation_since"] = time.monotonic()
    following = playlist[(paths.index(current.url_path) + 1) % len(playlist)]

    def turn() -> None:
        if time.monotonic() - st.session_state.get("_rotation_since", time.monotonic()) >= seconds - 1:
            st.switch_page(following, query_params=kiosk_params(lang))

    st.fragment(turn, run_every=dt.timedelta(seconds=seconds))()


# ---- database -----------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> sa.Engine:
    return get_engine(url)


@st.cache_resource(show_spinner=False, ttl=60)
def _verified(url: str) -> bool:
    """Connection and contract check, repeated at most once a minute (failures are not cached)."""
    check_database(_engine(url))
    return True


def engine_for(url: str) -> sa.Engine:
    """The process's one engine for ``url`` (for cached readers outside this module)."""
    return _engine(url)


@st.cache_data(show_spinner=False, ttl=AS_OF_TTL_SECONDS)
def _as_of(url: str) -> dt.datetime | None:
    return data_as_of(_engine(url))


@st.cache_data(show_spinner=False, ttl=AS_OF_TTL_SECONDS)
def _meta(url: str) -> dict[str, str]:
    return read_meta(_engine(url))


@st.cache_data(show_spinner=False, ttl=NAMES_TTL_SECONDS)
def _names(url: str, dimension: str) -> dict[str, str]:
    return code_names(_engine(url), dimension)


@st.cache_data(show_spinner=False, ttl=NAMES_TTL_SECONDS)
def _target_rows(url: str) -> list[dict[str, Any]]:
    return target_rows(_engine(url))


@st.cache_data(show_spinner=False, ttl=NAMES_TTL_SECONDS)
def _districts(url: str) -> list[tuple[str, str]]:
    regions = region_names(_engine(url)).filter(pl.col("level") == "district").sort("code")
    return list(zip(regions["code"].to_list(), regions["name"].to_list(), strict=True))


@st.cache_data(show_spinner=False, ttl=NAMES_TTL_SECONDS)
def _grid_centres(url: str) -> dict[str, tuple[float, float]]:
    """Grid code -> (lon, lat) of its centroid (``regions.center_lon/center_lat``); the map's point layer."""
    r = schema.regions.c
    statement = sa.select(r.code, r.center_lon, r.center_lat).where(
        r.level == "grid", r.center_lon.is_not(None), r.center_lat.is_not(None)
    )
    with _engine(url).connect() as connection:
        return {code: (float(lon), float(lat)) for code, lon, lat in connection.execute(statement)}


@st.cache_data(show_spinner=False, ttl=NAMES_TTL_SECONDS)
def _children(url: str) -> dict[str, list[str]]:
    regions = region_names(_engine(url)).drop_nulls("parent_code")
    grouped: dict[str, list[str]] = {}
    for code, parent in regions.select("code", "parent_code").iter_rows():
        grouped.setdefault(str(parent), []).append(str(code))
    return grouped


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


def _ensure_embedded_demo(target: DatabaseTarget, engine: sa.Engine, lang: str) -> None:
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
            job = _demo_jobs[target.url] = _DemoJob(demo.ensure_demo, engine)
    bar = st.progress(0.0, text=t("demo_generating", lang))
    while not job.done.wait(DEMO_POLL_SECONDS):
        bar.progress(job.fraction, text=t("demo_generating_progress", lang, percent=f"{job.fraction:.0%}"))
    bar.empty()
    if job.error is not None:  # a failed generation is a database problem, shown like one
        raise DatabaseProblem(f"generating the demo data in {target.display_url} failed: {job.error}") from job.error
    with _demo_lock:
        first = target.url not in _demo_ready
        _demo_ready.add(target.url)
    if first and job.generated:
        _engine.clear()
        _verified.clear()
        _as_of.clear()
        _meta.clear()
    if job.generated:
        # A toast, not a banner: on the dark wall a light banner is unreadable and pushes the screen down.
        st.toast(t("demo_generated", lang))


@dataclass(frozen=True)
class Context:
    """Everything a page needs to ask the metric layer and label the answer.

    It also carries the viewer's row-level scope: ``run`` and ``query`` apply it to every request
    (a page cannot forget it), and the names, districts and children a page can list are only
    those the viewer may see (pickers offer nothing outside the scope).
    """

    target: DatabaseTarget
    engine: sa.Engine
    city: CityConfig
    lang: str
    as_of: dt.datetime
    meta: dict[str, str]
    viewer: Viewer | None = None  # None: sign-in is off (no accounts)
    scope: Scope = EVERYTHING
    visible_regions: frozenset[str] | None = None  # None: every region may be named
    permissions: frozenset[str] = frozenset({"view", "export", "admin"})

    @property
    def is_demo(self) -> bool:
        return self.meta.get("dataset") == "demo"

    def can(self, permission: str) -> bool:
        """``export``, ``admin``, ``unmasked``: what the viewer's role and grants allow."""
        return permission in self.permissions

    def narrowed(self, scope: Scope) -> Scope:
        """A request's scope narrowed to the viewer's (a request's own scope can only narrow it further)."""
        if self.scope.unrestricted:
            return scope
        if scope.unrestricted:
            return self.scope
        return intersect(scope, self.scope, _parents(self.target.url))

    def scoped(self, request: MetricRequest) -> MetricRequest:
        """The request narrowed to the viewer's scope."""
        scope = self.narrowed(request.scope)
        return request if scope == request.scope else replace(request, scope=scope)

    def run(self, request: MetricRequest) -> pl.DataFrame:
        """run_metrics with the city's 三率 settings and cache TTL; a failure stops the page cleanly."""
        request = self.scoped(request)
        try:
            frame = run_metrics(self.engine, request, self.city.three_rates, ttl_seconds=self.city.cache_ttl_seconds)
        except (sa.exc.SQLAlchemyError, RequestError) as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            stop_with_error(t("query_problem", self.lang, message=reason))
        sign_in.note_read(request, frame.height)
        return frame

    def query(self, request: MetricRequest) -> pl.DataFrame:
        """run_metrics with the city's settings; failures raise (the big screen keeps its last good data)."""
        request = self.scoped(request)
        frame = run_metrics(self.engine, request, self.city.three_rates, ttl_seconds=self.city.cache_ttl_seconds)
        sign_in.note_read(request, frame.height)
        return frame

    def details(self, request: DetailRequest) -> DetailPage:
        """One page of the records behind a number, in the viewer's scope; personal data masked unless
        the viewer's role or grants allow ``unmasked``. Failures raise (the page decides how to show them)."""
        request = replace(request, scope=self.narrowed(request.scope))
        reveal = self.can("unmasked")
        found = fetch_details(
            self.engine,
            request,
            self.city.three_rates,
            reveal_personal_data=reveal,
            ttl_seconds=self.city.cache_ttl_seconds,
        )
        sign_in.note_read(request.metric_request(), found.rows.height, unmasked=reveal)
        return found

    def histogram(self, request: HistogramRequest) -> pl.DataFrame:
        """Bin counts of a duration distribution, in the viewer's scope. Failures raise."""
        request = replace(request, scope=self.narrowed(request.scope))
        frame = histogram(self.engine, request, self.city.three_rates, ttl_seconds=self.city.cache_ttl_seconds)
        sign_in.note_read(request.metric_request(), frame.height)
        return frame

    def names(self, dimension: str) -> dict[str, str]:
        """Code → name; for regions and departments only the codes in the viewer's scope."""
        names = _names(self.target.url, dimension)
        if dimension in REGION_DIMENSIONS and self.visible_regions is not None:
            return {code: name for code, name in names.items() if code in self.visible_regions}
        if dimension == "department" and self.scope.departments is not None:
            return {code: name for code, name in names.items() if code in self.scope.departments}
        return names

    def region_levels(self) -> dict[str, str]:
        """Region code → level, for the regions the viewer may see (links naming others are ignored)."""
        levels = _region_levels(self.target.url)
        if self.visible_regions is None:
            return levels
        return {code: level for code, level in levels.items() if code in self.visible_regions}

    def map_codes(self, level: str) -> list[str] | None:
        """The regions of ``level`` the city map may draw; None = all of them."""
        if self.visible_regions is None:
            return None
        return [
            code
            for code, found in _region_levels(self.target.url).items()
            if found == level and code in self.visible_regions
        ]

    def grid_centres(self) -> dict[str, tuple[float, float]]:
        return _grid_centres(self.target.url)

    def children(self, parent: str) -> list[str]:
        """Codes of the regions directly below ``parent`` (the streets of a district) that the viewer may see."""
        found = _children(self.target.url).get(parent, [])
        if self.visible_regions is None:
            return found
        return [code for code in found if code in self.visible_regions]

    def districts(self) -> list[tuple[str, str]]:
        found = _districts(self.target.url)
        if self.visible_regions is None:
            return found
        return [(code, name) for code, name in found if code in self.visible_regions]

    def targets(self, metrics: Sequence[str], region: str | None = None) -> dict[str, float]:
        """Targets that apply today: a ``targets`` table row for the region, else the city file, else defaults."""
        resolved = resolve_targets(
            metrics, _target_rows(self.target.url), self.city.targets, region=region, day=self.as_of.date()
        )
        return {name: value for name, value in resolved.items() if value is not None}


def scope_caption(access: sign_in.Access) -> str | None:
    """The signed-in viewer's scope in names (for the sidebar); None for the whole city."""
    if access.scope.unrestricted or not access.url:
        return None
    regions = {code: name for level in REGION_DIMENSIONS for code, name in _names(access.url, level).items()}
    return sign_in.scope_text(access.scope, regions, _names(access.url, "department"))


def stop_with_error(message: str) -> NoReturn:
    st.error(message)
    st.stop()
    raise AssertionError("unreachable")  # st.stop raises; this keeps type checkers honest


DATA_VERSION_TTL_SECONDS = 5
_seen_versions: dict[str, str | None] = {}


@st.cache_data(show_spinner=False, ttl=DATA_VERSION_TTL_SECONDS)
def _data_version(url: str) -> str | None:
    """What ``cockpit_meta.data_version`` says now: every import that changes data writes a new one."""
    return read_meta(_engine(url)).get("data_version")


def follow_data_version(url: str) -> bool:
    """Drop every cached answer of this process when an import has changed the data; True if it did.

    An import (``python -m data_access.ingest``) may run in another process: a new data version is
    the only sign of it, checked at most every few seconds, so no viewer sees stale numbers for
    longer than that plus one refresh.
    """
    version = _data_version(url)
    with _last_good_lock:
        changed = url in _seen_versions and _seen_versions[url] != version
        _seen_versions[url] = version
    if changed:
        RESULTS.clear()
        _early_warnings.clear()
        for cached in (_as_of, _meta, _names, _districts, _target_rows, _region_levels, _children, _grid_centres):
            cached.clear()
    return changed


def _access_fields(url: str, engine: sa.Engine) -> dict[str, Any]:
    """The viewer, scope, visible regions and permissions of this session, for the Context."""
    access = sign_in.current_access(engine)
    scope = access.scope
    if access.mode == "signed_out":
        scope = NOTHING
    regions = None if scope.regions is None else _visible(url, scope.regions)
    permissions = frozenset(name for name in ("view", "export", "admin", "unmasked") if access.can(name))
    return {"viewer": access.viewer, "scope": scope, "visible_regions": regions, "permissions": permissions}


@st.cache_data(show_spinner=False, ttl=NAMES_TTL_SECONDS)
def _visible(url: str, regions: frozenset[str]) -> frozenset[str] | None:
    return visible_regions(Scope(regions=regions), _parents(url))


def open_context(lang: str) -> Context:
    """The context for a refresh: like ``load_context`` but problems raise instead of stopping the page."""
    city = load_city()
    target = resolve_target()
    _verified(target.url)
    follow_data_version(target.url)
    as_of = _as_of(target.url)
    if as_of is None:
        raise DatabaseProblem(f"{target.display_url}: {t('no_data_yet', lang)}")
    engine = _engine(target.url)
    return Context(
        target=target, engine=engine, city=city, lang=lang, as_of=as_of, meta=_meta(target.url),
        **_access_fields(target.url, engine),
    )  # fmt: skip


_LAST_GOOD: dict[Hashable, tuple[Any, dt.datetime]] = {}
_LAST_GOOD_MAX = 64
_last_good_lock = threading.Lock()


def with_last_good(key: Hashable, load: Callable[[], T]) -> tuple[T, dt.datetime | None]:
    """``(load(), None)``, remembered under ``key``; if loading fails, ``(last good value, when it was loaded)``.

    Shared by every session of the process, so a screen opened during an outage still shows the
    last numbers. Without any good value the failure propagates. The viewer's scope is part of the
    key: a session never falls back to numbers loaded for another scope.
    """
    key = (sign_in.current_access().scope, key)
    try:
        value = load()
    except Exception:
        with _last_good_lock:
            stored = _LAST_GOOD.get(key)
        if stored is None:
            raise
        log.warning("big-screen refresh failed; showing the data of %s", stored[1], exc_info=True)
        return stored[0], stored[1]
    with _last_good_lock:
        _LAST_GOOD.pop(key, None)
        _LAST_GOOD[key] = (value, dt.datetime.now())
        while len(_LAST_GOOD) > _LAST_GOOD_MAX:
            del _LAST_GOOD[next(iter(_LAST_GOOD))]
    return value, None


def friendly_problem(exc: Exception, lang: str) -> str:
    """One readable line for a failure (never a traceback)."""
    if isinstance(exc, SettingsProblem):
        return t("settings_problem", lang, message=str(exc))
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    message = reason[0] if reason else type(exc).__name__
    if isinstance(exc, DatabaseProblem | sa.exc.SQLAlchemyError):
        return t("db_problem", lang, message=message)
    return t("query_problem", lang, message=message)


def load_context(lang: str | None = None) -> Context:
    """Resolve, connect, check, (first start: generate the demo) — or show one error and stop."""
    lang = lang or language()
    try:
        city = load_city()
    except SettingsProblem as problem:
        stop_with_error(t("settings_problem", lang, message=str(problem)))
    try:
        target = resolve_target()
        engine = _engine(target.url)
        _ensure_embedded_demo(target, engine, lang)
        _verified(target.url)
        follow_data_version(target.url)
        as_of = _as_of(target.url)
        meta = _meta(target.url)
        access = _access_fields(target.url, engine)
    except DatabaseProblem as problem:
        stop_with_error(t("db_problem", lang, message=str(problem)))
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        stop_with_error(t("db_problem", lang, message=f"{target.display_url}: {reason}"))
    if as_of is None:
        stop_with_error(t("db_problem", lang, message=f"{target.display_url}: {t('no_data_yet', lang)}"))
    return Context(target=target, engine=engine, city=city, lang=lang, as_of=as_of, meta=meta, **access)


# ---- page furniture -----------------------------------------------------------------------------


def page_header(ctx: Context, title: str) -> None:
    """Title with the city's name, the data's as-of time and, for demo data, a visible badge."""
    compact_layout()
    city = ctx.city.name_en if ctx.lang == "en" else ctx.city.name
    st.title(f"{city} · {title}")
    with st.container(horizontal=True, vertical_alignment="center"):
        st.caption(t("data_as_of", ctx.lang, time=format_datetime(ctx.as_of)), width="content")
        if ctx.is_demo:
            st.badge(t("demo_badge", ctx.lang), color="orange", help=t("demo_note", ctx.lang))


def _preset_from_query(key: str, options: Sequence[str]) -> bool:
    """Take a widget's first value from ``?key=`` (links from the big screen's ticker); True when set."""
    if key in st.session_state:
        return True
    value = st.query_params.get(key)
    if value is not None and value in options:
        st.session_state[key] = value
        return True
    return False


def period_choice(lang: str, options: Sequence[str], default: str, key: str = "period") -> str:
    """A segmented switch over period presets; returns the chosen preset's key."""
    preset = _preset_from_query(key, options)
    choice = st.segmented_control(
        t("period", lang),
        list(options),
        default=None if preset else default,
        required=True,
        key=key,
        format_func=lambda key_: t(f"period_{key_}", lang),
    )
    return str(choice or default)


def period_caption(period: Period, lang: str) -> str:
    end = period.current.end - dt.timedelta(minutes=1)
    return t("period_range", lang, start=format_datetime(period.current.start), end=format_datetime(end))


def render_kpis(kpis: Sequence[Kpi], lang: str, per_row: int | None = None, *, comparison: str | None = None) -> None:
    """One bordered card per KPI: value, change vs the comparison period, target index badge."""
    per_row = per_row or len(kpis)
    for offset in range(0, len(kpis), per_row):
        row = kpis[offset : offset + per_row]
        for column, kpi in zip(st.columns(per_row), row, strict=False):
            with column, st.container(border=True):
                _kpi_card(kpi, lang, comparison or t("vs_previous", lang))


def _kpi_card(kpi: Kpi, lang: str, comparison: str) -> None:
    delta = format_change(kpi.change, kpi.unit, relative=kpi.relative, lang=lang)
    moved = delta is not None and delta[:1] in ("+", "-")  # a change that rounds to zero shows no arrow or colour
    st.metric(
        metric_label(kpi.metric, lang),
        format_value(kpi.value, kpi.unit, lang),
        delta=delta,
        delta_color=_delta_colour(kpi) if moved else "off",
        delta_arrow="auto" if moved else "off",
        delta_description=comparison,
        help=t("kpi_help", lang),
    )
    colour, status_key = _STATUS_BADGE[kpi.status]
    if kpi.target_index is None:
        st.badge(t("no_target", lang), color=colour)
    else:
        label = f"{t('target_index', lang, value=format_index(kpi.target_index))} · {t(status_key, lang)}"
        st.badge(label, color=colour, help=t("target_value", lang, value=format_value(kpi.target, kpi.unit, lang)))


def _delta_colour(kpi: Kpi) -> Literal["normal", "inverse", "off"]:
    """st.metric colours 'normal' up-green/down-red and 'inverse' the other way: pick by the metric's direction."""
    if kpi.improved is None:
        return "off"
    rises = kpi.change is not None and kpi.change > 0
    return "normal" if kpi.improved == rises else "inverse"


def compact_layout() -> None:
    """Less empty space above the title, so a 1080p screen holds the whole overview."""
    st.html(
        "<style>[data-testid='stMainBlockContainer']{padding-top:2.2rem;padding-bottom:1rem}</style>",
    )


def auto_refresh(seconds: int) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Re-run a page body every ``seconds`` in the browser (wall screens left unattended)."""

    def wrap(body: Callable[[], None]) -> Callable[[], None]:
        return st.fragment(sign_in.audited_fragment(body), run_every=dt.timedelta(seconds=max(seconds, 5)))

    return wrap


# ---- the big screen's ticker ------------------------------------------------------------------------

# Alerts change by the day; a full early-warning run costs seconds at city scale, so every screen
# of the process shares one result per (database, as-of time) for five minutes, loaded once.
EARLY_WARNING_TTL_SECONDS = 300
_early_warnings: ResultCache[pl.DataFrame] = ResultCache(ttl_seconds=EARLY_WARNING_TTL_SECONDS, max_entries=16)


def early_warning_alerts(ctx: Context) -> pl.DataFrame:
    """The early-warning module's alerts at the data's as-of time in the viewer's scope, cached and shared."""
    from data_access.alerts.run import compute_alerts  # heavy module: imported when a screen first needs it

    return _early_warnings.get_or_load(
        (ctx.target.url, ctx.as_of, ctx.scope), lambda: compute_alerts(ctx.engine, as_of=ctx.as_of, scope=ctx.scope)
    )


def ticker_source(ctx: Context) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """The ticker's lines: early-warning alerts; the metric layer's overdue list if that run fails."""

    def source(fallback: pl.DataFrame) -> pl.DataFrame:
        try:
            return ticker_alerts(early_warning_alerts(ctx))
        except Exception:  # never blank the wall: log it and keep the overdue list
            log.exception("early-warning run failed; the ticker shows the metric layer's overdue items")
            return fallback

    return source


# ---- sections shared by the topic pages ---------------------------------------------------------


@dataclass(frozen=True)
class TopicView:
    """What a topic page shows: the period, the district chosen, and every filter its requests carry."""

    period: Period
    district: str | None
    filters: tuple[Filter, ...]


@st.cache_data(show_spinner=False, ttl=NAMES_TTL_SECONDS)
def _region_levels(url: str) -> dict[str, str]:
    regions = region_names(_engine(url))
    return dict(zip(regions["code"].to_list(), regions["level"].to_list(), strict=True))


@st.cache_data(show_spinner=False, ttl=NAMES_TTL_SECONDS)
def _parents(url: str) -> dict[str, str | None]:
    regions = region_names(_engine(url))
    return dict(zip(regions["code"].to_list(), regions["parent_code"].to_list(), strict=True))


def region_levels(ctx: Context) -> dict[str, str]:
    """Region code → level, for every region the viewer may see (cached)."""
    return ctx.region_levels()


def region_parents(ctx: Context) -> dict[str, str | None]:
    """Region code → its parent's code (cached)."""
    return _parents(ctx.target.url)


def render_alerts(ctx: Context, found: pl.DataFrame) -> None:
    """A table of alerts (severity, kind, message, link); a caption when there are none."""
    lang = ctx.lang
    if found.height == 0:
        st.caption(t("alerts_none", lang))
        return
    message = "message_en" if lang == "en" else "message"
    shown = pl.DataFrame(
        {
            t("alert_severity", lang): [t(f"severity_{value}", lang) for value in found["severity"].to_list()],
            t("alert_kind", lang): [
                t(f"alert_kind_{kind}", lang) if f"alert_kind_{kind}" in TEXTS else kind
                for kind in found["kind"].to_list()
            ],
            t("alert_message", lang): found[message].to_list(),
            t("alert_link", lang): found["link"].to_list(),
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        key="alerts",
        column_config={t("alert_link", lang): st.column_config.LinkColumn(display_text=t("alert_open", lang))},
    )


def kpi_section(ctx: Context, metrics: tuple[str, ...], view: TopicView, *, comparison: str | None = None) -> list[Kpi]:
    """The KPI row of a topic page for its view, with comparison (``view.period.previous``) and target index."""
    current, previous = kpi_requests(metrics, view.period, view.filters)
    kpis = build_kpis(metrics, ctx.run(current), ctx.run(previous), ctx.targets(metrics, view.district))
    render_kpis(kpis, ctx.lang, comparison=comparison)
    return kpis


# ---- the admin page's facts -----------------------------------------------------------------------


def _rows(lang: str, items: Sequence[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {t("admin_item", lang): [k for k, _ in items], t("admin_value", lang): [v for _, v in items]},
        schema={t("admin_item", lang): pl.String(), t("admin_value", lang): pl.String()},
    )


def source_rows(lang: str) -> pl.DataFrame:
    """Database URL (password hidden) and where it was configured, plus the city file in use."""
    items: list[tuple[str, str]] = []
    try:
        target = resolve_target()
        items += [
            (t("admin_url", lang), target.display_url),
            (t("admin_origin", lang), t(f"origin_{target.origin}", lang)),
        ]
    except DatabaseProblem as problem:
        items.append((t("admin_url", lang), str(problem)))
    try:
        city = load_city()
        items.append((t("admin_city_file", lang), str(city.source)))
    except SettingsProblem as problem:
        items.append((t("admin_city_file", lang), str(problem)))
    return _rows(lang, items)


def meta_rows(ctx: Context) -> pl.DataFrame:
    lang = ctx.lang
    dataset = t("dataset_demo", lang) if ctx.is_demo else t("dataset_real", lang)
    items = [(t("admin_dataset", lang), dataset), (t("admin_latest", lang), format_datetime(ctx.as_of))]
    items += [(_meta_label(key, lang), value) for key, value in sorted(ctx.meta.items()) if key != "dataset"]
    return _rows(lang, items)


def _meta_label(key: str, lang: str) -> str:
    return t(f"meta_{key}", lang) if f"meta_{key}" in TEXTS else key


@st.cache_data(show_spinner=False, ttl=NAMES_TTL_SECONDS)
def _table_counts(url: str) -> dict[str, int]:
    return table_counts(_engine(url))


@st.cache_data(show_spinner=False, ttl=AS_OF_TTL_SECONDS)
def _latest_times(url: str) -> dict[str, dt.datetime | None]:
    return latest_record_times(_engine(url))


def table_rows(ctx: Context) -> pl.DataFrame:
    """Table, what it holds, and its row count (with thousands separators)."""
    lang = ctx.lang
    counts = _table_counts(ctx.target.url)
    latest = _latest_times(ctx.target.url)
    return pl.DataFrame(
        {
            t("admin_table", lang): list(counts),
            t("admin_description", lang): [
                t(f"table_{name}", lang) if f"table_{name}" in TEXTS else "" for name in counts
            ],
            t("admin_rows", lang): [format_number(count) for count in counts.values()],
            t("admin_latest_record", lang): [
                format_datetime(latest[name]) if latest.get(name) else "" for name in counts
            ],
        },
        schema={
            t("admin_table", lang): pl.String(),
            t("admin_description", lang): pl.String(),
            t("admin_rows", lang): pl.String(),
            t("admin_latest_record", lang): pl.String(),
        },
    )


def schema_check(ctx: Context) -> list[str]:
    """The contract check run now (not cached), as the admin expects after fixing something."""
    return schema_problems(ctx.engine)


def settings_rows(ctx: Context) -> pl.DataFrame:
    lang, city, rates = ctx.lang, ctx.city, ctx.city.three_rates
    weights = (
        f"{rates.response_weight:g} / {rates.resolution_weight:g} / {rates.satisfaction_weight:g}, "
        f"{rates.basic_satisfied_factor:g}"
    )
    items = [
        (t("admin_city", lang), f"{city.name} ({city.name_en})"),
        (t("admin_city_file", lang), str(city.source)),
        (t("admin_cache_ttl", lang), t("seconds", lang, n=city.cache_ttl_seconds)),
        (t("admin_refresh", lang), t("seconds", lang, n=city.refresh_seconds)),
        (t("admin_three_rates", lang), weights),
    ]
    return _rows(lang, items)
