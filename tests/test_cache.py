"""The shared result cache: many viewers of one view cost one query; results expire after the TTL."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from data_access.runtime.cache import ResultCache
from data_access.semantic import metrics
from data_access.semantic.metrics import run_metrics
from data_access.semantic.query import MetricRequest, Scope
from tests.test_metrics import FEBRUARY


def test_twenty_concurrent_viewers_cause_one_query(tiny_engine: sa.Engine) -> None:
    cache: ResultCache[object] = ResultCache(ttl_seconds=60)
    request = MetricRequest(("complaint_received", "complaint_composite_score"), ("district",), time_range=FEBRUARY)
    before = metrics.statements_executed
    results: list[object] = []
    barrier = threading.Barrier(20)

    def viewer() -> None:
        barrier.wait()
        results.append(run_metrics(tiny_engine, request, cache=cache))  # type: ignore[arg-type]

    threads = [threading.Thread(target=viewer) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert metrics.statements_executed - before == 1
    assert cache.loads == 1
    assert len(results) == 20 and all(result is results[0] for result in results)


def test_different_scopes_are_different_queries(tiny_engine: sa.Engine) -> None:
    cache: ResultCache[object] = ResultCache(ttl_seconds=60)
    for departments in ({"DEP_A"}, {"DEP_B"}, {"DEP_A"}):
        scoped = MetricRequest(
            ("service_received",), time_range=FEBRUARY, scope=Scope(departments=frozenset(departments))
        )
        run_metrics(tiny_engine, scoped, cache=cache)  # type: ignore[arg-type]
    assert cache.loads == 2  # a scope never reads another scope's cached result


def test_entries_expire_and_last_good_survives() -> None:
    cache: ResultCache[int] = ResultCache(ttl_seconds=0.05)
    calls = iter(range(100))
    assert cache.get_or_load("k", lambda: next(calls)) == 0
    assert cache.get_or_load("k", lambda: next(calls)) == 0
    time.sleep(0.06)
    assert cache.get_or_load("k", lambda: next(calls)) == 1
    value, stored = cache.last_good("k") or (None, 0.0)
    assert value == 1 and abs(stored - time.time()) < 5


def test_failed_load_keeps_previous_value() -> None:
    cache: ResultCache[int] = ResultCache(ttl_seconds=0)

    def broken() -> int:
        raise RuntimeError("database went away")

    cache.get_or_load("k", lambda: 7)
    with pytest.raises(RuntimeError, match="went away"):
        cache.get_or_load("k", broken)
    last = cache.last_good("k")
    assert last is not None and last[0] == 7


def test_bounded_size() -> None:
    cache: ResultCache[int] = ResultCache(ttl_seconds=60, max_entries=3)
    for key in range(10):
        cache.get_or_load(key, lambda key=key: key)  # type: ignore[misc]
    assert [key for key in range(10) if cache.last_good(key) is not None] == [7, 8, 9]
