"""``python -m bench.alerts --trials N --seed S [--scale 1] [--days 365] [--no-write]``: randomized evaluation.

Why: the demo's own ``demo_anomalies`` are few, fixed, and were in view while the detectors were
tuned. Here each trial copies the demo database, injects 18 fresh anomalies of nine families at
random places, dates and sizes (``bench.alert_injections``; sizes in σ of the local baseline), replays
the last ``--days`` days, and scores the detection alerts kind-agnostically, by entity and time, so
that a rewrite of the detectors (new kinds, other region or category levels) is scored the same way.
Controls (a city-wide holiday dip, a uniform growth, the unmodified copy) must raise nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import sqlalchemy as sa

from bench import alert_injections as inj
from bench.alert_trials_report import CHART, CONTROLS, SIZES, chart, report, write_block
from bench.alerts import Tree, explains, same_entity
from data_access.alerts import schema as alert_schema
from data_access.alerts.config import load_alert_config
from data_access.alerts.names import load_names
from data_access.alerts.run import compute_alerts
from data_access.config.city import load_city
from data_access.runtime.engine import dispose_engine, get_engine, new_data_version
from data_access.runtime.session import DataSession
from data_access.semantic.rollups.refresh import refresh_rollups

PER_FAMILY = 2  # anomalies of each family per trial: 18 a trial
MIN_HISTORY_DAYS = 70  # an anomaly needs this much history before it (the 8-week baseline and some)
END_MARGIN_DAYS = 10  # ... and this many days after it before the data ends (to be seen at all)
PAD_DAYS = 7  # anomalies on related entities stay this far apart in time
DAY = dt.timedelta(days=1)


@dataclass
class Base:
    """The base demo copy's facts, trees and ground truth, read once."""

    path: Path
    facts: inj.Facts
    regions: Tree
    categories: Tree
    districts: int
    demo: list[dict[str, object]]
    first_day: dt.date
    since: dt.date
    until: dt.date


