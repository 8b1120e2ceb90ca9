"""A yearly topic from the official document (issue 13): the text of a DOCX or a PDF, and the
study sections proposed from its numbered headings."""

from __future__ import annotations

import io
import unicodedata

import docx
import pytest
from matplotlib import rcParams
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from PIL import Image

from bot.services.docimport import (
    SECTION_MAX,
    DocumentError,
    kind_of,
    normalized,
    paragraphs,
    propose,
)

LONG = " ".join(
    f"Câu thứ {n}: đoàn viên học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh."
    for n in range(40)
)


def official_docx() -> bytes:
    """A plan as provinces write them: a title, numbered headings, a table, NFD text."""
    document = docx.Document()
    document.add_paragraph("KẾ HOẠCH")
    document.add_paragraph("Học tập chuyên đề năm 2027")
    document.add_paragraph("I. MỤC ĐÍCH, YÊU CẦU")
    document.add_paragraph("1. Mục đích")
    document.add_paragraph(unicodedata.normalize("NFD", "Nâng cao nhận thức của đoàn viên."))
    document.add_paragraph("2. Yêu cầu")
    document.add_paragraph(LONG)
    document.add_paragraph("II. NỘI DUNG")
    document.add_paragraph("1.1. Học tập")
    document.add_paragraph("Mỗi đoàn viên viết 01 bản đăng ký trước ngày 10/4/2027.")
    document.add_paragraph("a) Làm theo")
    document.add_paragraph("Làm việc đúng giờ, tiết kiệm, chống lãng phí.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Thời gian"
    table.cell(0, 1).text = "Nội dung"
    table.cell(1, 0).text = "Tháng 3/2027"
    table.cell(1, 1).text = "Hội nghị học tập"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def official_pdf(lines: list[str]) -> bytes:
    rcParams["pdf.fonttype"] = 42  # embedded TrueType: the text layer can be read back
    buffer = io.BytesIO()
    with PdfPages(buffer) as pdf:
        figure = Figure(figsize=(8.27, 11.69))
        for i, line in enumerate(lines):
            figure.text(0.08, 0.95 - i * 0.03, line, fontsize=9)
        pdf.savefig(figure)
    return buffer.getvalue()


def test_a_docx_becomes_sections_at_its_headings() -> None:
    found = paragraphs(official_docx(), "ke-hoach.docx")
    assert all(unicodedata.is_normalized("NFC", p) for p in found)
    assert "Nâng cao nhận thức của đoàn viên." in found
    assert "Tháng 3/2027 | Hội nghị học tập" in found  # the table, row by row
    parts = propose(found)
    titles = [p.title for p in parts]
    # the title block is not a section; "1." under "I." is "I.1." (a "1." comes under "II." too)
    assert titles[0] == "I.1. Mục đích"
    assert not any("KẾ HOẠCH" in t or "năm 2027" in t for t in titles)
    assert "I.2. Yêu cầu" in titles and "I.2. Yêu cầu (tiếp 2)" in titles
    assert "1.1. Học tập" in titles and "a) Làm theo" in titles
    assert all(len(p.body) <= SECTION_MAX for p in parts)
    long = [p.body for p in parts if p.title.startswith("I.2. Yêu cầu")]
    assert all(b.endswith(".") for b in long)  # never cut in a sentence
    assert normalized(" ".join(long)) == normalized(LONG)


def test_a_pdf_with_a_text_layer_becomes_sections() -> None:
    lines = [
        "I. MỤC ĐÍCH, YÊU CẦU",
        "1. Mục đích",
        "Đoàn viên học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh,",
        "gắn với nhiệm vụ chính trị của đơn vị năm 2027.",
        "II. NỘI DUNG",
        "1. Học tập chuyên đề",
        "Các cấp công đoàn tổ chức hội nghị học tập, quán triệt chuyên đề trong quý I.",
        "2. Làm theo",
        "Mỗi đoàn viên xây dựng 01 bản đăng ký học tập và làm theo trước ngày 10/4/2027.",
    ]
    parts = propose(paragraphs(official_pdf(lines), "ke-hoach.pdf"))
    assert [p.title for p in parts] == [
        "I.1. Mục đích",
        "II.1. Học tập chuyên đề",
        "II.2. Làm theo",
    ]
    assert parts[0].body == (
        "Đoàn viên học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh, "
        "gắn với nhiệm vụ chính trị của đơn vị năm 2027."
    )


def _scan() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 800), "white").save(buffer, format="PDF")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"x" * (10 * 1024 * 1024 + 1), "too_big"),
        (b"\x89PNG\r\n\x1a\n....", "type"),
        (b"PK\x03\x04 not really a zip", "type"),
        (b"%PDF-1.4 broken", "broken"),
        ("scan", "scanned"),
    ],
)
def test_files_that_cannot_be_a_topic_say_why(data: bytes | str, reason: str) -> None:
    raw = _scan() if data == "scan" else data
    assert isinstance(raw, bytes)
    with pytest.raises(DocumentError) as caught:
        paragraphs(raw, "tai-lieu.pdf")
    assert caught.value.reason == reason


def test_the_kind_comes_from_the_bytes_not_the_name() -> None:
    assert kind_of(official_docx(), "ke-hoach.pdf") == "docx"
    assert kind_of(b"%PDF-1.7 ...", "ke-hoach.docx") == "pdf"
    assert kind_of(b"MZ...", "ke-hoach.docx") == ""
