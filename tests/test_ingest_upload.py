"""The admin page's import: the pure upload function, and the page itself driven through AppTest."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard.admin.upload import Upload, run_upload, safe_name, summary_rows
from data_access.config.city import DEFAULT_CITY_FILE, load_city
from data_access.contract import schema
from data_access.runtime.engine import dispose_engine, get_engine
from tests.test_ingest import FIXTURES, HZ_MAPPING, corrupt, snapshot

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "streamlit_app.py")
HZ_CSV = (FIXTURES / "hz_12345.csv").read_bytes()
BAD_ROW = corrupt(工单编号="GD200", 渠道="传真")  # channel 传真 is not allowed: bad_value


def _with_bad_row() -> bytes:
    return HZ_CSV.rstrip(b"\n") + b"\n" + BAD_ROW.encode("utf-8") + b"\n"


@pytest.fixture
def empty_db(tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"duckdb:///{tmp_path / 'upload.duckdb'}"
    yield get_engine(url)
    dispose_engine(url)


def _ticket_ids(engine: sa.Engine) -> list[str]:
    if "complaints" not in sa.inspect(engine).get_table_names():
        return []
    with engine.connect() as connection:
        return list(connection.execute(sa.select(schema.complaints.c.ticket_id).order_by("ticket_id")).scalars())


def test_upload_loads_and_quarantines(empty_db: sa.Engine) -> None:
    mapping = Upload("hz.toml", HZ_MAPPING.read_bytes())
    result = run_upload(
        empty_db,
        "complaints",
        load_city(DEFAULT_CITY_FILE),
        [Upload("工单.csv", _with_bad_row())],
        mapping_file=mapping,
    )
    assert result.error is None and result.ok
    summary = result.summary
    assert summary is not None
    assert (summary.read, summary.new, summary.updated, summary.unchanged) == (7, 6, 0, 0)
    assert dict(summary.rejected) == {"bad_value": 1}
    assert _ticket_ids(empty_db) == ["GD001", "GD002", "GD003", "GD004", "GD005", "GD006"]
    assert result.quarantine_csv is not None
    rows = list(csv.DictReader(io.StringIO(result.quarantine_csv.decode("utf-8"))))
    # The quarantine names the file as uploaded, not the scratch copy.
    assert rows == [{"file": "工单.csv", "row": "7", "column": "channel", "reason": "bad_value", "value": "传真"}]
    table = summary_rows(summary, "en")
    counts = dict(zip(table["Item"].to_list(), table["Rows"].to_list(), strict=True))
    assert (counts["Read"], counts["Loaded (new)"], counts["Rejected"]) == (7, 6, 1)

    again = run_upload(
        empty_db,
        "complaints",
        load_city(DEFAULT_CITY_FILE),
        [Upload("工单.csv", _with_bad_row())],
        mapping_file=mapping,
    )
    assert again.summary is not None and (again.summary.new, again.summary.unchanged) == (0, 6)


def test_upload_problems_name_the_fault_and_write_nothing(empty_db: sa.Engine) -> None:
    city = load_city(DEFAULT_CITY_FILE)
    files = [Upload("hz.csv", HZ_CSV)]
    wrong = HZ_MAPPING.read_text(encoding="utf-8").replace('title = "标题"', 'title = "诉求标题"')
    result = run_upload(empty_db, "complaints", city, files, mapping_file=Upload("my.toml", wrong.encode("utf-8")))
    assert result.error is not None and "'诉求标题' (for title)" in result.error
    assert "hz.csv" in result.error and "cockpit-upload-" not in result.error  # the user's names, not scratch paths
    result = run_upload(empty_db, "grid_events", city, files, mapping_file=Upload("hz.toml", HZ_MAPPING.read_bytes()))
    assert result.error is not None and "for table 'complaints', not 'grid_events'" in result.error
    result = run_upload(empty_db, "complaints", city, [Upload("hz.csv", b"\xff\xfe\x00garbage")], preset="sf311")
    assert result.error is not None
    assert run_upload(empty_db, "complaints", city, [], preset="sf311").error is not None
    assert _ticket_ids(empty_db) == []


def test_safe_name_keeps_the_extension() -> None:
    assert safe_name("../../etc/工单 2024.CSV", 3) == "03_工单_2024.csv"
    assert safe_name("...", 0) == "00_upload"


def _admin(monkeypatch: pytest.MonkeyPatch, engine: sa.Engine, tmp_path: Path) -> AppTest:
    monkeypatch.setenv("COCKPIT_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("COCKPIT_CITY", raising=False)
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page("pages/admin.py").run()
    return at


@pytest.mark.slow
def test_admin_page_imports_uploaded_files(
    empty_db: sa.Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = _admin(monkeypatch, empty_db, tmp_path)
    assert not at.exception, [e.value for e in at.exception]
    at.radio(key="upload_mapping_kind").set_value("file").run()
    at.file_uploader(key="upload_mapping").set_value(("hz.toml", HZ_MAPPING.read_bytes(), "application/toml"))
    at.file_uploader(key="upload_files").set_value([("hz.csv", _with_bad_row(), "text/csv")])
    at.button(key="upload_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("导入完成" in s.value for s in at.success), [e.value for e in at.error]
    frames = [d.value for d in at.dataframe]
    summary = next(f for f in frames if "项目" in f.columns and "读取" in f["项目"].to_list())
    counts = dict(zip(summary["项目"].to_list(), summary["行数"].to_list(), strict=True))
    assert (counts["读取"], counts["新增"], counts["拒收"]) == (7, 6, 1)
    assert [b.key for b in at.get("download_button") if b.key == "upload_quarantine"] == ["upload_quarantine"]
    assert _ticket_ids(empty_db) == ["GD001", "GD002", "GD003", "GD004", "GD005", "GD006"]
    # The rest of the page now sees the imported data (it stopped on the empty database before).
    tables = next(f for f in frames if "表" in f.columns)
    assert dict(zip(tables["表"].to_list(), tables["行数"].to_list(), strict=True))["complaints"] == "6"


@pytest.mark.slow
def test_admin_page_shows_a_wrong_mapping(empty_db: sa.Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = _admin(monkeypatch, empty_db, tmp_path)
    at.radio(key="upload_mapping_kind").set_value("file").run()
    wrong = HZ_MAPPING.read_text(encoding="utf-8").replace('method = "code"', 'method = "gps"')
    at.file_uploader(key="upload_mapping").set_value(("bad.toml", wrong.encode("utf-8"), "application/toml"))
    at.file_uploader(key="upload_files").set_value([("hz.csv", HZ_CSV, "text/csv")])
    at.button(key="upload_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any("bad.toml" in e and "method = 'gps' must be one of code, name, point" in e for e in errors), errors
    assert _ticket_ids(empty_db) == []


@pytest.mark.slow
def test_admin_page_refuses_the_demo_database(
    empty_db: sa.Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    schema.create_schema(empty_db)
    with empty_db.begin() as connection:
        connection.execute(schema.cockpit_meta.insert(), [{"key": "dataset", "value": "demo"}])
    before = snapshot(empty_db)
    at = _admin(monkeypatch, empty_db, tmp_path)
    at.selectbox(key="upload_preset").set_value("sf311").run()
    at.file_uploader(key="upload_files").set_value(
        [("sf.csv", (FIXTURES / "sf311_sample_50.csv").read_bytes(), "text/csv")]
    )
    at.button(key="upload_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any("未写入任何数据" in e and "holds the generated demo city" in e for e in errors), errors
    assert snapshot(empty_db) == before
