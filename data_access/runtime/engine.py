"""Finding the database, creating one engine per process, and checking it holds the contract.

Resolution order (the app and every ``python -m`` entry point use the same one):
1. an explicit ``--url`` / ``url=`` argument;
2. the ``COCKPIT_DATABASE_URL`` environment variable;
3. ``[connections.cockpit] url`` in ``.streamlit/secrets.toml``;
4. the embedded DuckDB file ``<COCKPIT_DATA_DIR or ./data>/cockpit.duckdb`` (the demo city).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from data_access.contract import schema
from data_access.runtime.paths import REPO_ROOT

URL_ENV = "COCKPIT_DATABASE_URL"
DATA_DIR_ENV = "COCKPIT_DATA_DIR"
SECRETS_FILE = REPO_ROOT / ".streamlit" / "secrets.toml"


class DatabaseProblem(Exception):
    """A database the cockpit cannot use, with a message that says what is wrong and how to fix it."""


@dataclass(frozen=True)
class DatabaseTarget:
    """Where the data lives and how that was decided (shown on the admin page)."""

    url: str
    origin: str  # "argument", "environment", "secrets", "embedded"

    @property
    def is_embedded(self) -> bool:
        return self.origin == "embedded"

    @property
    def display_url(self) -> str:
        """The URL with any password hidden, safe to show on screen or in logs."""
        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except ArgumentError:
            return "<unparseable URL>"


def data_dir() -> Path:
    return Path(os.environ.get(DATA_DIR_ENV, REPO_ROOT / "data"))


def embedded_url() -> str:
    return f"duckdb:///{data_dir() / 'cockpit.duckdb'}"


def _url_from_secrets(path: Path) -> str | None:
    if not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            secrets = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise DatabaseProblem(f"{path} is not valid TOML: {exc}") from exc
    url = secrets.get("connections", {}).get("cockpit", {}).get("url")
    if url is not None and not isinstance(url, str):
        raise DatabaseProblem(f"{path}: [connections.cockpit] url must be a string")
    return url or None


def resolve_target(url: str | None = None, secrets_file: Path = SECRETS_FILE) -> DatabaseTarget:
    """Decide which database to use, following the documented order."""
    if url:
        return DatabaseTarget(url, "argument")
    env_url = os.environ.get(URL_ENV, "").strip()
    if env_url:
        return DatabaseTarget(env_url, "environment")
    secret_url = _url_from_secrets(secrets_file)
    if secret_url:
        return DatabaseTarget(secret_url, "secrets")
    return DatabaseTarget(embedded_url(), "embedded")


_engines: dict[str, sa.Engine] = {}
_engines_lock = threading.Lock()


def _normalise(url: str) -> sa.URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseProblem(
            f"The database URL {url!r} is not a valid SQLAlchemy URL "
            "(expected e.g. postgresql+psycopg://user@host/db or duckdb:///path/file.duckdb)."
        ) from exc
    backend = parsed.get_backend_name()
    if backend in ("mysql", "mariadb") and "charset" not in parsed.query:
        # Chinese text needs 4-byte UTF-8; the drivers' default charset is not it.
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    if backend == "postgresql" and parsed.get_driver_name() in ("psycopg2", ""):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend == "mysql" and not parsed.get_driver_name():
        parsed = parsed.set(drivername="mysql+pymysql")
    if backend == "mariadb" and not parsed.get_driver_name():
        parsed = parsed.set(drivername="mariadb+pymysql")
    if backend == "duckdb" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return parsed


def get_engine(url: str) -> sa.Engine:
    """One engine per URL per process; engines hold the connection pool and are thread-safe."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            parsed = _normalise(url)
            try:
                engine = sa.create_engine(parsed, pool_pre_ping=parsed.get_backend_name() != "duckdb")
            except (NoSuchModuleError, ModuleNotFoundError) as exc:
                raise DatabaseProblem(
                    f"No driver for {parsed.drivername!r}: install it (see requirements.txt) "
                    f"or use another URL. ({exc})"
                ) from exc
            if parsed.get_backend_name() == "postgresql":
                sa.event.listen(engine, "connect", _postgres_session)
            _engines[url] = engine
        return engine


