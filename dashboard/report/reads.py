"""Every data read of the briefing, behind one object: the metric requests, the code names, the targets table,
the alerts and the data's as-of time.

The content modules never touch an engine: they receive a :class:`BriefingReads` and ask it. The one
implementation, :class:`SessionReads`, asks the recipient's data session
(:class:`~data_access.runtime.session.DataSession`), so the briefing — made on the page or by the
command line — is scoped, audited and cached exactly like every page, with the city's 三率 weights.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import polars as pl

from data_access.alerts.store import AlertSet
from data_access.runtime.session import DataSession
from data_access.semantic.query import MetricRequest, Scope

Runner = Callable[[MetricRequest], pl.DataFrame]


class BriefingReads(Protocol):
    """What the briefing reads; every request it answers carries :attr:`scope`, the recipient's."""

    @property
    def scope(self) -> Scope: ...

    def run(self, request: MetricRequest) -> pl.DataFrame:
        """Answer one metric request within the scope."""
        ...

    def code_names(self, dimension: str) -> dict[str, str]:
        """Code → display name of a coded dimension (district, street, department, category_l1)."""
        ...

    def region_names(self) -> dict[str, str]:
        """Region code → name, every level."""
        ...

    def target_rows(self) -> list[dict[str, Any]]:
        """The rows of the targets table (per region and period), for ``resolve_targets``."""
        ...

    def alerts(self, as_of: dt.datetime) -> AlertSet:
        """The alerts standing at ``as_of`` within the scope (``compute_alerts``' frame), or "not computed yet"."""
        ...

    def data_as_of(self) -> dt.datetime | None:
        """The latest record time in the facts; None when the database holds no records."""
        ...


@dataclass(frozen=True)
class SessionReads:
    """:class:`BriefingReads` through a data session: the session's scope (the recipient's), its audit log,
    the city's settings and the shared result cache.

    ``live_alerts``: compute the alerts in place when the store has none yet (the command line, which has
    no background job to wait for); the page reads only the store and asks the job.
    """

    session: DataSession
    live_alerts: bool = False

    @property
    def scope(self) -> Scope:
        return self.session.scope

    def run(self, request: MetricRequest) -> pl.DataFrame:
        return self.session.metrics(request)

    def code_names(self, dimension: str) -> dict[str, str]:
        return self.session.all_names(dimension)

    def region_names(self) -> dict[str, str]:
        regions = self.session.regions()
        return dict(zip(regions["code"].to_list(), regions["name"].to_list(), strict=True))

    def target_rows(self) -> list[dict[str, Any]]:
        return self.session.target_rows()

    def alerts(self, as_of: dt.datetime) -> AlertSet:
        return self.session.alerts(as_of=as_of, compute_missing=self.live_alerts)

    def data_as_of(self) -> dt.datetime | None:
        return self.session.as_of()
