"""A member's yearly pledge ("bản đăng ký học tập và làm theo …") as a printable DOCX.

Laid out like a Vietnamese administrative document (Nghị định 30/2020/NĐ-CP): A4 portrait,
Times New Roman, a two-column header with the unit and the national motto, a centred title,
the pledge itself, an optional year-end self-assessment table and a signature block.
Pure function: no database, no files; the document is returned as bytes.
"""

from __future__ import annotations

import datetime
import io
import re
from dataclasses import dataclass

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Length, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

# --- Fixed form wording -------------------------------------------------------------------

NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATIONAL_MOTTO = "Độc lập - Tự do - Hạnh phúc"
DATE_LINE = "{place}, ngày {day:02d} tháng {month} năm {year}"  # 0 before days < 10, months 1-2
PLACE_PLACEHOLDER = "............"
TITLE = "BẢN ĐĂNG KÝ HỌC TẬP VÀ LÀM THEO TƯ TƯỞNG, ĐẠO ĐỨC, PHONG CÁCH HỒ CHÍ MINH NĂM {year}"
LABEL_NAME = "Họ và tên: "
LABEL_UNIT = "Đơn vị: "
LABEL_GROUP = "Đối tượng: "
LABEL_PARTY = "Đảng viên: "
PARTY_YES = "Có"
PARTY_NO = "Không"
EMPTY_SECTION = "(Không có)"
ITEM_BULLET = "- "
LABEL_TIMELINE = "Thời gian thực hiện: "
ASSESSMENT_HEADING = "TỰ ĐÁNH GIÁ CUỐI NĂM"
ASSESSMENT_COLUMNS = ("TT", "Nội dung đã đăng ký", "Kết quả", "Ghi chú")
LABEL_RATING = "Tự xếp loại đề xuất: "
SIGN_LEFT_TITLE = "XÁC NHẬN CỦA CÔNG ĐOÀN CƠ SỞ"
SIGN_RIGHT_TITLE = "NGƯỜI ĐĂNG KÝ"
SIGN_RIGHT_HINT = "(Ký và ghi rõ họ tên)"

# --- Page and type ------------------------------------------------------------------------

FONT = "Times New Roman"
LANGUAGE = "vi-VN"
BODY_SIZE = Pt(14)
HEADER_SIZE = Pt(13)
NATIONAL_NAME_SIZE = Pt(12)  # NĐ 30: 12–13pt; 13pt bold does not fit beside the unit column
SMALL_SIZE = Pt(10)
REFERENCE_SIZE = Pt(9)
REFERENCE_COLOR = RGBColor(0x80, 0x80, 0x80)

PAGE_WIDTH, PAGE_HEIGHT = Cm(21), Cm(29.7)
MARGIN_TOP = MARGIN_BOTTOM = Cm(2)
MARGIN_LEFT, MARGIN_RIGHT = Cm(3), Cm(2)
TEXT_WIDTH = Cm(21 - 3 - 2)
FIRST_LINE_INDENT = Cm(1)

HEADER_COLUMNS = (Cm(6.2), Cm(9.8))
SIGNATURE_COLUMNS = (Cm(8), Cm(8))
ASSESSMENT_WIDTHS = (Cm(1.2), Cm(7.3), Cm(3.5), Cm(4))
# The short rules under the unit name and the motto are paragraph borders between indents;
# the motto's rule is about as long as "Độc lập - Tự do - Hạnh phúc" in 13pt bold (~5.6 cm).
UNIT_RULE_INDENT = Cm(2)
MOTTO_RULE_INDENT = Cm(1.75)
SIGNATURE_BLANK_LINES = 4

