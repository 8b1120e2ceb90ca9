"""The member's documents to sign: the pledge sheet and the year-end self-assessment open in
python-docx and hold what the member wrote, as forms, with nothing technical in them."""

from __future__ import annotations

import dataclasses
import datetime
import io
import re
from typing import Any

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from bot.services.assessment_docx import AssessmentSheet, render_assessment_docx
from bot.services.pledge_docx import PledgeSheet, date_line, render_pledge_docx

SECTIONS = [
    (
        "I. NỘI DUNG HỌC TẬP",
        [
            "Học tập chuyên đề toàn khóa về ý thức trách nhiệm, tinh thần phục vụ nhân dân",
            "Đọc và nghiên cứu tác phẩm «Sửa đổi lối làm việc»",
        ],
    ),
    (
        "II. NỘI DUNG LÀM THEO",
        ["Thực hành tiết kiệm, chống lãng phí tại cơ quan", "Tham gia hiến máu nhân đạo"],
    ),
]


def make_sheet(**changes: Any) -> PledgeSheet:
    sheet = PledgeSheet(
        year=2026,
        full_name="Nguyễn Thị Ngọc Hằng",
        unit_name="Công đoàn cơ sở UBND xã An Phú",
        parent_unit_name="Công đoàn Viên chức tỉnh",
        group_label="Công nhân lao động",
        party_member=True,
        sections=SECTIONS,
        timeline="Từ tháng 4 đến tháng 12 năm 2026",
        place="An Phú",
        signed_on=datetime.date(2026, 4, 9),
    )
    return dataclasses.replace(sheet, **changes)


def make_assessment(**changes: Any) -> AssessmentSheet:
    sheet = AssessmentSheet(
        year=2026,
        full_name="Nguyễn Thị Ngọc Hằng",
        unit_name="Công đoàn cơ sở UBND xã An Phú",
        parent_unit_name="Công đoàn Viên chức tỉnh",
        group_label="Công chức",
        party_member=False,
        rows=[
            ("Thực hành tiết kiệm, chống lãng phí", "done", "Giảm 10% điện năng"),
            ("Tham gia hiến máu nhân đạo", "not_done", ""),
            ("Đọc sách về Bác mỗi tháng", "partly", "6/12 tháng"),
        ],
        proposed="Hoàn thành tốt nhiệm vụ",
        confirmed=None,
        place="",
        signed_on=datetime.date(2026, 11, 20),
        reference="TDG-2026-000007",
    )
    return dataclasses.replace(sheet, **changes)


def open_docx(data: bytes) -> Any:
    return docx.Document(io.BytesIO(data))


def paragraphs(document: Any) -> list[str]:
    """Every paragraph's text in reading order, table cells included."""
    return [Paragraph(p, document).text for p in document.element.body.iter(qn("w:p"))]


def all_text(document: Any) -> str:
    return "\n".join(paragraphs(document))


def cell_lines(table: Table, row: int, col: int) -> list[str]:
    return [p.text for p in table.cell(row, col).paragraphs]


def bold_texts(paragraph: Paragraph) -> str:
    return "".join(run.text for run in paragraph.runs if run.bold)


def test_bytes_are_a_docx_zip() -> None:
    data = render_pledge_docx(make_sheet())
    assert data.startswith(b"PK")
    assert b"word/document.xml" in data


def test_header_holds_units_and_national_motto() -> None:
    document = open_docx(render_pledge_docx(make_sheet()))
    header = document.tables[0]
    left = cell_lines(header, 0, 0)
    assert left[:2] == ["CÔNG ĐOÀN VIÊN CHỨC TỈNH", "CÔNG ĐOÀN CƠ SỞ UBND XÃ AN PHÚ"]
    unit = header.cell(0, 0).paragraphs[1]
    assert bold_texts(unit) == "CÔNG ĐOÀN CƠ SỞ UBND XÃ AN PHÚ"
    assert not bold_texts(header.cell(0, 0).paragraphs[0])

    right = header.cell(0, 1).paragraphs
    assert [p.text for p in right] == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
    ]
    assert all(bold_texts(p) == p.text for p in right)
    assert all(p.alignment == WD_ALIGN_PARAGRAPH.CENTER for p in right)


