"""Building blocks of a Vietnamese administrative document in DOCX (Nghị định 30/2020/NĐ-CP):
the page, the type, user text made safe for XML, paragraphs and tables, the two-column header
with the issuing unit and the national motto, the place and date line, the signature block.
Shared by the member's pledge and self-assessment and the officer's report."""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence

from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Length, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATIONAL_MOTTO = "Độc lập - Tự do - Hạnh phúc"
DATE_LINE = "{place}, ngày {day:02d} tháng {month} năm {year}"  # 0 before days < 10, months 1-2
PLACE_PLACEHOLDER = "............"

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
# The short rules under the unit name and the motto are paragraph borders between indents;
# the motto's rule is about as long as "Độc lập - Tự do - Hạnh phúc" in 13pt bold (~5.6 cm).
UNIT_RULE_INDENT = Cm(2)
MOTTO_RULE_INDENT = Cm(1.75)
SIGNATURE_BLANK_LINES = 4

# Characters XML 1.0 forbids (C0 controls other than tab/LF/CR, lone surrogates, U+FFFE/FFFF);
# python-docx raises on them.
_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# --- text ---------------------------------------------------------------------------------


def text(value: object) -> str:
    """User text safe for XML: forbidden characters dropped, line ends as LF, outer blanks off."""
    cleaned = _INVALID_XML.sub("", str(value or ""))
    return cleaned.replace("\r\n", "\n").replace("\r", "\n").strip()


def line(value: object) -> str:
    """Single-line user text (names, labels): any run of whitespace becomes one space."""
    return " ".join(text(value).split())


def date_line(place: str, day: datetime.date) -> str:
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return DATE_LINE.format(
        place=line(place) or PLACE_PLACEHOLDER, day=day.day, month=month, year=day.year
    )


# --- paragraphs and tables ----------------------------------------------------------------


def run(
    paragraph: Paragraph,
    value: str,
    *,
    bold: bool = False,
    italic: bool = False,
    size: Length | None = None,
    color: RGBColor | None = None,
) -> None:
    added = paragraph.add_run(value)
    if bold:
        added.bold = True
    if italic:
        added.italic = True
    if size is not None:
        added.font.size = size
    if color is not None:
        added.font.color.rgb = color


def paragraph(
    container: DocumentObject | _Cell,
    value: str = "",
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
        added = first if not first.runs else container.add_paragraph()
    else:
        added = container.add_paragraph()
    fmt = added.paragraph_format
    if align is not None:
        fmt.alignment = align
    if space_before is not None:
        fmt.space_before = space_before
    if space_after is not None:
        fmt.space_after = space_after
    if first_line_indent is not None:
        fmt.first_line_indent = first_line_indent
    if value:
        run(added, value, bold=bold, italic=italic, size=size, color=color)
    return added


def rule(target: Paragraph, indent: Length, *, edge: str = "bottom") -> None:
    """A thin line along the paragraph's `edge`, `indent` short of the cell on each side."""
    target.paragraph_format.left_indent = indent
    target.paragraph_format.right_indent = indent
    border = OxmlElement(f"w:{edge}")
    for attr, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "auto")):
        border.set(qn(attr), value)
    borders = OxmlElement("w:pBdr")
    borders.append(border)
    ppr = target._p.get_or_add_pPr()
    ppr.insert_element_before(
        borders,
        *("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap"),
        *("w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi"),
        *("w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing"),
        *("w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection"),
        *("w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle"),
        *("w:rPr", "w:sectPr", "w:pPrChange"),
    )


def table(document: DocumentObject, widths: tuple[Length, ...], *, borders: bool) -> Table:
    added = document.add_table(rows=1, cols=len(widths))
    if borders:
        added.style = "Table Grid"
    else:
        remove_borders(added)
    added.alignment = WD_TABLE_ALIGNMENT.CENTER
    added.autofit = False
    # python-docx writes an "auto" table width; a fixed one lays out the same in every viewer.
    table_width = added._tbl.tblPr.find(qn("w:tblW"))
    if table_width is not None:
        table_width.set(qn("w:type"), "dxa")
        table_width.set(qn("w:w"), str(sum(width.twips for width in widths)))
    for column, width in zip(added.columns, widths, strict=True):
        column.width = width
    set_widths(added.rows[0].cells, widths)
    return added


