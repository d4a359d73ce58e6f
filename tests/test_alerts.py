"""Early warning: pure detection functions on literal frames, the rules file, the CLI, scope, and
recall / precision against the demo generator's injected anomalies."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa
from scipy import stats

from bench import alerts as bench
from data_access.alerts.cli import main, parse_scope
from data_access.alerts.config import ALERTS_ENV, AlertsProblem, ComplaintSurgeRule, load_alert_config
from data_access.alerts.creeps import CusumSettings, cusum
from data_access.alerts.episodes import merge_episodes
from data_access.alerts.names import Names, alert_link
from data_access.alerts.rate_jumps import rate_jumps
from data_access.alerts.repeats import repeat_clusters
from data_access.alerts.run import compute_alerts
from data_access.alerts.schema import FLAG_SCHEMA, STAGES
from data_access.alerts.score_drops import score_drops, street_scores
from data_access.alerts.stalls import waiting_series
from data_access.alerts.statistics import poisson_sf
from data_access.alerts.surges import surge_message
from data_access.alerts.surveillance import (
    Level,
    SurveillanceSettings,
    benjamini_hochberg,
    best_explanations,
    discoveries,
    dispersion,
    evidence_start,
    level_daily,
    tail_probability,
    window_tests,
)
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


def _settings(**overrides: object) -> SurveillanceSettings:
    values: dict[str, object] = dict(
        windows=(1, 3), lookback=28, guard=0, fdr_level=0.05, min_count=3, min_ratio=1.5, prior_count=0.0
    )
    values.update(overrides)
    return SurveillanceSettings(**values)  # type: ignore[arg-type]


def _finest(rows: list[tuple[str, str, dt.date, int]]) -> pl.DataFrame:
    schema = {"street": pl.String(), "category_l3": pl.String(), "day": pl.Date(), "n": pl.Int64()}
    return pl.DataFrame(rows, schema=schema, orient="row")


def test_expected_count_is_the_series_share_of_the_rest_of_the_city() -> None:
    # Street A: 1 a day, the rest of the city 9 a day over the baseline; in the window the rest doubles.
    rows = [("A", "c", day(i), 1) for i in range(28)] + [("B", "c", day(i), 9) for i in range(28)]
    rows += [("A", "c", day(28), 6), ("B", "c", day(28), 18)]
    finest = _finest(rows)
    city = finest.group_by("day").agg(pl.col("n").sum())
    daily = level_daily(finest, Level("street", ("street",)))
    found = window_tests(daily, city, [day(28)], 1, _settings(), day(0))
    a = found.filter(pl.col("series") == "A").row(0, named=True)
    # share of the rest: 28 / (280 − 28) = 1/9; the rest now: 24 − 6 = 18 → expected 2.
    assert (a["observed"], a["expected"]) == (6.0, pytest.approx(2.0))
    assert found.filter(pl.col("series") == "B").row(0, named=True)["expected"] == pytest.approx(9 * 6 / 1)


def test_benjamini_hochberg_matches_the_step_up_worked_by_hand() -> None:
    # m = 10 tests, the 6 not listed had p = 1. Thresholds k·q/m at q = 0.05: 0.005, 0.01, 0.015, 0.02.
    p_values = np.array([0.001, 0.008, 0.012, 0.3])
    rejected, adjusted = benjamini_hochberg(p_values, 10, 0.05)
    assert rejected.tolist() == [True, True, True, False]  # 0.012 ≤ 3 × 0.005: the step-up keeps all three
    assert adjusted[0] == pytest.approx(0.01)  # min over j ≥ 1 of m p_(j) / j = min(0.01, 0.04, 0.04, ...)
    assert adjusted[2] == pytest.approx(0.04)
    assert benjamini_hochberg(p_values, 1000, 0.05)[0].tolist() == [False, False, False, False]


def test_tail_probability_is_poisson_without_dispersion_and_heavier_with_it() -> None:
    assert tail_probability(np.array([3.0]), np.array([1.0]), 0.0)[0] == pytest.approx(1 - math.exp(-1) * 2.5)
    assert (
        tail_probability(np.array([10.0]), np.array([2.0]), 0.5)[0]
        > tail_probability(np.array([10.0]), np.array([2.0]), 0.0)[0]
    )


def test_a_planted_surge_is_found_at_the_level_that_explains_it() -> None:
    rng = np.random.default_rng(3)
    rows = [
        (street, cat, day(i), int(n))
        for i in range(40)
        for street in "ABCDEF"
        for cat in "xyzuvw"
        if (n := rng.poisson(4)) > 0
    ]
    rows += [("A", "x", day(39), 25)]  # a burst in one street × category on the last day
    finest = _finest(rows).group_by("street", "category_l3", "day").agg(pl.col("n").sum())
    levels = [
        Level("street", ("street",)),
        Level("category", ("category_l3",)),
        Level("pair", ("street", "category_l3")),
    ]
    found = discoveries(finest, levels, [day(39)], _settings(windows=(1,)), day(0))
    entity = {
        "street|A": ("A", None),
        "category|x": (None, "x"),
        "pair|A|x": ("A", "x"),
        **{f"street|{s}": (s, None) for s in "BCDEF"},
        **{f"category|{c}": (None, c) for c in "yzuvw"},
    }
    # The street and the category are discovered too (the burst is in them), but the pair explains it best.
    assert set(found["level"]) == {"pair", "street", "category"}
    best = best_explanations(found, entity, {})
    assert best.select("level", "series").rows() == [("pair", "A|x")]  # one alert, at the pair


def test_evidence_starts_at_the_burst_not_at_an_ordinary_complaint_before_it() -> None:
    found = pl.DataFrame({"level": ["pair"], "series": ["A|x"], "window": [7], "eval_day": [day(6)], "expected": [0.7]})
    # One ordinary complaint on day 0, quiet days, then 3, 4 and 5 on days 4-6.
    daily = pl.DataFrame({"key": ["pair|A|x"] * 4, "day": [day(0), day(4), day(5), day(6)], "n": [1, 3, 4, 5]})
    assert evidence_start(found, daily)["start"].to_list() == [day(4)]


def test_dispersion_is_zero_for_counts_that_follow_the_city() -> None:
    finest = _finest([(s, "c", day(i), n * (1 + i % 3)) for i in range(30) for s, n in (("A", 2), ("B", 4))])
    city = finest.group_by("day").agg(pl.col("n").sum())
    daily = level_daily(finest, Level("street", ("street",)))
    # Each street is an exact share of the city every day: no variance left beyond the mean → α = 0.
    assert dispersion(daily, city, day(0), day(29)) == 0.0


def test_cusum_finds_a_planted_shift_and_dates_its_start() -> None:
    counts = np.array([[10.0] * 30 + [16.0] * 10])
    expected = np.full((1, 40), 10.0)
    settings = CusumSettings(lookback=1, guard=0, reference=0.5, threshold=5.0, min_expected=2.0, dispersion=0.0)
    total, began = cusum(counts, expected, settings)
    z = 6 / math.sqrt(10)  # each day of the shift adds z − k
    first_signal = int(np.argmax(total[0] >= 5.0))
    assert first_signal == 30 + math.ceil(5.0 / (z - 0.5)) - 1
    assert began[0, first_signal] == 30  # the run began with the shift
    assert total[0, :30].max() == 0.0


def test_surge_message_names_the_start_the_normal_range_and_the_next_step() -> None:
    zh, en = surge_message("临平区 清岭街道", "自来水供应 诉求", 3, 40, 1.3, (0, 4), day(2), ("核查", "check"))
    assert zh == "临平区 清岭街道 自来水供应 诉求：自1月7日起 3 日 40 件，常态约 1.3 件（通常 0–4 件）。建议：核查"
    assert "since Jan 07" in en and "usually 0–4" in en and en.endswith("Next: check")
    assert "不足 0.1 件" in surge_message("x", "y", 1, 3, 0.01, (0, 0), day(0), ("a", "b"))[0]


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
        guard=0,
        min_cases=20,
        min_increase=0.15,
        fdr_level=0.05,
        history_start=day(0),
    )
    found = rate_jumps(groups, [day(59)], cutoff_at=dt.datetime(2027, 1, 1), **kwargs)  # type: ignore[arg-type]
    assert found.height == 1
    row = found.row(0, named=True)
    assert row["observed"] == pytest.approx(0.6)
    assert row["expected"] == pytest.approx(56.5 / 561)  # half a case added to each side of the baseline
    assert row["n"] == 30
    # The score is −log10 of the binomial tail: P(X ≥ 18 | n = 30, p = 56.5 / 561).
    assert row["z"] == pytest.approx(-math.log10(stats.binom.sf(17, 30, 56.5 / 561)))
    assert row["start"] == day(56)  # the first start day whose cases were clearly late
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
    zh, _ = surge_message(names.region("330106003"), "噪声扰民", 7, 86, 3.4, (0, 7), day(0), ("核查", "check"))
    assert zh.startswith("西湖区 北山街道 噪声扰民：自1月5日起 7 日 86 件")


# ---- the rules file ----------------------------------------------------------------------------


def test_shipped_rules_file_loads_with_documented_values() -> None:
    config = load_alert_config()
    assert config.due_soon.warn_share == 0.8
    assert config.complaint_surge.fdr_level == 0.05
    assert config.complaint_surge.windows == (1, 3, 7)
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
    path = _write(tmp_path, '[rules.complaint_surge]\nlookback_days = 3\nmin_count = "five"\n')
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
        "[rules.complaint_surge]\nlookback_days = 0\n": r"line 2: .*at least 1",
        "[rules.complaint_surge]\nwindows = [1, 0]\n": r"line 2: .*day counts of at least 1",
        '[rules.complaint_surge]\nregion_levels = ["city", "county"]\n': r"line 2: .*must be among",
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
    # A guard on today's level, not the goal: v2 finds the demo's surges, stall and repeat clusters but
    # judges late shares on the real rate, which dates the demo's overdue jumps later than 2 days.
    assert scored.recall >= 0.7, scored.missed
    assert scored.precision >= 0.5
    assert scored.false_per_year <= 8


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