def test_root_unit_has_no_parent_line() -> None:
    document = open_docx(render_pledge_docx(make_sheet(parent_unit_name=None)))
    assert cell_lines(document.tables[0], 0, 0)[0] == "CÔNG ĐOÀN CƠ SỞ UBND XÃ AN PHÚ"
    assert "Đơn vị: Công đoàn cơ sở UBND xã An Phú" in paragraphs(document)


def test_body_holds_title_member_sections_and_timeline() -> None:
    document = open_docx(render_pledge_docx(make_sheet()))
    lines = paragraphs(document)

    assert "An Phú, ngày 09 tháng 4 năm 2026" in lines
    title = "BẢN ĐĂNG KÝ HỌC TẬP VÀ LÀM THEO TƯ TƯỞNG, ĐẠO ĐỨC, PHONG CÁCH HỒ CHÍ MINH NĂM 2026"
    assert title in lines
    assert "Họ và tên: Nguyễn Thị Ngọc Hằng" in lines
    assert "Đơn vị: Công đoàn cơ sở UBND xã An Phú, Công đoàn Viên chức tỉnh" in lines
    assert "Đối tượng: Công nhân lao động" in lines
    assert "Đảng viên: Có" in lines
    assert "Thời gian thực hiện: Từ tháng 4 đến tháng 12 năm 2026" in lines

    # Sections in order, each heading followed by its items.
    expected: list[str] = []
    for heading, items in SECTIONS:
        expected += [heading, *(f"- {item}" for item in items)]
    start = lines.index(expected[0])
    assert lines[start : start + len(expected)] == expected
    assert lines.index(title) < start


def test_date_line_pads_day_and_month_and_dots_a_missing_place() -> None:
    sheet = make_sheet(place="", signed_on=datetime.date(2026, 11, 21), party_member=False)
    lines = paragraphs(open_docx(render_pledge_docx(sheet)))
    assert "............, ngày 21 tháng 11 năm 2026" in lines
    assert "Đảng viên: Không" in lines


def test_signature_block_names_the_member_and_holds_nothing_technical() -> None:
    document = open_docx(render_pledge_docx(make_sheet(reference="DK-2026-000123")))
    signatures = document.tables[-1]
    left = signatures.cell(0, 0).paragraphs
    assert left[0].text == "XÁC NHẬN CỦA CÔNG ĐOÀN CƠ SỞ"
    assert bold_texts(left[0]) == left[0].text
    assert left[1].text == "(Ký tên, đóng dấu)"
    assert all(not p.text for p in left[2:])  # room to sign and stamp, nothing else

    right = signatures.cell(0, 1).paragraphs
    assert right[0].text == "NGƯỜI ĐĂNG KÝ"
    assert right[1].text == "(Ký và ghi rõ họ tên)"
    assert right[-1].text == "Nguyễn Thị Ngọc Hằng"
    assert bold_texts(right[-1]) == "Nguyễn Thị Ngọc Hằng"
    assert any(not p.text for p in right[2:-1])  # room to sign
    body = all_text(document)
    for remark in ("muộn", "đúng hạn", "Nộp ngày", "Đã duyệt", "DK-2026"):
        assert remark not in body  # no status, time or number near the signatures
    assert not re.search(r"\d{1,2}:\d{2}", body)  # no clock times anywhere in the body


def test_position_line_is_dotted_until_known() -> None:
    lines = paragraphs(open_docx(render_pledge_docx(make_sheet())))
    dotted = next(line for line in lines if line.startswith("Chức vụ: "))
    assert set(dotted.removeprefix("Chức vụ: ")) == {"."}  # written in by hand
    lines = paragraphs(open_docx(render_pledge_docx(make_sheet(position="Giáo viên"))))
    assert "Chức vụ: Giáo viên" in lines
    assert lines.index("Họ và tên: Nguyễn Thị Ngọc Hằng") < lines.index("Chức vụ: Giáo viên")


