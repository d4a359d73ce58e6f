"""``python -m bench --browser [--scale S] [--url URL] [--rounds N]``: the page a person waits for.

``python -m bench`` times the metric layer; nobody waits for that alone. This times the pages in
real Chromium (Playwright, Debian's ``chromium``, the helpers of ``tests/e2e/browser.py``): the wall
cold and in a second tab, a drill on its map, each topic page cold and after a district filter,
the workbench with two dimensions and its CSV and XLSX exports, and the briefing page
(``bench.browser_steps``). Each round starts a fresh ``streamlit run`` (cold = the first viewer
after a server start) and a fresh browser context (an empty HTTP cache), and reads the server's
resident memory after the steps.

Beside every step stands its **Streamlit floor**: the same page's messages captured once from the
real page under AppTest (``bench.streamlit_floor``) and replayed by a minimal script
(``bench/floor_app.py``) on its own ``streamlit run``, timed the same way in the same browser. The
difference is what the page's own Python costs; the floor is what Streamlit and the browser need
anyway. Results: min and median over the rounds, written between the browser-bench markers of
docs/benchmarks.md. Not part of the test suite.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa

from bench import browser_stats as stats
from bench.__main__ import ensure_database, machine
from bench.browser_steps import Run, Target, step_names, timed_references, timed_step
from bench.browser_viewers import try_viewers, viewers_line
from data_access.runtime.engine import dispose_engine, get_engine
from data_access.runtime.paths import REPO_ROOT
from data_access.semantic.metric_registry import TIME_COLUMN
from tests.e2e import browser as web

FLOOR_SCRIPT = "bench/floor_app.py"
NO_FLOOR = "¹"


def fact_rows(url: str) -> str:
    """Rows per fact table (services / complaints / grid), read before any server holds the file."""
    engine = get_engine(url)
    try:
        with engine.connect() as connection:
            counts = [
                connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("service_cases", "complaints", "grid_events")
                if table in TIME_COLUMN
            ]
    finally:
        dispose_engine(url)
    return " / ".join(f"{count:,}" for count in counts)


def app_env(url: str, data_dir: Path) -> dict[str, str | None]:
    """The app's server environment, as the browser tests set it (the default city, no alert config)."""
    return {
        "COCKPIT_DATABASE_URL": url,
        "COCKPIT_DATA_DIR": str(data_dir),
        "COCKPIT_CITY": None,
        "COCKPIT_ALERTS": None,
    }


def capture_floor(url: str, data_dir: Path, floor_dir: Path) -> dict[str, str]:
    """Run ``bench.streamlit_floor`` in a child process (it releases the database when it exits)."""
    environment = dict(os.environ)
    for key, value in app_env(url, data_dir).items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    print("capturing the pages for the Streamlit floor …", file=sys.stderr, flush=True)
    done = subprocess.run(
        [sys.executable, "-m", "bench.streamlit_floor", str(floor_dir)],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"capturing the floor failed:\n{done.stderr[-3000:]}")
    return dict(json.loads((floor_dir / "floor.json").read_text(encoding="utf-8")))


Viewers = tuple[stats.Memory, stats.Memory] | None
Results = tuple[
    list[stats.Sample], list[stats.Sample], list[stats.Memory], list[stats.Memory], list[stats.Sample], Viewers
]


def measure(url: str, rounds: int, work: Path) -> Results:
    """Every round: a fresh app server and a fresh floor server; each step on the app, then on the floor."""
    from playwright.sync_api import sync_playwright

    data_dir, floor_dir = work / "data", work / "floor"
    data_dir.mkdir()
    meta = capture_floor(url, data_dir, floor_dir)
    district, name = meta["district"], meta["district_name"]
    page_samples: list[stats.Sample] = []
    floor_samples: list[stats.Sample] = []
    page_memory: list[stats.Memory] = []
    floor_memory: list[stats.Memory] = []
    references: list[stats.Sample] = []
    with sync_playwright() as playwright:
        chromium = web.launch_chromium(playwright)
        try:
            for number in range(1, rounds + 1):
                print(f"round {number}/{rounds}:", file=sys.stderr, flush=True)
                shutil.rmtree(floor_dir / "downloads", ignore_errors=True)
                floor_env: dict[str, str | None] = {"BENCH_FLOOR_DIR": str(floor_dir)}
                with (
                    web.streamlit_process(app_env(url, data_dir)) as (app_base, app_process),
                    web.streamlit_process(floor_env, script=FLOOR_SCRIPT) as (floor_base, floor_process),
                    Run(chromium, Target(app_base, False), district, name, floor_dir / "downloads") as app,
                    Run(chromium, Target(floor_base, True), district, name) as floor,
                ):
                    # The app's step first: the floor's export answers with the file it just made.
                    for (step, on_app), (_, on_floor) in zip(app.plan(), floor.plan(), strict=True):
                        seconds, load = timed_step(step, on_app, "app")
                        page_samples.append(stats.Sample(step, seconds, load))
                        seconds, load = timed_step(step, on_floor, "floor")
                        floor_samples.append(stats.Sample(step, seconds, load))
                    page_memory.append(stats.tree_memory(app_process.pid))
                    floor_memory.append(stats.tree_memory(floor_process.pid))
                    for label, seconds in timed_references(chromium, floor_base).items():
                        references.append(stats.Sample(label, seconds, os.getloadavg()[0]))
            viewers = try_viewers(chromium, app_env(url, data_dir))
        finally:
            chromium.close()
    return page_samples, floor_samples, page_memory, floor_memory, references, viewers


