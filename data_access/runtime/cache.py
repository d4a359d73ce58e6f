"""A process-wide result cache keyed on the compiled SQL, shared by every viewer and page.

Twenty wall screens refreshing at once must cost one query, not twenty: entries live for a TTL,
and concurrent misses on the same key wait for the first reader instead of querying again
(single flight). Stale entries are kept so a failed refresh can still show the last good result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass
class _Entry(Generic[T]):
    value: T
    stored_at: float  # time.monotonic()
    wall_time: float  # time.time(), for "data as of HH:MM" notices


class ResultCache(Generic[T]):
    """TTL cache with single-flight loading and a bounded number of entries."""

    def __init__(self, ttl_seconds: float = 60.0, max_entries: int = 512) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[Hashable, _Entry[T]] = {}
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self.loads = 0  # how many times a loader actually ran (tests and benchmarks read it)

    def _key_lock(self, key: Hashable) -> threading.Lock:
        with self._lock:
            lock = self._key_locks.get(key)
            if lock is None:
                lock = self._key_locks[key] = threading.Lock()
            return lock

    def _fresh(self, key: Hashable, ttl: float) -> _Entry[T] | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and time.monotonic() - entry.stored_at < ttl:
            return entry
        return None

    def get_or_load(self, key: Hashable, loader: Callable[[], T], ttl_seconds: float | None = None) -> T:
        ttl = self.ttl_seconds if ttl_seconds is None else ttl_seconds
        entry = self._fresh(key, ttl)
        if entry is not None:
            return entry.value
        with self._key_lock(key):
            entry = self._fresh(key, ttl)  # another thread may have loaded it while we waited
            if entry is not None:
                return entry.value
            value = loader()
            with self._lock:
                self.loads += 1
                self._entries[key] = _Entry(value, time.monotonic(), time.time())
                self._evict()
            return value

    def discard(self, key: Hashable) -> None:
        """Forget one entry (an answer that must be asked again next time, such as "not computed yet")."""
        with self._lock:
            self._entries.pop(key, None)

    def last_good(self, key: Hashable) -> tuple[T, float] | None:
        """The most recent value for a key however old, with its wall-clock time."""
        with self._lock:
            entry = self._entries.get(key)
        return None if entry is None else (entry.value, entry.wall_time)

    def _evict(self) -> None:
        if len(self._entries) <= self.max_entries:
            return
        oldest = sorted(self._entries, key=lambda k: self._entries[k].stored_at)
        for key in oldest[: len(self._entries) - self.max_entries]:
            del self._entries[key]
            self._key_locks.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._key_locks.clear()


# The process's one result cache: metric answers, detail pages, histograms and the data session's
# dimension lookups, each keyed on (database, data version, what was asked). A new data version makes
# new keys, so an import is seen without clearing anything; old entries age out by TTL and size.
RESULTS: ResultCache[Any] = ResultCache(ttl_seconds=60, max_entries=1024)