# Characters XML 1.0 forbids (C0 controls other than tab/LF/CR, lone surrogates, U+FFFE/FFFF);
# python-docx raises on them.
_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class PledgeSheet:
    year: int
    full_name: str
    unit_name: str  # the member's unit, e.g. "Công đoàn cơ sở UBND xã An Phú"
    parent_unit_name: str | None  # the unit above it, e.g. "LĐLĐ huyện A"; None for a root unit
    group_label: str  # e.g. "Công nhân lao động"
    party_member: bool
    sections: list[tuple[str, list[str]]]  # (heading, items) in order, already in Vietnamese
    timeline: str  # "thời gian thực hiện", plain text, may be ""
    place: str  # place name for the date line; "" -> dotted "............"
    signed_on: datetime.date  # date on the "…, ngày 21 tháng 11 năm 2026" line
    status_line: str | None = None  # e.g. "Đã nộp ngày 09/04/2026 (đúng hạn) · Đã được duyệt …"
    assessment: list[tuple[str, str, str]] | None = None  # (commitment, result label, comment)
    rating_label: str | None = None  # the proposed rating, e.g. "Hoàn thành tốt nhiệm vụ"
    reference: str = ""  # printed small at the bottom, e.g. "DK-2026-000123"


# --- Text ---------------------------------------------------------------------------------


def _text(value: object) -> str:
    """User text safe for XML: forbidden characters dropped, line ends as LF, outer blanks off."""
    text = _INVALID_XML.sub("", str(value or ""))
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _line(value: object) -> str:
    """Single-line user text (names, labels): any run of whitespace becomes one space."""
    return " ".join(_text(value).split())


def date_line(place: str, day: datetime.date) -> str:
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return DATE_LINE.format(
        place=_line(place) or PLACE_PLACEHOLDER, day=day.day, month=month, year=day.year
    )


# --- Low-level helpers --------------------------------------------------------------------


def _run(
    paragraph: Paragraph,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    size: Length | None = None,
    color: RGBColor | None = None,
) -> None:
    run = paragraph.add_run(text)
    if bold:
        run.bold = True
    if italic:
        run.italic = True
    if size is not None:
        run.font.size = size
    if color is not None:
        run.font.color.rgb = color


def _paragraph(
    container: DocumentObject | _Cell,
    text: str = "",
    *,
    align: WD_ALIGN_PARAGRAPH | None = None,
    bold: bool = False,
    italic: bool = False,
    size: Length | None = None,
    color: RGBColor | None = None,
    space_before: Length | None = None,
    space_after: Length | None = None,
    first_line_indent: Length | None = None,
) -> Paragraph:
    """A paragraph with one run; in a cell, the cell's initial empty paragraph is used first."""
    if isinstance(container, _Cell) and len(container.paragraphs) == 1:
        first = container.paragraphs[0]
        paragraph = first if not first.runs else container.add_paragraph()
    else:
        paragraph = container.add_paragraph()
    fmt = paragraph.paragraph_format
    if align is not None:
        fmt.alignment = align
    if space_before is not None:
        fmt.space_before = space_before
    if space_after is not None:
        fmt.space_after = space_after
    if first_line_indent is not None:
        fmt.first_line_indent = first_line_indent
    if text:
        _run(paragraph, text, bold=bold, italic=italic, size=size, color=color)
    return paragraph


def _rule(paragraph: Paragraph, indent: Length, *, edge: str = "bottom") -> None:
    """A thin line along the paragraph's `edge`, `indent` short of the cell on each side."""
    paragraph.paragraph_format.left_indent = indent
    paragraph.paragraph_format.right_indent = indent
    border = OxmlElement(f"w:{edge}")
    for attr, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "auto")):
        border.set(qn(attr), value)
    borders = OxmlElement("w:pBdr")
    borders.append(border)
    ppr = paragraph._p.get_or_add_pPr()
    ppr.insert_element_before(
        borders,
        *("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap"),
        *("w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi"),
        *("w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing"),
        *("w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection"),
        *("w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle"),
        *("w:rPr", "w:sectPr", "w:pPrChange"),
    )


def _table(document: DocumentObject, widths: tuple[Length, ...], *, borders: bool) -> Table:
    table = document.add_table(rows=1, cols=len(widths))
    if borders:
        table.style = "Table Grid"
    else:
        _remove_borders(table)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    # python-docx writes an "auto" table width; a fixed one lays out the same in every viewer.
    table_width = table._tbl.tblPr.find(qn("w:tblW"))
    if table_width is not None:
        table_width.set(qn("w:type"), "dxa")
        table_width.set(qn("w:w"), str(sum(width.twips for width in widths)))
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    _set_widths(table.rows[0].cells, widths)
    return table


