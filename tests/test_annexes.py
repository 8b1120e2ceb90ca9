"""A unit's year, done through the chat as people do it, then the report that goes up: a study
conference with 12 check-ins (3 party members) and one conference typed in, a breakthrough
task, two pressing issues (one solved), three good examples (two approved), one model
replicated. The DOCX and XLSX read back hold exactly these figures in every Phụ lục row, their
totals add up, nothing internal shows; the 19/5 post of the tree carries the approved examples,
and a tree without examples gets the plain post; another subtree's report holds none of it."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from sqlmodel import Session

from bot.app import build_app, load_demo_units
from bot.channels.memory import MemoryChat
from bot.messages import Document
from bot.services import units
from scheduler.delivery import DeliveryWorker
from scheduler.jobs import Planner
from tests.helpers import Clock, add_member, make_officer
from tests.test_scheduler import MemorySender

MARCH = datetime(2026, 3, 15, 1, 0, tzinfo=UTC)  # 08:00 on 15/03/2026 in Vietnam
MAY = datetime(2026, 5, 2, 3, 0, tzinfo=UTC)  # 10:00 on 02/05/2026: the report
OFFICER = "901"
TELLER = "911"
CONTENT = "Thực hành dân chủ ở cơ sở: công khai thu chi quỹ công đoàn hằng quý"
ISSUES = ("Giáo viên làm thêm giờ chưa được trả đủ tiền", "Phòng học xuống cấp, mùa mưa bị dột")
MODEL = "Tủ sách “Bác Hồ với thiếu nhi”"
EXAMPLES = (
    ("Cô Nguyễn Thị Lan", "Cô Lan kèm miễn phí các cháu có hoàn cảnh khó khăn mỗi tối thứ Bảy."),
    ("Bác Trần Văn Hùng", "Bác Hùng sửa lại hàng rào trường trong ngày nghỉ, không nhận công."),
    ("Tổ bếp ăn bán trú", "Tổ bếp nấu thêm bữa sáng cho các cháu ở xa suốt năm học vừa qua."),
)
EDITED = "Bác Hùng tự sửa hàng rào trường trong ba ngày nghỉ lễ, không nhận tiền công."
LEAKS = ("{", "}", "content/", ".txt", "seeds", "004_068")


@pytest.fixture
def clock() -> Clock:
    return Clock(MARCH)


@pytest.fixture
def yapp(settings, content, clock):  # type: ignore[no-untyped-def]
    built = build_app(settings, clock=clock, content=content)
    load_demo_units(built)
    yield built
    built.db.dispose()


@pytest.fixture
def year(yapp, clock) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The year of CĐCS Trường Mầm non Hoa Mai, recorded through the chat by its officer and
    members; returns the officer's chat and the postbox all chats share."""
    postbox: dict = {}  # type: ignore[type-arg]

    def chat(user: str) -> MemoryChat:
        return MemoryChat(yapp.engine, user, postbox=postbox)

    add_member(yapp, "Phạm Văn Tâm", "CDCS-MN-HM", OFFICER, group="can_bo_cong_doan")
    make_officer(yapp, OFFICER, "CDCS-MN-HM")
    officer = chat(OFFICER)
    members = [str(911 + n) for n in range(11)]
    for n, user in enumerate(members):
        add_member(yapp, f"Đoàn Viên Số {n + 1}", "CDCS-MN-HM", user, party=n < 3)

    # the conference with check-in, then 12 members at it
    officer.say("/hoinghi")
    officer.press("đoàn viên, CNVCLĐ")
    officer.press("Hôm nay")
    officer.press("Chuyên đề năm")
    officer.press("tự điểm danh")
    officer.press("Sau 2 giờ")
    officer.press("Lưu hội nghị")
    code = re.search(r"HN\d{6}", officer.last_text()).group(0)  # type: ignore[union-attr]
    for n, user in enumerate(members):
        chat(user).say(f"/start {code}" if n % 2 else code)  # the link, or the code typed
    chat(members[0]).say(code)  # typed twice: counted once
    newcomer = chat("930")  # not registered yet: registers, then is counted
    newcomer.say(f"/start {code}")
    newcomer.say("Lý Thị Mới")
    newcomer.press("Viên chức")
    newcomer.press("Không")
    newcomer.press("Tôi đồng ý")
    assert "Đã điểm danh" in newcomer.last_text()
    outsider = chat("931")
    add_member(yapp, "Ở Đơn Vị Khác", "CDCS-UBND-AP", "931", party=True)
    outsider.say(code)  # another subtree's member: not counted

    # the conference typed in
    officer.say("/hoinghi")
    officer.press("Ghi một hội nghị")
    officer.press("chủ chốt cấp cơ sở")
    officer.say("10/03/2026")
    officer.say("Quán triệt Chỉ thị 05-CT/TW và Kết luận 01-KL/TW")
    officer.press("nhập số người dự")
    officer.say("9 2")
    officer.press("Lưu hội nghị")

    # the breakthrough task and the pressing issues
    officer.say("/dotpha")
    officer.press("Thêm nội dung đột phá")
    officer.say(CONTENT)
    for issue in ISSUES:
        officer.press("Thêm vấn đề bức xúc")
        officer.say(issue)
    officer.press("Mục 2")
    officer.press("Đã giải quyết dứt điểm")
    officer.press("Mục 3")
    officer.press("Cập nhật tỷ lệ")
    officer.say("40")

    # three good examples, two approved (one of them edited), one declined
    teller = chat(TELLER)
    for person, story in EXAMPLES:
        teller.say("/guongtot")
        teller.say(person)
        teller.press("Mầm non Hoa Mai")
        teller.say(story)
        teller.press("Không có ảnh")
        teller.press("Đã đồng ý")
        teller.press("Gửi công đoàn")
    officer.say("/duyet")
    officer.press("Duyệt")
    officer.press("Sửa lời rồi duyệt")
    officer.say(EDITED)
    officer.press("Không duyệt")
    officer.say("Việc này đã được biểu dương năm trước.")

    # one model replicated from an earlier year
    officer.say("/guongtot")
    officer.press("Mô hình hay")
    officer.press("Ghi một mô hình")
    officer.say(MODEL)
    officer.say("Mỗi lớp một góc sách, phụ huynh góp sách, giáo viên kể chuyện Bác hằng tuần.")
    officer.say("120 đầu sách; 100% lớp có góc sách; trẻ thuộc 10 câu chuyện về Bác.")
    officer.press("Phát huy, nhân rộng")
    officer.press("Lưu mô hình")
    assert "Phụ lục 6" in officer.last_text()
    clock.now = MAY
    return {"officer": officer, "chat": chat}


