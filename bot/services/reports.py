"""The officer's periodic report (/baocao): an XLSX of the figures and a DOCX skeleton of the
report outline, both built as bytes for one scope (a unit's subtree, or everything).

The outline ("Đề cương báo cáo") and the appendix tables ("Phụ lục 1–6") follow the guide of Ban
Thường vụ LĐLĐ tỉnh An Giang (content/seeds/004_068cd7e9f5177e9d.txt); their wording is in the
`report:` block of content/texts.yaml. Per-unit figures come from `bot.services.stats`; the
members sheet is streamed (openpyxl write-only mode, rows fetched in chunks), so a district of
20,000 members never holds 20,000 objects in memory.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Cm, Length, Pt
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import and_, exists, func, or_, select
from sqlmodel import Session, col

from bot.catalog import Campaign, Catalog
from bot.models import Member, MemberGroup, Pledge, PledgeStatus, QuizAttempt, StudyProgress, Unit
from bot.services import stats
from bot.services.pledge_docx import (
    BODY_SIZE,
    FONT,
    MARGIN_BOTTOM,
    MARGIN_LEFT,
    MARGIN_RIGHT,
    MARGIN_TOP,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    REFERENCE_COLOR,
    REFERENCE_SIZE,
    _line,
    _paragraph,
    _row_flag,
    _set_widths,
    _table,
)
from bot.texts import Raw, Texts
from bot.timefmt import fmt_datetime

CHUNK = 1000  # member rows fetched per round trip

# --- XLSX look ------------------------------------------------------------------------------

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=13)
_NOTE = Font(italic=True, size=9, color="666666")
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_WRAP = Alignment(vertical="top", wrap_text=True)
INTEGER = "#,##0"
PERCENT = "0.0%"
WHEN = "dd/mm/yyyy hh:mm"
SCORE = "0%"

SUMMARY_WIDTHS = (44, 16, 12, 10, 12, 11, 10, 9, 9, 11, 9, 11, 9, 9, 9, 11, 12, 12)
MEMBER_WIDTHS = (7, 28, 34, 16, 18, 9, 18, 16, 12, 10)
QUIZ_WIDTH = 14
ANNEX1_WIDTHS = (46, 12, 14, 12, 10)

# --- DOCX look ------------------------------------------------------------------------------

TABLE_SIZE = Pt(12)
INDENT = Cm(1)
UNITS_WIDTHS = tuple(Cm(w) for w in (5.2, 1.8, 1.9, 1.7, 1.9, 1.7, 1.8))
ANNEX1_DOCX_WIDTHS = tuple(Cm(w) for w in (6.6, 2.2, 2.6, 2.6, 2.0))
ANNEX_BLANK_ROWS = 3


@dataclass(frozen=True)
class Report:
    xlsx: bytes
    docx: bytes
    units: int  # units in the scope: the top (if any) and every unit under it
    members: int  # rows of the members sheet


@dataclass(frozen=True)
class _Context:
    """What both documents need: the wording, the scope, the campaign and the figures."""

    t: Texts
    catalog: Catalog
    campaign: Campaign
    top: Unit | None
    tree: stats.StatsTree
    tz: ZoneInfo
    now: datetime

    def say(self, key: str, **values: Any) -> str:
        """A text of the `report:` block, values put in as they are (documents are not HTML)."""
        return self.t(f"report.{key}", **{k: Raw(str(v)) for k, v in values.items()})

    def columns(self, key: str) -> list[str]:
        return [c.strip() for c in self.say(key).split("|")]

    @property
    def year(self) -> int:
        return self.campaign.year

    @property
    def scope(self) -> str:
        return _line(self.top.name) if self.top is not None else self.say("all_units")

    @property
    def topic(self) -> str:
        topic = self.catalog.topics.get(self.campaign.topic)
        return topic.title if topic is not None else self.campaign.topic

    @property
    def quizzes(self) -> list[tuple[str, str]]:
        """(topic id, short title) of each quiz of the campaign."""
        out = []
        for rule in self.campaign.quizzes:
            topic = self.catalog.topics.get(rule.topic)
            out.append((rule.topic, topic.short_title if topic else rule.topic))
        return out

    @property
    def made_at(self) -> str:
        at = fmt_datetime(self.now, self.tz)
        return self.say("made_at", scope=self.scope, year=self.year, at=at)


def build(
    session: Session,
    *,
    texts: Texts,
    catalog: Catalog,
    campaign: Campaign,
    top: Unit | None,
    tz: ZoneInfo,
    now: datetime,
) -> Report:
    """Both documents for `top`'s subtree (None: every unit)."""
    ctx = _Context(
        t=texts,
        catalog=catalog,
        campaign=campaign,
        top=top,
        tree=stats.tree(session, campaign, top),
        tz=tz,
        now=now,
    )
    xlsx, written = _xlsx(session, ctx)
    return Report(
        xlsx=xlsx,
        docx=_docx(ctx, written.party_studied),
        units=written.units,
        members=written.members,
    )