def _set_widths(cells: list[_Cell] | tuple[_Cell, ...], widths: tuple[Length, ...]) -> None:
    for cell, width in zip(cells, widths, strict=True):
        cell.width = width


def _remove_borders(table: Table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    table._tbl.tblPr.insert_element_before(
        borders,
        *("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook"),
        *("w:tblCaption", "w:tblDescription", "w:tblPrChange"),
    )


def _row_flag(table: Table, row_index: int, tag: str) -> None:
    """Set an on/off row property: "w:cantSplit" (keep the row on one page), "w:tblHeader"."""
    tr_pr = table.rows[row_index]._tr.get_or_add_trPr()
    if tr_pr.find(qn(tag)) is None:
        tr_pr.append(OxmlElement(tag))


def _setup(document: DocumentObject, sheet: PledgeSheet) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
    section.left_margin, section.right_margin = MARGIN_LEFT, MARGIN_RIGHT

    normal = document.styles["Normal"]
    font = normal.font
    font.name = FONT
    font.size = BODY_SIZE
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), FONT)
    fonts.set(qn("w:cs"), FONT)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), LANGUAGE)
    rpr.insert_element_before(lang, "w:eastAsianLayout", "w:specVanish", "w:oMath")
    fmt = normal.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE

    props = document.core_properties
    props.title = TITLE.format(year=sheet.year)
    props.subject = _line(sheet.unit_name)
    props.author = _line(sheet.full_name)
    props.last_modified_by = _line(sheet.full_name)
    props.comments = _line(sheet.reference)
    props.keywords = ""
    props.revision = 1
    stamp = datetime.datetime.combine(sheet.signed_on, datetime.time(), tzinfo=datetime.UTC)
    props.created = props.modified = stamp


# --- Parts of the form --------------------------------------------------------------------


def _header(document: DocumentObject, sheet: PledgeSheet) -> None:
    table = _table(document, HEADER_COLUMNS, borders=False)
    left, right = table.rows[0].cells
    center = WD_ALIGN_PARAGRAPH.CENTER
    parent = _line(sheet.parent_unit_name)
    if parent:
        _paragraph(left, parent.upper(), align=center, size=HEADER_SIZE)
    unit = _paragraph(
        left, _line(sheet.unit_name).upper(), align=center, bold=True, size=HEADER_SIZE
    )
    unit.paragraph_format.keep_with_next = True
    rule = _paragraph(left, align=center)
    rule.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    rule.paragraph_format.line_spacing = Pt(4)
    _rule(rule, UNIT_RULE_INDENT, edge="top")

    _paragraph(right, NATIONAL_NAME, align=center, bold=True, size=NATIONAL_NAME_SIZE)
    motto = _paragraph(right, NATIONAL_MOTTO, align=center, bold=True, size=HEADER_SIZE)
    _rule(motto, MOTTO_RULE_INDENT)


def _labelled(document: DocumentObject, label: str, value: str) -> Paragraph:
    paragraph = _paragraph(document, label, space_after=Pt(3))
    if value:
        paragraph.add_run(value)
    return paragraph


def _body(document: DocumentObject, sheet: PledgeSheet) -> None:
    _paragraph(
        document,
        date_line(sheet.place, sheet.signed_on),
        align=WD_ALIGN_PARAGRAPH.RIGHT,
        italic=True,
        space_before=Pt(6),
        space_after=Pt(12),
    )
    _paragraph(
        document,
        TITLE.format(year=sheet.year),
        align=WD_ALIGN_PARAGRAPH.CENTER,
        bold=True,
        space_after=Pt(12),
    ).paragraph_format.keep_with_next = True

    name = _paragraph(document, LABEL_NAME, space_after=Pt(3))
    _run(name, _line(sheet.full_name), bold=True)
    unit = ", ".join(
        part for part in (_line(sheet.unit_name), _line(sheet.parent_unit_name)) if part
    )
    _labelled(document, LABEL_UNIT, unit)
    _labelled(document, LABEL_GROUP, _line(sheet.group_label))
    _labelled(document, LABEL_PARTY, PARTY_YES if sheet.party_member else PARTY_NO)

    justify = WD_ALIGN_PARAGRAPH.JUSTIFY
    for heading, items in sheet.sections:
        _paragraph(
            document, _line(heading), bold=True, space_before=Pt(9), space_after=Pt(3)
        ).paragraph_format.keep_with_next = True
        texts = [text for text in (_text(item) for item in items) if text]
        if not texts:
            _paragraph(
                document,
                EMPTY_SECTION,
                italic=True,
                align=justify,
                first_line_indent=FIRST_LINE_INDENT,
                space_after=Pt(3),
            )
        for text in texts:
            _paragraph(
                document,
                ITEM_BULLET + text,
                align=justify,
                first_line_indent=FIRST_LINE_INDENT,
                space_after=Pt(3),
            )

    timeline = _text(sheet.timeline)
    if timeline:
        paragraph = _paragraph(document, LABEL_TIMELINE, bold=True, align=justify)
        paragraph.paragraph_format.space_before = Pt(9)
        paragraph.add_run(timeline)


