"""The import pipeline: presets on small fixtures, one corrupted fixture per rule, idempotency, atomicity.

Expected values are computed here from the fixture text (or written out by hand for six-row
fixtures), not by the code under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import shapely
import sqlalchemy as sa
from shapely.geometry import shape

from data_access.config.city import DEFAULT_CITY_FILE, load_city
from data_access.contract import schema
from data_access.contract.writer import BatchOutcome
from data_access.ingest import cli
from data_access.ingest import pipeline as ingest
from data_access.ingest.mapping import MappingProblem, load_mapping, preset_path
from data_access.ingest.readers import detect_encoding
from data_access.ingest.regions import load_regions
from data_access.runtime.engine import dispose_engine, get_engine, read_meta
from data_access.runtime.paths import REPO_ROOT

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SF_CITY = REPO_ROOT / "config" / "sf_city.toml"
SHARED_311 = REPO_ROOT.parent / "shared" / "data" / "311"
SHARED_BOUNDARIES = REPO_ROOT.parent / "shared" / "data" / "boundaries"
HZ_MAPPING = FIXTURES / "hz_12345.toml"
HZ_HEADER = (FIXTURES / "hz_12345.csv").read_text(encoding="utf-8").splitlines()[0]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[str, sa.Engine]]:
    url = f"duckdb:///{tmp_path / 'city.duckdb'}"
    yield url, get_engine(url)
    dispose_engine(url)


def run(url: str, *args: str) -> int:
    return cli.main(["--url", url, *args])


def snapshot(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every contract table that exists, sorted: equal snapshots = identical databases."""
    present = set(sa.inspect(engine).get_table_names())
    found: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in schema.metadata.sorted_tables:
            if table.name in present:
                rows = connection.execute(sa.select(table)).all()
                found[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return found


def complaints(engine: sa.Engine) -> pl.DataFrame:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(schema.complaints).order_by(schema.complaints.c.ticket_id)).mappings().all()
    return pl.DataFrame([dict(row) for row in rows], infer_schema_length=None)


def quarantine_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# ---- San Francisco 311 ----------------------------------------------------------------------------


