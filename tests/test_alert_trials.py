"""The randomized alert evaluation's pieces on tiny literal frames: injections keep the data honest,
sizes are the σ arithmetic they claim, and the scoring gives the answers worked out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from bench import alert_injections as inj
from bench import alert_trials as trials
from bench import alert_trials_report as report_module
from bench.alerts import Tree

T = dt.datetime
AS_OF = T(2026, 1, 31, 23, 59)


def complaints() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ticket_id": ["A", "B"],
            "street_code": ["S1", "S1"],
            "category_l3_code": ["C.1.1", "C.1.1"],
            "department_code": ["X", "X"],
            "received_at": [T(2026, 1, 1, 9), T(2026, 1, 2, 10)],
            "first_response_at": [T(2026, 1, 1, 10), T(2026, 1, 2, 11)],
            "resolved_at": [T(2026, 1, 2, 9), T(2026, 1, 4, 10)],
            "closed_at": [T(2026, 1, 3, 9), T(2026, 1, 6, 10)],
            "status": ["已关闭", "已关闭"],
            "contacted": [True, True],
            "resolved": [True, False],
            "follow_up": ["满意", "不满意"],
            "repeat_of": [None, "A"],
            "time_limit_hours": [72.0, 72.0],
        }
    )


def test_clones_keep_the_series_and_shift_every_timestamp() -> None:
    source = complaints()
    anchors = [T(2026, 1, 20, 8), T(2026, 1, 21, 8)]
    clones = inj.clone_rows(source, inj.COMPLAINTS, anchors, "INJ-", AS_OF)
    assert clones["ticket_id"].to_list() == ["INJ-0000000", "INJ-0000001"]
    assert clones["received_at"].to_list() == anchors
    for column in ("street_code", "category_l3_code", "department_code", "status", "follow_up"):
        assert clones[column].to_list() == source[column].to_list()
    before = source.select(pl.col("closed_at") - pl.col("received_at"))
    assert clones.select(pl.col("closed_at") - pl.col("received_at")).equals(before)
    assert clones["repeat_of"].null_count() == 2


def test_clones_past_the_data_end_are_open() -> None:
    # B moved to Jan 30 08:00: first response 09:00 and resolution Feb 1 08:00; the end is Jan 31 23:59.
    clones = inj.clone_rows(complaints(), inj.COMPLAINTS, [T(2026, 1, 10, 9), T(2026, 1, 30, 8)], "N-", AS_OF)
    a, b = clones.row(0, named=True), clones.row(1, named=True)
    assert a["status"] == "已关闭" and a["closed_at"] == T(2026, 1, 12, 9)
    assert b["first_response_at"] == T(2026, 1, 30, 9) and b["contacted"] is True
    assert b["resolved_at"] is None and b["closed_at"] is None
    assert b["resolved"] is None and b["follow_up"] is None and b["status"] == "办理中"


def test_sigma_arithmetic() -> None:
    assert inj.sigma_count(0.25) == 1.0 and inj.sigma_count(16) == 4.0
    assert inj.extra_count(4, 16) == 16 and inj.extra_count(1, 0.0) == 1 and inj.extra_count(2, 0.5) == 2
    assert abs(inj.sigma_rate(0.1, 100) - 0.03) < 1e-12 and inj.sigma_rate(0.5, 0) == 0.0
    assert inj.extra_late(4, 0.1, 100) == 12  # 4 × 0.03 × 100
    assert inj.extra_late(8, 0.0, 50) == 1
    assert inj.sigma_queue(9) == 3.0
    assert inj.ramp_weights(4, 2) == [0.5, 1.0, 1.0, 1.0] and inj.ramp_weights(2) == [1.0, 1.0]


def test_spread_times_stay_in_their_days() -> None:
    times = inj.spread_times(np.random.default_rng(1), dt.date(2026, 1, 5), [0.0, 1.0, 1.0], 40)
    assert len(times) == 40 and times == sorted(times)
    assert all(dt.date(2026, 1, 6) <= t.date() <= dt.date(2026, 1, 7) and 7 <= t.hour < 22 for t in times)


def test_make_late_makes_exactly_the_chosen_rows_late() -> None:
    cases = pl.DataFrame(
        {
            "case_id": ["P", "Q", "R"],
            "submitted_at": [T(2026, 1, 1, 9), T(2026, 1, 2, 9), T(2026, 1, 28, 9)],
            "accepted_at": [T(2026, 1, 1, 10), T(2026, 1, 2, 10), T(2026, 1, 28, 10)],
            "completed_at": [T(2026, 1, 2, 9), T(2026, 1, 3, 9), T(2026, 1, 29, 9)],
            "promised_limit_hours": [48.0, 48.0, 48.0],
            "status": ["已办结"] * 3,
            "rating": ["满意"] * 3,
        }
    )

    def late(f: pl.DataFrame) -> pl.Series:
        return inj.is_late(f, "submitted_at", "completed_at", "promised_limit_hours", AS_OF)

    assert late(cases).to_list() == [False, False, False]
    chosen = cases.filter(pl.col("case_id").is_in(["P", "R"]))
    changed = inj.make_late(chosen, inj.SERVICE_CASES, "completed_at", "promised_limit_hours", [1.5, 2.0], AS_OF)
    assert changed.row(0, named=True)["completed_at"] == T(2026, 1, 4, 9)  # 72 h after submission
    r = changed.row(1, named=True)  # due Jan 30 09:00, finished Feb 1 09:00: past the data's end, so open
    assert r["completed_at"] is None and r["status"] == "办理中" and r["rating"] is None
    merged = pl.concat([cases.filter(pl.col("case_id") == "Q"), changed]).sort("case_id")
    assert dict(zip(merged["case_id"], late(merged), strict=True)) == {"P": True, "Q": False, "R": True}


def test_delay_stage_moves_the_stage_and_what_follows() -> None:
    stamps = [T(2026, 1, 1, h) for h in range(8, 15)]
    events = pl.DataFrame({c: [t] for c, t in zip(inj.GRID_EVENTS.times, stamps, strict=True)} | {"event_id": ["E"]})
    out = inj.delay_stage(events, "handle", [2.0], AS_OF).row(0, named=True)
    assert out["dispatched_at"] == T(2026, 1, 1, 10) and out["handled_at"] == T(2026, 1, 3, 11)
    assert out["closed_at"] == T(2026, 1, 3, 14)


REGIONS = Tree({"D1": None, "S1": "D1", "S2": "D1", "S3": "D1", "C1": "S1", "G9": "C1"})
CATEGORIES = Tree({"L1": None, "L2": "L1", "L3": "L2", "M1": None})


def anomaly(family: str, k: int, start: dt.date, end: dt.date, **names: str | None) -> dict[str, object]:
    base: dict[str, object] = {"region_code": None, "department_code": None, "category_code": None, "handled_by": None}
    return base | {"family": family, "size_sigma": k, "start": start, "end": end, "stage": None, "extra": 1} | names


def alert(kind: str, start: dt.date, end: dt.date, raised: dt.date, **names: str | None) -> dict[str, object]:
    base: dict[str, object] = {"region_code": None, "department": None, "category": None}
    times = {"start": start, "end": end, "raised_at": raised}
    return base | {"kind": kind} | {k: dt.datetime.combine(v, dt.time()) for k, v in times.items()} | names


def test_scoring_by_entity_and_time() -> None:
    d = dt.date
    anomalies = [
        anomaly("pair_surge", 4, d(2026, 1, 10), d(2026, 1, 12), region_code="S1", category_code="L3"),
        anomaly("creep", 8, d(2026, 2, 1), d(2026, 2, 22), region_code="S2", category_code="L1"),
        anomaly("intake_rise", 2, d(2026, 3, 1), d(2026, 3, 4), department_code="X", handled_by="X"),
    ]
    demo = [anomaly("surge", 0, d(2026, 1, 1), d(2026, 1, 20), region_code="S3")]
    alerts = pl.DataFrame(
        [
            alert("complaint_surge", d(2026, 1, 11), d(2026, 1, 13), d(2026, 1, 12), region_code="C1", category="L3"),
            alert("count_creep", d(2026, 2, 7), d(2026, 2, 20), d(2026, 2, 9), region_code="S2", category="L2"),
            alert("intake_surge", d(2026, 3, 5), d(2026, 3, 6), d(2026, 3, 6), department="X"),
            alert("complaint_surge", d(2026, 1, 11), d(2026, 1, 12), d(2026, 1, 12), region_code="S3", category="M1"),
            alert("stage_stall", d(2026, 4, 1), d(2026, 4, 3), d(2026, 4, 2), region_code="G9", department="Y"),
        ]
    )
    results, false = trials.score_copy(alerts, anomalies, demo, REGIONS, CATEGORIES)
    assert [r["detected"] for r in results] == [True, True, False]  # the intake alert starts 4 days late
    assert [r["detected_any"] for r in results] == [True, True, True]
    assert [r["delay_days"] for r in results] == [2.0, 8.0, None]
    assert false == ["stage_stall"]  # the S3 surge is the demo's own; G9 is in S1, but months after
    table = report_module.recall_by_size(results)
    assert table["pair_surge"] == {4: (1, 1)} and table["intake_rise"] == {2: (0, 1)}


def test_clash_keeps_related_anomalies_apart_in_time() -> None:
    d = dt.date
    a = anomaly("pair_surge", 1, d(2026, 1, 10), d(2026, 1, 12), region_code="S1")
    assert trials.clash(a, anomaly("street_wide", 1, d(2026, 1, 15), d(2026, 1, 16), region_code="C1"), REGIONS)
    assert not trials.clash(a, anomaly("street_wide", 1, d(2026, 1, 20), d(2026, 1, 22), region_code="C1"), REGIONS)
    assert not trials.clash(a, anomaly("street_wide", 1, d(2026, 1, 11), d(2026, 1, 12), region_code="S2"), REGIONS)
    same_department = anomaly("intake_rise", 1, d(2026, 1, 9), d(2026, 1, 10), department_code="X")
    assert trials.clash(a | {"handled_by": "X"}, same_department, REGIONS)


def test_block_goes_before_limits(tmp_path: Path) -> None:
    doc = tmp_path / "alerts.md"
    doc.write_text("## How good it is\n\ntext\n\n## Limits\n\n- x\n", encoding="utf-8")
    trials.write_block("first", doc)
    trials.write_block("second", doc)
    text = doc.read_text(encoding="utf-8")
    assert "first" not in text and text.count("<!-- bench:alert-trials -->") == 1
    assert text.index("second") < text.index("## Limits")