def test_reference_printed_small_in_the_footer() -> None:
    document = open_docx(render_pledge_docx(make_sheet(reference="DK-2026-000123")))
    footer = document.sections[0].footer.paragraphs[0]
    assert footer.text == "DK-2026-000123"
    assert footer.runs[0].font.size.pt <= 10
    blocks = [child.tag for child in document.element.body if child.tag != qn("w:sectPr")]
    assert blocks[-1] == qn("w:tbl")  # nothing printed under the signatures


def test_no_reference_when_absent() -> None:
    document = open_docx(render_pledge_docx(make_sheet()))
    assert document.sections[0].footer.paragraphs[0].text == ""
    assert len(document.tables) == 2  # header and signatures only


def test_empty_section_prints_none() -> None:
    sections = [("I. NỘI DUNG HỌC TẬP", []), ("II. NỘI DUNG LÀM THEO", ["Làm theo"])]
    lines = paragraphs(open_docx(render_pledge_docx(make_sheet(sections=sections))))
    start = lines.index("I. NỘI DUNG HỌC TẬP")
    assert lines[start : start + 4] == [
        "I. NỘI DUNG HỌC TẬP",
        "(Không có)",
        "II. NỘI DUNG LÀM THEO",
        "- Làm theo",
    ]


HOSTILE = [
    "<b>đậm</b> & \"nháy\" 'đơn' </w:t></w:r>",
    "Ủng hộ đồng bào 🌊🇻🇳👍🏽 vùng lũ",
    "'; DROP TABLE pledges; -- OR 1=1",
    "Đoàn kết " * 555 + "xong.",  # 5,000 characters
    "dòng một\ndòng hai\tcột",
]


@pytest.mark.parametrize("item", HOSTILE, ids=["markup", "emoji", "sql", "long", "breaks"])
def test_hostile_items_come_back_verbatim(item: str) -> None:
    sheet = make_sheet(sections=[("I. NỘI DUNG", [item])])
    document = open_docx(render_pledge_docx(sheet))
    assert f"- {item}" in paragraphs(document)
    assessment = open_docx(render_assessment_docx(make_assessment(rows=[(item, "done", item)])))
    assert assessment.tables[1].cell(1, 1).text == item
    assert assessment.tables[1].cell(1, 5).text == item


def test_long_item_is_5000_characters() -> None:
    assert len(HOSTILE[3]) == 5000


def test_control_characters_are_dropped() -> None:
    dirty = "Học\x00 tập\x08\x0b\x0c\x1f đều\x0e đặn\ufffe"
    sheet = make_sheet(
        full_name="Trần\x01 Văn\x1b Bình",
        unit_name="CĐCS\x07 Trường A",
        parent_unit_name="Công đoàn\x02 ngành B",
        group_label="Viên chức\x03",
        sections=[("I.\x04 HỌC TẬP", [dirty])],
        timeline="Cả năm\x05",
        place="Hà\x06 Nội",
        position="Giáo\x10 viên",
        reference="DK\x14-1",
    )
    document = open_docx(render_pledge_docx(sheet))
    lines = paragraphs(document)
    assert "- Học tập đều đặn" in lines
    assert "Họ và tên: Trần Văn Bình" in lines
    assert "Chức vụ: Giáo viên" in lines
    assert "Đơn vị: CĐCS Trường A, Công đoàn ngành B" in lines
    assert "I. HỌC TẬP" in lines
    assert "Hà Nội, ngày 09 tháng 4 năm 2026" in lines
    assert document.sections[0].footer.paragraphs[0].text == "DK-1"
    assert not any(ch in "".join(lines) for ch in map(chr, range(0x20)) if ch not in "\t\n")
    rows = [(dirty, "partly", "Tốt\x12")]
    assessment = open_docx(render_assessment_docx(make_assessment(rows=rows, proposed="Tốt\x13")))
    assert [c.text for c in assessment.tables[1].rows[1].cells] == [
        "1", "Học tập đều đặn", "", "X", "", "Tốt",
    ]  # fmt: skip
    assert "Tự xếp loại (đề xuất): Tốt" in paragraphs(assessment)