def documents(chat: MemoryChat) -> tuple[Document, Document]:
    found = [r for r in chat.last_response.replies if isinstance(r, Document)]  # type: ignore[union-attr]
    assert [d.filename.rsplit(".", 1)[1] for d in found] == ["xlsx", "docx"]
    return found[0], found[1]


def block_values(ws: Any, first: int) -> list[list[Any]]:
    """The rows of a table from row `first` down to the first empty row."""
    out = []
    for row in ws.iter_rows(min_row=first, values_only=True):
        if all(v is None for v in row):
            break
        out.append(list(row))
    return out


def every_text(xlsx: Document, outline: Document) -> str:
    """Everything a reader can see or find in both files: cells, sheet names, print titles,
    paragraphs, tables, headers, footers, document properties."""
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    parts = [*wb.sheetnames, str(wb.properties.title), str(wb.properties.creator)]
    for ws in wb.worksheets:
        parts.append(str(ws.print_title_rows))
        parts += [str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    opened = docx.Document(io.BytesIO(outline.data))
    parts += [Paragraph(p, opened).text for p in opened.element.body.iter(qn("w:p"))]
    for section in opened.sections:
        for part in (section.header, section.footer):
            parts += [p.text for p in part.paragraphs]
    props = opened.core_properties
    parts += [props.title, props.subject, props.comments, props.keywords, props.category]
    return "\n".join(str(p) for p in parts if p)


def test_every_annex_row_holds_the_year_and_the_totals_add_up(yapp, year) -> None:  # type: ignore[no-untyped-def]
    officer = year["officer"]
    officer.say("/baocao")
    xlsx, outline = documents(officer)
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.data))

    annex1 = wb["Phụ lục 1"]
    rows = {r[0]: r[1:] for r in block_values(annex1, 6)[:5]}  # rows 6-10, the notes below
    assert rows == {
        "Hội nghị cán bộ công đoàn chủ chốt cấp trên trực tiếp cơ sở": [0, 0, 0, 0],
        "Hội nghị cán bộ Công đoàn chủ chốt cấp cơ sở": [1, 9, 2, pytest.approx(2 / 3)],
        "Hội nghị dành cho đoàn viên, CNVCLĐ": [1, 12, 3, 1.0],  # 3 of the 3 on the bot
        "Học tập chuyên đề qua Trợ lý Công đoàn (chatbot)": [None, 0, 0, 0],
        "Tổng số": [2, 21, 5, None],
    }
    parts = [v for k, v in rows.items() if k != "Tổng số"]
    for column in range(3):
        assert sum(v[column] or 0 for v in parts) == rows["Tổng số"][column]
    assert annex1["E5"].value == "Tỷ lệ (trên Trợ lý)"  # no real count: said so
    assert [annex1["A13"].value, annex1["B13"].value] == ["Tổng số đảng viên thực tế", "chưa có"]
    assert annex1["B14"].value == 3  # the unit's party members on the bot, the rates' denominator

    assert block_values(wb["Phụ lục 3"], 5) == [
        [1, CONTENT, "Đang thực hiện"],
        ["Cộng", "1 nội dung đột phá", "0 đã hoàn thành"],
    ]
    assert block_values(wb["Phụ lục 4"], 5) == [
        [1, ISSUES[0], 1.0],
        [2, ISSUES[1], 0.4],
        ["Cộng", "2 vấn đề, đã giải quyết dứt điểm 1", 0.5],
    ]
    assert block_values(wb["Phụ lục 5"], 5) == [
        [None, "(Không có)", None, None, None],
        ["Cộng", "0 mô hình", None, None, None],
    ]
    (model, total) = block_values(wb["Phụ lục 6"], 5)
    assert model[:2] == [1, MODEL] and model[2].startswith("Mỗi lớp") and "120 đầu sách" in model[3]
    assert total == ["Cộng", "1 mô hình", None, None]
    assert [c.value for c in wb["Phụ lục 2"][4]] == [
        "STT", "Cơ quan ban hành", "Thể loại", "Số hiệu văn bản", "Thời gian ban hành", "Trích yếu",
    ]  # fmt: skip

    summary = {r[0]: r for r in block_values(wb["Tổng hợp"], 4)}
    unit = summary["CĐCS Trường Mầm non Hoa Mai"]
    assert unit[3:5] == [13, 3]  # the officer, 11 members and the newcomer; 3 party members
    assert unit[12:15] == [0, 12, 12]  # studied in /hoc, checked in, studied either way
    assert summary["Tổng cộng"][12:15] == [0, 12, 12]
    people = wb["Đoàn viên"]
    checked = {r[1]: r[10] for r in people.iter_rows(min_row=2, values_only=True)}
    assert checked["Đoàn Viên Số 1"] == 1 and checked["Lý Thị Mới"] == 1
    assert checked["Phạm Văn Tâm"] == 0  # the officer ran it, did not check in

    opened = docx.Document(io.BytesIO(outline.data))

    def table(first_cell: str) -> list[list[str]]:
        found = next(t for t in opened.tables if t.cell(0, 0).text == first_cell)
        return [[c.text for c in row.cells] for row in found.rows]

    annex1_docx = table("Hình thức học tập")
    assert annex1_docx[2:] == [
        ["Hội nghị cán bộ công đoàn chủ chốt cấp trên trực tiếp cơ sở", "0", "0", "0", "0,0%"],
        ["Hội nghị cán bộ Công đoàn chủ chốt cấp cơ sở", "1", "9", "2", "66,7%"],
        ["Hội nghị dành cho đoàn viên, CNVCLĐ", "1", "12", "3", "100,0%"],
        ["Học tập chuyên đề qua Trợ lý Công đoàn (chatbot)", "", "0", "0", "0,0%"],
        ["Tổng số", "2", "21", "5", ""],
    ]
    assert table("STT")[0] == [
        "STT", "Cơ quan ban hành", "Thể loại", "Số hiệu văn bản", "Thời gian ban hành", "Trích yếu",
    ]  # fmt: skip
    annexes = [t for t in opened.tables if t.cell(0, 0).text == "STT"]
    assert [[c.text for c in r.cells] for r in annexes[1].rows[1:]] == [
        ["1", CONTENT, "Đang thực hiện"],
        ["Cộng", "1 nội dung đột phá", "0 đã hoàn thành"],
    ]
    assert [[c.text for c in r.cells] for r in annexes[2].rows[1:]] == [
        ["1", ISSUES[0], "100,0%"],
        ["2", ISSUES[1], "40,0%"],
        ["Cộng", "2 vấn đề, đã giải quyết dứt điểm 1", "50,0%"],
    ]
    assert [[c.text for c in r.cells] for r in annexes[3].rows[1:]] == [
        ["", "(Không có)", "", "", ""],
        ["Cộng", "0 mô hình", "", "", ""],
    ]
    replicated = [[c.text for c in r.cells] for r in annexes[4].rows[1:]]
    assert replicated[0][:2] == ["1", MODEL] and replicated[1][:2] == ["Cộng", "1 mô hình"]

    text = every_text(xlsx, outline)
    for leak in LEAKS:
        assert leak not in text, leak
    body = "\n".join(p.text for p in opened.paragraphs)
    assert "Tổ chức 2 hội nghị học tập, quán triệt chuyên đề với 21 lượt người dự" in body
    assert "trong đó 5 lượt đảng viên" in body
    assert "12/13 đoàn viên đã học (92,3%)" in body and "12 người dự hội nghị" in body
    assert "2 vấn đề bức xúc, nổi cộm, đã giải quyết dứt điểm 1 (50,0%" in body
    assert f"+ {MODEL}" in body and "ghi nhận 2 gương người tốt, việc tốt trong năm 2026" in body


