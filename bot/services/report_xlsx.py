"""The report's spreadsheet: *Tổng hợp* (each unit's own figures; subtotal rows marked, bold and
grouped in an outline, so adding up the unit rows of a column never counts anyone twice),
*Đoàn viên* (one row per member, streamed: rows fetched in chunks, openpyxl write-only mode, so a
district of 20,000 members never holds 20,000 objects) and *Phụ lục 1–6*. Every sheet prints in
landscape, fitted to the page width, with its header row repeated on each page."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import and_, exists, func, or_, select
from sqlmodel import Session, col

from bot.catalog import Campaign
from bot.models import (
    Member,
    MemberGroup,
    Pledge,
    PledgeStatus,
    QuizAttempt,
    StudyCheckIn,
    StudyProgress,
    StudySession,
)
from bot.services.annexes import Item, ModelRow
from bot.services.docxform import line
from bot.services.docxform import text as xml_text
from bot.services.report_context import ReportContext
from bot.services.stats import UnitFigures

CHUNK = 1000  # member rows fetched per round trip
MAX_OUTLINE = 7  # Excel's deepest outline level

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=13)
_NOTE = Font(italic=True, size=9, color="666666")
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_SUBTOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_TOTAL_FILL = PatternFill("solid", fgColor="D9D9D9")
_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_WRAP = Alignment(vertical="top", wrap_text=True)
INTEGER = "#,##0"
PERCENT = "0.0%"
WHEN = "dd/mm/yyyy hh:mm"
SCORE = "0%"

SUMMARY_WIDTHS = (44, 16, 9, 10, 10, 12, 9, 10, 9, 9, 11, 9, 12, 12, 14, 9, 9, 9, 11)
MEMBER_WIDTHS = (7, 28, 34, 16, 18, 9, 18, 16, 12, 12, 12)
QUIZ_WIDTH = 14
ANNEX1_WIDTHS = (46, 12, 14, 12, 10)
ANNEX_WIDTHS = {
    2: (7, 24, 14, 16, 16, 40),
    3: (7, 70, 30),
    4: (7, 70, 20),
    5: (7, 30, 40, 40, 16),
    6: (7, 30, 45, 45),
}


def write(session: Session, ctx: ReportContext) -> tuple[bytes, int]:
    """The workbook's bytes and how many member rows it holds."""
    wb = Workbook(write_only=True)
    _summary_sheet(wb.create_sheet(ctx.say("sheet_summary")), ctx)
    members = _members_sheet(wb.create_sheet(ctx.say("sheet_members")), session, ctx)
    _annex1_sheet(wb.create_sheet(ctx.say("sheet_annex", n=1)), ctx)
    _annex2_sheet(wb.create_sheet(ctx.say("sheet_annex", n=2)), ctx)
    _annex3_sheet(wb.create_sheet(ctx.say("sheet_annex", n=3)), ctx)
    _annex4_sheet(wb.create_sheet(ctx.say("sheet_annex", n=4)), ctx)
    for number, models in ((5, ctx.annexes.new_models), (6, ctx.annexes.replicated)):
        _models_sheet(wb.create_sheet(ctx.say("sheet_annex", n=number)), ctx, number, models)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue(), members


# --- cells --------------------------------------------------------------------------------


