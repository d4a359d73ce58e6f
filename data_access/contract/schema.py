"""The data contract: the tables a city's data-sharing platform publishes, as SQLAlchemy Core.

Every column is documented in ``docs/data-contract.md``; a test fails when the two drift apart.

Conventions, chosen so that one schema runs on DuckDB, PostgreSQL and MySQL-family engines:
- timestamps are naive local wall time in the city's time zone (the city config names it);
- time limits are elapsed hours (``*_limit_hours``), so on-time checks are one comparison;
- region codes are hierarchical strings; facts carry the code of every level they belong to
  (denormalised at ingest), so filtering and grouping by any level needs no join;
- enumerated values are the Chinese domain terms listed in ``ALLOWED_VALUES``.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

CODE = sa.String(32)
NAME = sa.String(128)
ID = sa.String(64)
LABEL = sa.String(16)

# Indexes help the row-store engines; DuckDB scans columns and its ART indexes only slow loads.
ROW_STORES = ("postgresql", "mysql", "mariadb")


def _index(name: str, *columns: str) -> sa.Index:
    # ddl_if documents a tuple of dialect names; its type hint only says str.
    return sa.Index(name, *columns).ddl_if(dialect=ROW_STORES)  # type: ignore[arg-type]


REGION_LEVELS: tuple[str, ...] = ("district", "street", "community", "grid")

regions = sa.Table(
    "regions",
    metadata,
    sa.Column("code", CODE, primary_key=True),
    sa.Column("name", NAME, nullable=False),
    sa.Column("level", LABEL, nullable=False),
    sa.Column("parent_code", CODE, nullable=True),
    sa.Column("population", sa.Integer, nullable=True),
    sa.Column("center_lon", sa.Double, nullable=True),
    sa.Column("center_lat", sa.Double, nullable=True),
)

departments = sa.Table(
    "departments",
    metadata,
    sa.Column("code", CODE, primary_key=True),
    sa.Column("name", NAME, nullable=False),
    sa.Column("name_en", NAME, nullable=True),
)

categories = sa.Table(
    "categories",
    metadata,
    sa.Column("code", CODE, primary_key=True),
    sa.Column("domain", LABEL, nullable=False),
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("name", NAME, nullable=False),
    sa.Column("parent_code", CODE, nullable=True),
)

targets = sa.Table(
    "targets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("metric", sa.String(64), nullable=False),
    sa.Column("region_code", CODE, nullable=True),
    sa.Column("department_code", CODE, nullable=True),
    sa.Column("period_start", sa.Date, nullable=True),
    sa.Column("period_end", sa.Date, nullable=True),
    sa.Column("value", sa.Double, nullable=False),
)

service_cases = sa.Table(
    "service_cases",
    metadata,
    sa.Column("case_id", ID, primary_key=True),
    sa.Column("service_item_code", CODE, nullable=False),
    sa.Column("service_item_name", NAME, nullable=False),
    sa.Column("department_code", CODE, nullable=False),
    sa.Column("district_code", CODE, nullable=False),
    sa.Column("street_code", CODE, nullable=True),
    sa.Column("channel", LABEL, nullable=False),
    sa.Column("applicant_type", LABEL, nullable=False),
    sa.Column("submitted_at", sa.DateTime, nullable=False),
    sa.Column("accepted_at", sa.DateTime, nullable=True),
    sa.Column("completed_at", sa.DateTime, nullable=True),
    sa.Column("promised_limit_hours", sa.Double, nullable=False),
    sa.Column("legal_limit_hours", sa.Double, nullable=False),
    sa.Column("status", LABEL, nullable=False),
    sa.Column("rating", LABEL, nullable=True),
    _index("ix_service_cases_submitted", "submitted_at"),
    _index("ix_service_cases_department", "department_code"),
    _index("ix_service_cases_street", "street_code"),
    # "finished after T, received before T": a snapshot at a past as-of time reads those rows beside
    # the open items; the second column filters inside the index (no table row read for a miss)
    _index("ix_service_cases_completed_submitted", "completed_at", "submitted_at"),
)

complaints = sa.Table(
    "complaints",
    metadata,
    sa.Column("ticket_id", ID, primary_key=True),
    sa.Column("received_at", sa.DateTime, nullable=False),
    sa.Column("channel", LABEL, nullable=False),
    sa.Column("category_l1_code", CODE, nullable=False),
    sa.Column("category_l2_code", CODE, nullable=True),
    sa.Column("category_l3_code", CODE, nullable=True),
    sa.Column("title", sa.String(256), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("address", sa.String(256), nullable=True),
    sa.Column("district_code", CODE, nullable=False),
    sa.Column("street_code", CODE, nullable=True),
    sa.Column("community_code", CODE, nullable=True),
    sa.Column("grid_code", CODE, nullable=True),
    sa.Column("lat", sa.Double, nullable=True),
    sa.Column("lon", sa.Double, nullable=True),
    sa.Column("department_code", CODE, nullable=False),
    sa.Column("time_limit_hours", sa.Double, nullable=False),
    sa.Column("first_response_at", sa.DateTime, nullable=True),
    sa.Column("resolved_at", sa.DateTime, nullable=True),
    sa.Column("closed_at", sa.DateTime, nullable=True),
    sa.Column("status", LABEL, nullable=False),
    sa.Column("contacted", sa.Boolean, nullable=True),
    sa.Column("resolved", sa.Boolean, nullable=True),
    sa.Column("follow_up", LABEL, nullable=True),
    sa.Column("repeat_of", ID, nullable=True),
    _index("ix_complaints_received", "received_at"),
    _index("ix_complaints_department", "department_code"),
    _index("ix_complaints_street", "street_code"),
    _index("ix_complaints_resolved_received", "resolved_at", "received_at"),
)

grid_events = sa.Table(
    "grid_events",
    metadata,
    sa.Column("event_id", ID, primary_key=True),
    sa.Column("grid_code", CODE, nullable=False),
    sa.Column("community_code", CODE, nullable=True),
    sa.Column("street_code", CODE, nullable=True),
    sa.Column("district_code", CODE, nullable=False),
    sa.Column("source", LABEL, nullable=False),
    sa.Column("kind", LABEL, nullable=False),
    sa.Column("major_category_code", CODE, nullable=False),
    sa.Column("minor_category_code", CODE, nullable=True),
    sa.Column("collected_at", sa.DateTime, nullable=False),
    sa.Column("filed_at", sa.DateTime, nullable=True),
    sa.Column("dispatched_at", sa.DateTime, nullable=True),
    sa.Column("handled_at", sa.DateTime, nullable=True),
    sa.Column("feedback_at", sa.DateTime, nullable=True),
    sa.Column("verified_at", sa.DateTime, nullable=True),
    sa.Column("closed_at", sa.DateTime, nullable=True),
    sa.Column("side_state", LABEL, nullable=True),
    sa.Column("rework_count", sa.Integer, nullable=False, default=0),
    sa.Column("department_code", CODE, nullable=False),
    sa.Column("time_limit_hours", sa.Double, nullable=False),
    sa.Column("lat", sa.Double, nullable=True),
    sa.Column("lon", sa.Double, nullable=True),
    sa.Column("reporter_id", ID, nullable=True),
    _index("ix_grid_events_collected", "collected_at"),
    _index("ix_grid_events_department", "department_code"),
    _index("ix_grid_events_grid", "grid_code"),
    _index("ix_grid_events_handled_collected", "handled_at", "collected_at"),
)

demo_anomalies = sa.Table(
    "demo_anomalies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("region_code", CODE, nullable=True),
    sa.Column("department_code", CODE, nullable=True),
    sa.Column("category_code", CODE, nullable=True),
    sa.Column("start_at", sa.DateTime, nullable=False),
    sa.Column("end_at", sa.DateTime, nullable=False),
    sa.Column("note", sa.String(256), nullable=True),
)

cockpit_meta = sa.Table(
    "cockpit_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(512), nullable=False),
)

# ---- access control (issue 7): accounts, wall-screen device tokens, the audit trail ----------------
# Written by the cockpit itself (``python -m data_access.security.users`` and the app), never by the city's
# data platform; created on first use (``data_access.security.accounts.ensure_tables``). See docs/security.md.
USER_ROLES = ("leader", "department_head", "analyst", "admin", "screen")
AUDIT_ACTIONS = ("view", "export", "login", "login_failed", "logout", "user_change", "token_use")

users = sa.Table(
    "cockpit_users",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("display_name", NAME, nullable=True),
    sa.Column("role", LABEL, nullable=False),
    sa.Column("scope_departments", sa.Text, nullable=True),
    sa.Column("scope_regions", sa.Text, nullable=True),
    sa.Column("grants", sa.String(128), nullable=True),
    sa.Column("password_hash", sa.String(256), nullable=True),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("failed_logins", sa.Integer, nullable=False),
    sa.Column("locked_until", sa.DateTime, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("last_login_at", sa.DateTime, nullable=True),
)

device_tokens = sa.Table(
    "cockpit_tokens",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("user_name", sa.String(64), nullable=False),
    sa.Column("label", NAME, nullable=True),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=True),
    sa.Column("expires_at", sa.DateTime, nullable=True),
    sa.Column("revoked_at", sa.DateTime, nullable=True),
    sa.Column("last_used_at", sa.DateTime, nullable=True),
)

audit_log = sa.Table(
    "cockpit_audit",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("occurred_at", sa.DateTime, nullable=False),
    sa.Column("user_name", sa.String(64), nullable=True),
    sa.Column("role", LABEL, nullable=True),
    sa.Column("action", LABEL, nullable=False),
    sa.Column("page", sa.String(64), nullable=True),
    sa.Column("filters", sa.Text, nullable=True),
    sa.Column("row_count", sa.Integer, nullable=True),
    sa.Column("detail", sa.Text, nullable=True),
    sa.Column("session_id", sa.String(64), nullable=True),
    sa.Column("client", sa.String(64), nullable=True),
    _index("ix_cockpit_audit_occurred", "occurred_at"),
)

ACCESS_TABLES: tuple[sa.Table, ...] = (users, device_tokens, audit_log)
# ---- end of access control ---------------------------------------------------------------------------

FACT_TABLES: tuple[sa.Table, ...] = (service_cases, complaints, grid_events)


def _keyed_on_this_engine(
    ddl: sa.schema.BaseDDLElement,
    target: sa.schema.SchemaItem | str,
    bind: sa.Connection | None,
    tables: list[sa.Table] | None = None,
    state: object | None = None,
    *,
    dialect: sa.Dialect,
    compiler: sa.sql.compiler.DDLCompiler | None = None,
    checkfirst: bool = False,
) -> bool:
    return dialect.name != "duckdb"


# The fact tables' primary keys are declared (the id is the key everywhere: NOT NULL, upserts match on
# it) but created only on the row stores. On DuckDB the key's ART index is the largest cost of a bulk
# load (about half of an import's database time) and helps no query of the cockpit's; there the one
# writer of facts, the import (``data_access.contract.writer``), keeps the ids unique itself and checks it
# before it commits. Databases created before keep their key; both shapes load the same way.
for _fact in FACT_TABLES:
    _fact.primary_key.ddl_if(callable_=_keyed_on_this_engine)
DIMENSION_TABLES: tuple[sa.Table, ...] = (regions, departments, categories, targets)
# Tables the app needs before it can draw anything; the rest are optional.
REQUIRED_TABLES: tuple[sa.Table, ...] = (*FACT_TABLES, regions, departments, categories)

SERVICE_RATINGS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
FOLLOW_UP_RESULTS = ("满意", "基本满意", "不满意", "未回访")

ALLOWED_VALUES: dict[tuple[str, str], tuple[str, ...]] = {
    ("regions", "level"): REGION_LEVELS,
    ("categories", "domain"): ("complaints", "grid_events", "service_cases"),
    ("service_cases", "channel"): ("窗口", "网上", "掌上", "自助终端"),
    ("service_cases", "applicant_type"): ("个人", "企业"),
    ("service_cases", "status"): ("办理中", "已办结", "不予受理"),
    ("service_cases", "rating"): SERVICE_RATINGS,
    ("complaints", "channel"): ("电话", "网站", "微信", "APP", "其他"),
    ("complaints", "status"): ("办理中", "已办结", "已关闭"),
    ("complaints", "follow_up"): FOLLOW_UP_RESULTS,
    ("grid_events", "source"): ("网格员巡查", "视频", "市民上报", "上级交办"),
    ("grid_events", "kind"): ("部件", "事件"),
    ("grid_events", "side_state"): ("延期", "回退", "挂账"),
    ("cockpit_users", "role"): USER_ROLES,
    ("cockpit_audit", "action"): AUDIT_ACTIONS,
}

# The seven workflow stages of a grid event, in order, as (stage key, timestamp column).
GRID_WORKFLOW: tuple[tuple[str, str], ...] = (
    ("collect", "collected_at"),
    ("file", "filed_at"),
    ("dispatch", "dispatched_at"),
    ("handle", "handled_at"),
    ("feedback", "feedback_at"),
    ("verify", "verified_at"),
    ("close", "closed_at"),
)


# ---- saved views (issue 6): the analyst workbench's named views ------------------------------------
# Written by the cockpit itself, never by the city's data platform; created on first save
# (``data_access.runtime.saved_views.ensure_table``) when the database does not have it yet.
saved_views = sa.Table(
    "saved_views",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("owner", sa.String(64), nullable=True),
    sa.Column("page", sa.String(32), nullable=False),
    sa.Column("name", NAME, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    _index("ix_saved_views_owner", "owner", "page"),
)
# ---- end of saved views ------------------------------------------------------------------------------

# ---- the early warning's store (issue 18): alerts computed by a job, read by the pages ------------
# Written by the cockpit itself (``data_access.alerts.store``), never by the city's data platform: one
# set of alerts per scope and as-of time, computed for one data version, replaced whole. See docs/alerts.md.
alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("scope_id", sa.String(40), nullable=False),
    sa.Column("as_of", sa.DateTime, nullable=False),
    sa.Column("data_version", sa.String(64), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("severity", LABEL, nullable=False),
    sa.Column("region_code", CODE, nullable=True),
    sa.Column("department", CODE, nullable=True),
    sa.Column("category", CODE, nullable=True),
    sa.Column("start", sa.DateTime, nullable=True),
    sa.Column("end", sa.DateTime, nullable=True),
    sa.Column("observed", sa.Double, nullable=True),
    sa.Column("expected", sa.Double, nullable=True),
    sa.Column("message", sa.Text, nullable=True),
    sa.Column("message_en", sa.Text, nullable=True),
    sa.Column("link", sa.Text, nullable=True),
    sa.Column("raised_at", sa.DateTime, nullable=True),
    sa.Column("domain", sa.String(32), nullable=True),
    sa.Column("detail", sa.Text, nullable=True),
    _index("ix_alerts_set", "scope_id", "as_of"),
)

alert_runs = sa.Table(
    "alert_runs",
    metadata,
    sa.Column("scope_id", sa.String(40), primary_key=True),
    sa.Column("as_of", sa.DateTime, primary_key=True),
    sa.Column("scope_key", sa.Text, nullable=False),
    sa.Column("data_version", sa.String(64), nullable=False),
    sa.Column("computed_at", sa.DateTime, nullable=False),
    sa.Column("seconds", sa.Double, nullable=False),
    sa.Column("alert_count", sa.Integer, nullable=False),
)
# ---- end of the early warning's store -----------------------------------------------------------------


def create_schema(engine: sa.Engine) -> None:
    """Create every contract table that does not exist yet, and the indexes they lack (never drops or alters).

    ``create_all`` skips existing tables whole, so an index added in a later release is created
    here on a database made by an earlier one (a one-off cost the first time).
    """
    metadata.create_all(engine, checkfirst=True)
    if engine.dialect.name not in ROW_STORES:
        return  # every index is a row-store one (``_index``): nothing to look for elsewhere
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            for index in table.indexes:
                index.create(connection, checkfirst=True)
