"""The briefing as a PPTX deck (python-pptx): a title slide, the summary, the KPI table, then one chart per
slide (PNG, drawn by ``dashboard.exports.files``). Slides are 16:9; every text run names Microsoft YaHei
for both Latin and East Asian text, the font a city office's PowerPoint has.
"""

from __future__ import annotations

import io
from typing import Any

from dashboard.core.formatting import format_change, format_datetime, format_index, format_value
from dashboard.core.i18n import metric_label, t
from dashboard.exports import files
from dashboard.report.content import Briefing

PPTX_MIME = files.MIME_TYPES["pptx"]
FONT_NAME = "Microsoft YaHei"
SLIDE_SIZE = (12192000, 6858000)  # EMU: 16:9
DRAWINGML = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
KPI_HEADER_KEYS = ("report_metric", "report_current", "report_mom", "report_target", "report_index")


def style_text(frame: Any, size: int) -> None:
    """Every run of a text frame in ``FONT_NAME`` at ``size`` pt, the East Asian typeface set too.

    python-pptx sets only the Latin typeface; the ``a:ea`` element is added on the run's XML (its
    ``_r``, python-pptx's documented escape hatch) so Chinese text does not fall back to a serif font.
    """
    from pptx.util import Pt

    for paragraph in frame.paragraphs:
        for run in paragraph.runs:
            run.font.size = Pt(size)
            run.font.name = FONT_NAME
            properties = run._r.get_or_add_rPr()
            properties.append(properties.makeelement(f"{DRAWINGML}ea", {"typeface": FONT_NAME}))


def add_cover(deck: Any, briefing: Briefing) -> None:
    """The title slide: the title, then the scope and the data's as-of time."""
    lang = briefing.lang
    cover = deck.slides.add_slide(deck.slide_layouts[0])
    cover.shapes.title.text = briefing.title
    cover.placeholders[1].text = f"{t('report_scope', lang)}：{briefing.scope_label}\n" + t(
        "data_as_of", lang, time=format_datetime(briefing.as_of)
    )
    style_text(cover.shapes.title.text_frame, 36)
    style_text(cover.placeholders[1].text_frame, 18)


def add_summary(deck: Any, briefing: Briefing) -> None:
    """The summary sentences, one paragraph each."""
    summary = deck.slides.add_slide(deck.slide_layouts[1])
    summary.shapes.title.text = t("report_summary", briefing.lang)
    summary.placeholders[1].text = "\n".join(briefing.summary)
    style_text(summary.shapes.title.text_frame, 28)
    style_text(summary.placeholders[1].text_frame, 14)


def kpi_cells(briefing: Briefing) -> list[list[str]]:
    """The KPI slide's table as text: a header row, then metric, value, 环比, target and target index."""
    lang = briefing.lang
    rows = [[t(key, lang) for key in KPI_HEADER_KEYS]]
    for row in briefing.kpis:
        kpi = row.kpi
        rows.append(
            [
                metric_label(kpi.metric, lang),
                format_value(kpi.value, kpi.unit, lang),
                format_change(kpi.change, kpi.unit, relative=kpi.relative, lang=lang) or "—",
                "—" if kpi.target is None else format_value(kpi.target, kpi.unit, lang),
                "—" if kpi.target_index is None else format_index(kpi.target_index),
            ]
        )
    return rows


def add_kpi_table(deck: Any, briefing: Briefing) -> None:
    """The KPI table filling a blank slide, 10 pt."""
    from pptx.util import Emu

    cells = kpi_cells(briefing)
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    shape = slide.shapes.add_table(
        len(cells), len(KPI_HEADER_KEYS), Emu(400000), Emu(300000), Emu(11392000), Emu(6200000)
    )
    table = shape.table
    for index, values in enumerate(cells):
        for column, value in enumerate(values):
            table.cell(index, column).text = value
    for row_cells in table.rows:
        for cell in row_cells.cells:
            style_text(cell.text_frame, 10)


def add_charts(deck: Any, briefing: Briefing) -> None:
    """One chart per blank slide, as PNG with its title drawn into the picture."""
    from pptx.util import Emu

    figures = [figure for _, figure in briefing.charts]
    titles = [title for title, _ in briefing.charts]
    for png in files.figures_png(figures, titles, width=1100, height=560):
        slide = deck.slides.add_slide(deck.slide_layouts[6])
        slide.shapes.add_picture(io.BytesIO(png), Emu(546000), Emu(500000), width=Emu(11100000))


def render_pptx(briefing: Briefing) -> bytes:
    """A deck: title, summary, KPI table, then one chart per slide (PNG)."""
    from pptx import Presentation
    from pptx.util import Emu

    deck = Presentation()
    deck.slide_width, deck.slide_height = Emu(SLIDE_SIZE[0]), Emu(SLIDE_SIZE[1])
    add_cover(deck, briefing)
    add_summary(deck, briefing)
    add_kpi_table(deck, briefing)
    add_charts(deck, briefing)
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()
