"""The Streamlit floor: a minimal script that sends a captured page again, with no work of its own.

``streamlit run bench/floor_app.py`` with ``BENCH_FLOOR_DIR`` set to a directory written by
``bench.streamlit_floor``. ``/?snap=wall`` shows the big screen's captured messages; each later run
of the same session (a click on the map, a choice in a select box: the replayed widgets send their
values as the real ones do) shows the snapshot that follows it (``floor.json``: the drilled wall,
the topic page filtered to a district); ``/?snap=blank`` and ``/?snap=one_chart`` draw Streamlit's own
reference pages (``bench.browser_steps.REFERENCES``). Nothing is queried or computed: the messages are read once
per process and enqueued as they are, so a step's time here is what Streamlit's server, its
websocket and the browser need to draw that page anyway.

Download buttons are answered with the file the real page produced in the same round (saved by
the benchmark under ``downloads/`` as ``<widget key>.<file name>``), through the same deferred-download
path the real buttons use: the server reads the file when the button is clicked.
"""

from __future__ import annotations

import functools
import json
import mimetypes
import os
import sys
from pathlib import Path

import streamlit as st
from streamlit import runtime
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.streamlit_floor import read_messages  # noqa: E402 - needs the repository on the path first

FLOOR_DIR = Path(os.environ.get("BENCH_FLOOR_DIR", "."))
SNAP_KEY = "_floor_snapshot"


@st.cache_resource
def snapshots() -> dict[str, list[ForwardMsg]]:
    """Every captured snapshot, parsed once per server process (prebuilt, like the floor's figures)."""
    return {path.stem: read_messages(path) for path in FLOOR_DIR.glob("*.msgs")}


def following() -> dict[str, str]:
    meta = FLOOR_DIR / "floor.json"
    return json.loads(meta.read_text(encoding="utf-8")).get("next", {}) if meta.exists() else {}


def current() -> str:
    """The first run of a session shows ``?snap=``; every later run the snapshot that follows."""
    if SNAP_KEY not in st.session_state:
        st.session_state[SNAP_KEY] = str(st.query_params.get("snap", "wall"))
    else:
        shown = st.session_state[SNAP_KEY]
        st.session_state[SNAP_KEY] = following().get(shown, shown)
    return str(st.session_state[SNAP_KEY])


def download_file(element_id: str) -> bytes:
    """The file the real page's button with this widget id downloaded in this round (empty if none).

    Looked up on the click, not on the run: the floor's page is drawn before the real page's
    export step has saved its file (the benchmark times the real step first, then the floor's).
    """
    folder = FLOOR_DIR / "downloads"
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if element_id.endswith(path.name.split(".", 1)[0]):
            return path.read_bytes()
    return b""


def serve_downloads(message: ForwardMsg) -> None:
    """Give a replayed download button a deferred file on this server, as the real button has on its own."""
    if message.WhichOneof("type") != "delta" or message.delta.WhichOneof("type") != "new_element":
        return
    element = message.delta.new_element
    if element.WhichOneof("type") != "download_button" or not runtime.exists():
        return
    button = element.download_button
    name = "floor_" + button.id.rsplit("-", 1)[-1].replace("__export_", ".")  # e.g. floor_explore_chart.csv
    button.deferred_file_id = runtime.get_instance().media_file_mgr.add_deferred(
        functools.partial(download_file, button.id),
        mimetypes.guess_type(name)[0] or "application/octet-stream",
        ".".join(str(part) for part in message.metadata.delta_path),
        file_name=name,
        element_id=button.id,
    )
    button.url = ""


def replay(name: str) -> None:
    ctx = get_script_run_ctx()
    if ctx is None:
        return
    for message in snapshots().get(name, []):
        copy = ForwardMsg()
        copy.CopyFrom(message)
        serve_downloads(copy)
        ctx.enqueue(copy)


def reference(name: str) -> None:
    """Streamlit alone (``bench.browser_steps.REFERENCES``): a title and a number, and one small Plotly chart."""
    import plotly.graph_objects as go

    st.title("floor")
    st.metric("rows", 1)
    if name == "one_chart":
        st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=[1, 3, 2])), key="reference_chart")


snapshot = current()
if snapshot in ("blank", "one_chart"):
    reference(snapshot)
else:
    replay(snapshot)
