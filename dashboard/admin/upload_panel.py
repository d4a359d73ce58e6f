"""Streamlit glue for the admin page's import (the logic is in ``dashboard/admin/upload.py``)."""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from dashboard.admin.upload import (
    QUARANTINE_NAME,
    UPLOAD_TYPES,
    Upload,
    UploadResult,
    preset_names,
    run_upload,
    summary_rows,
)
from dashboard.core.i18n import TEXTS, t
from data_access.config.city import SettingsProblem, load_city
from data_access.contract import schema
from data_access.runtime.engine import DatabaseProblem, get_engine, resolve_target

RESULT_KEY = "upload_result"


def render(lang: str) -> None:
    """Table, preset or mapping file, files, an import button; then the last import's summary."""
    st.subheader(t("upload_title", lang))
    st.caption(t("upload_help", lang))
    tables = [table.name for table in schema.FACT_TABLES]
    st.selectbox(
        t("upload_table", lang),
        tables,
        index=tables.index("complaints"),
        format_func=lambda n: _table_label(n, lang),
        key="upload_table",
    )
    kind = st.radio(
        t("upload_mapping_kind", lang),
        ["preset", "file"],
        format_func=lambda k: t(f"upload_mapping_{k}", lang),
        horizontal=True,
        key="upload_mapping_kind",
    )
    if kind == "preset":
        st.selectbox(t("upload_preset", lang), preset_names(), key="upload_preset")
    else:
        st.file_uploader(t("upload_mapping_file", lang), type=["toml"], key="upload_mapping")
    st.file_uploader(t("upload_files", lang), type=list(UPLOAD_TYPES), accept_multiple_files=True, key="upload_files")
    st.button(t("upload_run", lang), type="primary", key="upload_run", on_click=_on_import, args=(lang,))
    result = st.session_state.get(RESULT_KEY)
    if isinstance(result, UploadResult):
        _show(result, lang)


def _on_import(lang: str) -> None:
    """The button's callback: runs before the page, with the widgets' values in the session state."""
    state = st.session_state
    by_preset = state.get("upload_mapping_kind") == "preset"
    result = _run(
        lang,
        str(state.get("upload_table", "complaints")),
        state.get("upload_preset") if by_preset else None,
        None if by_preset else state.get("upload_mapping"),
        list(state.get("upload_files") or []),
    )
    # New data needs no clearing here: the import wrote a new data version, which every cache key holds.
    state[RESULT_KEY] = result


def _table_label(name: str, lang: str) -> str:
    key = f"table_{name}"
    return f"{name} · {t(key, lang)}" if key in TEXTS else name


def _run(
    lang: str, table: str, preset: str | None, mapping_upload: UploadedFile | None, files: list[UploadedFile]
) -> UploadResult:
    uploads = [Upload(f.name, f.getvalue()) for f in files]
    mapping = Upload(mapping_upload.name, mapping_upload.getvalue()) if mapping_upload is not None else None
    if mapping is None and preset is None:
        return UploadResult(error=t("upload_no_mapping", lang))
    try:
        city = load_city()
        engine = get_engine(resolve_target().url)
    except (SettingsProblem, DatabaseProblem) as problem:
        return UploadResult(error=str(problem))
    return run_upload(engine, table, city, uploads, preset=preset, mapping_file=mapping, lang=lang)


def _show(result: UploadResult, lang: str) -> None:
    if result.error is not None:
        st.error(t("upload_failed", lang, message=result.error))
        return
    summary = result.summary
    assert summary is not None
    if summary.committed:
        st.success(t("upload_done", lang, seconds=f"{summary.seconds:.1f}", version=summary.data_version or ""))
    else:
        st.warning(t("upload_nothing_valid", lang))
    st.dataframe(summary_rows(summary, lang), hide_index=True, key="upload_summary")
    if result.quarantine_csv is not None:
        st.download_button(
            t("upload_quarantine", lang),
            data=result.quarantine_csv,
            file_name=QUARANTINE_NAME,
            mime="text/csv",
            key="upload_quarantine",
        )
