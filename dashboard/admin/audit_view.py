"""The audit page's table: audit rows with translated headers, roles and actions. Pure (no Streamlit)."""

from __future__ import annotations

import polars as pl

from dashboard.core.i18n import TEXTS, t

SHOWN = ("occurred_at", "user_name", "role", "action", "page", "filters", "row_count", "detail", "client")


def _translated(values: list[str | None], prefix: str, lang: str) -> list[str | None]:
    return [t(f"{prefix}{value}", lang) if value and f"{prefix}{value}" in TEXTS else value for value in values]


def audit_table(frame: pl.DataFrame, lang: str) -> pl.DataFrame:
    """The columns an admin reads, newest first as searched, headed in the viewer's language."""
    shown = frame.select(SHOWN).with_columns(
        pl.Series("role", _translated(frame["role"].to_list(), "role_", lang), dtype=pl.String()),
        pl.Series("action", _translated(frame["action"].to_list(), "action_", lang), dtype=pl.String()),
    )
    return shown.rename({name: t(f"audit_col_{name}", lang) for name in SHOWN})
