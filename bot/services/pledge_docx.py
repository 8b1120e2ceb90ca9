"""A member's yearly pledge ("bản đăng ký học tập và làm theo …") as a DOCX ready to sign.

Laid out like a Vietnamese administrative document (Nghị định 30/2020/NĐ-CP): A4 portrait,
Times New Roman, a two-column header with the unit and the national motto, a centred title,
the member's details (a line for the position, written in by hand when unknown), the pledge,
and the signatures of the member and of the grassroots union. Nothing technical (times, late
flags) is printed near the signatures; the pledge's number goes in the page footer.
Pure function: no database, no files; the document is returned as bytes.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from typing import Protocol

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from bot.services import docxform as form
from bot.services.docxform import date_line

TITLE = "BẢN ĐĂNG KÝ HỌC TẬP VÀ LÀM THEO TƯ TƯỞNG, ĐẠO ĐỨC, PHONG CÁCH HỒ CHÍ MINH NĂM {year}"
LABEL_NAME = "Họ và tên: "
LABEL_POSITION = "Chức vụ: "
POSITION_BLANK = "." * 60
LABEL_UNIT = "Đơn vị: "
LABEL_GROUP = "Đối tượng: "
LABEL_PARTY = "Đảng viên: "
PARTY_YES = "Có"
PARTY_NO = "Không"
EMPTY_SECTION = "(Không có)"
ITEM_BULLET = "- "
LABEL_TIMELINE = "Thời gian thực hiện: "
SIGN_LEFT = (("XÁC NHẬN CỦA CÔNG ĐOÀN CƠ SỞ", True), ("(Ký tên, đóng dấu)", False))
SIGN_RIGHT = (("NGƯỜI ĐĂNG KÝ", True), ("(Ký và ghi rõ họ tên)", False))


@dataclass(frozen=True)
class PledgeSheet:
    year: int
    full_name: str
    unit_name: str  # the member's unit, e.g. "Công đoàn cơ sở UBND xã An Phú"
    parent_unit_name: str | None  # the unit above, e.g. "Công đoàn ngành Giáo dục"; None: a root
    group_label: str  # e.g. "Công nhân lao động"
    party_member: bool
    sections: list[tuple[str, list[str]]]  # (heading, items) in order, already in Vietnamese
    timeline: str  # "thời gian thực hiện", plain text, may be ""
    place: str  # place name for the date line; "" -> dotted "............"
    signed_on: datetime.date  # date on the "…, ngày 21 tháng 11 năm 2026" line
    position: str = ""  # chức vụ; "" -> a dotted line to write it in
    reference: str = ""  # printed small in the page footer, e.g. "DK-2026-000123"


def _setup(document: DocumentObject, sheet: PledgeSheet) -> None:
    form.setup(document)
    props = document.core_properties
    props.title = TITLE.format(year=sheet.year)
    props.subject = form.line(sheet.unit_name)
    props.author = form.line(sheet.full_name)
    props.last_modified_by = form.line(sheet.full_name)
    props.comments = form.line(sheet.reference)
    props.keywords = ""
    props.revision = 1
    stamp = datetime.datetime.combine(sheet.signed_on, datetime.time(), tzinfo=datetime.UTC)
    props.created = props.modified = stamp


def labelled(document: DocumentObject, label: str, value: str) -> None:
    """ "Label: value" on one line of the member's details."""
    paragraph = form.paragraph(document, label, space_after=Pt(3))
    if value:
        paragraph.add_run(value)


def member_lines(
    document: DocumentObject,
    *,
    full_name: str,
    position: str,
    unit: str,
    parent: str | None,
    group_label: str,
    party_member: bool,
) -> None:
    """Name, position, unit, group and party membership, as the forms print them."""
    name = form.paragraph(document, LABEL_NAME, space_after=Pt(3))
    form.run(name, form.line(full_name), bold=True)
    labelled(document, LABEL_POSITION, form.line(position) or POSITION_BLANK)
    units = ", ".join(part for part in (form.line(unit), form.line(parent)) if part)
    labelled(document, LABEL_UNIT, units)
    labelled(document, LABEL_GROUP, form.line(group_label))
    labelled(document, LABEL_PARTY, PARTY_YES if party_member else PARTY_NO)


class MemberSheet(Protocol):
    """What a member's signed document opens with (the pledge, the self-assessment)."""

    @property
    def place(self) -> str: ...

    @property
    def signed_on(self) -> datetime.date: ...

    @property
    def full_name(self) -> str: ...

    @property
    def position(self) -> str: ...

    @property
    def unit_name(self) -> str: ...

    @property
    def parent_unit_name(self) -> str | None: ...

    @property
    def group_label(self) -> str: ...

    @property
    def party_member(self) -> bool: ...


def opening(document: DocumentObject, sheet: MemberSheet, title: str) -> None:
    """The place and date, the title, then who the member is."""
    form.paragraph(
        document,
        date_line(sheet.place, sheet.signed_on),
        align=WD_ALIGN_PARAGRAPH.RIGHT,
        italic=True,
        space_before=Pt(6),
        space_after=Pt(12),
    )
    form.paragraph(
        document,
        title,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        bold=True,
        space_after=Pt(12),
    ).paragraph_format.keep_with_next = True
    member_lines(
        document,
        full_name=sheet.full_name,
        position=sheet.position,
        unit=sheet.unit_name,
        parent=sheet.parent_unit_name,
        group_label=sheet.group_label,
        party_member=sheet.party_member,
    )


def _body(document: DocumentObject, sheet: PledgeSheet) -> None:
    opening(document, sheet, TITLE.format(year=sheet.year))

    justify = WD_ALIGN_PARAGRAPH.JUSTIFY
    for heading, items in sheet.sections:
        form.paragraph(
            document, form.line(heading), bold=True, space_before=Pt(9), space_after=Pt(3)
        ).paragraph_format.keep_with_next = True
        texts = [text for text in (form.text(item) for item in items) if text]
        if not texts:
            form.paragraph(
                document,
                EMPTY_SECTION,
                italic=True,
                align=justify,
                first_line_indent=form.FIRST_LINE_INDENT,
                space_after=Pt(3),
            )
        for text in texts:
            form.paragraph(
                document,
                ITEM_BULLET + text,
                align=justify,
                first_line_indent=form.FIRST_LINE_INDENT,
                space_after=Pt(3),
            )

    timeline = form.text(sheet.timeline)
    if timeline:
        paragraph = form.paragraph(document, LABEL_TIMELINE, bold=True, align=justify)
        paragraph.paragraph_format.space_before = Pt(9)
        paragraph.add_run(timeline)


def footer_reference(document: DocumentObject, reference: str) -> None:
    """The record's number, small and grey in the page footer: away from the signatures."""
    value = form.line(reference)
    if value:
        footer = document.sections[0].footer.paragraphs[0]
        form.run(footer, value, size=form.REFERENCE_SIZE, color=form.REFERENCE_COLOR)


def render_pledge_docx(sheet: PledgeSheet) -> bytes:
    """The sheet as a .docx file (bytes of a ZIP package)."""
    document = Document()
    _setup(document, sheet)
    form.header(document, parent=sheet.parent_unit_name, unit=sheet.unit_name)
    _body(document, sheet)
    form.signatures(document, left=SIGN_LEFT, right=SIGN_RIGHT, right_name=sheet.full_name)
    footer_reference(document, sheet.reference)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
