"""The admin page's facts: where the data comes from, what the database holds, the settings in force."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from dashboard.core.formatting import format_datetime, format_number
from dashboard.core.i18n import TEXTS, t
from dashboard.session.context import Context
from data_access.config.city import SettingsProblem, load_city
from data_access.runtime.engine import DatabaseProblem, resolve_target


def item_rows(lang: str, items: Sequence[tuple[str, str]]) -> pl.DataFrame:
    """A two-column table of (item, value) pairs, as the admin page shows its facts."""
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
    return item_rows(lang, items)


def meta_rows(ctx: Context) -> pl.DataFrame:
    lang = ctx.lang
    dataset = t("dataset_demo", lang) if ctx.is_demo else t("dataset_real", lang)
    items = [(t("admin_dataset", lang), dataset), (t("admin_latest", lang), format_datetime(ctx.as_of))]
    items += [(_meta_label(key, lang), value) for key, value in sorted(ctx.meta.items()) if key != "dataset"]
    return item_rows(lang, items)


def _meta_label(key: str, lang: str) -> str:
    return t(f"meta_{key}", lang) if f"meta_{key}" in TEXTS else key


def table_rows(ctx: Context) -> pl.DataFrame:
    """Table, what it holds, and its row count (with thousands separators)."""
    lang = ctx.lang
    counts = ctx.data.table_counts()
    latest = ctx.data.latest_record_times()
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
    return ctx.data.schema_problems()


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
    return item_rows(lang, items)