def _sf_records(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _sf_time(text: str) -> dt.datetime:
    for fmt in ("%m/%d/%Y %I:%M:%S %p", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            pass
    raise AssertionError(text)


def test_sf311_preset_loads_the_fixture(db: tuple[str, sa.Engine], tmp_path: Path) -> None:
    url, engine = db
    quarantine = tmp_path / "rejected.csv"
    fixture = FIXTURES / "sf311_sample_50.csv"
    code = run(url, "--table", "complaints", "--preset", "sf311", "--quarantine", str(quarantine), str(fixture))
    assert code == 0
    records = _sf_records(fixture)
    assert len(records) == 50
    loaded = complaints(engine)
    assert loaded.height == 48
    # Record 49 has no Point; record 50 was closed before it was opened.
    assert records[48]["Point"] == ""
    assert _sf_time(records[49]["Closed"]) < _sf_time(records[49]["Opened"])
    assert [(r["row"], r["column"], r["reason"]) for r in quarantine_rows(quarantine)] == [
        ("49", "Point", "unknown_region"),
        ("50", "resolved_at", "time_order"),
    ]
    first = loaded.filter(pl.col("ticket_id") == records[0]["CaseID"]).row(0, named=True)
    # "552109",3600298,"04/30/2014 02:51:52 PM","",...,"Open",...,"PUC - Sewer - G","Sewer Issues","Odor",...
    assert first["received_at"] == dt.datetime(2014, 4, 30, 14, 51, 52)
    assert (first["status"], first["channel"], first["resolved_at"]) == ("办理中", "电话", None)
    assert (first["lat"], first["lon"]) == (37.774007256355, -122.395680023339)
    assert first["category_l1_code"] == "SEWER" and first["time_limit_hours"] == 24.0
    assert first["department_code"] == "PUC" and first["title"] == "Odor"
    # 420 Berry St lies in the South of Market planning neighborhood; its tract is 060700.
    assert (first["district_code"], first["street_code"]) == ("south-of-market", "060700")
    meta = read_meta(engine)
    assert meta["dataset"] == "imported" and meta["city_name"] == "旧金山"
    assert ingest.data_version(engine) == meta["data_version"]


def test_sf_point_and_tract_agree_with_the_source_boundaries() -> None:
    """Every street (tract) region's parent contains the tract's representative point."""
    regions = load_regions(load_city(SF_CITY))
    assert len(regions.levels["district"]) == 37 and len(regions.levels["street"]) == 195
    districts = {r.code: r for r in regions.levels["district"]}
    for street in regions.levels["street"]:
        assert street.parent_code in districts
        parent = districts[street.parent_code].geometry
        assert parent.contains(shapely.Point(street.center_lon, street.center_lat))


@pytest.mark.slow
def test_reimport_changes_nothing_and_a_newer_version_replaces(db: tuple[str, sa.Engine], tmp_path: Path) -> None:
    url, engine = db
    fixture = FIXTURES / "sf311_sample_50.csv"
    args = ["--table", "complaints", "--preset", "sf311", "--quarantine", str(tmp_path / "q.csv")]
    assert run(url, *args, str(fixture)) == 0
    before, version = snapshot(engine), ingest.data_version(engine)
    mapping = load_mapping(preset_path("sf311"))
    summary = ingest.ingest_files(engine, "complaints", mapping, load_city(SF_CITY), [fixture])
    assert (summary.new, summary.updated, summary.unchanged, sum(summary.rejected.values())) == (0, 0, 48, 2)
    assert snapshot(engine) == before
    assert ingest.data_version(engine) == version  # nothing changed: caches stay valid

    # The first record, now closed: one update, the rest unchanged.
    text = fixture.read_text(encoding="utf-8")
    old = '"04/30/2014 02:51:52 PM","","04/30/2014 03:37:59 PM","Open"'
    assert text.count(old) == 1
    newer = tmp_path / "newer.csv"
    newer.write_text(
        text.replace(old, '"04/30/2014 02:51:52 PM","05/02/2014 09:00:00 AM","05/02/2014 09:00:00 AM","Closed"')
    )
    summary = ingest.ingest_files(engine, "complaints", mapping, load_city(SF_CITY), [newer])
    assert (summary.new, summary.updated, summary.unchanged) == (0, 1, 47)
    row = complaints(engine).filter(pl.col("ticket_id") == "3600298").row(0, named=True)
    assert (row["status"], row["resolved_at"]) == ("已关闭", dt.datetime(2014, 5, 2, 9, 0))
    assert complaints(engine).height == 48
    assert ingest.data_version(engine) != version


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_311.is_dir(), reason=f"the real SF 311 samples are not here ({SHARED_311})")
@pytest.mark.parametrize("name", ["sf311_cases_sample_10k.csv", "sf311_cases_sample_5k_geo.csv"])
def test_real_sf_samples_load_end_to_end(db: tuple[str, sa.Engine], tmp_path: Path, name: str) -> None:
    url, engine = db
    source = SHARED_311 / name
    quarantine = tmp_path / "q.csv"
    assert run(url, "--table", "complaints", "--preset", "sf311", "--quarantine", str(quarantine), str(source)) == 0
    records = _sf_records(source)
    closed_early = {
        i + 1
        for i, r in enumerate(records)
        if r["Closed"] not in ("", "NA") and _sf_time(r["Closed"]) < _sf_time(r["Opened"])
    }
    # Points in no neighborhood and no tract, computed on the source boundary files (not the assets copy).
    outlines = []
    for name in ("sf_planning_neighborhoods.geojson", "sf_tracts_with_nhood.geojson"):
        with (SHARED_BOUNDARIES / name).open(encoding="utf-8") as handle:
            outlines += [shape(f["geometry"]) for f in json.load(handle)["features"]]
    city = shapely.union_all(outlines)
    nowhere = set()
    for i, r in enumerate(records):
        point = r["Point"].strip("()")
        if not point:
            nowhere.add(i + 1)
            continue
        lat, lon = (float(v) for v in point.split(","))
        if not city.intersects(shapely.Point(lon, lat)):
            nowhere.add(i + 1)
    rejected = quarantine_rows(quarantine)
    assert {int(r["row"]) for r in rejected if r["reason"] == "time_order"} == closed_early - nowhere
    assert {int(r["row"]) for r in rejected if r["reason"] == "unknown_region"} == nowhere
    assert {r["reason"] for r in rejected} <= {"time_order", "unknown_region"}
    assert complaints(engine).height == len(records) - len(closed_early | nowhere)


# ---- Open311 --------------------------------------------------------------------------------------


def test_open311_preset_converts_times_and_finds_regions(db: tuple[str, sa.Engine], tmp_path: Path) -> None:
    url, engine = db
    quarantine = tmp_path / "q.csv"
    fixture = FIXTURES / "open311_requests.json"
    args = ["--table", "complaints", "--preset", "open311", "--city", str(SF_CITY), "--quarantine", str(quarantine)]
    assert run(url, *args, str(fixture)) == 0
    loaded = complaints(engine)
    assert loaded["ticket_id"].to_list() == ["638344", "638349"]
    first, second = loaded.row(0, named=True), loaded.row(1, named=True)
    # 21:51:52Z is 14:51:52 in San Francisco (PDT, UTC-7); -07:00 times keep their wall time.
    assert first["received_at"] == dt.datetime(2014, 4, 30, 14, 51, 52)
    assert first["resolved_at"] == dt.datetime(2014, 5, 1, 10, 0)
    assert (first["status"], first["channel"], first["district_code"]) == ("已办结", "电话", "south-of-market")
    assert (second["status"], second["channel"], second["received_at"]) == (
        "办理中",
        "网站",
        dt.datetime(2014, 7, 15, 8, 8),
    )
    assert second["department_code"] == ingest_auto_department("未指定部门")
    assert [(r["row"], r["reason"]) for r in quarantine_rows(quarantine)] == [("3", "out_of_bounds")]


def ingest_auto_department(name: str) -> str:
    from data_access.ingest.resolvers import auto_code

    return auto_code("D", name)


# ---- a 12345 export of the demo city: encodings, formats, every rule --------------------------------


def _hz(tmp_path: Path, rows: list[str], name: str = "hz.csv") -> Path:
    path = tmp_path / name
    base = (FIXTURES / "hz_12345.csv").read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([HZ_HEADER, *base[1:], *rows]) + "\n", encoding="utf-8")
    return path