def test_the_party_rate_is_against_the_real_party_members(yapp, year) -> None:  # type: ignore[no-untyped-def]
    """3 party members on the bot checked in, the unit has 35: Phụ lục 1 says 3/35, not 3/3."""
    officer = year["officer"]
    officer.say("/thongke")
    officer.press("Số đoàn viên thực tế")
    officer.say("400 35")
    assert "400 (đảng viên: 35)" in officer.last_text()
    officer.say("/baocao")
    xlsx, outline = documents(officer)

    annex1 = openpyxl.load_workbook(io.BytesIO(xlsx.data))["Phụ lục 1"]
    rows = {r[0]: r[1:] for r in block_values(annex1, 6)[:4]}
    assert rows["Hội nghị dành cho đoàn viên, CNVCLĐ"] == [1, 12, 3, pytest.approx(3 / 35)]
    assert rows["Hội nghị cán bộ Công đoàn chủ chốt cấp cơ sở"] == [1, 9, 2, pytest.approx(2 / 35)]
    assert annex1["E5"].value == "Tỷ lệ (so với số đảng viên thực tế)"
    assert [annex1["A13"].value, annex1["B13"].value] == ["Tổng số đảng viên thực tế", 35]
    assert [annex1["A14"].value, annex1["B14"].value] == [
        "Đảng viên đã tham gia trên Trợ lý Công đoàn",
        3,
    ]

    opened = docx.Document(io.BytesIO(outline.data))
    table = next(t for t in opened.tables if t.cell(0, 0).text == "Hình thức học tập")
    assert table.cell(1, 4).text == "Tỷ lệ (so với số đảng viên thực tế)"
    assert [c.text for c in table.rows[4].cells] == [
        "Hội nghị dành cho đoàn viên, CNVCLĐ", "1", "12", "3", "8,6%",
    ]  # fmt: skip
    lines = [p.text for p in opened.paragraphs]
    party = "Tổng số đảng viên thực tế: 35 · Đảng viên đã tham gia trên Trợ lý Công đoàn: 3"
    assert party in lines
    assert not any("100,0%" in c.text for row in table.rows for c in row.cells)
    body = "\n".join(lines)
    assert "3 đảng viên tham gia trên Trợ lý" in body and "0/35 (0,0%) so với số đảng viên" in body


