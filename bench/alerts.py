"""``python -m bench.alerts [--url URL] [--scale S] [--since D --until D] [--no-write]``

Scores the early-warning engine (``data_access.alerts``) against the demo generator's ground truth,
the ``demo_anomalies`` table, by replaying every day of the demo history, and writes the figures
into ``docs/alerts.md`` between the ``<!-- bench:alerts -->`` markers.

* **Recall**: share of injected anomalies matched by an alert of their kind family, about the same
  entity, whose ``start`` lies in [anomaly start, anomaly start + 2 days].
* **Precision**: share of detection alerts (the operational deadline lists are not scored) that
  overlap an injected anomaly they can explain, on the same entity, in time.
* **Alerts a year without anomaly**: detection alerts that overlap no injected anomaly, per year
  of replay: what a city would see on quiet data.

Without ``--url``, the demo database of ``python -m bench`` at that scale is used (generated once
into ``data/bench/`` when missing).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from data_access.alerts import aggregates as aq
from data_access.alerts.config import load_alert_config
from data_access.alerts.names import load_names
from data_access.alerts.run import compute_alerts
from data_access.alerts.schema import DETECTION_KINDS
from data_access.config.city import load_city
from data_access.runtime.engine import get_engine
from data_access.runtime.paths import REPO_ROOT
from data_access.runtime.session import DataSession
from data_access.semantic.metrics import run_metrics
from data_access.semantic.query import Filter, MetricRequest, OrderBy, TimeRange

DOC = REPO_ROOT / "docs" / "alerts.md"
TOLERANCE = dt.timedelta(days=2)
HISTORY_DAYS = 60  # replay starts this long after the first record: baselines need history

# Injected anomaly kind → the alert kinds that detect it (recall).
FAMILY: dict[str, tuple[str, ...]] = {
    "surge": ("complaint_surge", "intake_surge"),
    "overdue_jump": ("overdue_rate_jump",),
    "repeat_cluster": ("repeat_cluster",),
    "stall": ("stage_stall",),
}
# Alert kind → the injected anomaly kinds that make it a true alert (precision).
EXPLAINS: dict[str, tuple[str, ...]] = {
    "complaint_surge": ("surge", "repeat_cluster"),  # a cluster is also a burst of one category in a street
    "intake_surge": ("surge",),
    "overdue_rate_jump": ("overdue_jump",),
    "repeat_cluster": ("repeat_cluster",),
    "stage_stall": ("stall",),
    "score_drop": ("surge", "repeat_cluster"),
}


@dataclass(frozen=True)
class Tree:
    """Parent links of regions and categories, to tell whether two codes are on one branch."""

    parents: dict[str, str | None]

    def ancestors(self, code: str) -> list[str]:
        chain = [code]
        while (parent := self.parents.get(chain[-1])) is not None and len(chain) < 8:
            chain.append(parent)
        return chain

    def related(self, a: str, b: str) -> bool:
        """Same code, or one encloses the other."""
        return a in self.ancestors(b) or b in self.ancestors(a)


def same_entity(alert: dict[str, object], anomaly: dict[str, object], regions: Tree, categories: Tree) -> bool:
    """Recall: every dimension the anomaly names must be named by the alert and be on the same branch."""
    pairs = (("region_code", "region_code", regions), ("category", "category_code", categories))
    for alert_key, anomaly_key, tree in pairs:
        wanted = anomaly[anomaly_key]
        if wanted is None:
            continue
        found = alert[alert_key]
        if found is None or not tree.related(str(found), str(wanted)):
            return False
    wanted_department = anomaly["department_code"]
    return wanted_department is None or alert["department"] == wanted_department


def explains(alert: dict[str, object], anomaly: dict[str, object], regions: Tree, categories: Tree) -> bool:
    """Precision: the dimensions both name agree (same branch), and they name at least one in common.

    A street's score drop is explained by a repeat cluster in one of its communities although the
    alert names no category; a department's intake surge by a surge of tickets dispatched to it
    (``handled_by``: the department the injected tickets went to, looked up by ``enrich``).
    """
    common = 0
    for alert_key, anomaly_key, tree in (
        ("region_code", "region_code", regions),
        ("category", "category_code", categories),
    ):
        if alert[alert_key] is not None and anomaly[anomaly_key] is not None:
            common += 1
            if not tree.related(str(alert[alert_key]), str(anomaly[anomaly_key])):
                return False
    department = anomaly["department_code"] or anomaly.get("handled_by")
    if alert["department"] is not None and department is not None:
        common += 1
        if alert["department"] != department:
            return False
    return common > 0


@dataclass(frozen=True)
class Score:
    anomalies: int
    detected: int
    alerts: int
    true_alerts: int
    years: float
    missed: list[str]
    latency_days: list[float]  # raised_at - anomaly start, for detected anomalies
    rows: list[str]  # one markdown table row per scored anomaly
    false_by_kind: dict[str, int]

    @property
    def recall(self) -> float:
        return self.detected / self.anomalies if self.anomalies else 1.0

    @property
    def precision(self) -> float:
        return self.true_alerts / self.alerts if self.alerts else 1.0

    @property
    def false_per_year(self) -> float:
        return (self.alerts - self.true_alerts) / self.years if self.years else 0.0


def score(
    alerts: pl.DataFrame,
    anomalies: pl.DataFrame,
    regions: Tree,
    categories: Tree,
    since: dt.date,
    until: dt.date,
) -> Score:
    """Recall and precision of the detection alerts of a replay over [since, until] (pure)."""
    window_start = dt.datetime.combine(since, dt.time())
    window_end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time())
    scored = anomalies.filter((pl.col("start_at") >= window_start) & (pl.col("start_at") < window_end))
    detection = alerts.filter(pl.col("kind").is_in(DETECTION_KINDS)).to_dicts()
    all_anomalies = anomalies.to_dicts()
    detected, missed, latency, rows = 0, [], [], []
    for anomaly in scored.to_dicts():
        start = anomaly["start_at"]
        hits = [
            a
            for a in detection
            if a["kind"] in FAMILY.get(str(anomaly["kind"]), ())
            and same_entity(a, anomaly, regions, categories)
            and start <= a["start"] <= start + TOLERANCE
        ]
        if hits:
            detected += 1
            first = min(hits, key=lambda hit: hit["raised_at"])
            days = (first["raised_at"] - start).total_seconds() / 86400
            latency.append(days)
            found = f"{first['kind']}, start {first['start']:%m-%d}, raised {first['raised_at']:%m-%d} (+{days:.0f} d)"
        else:
            missed.append(f"{anomaly['kind']} {start:%Y-%m-%d}: {anomaly['note']}")
            found = "missed"
        rows.append(f"| {anomaly['kind']} | {start:%Y-%m-%d} | {anomaly['note']} | {found} |")
    true_alerts = 0
    false_by_kind: dict[str, int] = {}
    for alert in detection:
        explained = any(
            anomaly["kind"] in EXPLAINS.get(str(alert["kind"]), ())
            and explains(alert, anomaly, regions, categories)
            and alert["start"] < anomaly["end_at"]
            and anomaly["start_at"] < alert["end"]
            for anomaly in all_anomalies
        )
        if explained:
            true_alerts += 1
        else:
            false_by_kind[str(alert["kind"])] = false_by_kind.get(str(alert["kind"]), 0) + 1
    return Score(
        anomalies=scored.height,
        detected=detected,
        alerts=len(detection),
        true_alerts=true_alerts,
        years=((until - since).days + 1) / 365.25,
        missed=missed,
        latency_days=latency,
        rows=rows,
        false_by_kind=false_by_kind,
    )


def enrich(engine: sa.Engine, anomalies: pl.DataFrame) -> pl.DataFrame:
    """Adds ``handled_by``: the department most of a complaint anomaly's tickets went to (metric layer)."""
    handled: list[str | None] = []
    for row in anomalies.iter_rows(named=True):
        if row["kind"] not in ("surge", "repeat_cluster") or row["region_code"] is None or row["category_code"] is None:
            handled.append(None)
            continue
        request = MetricRequest(
            metrics=("complaint_received",),
            dimensions=("department",),
            filters=(Filter("region", (row["region_code"],)), Filter("category_l3", (row["category_code"],))),
            time_range=TimeRange(row["start_at"], row["end_at"]),
            order_by=(OrderBy("complaint_received", descending=True),),
            limit=1,
        )
        top = run_metrics(engine, request)
        handled.append(top["department"][0] if top.height else None)
    return anomalies.with_columns(pl.Series("handled_by", handled, dtype=pl.String()))