def _assessment(document: DocumentObject, sheet: PledgeSheet) -> None:
    rating = _line(sheet.rating_label)
    if sheet.assessment is None and not rating:
        return
    _paragraph(
        document, ASSESSMENT_HEADING, bold=True, space_before=Pt(12), space_after=Pt(6)
    ).paragraph_format.keep_with_next = True

    if sheet.assessment:
        center = WD_ALIGN_PARAGRAPH.CENTER
        table = _table(document, ASSESSMENT_WIDTHS, borders=True)
        for cell, title in zip(table.rows[0].cells, ASSESSMENT_COLUMNS, strict=True):
            _paragraph(cell, title, align=center, bold=True, size=HEADER_SIZE)
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        _row_flag(table, 0, "w:tblHeader")
        _row_flag(table, 0, "w:cantSplit")
        for number, (commitment, result, comment) in enumerate(sheet.assessment, start=1):
            cells = table.add_row().cells
            _set_widths(cells, ASSESSMENT_WIDTHS)
            _paragraph(cells[0], str(number), align=center, size=HEADER_SIZE)
            _paragraph(
                cells[1], _text(commitment), align=WD_ALIGN_PARAGRAPH.JUSTIFY, size=HEADER_SIZE
            )
            _paragraph(cells[2], _line(result), align=center, size=HEADER_SIZE)
            _paragraph(cells[3], _text(comment), size=HEADER_SIZE)
    elif sheet.assessment is not None:
        _paragraph(document, EMPTY_SECTION, italic=True, first_line_indent=FIRST_LINE_INDENT)

    if rating:
        paragraph = _paragraph(document, LABEL_RATING, space_before=Pt(6))
        _run(paragraph, rating, bold=True)


def _signatures(document: DocumentObject, sheet: PledgeSheet) -> None:
    _paragraph(document, space_after=Pt(6))
    table = _table(document, SIGNATURE_COLUMNS, borders=False)
    _row_flag(table, 0, "w:cantSplit")
    left, right = table.rows[0].cells
    center = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph(left, SIGN_LEFT_TITLE, align=center, bold=True)
    status = _text(sheet.status_line)
    if status:
        _paragraph(left, status, align=center, italic=True, size=SMALL_SIZE, space_before=Pt(3))

    _paragraph(right, SIGN_RIGHT_TITLE, align=center, bold=True)
    _paragraph(right, SIGN_RIGHT_HINT, align=center, italic=True)
    for _ in range(SIGNATURE_BLANK_LINES):
        _paragraph(right)
    _paragraph(right, _line(sheet.full_name), align=center, bold=True)


def _reference(document: DocumentObject, sheet: PledgeSheet) -> None:
    reference = _line(sheet.reference)
    if reference:
        _paragraph(
            document, reference, size=REFERENCE_SIZE, color=REFERENCE_COLOR, space_before=Pt(24)
        )


def render_pledge_docx(sheet: PledgeSheet) -> bytes:
    """The sheet as a .docx file (bytes of a ZIP package)."""
    document = Document()
    _setup(document, sheet)
    _header(document, sheet)
    _body(document, sheet)
    _assessment(document, sheet)
    _signatures(document, sheet)
    _reference(document, sheet)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
