"""The last good answer: a wall screen whose refresh fails keeps showing the last numbers, with a notice."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from dashboard.auth import sign_in

T = TypeVar("T")
log = logging.getLogger(__name__)

_LAST_GOOD: dict[Hashable, tuple[Any, dt.datetime]] = {}
_LAST_GOOD_MAX = 64
_last_good_lock = threading.Lock()


def with_last_good(key: Hashable, load: Callable[[], T]) -> tuple[T, dt.datetime | None]:
    """``(load(), None)``, remembered under ``key``; if loading fails, ``(last good value, when it was loaded)``.

    Shared by every session of the process, so a screen opened during an outage still shows the
    last numbers. Without any good value the failure propagates. The viewer's scope is part of the
    key: a session never falls back to numbers loaded for another scope.
    """
    key = (sign_in.current_access().scope, key)
    try:
        value = load()
    except Exception:
        with _last_good_lock:
            stored = _LAST_GOOD.get(key)
        if stored is None:
            raise
        log.warning("big-screen refresh failed; showing the data of %s", stored[1], exc_info=True)
        return stored[0], stored[1]
    with _last_good_lock:
        _LAST_GOOD.pop(key, None)
        _LAST_GOOD[key] = (value, dt.datetime.now())
        while len(_LAST_GOOD) > _LAST_GOOD_MAX:
            del _LAST_GOOD[next(iter(_LAST_GOOD))]
    return value, None
