"""Early warning: pure detection functions on literal frames, the rules file, the CLI, scope, and
recall / precision against the demo generator's injected anomalies."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from bench import alerts as bench
from data_access.alerts.cli import main, parse_scope
from data_access.alerts.config import ALERTS_ENV, AlertsProblem, ComplaintSurgeRule, load_alert_config
from data_access.alerts.episodes import merge_episodes
from data_access.alerts.names import Names, alert_link
from data_access.alerts.rate_jumps import rate_jumps
from data_access.alerts.repeats import repeat_clusters
from data_access.alerts.run import compute_alerts
from data_access.alerts.schema import FLAG_SCHEMA, STAGES
from data_access.alerts.score_drops import score_drops, street_scores
from data_access.alerts.stalls import waiting_series
from data_access.alerts.statistics import poisson_sf, weekday_factors
from data_access.alerts.surges import count_surges, surge_message
from data_access.config.city import ThreeRates, load_city
from data_access.demo import generate
from data_access.runtime.engine import dispose_engine, get_engine
from data_access.runtime.session import DataSession
from data_access.semantic.metrics import run_metrics
from data_access.semantic.query import MetricRequest, Scope, TimeRange
from tests import fixture_city

D0 = dt.date(2026, 1, 5)  # a Monday


def day(i: int) -> dt.date:
    return D0 + dt.timedelta(days=i)


# ---- pure statistics --------------------------------------------------------------------------


def test_poisson_tail_matches_hand_computed_values() -> None:
    assert poisson_sf(0, 3.0) == 1.0
    assert poisson_sf(1, 2.0) == pytest.approx(1 - math.exp(-2))
    assert poisson_sf(3, 1.0) == pytest.approx(1 - math.exp(-1) * 2.5)
    assert poisson_sf(6, 0.3) == pytest.approx(0.3**6 / 720 * math.exp(-0.3), rel=0.1)
    assert poisson_sf(2, 0.0) == 0.0


def test_weekday_factors_follow_the_weekly_shape() -> None:
    daily = pl.DataFrame({"day": [day(i) for i in range(28)], "n": [2 if i % 7 == 0 else 1 for i in range(28)]})
    factors = weekday_factors(daily)
    mean = 32 / 28
    assert factors[1] == pytest.approx(2 / mean)  # Mondays
    assert factors[3] == pytest.approx(1 / mean)
    assert weekday_factors(daily.head(10)) == dict.fromkeys(range(1, 8), 1.0)  # too short to tell


def test_count_surge_flags_a_tenfold_window_with_its_first_elevated_day() -> None:
    rows = [("A", day(i), 1) for i in range(59)] + [("A", day(i), 10) for i in (59, 60, 61)]
    rows += [("B", day(i), 1) for i in range(62)]  # steady: never flagged
    daily = pl.DataFrame(rows, schema={"street": pl.String(), "day": pl.Date(), "n": pl.Int64()}, orient="row")
    found = count_surges(
        daily,
        ["street"],
        [day(61)],
        window=3,
        lookback=56,
        min_count=5,
        min_ratio=3.0,
        max_p_value=1e-8,
        expected_floor=0.1,
        factors=dict.fromkeys(range(1, 8), 1.0),
        history_start=day(0),
    )
    assert found.height == 1
    row = found.row(0, named=True)
    assert (row["street"], row["observed"], row["expected"], row["ratio"]) == ("A", 30.0, 3.0, 10.0)
    assert row["start"] == day(59)
    # Without 58 days of history before the window's end, nothing is judged.
    late_history = count_surges(
        daily,
        ["street"],
        [day(61)],
        window=3,
        lookback=56,
        min_count=5,
        min_ratio=3.0,
        max_p_value=1e-8,
        expected_floor=0.1,
        factors=dict.fromkeys(range(1, 8), 1.0),
        history_start=day(5),
    )
    assert late_history.is_empty()


def test_rate_jump_compares_settled_late_shares() -> None:
    rows = [("D", day(i), 24.0, 10, 1) for i in range(56)] + [("D", day(i), 24.0, 10, 6) for i in (56, 57, 58)]
    groups = pl.DataFrame(
        rows,
        schema={
            "department": pl.String(),
            "day": pl.Date(),
            "limit_hours": pl.Float64(),
            "n": pl.Int64(),
            "late": pl.Int64(),
        },
        orient="row",
    )
    kwargs = dict(
        check_share=0.5,
        window=3,
        lookback=56,
        min_cases=20,
        min_increase=0.15,
        min_ratio=1.8,
        min_z=4.0,
        history_start=day(0),
    )
    found = rate_jumps(groups, [day(59)], cutoff_at=dt.datetime(2027, 1, 1), **kwargs)  # type: ignore[arg-type]
    assert found.height == 1
    row = found.row(0, named=True)
    assert row["observed"] == pytest.approx(0.6)
    assert row["expected"] == pytest.approx(0.1)
    assert row["n"] == 30
    assert row["z"] == pytest.approx(0.5 / math.sqrt(0.1 * 0.9 / 30))
    assert row["start"] == day(57)  # late-weighted median start day of the window's late cases
    # Before day 58's cases are settled (12 h after the end of their day), day 59 cannot count them.
    early = rate_jumps(groups, [day(59)], cutoff_at=dt.datetime.combine(day(59), dt.time(11)), **kwargs)  # type: ignore[arg-type]
    assert early.is_empty() or early.row(0, named=True)["n"] == 20


def test_waiting_series_counts_items_waiting_a_full_day() -> None:
    waits = pl.DataFrame(
        [("G", "handle", day(0), day(3), 2), ("G", "handle", day(1), None, 1), ("G", "handle", day(2), day(2), 5)],
        schema={"region": pl.String(), "stage": pl.String(), "entered": pl.Date(), "left": pl.Date(), "n": pl.Int64()},
        orient="row",
    )
    series = waiting_series(waits, day(0), day(4), min_wait_days=1)
    assert series["waiting"].to_list() == [0, 2, 3, 1, 1]
    assert waiting_series(waits, day(0), day(4), min_wait_days=1, min_peak=4).is_empty()


def test_repeat_cluster_dates_back_to_the_first_original() -> None:
    counts = pl.DataFrame(
        [
            ("C1", "K", "X路1号", day(10), 1, day(8)),
            ("C1", "K", "X路1号", day(12), 1, day(10)),
            ("C1", "K", "Y路2号", day(12), 1, day(3)),  # a lone repeat elsewhere
        ],
        schema={
            "region": pl.String(),
            "category": pl.String(),
            "address": pl.String(),
            "day": pl.Date(),
            "n": pl.Int64(),
            "first_original": pl.Date(),
        },
        orient="row",
    )
    found = repeat_clusters(counts, [day(11), day(12)], window=7, min_repeats=2)
    assert found.select("address", "eval_day", "start", "observed").rows() == [("X路1号", day(12), day(8), 2.0)]


def test_score_drop_needs_size_and_significance() -> None:
    recent = pl.DataFrame({"region": ["S1", "S2", "S3"], "score": [0.70, 0.85, 0.60], "n": [200, 200, 20]})
    base = pl.DataFrame({"region": ["S1", "S2", "S3"], "score": [0.90, 0.90, 0.90], "n": [600, 600, 600]})
    found = score_drops(recent, base, min_tickets=60, min_drop=0.1, min_z=4.0)
    assert found["region"].to_list() == ["S1"]
    se = math.sqrt(0.9 * 0.1 / 200 + 0.9 * 0.1 / 600)
    assert found["z"][0] == pytest.approx(0.2 / se)


def _flag(eval_day: dt.date, score: float, severity: str, start: dt.date | None = None) -> dict[str, object]:
    return {
        "kind": "complaint_surge",
        "domain": "complaints",
        "region_code": "S",
        "department": None,
        "category": "K",
        "detail": None,
        "eval_day": eval_day,
        "start": start or eval_day,
        "observed": score * 2,
        "expected": 2.0,
        "score": score,
        "severity": severity,
        "message": f"m{score}",
        "message_en": f"e{score}",
    }


def test_merge_episodes_bridges_short_gaps_and_keeps_the_peak() -> None:
    flags = pl.DataFrame(
        [
            _flag(day(1), 3.0, "medium", day(0)),
            _flag(day(2), 7.0, "high"),
            _flag(day(4), 4.0, "medium"),
            _flag(day(8), 5.0, "medium"),
        ],
        schema=FLAG_SCHEMA,
    )
    episodes = merge_episodes(flags, merge_gap_days=2).sort("first_eval")
    assert episodes.select("first_eval", "last_eval", "start", "observed", "severity", "message").rows() == [
        (day(1), day(4), day(0), 14.0, "high", "m7.0"),
        (day(8), day(8), day(8), 10.0, "medium", "m5.0"),
    ]


def test_link_names_every_region_level_and_the_window() -> None:
    names = Names(
        regions={"330106": ("西湖区", "district", None), "330106003": ("北山街道", "street", "330106")},
        departments={"CGJ": ("城市管理局", "Urban Management Bureau")},
        categories={"K": "噪音污染"},
    )
    link = alert_link(names, "complaints", "330106003", None, "K", day(0), day(3))
    assert link == "complaints?district=330106&street=330106003&category=K&start=2026-01-05&end=2026-01-08"
    assert names.region("330106003") == "西湖区 北山街道"
    zh, en = surge_message(names.region("330106003"), "噪声扰民", 7, 86, 3.4)
    assert zh == "西湖区 北山街道 噪声扰民 投诉 7 日 86 件，为常态 3.4 倍"
    assert en == "西湖区 北山街道 噪声扰民: 86 complaints in 7 days, 3.4× normal"


# ---- the rules file ----------------------------------------------------------------------------


def test_shipped_rules_file_loads_with_documented_values() -> None:
    config = load_alert_config()
    assert config.due_soon.warn_share == 0.8
    assert config.complaint_surge.max_p_value == 1e-8
    assert config.stage_stall.stages == STAGES
    assert config.merge_gap_days == 2


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alerts.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_rule_is_rejected_naming_its_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "[episodes]\nmerge_gap_days = 1\n\n[rules.overdue]\nmin_count = 2\n\n[rules.weather]\nx = 1\n"
    )
    with pytest.raises(AlertsProblem, match=r"line 7: unknown rule \[rules.weather\]"):
        load_alert_config(path)


def test_wrong_type_is_rejected_naming_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, '[rules.complaint_surge]\nwindow_days = 3\nmin_count = "five"\n')
    with pytest.raises(AlertsProblem, match=r"line 3: \[rules.complaint_surge\] min_count = 'five' must be an integer"):
        load_alert_config(path)
    path = _write(tmp_path, '[rules.overdue]\ntables = "complaints"\n')
    with pytest.raises(AlertsProblem, match=r"line 2: .*must be a list of strings"):
        load_alert_config(path)


def test_unknown_key_and_bad_values_are_rejected(tmp_path: Path) -> None:
    cases = {
        "[rules.repeat_cluster]\nmin_repeat = 2\n": r"line 2: unknown key 'min_repeat'",
        '[rules.stage_stall]\nstages = ["handle", "lunch"]\n': r"line 2: .*must be among",
        "[rules.due_soon]\n\nwarn_share = 1.5\n": r"line 3: .*share in \(0, 1\]",
        "[rules.complaint_surge]\nwindow_days = 0\n": r"line 2: .*at least 1",
        "[surge]\nmin_count = 1\n": r"line 1: unknown section \[surge\]",
    }
    for text, message in cases.items():
        with pytest.raises(AlertsProblem, match=message):
            load_alert_config(_write(tmp_path, text))


def test_rules_file_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, "[rules.overdue]\nhigh_count = 99\n")
    monkeypatch.setenv(ALERTS_ENV, str(path))
    config = load_alert_config()
    assert config.overdue.high_count == 99
    assert config.source == path
    assert config.complaint_surge == ComplaintSurgeRule()  # untouched rules keep their defaults


def test_scope_option_syntax() -> None:
    scope = parse_scope(["department=CGJ,SCJG", "region=330106"])
    assert scope == Scope(departments=frozenset({"CGJ", "SCJG"}), regions=frozenset({"330106"}))
    assert parse_scope([]).unrestricted
    with pytest.raises(ValueError, match="expected department="):
        parse_scope(["dept=CGJ"])


# ---- on a generated demo city ------------------------------------------------------------------

SCALE = 0.3  # small enough to build in ~10 s; large enough for every injected anomaly to stand out
END = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    url = f"duckdb:///{tmp_path_factory.mktemp('alerts') / 'demo.duckdb'}"
    engine = get_engine(url)
    generate.generate_demo(engine, scale=SCALE, seed=7, end=END)
    yield engine
    dispose_engine(url)


@pytest.fixture(scope="module")
def scored(demo_engine: sa.Engine) -> bench.Score:
    result, _ = bench.evaluate(demo_engine)
    return result


@pytest.mark.slow
@pytest.mark.xdist_group("alerts-demo")
def test_recall_and_precision_against_injected_anomalies(scored: bench.Score) -> None:
    assert scored.anomalies >= 10
    assert scored.recall >= 0.9, scored.missed
    assert scored.precision >= 0.8
    assert scored.false_per_year <= 3


@pytest.mark.slow
@pytest.mark.xdist_group("alerts-demo")
def test_deadline_lists_agree_with_the_overdue_metrics(demo_engine: sa.Engine) -> None:
    as_of = dt.datetime(2026, 10, 31, 12)
    found = compute_alerts(DataSession(demo_engine, load_city()), as_of=as_of, kinds=["overdue"])
    for table, metric in (("service_cases", "service_overdue_open"), ("grid_events", "grid_overdue_open")):
        listed = found.filter(pl.col("domain") == table).group_by("department").agg(pl.col("observed").sum())
        request = MetricRequest(metrics=(metric,), dimensions=("department",), as_of=as_of)
        expected = run_metrics(demo_engine, request, cache=None).filter(pl.col(metric) > 0)
        assert dict(listed.rows()) == {d: float(n) for d, n in expected.rows()}
        assert len(expected) > 0


@pytest.mark.slow
@pytest.mark.xdist_group("alerts-demo")
def test_alerts_outside_the_scope_never_appear(demo_engine: sa.Engine) -> None:
    since, until = dt.date(2026, 1, 1), dt.date(2026, 2, 28)  # holds the RSJ overdue jump
    everything = compute_alerts(
        DataSession(demo_engine, load_city()), since=since, until=until, kinds=["overdue_rate_jump", "overdue"]
    )
    assert "RSJ" in everything.filter(pl.col("kind") == "overdue_rate_jump")["department"].to_list()
    assert everything["department"].n_unique() > 2
    scoped = compute_alerts(
        DataSession(demo_engine, load_city(), scope=Scope(departments=frozenset({"ZGJ"}))),
        since=since,
        until=until,
        kinds=["overdue_rate_jump", "overdue"],
    )
    assert not scoped.is_empty()
    assert set(scoped["department"].to_list()) == {"ZGJ"}
    district = "330106"
    in_district = compute_alerts(
        DataSession(demo_engine, load_city(), scope=Scope(regions=frozenset({district}))),
        as_of=dt.datetime(2026, 10, 31, 12),
        kinds=["overdue"],
    )
    assert not in_district.is_empty()
    assert set(in_district["region_code"].to_list()) == {district}


@pytest.mark.slow
@pytest.mark.xdist_group("alerts-demo")
def test_cli_csv_has_exactly_the_documented_columns(demo_engine: sa.Engine, capsys: pytest.CaptureFixture[str]) -> None:
    url = demo_engine.url.render_as_string(hide_password=False)
    code = main(["--url", url, "--as-of", "2026-10-26T00:00", "--format", "csv", "--kind", "complaint_surge"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0] == "kind,severity,region_code,department,category,start,end,observed,expected,message"
    assert len(out) >= 2 and out[1].startswith("complaint_surge,")  # the surge injected on 2026-10-24
    code = main(["--url", url, "--since", "2026-10-20", "--until", "2026-10-31", "--format", "json"])
    assert code == 0
    assert '"link": "complaints?' in capsys.readouterr().out


def test_cli_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--url", "not a url"]) == 2
    assert "not a valid SQLAlchemy URL" in capsys.readouterr().err
    assert main(["--url", f"duckdb:///{tmp_path / 'empty.duckdb'}"]) == 2
    assert "does not hold the cockpit's tables" in capsys.readouterr().err
    assert main(["--since", "2026-01-01"]) == 2
    monkeypatch.setenv(ALERTS_ENV, str(_write(tmp_path, "[rules.nope]\n")))
    assert main(["--url", "duckdb:///:memory:"]) == 2
    assert "line 1: unknown rule" in capsys.readouterr().err


def test_score_drops_judge_the_score_the_pages_show(tiny_engine: sa.Engine) -> None:
    """The early warning's 三率 scores use the city's weights (through the data session), as the pages do:
    with other weights than the defaults, the street scores follow the city file, not the defaults."""
    city = dataclasses.replace(load_city(), three_rates=ThreeRates(0.6, 0.2, 0.2, 0.5))
    time_range = TimeRange(*fixture_city.FEB)
    found = street_scores(DataSession(tiny_engine, city), time_range, fixture_city.AS_OF)
    request = MetricRequest(
        ("complaint_composite_score", "complaint_received"),
        ("street",),
        time_range=time_range,
        as_of=fixture_city.AS_OF,
    )
    on_screen = run_metrics(tiny_engine, request, city.three_rates, cache=None).drop_nulls("street")
    defaults = run_metrics(tiny_engine, request, cache=None).drop_nulls("street")
    assert found.height == on_screen.height > 0
    assert found.sort("region")["score"].to_list() == on_screen.sort("street")["complaint_composite_score"].to_list()
    assert found.sort("region")["score"].to_list() != defaults.sort("street")["complaint_composite_score"].to_list()