# --- queries --------------------------------------------------------------------------------


def _counted() -> Any:
    """Who counts, as in `stats`: members not deleted, and deleted (anonymized) members who
    submitted a pledge in the campaign. Needs the campaign's pledge outer-joined."""
    return or_(col(Member.deleted_at).is_(None), col(Pledge.first_submitted_at).is_not(None))


def _studied(campaign: Campaign) -> Any:
    """The member has finished the campaign's yearly topic."""
    return exists().where(
        col(StudyProgress.member_id) == Member.id,
        col(StudyProgress.topic_id) == campaign.topic,
        col(StudyProgress.completed_at).is_not(None),
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
    status, first submitted at, late, studied, then the best score of each quiz."""
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


# --- XLSX -----------------------------------------------------------------------------------


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


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class _Written:
    units: int  # in the summary: the units under the top, and the top (the total row)
    members: int  # rows of the members sheet
    party_studied: int  # party members among them who finished the yearly topic (Phụ lục 1)


def _xlsx(session: Session, ctx: _Context) -> tuple[bytes, _Written]:
    wb = Workbook(write_only=True)
    units = _summary_sheet(wb.create_sheet(ctx.say("sheet_summary")), ctx)
    members, party_studied = _members_sheet(wb.create_sheet(ctx.say("sheet_members")), session, ctx)
    _annex1_sheet(wb.create_sheet(ctx.say("sheet_annex1")), ctx, party_studied)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue(), _Written(units, members, party_studied)


def _figures_row(
    ws: WriteOnlyWorksheet,
    f: stats.UnitFigures,
    *,
    name: str,
    indent: int,
    font: Font | None = None,
    fill: PatternFill | None = None,
) -> list[WriteOnlyCell]:
    def num(value: int) -> WriteOnlyCell:
        return _cell(ws, value, fmt=INTEGER, font=font, fill=fill)

    def pct(value: float | None) -> WriteOnlyCell:
        return _cell(ws, value, fmt=PERCENT, font=font, fill=fill)

    avg = f.avg_score_pct / 100 if f.avg_score_pct is not None else None
    return [
        _cell(ws, name, font=font, fill=fill, align=Alignment(indent=indent, wrap_text=True)),
        _cell(ws, f.code, font=font, fill=fill),
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
        pct(_ratio(f.studied, f.members)),
        num(f.quiz_takers),
        num(f.quiz_passed),
        pct(avg),
        # the real membership, where known: rates against it, next to those of the bot
        _cell(ws, f.real_members, fmt=INTEGER, font=font, fill=fill),
        pct(_ratio(f.submitted, f.real_members) if f.real_members else None),
    ]


def _titles(ws: WriteOnlyWorksheet, ctx: _Context, title: str) -> None:
    ws.append([_cell(ws, title, font=_TITLE, border=False)])
    ws.append([_cell(ws, ctx.made_at, font=_NOTE, border=False)])


def _summary_sheet(ws: WriteOnlyWorksheet, ctx: _Context) -> int:
    """One row per unit of the scope, indented by depth, rolled up over its subtree; a total."""
    _widths(ws, SUMMARY_WIDTHS)
    ws.freeze_panes = "C4"
    _titles(ws, ctx, ctx.say("summary_title", year=ctx.year))
    ws.append(_header(ws, ctx.columns("summary_columns")))
    rows = ctx.tree.rows()
    base = min((r.depth for r in rows), default=0)
    for f in rows:
        ws.append(_figures_row(ws, f, name=_line(f.name), indent=min(f.depth - base, 15)))
    total = ctx.tree.total
    ws.append(
        _figures_row(
            ws, total, name=ctx.say("summary_total"), indent=0, font=_BOLD, fill=_TOTAL_FILL
        )
    )
    return len(rows) + (ctx.top is not None)  # the top is the total row


def _members_sheet(ws: WriteOnlyWorksheet, session: Session, ctx: _Context) -> tuple[int, int]:
    """One row per member of the scope, unit by unit in the order of the summary sheet, streamed;
    returns the rows written and the party members among them who studied."""
    quizzes = ctx.quizzes
    _widths(ws, (*MEMBER_WIDTHS, *(QUIZ_WIDTH for _ in quizzes)))
    ws.freeze_panes = "C2"
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
    count = party_studied = 0
    for unit in [*top, *ctx.tree.rows()]:
        assert unit.unit_id is not None
        rows = _member_rows(
            session,
            campaign=ctx.campaign,
            unit_id=unit.unit_id,
            quiz_topics=[t for t, _ in quizzes],
        )
        unit_name = _line(unit.name)  # imported from a file: control characters XML refuses go
        for name, gone, group, party, status, first, late, studied, *best in rows:
            count += 1
            party_studied += bool(party and studied)
            submitted = first.astimezone(ctx.tz).replace(tzinfo=None) if first else None
            ws.append(
                [
                    count,
                    deleted if gone is not None else _line(name),
                    unit_name,
                    unit.code,
                    groups.get(group, ctx.t("groups.unknown")),
                    yes if party else no,
                    statuses[status] if status else ctx.say("status_none"),
                    _cell(ws, submitted, fmt=WHEN, border=False) if submitted else None,
                    timing[bool(late)] if first else None,
                    yes if studied else no,
                    *(
                        _cell(ws, float(b), fmt=SCORE, border=False) if b is not None else None
                        for b in best
                    ),
                ]
            )
    return count, party_studied


def _annex1_sheet(ws: WriteOnlyWorksheet, ctx: _Context, party_studied: int) -> None:
    """Phụ lục 1 as in the guide, with one more form of study (the bot's) filled in, the
    conference rows left to the officer and a total row that adds them up."""
    _widths(ws, ANNEX1_WIDTHS)
    for ref in ("A1:E1", "A2:E2", "A3:E3", "A4:A5", "B4:B5", "C4:C5", "D4:E4", "A11:E11"):
        ws.merged_cells.add(ref)
    for ref in ("A14:E14", "A15:E15"):  # the notes under the table
        ws.merged_cells.add(ref)
    ws.row_dimensions[4].height = 32  # Excel does not fit the height of merged, wrapped cells
    ws.row_dimensions[14].height = 48
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.append([_cell(ws, ctx.say("annex1_heading"), font=_TITLE, align=center, border=False)])
    title = ctx.say("annex1_title", year=ctx.year)
    ws.append([_cell(ws, title, font=_BOLD, align=center, border=False)])
    ws.append([_cell(ws, ctx.made_at, font=_NOTE, align=center, border=False)])
    ws.append(
        _header(
            ws,
            [
                ctx.say("annex1_col_form"),
                ctx.say("annex1_col_meetings"),
                ctx.say("annex1_col_attendees"),
                ctx.say("annex1_col_party"),
                "",
            ],
        )
    )
    ws.append(_header(ws, ["", "", "", ctx.say("annex1_col_count"), ctx.say("annex1_col_rate")]))
    for key in ("annex1_row_district", "annex1_row_base", "annex1_row_members"):  # rows 6-8
        ws.append([_cell(ws, ctx.say(key), align=_WRAP)] + [_cell(ws, None) for _ in range(4)])
    total = ctx.tree.total
    party_total_cell = "B13"
    ws.append(  # row 9: what the bot knows
        [
            _cell(ws, ctx.say("annex1_row_bot"), align=_WRAP),
            _cell(ws, None),
            _cell(ws, total.studied, fmt=INTEGER),
            _cell(ws, party_studied, fmt=INTEGER),
            _cell(ws, _ratio(party_studied, total.party_members), fmt=PERCENT),
        ]
    )
    ws.append(  # row 10
        [
            _cell(ws, ctx.say("annex1_row_total"), font=_BOLD, fill=_TOTAL_FILL),
            *(
                _cell(ws, f"=SUM({c}6:{c}9)", fmt=INTEGER, font=_BOLD, fill=_TOTAL_FILL)
                for c in "BCD"
            ),
            _cell(
                ws,
                f'=IF({party_total_cell}>0,D10/{party_total_cell},"")',
                fmt=PERCENT,
                font=_BOLD,
                fill=_TOTAL_FILL,
            ),
        ]
    )
    ws.append([_cell(ws, ctx.say("annex1_footnote"), font=_NOTE, border=False)])  # row 11
    ws.append([])  # row 12
    ws.append(  # row 13
        [
            _cell(ws, ctx.say("annex1_party_total"), align=_WRAP),
            _cell(ws, total.party_members, fmt=INTEGER),
        ]
    )
    note = ctx.say("annex1_note", topic=ctx.topic)
    ws.append([_cell(ws, note, font=_NOTE, align=_WRAP, border=False)])
    ws.append([_cell(ws, ctx.say("source"), font=_NOTE, border=False)])


# --- DOCX -----------------------------------------------------------------------------------


def _setup(document: DocumentObject, ctx: _Context) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
    section.left_margin, section.right_margin = MARGIN_LEFT, MARGIN_RIGHT
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = BODY_SIZE
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), FONT)
    fonts.set(qn("w:cs"), FONT)
    fmt = normal.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(3)
    fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    footer = section.footer.paragraphs[0]
    run = footer.add_run(ctx.say("source"))
    run.font.size, run.font.color.rgb = REFERENCE_SIZE, REFERENCE_COLOR
    props = document.core_properties
    props.title = ctx.say("outline_title", year=ctx.year)
    props.subject = _line(ctx.scope)
    props.author = props.last_modified_by = ""
    props.created = props.modified = ctx.now
    props.revision = 1


def _heading(document: DocumentObject, text: str, *, level: int) -> None:
    _paragraph(
        document, text, bold=True, space_before=Pt(9 if level == 1 else 6)
    ).paragraph_format.keep_with_next = True


def _bullet(document: DocumentObject, text: str) -> None:
    _paragraph(
        document, "- " + text, align=WD_ALIGN_PARAGRAPH.JUSTIFY, first_line_indent=INDENT
    ).paragraph_format.keep_with_next = True


def _write_here(document: DocumentObject, ctx: _Context) -> None:
    _paragraph(document, ctx.say("placeholder"), first_line_indent=INDENT)


def _figure(document: DocumentObject, text: str) -> None:
    _paragraph(
        document, text, italic=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY, first_line_indent=INDENT
    )


def _pct(part: int, whole: int) -> str:
    """'45,5%' (Vietnamese decimal comma), or '—' when there is nothing to divide by."""
    if not whole:
        return "—"
    return f"{100 * part / whole:.1f}".replace(".", ",") + "%"


def _num(value: int) -> str:
    """'12.345' (Vietnamese thousands separator)."""
    return f"{value:,}".replace(",", ".")


def _docx(ctx: _Context, party_studied: int) -> bytes:
    document = Document()
    _setup(document, ctx)
    year = ctx.year
    _paragraph(document, ctx.made_at, italic=True, size=REFERENCE_SIZE, space_after=Pt(9))
    center = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph(document, ctx.say("outline_heading"), align=center, bold=True)
    _paragraph(
        document, ctx.say("outline_title", year=year), align=center, bold=True, space_after=Pt(9)
    )
    _heading(document, ctx.say("part1"), level=1)
    _heading(document, ctx.say("part1_1"), level=2)
    for key in ("part1_1_a", "part1_1_b"):
        _bullet(document, ctx.say(key))
        _write_here(document, ctx)

    total = ctx.tree.total
    _heading(document, ctx.say("part1_2"), level=2)
    _bullet(document, ctx.say("part1_2_a", year=year))
    _figure(
        document,
        ctx.say(
            "fig_study",
            topic=ctx.topic,
            studied=_num(total.studied),
            members=_num(total.members),
            studied_pct=_pct(total.studied, total.members),
            party_studied=_num(party_studied),
            party_members=_num(total.party_members),
            party_pct=_pct(party_studied, total.party_members),
        ),
    )
    avg = total.avg_score_pct
    _figure(
        document,
        ctx.say(
            "fig_quiz",
            takers=_num(total.quiz_takers),
            passed=_num(total.quiz_passed),
            pass_pct=_pct(total.quiz_passed, total.quiz_takers),
            avg=ctx.say("not_available") if avg is None else f"{avg:.1f}".replace(".", ",") + "%",
        ),
    )
    _write_here(document, ctx)
    _bullet(document, ctx.say("part1_2_b"))
    _write_here(document, ctx)

    _heading(document, ctx.say("part1_3"), level=2)
    _bullet(document, ctx.say("part1_3_a"))
    _figure(
        document,
        ctx.say(
            "fig_pledge",
            year=year,
            submitted=_num(total.submitted),
            members=_num(total.members),
            submitted_pct=_pct(total.submitted, total.members),
            on_time=_num(total.on_time),
            late=_num(total.late),
            approved=_num(total.approved),
            returned=_num(total.returned),
            not_submitted=_num(total.not_submitted),
        ),
    )
    if total.real_members:
        _figure(
            document,
            ctx.say(
                "fig_real",
                real=_num(total.real_members),
                submitted=_num(total.submitted),
                submitted_pct=_pct(total.submitted, total.real_members),
                members=_num(total.members),
            ),
        )
    _units_table(document, ctx)
    _write_here(document, ctx)
    for key in ("part1_3_b", "part1_3_c", "part1_3_d", "part1_3_e", "part1_3_f"):
        _bullet(document, ctx.say(key, year=year, prev_year=year - 1))
        _write_here(document, ctx)

    _heading(document, ctx.say("part1_4"), level=2)
    for key in ("part1_4_a", "part1_4_b", "part1_4_c"):
        _bullet(document, ctx.say(key, year=year))
        _write_here(document, ctx)

    _heading(document, ctx.say("part2"), level=1)
    for key in ("part2_1", "part2_2", "part2_3", "part2_4"):
        _heading(document, ctx.say(key), level=2)
        _write_here(document, ctx)
    _heading(document, ctx.say("part3", next_year=year + 1), level=1)
    _write_here(document, ctx)
    _heading(document, ctx.say("part4"), level=1)
    _write_here(document, ctx)

    document.add_page_break()
    _annex1_docx(document, ctx, party_studied)
    for number in range(2, 7):
        _annex_blank(document, ctx, number)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _cell_text(cell: Any, text: str, *, bold: bool = False, align: Any = None) -> None:
    _paragraph(cell, text, bold=bold, size=TABLE_SIZE, align=align, space_after=Pt(0))
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


def _grid(document: DocumentObject, widths: tuple[Length, ...], titles: Sequence[str]) -> Any:
    """A bordered table whose first row holds the titles, repeated on every page."""
    table = _table(document, widths, borders=True)
    for cell, title in zip(table.rows[0].cells, titles, strict=True):
        _cell_text(cell, title, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _row_flag(table, 0, "w:tblHeader")
    return table


def _add_row(table: Any, widths: tuple[Length, ...], values: Sequence[str], **kw: Any) -> None:
    cells = table.add_row().cells
    _set_widths(cells, widths)
    for i, (cell, value) in enumerate(zip(cells, values, strict=True)):
        align = WD_ALIGN_PARAGRAPH.LEFT if i == 0 else WD_ALIGN_PARAGRAPH.CENTER
        _cell_text(cell, value, align=align, **kw)


def _units_table(document: DocumentObject, ctx: _Context) -> None:
    """The units one level below the scope, each rolled up over its subtree, the members
    registered in the top unit itself, and the total: the rows add up to it."""
    below = ctx.tree.children(ctx.top.id if ctx.top is not None else None)
    if not below:
        return
    _paragraph(document, ctx.say("fig_units"), italic=True, first_line_indent=INDENT)
    table = _grid(document, UNITS_WIDTHS, ctx.columns("fig_units_columns"))
    rows = [(_line(f.name), f) for f in below]
    own = ctx.tree.own(ctx.top.id) if ctx.top is not None else None
    if own is not None and own.members:
        rows.append((ctx.say("fig_units_own", unit=ctx.scope), own))
    total = ctx.tree.total
    for name, f in [*rows, (ctx.say("summary_total"), total)]:
        values = [
            name,
            _num(f.members),
            _num(f.submitted),
            _pct(f.submitted, f.members),
            _num(f.studied),
            _num(f.quiz_takers),
            _num(f.quiz_passed),
        ]
        _add_row(table, UNITS_WIDTHS, values, bold=f is total)
    _paragraph(document)


def _annex_title(document: DocumentObject, heading: str, title: str) -> None:
    center = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph(
        document, heading, bold=True, align=center, space_before=Pt(12)
    ).paragraph_format.keep_with_next = True
    _paragraph(
        document, title, bold=True, align=center, space_after=Pt(6)
    ).paragraph_format.keep_with_next = True


def _annex1_docx(document: DocumentObject, ctx: _Context, party_studied: int) -> None:
    _annex_title(document, ctx.say("annex1_heading"), ctx.say("annex1_title", year=ctx.year))
    widths = ANNEX1_DOCX_WIDTHS
    table = _grid(
        document,
        widths,
        [
            ctx.say("annex1_col_form"),
            ctx.say("annex1_col_meetings"),
            ctx.say("annex1_col_attendees"),
            ctx.say("annex1_col_party"),
            "",
        ],
    )
    second = table.add_row()
    _set_widths(second.cells, widths)
    for cell, key in ((second.cells[3], "annex1_col_count"), (second.cells[4], "annex1_col_rate")):
        _cell_text(cell, ctx.say(key), bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _row_flag(table, 1, "w:tblHeader")
    head = table.rows[0].cells
    head[3].merge(head[4])
    for i in range(3):
        head[i].merge(second.cells[i])
    for key in ("annex1_row_district", "annex1_row_base", "annex1_row_members"):
        _add_row(table, widths, [ctx.say(key), "", "", "", ""])
    total = ctx.tree.total
    bot_row = [
        ctx.say("annex1_row_bot"),
        "",
        _num(total.studied),
        _num(party_studied),
        _pct(party_studied, total.party_members),
    ]
    _add_row(table, widths, bot_row)
    _add_row(table, widths, [ctx.say("annex1_row_total"), "", "", "", ""], bold=True)
    _paragraph(document, ctx.say("annex1_footnote"), italic=True, size=REFERENCE_SIZE)
    _paragraph(
        document,
        ctx.say("annex1_party_total") + ": " + _num(total.party_members),
        size=REFERENCE_SIZE,
    )
    _paragraph(document, ctx.say("annex1_note", topic=ctx.topic), italic=True, size=REFERENCE_SIZE)


def _annex_blank(document: DocumentObject, ctx: _Context, number: int) -> None:
    """Phụ lục 2–6: the guide's heading and columns, numbered empty rows for the officer."""
    key = f"annex{number}"
    _annex_title(
        document,
        ctx.say(f"{key}_heading"),
        ctx.say(f"{key}_title", year=ctx.year, prev_year=ctx.year - 1),
    )
    titles = ctx.columns(f"{key}_columns")
    first = 1.2
    rest = (16.0 - first) / (len(titles) - 1)
    widths = (Cm(first), *(Cm(rest) for _ in titles[1:]))
    table = _grid(document, widths, titles)
    for row in range(1, ANNEX_BLANK_ROWS + 1):
        _add_row(table, widths, [str(row), *("" for _ in titles[1:])])