def test_the_report_reads_as_a_document_to_send_up(yapp, year) -> None:  # type: ignore[no-untyped-def]
    officer = year["officer"]
    officer.say("/baocao")
    _, outline = documents(officer)
    opened = docx.Document(io.BytesIO(outline.data))
    head = opened.tables[0]
    assert [p.text for p in head.cell(0, 0).paragraphs] == [
        "CÔNG ĐOÀN NGÀNH GIÁO DỤC",
        "CĐCS TRƯỜNG MẦM NON HOA MAI",
        "",
        "Số: ……/BC-……",
    ]
    assert [p.text for p in head.cell(0, 1).paragraphs] == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "............, ngày 02 tháng 5 năm 2026",
    ]
    lines = [p.text for p in opened.paragraphs]
    title = lines.index("BÁO CÁO")
    assert lines[title + 1].startswith("Kết quả thực hiện Chỉ thị số 05-CT/TW")
    assert lines[title + 2] == "(Theo đề cương tại Hướng dẫn của Ban Thường vụ LĐLĐ tỉnh An Giang)"
    signature = next(
        t for t in opened.tables if t.cell(0, 1).paragraphs[0].text == "TM. BAN CHẤP HÀNH"
    )
    assert signature.cell(0, 0).paragraphs[0].text == "Nơi nhận:"
    assert "THỐNG KÊ kết quả tổ chức hội nghị quán triệt Chuyên đề năm 2026" in lines
    assert not any("THÔNG KÊ" in line for line in lines)


