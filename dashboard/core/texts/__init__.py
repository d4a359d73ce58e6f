"""The UI text table, one module per feature; ``dashboard.core.i18n`` merges them into ``TEXTS``."""
