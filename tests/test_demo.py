"""The demo city generator and its map: determinism, invariants, anomalies, and refusing to clobber data."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
import shapely
import sqlalchemy as sa
from shapely.geometry import shape

from data_access.contract import schema
from data_access.contract.replace import STAGE_PREFIX, ContractReplacement
from data_access.demo import cli, generate
from data_access.runtime import engine as db

SCALE = 0.01
SEED = 7
END = dt.date(2025, 6, 30)
GEO_DIR = Path(__file__).resolve().parent.parent / "assets" / "geo" / "hangzhou"
CONTENT_TABLES = ("regions", "departments", "categories", "targets", "service_cases", "complaints", "grid_events",
                  "demo_anomalies")  # fmt: skip
# Coordinates are rounded to 1e-5 degrees after clipping, so a child may poke out of its parent by about a metre.
TOLERANCE = 2e-5


def _generate(path: Path, seed: int = SEED, **kwargs: Any) -> generate.DemoSummary:
    url = f"duckdb:///{path}"
    try:
        return generate.generate_demo(db.get_engine(url), scale=SCALE, seed=seed, end=END, **kwargs)
    finally:
        db.dispose_engine(url)


def _read(path: Path) -> dict[str, pl.DataFrame]:
    """Every contract table as a polars frame (the engine is disposed, so DuckDB can reopen the file)."""
    with duckdb.connect(str(path), read_only=True) as connection:
        return {name: connection.sql(f"SELECT * FROM {name}").pl() for name in (*CONTENT_TABLES, "cockpit_meta")}


@pytest.fixture(scope="module")
def demo_db(demo_city_copy: Path, demo_city_summary: generate.DemoSummary) -> Path:
    """The run's shared demo city (tests/conftest.py generates it with this module's SCALE, SEED and END)."""
    summary = demo_city_summary
    assert summary.complaints > 0 and summary.service_cases > 0 and summary.grid_events > 0
    return demo_city_copy


@pytest.fixture(scope="module")
def tables(demo_db: Path) -> dict[str, pl.DataFrame]:
    return _read(demo_db)


@pytest.fixture(scope="module")
def grids() -> dict[str, Any]:
    with (GEO_DIR / "grids.geojson").open(encoding="utf-8") as handle:
        return {f["properties"]["code"]: shape(f["geometry"]) for f in json.load(handle)["features"]}


def _layer(name: str) -> list[dict[str, Any]]:
    with (GEO_DIR / f"{name}.geojson").open(encoding="utf-8") as handle:
        features: list[dict[str, Any]] = json.load(handle)["features"]
    return features


# ---------------------------------------------------------------------------- determinism


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


@pytest.mark.slow
def test_same_seed_gives_identical_tables_and_other_seed_differs(demo_db: Path, tmp_path: Path) -> None:
    first = _read(demo_db)
    _generate(tmp_path / "again.duckdb")
    again = _read(tmp_path / "again.duckdb")
    for name in CONTENT_TABLES:
        assert _sorted(first[name]).equals(_sorted(again[name])), f"{name} differs between two runs"
    meta_first = dict(first["cockpit_meta"].iter_rows())
    meta_again = dict(again["cockpit_meta"].iter_rows())
    meta_first.pop("generated_at"), meta_again.pop("generated_at")
    # Each generation is new data for the app's caches: a data version of its own, like an import's.
    assert meta_first.pop("data_version") != meta_again.pop("data_version")
    assert meta_first == meta_again

    _generate(tmp_path / "other.duckdb", seed=SEED + 1)
    other = _read(tmp_path / "other.duckdb")
    assert not _sorted(first["complaints"]).equals(_sorted(other["complaints"]))
    assert not _sorted(first["service_cases"]).equals(_sorted(other["service_cases"]))


# ---------------------------------------------------------------------------- volumes and meta


def test_volumes_scale_and_meta(tables: dict[str, pl.DataFrame]) -> None:
    # Scale 1.0 is ~400k service cases, ~330k complaints, ~300k grid events over two years.
    assert 3_600 <= tables["service_cases"].height <= 4_400
    assert 3_000 <= tables["complaints"].height <= 3_900
    assert 2_700 <= tables["grid_events"].height <= 3_300
    meta = dict(tables["cockpit_meta"].iter_rows())
    assert meta["dataset"] == "demo"
    assert meta["city_name"] == "杭州市"
    assert meta["seed"] == str(SEED) and float(meta["scale"]) == SCALE and meta["end_date"] == END.isoformat()
    horizon = dt.datetime.combine(END + dt.timedelta(days=1), dt.time())
    first_day = dt.datetime.combine(END - dt.timedelta(days=729), dt.time())
    latest = max(
        tables[name].select(pl.col(pl.Datetime).max()).max_horizontal().item()
        for name in ("service_cases", "complaints", "grid_events")
    )
    assert meta["as_of"] == latest.isoformat(timespec="seconds")
    assert latest < horizon
    for name, column in (
        ("service_cases", "submitted_at"),
        ("complaints", "received_at"),
        ("grid_events", "collected_at"),
    ):
        times: list[dt.datetime] = tables[name].get_column(column).to_list()
        assert min(times) >= first_day and max(times) < horizon


def test_dimensions(tables: dict[str, pl.DataFrame]) -> None:
    regions = tables["regions"]
    counts = dict(regions.group_by("level").len().iter_rows())
    assert counts["district"] == 13
    assert 100 <= counts["street"] <= 130 and 500 <= counts["community"] <= 700 and 2_000 <= counts["grid"] <= 2_500
    districts = regions.filter(pl.col("level") == "district")
    assert min(districts.get_column("population").to_list()) >= 300_000
    # Children's populations add up to their parent's.
    sums = regions.filter(pl.col("parent_code").is_not_null()).group_by("parent_code").agg(pl.col("population").sum())
    joined = sums.join(regions.select("code", "population"), left_on="parent_code", right_on="code")
    assert (joined.get_column("population") == joined.get_column("population_right")).all()
    assert tables["departments"].height >= 14
    categories = tables["categories"]
    complaint_l3 = categories.filter((pl.col("domain") == "complaints") & (pl.col("level") == 3))
    assert complaint_l3.height == 517
    assert complaint_l3.get_column("code").str.contains(r"^C\d{2}\.\d{2}\.\d{3}$").all()
    grid_codes = categories.filter(pl.col("domain") == "grid_events").get_column("code")
    assert grid_codes.str.contains(r"^G[PE]\d{2}(\.\d{2})?$").all()
    allowed_metrics = {"complaint_on_time_rate", "service_on_time_rate", "grid_closure_rate",
                       "complaint_satisfaction_rate", "service_online_share"}  # fmt: skip
    assert set(tables["targets"].get_column("metric")) <= allowed_metrics
    assert tables["targets"].height >= 3


# ---------------------------------------------------------------------------- invariants


def _never_before(frame: pl.DataFrame, later: str, earlier: str) -> int:
    return frame.filter(pl.col(later) < pl.col(earlier)).height


def test_complaint_invariants(tables: dict[str, pl.DataFrame]) -> None:
    c = tables["complaints"]
    for column in ("first_response_at", "resolved_at", "closed_at"):
        assert _never_before(c, column, "received_at") == 0
    assert _never_before(c, "resolved_at", "first_response_at") == 0
    assert _never_before(c, "closed_at", "resolved_at") == 0
    status = c.get_column("status")
    assert set(status.unique()) <= {"办理中", "已办结", "已关闭"}
    assert c.filter((pl.col("status") == "已关闭") != pl.col("closed_at").is_not_null()).height == 0
    assert c.filter((pl.col("status") == "办理中") != pl.col("resolved_at").is_null()).height == 0
    assert c.filter(pl.col("follow_up").is_not_null() & (pl.col("status") != "已关闭")).height == 0
    assert set(c.get_column("time_limit_hours").unique()) <= {2.0, 24.0, 168.0, 360.0}
    assert c.get_column("ticket_id").n_unique() == c.height
    repeat_share = c.get_column("repeat_of").is_not_null().mean()
    assert repeat_share is not None and 0.03 <= float(repeat_share) <= 0.08  # type: ignore[arg-type]
    # A repeat points at an earlier ticket at the same grid and category.
    originals = c.select("ticket_id", "grid_code", "category_l3_code", "received_at")
    repeats = c.filter(pl.col("repeat_of").is_not_null()).join(
        originals, left_on="repeat_of", right_on="ticket_id", suffix="_orig", how="left"
    )
    assert repeats.get_column("grid_code_orig").null_count() == 0
    assert (repeats.get_column("grid_code") == repeats.get_column("grid_code_orig")).all()
    assert (repeats.get_column("category_l3_code") == repeats.get_column("category_l3_code_orig")).all()
    assert (repeats.get_column("received_at") >= repeats.get_column("received_at_orig")).all()


def test_complaint_descriptions_hold_personal_data_to_mask(tables: dict[str, pl.DataFrame]) -> None:
    text = tables["complaints"].get_column("description")
    phone = text.str.contains(r"(^|[^0-9])1[3-9]\d{9}([^0-9]|$)")
    id_number = text.str.contains(r"\d{17}[\dX]")
    home = text.str.contains("家住")
    share = float((phone | id_number | home).mean())  # type: ignore[arg-type]
    assert 0.03 <= share <= 0.08
    assert phone.sum() > 0 and id_number.sum() > 0 and home.sum() > 0


def test_service_case_invariants(tables: dict[str, pl.DataFrame]) -> None:
    s = tables["service_cases"]
    assert _never_before(s, "completed_at", "submitted_at") == 0
    assert _never_before(s, "accepted_at", "submitted_at") == 0
    assert _never_before(s, "completed_at", "accepted_at") == 0
    assert (s.get_column("promised_limit_hours") < s.get_column("legal_limit_hours")).all()
    done = s.filter(pl.col("status") == "已办结")
    assert s.filter((pl.col("status") == "办理中") != pl.col("completed_at").is_null()).height == 0
    overdue = done.select(
        (
            (pl.col("completed_at") - pl.col("submitted_at")).dt.total_seconds() > pl.col("promised_limit_hours") * 3600
        ).mean()
    ).item()
    assert 0.02 <= overdue <= 0.10
    rated = done.get_column("rating").is_not_null().mean()
    assert 0.5 <= float(rated) <= 0.7  # type: ignore[arg-type]
    assert s.filter(pl.col("rating").is_not_null() & (pl.col("status") != "已办结")).height == 0
    # Fewer cases at weekends than on weekdays.
    weekday = s.get_column("submitted_at").dt.weekday()
    weekend_daily, weekday_daily = int((weekday >= 6).sum()) / 2, int((weekday <= 5).sum()) / 5
    assert weekend_daily < 0.5 * weekday_daily


def test_grid_workflow_is_ordered(tables: dict[str, pl.DataFrame]) -> None:
    g = tables["grid_events"]
    stages = [column for _, column in schema.GRID_WORKFLOW]
    for earlier, later in itertools.pairwise(stages):
        assert _never_before(g, later, earlier) == 0, f"{later} before {earlier}"
        # Once a stage is missing, every later stage is missing too.
        assert g.filter(pl.col(earlier).is_null() & pl.col(later).is_not_null()).height == 0
    assert g.filter((pl.col("side_state") == "回退") & (pl.col("rework_count") < 1)).height == 0
    assert float((g.get_column("rework_count") == 0).mean()) > 0.9  # type: ignore[arg-type]
    assert g.get_column("reporter_id").str.starts_with("W").all()
    assert (g.get_column("reporter_id").str.slice(1, 15) == g.get_column("grid_code")).all()


def test_fact_regions_follow_the_hierarchy(tables: dict[str, pl.DataFrame]) -> None:
    regions = tables["regions"]
    parent = dict(zip(regions.get_column("code"), regions.get_column("parent_code"), strict=True))
    level = dict(zip(regions.get_column("code"), regions.get_column("level"), strict=True))
    chains = {
        "complaints": ("grid_code", "community_code", "street_code", "district_code"),
        "grid_events": ("grid_code", "community_code", "street_code", "district_code"),
        "service_cases": ("street_code", "district_code"),
    }
    for name, columns in chains.items():
        frame = tables[name].select(columns).unique()
        for row in frame.iter_rows():
            for child, up in itertools.pairwise(row):
                assert parent[child] == up, f"{name}: {child} is not in {up}"
            assert level[row[-1]] == "district"


def test_points_lie_in_their_grid(tables: dict[str, pl.DataFrame], grids: dict[str, Any]) -> None:
    for name in ("complaints", "grid_events"):
        sample = tables[name].sample(400, seed=1)
        for code, lon, lat in sample.select("grid_code", "lon", "lat").iter_rows():
            assert grids[code].contains(shapely.Point(lon, lat)), f"{name}: point {lon},{lat} outside {code}"


# ---------------------------------------------------------------------------- GeoJSON


@pytest.mark.slow
def test_geojson_hierarchy_and_containment() -> None:
    layers = {name: _layer(name) for name in ("districts", "streets", "communities", "grids")}
    counts = {name: len(features) for name, features in layers.items()}
    assert counts["districts"] == 13
    assert 100 <= counts["streets"] <= 130 and 500 <= counts["communities"] <= 700 and 2_000 <= counts["grids"] <= 2_500
    shapes: dict[str, Any] = {}
    for name, level in (
        ("districts", "district"),
        ("streets", "street"),
        ("communities", "community"),
        ("grids", "grid"),
    ):
        names_by_parent: dict[str | None, set[str]] = {}
        for feature in layers[name]:
            props = feature["properties"]
            geometry = shape(feature["geometry"])
            assert props["level"] == level and geometry.is_valid and not geometry.is_empty
            assert geometry.contains(shapely.Point(props["center"]))
            siblings = names_by_parent.setdefault(props["parent_code"], set())
            assert props["name"] not in siblings, f"duplicate name {props['name']} under {props['parent_code']}"
            siblings.add(props["name"])
            if level == "district":
                assert props["parent_code"] is None and len(props["code"]) == 6
            else:
                assert (
                    props["code"][:-3] == props["parent_code"] and len(props["code"]) == len(props["parent_code"]) + 3
                )
                assert shapes[props["parent_code"]].buffer(TOLERANCE).covers(geometry), props["code"]
            shapes[props["code"]] = geometry
    # Every grid also lies in its district (the statement the map drill-down relies on).
    for feature in layers["grids"]:
        code = feature["properties"]["code"]
        assert shapes[code[:6]].buffer(TOLERANCE).covers(shapes[code])
    # Streets tile their district: no real gaps.
    union = shapely.union_all([shapes[f["properties"]["code"]] for f in layers["streets"]])
    districts = shapely.union_all([shapes[f["properties"]["code"]] for f in layers["districts"]])
    assert districts.difference(union).area < 1e-4 * districts.area
    rural = [f["properties"]["name"] for f in layers["streets"] if f["properties"]["code"][:6] == "330127"]
    urban = [f["properties"]["name"] for f in layers["streets"] if f["properties"]["code"][:6] == "330102"]
    assert all(n.endswith("镇") for n in rural) and all(n.endswith("街道") for n in urban)
    assert len(urban) > len(rural)


def test_geojson_sizes() -> None:
    sizes = {path.name: path.stat().st_size for path in GEO_DIR.glob("*.geojson")}
    assert sizes["grids.geojson"] <= 4_000_000
    assert sum(sizes.values()) <= 6_000_000
    assert "GCJ-02" in (GEO_DIR / "ATTRIBUTION.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- anomalies


def test_every_anomaly_kind_is_recorded(tables: dict[str, pl.DataFrame]) -> None:
    kinds = dict(tables["demo_anomalies"].group_by("kind").len().iter_rows())
    assert kinds["surge"] >= 4 and kinds["overdue_jump"] >= 2 and kinds["repeat_cluster"] >= 3 and kinds["stall"] >= 2
    starts: list[dt.datetime] = tables["demo_anomalies"].get_column("start_at").to_list()
    assert max(starts) - min(starts) > dt.timedelta(days=365)  # spread over the two years


def _per_day(frame: pl.DataFrame, column: str, start: dt.datetime, end: dt.datetime) -> float:
    days = (end - start).total_seconds() / 86400
    return frame.filter((pl.col(column) >= start) & (pl.col(column) < end)).height / days


def test_surges_raise_their_street_and_category(tables: dict[str, pl.DataFrame]) -> None:
    surges = tables["demo_anomalies"].filter(pl.col("kind") == "surge")
    for street, category, start, end in surges.select("region_code", "category_code", "start_at", "end_at").iter_rows():
        tickets = tables["complaints"].filter(
            (pl.col("street_code") == street) & (pl.col("category_l3_code") == category)
        )
        during = _per_day(tickets, "received_at", start, end)
        before = _per_day(tickets, "received_at", start - dt.timedelta(days=28), start)
        assert during >= 1.0 and during >= 3 * before + 0.5, (street, category, during, before)


def test_repeat_clusters_chain_at_one_address(tables: dict[str, pl.DataFrame]) -> None:
    clusters = tables["demo_anomalies"].filter(pl.col("kind") == "repeat_cluster")
    for community, category, start, end in clusters.select(
        "region_code", "category_code", "start_at", "end_at"
    ).iter_rows():
        tickets = tables["complaints"].filter(
            (pl.col("community_code") == community)
            & (pl.col("category_l3_code") == category)
            & (pl.col("received_at") >= start)
            & (pl.col("received_at") < end)
            & pl.col("description").str.starts_with("市民再次反映")
        )
        ids = set(tickets.get_column("ticket_id"))
        chained = tickets.filter(pl.col("repeat_of").is_in(list(ids)))
        assert chained.height >= 10
        assert chained.get_column("address").n_unique() == 1


def test_overdue_jumps_raise_the_overdue_rate(tables: dict[str, pl.DataFrame]) -> None:
    jumps = tables["demo_anomalies"].filter(pl.col("kind") == "overdue_jump")
    cases = (
        tables["service_cases"]
        .filter(pl.col("status") == "已办结")
        .with_columns(
            overdue=(pl.col("completed_at") - pl.col("submitted_at")).dt.total_seconds()
            > pl.col("promised_limit_hours") * 3600
        )
    )
    for department, start, end in jumps.select("department_code", "start_at", "end_at").iter_rows():
        own = cases.filter(pl.col("department_code") == department)
        during = own.filter((pl.col("submitted_at") >= start) & (pl.col("submitted_at") < end))
        outside = own.filter((pl.col("submitted_at") < start) | (pl.col("submitted_at") >= end + dt.timedelta(days=30)))
        assert during.height >= 5
        assert float(during.get_column("overdue").mean()) >= 0.2  # type: ignore[arg-type]
        assert float(outside.get_column("overdue").mean()) <= 0.1  # type: ignore[arg-type]


def test_stalls_hold_events_at_their_stage(tables: dict[str, pl.DataFrame]) -> None:
    stalls = tables["demo_anomalies"].filter(pl.col("kind") == "stall")
    columns = dict(schema.GRID_WORKFLOW)
    before = {"handle": "dispatched_at", "verify": "feedback_at"}
    for grid, start, end, note in stalls.select("region_code", "start_at", "end_at", "note").iter_rows():
        stage = next(key for key in before if f"stage={key}" in note)
        events = tables["grid_events"].filter(
            (pl.col("grid_code") == grid) & (pl.col("collected_at") >= start) & (pl.col("collected_at") < end)
        )
        assert events.height >= 5
        waited = events.filter(pl.col(before[stage]).is_not_null()).select(
            (pl.coalesce(pl.col(columns[stage]), pl.lit(dt.datetime(2100, 1, 1))) >= end).all()
        )
        assert waited.item(), f"events in {grid} moved past stage {stage} before the stall ended"


# ---------------------------------------------------------------------------- safety and CLI


def test_refuses_to_overwrite_real_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "real.duckdb"
    url = f"duckdb:///{path}"
    engine = db.get_engine(url)
    schema.create_schema(engine)
    with engine.begin() as connection:
        connection.execute(
            schema.complaints.insert(),
            {
                "ticket_id": "REAL-1",
                "received_at": dt.datetime(2025, 1, 1, 9),
                "channel": "电话",
                "category_l1_code": "X",
                "title": "真实工单",
                "district_code": "330102",
                "department_code": "D",
                "time_limit_hours": 168.0,
                "status": "办理中",
            },
        )
    assert not generate.is_demo_database(engine)
    assert generate.ensure_demo(engine) is False
    with pytest.raises(generate.DemoRefused, match="--force"):
        generate.generate_demo(engine, scale=SCALE, end=END)
    db.dispose_engine(url)
    assert cli.main(["--url", url, "--scale", str(SCALE), "--end", END.isoformat()]) == 2
    error = capsys.readouterr().err
    assert str(path) in error and "--force" in error and "Traceback" not in error
    with duckdb.connect(str(path), read_only=True) as connection:
        assert connection.sql("SELECT ticket_id FROM complaints").fetchall() == [("REAL-1",)]


@pytest.mark.slow
def test_force_replaces_and_demo_regenerates(tmp_path: Path) -> None:
    path = tmp_path / "forced.duckdb"
    url = f"duckdb:///{path}"
    engine = db.get_engine(url)
    schema.create_schema(engine)
    with engine.begin() as connection:
        connection.execute(schema.cockpit_meta.insert(), {"key": "dataset", "value": "real"})
        connection.execute(schema.departments.insert(), {"code": "D", "name": "x"})
        connection.execute(
            schema.service_cases.insert(),
            {
                "case_id": "REAL",
                "service_item_code": "S",
                "service_item_name": "n",
                "department_code": "D",
                "district_code": "330102",
                "channel": "窗口",
                "applicant_type": "个人",
                "submitted_at": dt.datetime(2025, 1, 1),
                "promised_limit_hours": 1.0,
                "legal_limit_hours": 2.0,
                "status": "办理中",
            },
        )
    db.dispose_engine(url)
    assert cli.main(["--url", url, "--scale", "0.002", "--end", END.isoformat(), "--force"]) == 0
    engine = db.get_engine(url)
    assert generate.is_demo_database(engine)
    with engine.connect() as connection:
        ids = connection.execute(sa.select(schema.service_cases.c.case_id)).scalars().all()
        meta = dict(connection.execute(sa.select(schema.cockpit_meta.c.key, schema.cockpit_meta.c.value)).all())
    assert "REAL" not in ids and len(ids) > 100
    assert meta["dataset"] == "demo"
    # A demo database may be regenerated without --force; rows are replaced, not appended.
    summary = generate.generate_demo(engine, scale=0.002, end=END)
    with engine.connect() as connection:
        count = connection.execute(sa.select(sa.func.count()).select_from(schema.service_cases)).scalar_one()
    assert count == summary.service_cases == len(ids)
    db.dispose_engine(url)


def test_ensure_demo_only_fills_empty_databases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[sa.Engine] = []

    def fake_generate(engine: sa.Engine, **kwargs: Any) -> None:
        calls.append(engine)

    monkeypatch.setattr(generate, "generate_demo", fake_generate)
    url = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    engine = db.get_engine(url)
    assert generate.ensure_demo(engine) is True and calls == [engine]
    schema.create_schema(engine)
    assert generate.ensure_demo(engine) is True and len(calls) == 2
    db.dispose_engine(url)


def test_ensure_demo_leaves_filled_database(demo_db: Path) -> None:
    url = f"duckdb:///{demo_db}"
    try:
        engine = db.get_engine(url)
        assert generate.is_demo_database(engine)
        assert generate.ensure_demo(engine) is False
    finally:
        db.dispose_engine(url)


def test_unreachable_database_is_a_clean_error(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"
    assert cli.main(["--url", url, "--scale", str(SCALE)]) == 2
    error = capsys.readouterr().err
    assert "Cannot connect" in error and "Traceback" not in error


def _generate_small(path: Path, seed: int = SEED) -> generate.DemoSummary:
    url = f"duckdb:///{path}"
    try:
        return generate.generate_demo(db.get_engine(url), scale=0.002, seed=seed, end=END)
    finally:
        db.dispose_engine(url)


def _table_names(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return {name for (name,) in connection.sql("SELECT table_name FROM duckdb_tables()").fetchall()}


@pytest.mark.slow
@pytest.mark.parametrize("where", ["generating", "swapping"])
def test_failed_regeneration_leaves_the_previous_demo_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    path = tmp_path / "kept.duckdb"
    _generate_small(path)
    before = _read(path)
    assert before["service_cases"].height > 100
    calls = itertools.count()

    if where == "generating":  # halfway through the fact chunks, with Parquet parts already written
        real_chunk = generate.grid_event_chunk

        def failing_chunk(*args: Any, **kwargs: Any) -> pl.DataFrame:
            if next(calls) == 5:
                raise RuntimeError("injected failure")
            return real_chunk(*args, **kwargs)

        monkeypatch.setattr(generate, "grid_event_chunk", failing_chunk)
    else:  # inside the final transaction, after the new fact tables replaced the old ones
        real_append = ContractReplacement.append_duckdb

        def failing_append(self: ContractReplacement, name: str, frame: pl.DataFrame) -> None:
            if name == "targets":
                raise RuntimeError("injected failure")
            real_append(self, name, frame)

        monkeypatch.setattr(ContractReplacement, "append_duckdb", failing_append)
    with pytest.raises(RuntimeError, match="injected failure"):
        _generate_small(path, seed=SEED + 1)

    after = _read(path)
    for name in (*CONTENT_TABLES, "cockpit_meta"):
        assert after[name].equals(before[name]), name
    assert not any(name.startswith(STAGE_PREFIX) for name in _table_names(path))
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".demo-load-")) == []
    monkeypatch.undo()
    summary = _generate_small(path, seed=SEED + 1)  # and the next attempt succeeds
    assert _read(path)["service_cases"].height == summary.service_cases