# Session settings of the cockpit's PostgreSQL connections (measured on the scale-30 demo, docs/benchmarks.md):
# - jit: the metric queries are short and many; once a month of facts crosses ``jit_above_cost``,
#   compiling the plan took 0.3–1 s longer than running it;
# - random_page_cost: the default (4) models spinning disks; with the data in memory or on SSD the
#   planner then preferred scanning 12 M rows (0.67 s) to the "finished after T" index (0.05 s).
POSTGRES_SESSION: dict[str, str] = {"jit": "off", "random_page_cost": "1.1"}


def _postgres_session(dbapi_connection: object, _record: object) -> None:
    """Apply ``POSTGRES_SESSION``; an engine that speaks the protocol without a setting keeps its default."""
    for name, value in POSTGRES_SESSION.items():
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        try:
            cursor.execute(f"SET {name} = {value}")
        except Exception:  # a PostgreSQL-compatible engine without the setting
            dbapi_connection.rollback()  # type: ignore[attr-defined]
        else:
            dbapi_connection.commit()  # type: ignore[attr-defined]
        finally:
            cursor.close()


def dispose_engine(url: str) -> None:
    """Close and forget the engine for a URL (tests, and the demo generator before it writes)."""
    with _engines_lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def check_connection(engine: sa.Engine) -> None:
    """Raise DatabaseProblem with a readable message when the database cannot be reached."""
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except SQLAlchemyError as exc:
        shown = engine.url.render_as_string(hide_password=True)
        reason = database_reason(exc)
        raise DatabaseProblem(
            f"Cannot connect to {shown}: {reason}. Check that the server is running and that "
            f"{URL_ENV} (or [connections.cockpit] url in .streamlit/secrets.toml) is right."
        ) from exc


def existing_columns(engine: sa.Engine) -> dict[str, set[str]]:
    """Table name -> column names in the current schema, read from information_schema.

    information_schema is the one catalogue DuckDB, PostgreSQL and MySQL share (duckdb-engine's
    own reflection queries pg_catalog tables that DuckDB 2 lacks).
    """
    current = "DATABASE()" if engine.dialect.name in ("mysql", "mariadb") else "current_schema()"
    statement = sa.text(
        f"SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = {current}"
    )
    found: dict[str, set[str]] = {}
    with engine.connect() as connection:
        for table_name, column_name in connection.execute(statement):
            found.setdefault(str(table_name), set()).add(str(column_name))
    return found


def schema_problems(engine: sa.Engine) -> list[str]:
    """Every way the database falls short of the contract: missing tables, missing columns."""
    present = existing_columns(engine)
    problems: list[str] = []
    for table in schema.REQUIRED_TABLES:
        if table.name not in present:
            problems.append(
                f"table '{table.name}' is missing (see docs/data-contract.md; "
                "`python -m data_access.demo --url …` creates the tables and fills a demo city)"
            )
            continue
        missing = [column.name for column in table.columns if column.name not in present[table.name]]
        if missing:
            problems.append(
                f"table '{table.name}' lacks required column(s) {', '.join(missing)} (see docs/data-contract.md)"
            )
    return problems


def check_database(engine: sa.Engine) -> None:
    """Connection and contract check in one: raises DatabaseProblem naming every problem found."""
    check_connection(engine)
    problems = schema_problems(engine)
    if problems:
        shown = engine.url.render_as_string(hide_password=True)
        raise DatabaseProblem(f"The database {shown} does not hold the cockpit's tables: " + "; ".join(problems))


def new_data_version() -> str:
    """A fresh ``cockpit_meta.data_version``: written by every load that changes data (an import, the demo),
    so every process's cache keys move on (``data_access.runtime.session``)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def read_meta(engine: sa.Engine) -> dict[str, str]:
    """The key/value facts the loader left behind (is it a demo, city name, when generated)."""
    if schema.cockpit_meta.name not in existing_columns(engine):
        return {}
    with engine.connect() as connection:
        rows = connection.execute(sa.select(schema.cockpit_meta.c.key, schema.cockpit_meta.c.value))
        return {key: value for key, value in rows}


# Errors raised by the database or its driver, for ``except`` clauses in code that imports no SQLAlchemy.
DatabaseError = SQLAlchemyError


def is_database_error(exc: BaseException) -> bool:
    """Whether ``exc`` came from the database or its driver (so presentation code, which imports no
    SQLAlchemy, can show it as a database problem instead of a traceback)."""
    return isinstance(exc, SQLAlchemyError)


def database_reason(exc: BaseException) -> str:
    """The first line of a database error: the driver's own message when SQLAlchemy wraps one (what a
    person can act on, without SQLAlchemy's statement and parameters), else the exception's; its type
    when it says nothing."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
