"""What can go wrong with a briefing, as one exception every part of the report raises and the CLI and page catch."""

from __future__ import annotations


class ReportProblem(ValueError):
    """A report that cannot be made as asked (bad period, no data for it, no browser), with the reason."""
