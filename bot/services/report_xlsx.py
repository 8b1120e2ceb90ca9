"""The report's spreadsheet: *Tổng hợp* (each unit's own figures; subtotal rows marked, bold and
grouped in an outline, so adding up the unit rows of a column never counts anyone twice),
*Đoàn viên* (bot.services.report_members) and *Phụ lục 1–6* (bot.services.report_annex_sheets).
Every sheet prints in landscape, fitted to the page width, with its header row repeated on each
page."""

from __future__ import annotations

import io
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlmodel import Session

from bot.services import report_annex_sheets, report_members
from bot.services.docxform import line
from bot.services.report_context import ReportContext
from bot.services.stats import UnitFigures
from bot.services.xlsxform import (
    BOLD,
    INTEGER,
    NOTE,
    PERCENT,
    SUBTOTAL_FILL,
    TOTAL_FILL,
    cell,
    header,
    print_setup,
    ratio,
    titles,
    widths,
)

MAX_OUTLINE = 7  # Excel's deepest outline level
SUMMARY_WIDTHS = (44, 16, 9, 10, 10, 12, 9, 10, 9, 9, 11, 9, 12, 12, 14, 9, 9, 9, 11, 12, 12)


def write(session: Session, ctx: ReportContext) -> tuple[bytes, int]:
    """The workbook's bytes and how many member rows it holds."""
    wb = Workbook(write_only=True)
    _summary_sheet(wb.create_sheet(ctx.say("sheet_summary")), ctx)
    members = report_members.write(wb.create_sheet(ctx.say("sheet_members")), session, ctx)
    report_annex_sheets.write(wb, ctx)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue(), members


# --- Tổng hợp -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _SummaryRow:
    name: str
    code: str | None
    figures: UnitFigures
    indent: int
    level: int  # outline level: the subtotal groups around the row
    subtotal: bool = False
    total: bool = False


def _summary_rows(ctx: ReportContext) -> list[_SummaryRow]:
    """Each unit of the scope with its own figures (a unit with children only when members
    are registered in it directly), and after a unit's subtree a subtotal row of it."""
    tree = ctx.tree
    out: list[_SummaryRow] = []

    def walk(f: UnitFigures, level: int, indent: int) -> None:
        kids = tree.children(f.unit_id)
        if not kids:
            out.append(_SummaryRow(line(f.name), f.code, f, indent, level))
            return
        own = tree.own(f.unit_id)
        if own is not None and own.members:
            out.append(_SummaryRow(line(f.name), f.code, own, indent, level + 1))
        for kid in kids:
            walk(kid, level + 1, indent + 1)
        name = ctx.say("summary_subtotal", unit=line(f.name))
        out.append(_SummaryRow(name, f.code, f, indent, level, subtotal=True))

    if ctx.top is not None:
        walk(ctx.tree.total, 0, 0)
        if out[-1].subtotal and out[-1].figures is ctx.tree.total:
            out.pop()
    else:
        for root in tree.children(None):
            walk(root, 1, 0)
    top_code = ctx.top.code if ctx.top is not None else None
    out.append(_SummaryRow(ctx.say("summary_total"), top_code, ctx.tree.total, 0, 0, total=True))
    return out


def _figures_row(ws: WriteOnlyWorksheet, row: _SummaryRow, marker: str) -> list[WriteOnlyCell]:
    f = row.figures
    font = BOLD if row.subtotal or row.total else None
    fill = TOTAL_FILL if row.total else SUBTOTAL_FILL if row.subtotal else None

    def num(value: int) -> WriteOnlyCell:
        return cell(ws, value, fmt=INTEGER, font=font, fill=fill)

    def pct(value: float | None) -> WriteOnlyCell:
        return cell(ws, value, fmt=PERCENT, font=font, fill=fill)

    avg = f.avg_score_pct / 100 if f.avg_score_pct is not None else None
    indent = Alignment(indent=min(row.indent, 15), wrap_text=True)
    return [
        cell(ws, row.name, font=font, fill=fill, align=indent),
        cell(ws, row.code, font=font, fill=fill),
        cell(ws, marker, font=font, fill=fill),
        num(f.members),
        num(f.party_members),
        num(f.submitted),
        pct(ratio(f.submitted, f.members)),
        num(f.on_time),
        num(f.late),
        num(f.approved),
        num(f.returned),
        num(f.not_submitted),
        num(f.studied),
        num(f.checked_in),
        num(f.studied_any),
        pct(ratio(f.studied_any, f.members)),
        num(f.quiz_takers),
        num(f.quiz_passed),
        pct(avg),
        # the real membership, where known: the rate against it, next to those on the bot
        cell(ws, f.real_members, fmt=INTEGER, font=font, fill=fill),
        pct(ratio(f.submitted, f.real_members) if f.real_members else None),
    ]


def _summary_sheet(ws: WriteOnlyWorksheet, ctx: ReportContext) -> None:
    widths(ws, SUMMARY_WIDTHS)
    ws.freeze_panes = "D4"
    print_setup(ws, "3:3")
    ws.sheet_properties.outlinePr.summaryBelow = True
    titles(ws, ctx.say("summary_title", year=ctx.year), ctx.made_at)
    columns = ctx.columns("summary_columns")
    ws.auto_filter.ref = f"A3:{get_column_letter(len(columns))}3"
    ws.append(header(ws, columns))
    own, subtotal = ctx.say("row_own"), ctx.say("row_subtotal")
    for number, row in enumerate(_summary_rows(ctx), start=4):
        if row.level:
            ws.row_dimensions[number].outlineLevel = min(row.level, MAX_OUTLINE)
        ws.append(_figures_row(ws, row, subtotal if row.subtotal or row.total else own))
    ws.append([])
    ws.append([cell(ws, ctx.say("summary_note"), font=NOTE, border=False)])
    ws.append([cell(ws, ctx.say("source"), font=NOTE, border=False)])
