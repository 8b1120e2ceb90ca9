"""The report as a DOCX ready to sign and send up: the header block of an administrative
document (the issuing union, "Số: …/BC-…", the national motto, the place and date line), the
title, the guide's outline with every figure the bot knows written in ("…" where the officer
writes), the recipients and signature, then the filled appendix tables Phụ lục 1–6 with their
total rows. No internal names: the guide is named in words."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Length, Pt

from bot.services import docxform as form
from bot.services.annexes import Item, ModelRow
from bot.services.report_context import ReportContext

TABLE_SIZE = Pt(12)
INDENT = Cm(1)
UNITS_WIDTHS = tuple(Cm(w) for w in (5.2, 1.8, 1.9, 1.7, 1.9, 1.7, 1.8))
ANNEX1_WIDTHS = tuple(Cm(w) for w in (6.6, 2.2, 2.6, 2.6, 2.0))
ANNEX_WIDTHS = {
    2: tuple(Cm(w) for w in (1.2, 3.2, 2.4, 2.6, 2.6, 4.0)),
    3: tuple(Cm(w) for w in (1.4, 10.1, 4.5)),
    4: tuple(Cm(w) for w in (1.4, 10.6, 4.0)),
    5: tuple(Cm(w) for w in (1.4, 3.4, 4.4, 4.4, 2.4)),
    6: tuple(Cm(w) for w in (1.4, 3.8, 5.4, 5.4)),
}
ANNEX_BLANK_ROWS = 3
RECIPIENTS_SIZE = Pt(11)


def write(ctx: ReportContext) -> bytes:
    document = Document()
    form.setup(document, after=Pt(3))
    props = document.core_properties
    props.title = ctx.say("outline_title", year=ctx.year)
    props.subject = form.line(ctx.scope)
    props.author = props.last_modified_by = ""
    props.created = props.modified = ctx.now
    props.revision = 1
    _head(document, ctx)
    _outline(document, ctx)
    _signature(document, ctx)
    document.add_page_break()
    _annex1(document, ctx)
    _annex2(document, ctx)
    _annex3(document, ctx)
    _annex4(document, ctx)
    _models(document, ctx, 5, ctx.annexes.new_models)
    _models(document, ctx, 6, ctx.annexes.replicated)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- numbers in words' company ------------------------------------------------------------


def pct(part: int, whole: int) -> str:
    """'45,5%' (Vietnamese decimal comma), or '—' when there is nothing to divide by."""
    if not whole:
        return "—"
    return f"{100 * part / whole:.1f}".replace(".", ",") + "%"


def num(value: int) -> str:
    """'12.345' (Vietnamese thousands separator)."""
    return f"{value:,}".replace(",", ".")


# --- the front ----------------------------------------------------------------------------


def _head(document: DocumentObject, ctx: ReportContext) -> None:
    issuer = ctx.top.name if ctx.top is not None else ctx.say("unknown_issuer")
    today = ctx.now.astimezone(ctx.tz).date()
    form.header(
        document,
        parent=ctx.parent.name if ctx.parent is not None else None,
        unit=issuer,
        number=ctx.say("number"),
        dated=form.date_line("", today),
    )
    center = WD_ALIGN_PARAGRAPH.CENTER
    form.paragraph(
        document, ctx.say("outline_heading"), align=center, bold=True, space_before=Pt(12)
    )
    form.paragraph(document, ctx.say("outline_title", year=ctx.year), align=center, bold=True)
    form.paragraph(document, ctx.say("outline_source"), align=center, italic=True)
    form.paragraph(
        document,
        ctx.say("outline_scope", scope=ctx.scope, at=ctx.at),
        align=center,
        italic=True,
        size=form.SMALL_SIZE,
        space_after=Pt(9),
    )


def _heading(document: DocumentObject, text: str, *, level: int) -> None:
    form.paragraph(
        document, text, bold=True, space_before=Pt(9 if level == 1 else 6)
    ).paragraph_format.keep_with_next = True


def _bullet(document: DocumentObject, text: str) -> None:
    form.paragraph(
        document, "- " + text, align=WD_ALIGN_PARAGRAPH.JUSTIFY, first_line_indent=INDENT
    ).paragraph_format.keep_with_next = True


def _write_here(document: DocumentObject, ctx: ReportContext) -> None:
    form.paragraph(document, ctx.say("write_here"), first_line_indent=INDENT)


def _figure(document: DocumentObject, text: str) -> None:
    form.paragraph(
        document, text, italic=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY, first_line_indent=INDENT
    )


def _outline(document: DocumentObject, ctx: ReportContext) -> None:
    year, total, a = ctx.year, ctx.tree.total, ctx.annexes
    _heading(document, ctx.say("part1"), level=1)
    _heading(document, ctx.say("part1_1"), level=2)
    for key in ("part1_1_a", "part1_1_b"):
        _bullet(document, ctx.say(key))
        _write_here(document, ctx)

    _heading(document, ctx.say("part1_2"), level=2)
    _bullet(document, ctx.say("part1_2_a", year=year))
    _figure(
        document,
        ctx.say(
            "fig_conferences",
            meetings=num(a.meetings),
            attendees=num(a.conference_attendees),
            party=num(a.conference_party),
        ),
    )
    _figure(
        document,
        ctx.say(
            "fig_study",
            topic=ctx.topic,
            studied_any=num(total.studied_any),
            members=num(total.members),
            studied_pct=pct(total.studied_any, total.members),
            studied=num(total.studied),
            checked_in=num(total.checked_in),
            party=_party_studied(ctx),
        ),
    )
    avg = total.avg_score_pct
    _figure(
        document,
        ctx.say(
            "fig_quiz",
            takers=num(total.quiz_takers),
            passed=num(total.quiz_passed),
            pass_pct=pct(total.quiz_passed, total.quiz_takers),
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
            submitted=num(total.submitted),
            members=num(total.members),
            submitted_pct=pct(total.submitted, total.members),
            on_time=num(total.on_time),
            late=num(total.late),
            approved=num(total.approved),
            returned=num(total.returned),
            not_submitted=num(total.not_submitted),
        ),
    )
    if total.real_members:
        _figure(
            document,
            ctx.say(
                "fig_real",
                real=num(total.real_members),
                submitted=num(total.submitted),
                submitted_pct=pct(total.submitted, total.real_members),
                members=num(total.members),
            ),
        )
    _units_table(document, ctx)
    _write_here(document, ctx)
    _bullet(document, ctx.say("part1_3_b"))
    _figure(
        document,
        ctx.say(
            "fig_breakthrough",
            contents=num(len(a.contents)),
            contents_done=num(sum(i.done for i in a.contents)),
            issues=num(len(a.issues)),
            solved=num(a.solved),
            solved_pct=pct(a.solved, len(a.issues)),
        ),
    )
    _write_here(document, ctx)
    _bullet(document, ctx.say("part1_3_c"))
    _write_here(document, ctx)
    for key, figure, models in (
        ("part1_3_d", "fig_models_new", a.new_models),
        ("part1_3_e", "fig_models_replicated", a.replicated),
    ):
        _bullet(document, ctx.say(key, year=year, prev_year=year - 1))
        _figure(document, ctx.say(figure, count=num(len(models))))
        for m in models:
            form.paragraph(
                document, "+ " + ctx.of_unit(m.name, m.unit, m.unit_id), first_line_indent=INDENT
            )
        _write_here(document, ctx)
    _bullet(document, ctx.say("part1_3_f"))
    _write_here(document, ctx)

    _heading(document, ctx.say("part1_4"), level=2)
    _bullet(document, ctx.say("part1_4_a", year=year))
    _figure(document, ctx.say("fig_examples", count=num(a.examples), year=year))
    _write_here(document, ctx)
    for key in ("part1_4_b", "part1_4_c"):
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


def _signature(document: DocumentObject, ctx: ReportContext) -> None:
    """Recipients on the left, the signer on the right, as Decree 30 lays them out."""
    form.paragraph(document, space_after=Pt(6))
    block = form.table(document, form.SIGNATURE_COLUMNS, borders=False)
    form.row_flag(block, 0, "w:cantSplit")
    left, right = block.rows[0].cells
    form.paragraph(left, ctx.say("recipients"), bold=True, italic=True, size=Pt(12))
    for key in ("recipient_above", "recipient_archive"):
        form.paragraph(left, ctx.say(key), size=RECIPIENTS_SIZE)
    center = WD_ALIGN_PARAGRAPH.CENTER
    form.paragraph(right, ctx.say("signer"), align=center, bold=True)
    form.paragraph(right, ctx.say("signer_hint"), align=center, italic=True)
    for _ in range(form.SIGNATURE_BLANK_LINES):
        form.paragraph(right)


# --- tables -------------------------------------------------------------------------------


def _cell_text(cell: Any, text: str, *, bold: bool = False, align: Any = None) -> None:
    form.paragraph(cell, text, bold=bold, size=TABLE_SIZE, align=align, space_after=Pt(0))
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


def _grid(document: DocumentObject, widths: tuple[Length, ...], titles: Sequence[str]) -> Any:
    """A bordered table whose first row holds the titles, repeated on every page."""
    table = form.table(document, widths, borders=True)
    for cell, title in zip(table.rows[0].cells, titles, strict=True):
        _cell_text(cell, title, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    form.row_flag(table, 0, "w:tblHeader")
    return table


def _add_row(
    table: Any,
    widths: tuple[Length, ...],
    values: Sequence[str],
    *,
    left: Sequence[int] = (0,),
    **kw: Any,
) -> None:
    """A row: the columns in `left` read from the left, the others are centred."""
    cells = table.add_row().cells
    form.set_widths(cells, widths)
    for i, (cell, value) in enumerate(zip(cells, values, strict=True)):
        align = WD_ALIGN_PARAGRAPH.LEFT if i in left else WD_ALIGN_PARAGRAPH.CENTER
        _cell_text(cell, value, align=align, **kw)


def _units_table(document: DocumentObject, ctx: ReportContext) -> None:
    """The units one level below the scope, each rolled up over its subtree, the members
    registered in the top unit itself, and the total: the rows add up to it."""
    below = ctx.tree.children(ctx.top.id if ctx.top is not None else None)
    if not below:
        return
    form.paragraph(document, ctx.say("fig_units"), italic=True, first_line_indent=INDENT)
    table = _grid(document, UNITS_WIDTHS, ctx.columns("fig_units_columns"))
    rows = [(form.line(f.name), f) for f in below]
    own = ctx.tree.own(ctx.top.id) if ctx.top is not None else None
    if own is not None and own.members:
        rows.append((ctx.say("fig_units_own", unit=ctx.scope), own))
    total = ctx.tree.total
    for name, f in [*rows, (ctx.say("summary_total"), total)]:
        values = [
            name,
            num(f.members),
            num(f.submitted),
            pct(f.submitted, f.members),
            num(f.studied_any),
            num(f.quiz_takers),
            num(f.quiz_passed),
        ]
        _add_row(table, UNITS_WIDTHS, values, bold=f is total)
    form.paragraph(document)


def _party_studied(ctx: ReportContext) -> str:
    """Party members who studied in /hoc, against the real party members where known (the
    bot's count beside it), else against the bot's, said so."""
    a = ctx.annexes
    figures = {
        "party_studied": num(a.party_studied),
        "party_members": num(a.party_on_bot),
        "party_pct": pct(a.party_studied, a.party_total),
    }
    if a.party_real is None:
        return ctx.say("fig_party_bot", **figures)
    return ctx.say("fig_party_real", real=num(a.party_real), **figures)


def _annex_title(document: DocumentObject, heading: str, title: str) -> None:
    center = WD_ALIGN_PARAGRAPH.CENTER
    form.paragraph(
        document, heading, bold=True, align=center, space_before=Pt(12)
    ).paragraph_format.keep_with_next = True
    form.paragraph(
        document, title, bold=True, align=center, space_after=Pt(6)
    ).paragraph_format.keep_with_next = True


def _annex1(document: DocumentObject, ctx: ReportContext) -> None:
    _annex_title(document, ctx.say("annex1_heading"), ctx.say("annex1_title", year=ctx.year))
    widths = ANNEX1_WIDTHS
    head = ("annex1_col_form", "annex1_col_meetings", "annex1_col_attendees", "annex1_col_party")
    table = _grid(document, widths, [*(ctx.say(k) for k in head), ""])
    second = table.add_row()
    form.set_widths(second.cells, widths)
    for cell, title in (
        (second.cells[3], ctx.say("annex1_col_count")),
        (second.cells[4], ctx.party_rate_title),
    ):
        _cell_text(cell, title, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    form.row_flag(table, 1, "w:tblHeader")
    top = table.rows[0].cells
    top[3].merge(top[4])
    for i in range(3):
        top[i].merge(second.cells[i])
    a = ctx.annexes
    for row in a.conferences:
        values = [
            ctx.say(f"annex1_row_{row.form}"),
            num(row.meetings),
            num(row.attendees),
            num(row.party),
            pct(row.party, a.party_total),
        ]
        _add_row(table, widths, values)
    bot = [
        ctx.say("annex1_row_bot"),
        "",
        num(a.studied),
        num(a.party_studied),
        pct(a.party_studied, a.party_total),
    ]
    _add_row(table, widths, bot)
    totals = [
        ctx.say("annex1_row_total"),
        num(a.meetings),
        num(a.attendees),
        num(a.party),
        "",  # one person may attend several: no overall rate
    ]
    _add_row(table, widths, totals, bold=True)
    small = form.REFERENCE_SIZE
    form.paragraph(document, ctx.say("annex1_footnote"), italic=True, size=small)
    real = num(a.party_real) if a.party_real is not None else ctx.say("annex1_party_unknown")
    party = " · ".join(
        (
            ctx.say("annex1_party_real") + ": " + real,
            ctx.say("annex1_party_on_bot") + ": " + num(a.party_on_bot),
        )
    )
    form.paragraph(document, party, size=small)
    form.paragraph(document, ctx.say("annex1_note", topic=ctx.topic), italic=True, size=small)


def _annex_table(
    document: DocumentObject,
    ctx: ReportContext,
    number: int,
    rows: list[list[str]],
    total: list[str] | None,
    note: str | None = None,
) -> None:
    key = f"annex{number}"
    _annex_title(
        document,
        ctx.say(f"{key}_heading"),
        ctx.say(f"{key}_title", year=ctx.year, prev_year=ctx.year - 1),
    )
    titles = ctx.columns(f"{key}_columns")
    widths = ANNEX_WIDTHS[number]
    table = _grid(document, widths, titles)
    if not rows and total is not None:
        rows = [["", ctx.say("annex_none"), *("" for _ in titles[2:])]]
    left = range(1, len(titles)) if number in (2, 5, 6) else (1,)
    for values in rows:
        _add_row(table, widths, values, left=left)
    if total is not None:
        _add_row(table, widths, total, left=left, bold=True)
    if note:
        form.paragraph(document, note, italic=True, size=form.REFERENCE_SIZE)


def _annex2(document: DocumentObject, ctx: ReportContext) -> None:
    blank = [[str(n), "", "", "", "", ""] for n in range(1, ANNEX_BLANK_ROWS + 1)]
    _annex_table(document, ctx, 2, blank, None, ctx.say("annex2_note"))


def _item_text(ctx: ReportContext, item: Item) -> str:
    return ctx.of_unit(item.text, item.unit, item.unit_id)


def _annex3(document: DocumentObject, ctx: ReportContext) -> None:
    items = ctx.annexes.contents
    rows = [
        [str(n), _item_text(ctx, i), ctx.say("annex3_done" if i.done else "annex3_ongoing")]
        for n, i in enumerate(items, 1)
    ]
    total = [
        ctx.say("annex_total"),
        ctx.say("annex3_total", count=num(len(items))),
        ctx.say("annex3_total_note", done=num(sum(i.done for i in items))),
    ]
    _annex_table(document, ctx, 3, rows, total)


def _annex4(document: DocumentObject, ctx: ReportContext) -> None:
    issues = ctx.annexes.issues
    rows = [[str(n), _item_text(ctx, i), pct(i.percent, 100)] for n, i in enumerate(issues, 1)]
    solved = ctx.annexes.solved
    total = [
        ctx.say("annex_total"),
        ctx.say("annex4_total", count=num(len(issues)), solved=num(solved)),
        pct(solved, len(issues)),
    ]
    _annex_table(document, ctx, 4, rows, total, ctx.say("annex4_note"))


def _models(
    document: DocumentObject, ctx: ReportContext, number: int, models: list[ModelRow]
) -> None:
    rows = []
    for n, m in enumerate(models, 1):
        row = [
            str(n),
            ctx.of_unit(m.name, m.unit, m.unit_id),
            form.text(m.how),
            form.text(m.results),
        ]
        if number == 5:
            row.append(form.line(m.recognition))
        rows.append(row)
    total = [ctx.say("annex_total"), ctx.say(f"annex{number}_total", count=num(len(models)))]
    total += ["" for _ in range(len(ANNEX_WIDTHS[number]) - 2)]
    _annex_table(document, ctx, number, rows, total)
