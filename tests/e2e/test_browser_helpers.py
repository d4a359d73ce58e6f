"""The browser tests' own judgement, tested without a browser: which requests are foreign, which errors are noise."""

from __future__ import annotations

from tests.e2e import browser as web

APP = "http://127.0.0.1:8745"


def test_only_the_apps_origin_counts_as_own() -> None:
    urls = [
        f"{APP}/",
        f"{APP}/static/js/index.js",
        "ws://127.0.0.1:8745/_stcore/stream",
        "data:image/png;base64,AAAA",
        "blob:http://127.0.0.1:8745/5f0c",
        "file:///tmp/chart.html",
        "http://localhost:8745/",  # same machine, another origin: a deployment would not have it
        "http://127.0.0.1:8501/",
        "https://fonts.gstatic.com/s/materialsymbols.woff2",
        "https://cdn.jsdelivr.net/npm/echarts.min.js",
        "wss://telemetry.example.org/",
    ]
    assert web.foreign_requests(urls, APP) == sorted(
        [
            "http://localhost:8745/",
            "http://127.0.0.1:8501/",
            "https://fonts.gstatic.com/s/materialsymbols.woff2",
            "https://cdn.jsdelivr.net/npm/echarts.min.js",
            "wss://telemetry.example.org/",
        ]
    )


def test_only_streamlits_base_path_probe_is_ignored() -> None:
    assert web.is_streamlit_base_probe(f"{APP}/services/_stcore/health", APP)
    assert web.is_streamlit_base_probe(f"{APP}/grid/_stcore/host-config", APP)
    assert not web.is_streamlit_base_probe(f"{APP}/_stcore/health", APP)  # the real health check failing
    assert not web.is_streamlit_base_probe(f"{APP}/services/static/app.js", APP)
    assert not web.is_streamlit_base_probe("http://127.0.0.1:9999/services/_stcore/health", APP)


def test_free_port_is_in_the_range_and_free() -> None:
    import socket

    port = web.free_port()
    assert web.PORT_RANGE[0] <= port <= web.PORT_RANGE[1]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