def _hz_load(url: str, tmp_path: Path, file: Path, *extra: str) -> tuple[int, list[dict[str, str]]]:
    quarantine = tmp_path / "q.csv"
    code = run(
        url, "--table", "complaints", "--mapping", str(HZ_MAPPING), "--city", str(DEFAULT_CITY_FILE),
        "--quarantine", str(quarantine), *extra, str(file),
    )  # fmt: skip
    return code, quarantine_rows(quarantine) if quarantine.is_file() else []


def test_hz_fixture_values(db: tuple[str, sa.Engine], tmp_path: Path) -> None:
    url, engine = db
    code, rejected = _hz_load(url, tmp_path, FIXTURES / "hz_12345.csv")
    assert (code, rejected) == (0, [])
    loaded = complaints(engine)
    assert loaded["ticket_id"].to_list() == ["GD001", "GD002", "GD003", "GD004", "GD005", "GD006"]
    assert loaded["channel"].to_list() == ["电话", "微信", "网站", "APP", "电话", "电话"]
    assert loaded["department_code"].to_list() == ["CGJ", "STHJ", "CGJ", "JTJ", "CGJ", "STHJ"]
    assert loaded["contacted"].to_list() == [None, True, True, True, None, True]
    assert loaded["resolved"].to_list() == [None, True, False, False, None, True]
    assert loaded["follow_up"].to_list() == [None, "满意", "基本满意", "不满意", None, "满意"]
    assert loaded["received_at"][2] == dt.datetime(2024, 5, 2, 10, 0)  # the second date format
    assert loaded["street_code"].to_list() == ["330102001", "330102002", None, None, None, None]
    assert loaded["district_code"].to_list() == ["330102", "330102", "330106", "330105", "330108", "330106"]
    assert loaded["time_limit_hours"].to_list() == [168.0] * 6  # [time_limits] complaints of the demo city
    # Categories without codes get stable generated ones; the same name under the same parent, one code.
    assert loaded["category_l1_code"][0] == loaded["category_l1_code"][2] == loaded["category_l1_code"][4]
    assert loaded["category_l2_code"][0] == loaded["category_l2_code"][2] and loaded["category_l2_code"][4] is None
    with engine.connect() as connection:
        names = dict(connection.execute(sa.select(schema.departments.c.code, schema.departments.c.name)).all())
        cats = connection.execute(
            sa.select(schema.categories.c.name, schema.categories.c.level, schema.categories.c.parent_code)
        ).all()
        regions = connection.execute(sa.select(sa.func.count()).select_from(schema.regions)).scalar_one()
    assert names == {"CGJ": "城市管理局", "STHJ": "生态环境局", "JTJ": "交通运输局"}
    assert {(n, lv) for n, lv, _ in cats} == {
        ("交通运输", 1), ("停车", 2), ("城乡建设", 1), ("噪声", 2), ("环境保护", 1), ("路灯", 2)
    }  # fmt: skip
    assert regions == 13 + 116 + 612 + 2424  # every region of the demo city's four layers