def trees(engine: sa.Engine) -> tuple[Tree, Tree]:
    regions = aq.region_index(engine)
    categories = aq.category_index(engine)
    return (
        Tree(dict(zip(regions["code"].to_list(), regions["parent_code"].to_list(), strict=True))),
        Tree(dict(zip(categories["code"].to_list(), categories["parent_code"].to_list(), strict=True))),
    )


def replay_window(engine: sa.Engine) -> tuple[dt.date, dt.date]:
    """From HISTORY_DAYS after the first complaint to the last day with data."""
    daily = aq.daily_counts(engine, "complaints", (), dt.datetime(1900, 1, 1), dt.datetime(9999, 1, 1))
    first, last = daily["day"].min(), daily["day"].max()
    assert isinstance(first, dt.date) and isinstance(last, dt.date)
    return first + dt.timedelta(days=HISTORY_DAYS), last


def evaluate(engine: sa.Engine, since: dt.date | None = None, until: dt.date | None = None) -> tuple[Score, float]:
    """Replay the detection rules over the window and score them; also returns the replay's seconds."""
    if since is None or until is None:
        since, until = replay_window(engine)
    began = time.perf_counter()
    session = DataSession(engine, load_city())
    alerts = compute_alerts(
        session, since=since, until=until, config=load_alert_config(), kinds=DETECTION_KINDS, names=load_names(engine)
    )
    seconds = time.perf_counter() - began
    regions, categories = trees(engine)
    anomalies = enrich(engine, aq.injected_anomalies(engine))
    return score(alerts, anomalies, regions, categories, since, until), seconds


