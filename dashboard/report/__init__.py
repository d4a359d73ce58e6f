"""周报 / 月报: the briefing of one period for one recipient's scope, as PDF, PPTX or the HTML behind the PDF.

Four A4 pages: (1) a generated summary of what changed most and the KPI table with 环比, 同比 and the
target index, (2) four key charts (inline SVG drawn by kaleido), (3) street and department rankings,
(4) the current alerts within the scope. The modules, in the order a briefing is made:

* ``periods``: the month or ISO week asked for, its ranges at the as-of time, its label;
* ``reads``: every data read, behind one object carrying the recipient's scope;
* ``content``: the :class:`~dashboard.report.content.Briefing` (what the report says), built from
  ``summary`` (the sentences), ``charts`` (the figures) and ``tables`` (rankings and alerts);
* ``html_page`` (Jinja2, ``templates/``), ``pdf_print`` (Chromium) and ``pptx_deck``: the renderers;
* ``cli``: ``python -m dashboard.report``. The 简报 page (``pages/report.py``) uses the same builder.
"""