@pytest.mark.slow
def test_gbk_file_is_detected_and_loads_the_same(db: tuple[str, sa.Engine], tmp_path: Path) -> None:
    url, engine = db
    assert detect_encoding(FIXTURES / "hz_12345_gbk.csv") == "gb18030"
    assert detect_encoding(FIXTURES / "hz_12345.csv") == "utf-8"
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + (FIXTURES / "hz_12345.csv").read_bytes())
    assert detect_encoding(bom) == "utf-8-sig"
    assert _hz_load(url, tmp_path, FIXTURES / "hz_12345_gbk.csv") == (0, [])
    gbk = complaints(engine)
    other = f"duckdb:///{tmp_path / 'utf8.duckdb'}"
    for source in (FIXTURES / "hz_12345.csv", bom):
        assert _hz_load(other, tmp_path, source)[0] == 0
        assert complaints(get_engine(other)).equals(gbk)
    dispose_engine(other)


@pytest.mark.slow
def test_xlsx_and_parquet_load_the_same_rows(db: tuple[str, sa.Engine], tmp_path: Path) -> None:
    from openpyxl import Workbook

    url, engine = db
    assert _hz_load(url, tmp_path, FIXTURES / "hz_12345.csv")[0] == 0
    expected = complaints(engine)
    with (FIXTURES / "hz_12345.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:  # typed cells, as a spreadsheet holds them
        sheet.append([dt.datetime.fromisoformat(v) if v[:4] == "2024" and "-" in v else (v or None) for v in row])
    book.save(tmp_path / "hz.xlsx")
    frame = pl.read_csv(FIXTURES / "hz_12345.csv", infer_schema=False)
    frame = frame.with_columns(pl.col("纬度").cast(pl.Float64), pl.col("经度").cast(pl.Float64))
    frame.write_parquet(tmp_path / "hz.parquet")
    for name in ("hz.xlsx", "hz.parquet"):
        other = f"duckdb:///{tmp_path / (name + '.duckdb')}"
        code, rejected = _hz_load(other, tmp_path, tmp_path / name)
        assert (code, rejected) == (0, []), name
        assert complaints(get_engine(other)).equals(expected), name
        dispose_engine(other)


GOOD = "GD100,2024-05-06 08:00:00,电话,城乡建设,路灯,路灯不亮,330102,330102001,城管局,办理中,,,,,,"


def corrupt(**fields: str) -> str:
    """GOOD with some fields (by source column name) replaced."""
    values = dict(zip(HZ_HEADER.split(","), GOOD.split(","), strict=True))
    values.update(fields)
    return ",".join(values.values())


RULES = [
    # (corrupted row, column, reason)
    (corrupt(来电时间="2024-13-45 08:00:00"), "received_at", "bad_date"),
    (corrupt(纬度="北纬30", 经度="120.1"), "lat", "bad_number"),
    (corrupt(是否联系="也许"), "contacted", "bad_boolean"),
    (corrupt(渠道="传真"), "channel", "bad_value"),
    (corrupt(纬度="39.9", 经度="116.4"), "lat", "out_of_bounds"),
    (corrupt(区县代码="110101", 街道代码=""), "区县代码", "unknown_region"),
    (corrupt(区县代码="330106"), "region", "region_mismatch"),
    (corrupt(承办部门="水务局"), "department_code", "unknown_department"),
    (corrupt(标题=""), "title", "missing"),
    (corrupt(标题="长" * 257), "title", "too_long"),
    (corrupt(状态="已办结", 办结时间="2024-05-05 08:00:00"), "resolved_at", "time_order"),
    (corrupt(工单编号="GD001"), "ticket_id", "duplicate_id"),
]


@pytest.mark.parametrize(("row", "column", "reason"), RULES, ids=[r for _, _, r in RULES])
def test_each_rule_quarantines_its_corrupted_row(
    db: tuple[str, sa.Engine], tmp_path: Path, row: str, column: str, reason: str
) -> None:
    url, engine = db
    code, rejected = _hz_load(url, tmp_path, _hz(tmp_path, [row, GOOD.replace("GD100", "GD101")]))
    assert code == 0
    assert [(r["row"], r["column"], r["reason"]) for r in rejected] == [("7", column, reason)]
    assert complaints(engine)["ticket_id"].to_list() == ["GD001", "GD002", "GD003", "GD004", "GD005", "GD006", "GD101"]


def test_too_long_counts_characters_not_bytes(db: tuple[str, sa.Engine], tmp_path: Path) -> None:
    """256 three-byte characters fit VARCHAR(256) (768 bytes); 257 do not, nor do 257 one-byte ones."""
    url, engine = db
    rows = [corrupt(工单编号="GD200", 标题="长" * 256), corrupt(工单编号="GD201", 标题="x" * 257)]
    code, rejected = _hz_load(url, tmp_path, _hz(tmp_path, [*rows, corrupt(工单编号="GD202", 标题="长" * 257)]))
    assert code == 0
    assert [(r["row"], r["reason"]) for r in rejected] == [("8", "too_long"), ("9", "too_long")]
    assert "GD200" in complaints(engine)["ticket_id"].to_list()


@pytest.mark.slow
def test_duplicate_across_batches_and_unknown_category_policy(db: tuple[str, sa.Engine], tmp_path: Path) -> None:
    url, engine = db
    file = _hz(tmp_path, [GOOD.replace("GD100", "GD002")])  # row 7 repeats row 2, two batches later
    code, rejected = _hz_load(url, tmp_path, file, "--batch-rows", "2")
    assert code == 0
    assert [(r["row"], r["reason"], r["value"]) for r in rejected] == [("7", "duplicate_id", "GD002 (first at row 2)")]
    assert complaints(engine).height == 6

    strict = tmp_path / "strict.toml"
    strict.write_text(HZ_MAPPING.read_text(encoding="utf-8") + '\n[categories]\nunknown = "reject"\n', "utf-8")
    other = f"duckdb:///{tmp_path / 'strict.duckdb'}"
    quarantine = tmp_path / "strict.csv"
    args = ["--table", "complaints", "--mapping", str(strict), "--city", str(DEFAULT_CITY_FILE)]
    assert cli.main(["--url", other, *args, "--quarantine", str(quarantine), str(FIXTURES / "hz_12345.csv")]) == 1
    assert {r["reason"] for r in quarantine_rows(quarantine)} == {"unknown_category"}  # demo city lists none
    dispose_engine(other)


# ---- mapping problems, nothing valid, interruption --------------------------------------------------


def test_mapping_problems_exit_2_naming_the_fault(
    db: tuple[str, sa.Engine], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, engine = db
    text = HZ_MAPPING.read_text(encoding="utf-8")
    cases = [
        (text.replace('title = "标题"', 'title = "诉求标题"'), "'诉求标题' (for title)"),
        (text.replace('title = "标题"\n', ""), "required column complaints.title has no source column"),
        (text.replace('"12345APP" = "APP"', '"12345APP" = "手机"'), "'手机' is not allowed"),
        (text.replace("[region]", "[regions]"), "unknown section [regions]"),
        (text.replace('method = "code"', 'method = "gps"'), "method = 'gps' must be one of code, name, point"),
    ]
    for body, message in cases:
        mapping = tmp_path / "m.toml"
        mapping.write_text(body, "utf-8")
        args = ["--table", "complaints", "--mapping", str(mapping), "--city", str(DEFAULT_CITY_FILE)]
        assert run(url, *args, str(FIXTURES / "hz_12345.csv")) == 2
        assert message in capsys.readouterr().err
    with pytest.raises(MappingProblem, match="unknown preset 'nyc'"):
        preset_path("nyc")
    assert "complaints" not in set(sa.inspect(engine).get_table_names()) or complaints(engine).height == 0


@pytest.mark.slow
def test_nothing_valid_exits_1_and_writes_nothing(db: tuple[str, sa.Engine], tmp_path: Path) -> None:
    url, engine = db
    assert _hz_load(url, tmp_path, FIXTURES / "hz_12345.csv")[0] == 0
    before = snapshot(engine)
    bad = tmp_path / "bad.csv"
    bad.write_text(HZ_HEADER + "\n" + RULES[0][0] + "\n" + RULES[3][0].replace("GD100", "GD101") + "\n", "utf-8")
    code, rejected = _hz_load(url, tmp_path, bad)
    assert code == 1
    assert [r["reason"] for r in rejected] == ["bad_date", "bad_value"]
    assert snapshot(engine) == before


@pytest.mark.slow
def test_interrupted_load_leaves_the_database_exactly_as_before(
    db: tuple[str, sa.Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = db
    assert _hz_load(url, tmp_path, FIXTURES / "hz_12345.csv")[0] == 0
    before = snapshot(engine)
    newer = tmp_path / "newer.csv"
    text = (FIXTURES / "hz_12345.csv").read_text(encoding="utf-8").replace("办理中", "已关闭")
    newer.write_text(text + GOOD + "\n", "utf-8")
    calls = {"n": 0}
    original = ingest.FactWriter.write

    def failing(self: ingest.FactWriter, frame: pl.DataFrame) -> BatchOutcome:
        calls["n"] += 1
        if calls["n"] == 3:  # halfway: two batches of two rows are in, the third fails
            raise RuntimeError("disk full (injected)")
        return original(self, frame)

    monkeypatch.setattr(ingest.FactWriter, "write", failing)
    mapping = load_mapping(HZ_MAPPING)
    with pytest.raises(RuntimeError, match="injected"):
        ingest.ingest_files(engine, "complaints", mapping, load_city(), [newer], batch_rows=2)
    assert calls["n"] == 3
    assert snapshot(engine) == before
    monkeypatch.setattr(ingest.FactWriter, "write", original)
    summary = ingest.ingest_files(engine, "complaints", mapping, load_city(), [newer], batch_rows=2)
    assert (summary.new, summary.updated, summary.unchanged) == (1, 2, 4)


def test_refuses_the_demo_database_and_another_city(db: tuple[str, sa.Engine]) -> None:
    _, engine = db
    schema.create_schema(engine)
    with engine.begin() as connection:
        connection.execute(schema.cockpit_meta.insert(), [{"key": "dataset", "value": "demo"}])
    mapping = load_mapping(preset_path("sf311"))
    with pytest.raises(ingest.IngestProblem, match="holds the generated demo city"):
        ingest.ingest_files(engine, "complaints", mapping, load_city(SF_CITY), [FIXTURES / "sf311_sample_50.csv"])
    with engine.begin() as connection:
        connection.execute(schema.cockpit_meta.delete())
        connection.execute(schema.cockpit_meta.insert(), [{"key": "city_name", "value": "杭州市"}])
    with pytest.raises(ingest.IngestProblem, match="holds 杭州市, not 旧金山"):
        ingest.ingest_files(engine, "complaints", mapping, load_city(SF_CITY), [FIXTURES / "sf311_sample_50.csv"])


def test_quarantine_defaults_next_to_the_input(db: tuple[str, sa.Engine], tmp_path: Path) -> None:
    url, _ = db
    source = tmp_path / "sf.csv"
    shutil.copy(FIXTURES / "sf311_sample_50.csv", source)
    assert run(url, "--table", "complaints", "--preset", "sf311", str(source)) == 0
    assert len(quarantine_rows(tmp_path / "sf.csv.rejected.csv")) == 2
