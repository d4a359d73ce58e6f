"""``python -m bench.streamlit_floor OUT_DIR``: capture what each benchmarked page sends the browser.

The browser benchmark (``bench.browser``) compares every page with its *Streamlit floor*: the same
page's figures, tables, text and widgets, prebuilt, replayed by a minimal Streamlit script
(``bench/floor_app.py``) and drawn by the same browser. This module makes the prebuilt part: it runs
the real app under Streamlit's AppTest (in this process, against the database the app resolves, e.g.
``COCKPIT_DATABASE_URL``) and keeps, for each page state the benchmark visits, the ForwardMsgs the
script produced (deltas and page config): exactly what the real server would send, minus the work of computing it.

It runs as its own process so the database file is released (DuckDB: one writer) before the
benchmark starts ``streamlit run``, and so the benchmark's memory is not this capture's.

Out: ``OUT_DIR/<snapshot>.msgs`` (length-prefixed serialized ForwardMsgs) and ``OUT_DIR/floor.json``
(the district chosen for the drill and filter steps, its name, and which snapshot follows which).
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

APP = Path(__file__).resolve().parent.parent / "streamlit_app.py"
# ForwardMsg types the floor sends again. Not ``auto_rerun``: the cockpit's refresh timer would make
# the browser ask for reruns of a fragment the floor script does not have (and the real page's timer
# does not fire during a step either); nor the navigation, session and script lifecycle messages,
# which the floor's own server sends for its own script.
REPLAYED = ("delta", "page_config_changed", "logo")
TOPICS = ("complaints", "services", "grid")
WORKBENCH_QUERY = {"domain": "complaints", "dims": "district,time", "chart": "stacked"}
CAPTURE_TIMEOUT = 900.0  # seconds for one AppTest run (a large city on a busy machine)


def workbench_path() -> str:
    """The workbench's two-dimension view as a URL path and query (the real page's step opens it)."""
    return "/explore?" + "&".join(f"{key}={value}" for key, value in WORKBENCH_QUERY.items())


def write_messages(path: Path, messages: list[ForwardMsg]) -> None:
    with path.open("wb") as out:
        for message in messages:
            data = message.SerializeToString()
            out.write(struct.pack(">I", len(data)))
            out.write(data)


def read_messages(path: Path) -> list[ForwardMsg]:
    data, messages, offset = path.read_bytes(), [], 0
    while offset < len(data):
        (size,) = struct.unpack_from(">I", data, offset)
        offset += 4
        message = ForwardMsg()
        message.ParseFromString(data[offset : offset + size])
        messages.append(message)
        offset += size
    return messages


def replayable(messages: list[ForwardMsg]) -> list[ForwardMsg]:
    """The messages the floor sends again (``REPLAYED``), copied, with fragment ids and hashes cleared."""
    kept = []
    for message in messages:
        kind = message.WhichOneof("type")
        if kind not in REPLAYED:
            continue
        copy = ForwardMsg()
        copy.CopyFrom(message)
        copy.ClearField("hash")
        copy.metadata.ClearField("cacheable")
        if kind == "delta":
            copy.delta.ClearField("fragment_id")
        kept.append(copy)
    return kept


def map_hit_counts(messages: list[ForwardMsg]) -> dict[str, int]:
    """Region code -> hit points of the map chart, as ``tests.e2e.browser.REGIONS_JS`` counts them.

    The map is the plotly chart whose last trace carries region codes as customdata; the browser
    step clicks the region with the most points, so the floor's drilled snapshot is that region's.
    """
    best: dict[str, int] = {}
    for message in messages:
        if message.WhichOneof("type") != "delta" or message.delta.WhichOneof("type") != "new_element":
            continue
        element = message.delta.new_element
        if element.WhichOneof("type") != "plotly_chart" or not element.plotly_chart.spec:
            continue
        traces = json.loads(element.plotly_chart.spec).get("data") or []
        custom = traces[-1].get("customdata") if traces else None
        if not custom or not element.plotly_chart.selection_mode:
            continue
        counts: dict[str, int] = {}
        for item in custom:
            code = str(item[0] if isinstance(item, list) else item)
            counts[code] = counts.get(code, 0) + 1
        best = counts
    return best


def largest(counts: dict[str, int]) -> str:
    """The code with the most hit points; ties go to the first in JavaScript's key order (numeric first)."""
    order = sorted(counts, key=lambda code: (not code.isdigit(), int(code) if code.isdigit() else 0, code))
    return max(order, key=lambda code: counts[code])


# ---- the capture (AppTest) -------------------------------------------------------------------------


class _Recorder:
    """Patches AppTest's script runner to keep the ForwardMsgs of each run."""

    def __init__(self) -> None:
        from streamlit.testing.v1 import local_script_runner

        self.last: list[ForwardMsg] = []
        runner = local_script_runner.LocalScriptRunner
        original = runner.run
        recorder = self

        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            tree = original(self, *args, **kwargs)
            recorder.last = list(self.forward_msgs())
            return tree

        runner.run = run  # type: ignore[method-assign]


def _checked(at: Any, name: str) -> None:
    if at.exception:
        raise RuntimeError(f"{name}: the page raised {[e.value for e in at.exception]}")


def _start(params: dict[str, str] | None = None) -> Any:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=CAPTURE_TIMEOUT)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    return at


def capture(out: Path) -> dict[str, Any]:
    """Run every page state the browser benchmark visits; write its messages; return the metadata."""
    recorder = _Recorder()
    out.mkdir(parents=True, exist_ok=True)
    snapshots: dict[str, list[ForwardMsg]] = {}

    at = _start({"kiosk": "1"})
    at.run()
    _checked(at, "wall")
    snapshots["wall"] = replayable(recorder.last)
    counts = map_hit_counts(snapshots["wall"])
    if not counts:
        raise RuntimeError("the wall's map chart was not found in the captured messages")
    district = largest(counts)
    at.session_state["map_district"] = district
    at.run()
    _checked(at, "wall drilled")
    snapshots["wall_drilled"] = replayable(recorder.last)

    following = {"wall": "wall_drilled"}
    district_name = ""
    for domain in TOPICS:
        at = _start()
        at.run()
        at.switch_page(f"pages/{domain}.py").run()
        _checked(at, domain)
        snapshots[domain] = replayable(recorder.last)
        box = at.selectbox(key="district")
        district_name = str(box.format_func(district))
        box.set_value(district).run()
        _checked(at, f"{domain} in {district}")
        snapshots[f"{domain}_district"] = replayable(recorder.last)
        following[domain] = f"{domain}_district"

    at = _start(dict(WORKBENCH_QUERY))
    at.run()
    at.switch_page("pages/explore.py").run()
    _checked(at, "workbench")
    snapshots["workbench"] = replayable(recorder.last)

    at = _start()
    at.run()
    at.switch_page("pages/report.py").run()
    _checked(at, "report")
    snapshots["report"] = replayable(recorder.last)

    for name, messages in snapshots.items():
        write_messages(out / f"{name}.msgs", messages)
    meta = {"district": district, "district_name": district_name, "next": following}
    (out / "floor.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    return meta


def snapshot_names(out: Path) -> Iterator[str]:
    return (path.stem for path in sorted(out.glob("*.msgs")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.streamlit_floor", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="directory for the captured messages")
    args = parser.parse_args(argv)
    meta = capture(args.out)
    print(json.dumps(meta, ensure_ascii=False), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
