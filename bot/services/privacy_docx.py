"""The readable copy of a member's data (Law 91/2025/QH15: the right to a copy), as DOCX. Kept
apart from bot/services/privacy.py so that python-docx is loaded only when a copy is made."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from bot.services.docxform import FONT
from bot.services.docxform import text as xml_text
from bot.services.privacy import Part

BODY = Pt(13)
SMALL = Pt(11)


def render_docx(title: str, intro: list[str], parts: list[Part]) -> bytes:
    """A plain document that reads well on a phone: one column, short lines, small tables."""
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2)
    section.top_margin = section.bottom_margin = Cm(2)
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = BODY
    document.core_properties.title = xml_text(title)
    document.core_properties.author = ""

    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(xml_text(title))
    run.bold = True
    run.font.size = Pt(15)
    for text in intro:
        document.add_paragraph(xml_text(text)).paragraph_format.space_after = Pt(4)
    for part in parts:
        head = document.add_paragraph()
        head.paragraph_format.space_before = Pt(12)
        head.paragraph_format.space_after = Pt(4)
        head.paragraph_format.keep_with_next = True
        head.add_run(xml_text(part.heading)).bold = True
        for line in part.lines:
            paragraph = document.add_paragraph()
            paragraph.paragraph_format.space_after = Pt(2)
            if isinstance(line, tuple):
                paragraph.add_run(xml_text(line[0]) + ": ").bold = True
                paragraph.add_run(xml_text(line[1]))
            else:
                paragraph.add_run(xml_text(line))
        if part.table:
            _table(document, part.table)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _table(document: Any, rows: Sequence[Sequence[str]]) -> None:
    table = document.add_table(rows=0, cols=len(rows[0]))
    table.style = "Table Grid"
    for n, values in enumerate(rows):
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            run = cell.paragraphs[0].add_run(xml_text(value))
            run.font.size = SMALL
            run.bold = n == 0
