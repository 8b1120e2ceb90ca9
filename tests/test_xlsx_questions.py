"""Quiz questions from Excel (issue 13): the template round-trips; every mistake is named by its
row and column; good rows are read with the rules of the YAML banks; ids are stable."""

from __future__ import annotations

import io

import openpyxl
import pytest

from bot.services.xlsxquestions import SHEET, SheetError, export, read, template

DOCUMENT = """I. MỤC ĐÍCH
Mỗi đoàn viên xây dựng 01 bản đăng ký học tập và làm theo tư tưởng, đạo đức,
phong cách Hồ Chí Minh, gửi trước ngày 10/4/2027.
II. NỘI DUNG
Các cấp công đoàn tổ chức hội nghị học tập, quán triệt chuyên đề trong quý I năm 2027.
Đoàn viên dám nghĩ, dám nói, dám làm, dám chịu trách nhiệm."""


def good_row(n: int) -> list[object]:
    return [
        None,
        f"Câu hỏi số {n}: mỗi đoàn viên gửi bản đăng ký trước ngày nào?",
        "Trước ngày 10/4/2027",
        "Trước ngày 30/4/2027",
        "Trước ngày 15/5/2027",
        "Trước ngày 31/3/2027",
        None,
        None,
        "a",
        "Kế hoạch ghi: gửi trước ngày 10/4/2027.",
        "phong cách Hồ Chí Minh, gửi trước ngày 10/4/2027",  # across a line break of the source
        "I",
    ]


def filled(rows: list[list[object]]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(template()))
    sheet = book[SHEET]
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def read_back(data: bytes, **kw: object):  # type: ignore[no-untyped-def]
    values = {"topic_id": "chuyen-de-2027", "document": DOCUMENT, "source_name": "ke-hoach.docx"}
    values.update(kw)
    return read(data, **values)  # type: ignore[arg-type]


def test_the_template_has_headers_validation_and_a_guide() -> None:
    book = openpyxl.load_workbook(io.BytesIO(template()))
    sheet = book[SHEET]
    headers = [c.value for c in sheet[1]]
    assert headers[1] == "Câu hỏi" and headers[2:8] == list("ABCDEF")
    assert headers[8] == "Đáp án đúng" and headers[10] == "Trích dẫn"
    validations = sheet.data_validations.dataValidation
    assert any("I2" in str(v.sqref) for v in validations)
    assert "Hướng dẫn" in book.sheetnames
    guide = " ".join(str(r[0].value) for r in book["Hướng dẫn"].iter_rows())
    assert "chọn tất cả các ý đúng" in guide and "nguyên văn" in guide


def test_ten_good_rows_are_read_with_stable_ids() -> None:
    data = filled([good_row(n) for n in range(10)])
    first = read_back(data)
    assert first.problems == [] and len(first.good()) == 10
    assert all(q.correct == [0] for q in first.good())
    again = read_back(data)  # the same file twice: the same ids, so a re-import updates
    assert [q.id for q in again.good()] == [q.id for q in first.good()]
    assert not any("dài nhất" in w for w in first.warnings)  # options of equal length


@pytest.mark.parametrize(
    ("row", "column", "says"),
    [
        ({1: ""}, "Câu hỏi", "không được để trống"),
        ({1: "x" * 301}, "Câu hỏi", "301 ký tự"),
        ({3: None, 4: None, 5: None}, "A … F", "có 1 phương án"),
        ({4: None, 5: "Trước ngày 1/1/2027"}, "C", "bỏ trống"),
        ({8: ""}, "Đáp án đúng", "chưa có đáp án"),
        ({8: "G"}, "Đáp án đúng", "không phải chữ cái"),
        ({8: "A, B"}, "Đáp án đúng", "chọn tất cả các ý đúng"),
        ({9: ""}, "Giải thích", "không được để trống"),
        ({10: "gửi trước ngày 11/4/2027"}, "Trích dẫn", "không tìm thấy nguyên văn"),
        ({3: "trước ngày 10/4/2027"}, "A … F", "bị lặp"),
    ],
)
def test_each_mistake_is_named_by_row_and_column(
    row: dict[int, object], column: str, says: str
) -> None:
    bad = good_row(99)
    for index, value in row.items():
        bad[index] = value
    result = read_back(filled([good_row(1), bad, good_row(2)]))
    messages = [str(p) for p in result.problems]
    assert any(m.startswith(f"Dòng 3, cột {column}: ") and says in m for m in messages), messages
    assert len(result.good()) == 2  # the other rows still import ("nhập các dòng hợp lệ")


def test_a_duplicate_question_and_broken_files() -> None:
    result = read_back(filled([good_row(1), good_row(1)]))
    assert [str(p) for p in result.problems] == [
        "Dòng 3, cột Câu hỏi: trùng với câu hỏi ở dòng 2",
        "Dòng 3, cột Mã: trùng với mã ở dòng 2",
    ]
    for data, reason in ((b"not a zip", "type"), (b"PK\x03\x04 broken", "broken")):
        with pytest.raises(SheetError) as caught:
            read_back(data)
        assert caught.value.reason == reason


def test_an_exported_bank_reads_back_the_same(content) -> None:  # type: ignore[no-untyped-def]
    bank = content.catalog.banks["bay-dam-2024"]
    seed = (content.root / "seeds" / "002_7975ec5a9c9af267.txt").read_text(encoding="utf-8")
    result = read(
        export(bank), topic_id="bay-dam-2024", document=seed, source_name="002_7975ec5a9c9af267.txt"
    )
    assert result.problems == []
    assert [(q.id, q.text, q.options, q.correct) for q in result.good()] == [
        (q.id, q.text, q.options, q.correct) for q in bank
    ]


def test_fairness_warnings_on_import() -> None:
    rows = []
    for n in range(6):
        row = good_row(n)
        row[2] = "Trước ngày 10/4/2027, theo kế hoạch của công đoàn cấp trên"  # the long one
        row[10] = "gửi trước ngày 10/4/2027"
        rows.append(row)
    rows[0][1] = "Theo kế hoạch của LĐLĐ tỉnh Lào Cai, đoàn viên gửi bản đăng ký trước ngày nào?"
    result = read_back(filled(rows), province="Bình Thuận")
    joined = " ".join(result.warnings)
    assert "dài nhất ở 6/6" in joined and "Lào Cai" in joined and "gần giống nhau" in joined
