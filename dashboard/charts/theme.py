"""One palette and one plotly layout for every chart: government blue, readable CJK, no web fonts.

Fonts are named, never loaded: the stack lists CJK system fonts present on Linux (Noto Sans CJK),
Windows (Microsoft YaHei) and macOS (PingFang SC), so charts render offline on any intranet desktop.
Keep ``PRIMARY`` in step with ``primaryColor`` in ``.streamlit/config.toml``.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

FONT_FAMILY = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", '
    '"WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif'
)

PRIMARY = "#0B5CAD"  # government blue
TEAL = "#0E8C8C"
COMPARISON = "#8A94A6"  # previous period: muted grey, dashed
TEXT = "#1F2937"
GRID_LINE = "#E5E7EB"

# Series colours, in order; blue and teal first, then colours that stay apart for colour-blind viewers.
PALETTE: tuple[str, ...] = (PRIMARY, TEAL, "#E08E0B", "#7A5AC8", "#C2185B", "#4E8F2F", "#5B6B7F")

STATUS_COLOURS: dict[str, str] = {"red": "#D64545", "amber": "#E0A100", "green": "#1E9E6A"}
GOOD = STATUS_COLOURS["green"]
BAD = STATUS_COLOURS["red"]

# Passed to st.plotly_chart: no plotly logo or "edit in chart studio" link; PNG export stays.
PLOTLY_CONFIG: dict[str, Any] = {"displaylogo": False, "responsive": True}
# Wall screens: nothing to click, so no mode bar at all.
WALL_PLOTLY_CONFIG: dict[str, Any] = {**PLOTLY_CONFIG, "displayModeBar": False}


TEMPLATE_NAME = "cockpit"


def _cockpit_template() -> go.layout.Template:
    """``plotly_white`` with the cockpit's palette and fonts: what every chart shares."""
    template = go.layout.Template(pio.templates["plotly_white"])
    template.layout.update(
        colorway=list(PALETTE),
        font={"family": FONT_FAMILY, "size": 14, "color": TEXT},
        hoverlabel={"font": {"family": FONT_FAMILY}},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return template


# Registered once as Plotly's default template, rather than assigned in ``base_layout``: assigning a
# template validates and deep-copies it, 10-15 ms a figure (a topic page builds a dozen on every
# rerun), while the default is attached when the figure is serialized, at no cost. Every figure of
# the product imports this module (directly or through ``base_layout``), so every one gets it.
pio.templates[TEMPLATE_NAME] = _cockpit_template()
pio.templates.default = TEMPLATE_NAME


def base_layout(fig: go.Figure, *, title: str | None = None, height: int = 360) -> go.Figure:
    """Apply the cockpit's look: fonts, colours (the default template), margins that never cut a title or a label."""
    fig.update_layout(
        title=(
            {"text": title, "x": 0.0, "xanchor": "left", "y": 0.97, "yanchor": "top", "font": {"size": 17}}
            if title
            else None
        ),
        height=height,
        margin={"l": 8, "r": 16, "t": 78 if title else 36, "b": 8, "autoexpand": True},
        # Legend under the title on the left: the right-hand corner belongs to plotly's mode bar.
        legend={"orientation": "h", "x": 0.0, "xanchor": "left", "y": 1.0, "yanchor": "bottom", "title": None},
    )
    fig.update_xaxes(automargin=True, gridcolor=GRID_LINE, title=None)
    fig.update_yaxes(automargin=True, gridcolor=GRID_LINE, title=None, rangemode="tozero")
    return fig


# ---- the big screen (dark) ---------------------------------------------------------------------
WALL_TEXT = "#E8F1FF"
WALL_MUTED = "#93A9C9"
WALL_GRID = "rgba(147, 169, 201, 0.16)"
WALL_PRIMARY = "#35C3FF"  # current period on the dark screen
WALL_COMPARISON = "#8C9BB5"
_WALL_COLOURS = {PRIMARY: WALL_PRIMARY, COMPARISON: WALL_COMPARISON}


def wall_layout(fig: go.Figure, *, height: int, font_size: int = 15) -> go.Figure:
    """Turn a chart built with ``base_layout`` into the big screen's dark look (bright lines, light text)."""
    for trace in fig.data:
        line = getattr(trace, "line", None)
        if line is not None and line.color in _WALL_COLOURS:
            line.color = _WALL_COLOURS[line.color]
        marker = getattr(trace, "marker", None)
        if marker is not None and isinstance(marker.color, str) and marker.color in _WALL_COLOURS:
            marker.color = _WALL_COLOURS[marker.color]
    fig.update_layout(
        template="plotly_dark",  # replaces the cockpit's template, so its palette is restated here
        colorway=list(PALETTE),
        font={"family": FONT_FAMILY, "size": font_size, "color": WALL_TEXT},
        title=None,
        height=height,
        margin={"l": 4, "r": 10, "t": 30, "b": 4, "autoexpand": True},
        legend={
            "orientation": "h",
            "x": 1.0,
            "xanchor": "right",
            "y": 1.02,
            "yanchor": "bottom",
            "font": {"size": font_size - 1, "color": WALL_MUTED},
            "bgcolor": "rgba(0,0,0,0)",
        },
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        hoverlabel={"font": {"family": FONT_FAMILY, "size": font_size}},
    )
    fig.update_xaxes(gridcolor=WALL_GRID, showgrid=False, linecolor=WALL_GRID, tickfont={"color": WALL_MUTED})
    fig.update_yaxes(gridcolor=WALL_GRID, zeroline=False, tickfont={"color": WALL_MUTED}, nticks=4)
    return fig
