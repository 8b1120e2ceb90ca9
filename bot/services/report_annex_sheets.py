"""The report's appendix sheets, *Phụ lục 1* to *Phụ lục 6*, as in the guide, filled from the
appendix figures (bot.services.annexes): numbers, not formulas, so any viewer shows them; each
table with its total row."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.services.annexes import Item, ModelRow
from bot.services.docxform import line
from bot.services.docxform import text as xml_text
from bot.services.report_context import ReportContext
from bot.services.xlsxform import (
    BOLD,
    INTEGER,
    NOTE,
    PERCENT,
    TITLE,
    TOTAL_FILL,
    WRAP,
    WRAP_CENTER,
    cell,
    header,
    print_setup,
    ratio,
    widths,
)

ANNEX1_WIDTHS = (46, 12, 14, 12, 16)
ANNEX_WIDTHS = {
    2: (7, 24, 14, 16, 16, 40),
    3: (7, 70, 30),
    4: (7, 70, 20),
    5: (7, 30, 40, 40, 16),
    6: (7, 30, 45, 45),
}


def write(wb: Workbook, ctx: ReportContext) -> None:
    """Phụ lục 1 to 6, one sheet each."""
    _annex1_sheet(wb.create_sheet(ctx.say("sheet_annex", n=1)), ctx)
    _annex2_sheet(wb.create_sheet(ctx.say("sheet_annex", n=2)), ctx)
    _annex3_sheet(wb.create_sheet(ctx.say("sheet_annex", n=3)), ctx)
    _annex4_sheet(wb.create_sheet(ctx.say("sheet_annex", n=4)), ctx)
    for number, models in ((5, ctx.annexes.new_models), (6, ctx.annexes.replicated)):
        _models_sheet(wb.create_sheet(ctx.say("sheet_annex", n=number)), ctx, number, models)


def _annex1_sheet(ws: WriteOnlyWorksheet, ctx: ReportContext) -> None:
    """Phụ lục 1 as in the guide, from the conferences recorded, with one more form of study
    (the bot's) and the total row."""
    widths(ws, ANNEX1_WIDTHS)
    print_setup(ws, "4:5")
    for ref in ("A1:E1", "A2:E2", "A3:E3", "A4:A5", "B4:B5", "C4:C5", "D4:E4", "A11:E11"):
        ws.merged_cells.add(ref)
    for ref in ("A15:E15", "A16:E16"):  # the notes under the table
        ws.merged_cells.add(ref)
    ws.row_dimensions[4].height = 32  # Excel does not fit the height of merged, wrapped cells
    ws.row_dimensions[5].height = 45  # the rate's column says what it divides by
    ws.row_dimensions[15].height = 72
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.append([cell(ws, ctx.say("annex1_heading"), font=TITLE, align=center, border=False)])
    title = ctx.say("annex1_title", year=ctx.year)
    ws.append([cell(ws, title, font=BOLD, align=center, border=False)])
    ws.append([cell(ws, ctx.made_at, font=NOTE, align=center, border=False)])
    head = ("annex1_col_form", "annex1_col_meetings", "annex1_col_attendees", "annex1_col_party")
    ws.append(header(ws, [*(ctx.say(k) for k in head), ""]))
    ws.append(header(ws, ["", "", "", ctx.say("annex1_col_count"), ctx.party_rate_title]))
    a = ctx.annexes
    party_total = a.party_total
    for row in a.conferences:  # rows 6-8
        ws.append(
            [
                cell(ws, ctx.say(f"annex1_row_{row.form}"), align=WRAP),
                cell(ws, row.meetings, fmt=INTEGER),
                cell(ws, row.attendees, fmt=INTEGER),
                cell(ws, row.party, fmt=INTEGER),
                cell(ws, ratio(row.party, party_total), fmt=PERCENT),
            ]
        )
    ws.append(  # row 9: what the bot knows
        [
            cell(ws, ctx.say("annex1_row_bot"), align=WRAP),
            cell(ws, None),
            cell(ws, a.studied, fmt=INTEGER),
            cell(ws, a.party_studied, fmt=INTEGER),
            cell(ws, ratio(a.party_studied, party_total), fmt=PERCENT),
        ]
    )

    def total(value: Any, fmt: str | None = None) -> WriteOnlyCell:
        return cell(ws, value, fmt=fmt, font=BOLD, fill=TOTAL_FILL)

    ws.append(  # row 10
        [
            total(ctx.say("annex1_row_total")),
            total(a.meetings, INTEGER),
            total(a.attendees, INTEGER),
            total(a.party, INTEGER),
            total(None),  # one person may attend several: no overall rate
        ]
    )
    ws.append([cell(ws, ctx.say("annex1_footnote"), font=NOTE, border=False)])  # row 11
    ws.append([])  # row 12
    real = a.party_real if a.party_real is not None else ctx.say("annex1_party_unknown")
    for key, value in (("annex1_party_real", real), ("annex1_party_on_bot", a.party_on_bot)):
        ws.append([cell(ws, ctx.say(key), align=WRAP), cell(ws, value, fmt=INTEGER)])  # 13, 14
    note = ctx.say("annex1_note", topic=ctx.topic)
    ws.append([cell(ws, note, font=NOTE, align=WRAP, border=False)])
    ws.append([cell(ws, ctx.say("source"), font=NOTE, border=False)])


def _annex_sheet(
    ws: WriteOnlyWorksheet,
    ctx: ReportContext,
    number: int,
    rows: list[list[Any]],
    total: list[Any] | None,
    note: str | None = None,
) -> None:
    """The guide's heading, title and columns; the rows; a total row; notes under them."""
    key = f"annex{number}"
    titles = ctx.columns(f"{key}_columns")
    last = get_column_letter(len(titles))
    widths(ws, ANNEX_WIDTHS[number])
    print_setup(ws, "4:4")
    for r in (1, 2, 3):
        ws.merged_cells.add(f"A{r}:{last}{r}")
    ws.row_dimensions[2].height = 36
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.append([cell(ws, ctx.say(f"{key}_heading"), font=TITLE, align=center, border=False)])
    title = ctx.say(f"{key}_title", year=ctx.year, prev_year=ctx.year - 1)
    ws.append([cell(ws, title, font=BOLD, align=center, border=False)])
    ws.append([cell(ws, ctx.made_at, font=NOTE, align=center, border=False)])
    ws.append(header(ws, titles))
    if not rows and total is not None:
        rows = [["", ctx.say("annex_none"), *("" for _ in titles[2:])]]
    for values in rows:
        ws.append(
            [
                v if isinstance(v, Cell) else cell(ws, v, align=WRAP_CENTER if i == 0 else WRAP)
                for i, v in enumerate(values)
            ]
        )
    if total is not None:
        ws.append(
            [
                v if isinstance(v, Cell) else cell(ws, v, font=BOLD, fill=TOTAL_FILL, align=WRAP)
                for v in total
            ]
        )
    ws.append([])
    if note:
        ws.append([cell(ws, note, font=NOTE, border=False)])
    ws.append([cell(ws, ctx.say("source"), font=NOTE, border=False)])


def _annex2_sheet(ws: WriteOnlyWorksheet, ctx: ReportContext) -> None:
    """Documents issued: unknown to the bot, numbered empty rows for the officer."""
    blank = [[n, "", "", "", "", ""] for n in range(1, 4)]
    _annex_sheet(ws, ctx, 2, blank, None, ctx.say("annex2_note"))


def _item_text(ctx: ReportContext, item: Item) -> str:
    return ctx.of_unit(item.text, item.unit, item.unit_id)


def _annex3_sheet(ws: WriteOnlyWorksheet, ctx: ReportContext) -> None:
    items = ctx.annexes.contents
    rows: list[list[Any]] = [
        [n, _item_text(ctx, i), ctx.say("annex3_done" if i.done else "annex3_ongoing")]
        for n, i in enumerate(items, 1)
    ]
    done = sum(i.done for i in items)
    total = [
        ctx.say("annex_total"),
        ctx.say("annex3_total", count=len(items)),
        ctx.say("annex3_total_note", done=done),
    ]
    _annex_sheet(ws, ctx, 3, rows, total)


def _annex4_sheet(ws: WriteOnlyWorksheet, ctx: ReportContext) -> None:
    issues = ctx.annexes.issues
    rows: list[list[Any]] = [
        [n, _item_text(ctx, i), cell(ws, i.percent / 100, fmt=PERCENT)]
        for n, i in enumerate(issues, 1)
    ]
    solved = ctx.annexes.solved
    total = [
        ctx.say("annex_total"),
        ctx.say("annex4_total", count=len(issues), solved=solved),
        cell(ws, ratio(solved, len(issues)), fmt=PERCENT, font=BOLD, fill=TOTAL_FILL),
    ]
    _annex_sheet(ws, ctx, 4, rows, total, ctx.say("annex4_note"))


def _models_sheet(
    ws: WriteOnlyWorksheet, ctx: ReportContext, number: int, models: list[ModelRow]
) -> None:
    rows: list[list[Any]] = []
    for n, m in enumerate(models, 1):
        name = ctx.of_unit(m.name, m.unit, m.unit_id)
        row: list[Any] = [n, name, xml_text(m.how), xml_text(m.results)]
        if number == 5:
            row.append(line(m.recognition))
        rows.append(row)
    width = 5 if number == 5 else 4
    total = [ctx.say("annex_total"), ctx.say(f"annex{number}_total", count=len(models))]
    total += ["" for _ in range(width - 2)]
    _annex_sheet(ws, ctx, number, rows, total)