def test_another_subtree_report_holds_none_of_it(yapp, year) -> None:  # type: ignore[no-untyped-def]
    add_member(yapp, "Cán Bộ Khu Công Nghiệp", "CD-KCN", "951", group="can_bo_cong_doan")
    make_officer(yapp, "951", "CD-KCN")
    other = year["chat"]("951")
    other.say("/baocao")
    xlsx, outline = documents(other)
    text = every_text(xlsx, outline)
    for recorded in (CONTENT, *ISSUES, MODEL, "Mầm non Hoa Mai"):
        assert recorded not in text, recorded
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    assert [r[1:3] for r in block_values(wb["Phụ lục 1"], 6)][:3] == [[0, 0], [0, 0], [0, 0]]


async def test_the_19_5_post_carries_the_approved_examples(yapp, year, clock) -> None:  # type: ignore[no-untyped-def]
    with Session(yapp.db) as s:  # a second province, with no examples at all
        units.import_units(
            s, [(2, {"code": "LDLD-KHAC", "name": "LĐLĐ tỉnh Khác", "parent_code": ""})]
        )
        s.commit()
    add_member(yapp, "Ở Tỉnh Khác", "LDLD-KHAC", "961")
    sender = MemorySender()
    planner = Planner(yapp.db, yapp.content, yapp.settings, platforms={"memory"})

    async def no_wait(seconds: float) -> None:
        clock.now += timedelta(seconds=seconds)

    worker = DeliveryWorker(
        yapp.db,
        sender,
        texts=yapp.content.texts,
        rate_per_second=1000,
        clock=clock,
        sleep=no_wait,
    )
    event = next(e for e in yapp.content.calendar.events if (e.day, e.month) == (19, 5))
    clock.now = event.occurrence(2026, yapp.settings.tz) + timedelta(minutes=5)
    planner.tick(clock.now)
    await worker.drain()

    (post,) = [t for t in sender.to(TELLER) if "Ngày sinh Chủ tịch Hồ Chí Minh" in t]
    assert "Gương người tốt, việc tốt trong đơn vị" in post
    assert EXAMPLES[0][0] in post and EXAMPLES[0][1] in post
    assert EXAMPLES[1][0] in post and EDITED in post and EXAMPLES[1][1] not in post  # as edited
    assert EXAMPLES[2][0] not in post  # declined
    assert post.index(EXAMPLES[1][0]) < post.index(EXAMPLES[0][0])  # the latest first
    assert "{" not in post and "}" not in post and len(post) <= 4096

    (plain,) = [t for t in sender.to("961") if "Ngày sinh Chủ tịch Hồ Chí Minh" in t]
    texts = yapp.content.texts  # a tree without a plan: the campaign's own name
    expected, _ = yapp.content.calendar.render(
        event,
        2026,
        topic=texts("plans.no_topic_short"),
        topic_title=texts("plans.no_topic_title"),
        tz=yapp.settings.tz,
    )
    assert plain == expected and "Gương người tốt, việc tốt trong đơn vị" not in plain
    assert "\n\n\n" not in plain  # the empty placeholder leaves no gap
