"""Building blocks of the report's spreadsheet sheets (openpyxl write-only mode): the look of a
cell, a header row, column widths, the print set-up, a title with its note."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

BOLD = Font(bold=True)
TITLE = Font(bold=True, size=13)
NOTE = Font(italic=True, size=9, color="666666")
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
SUBTOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
TOTAL_FILL = PatternFill("solid", fgColor="D9D9D9")
THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP = Alignment(vertical="top", wrap_text=True)
INTEGER = "#,##0"
PERCENT = "0.0%"
WHEN = "dd/mm/yyyy hh:mm"
SCORE = "0%"


def cell(
    ws: WriteOnlyWorksheet,
    value: Any,
    *,
    fmt: str | None = None,
    font: Font | None = None,
    fill: PatternFill | None = None,
    align: Alignment | None = None,
    border: bool = True,
) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    if fmt is not None:
        cell.number_format = fmt
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if align is not None:
        cell.alignment = align
    if border:
        cell.border = BOX
    return cell


def header(ws: WriteOnlyWorksheet, titles: Sequence[str]) -> list[WriteOnlyCell]:
    return [cell(ws, t, font=BOLD, fill=HEAD_FILL, align=WRAP_CENTER) for t in titles]


def widths(ws: WriteOnlyWorksheet, widths: Sequence[float]) -> None:
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def print_setup(ws: WriteOnlyWorksheet, header_rows: str) -> None:
    """Landscape A4, as wide as the page, the header repeated on every printed page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = header_rows


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def titles(ws: WriteOnlyWorksheet, title: str, note: str) -> None:
    ws.append([cell(ws, title, font=TITLE, border=False)])
    ws.append([cell(ws, note, font=NOTE, border=False)])
