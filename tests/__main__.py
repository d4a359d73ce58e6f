"""``python -m tests``: the whole suite as the README runs it, in two timed halves.

First the fast subset a developer runs between two edits (``pytest -m "not slow"``), then the slow
tests (``pytest -m slow``: whole-app, browser and server tests). Together they are exactly
``pytest`` (every test is in one half: ``slow`` is the only marker that splits them), and each
half's wall time is printed with the load average, so ``.ci/run`` reports both figures without
running the fast subset twice. Extra arguments go to both pytest runs (``python -m tests -x``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

HALVES = (("fast tests", "not slow"), ("slow tests", "slow"))
NO_TESTS_COLLECTED = 5  # pytest's exit code when a half selects nothing (e.g. a -k that matches one half)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def run(arguments: list[str]) -> int:
    """Run both halves (the second even when the first fails, so one run shows every failure)."""
    timings: list[str] = []
    failed = 0
    started_all = time.monotonic()
    for label, marker in HALVES:
        started = time.monotonic()
        code = subprocess.call([sys.executable, "-m", "pytest", "-m", marker, *arguments])
        seconds = time.monotonic() - started
        load = f"load average {load_average()} on {os.cpu_count()} cores"
        timings.append(f'{label}: {seconds:.0f} s   (pytest -m "{marker}"; {load})')
        if code not in (0, NO_TESTS_COLLECTED):
            failed = code
    timings.append(f"all tests: {time.monotonic() - started_all:.0f} s")
    print("\n".join(timings), flush=True)
    return failed


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