def section(
    command: str,
    label: str,
    rows: str,
    rounds: int,
    development: bool,
    load_before: tuple[float, float, float],
    results: Results,
) -> str:
    page_samples, floor_samples, page_memory, floor_memory, references, viewers = results
    page, floor = stats.summarise(page_samples), stats.summarise(floor_samples)
    order = {name: index for index, name in enumerate(step_names())}
    page = dict(sorted(page.items(), key=lambda item: order.get(item[0], len(order))))
    no_floor = {step: NO_FLOOR for step in page if step not in floor or floor[step].finished == 0}
    lines = [
        f"Measured {dt.datetime.now():%Y-%m-%d %H:%M} with `python -m bench {command}`",
        f"on {machine()}; Chromium {_chromium_version()}.",
        f"Database: {label}; rows per fact table (services / complaints / grid): {rows}. {rounds} round(s);"
        f" load average before the run {load_before[0]:.1f} / {load_before[1]:.1f} / {load_before[2]:.1f}"
        " (1 / 5 / 15 min).",
        "",
    ]
    if development:
        lines += [
            "**Development run** (a small city and/or fewer than 3 rounds): it shows the benchmark works end to",
            "end; its figures are not the ones to quote.",
            "",
        ]
    lines += stats.step_table(page, floor, no_floor)
    lines += [""]
    if no_floor:
        lines += [
            f"{NO_FLOOR} No floor figure: a move between pages in one tab (the floor serves one captured page per"
            " address, with no sidebar), or a step that did not finish on the floor in any round (the run's log"
            " says why; e.g. the browser clicked another district than the one captured).",
            "",
        ]
    lines += [stats.reference_line(stats.summarise(references)), ""]
    lines += [
        stats.memory_line("App server", page_memory),
        viewers_line(viewers),
        stats.memory_line("Floor server", floor_memory),
        "",
        "Seconds. *page*: the real app (`streamlit run streamlit_app.py`, a fresh server each round);",
        "*floor*: the same page's captured messages replayed by `bench/floor_app.py` (nothing computed),",
        "timed the same way in the same browser. A step runs from the navigation or click until the page",
        "is drawn and stays drawn (script finished, every panel and Plotly chart drawn, fonts loaded);",
        "exports from the click until the file is complete. *cold*: a new tab, the first to open that page",
        "since the server started; *warm*: a second tab on the wall after the first; *from the sidebar*: a",
        "click on the page's link in a tab already showing the app. Load average:",
        "1-minute values when the steps began (page and floor, over the rounds).",
    ]
    return "\n".join(lines)


def _chromium_version() -> str:
    executable = web.find_chromium()
    if executable is None:
        return "?"
    done = subprocess.run([executable, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip().removeprefix("Chromium ") or "?"


def run(scale: float, url: str | None, rounds: int, out: Path, command: str) -> str:
    """Measure, write the section into ``out`` between the browser-bench markers, return it."""
    problem = web.browser_problem()
    if problem:
        raise SystemExit(f"the browser benchmark cannot run: {problem}")
    if url is None:
        url = f"duckdb:///{ensure_database(scale)}"
        label, development = f"embedded DuckDB demo, scale {scale:g}", scale < 1 or rounds < 3
    else:
        name = sa.make_url(url)
        label, development = f"{name.get_backend_name()} `{name.database}`", rounds < 3
    rows = fact_rows(url)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-browser-") as work:
        results = measure(url, rounds, Path(work))
    text = section(command, label, rows, rounds, development, load_before, results)
    old = out.read_text(encoding="utf-8") if out.exists() else "# Benchmarks\n"
    out.write_text(stats.replace_section(old, text), encoding="utf-8")
    return text