def _cell(
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
        cell.border = _BOX
    return cell


def _header(ws: WriteOnlyWorksheet, titles: Sequence[str]) -> list[WriteOnlyCell]:
    return [_cell(ws, t, font=_BOLD, fill=_HEAD_FILL, align=_WRAP_CENTER) for t in titles]


def _widths(ws: WriteOnlyWorksheet, widths: Sequence[float]) -> None:
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def _print_setup(ws: WriteOnlyWorksheet, header_rows: str) -> None:
    """Landscape A4, as wide as the page, the header repeated on every printed page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = header_rows


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _titles(ws: WriteOnlyWorksheet, ctx: ReportContext, title: str) -> None:
    ws.append([_cell(ws, title, font=_TITLE, border=False)])
    ws.append([_cell(ws, ctx.made_at, font=_NOTE, border=False)])


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
    font = _BOLD if row.subtotal or row.total else None
    fill = _TOTAL_FILL if row.total else _SUBTOTAL_FILL if row.subtotal else None

    def num(value: int) -> WriteOnlyCell:
        return _cell(ws, value, fmt=INTEGER, font=font, fill=fill)

    def pct(value: float | None) -> WriteOnlyCell:
        return _cell(ws, value, fmt=PERCENT, font=font, fill=fill)

    avg = f.avg_score_pct / 100 if f.avg_score_pct is not None else None
    indent = Alignment(indent=min(row.indent, 15), wrap_text=True)
    return [
        _cell(ws, row.name, font=font, fill=fill, align=indent),
        _cell(ws, row.code, font=font, fill=fill),
        _cell(ws, marker, font=font, fill=fill),
        num(f.members),
        num(f.party_members),
        num(f.submitted),
        pct(_ratio(f.submitted, f.members)),
        num(f.on_time),
        num(f.late),
        num(f.approved),
        num(f.returned),
        num(f.not_submitted),
        num(f.studied),
        num(f.checked_in),
        num(f.studied_any),
        pct(_ratio(f.studied_any, f.members)),
        num(f.quiz_takers),
        num(f.quiz_passed),
        pct(avg),
    ]


def _summary_sheet(ws: WriteOnlyWorksheet, ctx: ReportContext) -> None:
    _widths(ws, SUMMARY_WIDTHS)
    ws.freeze_panes = "D4"
    _print_setup(ws, "3:3")
    ws.sheet_properties.outlinePr.summaryBelow = True
    _titles(ws, ctx, ctx.say("summary_title", year=ctx.year))
    titles = ctx.columns("summary_columns")
    ws.auto_filter.ref = f"A3:{get_column_letter(len(titles))}3"
    ws.append(_header(ws, titles))
    own, subtotal = ctx.say("row_own"), ctx.say("row_subtotal")
    for number, row in enumerate(_summary_rows(ctx), start=4):
        if row.level:
            ws.row_dimensions[number].outlineLevel = min(row.level, MAX_OUTLINE)
        ws.append(_figures_row(ws, row, subtotal if row.subtotal or row.total else own))
    ws.append([])
    ws.append([_cell(ws, ctx.say("summary_note"), font=_NOTE, border=False)])
    ws.append([_cell(ws, ctx.say("source"), font=_NOTE, border=False)])


# --- Đoàn viên ----------------------------------------------------------------------------


def _counted() -> Any:
    """Who counts, as in `stats`: members not deleted, and deleted (anonymized) members who
    submitted a pledge in the campaign. Needs the campaign's pledge outer-joined."""
    return or_(col(Member.deleted_at).is_(None), col(Pledge.first_submitted_at).is_not(None))


def _studied(campaign: Campaign) -> Any:
    """The member has finished the campaign's yearly topic in /hoc."""
    return exists().where(
        col(StudyProgress.member_id) == Member.id,
        col(StudyProgress.topic_id) == campaign.topic,
        col(StudyProgress.completed_at).is_not(None),
    )


def _checkins(campaign: Campaign) -> Any:
    """The plan's conferences the member checked in at."""
    return (
        select(func.count())
        .select_from(StudyCheckIn)
        .join(StudySession, col(StudySession.id) == StudyCheckIn.session_id)
        .where(
            col(StudyCheckIn.member_id) == Member.id,
            col(StudySession.campaign_id) == campaign.id,
        )
        .scalar_subquery()
    )


def _best_score(campaign: Campaign, topic_id: str) -> Any:
    """The member's best finished attempt at one quiz, as a fraction of its questions."""
    return (
        select(func.max(col(QuizAttempt.score) * 1.0 / col(QuizAttempt.total)))
        .where(
            col(QuizAttempt.member_id) == Member.id,
            col(QuizAttempt.campaign_id) == campaign.id,
            col(QuizAttempt.topic_id) == topic_id,
            col(QuizAttempt.finished_at).is_not(None),
            col(QuizAttempt.total) > 0,
        )
        .scalar_subquery()
    )


def _member_rows(
    session: Session, *, campaign: Campaign, unit_id: int, quiz_topics: Sequence[str]
) -> Iterator[Any]:
    """The members registered in one unit, by name (anonymized ones last), fetched CHUNK rows at
    a time (a server-side cursor on PostgreSQL): name, deleted at, group, party member, pledge
    status, first submitted at, late, studied, check-ins, then the best score of each quiz."""
    query = (
        select(
            col(Member.full_name),
            col(Member.deleted_at),
            col(Member.group),
            col(Member.party_member),
            col(Pledge.status),
            col(Pledge.first_submitted_at),
            col(Pledge.late),
            _studied(campaign),
            _checkins(campaign),
            *(_best_score(campaign, t) for t in quiz_topics),
        )
        .outerjoin(
            Pledge,
            and_(col(Pledge.member_id) == Member.id, col(Pledge.campaign_id) == campaign.id),
        )
        .where(col(Member.unit_id) == unit_id, _counted())
        .order_by(col(Member.deleted_at).is_not(None), col(Member.full_name), col(Member.id))
    )
    yield from session.execute(query, execution_options={"yield_per": CHUNK})


def _members_sheet(ws: WriteOnlyWorksheet, session: Session, ctx: ReportContext) -> int:
    """One row per member of the scope, unit by unit in tree order, streamed; the rows written."""
    quizzes = ctx.quizzes
    _widths(ws, (*MEMBER_WIDTHS, *(QUIZ_WIDTH for _ in quizzes)))
    ws.freeze_panes = "C2"
    _print_setup(ws, "1:1")
    titles = ctx.columns("members_columns")
    titles += [ctx.say("members_quiz_column", quiz=title) for _, title in quizzes]
    ws.auto_filter.ref = f"A1:{get_column_letter(len(titles))}1"
    ws.append(_header(ws, titles))
    yes, no = ctx.t("common.yes"), ctx.t("common.no")
    groups = {g.value: ctx.t(f"groups.{g.value}") for g in MemberGroup}
    statuses = {s.value: ctx.say(f"status_{s.value}") for s in PledgeStatus}
    deleted = ctx.say("deleted_member")
    timing = {True: ctx.say("late"), False: ctx.say("on_time")}
    top = [ctx.tree.total] if ctx.top is not None else []  # the top's own members come first
    count = 0
    for unit in [*top, *ctx.tree.rows()]:
        assert unit.unit_id is not None
        rows = _member_rows(
            session,
            campaign=ctx.campaign,
            unit_id=unit.unit_id,
            quiz_topics=[t for t, _ in quizzes],
        )
        unit_name = line(unit.name)  # imported from a file: control characters XML refuses go
        for name, gone, group, party, status, first, late, studied, checkins, *best in rows:
            count += 1
            submitted = first.astimezone(ctx.tz).replace(tzinfo=None) if first else None
            ws.append(
                [
                    count,
                    deleted if gone is not None else line(name),
                    unit_name,
                    unit.code,
                    groups.get(group, ctx.t("groups.unknown")),
                    yes if party else no,
                    statuses[status] if status else ctx.say("status_none"),
                    _cell(ws, submitted, fmt=WHEN, border=False) if submitted else None,
                    timing[bool(late)] if first else None,
                    yes if studied else no,
                    int(checkins or 0),
                    *(
                        _cell(ws, float(b), fmt=SCORE, border=False) if b is not None else None
                        for b in best
                    ),
                ]
            )
    return count


# --- Phụ lục 1 ----------------------------------------------------------------------------


def _annex1_sheet(ws: WriteOnlyWorksheet, ctx: ReportContext) -> None:
    """Phụ lục 1 as in the guide, from the conferences recorded, with one more form of study
    (the bot's) and the total row."""
    _widths(ws, ANNEX1_WIDTHS)
    _print_setup(ws, "4:5")
    for ref in ("A1:E1", "A2:E2", "A3:E3", "A4:A5", "B4:B5", "C4:C5", "D4:E4", "A11:E11"):
        ws.merged_cells.add(ref)
    for ref in ("A14:E14", "A15:E15"):  # the notes under the table
        ws.merged_cells.add(ref)
    ws.row_dimensions[4].height = 32  # Excel does not fit the height of merged, wrapped cells
    ws.row_dimensions[14].height = 60
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.append([_cell(ws, ctx.say("annex1_heading"), font=_TITLE, align=center, border=False)])
    title = ctx.say("annex1_title", year=ctx.year)
    ws.append([_cell(ws, title, font=_BOLD, align=center, border=False)])
    ws.append([_cell(ws, ctx.made_at, font=_NOTE, align=center, border=False)])
    head = ("annex1_col_form", "annex1_col_meetings", "annex1_col_attendees", "annex1_col_party")
    ws.append(_header(ws, [*(ctx.say(k) for k in head), ""]))
    ws.append(_header(ws, ["", "", "", ctx.say("annex1_col_count"), ctx.say("annex1_col_rate")]))
    a = ctx.annexes
    party_total = a.party_total
    for row in a.conferences:  # rows 6-8
        ws.append(
            [
                _cell(ws, ctx.say(f"annex1_row_{row.form}"), align=_WRAP),
                _cell(ws, row.meetings, fmt=INTEGER),
                _cell(ws, row.attendees, fmt=INTEGER),
                _cell(ws, row.party, fmt=INTEGER),
                _cell(ws, _ratio(row.party, party_total), fmt=PERCENT),
            ]
        )
    ws.append(  # row 9: what the bot knows
        [
            _cell(ws, ctx.say("annex1_row_bot"), align=_WRAP),
            _cell(ws, None),
            _cell(ws, a.studied, fmt=INTEGER),
            _cell(ws, a.party_studied, fmt=INTEGER),
            _cell(ws, _ratio(a.party_studied, party_total), fmt=PERCENT),
        ]
    )

    def total(value: Any, fmt: str | None = None) -> WriteOnlyCell:
        return _cell(ws, value, fmt=fmt, font=_BOLD, fill=_TOTAL_FILL)

    ws.append(  # row 10
        [
            total(ctx.say("annex1_row_total")),
            total(a.meetings, INTEGER),
            total(a.attendees, INTEGER),
            total(a.party, INTEGER),
            total(None),  # one person may attend several: no overall rate
        ]
    )
    ws.append([_cell(ws, ctx.say("annex1_footnote"), font=_NOTE, border=False)])  # row 11
    ws.append([])  # row 12
    ws.append(  # row 13
        [
            _cell(ws, ctx.say("annex1_party_total"), align=_WRAP),
            _cell(ws, party_total, fmt=INTEGER),
        ]
    )
    note = ctx.say("annex1_note", topic=ctx.topic)
    ws.append([_cell(ws, note, font=_NOTE, align=_WRAP, border=False)])
    ws.append([_cell(ws, ctx.say("source"), font=_NOTE, border=False)])


# --- Phụ lục 2–6 --------------------------------------------------------------------------


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
    _widths(ws, ANNEX_WIDTHS[number])
    _print_setup(ws, "4:4")
    for r in (1, 2, 3):
        ws.merged_cells.add(f"A{r}:{last}{r}")
    ws.row_dimensions[2].height = 36
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.append([_cell(ws, ctx.say(f"{key}_heading"), font=_TITLE, align=center, border=False)])
    title = ctx.say(f"{key}_title", year=ctx.year, prev_year=ctx.year - 1)
    ws.append([_cell(ws, title, font=_BOLD, align=center, border=False)])
    ws.append([_cell(ws, ctx.made_at, font=_NOTE, align=center, border=False)])
    ws.append(_header(ws, titles))
    if not rows and total is not None:
        rows = [["", ctx.say("annex_none"), *("" for _ in titles[2:])]]
    for values in rows:
        ws.append(
            [
                v if isinstance(v, Cell) else _cell(ws, v, align=_WRAP_CENTER if i == 0 else _WRAP)
                for i, v in enumerate(values)
            ]
        )
    if total is not None:
        ws.append(
            [
                v
                if isinstance(v, Cell)
                else _cell(ws, v, font=_BOLD, fill=_TOTAL_FILL, align=_WRAP)
                for v in total
            ]
        )
    ws.append([])
    if note:
        ws.append([_cell(ws, note, font=_NOTE, border=False)])
    ws.append([_cell(ws, ctx.say("source"), font=_NOTE, border=False)])


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
        [n, _item_text(ctx, i), _cell(ws, i.percent / 100, fmt=PERCENT)]
        for n, i in enumerate(issues, 1)
    ]
    solved = ctx.annexes.solved
    total = [
        ctx.say("annex_total"),
        ctx.say("annex4_total", count=len(issues), solved=solved),
        _cell(ws, _ratio(solved, len(issues)), fmt=PERCENT, font=_BOLD, fill=_TOTAL_FILL),
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
