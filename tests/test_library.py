"""/chuyende (issue 13): next year's topic made in the chat from the official document, its
questions from Excel, a plan made with it in /kehoach, and a member who studies it and takes the
quiz; the mistakes officers make with files; a second process; who may do it."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from sqlmodel import Session, select

from bot.app import build_app, load_demo_units
from bot.channels.memory import MemoryChat
from bot.messages import Document, FileRequest
from bot.models import AuditLog, Plan, RoleGrant, Unit
from bot.models_library import LibraryQuestion, LibraryRevision, LibraryTopic
from bot.services.library import LIBRARY_TTL
from bot.services.xlsxquestions import SHEET
from tests import docsamples
from tests.helpers import Clock, add_member, register

VN = timedelta(hours=7)
ADMINS = {"memory": {"admin"}}


def local(y: int, m: int, d: int, hh: int = 9) -> datetime:
    return datetime(y, m, d, hh, tzinfo=UTC) - VN


@pytest.fixture
def clock() -> Clock:
    return Clock(local(2027, 1, 5))  # the 2026 plan is over; 2027 needs its topic and plan


@pytest.fixture
def lapp(settings, clock, content):  # type: ignore[no-untyped-def]
    built = build_app(settings, clock=clock, content=content, extra_admins=ADMINS)
    load_demo_units(built)
    yield built
    built.db.dispose()


def labels(chat: MemoryChat) -> list[str]:
    return [o.label for o in chat.last_choices().options]


def documents(chat: MemoryChat) -> list[Document]:
    assert chat.last_response is not None
    return [r for r in chat.last_response.replies if isinstance(r, Document)]


def new_topic(admin: MemoryChat) -> None:
    admin.say("/chuyende")
    admin.press("Thêm chuyên đề từ tài liệu")
    assert any(isinstance(r, FileRequest) for r in admin.last_response.replies)  # type: ignore[union-attr]
    admin.send_file("Chuyen de 2027.docx", docsamples.topic_docx())


def test_a_topic_and_its_questions_reach_a_plan_and_a_member(lapp, clock) -> None:  # type: ignore[no-untyped-def]
    admin = MemoryChat(lapp.engine, "admin")
    register(admin, name="Trần Thị Lan")
    new_topic(admin)
    text = admin.last_text()
    assert "chia thành 4 mục" in text
    assert "Bản nháp: Chuyên đề năm 2027: Học tập và làm theo" in text
    assert "Mục 1: I.1. Tiết kiệm là gì" in text and "Mục 4: II.2. Đoàn viên" in text
    assert "CỘNG HÒA" not in text  # the national motto is not a section
    assert "Năm: 2027" in text

    # a look at a section, a short title, two sections merged, one dropped after a question
    admin.press("Xem một mục")
    admin.say("1")
    assert "tiết kiệm không phải là bủn xỉn" in admin.last_text()  # NFD in the file, NFC here
    admin.say("0")
    admin.press("Đổi tên ngắn")
    admin.say("Tiết kiệm 2027")
    assert "Tên ngắn (trên nút chọn): Tiết kiệm 2027" in admin.last_text()
    admin.press("Gộp mục")
    admin.say("1-2")
    text = admin.last_text()
    assert "Đã lưu" in text and "3 mục" in text and "Mục 2: I.2. Tiết kiệm thời gian" not in text
    admin.press("Bỏ mục")
    admin.say("3")
    assert "Bỏ 1 mục: 3. II.2. Đoàn viên?" in admin.last_text()
    admin.press("Không, quay lại")
    assert "3 mục" in admin.last_text()

    # the questions before publishing: all ten good rows
    admin.press("Nhập câu hỏi từ Excel")
    admin.send_file("cau-hoi.xlsx", docsamples.sheet(docsamples.good_rows()))
    text = admin.last_text()
    assert "10 câu mới, 0 câu cập nhật" in text and "có 10 câu" in text
    assert "còn là bản nháp" in text
    member = MemoryChat(lapp.engine, "m1")
    register(member)
    member.say("/hoc")
    assert not any("Tiết kiệm 2027" in label for label in labels(member))  # a draft is unseen

    admin.press("Xuất bản")
    assert "Mọi đoàn viên sẽ thấy chuyên đề" in admin.last_text()
    admin.press("Xuất bản")
    assert "Đã xuất bản" in admin.last_text()

    # the year's plan with it, in /kehoach, without a restart
    admin.say("/kehoach")
    admin.press("Tạo kế hoạch năm 2027")
    admin.press("Tiết kiệm 2027")
    assert "Mục 2/8. Bài thi" in admin.last_text()
    assert "⬜ Tiết kiệm 2027" in labels(admin)
    admin.press("Tiết kiệm 2027")
    for label in labels(admin):
        if label.startswith("✅") and "Tiết kiệm 2027" not in label:
            admin.press(label)  # last year's quizzes off
    admin.press("Xong")
    admin.press("Giữ")  # the deadline
    admin.press("Có nhận")
    admin.press("Giữ")
    admin.press("Giữ")
    admin.press("Giữ các hạn này")
    admin.press("Giữ")
    assert "1. Chuyên đề năm: “Tiết kiệm 2027”" in admin.last_text()
    admin.press("Lưu kế hoạch")
    with Session(lapp.db) as s:
        plan = s.get(Plan, "demo-2027")
    assert plan is not None and plan.topic == "chuyen-de-2027"
    assert [q["topic"] for q in plan.quizzes] == ["chuyen-de-2027"]

    # the member studies it: the plan's topic comes first, each section cites the document
    member.say("/hoc")
    assert "Tiết kiệm 2027" in labels(member)[0]
    member.press("Tiết kiệm 2027")
    text = member.last_text()
    assert "Phần 1/3" in text and "không hoang phí, không bừa bãi" in text
    assert "Chuyên đề năm 2027: Học tập và làm theo tư tưởng" in text  # the new document

    # ... and takes the quiz with the new questions; an answer cites the document and section
    member.say("/thi")
    if "Chọn bài thi" in member.last_text():
        member.press("Tiết kiệm 2027")
    member.press("Bắt đầu")
    asked = member.last_text()
    texts = [str(row[1]) for row in docsamples.good_rows()]
    assert any(t in asked for t in texts)
    member.say("a")
    answered = member.last_text()
    assert "📖 Chuyên đề năm 2027: Học tập và làm theo tư tưởng" in answered
    assert ", mục I." in answered or ", mục II." in answered

    with Session(lapp.db) as s:
        kinds = [r.kind for r in s.exec(select(LibraryRevision).order_by(LibraryRevision.id))]
        actions = {a.action for a in s.exec(select(AuditLog))}
        topic = s.get(LibraryTopic, "chuyen-de-2027")
    assert kinds[0] == "topic.created" and "questions.imported" in kinds
    assert kinds.count("topic.changed") == 2 and kinds[-1] == "topic.published"
    assert {"topic_create", "topic_change", "questions_import", "topic_publish"} <= actions
    assert topic is not None and topic.version == 4 and topic.created_by == "memory:admin"


def test_files_people_send_by_mistake_get_clear_answers(lapp) -> None:  # type: ignore[no-untyped-def]
    admin = MemoryChat(lapp.engine, "admin")
    register(admin, name="Trần Thị Lan")
    admin.send_file("ke-hoach.docx", docsamples.topic_docx())
    assert "chưa cần tệp ở bước này" in admin.last_text()  # nothing asked for a file
    admin.say("/chuyende")
    admin.press("Thêm chuyên đề từ tài liệu")
    admin.say("tài liệu đây")
    assert "đang chờ tệp tài liệu" in admin.last_text()
    scanned = _image_only_pdf()
    cases = [
        ("danh-sach.txt", "tên, đơn vị\n".encode() * 50, "không phải DOCX hoặc PDF"),
        ("rong.docx", b"", "không có chữ nào"),
        ("ban-chup.pdf", scanned, "là bản chụp"),
        ("hong.docx", b"PK\x03\x04 not really a zip", "không phải DOCX hoặc PDF"),
        ("bang.xlsx", docsamples.sheet([]), "không phải DOCX hoặc PDF"),
        ("anh.docx", _zip({"word/document.xml": b"<not xml"}), "bị hỏng"),
    ]
    for name, data, said in cases:
        admin.send_file(name, data)
        assert said in admin.last_text(), (name, admin.last_text())
        assert "đang chờ" not in admin.last_text() or "Gửi tài liệu" in admin.last_text()
    admin.engine.handle_sync  # noqa: B018 (the same engine keeps going)
    big = admin._send(text="", upload=_upload("lon.pdf", 11 * 1024 * 1024))
    assert "quá giới hạn 10 MB" in admin.last_text() and big.replies
    admin.send_file("Chuyen de 2027.docx", docsamples.topic_docx())
    assert "chia thành 4 mục" in admin.last_text()

    # the outline's steps: wrong numbers, ranges, words, too long, and back
    admin.press("Gộp mục")
    for typed, said in [
        ("1 3", "Chỉ gộp được các mục liền nhau"),
        ("2", "Cần ít nhất hai mục để gộp"),
        ("9", "Gõ số từ 1 đến 4"),
        ("mục đầu", "Gõ số từ 1 đến 4"),
        ("x" * 5000, "Gõ số từ 1 đến 4"),
    ]:
        admin.say(typed)
        assert said in admin.last_text(), typed
    admin.say("quay lại")
    admin.press("Bỏ mục")
    admin.say("1 2 3 4")
    assert "không bỏ được tất cả" in admin.last_text()
    admin.say("0")
    admin.press("Đổi năm")
    for typed in ("năm sau", "1990", "2027 2099", "<b>2027</b>"):
        admin.say(typed)
        assert "Chưa đọc được năm" in admin.last_text(), typed
    admin.say("2026 2027")
    assert "Năm: 2026, 2027" in admin.last_text()
    admin.press("Đổi tên chuyên đề")
    admin.say("abc")
    assert "cần từ 5 đến 300 ký tự" in admin.last_text()
    admin.say("Chuyên đề <b>tiết kiệm</b> 💡 năm 2027")
    shown = admin.last_response.replies[-1].text  # type: ignore[union-attr]
    assert "Chuyên đề &lt;b&gt;tiết kiệm&lt;/b&gt; 💡 năm 2027" in shown  # as typed, never markup

    # another admin edits meanwhile: the older screen is refused, the newer one shown
    other = MemoryChat(lapp.engine, "admin2")
    lapp.engine.extra_admins["memory"].add("admin2")
    register(other, name="Lê Văn Hùng")
    other.say("/chuyende")
    other.press("(bản nháp)")
    other.press("Đổi tên ngắn")
    other.say("Tiết kiệm")
    admin.press("Đổi tên ngắn")
    admin.say("Chuyên đề tiết kiệm")
    assert "vừa được người khác sửa" in admin.last_text()
    assert "Tên ngắn (trên nút chọn): Tiết kiệm" in admin.last_text()

    # a draft deleted after a question; the old buttons then count nothing
    admin.press("Xóa bản nháp")
    admin.press("Xóa bản nháp")
    assert "Đã xóa bản nháp" in admin.last_text()
    other.press("Xem một mục")
    assert "không còn" in other.last_text() or "cũ" in other.last_text()
    with Session(lapp.db) as s:
        assert s.exec(select(LibraryTopic)).all() == []


def test_the_sheet_round_trips_with_every_mistake_named(lapp) -> None:  # type: ignore[no-untyped-def]
    admin = MemoryChat(lapp.engine, "admin")
    register(admin, name="Trần Thị Lan")
    new_topic(admin)
    admin.press("Tải mẫu câu hỏi")
    [template] = documents(admin)
    book = openpyxl.load_workbook(io.BytesIO(template.data))
    assert [c.value for c in book[SHEET][1]][1] == "Câu hỏi" and "Hướng dẫn" in book.sheetnames

    rows = docsamples.good_rows()
    bad = [list(r) for r in rows[:5]]
    bad[0][8] = "E"  # a letter with no option
    bad[1][2:8] = ["Một", None, "Ba", None, None, None]  # a gap between options
    bad[2][10] = "tiết kiệm là hoang phí"  # not in the document
    bad[3][1] = "x" * 301  # too long
    bad[4][8] = "A, B"  # several answers for a one-answer question
    admin.press("Nhập câu hỏi từ Excel")
    admin.send_file("cau-hoi.xlsx", docsamples.sheet(rows[5:] + bad))
    text = admin.last_text()
    assert "có 5 lỗi ở 5 dòng" in text and "chưa nhập câu nào" in text
    assert "Dòng 7, cột Đáp án đúng: “E” không phải chữ cái của một phương án (A–D)" in text
    assert "Dòng 8, cột B: bỏ trống giữa các phương án" in text
    assert "Dòng 9, cột Trích dẫn: không tìm thấy nguyên văn" in text
    assert "Dòng 10, cột Câu hỏi: dài 301 ký tự, tối đa 300" in text
    assert "Dòng 11, cột Đáp án đúng: có 2 đáp án đúng" in text
    with Session(lapp.db) as s:
        assert s.exec(select(LibraryQuestion)).all() == []
    admin.press("Vẫn nhập 5 câu hợp lệ")
    assert "5 câu mới" in admin.last_text()

    # the corrected file: the same five are unchanged, the five fixed are added
    admin.press("Nhập câu hỏi từ Excel")
    admin.send_file("cau-hoi.xlsx", docsamples.sheet(rows))
    assert "5 câu mới, 0 câu cập nhật, 5 câu không đổi" in admin.last_text()
    # one question edited in the exported sheet updates, never duplicates
    admin.press("Tải câu hỏi hiện có")
    [exported] = documents(admin)
    book = openpyxl.load_workbook(io.BytesIO(exported.data))
    book[SHEET]["J2"] = "Giải thích mới, gọn hơn."
    buffer = io.BytesIO()
    book.save(buffer)
    admin.press("Nhập câu hỏi từ Excel")
    admin.send_file("cau-hoi-sua.xlsx", buffer.getvalue())
    assert "0 câu mới, 1 câu cập nhật, 9 câu không đổi" in admin.last_text()
    with Session(lapp.db) as s:
        assert len(s.exec(select(LibraryQuestion)).all()) == 10

    # broken sheets
    admin.press("Nhập câu hỏi từ Excel")
    for name, data, said in [
        ("cau-hoi.xls", b"\xd0\xcf\x11\xe0 old excel", "không phải Excel .xlsx"),
        ("cau-hoi.xlsx", _zip({"x": b"y"}), "bị hỏng"),
        ("khac.xlsx", _other_sheet(), "không theo mẫu"),
        ("trong.xlsx", docsamples.sheet([]), "chưa có câu hỏi nào"),
    ]:
        admin.send_file(name, data)
        assert said in admin.last_text(), name


def test_a_second_process_sees_the_published_topic_within_the_ttl(  # type: ignore[no-untyped-def]
    lapp, settings, clock, content
) -> None:
    replica = build_app(settings, clock=clock, content=content, extra_admins=ADMINS)
    member = MemoryChat(replica.engine, "m1")
    register(member)
    member.say("/hoc")  # the replica has read the library now
    admin = MemoryChat(lapp.engine, "admin")
    register(admin, name="Trần Thị Lan")
    new_topic(admin)
    admin.press("Xuất bản")
    admin.press("Xuất bản")
    member.say("/hoc")
    assert not any("Chuyên đề 2027" in label for label in labels(member))
    clock.now += LIBRARY_TTL + timedelta(seconds=1)
    member.say("/hoc")
    assert any("Chuyên đề 2027" in label for label in labels(member))
    replica.db.dispose()


def test_who_may_make_topics(lapp) -> None:  # type: ignore[no-untyped-def]
    member = MemoryChat(lapp.engine, "m1")
    register(member)
    member.say("/chuyende")
    assert "chỉ dành cho cán bộ công đoàn hoặc quản trị viên" in member.last_text()
    with Session(lapp.db) as s:
        school = s.exec(select(Unit).where(Unit.code == "CDCS-MN-HM")).one()
        root = s.exec(select(Unit).where(Unit.parent_id == None)).first()  # noqa: E711
        assert root is not None
        officer_id = add_member(lapp, "Phạm Thu Hà", "CDCS-MN-HM", "o1")
        root_officer_id = add_member(lapp, "Đỗ Minh Tâm", root.code, "o2")
        s.add(RoleGrant(member_id=officer_id, role="officer", unit_id=school.id, granted_by="t"))
        s.add(RoleGrant(member_id=root_officer_id, role="officer", unit_id=root.id, granted_by="t"))
        s.commit()
    officer = MemoryChat(lapp.engine, "o1")
    officer.say("/chuyende")
    assert "Chỉ quản trị viên và cán bộ công đoàn cấp tỉnh" in officer.last_text()
    province = MemoryChat(lapp.engine, "o2")
    province.say("/chuyende")
    assert "➕ Thêm chuyên đề từ tài liệu" in labels(province)


def _upload(name: str, size: int):  # type: ignore[no-untyped-def]
    from bot.messages import Upload

    return Upload(name, None, size)


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _other_sheet() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["STT", "Họ tên", "Đơn vị"])
    sheet.append([1, "Nguyễn Văn An", "Trường Mầm non"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _image_only_pdf() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (800, 1100), "white").save(buffer, "PDF")
    return buffer.getvalue()


def test_a_member_half_way_through_a_topic_whose_sections_were_merged(lapp) -> None:  # type: ignore[no-untyped-def]
    """Publishing does not freeze the outline: a member on section 4 of a topic that now has 3
    goes on at the last one, never an error."""
    admin = MemoryChat(lapp.engine, "admin")
    register(admin, name="Trần Thị Lan")
    new_topic(admin)
    admin.press("Xuất bản")
    admin.press("Xuất bản")
    member = MemoryChat(lapp.engine, "m1")
    register(member)
    member.say("/hoc")
    member.press("Chuyên đề 2027")
    for _ in range(3):
        member.press("Tiếp")
    assert "Phần 4/4" in member.last_text()
    admin.press("Gộp mục")
    admin.say("3 4")
    member.say("/hoc")
    member.press("Chuyên đề 2027")
    assert "Phần 3/3" in member.last_text() and "Mỗi đoàn viên đăng ký" in member.last_text()
