"""The early-warning vocabulary: alert kinds, severities, the fact tables they read, and the frames' shapes.

Kept apart from the detectors so that light readers (the big screen's ticker, the briefing, the
rules file's validation) can name kinds and columns without importing the statistics or the SQL.
``ALERT_SCHEMA`` is the one definition of an alert row; the ticker's narrower shape is derived from it.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from data_access.contract.schema import FACT_TABLES as CONTRACT_FACT_TABLES
from data_access.semantic.metric_registry import STAGE_LABELS

SEVERITIES: tuple[str, ...] = ("high", "medium", "low")  # 高 / 中 / 低
SEVERITY_ZH: dict[str, str] = {"high": "高", "medium": "中", "low": "低"}
OPERATIONAL_KINDS: tuple[str, ...] = ("overdue", "due_soon")
DETECTION_KINDS: tuple[str, ...] = (
    "complaint_surge",
    "intake_surge",
    "count_creep",
    "overdue_rate_jump",
    "score_drop",
    "stage_stall",
    "repeat_cluster",
)
KINDS: tuple[str, ...] = (*OPERATIONAL_KINDS, *DETECTION_KINDS)
CSV_COLUMNS: tuple[str, ...] = (
    "kind",
    "severity",
    "region_code",
    "department",
    "category",
    "start",
    "end",
    "observed",
    "expected",
    "message",
)
# The fact tables' names, in the contract's order (the contract is the one list of them).
FACT_TABLES: tuple[str, ...] = tuple(table.name for table in CONTRACT_FACT_TABLES)
DOMAIN_PAGE: dict[str, str] = {"service_cases": "services", "complaints": "complaints", "grid_events": "grid"}
DOMAIN_NAMES: dict[str, tuple[str, str]] = {
    "service_cases": ("政务服务办件", "service cases"),
    "complaints": ("12345诉求", "12345 tickets"),
    "grid_events": ("网格事件", "grid events"),
}
STAGES: tuple[str, ...] = tuple(STAGE_LABELS)
CATEGORY_LEVELS: tuple[str, ...] = ("category_l1", "category_l2", "category_l3")

# One row per entity and evaluation day that a detector flagged (before episodes are merged).
FLAG_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),
    "domain": pl.String(),
    "region_code": pl.String(),
    "department": pl.String(),
    "category": pl.String(),
    "detail": pl.String(),
    "eval_day": pl.Date(),
    "start": pl.Date(),
    "observed": pl.Float64(),
    "expected": pl.Float64(),
    "score": pl.Float64(),
    "severity": pl.String(),
    "message": pl.String(),
    "message_en": pl.String(),
}
# One row per alert, as ``compute_alerts`` returns it.
ALERT_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),
    "severity": pl.String(),
    "region_code": pl.String(),
    "department": pl.String(),
    "category": pl.String(),
    "start": pl.Datetime("us"),
    "end": pl.Datetime("us"),
    "observed": pl.Float64(),
    "expected": pl.Float64(),
    "message": pl.String(),
    "message_en": pl.String(),
    "link": pl.String(),
    "raised_at": pl.Datetime("us"),
    "domain": pl.String(),
    "detail": pl.String(),
}
# The big screen's ticker shows the first twelve columns, with the Chinese message named ``message_zh``
# beside ``message_en`` (its fallback list, built without the detectors, has no raise time or domain).
TICKER_ALERT_SCHEMA: dict[str, pl.DataType] = {
    ("message_zh" if name == "message" else name): dtype
    for name, dtype in ALERT_SCHEMA.items()
    if name not in ("raised_at", "domain", "detail")
}


def flag_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Flag rows (dicts with the ``FLAG_SCHEMA`` keys) as a frame; an empty list gives an empty frame of that shape."""
    return pl.DataFrame(rows, schema=FLAG_SCHEMA)
