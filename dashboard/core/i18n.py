"""Every UI string of the cockpit: key -> (Chinese, English), Chinese the default, looked up with ``t``.

The table is kept by feature in ``dashboard.core.texts`` (common, screen, topics, workbench, admin,
access) and merged here; a key defined twice is an error at import, never a silent override.

Metric names are not repeated here: they come from the metric registry (``label_zh`` / ``label_en``),
so a metric is named the same on every page, in every export and in the docs.
"""

from __future__ import annotations

from dashboard.core.texts import access, admin, common, screen, topics, workbench
from data_access.semantic.metric_registry import METRICS

LANGUAGES: tuple[str, ...] = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LANGUAGE_NAMES: dict[str, str] = {"zh": "中文", "en": "English"}


def _merged(*tables: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """One table from the feature tables; a key in two of them raises (which text would win is a bug)."""
    merged: dict[str, tuple[str, str]] = {}
    for table in tables:
        twice = sorted(merged.keys() & table.keys())
        if twice:
            raise ValueError(f"UI text keys defined twice: {', '.join(twice)}")
        merged.update(table)
    return merged


TEXTS: dict[str, tuple[str, str]] = _merged(
    common.TEXTS, screen.TEXTS, topics.TEXTS, workbench.TEXTS, admin.TEXTS, access.TEXTS
)


def t(key: str, lang: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The UI text for ``key`` in ``lang`` (zh when unknown), with ``{placeholders}`` filled in."""
    zh, en = TEXTS[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


def metric_label(name: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """A metric's display name from the registry."""
    metric = METRICS[name]
    return metric.label_en if lang == "en" else metric.label_zh


def normalise_language(value: object) -> str:
    """A supported language code for any input (query parameter, session value); zh otherwise."""
    return value if isinstance(value, str) and value in LANGUAGES else DEFAULT_LANGUAGE
