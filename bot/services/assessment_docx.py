"""A member's year-end self-assessment of their pledge as a DOCX ready to sign: each commitment
ticked done / partly done / not done with the member's note, the rating the member proposes and
the rating the grassroots union confirmed (a dotted line until it does).
Pure function, like bot.services.pledge_docx: the document is returned as bytes."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass

from docx import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from bot.pledgebook import RESULTS
from bot.services import docxform as form
from bot.services.pledge_docx import footer_reference, opening

TITLE = (
    "BẢN TỰ ĐÁNH GIÁ KẾT QUẢ THỰC HIỆN BẢN ĐĂNG KÝ HỌC TẬP VÀ LÀM THEO "
    "TƯ TƯỞNG, ĐẠO ĐỨC, PHONG CÁCH HỒ CHÍ MINH NĂM {year}"
)
COLUMNS = ("TT", "Nội dung đã đăng ký", "Đã thực hiện", "Thực hiện một phần", "Chưa thực hiện")
NOTE_COLUMN = "Ghi chú"
WIDTHS = (Cm(1.0), Cm(6.2), Cm(1.9), Cm(1.9), Cm(1.9), Cm(3.1))
MARK = "X"
EMPTY = "(Không có nội dung nào để tự đánh giá)"
LABEL_PROPOSED = "Tự xếp loại (đề xuất): "
LABEL_CONFIRMED = "Công đoàn cơ sở xác nhận xếp loại: "
CONFIRMED_BLANK = "." * 50
LABEL_REASON = "Lý do điều chỉnh xếp loại: "
SIGN_LEFT = (("XÁC NHẬN CỦA CÔNG ĐOÀN CƠ SỞ", True), ("(Ký tên, đóng dấu)", False))
SIGN_RIGHT = (("NGƯỜI TỰ ĐÁNH GIÁ", True), ("(Ký và ghi rõ họ tên)", False))
TABLE_SIZE = Pt(12)


@dataclass(frozen=True)
class AssessmentSheet:
    year: int
    full_name: str
    unit_name: str
    parent_unit_name: str | None
    group_label: str
    party_member: bool
    rows: list[tuple[str, str, str]]  # (commitment, "done" | "partly" | "not_done", note)
    proposed: str  # the rating the member proposes, e.g. "Hoàn thành tốt nhiệm vụ"
    confirmed: str | None  # the rating the union confirmed; None while it has not
    place: str
    signed_on: datetime.date
    reason: str | None = None  # why the officer changed the proposed rating
    position: str = ""
    reference: str = ""


def _cell(cell: object, value: str, *, bold: bool = False, center: bool = True) -> None:
    align = WD_ALIGN_PARAGRAPH.CENTER if center else WD_ALIGN_PARAGRAPH.LEFT
    form.paragraph(cell, value, align=align, bold=bold, size=TABLE_SIZE)  # type: ignore[arg-type]
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER  # type: ignore[attr-defined]


def render_assessment_docx(sheet: AssessmentSheet) -> bytes:
    """The self-assessment as a .docx file (bytes of a ZIP package)."""
    document = Document()
    form.setup(document)
    props = document.core_properties
    props.title = TITLE.format(year=sheet.year)
    props.author = props.last_modified_by = form.line(sheet.full_name)
    props.comments = form.line(sheet.reference)
    stamp = datetime.datetime.combine(sheet.signed_on, datetime.time(), tzinfo=datetime.UTC)
    props.created = props.modified = stamp
    props.revision = 1

    form.header(document, parent=sheet.parent_unit_name, unit=sheet.unit_name)
    opening(document, sheet, TITLE.format(year=sheet.year))
    form.paragraph(document, space_after=Pt(6))
    if sheet.rows:
        grid = form.table(document, WIDTHS, borders=True)
        for cell, title in zip(grid.rows[0].cells, (*COLUMNS, NOTE_COLUMN), strict=True):
            _cell(cell, title, bold=True)
        form.row_flag(grid, 0, "w:tblHeader")
        form.row_flag(grid, 0, "w:cantSplit")
        for number, (commitment, result, note) in enumerate(sheet.rows, start=1):
            cells = grid.add_row().cells
            form.set_widths(cells, WIDTHS)
            _cell(cells[0], str(number))
            _cell(cells[1], form.text(commitment), center=False)
            for k, result_id in enumerate(RESULTS):
                _cell(cells[2 + k], MARK if result == result_id else "")
            _cell(cells[5], form.text(note), center=False)
    else:
        form.paragraph(document, EMPTY, italic=True, first_line_indent=form.FIRST_LINE_INDENT)

    proposed = form.paragraph(document, LABEL_PROPOSED, space_before=Pt(9), space_after=Pt(3))
    form.run(proposed, form.line(sheet.proposed), bold=True)
    confirmed = form.paragraph(document, LABEL_CONFIRMED, space_after=Pt(3))
    if sheet.confirmed:
        form.run(confirmed, form.line(sheet.confirmed), bold=True)
    else:
        confirmed.add_run(CONFIRMED_BLANK)
    if sheet.confirmed and form.line(sheet.reason):
        form.paragraph(document, LABEL_REASON + form.line(sheet.reason), space_after=Pt(3))

    form.signatures(document, left=SIGN_LEFT, right=SIGN_RIGHT, right_name=sheet.full_name)
    footer_reference(document, sheet.reference)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
