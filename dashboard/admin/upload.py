"""The admin page's import: uploaded files and a preset or mapping file -> one validated load.

No Streamlit here (the widgets are in ``dashboard/admin/upload_panel.py``): bytes in, an
:class:`UploadResult` out. The load itself is ``data_access.ingest.pipeline.ingest_files``: everything is
validated before anything is written, one transaction, upsert by id; a wrong mapping, city file,
source file or database comes back as one message naming the problem, with nothing written.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from dashboard.core.i18n import t
from data_access.config.city import CityConfig, SettingsProblem
from data_access.ingest.mapping import PRESET_DIR, MappingProblem, load_mapping, preset_path
from data_access.ingest.pipeline import IngestProblem, IngestSummary, ingest_files
from data_access.ingest.readers import SourceProblem
from data_access.ingest.rules import REASONS
from data_access.runtime.engine import DatabaseProblem

if TYPE_CHECKING:
    import sqlalchemy as sa

UPLOAD_TYPES = ("csv", "txt", "xlsx", "parquet", "json")
QUARANTINE_NAME = "rejected.csv"


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the name the user's file had, and its bytes."""

    name: str
    data: bytes


@dataclass
class UploadResult:
    """What an upload did: a summary when the import ran, else the one message that says why not."""

    summary: IngestSummary | None = None
    error: str | None = None
    quarantine_csv: bytes | None = None
    file_names: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.summary is not None and self.summary.committed


def preset_names() -> list[str]:
    """The mappings shipped in ``data_access/ingest/presets/`` (open311, sf311, ...)."""
    return sorted(path.stem for path in PRESET_DIR.glob("*.toml"))


def safe_name(name: str, index: int) -> str:
    """A file name safe to write in a scratch folder, keeping the extension (it tells the format)."""
    base = Path(name).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    cleaned = re.sub(r"[^\w.-]+", "_", stem, flags=re.UNICODE).strip("._") or "upload"
    return f"{index:02d}_{cleaned}{suffix}"


def run_upload(
    engine: sa.Engine,
    table: str,
    city: CityConfig,
    uploads: Sequence[Upload],
    *,
    preset: str | None = None,
    mapping_file: Upload | None = None,
    lang: str = "zh",
) -> UploadResult:
    """Import uploaded files into ``table`` of the app's database, mapped by a preset or an uploaded mapping."""
    names = [upload.name for upload in uploads]
    if not uploads:
        return UploadResult(error=t("upload_no_files", lang), file_names=names)
    if (preset is None) == (mapping_file is None):
        return UploadResult(error=t("upload_no_mapping", lang), file_names=names)
    folder = Path(tempfile.mkdtemp(prefix="cockpit-upload-"))
    try:
        if mapping_file is not None:
            mapping_path = folder / "mapping.toml"
            mapping_path.write_bytes(mapping_file.data)
        else:
            assert preset is not None
            mapping_path = preset_path(preset)
        mapping = load_mapping(mapping_path, table)
        paths = []
        for index, upload in enumerate(uploads):
            path = folder / safe_name(upload.name, index)
            path.write_bytes(upload.data)
            paths.append(path)
        quarantine = folder / QUARANTINE_NAME
        # The app's background job refreshes the early warning when it sees the new data version.
        summary = ingest_files(
            engine, table, mapping, city, paths, quarantine=quarantine, file_names=names, refresh_alerts=False
        )
        quarantine_csv = quarantine.read_bytes() if summary.quarantine is not None else None
        return UploadResult(summary=summary, quarantine_csv=quarantine_csv, file_names=names)
    except (MappingProblem, SourceProblem, IngestProblem, DatabaseProblem, SettingsProblem) as problem:
        return UploadResult(error=_without_folder(str(problem), folder, mapping_file, uploads), file_names=names)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _without_folder(message: str, folder: Path, mapping_file: Upload | None, uploads: Sequence[Upload]) -> str:
    """The message with scratch paths replaced by the names the user knows."""
    for index, upload in enumerate(uploads):
        message = message.replace(str(folder / safe_name(upload.name, index)), upload.name)
    if mapping_file is not None:
        message = message.replace(str(folder / "mapping.toml"), mapping_file.name)
    return message.replace(str(folder) + "/", "")


def summary_rows(summary: IngestSummary, lang: str) -> pl.DataFrame:
    """The summary as (item, rows): read, loaded, updated, unchanged, rejected, then each reject reason."""
    items: list[tuple[str, int]] = [
        (t("upload_read", lang), summary.read),
        (t("upload_new", lang), summary.new),
        (t("upload_updated", lang), summary.updated),
        (t("upload_unchanged", lang), summary.unchanged),
        (t("upload_rejected", lang), sum(summary.rejected.values())),
    ]
    items += [(f"  {reason} · {REASONS[reason]}", count) for reason, count in summary.rejected.most_common()]
    item, rows = t("admin_item", lang), t("admin_rows", lang)
    return pl.DataFrame(
        {item: [label for label, _ in items], rows: [count for _, count in items]},
        schema={item: pl.String(), rows: pl.Int64()},
    )
