"""The randomized evaluation's report: the markdown block, the recall-vs-size chart, and their place in the docs.

Kept apart from ``bench.alert_trials`` (which injects, replays and scores) so each stays small.
"""

from __future__ import annotations

import os
import re
import statistics
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from bench import alert_injections as inj
from data_access.runtime.paths import REPO_ROOT

if TYPE_CHECKING:
    from bench.alert_trials import Totals

DOC = REPO_ROOT / "docs" / "alerts.md"
CHART = REPO_ROOT / "docs" / "img" / "alerts_recall_vs_size.svg"
SIZES = (1, 2, 4, 6, 8)
CONTROLS = ("clean", "holiday_dip", "uniform_growth")


def _ratio(hits: int, total: int) -> str:
    return f"{hits}/{total} ({hits / total:.2f})" if total else "–"


def recall_by_size(results: list[dict[str, object]], key: str = "detected") -> dict[str, dict[int, tuple[int, int]]]:
    """family → size → (detected, injected)."""
    table: dict[str, dict[int, tuple[int, int]]] = {f: {} for f in inj.FAMILIES}
    for r in results:
        hit, total = table[str(r["family"])].get(int(r["size_sigma"]), (0, 0))  # type: ignore[call-overload]
        table[str(r["family"])][int(r["size_sigma"])] = (hit + bool(r[key]), total + 1)  # type: ignore[call-overload]
    return table


def report(totals: Totals, districts: int, days: int, header: str) -> str:
    """The markdown tables: recall by family × size, ≥4σ recall, delay, FDP, controls, kinds, timings."""
    tol = recall_by_size(totals.results)
    lines = [
        header,
        "",
        "| family | " + " | ".join(f"{k}σ" for k in SIZES) + " | ≥4σ (tolerance) | ≥4σ (any overlap) |",
    ]
    lines.append("|---|" + "---|" * (len(SIZES) + 2))
    big = [r for r in totals.results if float(r["size_sigma"]) >= 4]  # type: ignore[arg-type]
    for family in inj.FAMILIES:
        cells = [_ratio(*tol[family].get(k, (0, 0))) for k in SIZES]
        mine = [r for r in big if r["family"] == family]
        hit, hit_any = sum(bool(r["detected"]) for r in mine), sum(bool(r["detected_any"]) for r in mine)
        lines.append(
            f"| {family} | " + " | ".join(cells) + f" | {_ratio(hit, len(mine))} | {_ratio(hit_any, len(mine))} |"
        )
    delays = [float(r["delay_days"]) for r in totals.results if r["delay_days"] is not None]  # type: ignore[arg-type]
    years = days / 365
    median = statistics.median(delays) if delays else float("nan")
    everything = _ratio(sum(bool(r["detected"]) for r in totals.results), len(totals.results))
    lines += [
        "",
        "| figure | value |",
        "|---|---|",
        f"| recall ≥4σ, within tolerance | {_ratio(sum(bool(r['detected']) for r in big), len(big))} |",
        f"| recall ≥4σ, any overlap in time | {_ratio(sum(bool(r['detected_any']) for r in big), len(big))} |",
        f"| recall all sizes, within tolerance | {everything} |",
        f"| median delay, anomaly start → first matching alert raised (days) | {median:.1f} |",
        f"| false discovery proportion (injected copies, pooled) | {_ratio(len(totals.false), totals.alerts)} |",
    ]
    for control in CONTROLS:
        found, copies = totals.controls[control], totals.control_copies[control]
        rate = len(found) / (districts * years * copies) if copies else float("nan")
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(Counter(found).items())) or "none"
        lines.append(
            f"| control `{control}`: unexplained alerts per district-year ({copies} copies) | {rate:.3f} ({kinds}) |"
        )
    lines += ["", "| alert kind | " + " | ".join(totals.kinds) + " |", "|---|" + "---|" * len(totals.kinds)]
    for kind in sorted({k for c in totals.kinds.values() for k in c}):
        lines.append(f"| {kind} | " + " | ".join(str(c[kind]) for c in totals.kinds.values()) + " |")
    timing = ", ".join(f"{label} {seconds:.1f} s" for label, seconds in totals.seconds)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines += ["", f"Replay seconds per copy: {timing}. Load average (1, 5, 15 min): {load}."]
    return "\n".join(lines)


# ---- the chart, the doc block and the run --------------------------------------------------------------


def chart(totals: Totals, path: Path = CHART) -> None:
    """Recall (within tolerance) against size, one line per family: plotly + kaleido, else a hand-drawn SVG."""
    table = recall_by_size(totals.results)
    series = {f: [(k, h / n) for k, (h, n) in sorted(table[f].items()) if n] for f in inj.FAMILIES}
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import plotly.graph_objects as go

        figure = go.Figure(
            [
                go.Scatter(x=[x for x, _ in s], y=[y for _, y in s], name=f, mode="lines+markers")
                for f, s in series.items()
            ]
        )
        figure.update_layout(
            xaxis_title="anomaly size (σ of the local baseline)",
            yaxis_title="recall within tolerance",
            yaxis_range=[0, 1.05],
        )
        figure.write_image(str(path), width=800, height=480)
    except Exception as exc:  # kaleido or chromium missing: no network, draw it by hand
        print(f"plotly/kaleido failed ({exc}); writing a plain SVG")
        colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"]

        def sx(x: float) -> float:
            return 60 + x * 80

        def sy(y: float) -> float:
            return 420 - y * 380

        parts = [
            '<svg xmlns="http://www.w3.org/2000/svg" width="900" height="460" font-family="sans-serif" font-size="12">'
        ]
        parts += ['<line x1="60" y1="420" x2="700" y2="420" stroke="black"/>']
        parts += ['<line x1="60" y1="40" x2="60" y2="420" stroke="black"/>']
        parts += [f'<text x="{sx(k) - 8}" y="438">{k}σ</text>' for k in SIZES] + [
            f'<text x="25" y="{sy(y) + 4}">{y:.1f}</text>' for y in (0, 0.5, 1)
        ]
        for i, (family, points) in enumerate(series.items()):
            xy = " ".join(f"{sx(x):.0f},{sy(y):.0f}" for x, y in points)
            parts += [f'<polyline fill="none" stroke="{colours[i]}" stroke-width="2" points="{xy}"/>']
            parts += [f'<text x="720" y="{60 + 18 * i}" fill="{colours[i]}">{family}</text>']
        path.write_text("\n".join([*parts, "</svg>"]), encoding="utf-8")


def write_block(block: str, path: Path = DOC) -> None:
    """Puts the block between the trial markers, adding them at the end of "How good it is" when missing."""
    begin, end = "<!-- bench:alert-trials -->", "<!-- /bench:alert-trials -->"
    text = path.read_text(encoding="utf-8")
    if begin not in text:
        text = text.replace("\n## Limits", f"\n{begin}\n{end}\n\n## Limits", 1)
    pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(end), re.S)
    path.write_text(pattern.sub(lambda _: f"{begin}\n{block}\n{end}", text), encoding="utf-8")
