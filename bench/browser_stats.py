"""The pure parts of the browser benchmark: statistics over rounds, server memory, the markdown table.

Kept apart from ``bench.browser`` (which needs Chromium and a server) so tests can check them fast.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

MARK_START = "<!-- browser-bench:start (written by python -m bench --browser; edit outside the markers) -->"
MARK_END = "<!-- browser-bench:end -->"


@dataclass(frozen=True)
class Sample:
    """One step's time in one round (None: the step failed or has no floor), and the load when it began."""

    step: str
    seconds: float | None
    load: float


@dataclass(frozen=True)
class Summary:
    """A step over all rounds: min and median of the rounds that finished, the load range seen."""

    step: str
    minimum: float | None
    median: float | None
    finished: int
    rounds: int
    load_low: float
    load_high: float


def summarise(samples: Iterable[Sample]) -> dict[str, Summary]:
    """Per step (in first-seen order): min and median seconds over its finished rounds."""
    by_step: dict[str, list[Sample]] = {}
    for sample in samples:
        by_step.setdefault(sample.step, []).append(sample)
    out = {}
    for step, mine in by_step.items():
        times = [s.seconds for s in mine if s.seconds is not None]
        loads = [s.load for s in mine]
        out[step] = Summary(
            step,
            min(times) if times else None,
            statistics.median(times) if times else None,
            len(times),
            len(mine),
            min(loads),
            max(loads),
        )
    return out


# ---- server memory ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Memory:
    """Resident memory of a server and its child processes, in KiB (VmRSS now, VmHWM = peak)."""

    rss_kib: int
    hwm_kib: int
    processes: int


def parse_status(text: str) -> tuple[int, int]:
    """(VmRSS, VmHWM) in KiB from a ``/proc/<pid>/status`` text; 0 for a field that is missing (a zombie)."""
    found = {"VmRSS": 0, "VmHWM": 0}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in found:
            parts = value.split()
            found[key] = int(parts[0]) if parts and parts[0].isdigit() else 0
    return found["VmRSS"], found["VmHWM"]


def child_pids(pid: int, proc: Path = Path("/proc")) -> list[int]:
    """The pids whose parent is ``pid`` (from each ``/proc/<n>/stat``; psutil is not a dependency)."""
    children = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        # "pid (comm) state ppid …": comm may hold spaces and brackets, so split after the last ")".
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(pid):
            children.append(int(entry.name))
    return children


def tree_memory(pid: int, proc: Path = Path("/proc")) -> Memory:
    """RSS and peak RSS summed over ``pid`` and all its descendants.

    The sum of peaks over-states a peak if children peaked at different times; with the server's
    usual single process (a PNG export's Chromium is the exception) the two are the same.
    """
    rss = hwm = count = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            now, peak = parse_status((proc / str(current) / "status").read_text())
        except OSError:
            continue
        rss, hwm, count = rss + now, hwm + peak, count + 1
        pending.extend(child_pids(current, proc))
    return Memory(rss, hwm, count)


# ---- the markdown ----------------------------------------------------------------------------------


def seconds_text(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:,.2f}"


def ratio_text(page: float | None, floor: float | None) -> str:
    return "—" if page is None or floor is None or floor <= 0 else f"{page / floor:.1f}×"


def step_table(page: dict[str, Summary], floor: dict[str, Summary], no_floor: dict[str, str]) -> list[str]:
    """One row per step: the page's and the floor's min and median (seconds), their ratio, the load.

    ``no_floor`` maps a step without a floor to the footnote mark that says why.
    """
    lines = [
        "| step | page, min | page, median | floor, min | floor, median | page ÷ floor (medians) "
        "| rounds done (page / floor) | load average (1 min) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for step, mine in page.items():
        base = floor.get(step)
        mark = no_floor.get(step, "")
        floor_min = seconds_text(base.minimum if base else None) + mark
        floor_median = seconds_text(base.median if base else None) + mark
        done = f"{mine.finished}/{mine.rounds} / " + (f"{base.finished}/{base.rounds}" if base else "—")
        low = min(mine.load_low, base.load_low) if base else mine.load_low
        high = max(mine.load_high, base.load_high) if base else mine.load_high
        load = f"{low:.1f}" if f"{low:.1f}" == f"{high:.1f}" else f"{low:.1f}–{high:.1f}"
        lines.append(
            f"| {step} | {seconds_text(mine.minimum)} | {seconds_text(mine.median)} | {floor_min} | {floor_median} "
            f"| {ratio_text(mine.median, base.median if base else None)} | {done} | {load} |"
        )
    return lines


def reference_line(references: dict[str, Summary]) -> str:
    """Streamlit and Chromium alone in a new tab (``bench.browser_steps.REFERENCES``): medians over the rounds."""
    if not references:
        return "Streamlit alone: not measured."
    parts = [f"{label} {seconds_text(found.median)} s" for label, found in references.items()]
    return (
        "Streamlit and Chromium alone, each in a new tab (medians; `bench/floor_app.py`'s reference pages): "
        + "; ".join(parts)
        + ". The difference is Plotly's chart library, which every new tab loads and evaluates again: the"
        " least any *cold* step with a chart can take on this machine."
    )


def memory_line(label: str, memories: Sequence[Memory]) -> str:
    """``label``: RSS after the steps and peak RSS, as min–max over rounds, in MiB."""
    if not memories:
        return f"{label}: not measured."

    def span(values: list[int]) -> str:
        low, high = min(values) / 1024, max(values) / 1024
        return f"{low:,.0f}" if round(low) == round(high) else f"{low:,.0f}–{high:,.0f}"

    processes = max(m.processes for m in memories)
    return (
        f"{label}: {span([m.rss_kib for m in memories])} MiB resident after the steps, "
        f"peak {span([m.hwm_kib for m in memories])} MiB (VmRSS / VmHWM of the server"
        + (f" and its {processes - 1} child processes" if processes > 1 else "")
        + ", over the rounds)."
    )


def replace_section(text: str, section: str, start: str = MARK_START, end: str = MARK_END) -> str:
    """``text`` with what lies between the markers replaced by ``section`` (markers kept);
    appended at the end, markers and all, when the markers are not there yet."""
    block = f"{start}\n{section.strip(chr(10))}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        return before + block + after
    return text.rstrip("\n") + "\n\n" + block + "\n"
