"""What a topic page knows about codes: the viewer's vocabulary, from the data session's look-ups.

The category tree and the service items' names are read (and cached under the data version) by the
viewer's :class:`~data_access.runtime.session.DataSession`; a topic page never runs SQL of its own.
"""

from __future__ import annotations

from dashboard.session.context import Context
from dashboard.topics.state import Vocabulary


def vocabulary(ctx: Context) -> Vocabulary:
    """The codes the viewer may see, as the pure state functions need them to check a URL."""
    domains, _, _ = ctx.data.category_tree()
    return Vocabulary(
        region_levels=ctx.region_levels(),
        parents=ctx.region_parents(),
        departments=ctx.names("department"),
        categories=domains,
    )