def set_widths(cells: Sequence[_Cell], widths: tuple[Length, ...]) -> None:
    for cell, width in zip(cells, widths, strict=True):
        cell.width = width


def remove_borders(target: Table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    target._tbl.tblPr.insert_element_before(
        borders,
        *("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook"),
        *("w:tblCaption", "w:tblDescription", "w:tblPrChange"),
    )


def row_flag(target: Table, row_index: int, tag: str) -> None:
    """Set an on/off row property: "w:cantSplit" (keep the row on one page), "w:tblHeader"."""
    tr_pr = target.rows[row_index]._tr.get_or_add_trPr()
    if tr_pr.find(qn(tag)) is None:
        tr_pr.append(OxmlElement(tag))


# --- the page -----------------------------------------------------------------------------


NO_SPACE = Pt(0)


def setup(
    document: DocumentObject, *, body_size: Length = BODY_SIZE, after: Length = NO_SPACE
) -> None:
    """A4 portrait with the administrative margins, Times New Roman, Vietnamese."""
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
    section.left_margin, section.right_margin = MARGIN_LEFT, MARGIN_RIGHT
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = body_size
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), FONT)
    fonts.set(qn("w:cs"), FONT)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), LANGUAGE)
    rpr.insert_element_before(lang, "w:eastAsianLayout", "w:specVanish", "w:oMath")
    fmt = normal.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = after
    fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE


def header(
    document: DocumentObject,
    *,
    parent: str | None,
    unit: str,
    number: str | None = None,
    dated: str | None = None,
) -> None:
    """The two columns at the top: the issuing unit (under the unit above it) and, opposite,
    the national name and motto; optionally the document's number under the unit and the place
    and date line under the motto."""
    added = table(document, HEADER_COLUMNS, borders=False)
    left, right = added.rows[0].cells
    center = WD_ALIGN_PARAGRAPH.CENTER
    above = line(parent)
    if above:
        paragraph(left, above.upper(), align=center, size=HEADER_SIZE)
    name = paragraph(left, line(unit).upper(), align=center, bold=True, size=HEADER_SIZE)
    name.paragraph_format.keep_with_next = True
    under = paragraph(left, align=center)
    under.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    under.paragraph_format.line_spacing = Pt(4)
    rule(under, UNIT_RULE_INDENT, edge="top")
    if number:
        paragraph(left, number, align=center, size=HEADER_SIZE)

    paragraph(right, NATIONAL_NAME, align=center, bold=True, size=NATIONAL_NAME_SIZE)
    motto = paragraph(right, NATIONAL_MOTTO, align=center, bold=True, size=HEADER_SIZE)
    rule(motto, MOTTO_RULE_INDENT)
    if dated:
        paragraph(right, dated, align=center, italic=True, size=HEADER_SIZE, space_before=Pt(6))


def signatures(
    document: DocumentObject,
    *,
    left: Sequence[tuple[str, bool]],
    right: Sequence[tuple[str, bool]],
    left_name: str = "",
    right_name: str = "",
) -> Table:
    """Two signature columns: each its titles ((text, bold); an italic hint is written in
    parentheses), blank lines to sign in, then the signer's name when known."""
    paragraph(document, space_after=Pt(6))
    added = table(document, SIGNATURE_COLUMNS, borders=False)
    row_flag(added, 0, "w:cantSplit")
    center = WD_ALIGN_PARAGRAPH.CENTER
    columns = ((added.cell(0, 0), left, left_name), (added.cell(0, 1), right, right_name))
    for cell, titles, name in columns:
        for title, bold in titles:
            hint = title.startswith("(")
            paragraph(cell, title, align=center, bold=bold and not hint, italic=hint)
        for _ in range(SIGNATURE_BLANK_LINES):
            paragraph(cell)
        if line(name):
            paragraph(cell, line(name), align=center, bold=True)
    return added