def report(result: Score, seconds: float, label: str, since: dt.date, until: dt.date) -> str:
    """The markdown block written into docs/alerts.md."""
    latencies = sorted(result.latency_days)
    median = latencies[len(latencies) // 2] if latencies else float("nan")
    within = sum(1 for value in latencies if value <= 2.0)
    false_kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(result.false_by_kind.items())) or "none"
    lines = [
        f"Measured by `python -m bench.alerts` on {label}, replaying every day from {since} to {until}"
        f" ({result.years:.2f} years, {seconds:.1f} s).",
        "",
        "| figure | value |",
        "|---|---|",
        f"| injected anomalies in the window | {result.anomalies} |",
        f"| detected (alert start within 2 days of the anomaly start) | {result.detected} |",
        f"| **recall** | **{result.recall:.2f}** |",
        f"| detection alerts raised | {result.alerts} |",
        f"| of which explained by an injected anomaly | {result.true_alerts} |",
        f"| **precision** | **{result.precision:.2f}** |",
        f"| alerts a year that match no anomaly (quiet data) | {result.false_per_year:.1f} ({false_kinds}) |",
        f"| days from anomaly start to the first matching alert being raised (median) | {median:.1f} |",
        f"| anomalies whose first matching alert was raised within 2 days of their start | {within} |",
    ]
    lines += ["", "| anomaly | start | injected | first matching alert |", "|---|---|---|---|", *result.rows]
    return "\n".join(lines)


def write_report(block: str, path: Path = DOC) -> None:
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(r"(<!-- bench:alerts -->\n).*?(\n<!-- /bench:alerts -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{path} has no <!-- bench:alerts --> … <!-- /bench:alerts --> block")
    path.write_text(pattern.sub(lambda m: m.group(1) + block + m.group(2), text), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.alerts", description=__doc__.split("\n\n")[1])
    parser.add_argument("--url", help="database with demo_anomalies (default: the bench demo at --scale)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--since", type=dt.date.fromisoformat)
    parser.add_argument("--until", type=dt.date.fromisoformat)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/alerts.md alone")
    parser.add_argument("--trials", type=int, help="randomized evaluation with this many trials (bench.alert_trials)")
    parser.add_argument("--seed", type=int, default=0, help="with --trials: the random seed")
    parser.add_argument("--days", type=int, default=365, help="with --trials: days replayed, up to the data's end")
    args = parser.parse_args(argv)
    if args.trials:
        from bench.alert_trials import run_trials

        return run_trials(args.trials, args.seed, args.scale, args.days, not args.no_write)
    if args.url:
        engine, label = get_engine(args.url), "the given database"
    else:
        from bench.__main__ import ensure_database

        path = ensure_database(args.scale)
        engine, label = get_engine(f"duckdb:///{path}"), f"the demo city at scale {args.scale:g} (seed 7)"
    since, until = (args.since, args.until) if args.since and args.until else replay_window(engine)
    result, seconds = evaluate(engine, since, until)
    block = report(result, seconds, label, since, until)
    print(block)
    if not args.no_write:
        write_report(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
