"""A table's export files, as bytes: CSV, XLSX or Parquet. No Streamlit.

CSV is UTF-8 with a byte-order mark, so Excel opens Chinese headers correctly; XLSX has a bold
frozen header row, an autofilter and number formats per column type; Parquet keeps the types.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from collections.abc import Mapping

import polars as pl


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """UTF-8 with a byte-order mark (Excel reads the Chinese headers right), dates as ``YYYY-MM-DD``."""
    return frame.write_csv(date_format="%Y-%m-%d", datetime_format="%Y-%m-%d %H:%M:%S").encode("utf-8-sig")


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.0"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_SHEET_FORBIDDEN = str.maketrans({char: "_" for char in "[]:*?/\\"})


def number_format(dtype: pl.DataType) -> str | None:
    """The Excel number format for a column type: thousands separators, one decimal, ISO dates."""
    if dtype.is_integer():
        return INTEGER_FORMAT
    if dtype.is_float() or dtype.is_decimal():
        return DECIMAL_FORMAT
    if dtype == pl.Date:
        return DATE_FORMAT
    if isinstance(dtype, pl.Datetime):
        return DATETIME_FORMAT
    return None


def display_width(value: object) -> int:
    """Columns a value needs in a spreadsheet: East Asian wide characters count twice."""
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(char) in ("W", "F") else 1 for char in text)


def xlsx_bytes(
    frame: pl.DataFrame,
    *,
    sheet: str = "数据",
    formats: Mapping[str, str] | None = None,
) -> bytes:
    """One sheet: bold frozen header row with an autofilter, a number format per column, fitted widths.

    ``formats`` overrides the format of named columns (e.g. ``{"按时办结率（%）": "0.0"}``).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    worksheet = book.active
    assert worksheet is not None  # a new workbook always has its first sheet
    worksheet.title = (sheet.translate(_SHEET_FORBIDDEN) or "data")[:31]
    worksheet.append(list(frame.columns))
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DCE8F5")
    for cell in worksheet[1]:
        cell.font = header_font
        cell.fill = header_fill
        cell.alignment = Alignment(vertical="center")
    for row in frame.iter_rows():
        worksheet.append([_cell_value(value) for value in row])
    for index, (name, dtype) in enumerate(frame.schema.items(), start=1):
        chosen = (formats or {}).get(name) or number_format(dtype)
        if chosen and frame.height:
            for (cell,) in worksheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = chosen
        sample = frame[name].head(500).to_list()
        widest = max([display_width(name), *(display_width(_shown(value, dtype)) for value in sample)])
        worksheet.column_dimensions[get_column_letter(index)].width = min(max(widest + 2, 8), 60)
    worksheet.freeze_panes = "A2"
    if frame.width:
        worksheet.auto_filter.ref = f"A1:{get_column_letter(frame.width)}{max(frame.height + 1, 1)}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell_value(value: object) -> object:
    if isinstance(value, dt.timedelta):
        return value.total_seconds() / 3600
    return value


def _shown(value: object, dtype: pl.DataType) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int) and dtype.is_integer():
        return f"{value:,}"
    return str(value)