def _read(con: duckdb.DuckDBPyConnection, sql: str, *params: object) -> pl.DataFrame:
    frame = pl.from_arrow(con.sql(sql, params=list(params) or None).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def load_base(path: Path, days: int) -> Base:
    """Reads the base file (read-only) once: facts from shortly before the replay on, trees, demo anomalies."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        scale = _read(con, "SELECT value FROM cockpit_meta WHERE key = 'scale'")["value"].to_list()
        print(f"base: {path} (demo scale {scale[0] if scale else '?'})")
        span = _read(con, "SELECT min(received_at) AS first, max(received_at) AS last FROM complaints").row(0)
        until: dt.date = span[1].date()
        since = until - dt.timedelta(days=days - 1)
        cut = dt.datetime.combine(since - dt.timedelta(days=120), dt.time())
        frames = {
            name: _read(con, f"SELECT * FROM {name} WHERE {spec.anchor} >= ?", cut) for name, spec in inj.TABLES.items()
        }
        as_of = max(frames[name][spec.anchor].max() for name, spec in inj.TABLES.items())  # type: ignore[type-var]
        regions = _read(con, "SELECT code, parent_code, level FROM regions")
        categories = _read(con, "SELECT code, parent_code FROM categories")
        demo = _read(con, "SELECT region_code, department_code, category_code, start_at, end_at FROM demo_anomalies")
    finally:
        con.close()
    assert isinstance(as_of, dt.datetime)
    return Base(
        path,
        inj.Facts.of(frames, as_of),
        Tree(dict(zip(regions["code"], regions["parent_code"], strict=True))),
        Tree(dict(zip(categories["code"], categories["parent_code"], strict=True))),
        regions.filter(pl.col("level") == "district").height,
        [
            {**row, "start": row["start_at"].date(), "end": row["end_at"].date(), "handled_by": None}
            for row in demo.to_dicts()
        ],
        span[0].date(),
        since,
        until,
    )


def clash(a: dict[str, object], b: dict[str, object], regions: Tree) -> bool:
    """Two anomalies that could be mistaken for one another: near in time and on related places or one department."""
    if a["start"] > b["end"] + dt.timedelta(days=PAD_DAYS) or b["start"] > a["end"] + dt.timedelta(days=PAD_DAYS):  # type: ignore[operator]
        return False
    departments = {a["department_code"], a["handled_by"]} & {b["department_code"], b["handled_by"]} - {None}
    both_regions = a["region_code"] is not None and b["region_code"] is not None
    return bool(departments) or (both_regions and regions.related(str(a["region_code"]), str(b["region_code"])))


@dataclass
class Copy:
    """One database to replay: what was done to it, and what it must (anomalies) or must not (controls) raise."""

    label: str
    inserted: dict[str, list[pl.DataFrame]] = field(default_factory=dict)
    replaced: dict[str, list[pl.DataFrame]] = field(default_factory=dict)
    deleted: dict[str, list[pl.Series]] = field(default_factory=dict)
    anomalies: list[dict[str, object]] = field(default_factory=list)


def plan_trial(base: Base, trial: int, rng: np.random.Generator) -> Copy:
    """18 anomalies at random places, dates and sizes that do not clash with each other or the demo's own."""
    copy = Copy(f"trial {trial}")
    earliest = max(base.since, base.first_day + dt.timedelta(days=MIN_HISTORY_DAYS))
    jobs = [
        (family, SIZES[(trial * PER_FAMILY + j + offset) % len(SIZES)])
        for offset, family in enumerate(inj.FAMILIES)
        for j in range(PER_FAMILY)
    ]
    for number, index in enumerate(rng.permutation(len(jobs))):
        family, k = jobs[int(index)]
        for _ in range(200):
            target = inj.choose_target(base.facts, family, rng)
            latest = base.until - dt.timedelta(days=END_MARGIN_DAYS + target.duration - 1)
            start = earliest + dt.timedelta(days=int(rng.integers(0, (latest - earliest).days + 1)))
            draft: dict[str, object] = {
                "start": start,
                "end": start + dt.timedelta(days=target.duration),
                "region_code": target.region_code,
            }
            draft |= {"department_code": target.department_code, "handled_by": target.department_code}
            if any(clash(draft, other, base.regions) for other in [*copy.anomalies, *base.demo]):
                continue
            made = inj.build(base.facts, target, start, k, rng, f"INJ{trial}-{number:02d}-")
            if made.record["extra"] == 0 or any(clash(made.record, o, base.regions) for o in copy.anomalies):
                continue
            copy.anomalies.append(made.record)
            spec = inj.TABLES[target.table]
            copy.inserted.setdefault(spec.name, []).append(made.added)
            copy.replaced.setdefault(spec.name, []).append(made.replaced)
            break
    return copy


def plan_control(base: Base, control: str, trial: int, rng: np.random.Generator) -> Copy:
    """A city-wide change that is no anomaly: fewer rows on a few holiday days, or 25 % more from a date on."""
    copy = Copy(f"{control} {trial}")
    if control == "holiday_dip":
        days = int(rng.integers(5, 8))
        first = base.since + dt.timedelta(days=int(rng.integers(7, (base.until - base.since).days - 20)))
        for name, spec in inj.TABLES.items():
            rows = inj.rows_on_days(base.facts.frames[name], spec, first, days)
            copy.deleted[name] = [inj.sample_ids(rng, rows, spec, 0.4)]
        copy.label += f" ({days} days from {first})"
    elif control == "uniform_growth":
        first = base.since + dt.timedelta(days=int(rng.integers(30, (base.until - base.since).days - 60)))
        for name, spec in inj.TABLES.items():
            rows = inj.rows_on_days(base.facts.frames[name], spec, first, (base.until - first).days + 1)
            chosen = rows.filter(pl.col(spec.id_column).is_in(inj.sample_ids(rng, rows, spec, 0.25).implode()))
            copy.inserted[name] = [
                inj.clone_rows(chosen, spec, chosen[spec.anchor].to_list(), f"GROW{trial}-", base.facts.as_of)
            ]
        copy.label += f" (from {first})"
    return copy


def materialise(base: Base, copy: Copy, directory: Path) -> Path:
    """Copies the base file and writes the copy's changes, then its rollups and a new data version."""
    path = directory / (re.sub(r"\W+", "_", copy.label.split(" (")[0]) + ".duckdb")
    shutil.copy(base.path, path)
    con = duckdb.connect(str(path))
    try:
        for name, spec in inj.TABLES.items():
            gone = [s for s in copy.deleted.get(name, [])] + [f[spec.id_column] for f in copy.replaced.get(name, [])]
            if gone:
                con.register("gone", pl.concat(gone).to_frame("id").to_arrow())
                con.execute(f"DELETE FROM {name} WHERE {spec.id_column} IN (SELECT id FROM gone)")
                con.unregister("gone")
            rows = [f for f in copy.inserted.get(name, []) + copy.replaced.get(name, []) if f.height]
            if rows:
                con.register("new", pl.concat(rows).to_arrow())
                con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM new")
                con.unregister("new")
    finally:
        con.close()
    url = f"duckdb:///{path}"
    engine = get_engine(url)
    try:
        with engine.begin() as connection:
            refresh_rollups(connection)
            connection.execute(
                sa.text("UPDATE cockpit_meta SET value = :v WHERE key = 'data_version'"), {"v": new_data_version()}
            )
    finally:
        dispose_engine(url)
    return path


def replay(path: Path, since: dt.date, until: dt.date) -> tuple[pl.DataFrame, float]:
    """Every detection alert a daily run would have raised in [since, until], and the replay's seconds."""
    url = f"duckdb:///{path}"
    engine = get_engine(url)
    try:
        kinds = [k for k in alert_schema.KINDS if k not in alert_schema.OPERATIONAL_KINDS]
        began = time.perf_counter()
        alerts = compute_alerts(
            DataSession(engine, load_city()),
            since=since,
            until=until,
            config=load_alert_config(),
            kinds=kinds,
            names=load_names(engine),
        )
        seconds = time.perf_counter() - began
    finally:
        dispose_engine(url)
    return alerts.filter(~pl.col("kind").is_in(alert_schema.OPERATIONAL_KINDS)), seconds


# ---- scoring (pure) ------------------------------------------------------------------------------------


def _overlaps(alert: dict[str, object], anomaly: dict[str, object], margin_days: int) -> bool:
    """The alert's [start, end) meets the anomaly's [start, end + margin]."""
    start, end = alert["start"].date(), alert["end"].date()  # type: ignore[attr-defined]
    return bool(start <= anomaly["end"] + dt.timedelta(days=margin_days) and end > anomaly["start"])  # type: ignore[operator]


def detects(
    alert: dict[str, object], anomaly: dict[str, object], regions: Tree, categories: Tree, *, any_overlap: bool = False
) -> bool:
    """Recall: the alert names the anomaly's entity (tree relation) and starts within the tolerance.

    Tolerance: [anomaly start − 1 day, start + 2 days], + 7 days for a creep (a ramp has no sharp
    beginning); with ``any_overlap`` any overlap in time counts.
    """
    if not same_entity(alert, anomaly, regions, categories):
        return False
    if any_overlap:
        return _overlaps(alert, anomaly, 2)
    first: dt.date = anomaly["start"]  # type: ignore[assignment]
    slack = 7 if anomaly["family"] == "creep" else 2
    return first - DAY <= alert["start"].date() <= first + dt.timedelta(days=slack)  # type: ignore[attr-defined,no-any-return]


def explained(
    alert: dict[str, object], anomalies: list[dict[str, object]], regions: Tree, categories: Tree, margin_days: int
) -> bool:
    """Precision: some anomaly on a related entity (the dimensions both name agree) overlaps the alert."""
    return any(explains(alert, a, regions, categories) and _overlaps(alert, a, margin_days) for a in anomalies)


def score_copy(
    alerts: pl.DataFrame,
    anomalies: list[dict[str, object]],
    demo: list[dict[str, object]],
    regions: Tree,
    categories: Tree,
) -> tuple[list[dict[str, object]], list[str]]:
    """Each anomaly with ``detected``, ``detected_any`` and ``delay_days``; and the kinds of the false alerts.

    A false alert matches no injected anomaly (margin 2 days after its end) and is not explained by
    the demo's own anomalies (their window, no margin).
    """
    rows = alerts.to_dicts()
    results = []
    for anomaly in anomalies:
        hits = [a for a in rows if detects(a, anomaly, regions, categories)]
        first = min(hits, key=lambda a: a["raised_at"]) if hits else None
        start = dt.datetime.combine(anomaly["start"], dt.time())  # type: ignore[arg-type]
        delay = (first["raised_at"] - start).total_seconds() / 86400 if first else None
        any_hit = any(detects(a, anomaly, regions, categories, any_overlap=True) for a in rows)
        results.append({**anomaly, "detected": bool(hits), "detected_any": any_hit, "delay_days": delay})
    false = [
        str(a["kind"])
        for a in rows
        if not explained(a, anomalies, regions, categories, 2) and not explained(a, demo, regions, categories, 0)
    ]
    return results, false


@dataclass
class Totals:
    """Everything pooled over the trials, for the printed tables and the report."""

    results: list[dict[str, object]] = field(default_factory=list)
    alerts: int = 0
    false: list[str] = field(default_factory=list)
    controls: dict[str, list[str]] = field(default_factory=lambda: {c: [] for c in CONTROLS})
    control_copies: Counter[str] = field(default_factory=Counter)
    kinds: dict[str, Counter[str]] = field(default_factory=dict)
    seconds: list[tuple[str, float]] = field(default_factory=list)


def describe(r: dict[str, object]) -> str:
    """One line per scored anomaly, for the log."""
    names = " ".join(str(r[k]) for k in ("region_code", "department_code", "category_code", "stage") if r[k])
    verdict = "detected" if r["detected"] else "any-overlap only" if r["detected_any"] else "missed"
    return (
        f"{r['family']} {r['size_sigma']}σ {r['start']}→{r['end']} {names} "
        f"extra {r['extra']} baseline {r['baseline']}: {verdict}"
    )


def run_trials(trials: int, seed: int, scale: float, days: int, write: bool) -> int:
    """The whole evaluation: per trial one injected copy and the two changing controls; the clean copy once."""
    from bench.__main__ import BENCH_DIR, ensure_database

    demo = BENCH_DIR / f"demo_scale_{scale:g}.duckdb"
    rng = np.random.default_rng(seed)
    totals = Totals()
    with tempfile.TemporaryDirectory(prefix="alert-trials-") as tmp:
        # A private copy first: other processes may hold the demo file's lock while they read it.
        base = load_base(
            Path(shutil.copy(demo if demo.exists() else ensure_database(scale), Path(tmp) / "base.db")), days
        )
        for trial in range(trials):
            copies = [plan_trial(base, trial, rng)] + [
                plan_control(base, c, trial, rng) for c in CONTROLS if c != "clean" or trial == 0
            ]
            for copy in copies:
                path = materialise(base, copy, Path(tmp))
                alerts, seconds = replay(path, base.since, base.until)
                path.unlink()
                totals.seconds.append((copy.label, seconds))
                control = copy.label.split(" ")[0]
                totals.kinds.setdefault("injected" if control == "trial" else control, Counter()).update(
                    alerts["kind"].to_list()
                )
                if copy.anomalies:
                    results, false = score_copy(alerts, copy.anomalies, base.demo, base.regions, base.categories)
                    totals.results += [{**r, "trial": trial} for r in results]
                    totals.alerts += alerts.height
                    totals.false += false
                    for r in results:
                        print(f"  {copy.label}: {describe(r)}")
                else:
                    unexplained = [
                        a for a in alerts.to_dicts() if not explained(a, base.demo, base.regions, base.categories, 0)
                    ]
                    totals.controls[control] += [str(a["kind"]) for a in unexplained]
                    totals.control_copies[control] += 1
                print(f"{copy.label}: {alerts.height} detection alerts, replay {seconds:.1f} s", flush=True)
    command = f"python -m bench.alerts --trials {trials} --seed {seed} --scale {scale:g} --days {days}"
    header = (
        f"Measured by `{command}` on {dt.date.today()}: {trials} trial(s) of {PER_FAMILY * len(inj.FAMILIES)} injected"
        f" anomalies on copies of the demo at scale {scale:g}, replaying {base.since} to {base.until}."
        f" Recall within tolerance by family × size (σ of the local baseline);"
        f" chart: [recall vs size](img/{CHART.name})."
    )
    block = report(totals, base.districts, days, header)
    print(block)
    if write:
        chart(totals)
        write_block(block)
    return 0
