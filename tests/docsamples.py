"""A next year's official topic document as provinces write them (the national motto, the
issuer, a title in capitals, numbered headings, a table, some text in NFD as Word on a Mac
saves it), and the Excel sheet of questions an officer fills from it."""

from __future__ import annotations

import io
import unicodedata

import docx
import openpyxl

from bot.services.xlsxquestions import SHEET, template

TITLE = "CHUYÊN ĐỀ NĂM 2027"
SUBTITLE = "HỌC TẬP VÀ LÀM THEO TƯ TƯỞNG, ĐẠO ĐỨC, PHONG CÁCH HỒ CHÍ MINH VỀ TIẾT KIỆM"
PARAGRAPHS = {
    "thrift": (
        "Chủ tịch Hồ Chí Minh dạy: tiết kiệm là không xa xỉ, không hoang phí, không bừa bãi; "
        "tiết kiệm không phải là bủn xỉn."
    ),
    "time": (
        "Tiết kiệm thời gian là làm việc đúng giờ, họp ngắn gọn, việc hôm nay không để ngày mai."
    ),
    "union": (
        "Mỗi công đoàn cơ sở chọn ít nhất một việc làm cụ thể về tiết kiệm điện, nước, văn "
        "phòng phẩm và báo cáo kết quả trước ngày 30/11/2027."
    ),
    "pledge": (
        "Mỗi đoàn viên đăng ký ít nhất một việc làm theo gương Bác về tiết kiệm, gửi bản đăng "
        "ký trước ngày 10/4/2027."
    ),
}


def topic_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("LIÊN ĐOÀN LAO ĐỘNG TỈNH MẪU")
    document.add_paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    document.add_paragraph("Độc lập - Tự do - Hạnh phúc")
    document.add_paragraph(TITLE)
    document.add_paragraph(SUBTITLE)
    document.add_paragraph("I. TƯ TƯỞNG HỒ CHÍ MINH VỀ TIẾT KIỆM")
    document.add_paragraph("1. Tiết kiệm là gì")
    document.add_paragraph(unicodedata.normalize("NFD", PARAGRAPHS["thrift"]))
    document.add_paragraph("2. Tiết kiệm thời gian")
    document.add_paragraph(PARAGRAPHS["time"])
    document.add_paragraph("II. NHIỆM VỤ CỦA CÔNG ĐOÀN")
    document.add_paragraph("1. Công đoàn cơ sở")
    document.add_paragraph(PARAGRAPHS["union"])
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Thời gian"
    table.cell(0, 1).text = "Việc làm"
    table.cell(1, 0).text = "Quý I/2027"
    table.cell(1, 1).text = "Hội nghị học tập chuyên đề"
    document.add_paragraph("2. Đoàn viên")
    document.add_paragraph(PARAGRAPHS["pledge"])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _row(
    qid: str | None, text: str, options: list[str], correct: str, quote: str, section: str
) -> list[object]:
    padded = options + [None] * (6 - len(options))
    return [qid, text, *padded, correct, "Theo chuyên đề năm 2027.", quote, section]


def good_rows() -> list[list[object]]:
    """Ten different questions, each answered by a passage of the document, the correct
    option never the longest."""
    return [
        _row(None, "Đoàn viên gửi bản đăng ký trước ngày nào?",
             ["Ngày 30/4/2027", "Ngày 10/4/2027", "Ngày 15/5/2027", "Ngày 31/3/2027"], "B",
             "gửi bản đăng ký trước ngày 10/4/2027", "II.2"),
        _row(None, "Công đoàn cơ sở báo cáo kết quả việc làm tiết kiệm trước ngày nào?",
             ["Ngày 30/11/2027", "Ngày 31/12/2027", "Ngày 15/10/2027"], "A",
             "báo cáo kết quả trước ngày 30/11/2027", "II.1"),
        _row(None, "Theo Bác, tiết kiệm là không xa xỉ, không hoang phí và không gì?",
             ["Không bừa bãi", "Không vay mượn", "Không đi muộn"], "A",
             "không xa xỉ, không hoang phí, không bừa bãi", "I.1"),
        _row(None, "Tiết kiệm thời gian gồm việc nào sau đây?",
             ["Họp dài", "Họp ngắn gọn", "Để việc sang tuần"], "B",
             "họp ngắn gọn", "I.2"),
        _row(None, "Việc hôm nay, theo chuyên đề, thì không để đến khi nào?",
             ["Ngày mai", "Cuối tuần", "Cuối tháng"], "A",
             "việc hôm nay không để ngày mai", "I.2"),
        _row(None, "Mỗi công đoàn cơ sở chọn ít nhất bao nhiêu việc làm cụ thể về tiết kiệm?",
             ["Một việc", "Ba việc", "Năm việc"], "A",
             "chọn ít nhất một việc làm cụ thể", "II.1"),
        _row(None, "Việc làm tiết kiệm của công đoàn cơ sở gồm tiết kiệm điện, nước và gì?",
             ["Văn phòng phẩm", "Xăng xe", "Đất đai"], "A",
             "tiết kiệm điện, nước, văn phòng phẩm", "II.1"),
        _row(None, "Mỗi đoàn viên đăng ký ít nhất bao nhiêu việc làm theo gương Bác về tiết kiệm?",
             ["Hai việc", "Một việc", "Bốn việc"], "B",
             "đăng ký ít nhất một việc làm theo gương Bác", "II.2"),
        _row(None, "Làm việc đúng giờ là tiết kiệm điều gì?",
             ["Tiền bạc", "Thời gian", "Giấy tờ"], "B",
             "Tiết kiệm thời gian là làm việc đúng giờ", "I.2"),
        _row(None, "Theo Bác, tiết kiệm có phải là bủn xỉn không?",
             ["Có", "Không phải"], "B",
             "tiết kiệm không phải là bủn xỉn", "I.1"),
    ]  # fmt: skip


THRIFT_ROW: list[object] = [
    "td-2027-1",
    "Theo Chủ tịch Hồ Chí Minh, tiết kiệm không phải là gì?",
    "Không phải là bủn xỉn",
    "Không phải là làm đúng giờ",
    "Không phải là họp ngắn gọn",
    None,
    None,
    None,
    "A",
    "Bác dạy: tiết kiệm không phải là bủn xỉn.",
    "tiết kiệm không phải là bủn xỉn",  # the document has it in NFD
    "I.1",
]


def sheet(rows: list[list[object]]) -> bytes:
    """The template with its example row replaced by these rows."""
    book = openpyxl.load_workbook(io.BytesIO(template()))
    page = book[SHEET]
    for row in rows:
        page.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