def test_page_is_a4_portrait_with_administrative_margins() -> None:
    document = open_docx(render_pledge_docx(make_sheet()))
    section = document.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    assert round(section.top_margin.cm, 1) == round(section.bottom_margin.cm, 1) == 2.0
    assert round(section.left_margin.cm, 1) == 3.0
    assert 1.5 <= round(section.right_margin.cm, 1) <= 2.0
    normal = document.styles["Normal"]
    assert normal.font.name == "Times New Roman"
    assert 13 <= normal.font.size.pt <= 14


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (datetime.date(2026, 1, 5), "Lào Cai, ngày 05 tháng 01 năm 2026"),
        (datetime.date(2026, 2, 28), "Lào Cai, ngày 28 tháng 02 năm 2026"),
        (datetime.date(2026, 4, 9), "Lào Cai, ngày 09 tháng 4 năm 2026"),
        (datetime.date(2026, 12, 31), "Lào Cai, ngày 31 tháng 12 năm 2026"),
    ],
)
def test_date_line_pads_as_decree_30_says(day: datetime.date, expected: str) -> None:
    assert date_line("Lào Cai", day) == expected


# --- the year-end self-assessment -----------------------------------------------------------


def test_assessment_ticks_each_commitment_and_leaves_the_confirmation_to_fill() -> None:
    document = open_docx(render_assessment_docx(make_assessment()))
    lines = paragraphs(document)
    assert (
        "BẢN TỰ ĐÁNH GIÁ KẾT QUẢ THỰC HIỆN BẢN ĐĂNG KÝ HỌC TẬP VÀ LÀM THEO TƯ TƯỞNG, ĐẠO ĐỨC, "
        "PHONG CÁCH HỒ CHÍ MINH NĂM 2026" in lines
    )
    assert "Họ và tên: Nguyễn Thị Ngọc Hằng" in lines
    assert "............, ngày 20 tháng 11 năm 2026" in lines
    table = document.tables[1]
    assert [c.text for c in table.rows[0].cells] == [
        "TT", "Nội dung đã đăng ký", "Đã thực hiện", "Thực hiện một phần", "Chưa thực hiện",
        "Ghi chú",
    ]  # fmt: skip
    assert [[c.text for c in row.cells] for row in table.rows[1:]] == [
        ["1", "Thực hành tiết kiệm, chống lãng phí", "X", "", "", "Giảm 10% điện năng"],
        ["2", "Tham gia hiến máu nhân đạo", "", "", "X", ""],
        ["3", "Đọc sách về Bác mỗi tháng", "", "X", "", "6/12 tháng"],
    ]
    assert "Tự xếp loại (đề xuất): Hoàn thành tốt nhiệm vụ" in lines
    confirmed = next(line for line in lines if line.startswith("Công đoàn cơ sở xác nhận"))
    assert set(confirmed.split(": ", 1)[1]) == {"."}  # not yet: a line to write on
    assert not any(line.startswith("Lý do điều chỉnh") for line in lines)
    signatures = document.tables[-1]
    assert signatures.cell(0, 0).paragraphs[0].text == "XÁC NHẬN CỦA CÔNG ĐOÀN CƠ SỞ"
    assert signatures.cell(0, 1).paragraphs[0].text == "NGƯỜI TỰ ĐÁNH GIÁ"
    assert signatures.cell(0, 1).paragraphs[-1].text == "Nguyễn Thị Ngọc Hằng"
    assert document.sections[0].footer.paragraphs[0].text == "TDG-2026-000007"


def test_assessment_confirmed_with_another_rating_gives_the_reason() -> None:
    sheet = make_assessment(confirmed="Hoàn thành nhiệm vụ", reason="Chưa hiến máu như đăng ký")
    lines = paragraphs(open_docx(render_assessment_docx(sheet)))
    assert "Tự xếp loại (đề xuất): Hoàn thành tốt nhiệm vụ" in lines
    assert "Công đoàn cơ sở xác nhận xếp loại: Hoàn thành nhiệm vụ" in lines
    assert "Lý do điều chỉnh xếp loại: Chưa hiến máu như đăng ký" in lines


def test_assessment_without_commitments_says_so() -> None:
    document = open_docx(render_assessment_docx(make_assessment(rows=[])))
    assert "(Không có nội dung nào để tự đánh giá)" in paragraphs(document)
    assert len(document.tables) == 2  # header and signatures
