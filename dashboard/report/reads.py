"""Every data read of the briefing, behind one object: the metric requests, the code names, the targets table,
the alerts and the data's as-of time.

The content modules never touch an engine: they receive a :class:`BriefingReads` and ask it. Today the
one implementation, :class:`EngineReads`, runs ``run_metrics`` on a raw engine with the recipient's
scope (no audit, no result cache, as the briefing always did). When the data layer's session object
lands it takes this place: it only has to offer the same few methods, and
:func:`dashboard.report.content.build_briefing` is the one place that chooses the implementation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import polars as pl
import sqlalchemy as sa

from data_access.config.city import CityConfig
from data_access.semantic.metrics import code_names, data_as_of, region_names, run_metrics
from data_access.semantic.query import EVERYTHING, MetricRequest, Scope
from data_access.semantic.targets import target_rows

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

    def alerts(self, as_of: dt.datetime) -> pl.DataFrame:
        """The alerts standing at ``as_of`` within the scope (``compute_alerts``' frame)."""
        ...

    def data_as_of(self) -> dt.datetime | None:
        """The latest record time in the facts; None when the database holds no records."""
        ...


@dataclass(frozen=True)
class EngineReads:
    """:class:`BriefingReads` on a raw engine: the city's 三率 weights, the recipient's scope, no result cache."""

    engine: sa.Engine
    city: CityConfig
    scope: Scope = EVERYTHING

    def run(self, request: MetricRequest) -> pl.DataFrame:
        return run_metrics(self.engine, replace(request, scope=self.scope), self.city.three_rates, cache=None)

    def code_names(self, dimension: str) -> dict[str, str]:
        return code_names(self.engine, dimension)

    def region_names(self) -> dict[str, str]:
        regions = region_names(self.engine)
        return dict(zip(regions["code"].to_list(), regions["name"].to_list(), strict=True))

    def target_rows(self) -> list[dict[str, Any]]:
        return target_rows(self.engine)

    def alerts(self, as_of: dt.datetime) -> pl.DataFrame:
        from data_access.alerts.detection import compute_alerts  # heavy: imported only when a report is made

        return compute_alerts(self.engine, as_of=as_of, scope=self.scope)

    def data_as_of(self) -> dt.datetime | None:
        return data_as_of(self.engine)
