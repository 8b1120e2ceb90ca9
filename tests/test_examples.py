"""/guongtot and /duyet: members tell about good examples (with the mistakes people make), the
unit's officer approves, edits or declines them (once, whatever the taps), sends an approved one
as an announcement, and records good models; another subtree never sees them; a member's
examples are in their data export and follow them out at erasure."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import docx
import pytest
from sqlmodel import Session, select

from bot.app import build_app, load_demo_units
from bot.channels.memory import MemoryChat
from bot.messages import Choices, Document, Photo
from bot.models import AuditLog, Broadcast, Member
from bot.models_year import GoodExample, GoodModel
from scheduler.delivery import DeliveryWorker
from scheduler.jobs import Planner
from tests.helpers import Clock, add_member, make_officer
from tests.test_scheduler import MemorySender

NOW = datetime(2026, 4, 20, 2, 0, tzinfo=UTC)
OFFICER = "801"
PHOTO = b"\x89PNG\r\n\x1a\n" + b"0" * 5000
STORY = "Cô Lan thức khuya soạn giáo án điện tử, kèm miễn phí các cháu khó khăn mỗi tối thứ Bảy."


@pytest.fixture
def eapp(settings, content):  # type: ignore[no-untyped-def]
    built = build_app(settings, clock=Clock(NOW), content=content)
    load_demo_units(built)
    yield built
    built.db.dispose()


@pytest.fixture
def chats(eapp):  # type: ignore[no-untyped-def]
    """Chats sharing one postbox: what one person's action sends another is in their inbox."""
    postbox: dict = {}  # type: ignore[type-arg]

    def make(user: str) -> MemoryChat:
        return MemoryChat(eapp.engine, user, postbox=postbox)

    return make


@pytest.fixture
def officer(eapp, chats) -> MemoryChat:  # type: ignore[no-untyped-def]
    add_member(eapp, "Phạm Văn Tâm", "CDCS-MN-HM", OFFICER, group="can_bo_cong_doan")
    make_officer(eapp, OFFICER, "CDCS-MN-HM")
    return chats(OFFICER)


def tell(chat: MemoryChat, person: str, story: str, *, consent: bool, photo: bool = False) -> None:
    """Tell about one example the straight way."""
    chat.say("/guongtot")
    menu = [r for r in chat.last_response.replies if isinstance(r, Choices)]  # type: ignore[union-attr]
    if menu and "Giới thiệu một gương tốt" in str(menu[-1].options):  # an officer's menu
        chat.press("Giới thiệu một gương tốt")
    chat.say(person)
    chat.press("Mầm non Hoa Mai")
    if photo:
        chat.send_photo(PHOTO, story)
    else:
        chat.say(story)
        chat.press("Không có ảnh")
    chat.press("Đã đồng ý" if consent else "Chưa hỏi")
    chat.press("Gửi công đoàn")
    assert "Cảm ơn bạn" in chat.last_text(), chat.last_text()


def rows(app) -> list[GoodExample]:  # type: ignore[no-untyped-def]
    with Session(app.db) as s:
        return list(s.exec(select(GoodExample).order_by(GoodExample.id)).all())  # type: ignore[arg-type]


def test_a_member_tells_with_the_mistakes_people_make(eapp, chats) -> None:  # type: ignore[no-untyped-def]
    member = chats("811")
    add_member(eapp, "Người Kể", "CDCS-MN-HM", "811")
    member.say("/guongtot")
    assert "Gương tốt là ai" in member.last_text()
    member.say(" ")
    assert "ít nhất 2 ký tự" in member.last_text()
    member.say("x" * 5000)
    assert "tối đa 150" in member.last_text()
    member.say("Cô <b>Lan</b> & tổ Mẫu giáo 🌸")
    member.press("Đơn vị khác")  # walk the tree to the unit instead
    member.say("mam non")
    member.press("Mầm non Hoa Mai")
    member.say("Tốt")
    assert "quá ngắn" in member.last_text()
    member.say("Rất tốt. " * 600)
    assert "tối đa 1500" in member.last_text()
    member.send_photo(b"x" * 2_000_000, STORY)
    assert "Ảnh nặng 2,0 MB" in member.last_text()
    member.send_photo(PHOTO)  # a photo first, the text after
    assert "Đã nhận ảnh" in member.last_text()
    member.say(STORY + "\n\nCảm ơn cô! 👏")
    assert "đã đồng ý để công đoàn giới thiệu" in member.last_text()
    member.say("có lẽ")  # neither choice
    assert "Vui lòng chọn" in member.last_text()
    member.press("Đã đồng ý")
    summary = member.last_text()
    assert "Cô <b>Lan</b> & tổ Mẫu giáo 🌸" in summary and "Có ảnh kèm theo" in summary
    send = member.last_choices().options[0].data
    member.say("gửi")  # a word of the label never chooses the step that cannot be undone
    assert rows(eapp) == [] and "Vui lòng chọn" in member.last_text()
    member.press("Gửi công đoàn")
    member.press_data(send)  # a double tap
    assert "tin nhắn cũ" in member.last_text()
    (row,) = rows(eapp)
    assert row.person == "Cô <b>Lan</b> & tổ Mẫu giáo 🌸" and row.photo == PHOTO and row.consent
    assert row.text == STORY + "\nCảm ơn cô! 👏" and row.status == "submitted"


def test_a_photo_may_come_later_or_not_at_all(eapp, chats) -> None:  # type: ignore[no-untyped-def]
    member = chats("812")
    add_member(eapp, "Người Kể", "CDCS-MN-HM", "812")
    member.say("/guongtot")
    member.say("Anh Tuấn bảo vệ")
    member.press("Mầm non Hoa Mai")
    member.say("Anh Tuấn nhặt được ví tiền của phụ huynh và trả lại ngay trong buổi sáng.")
    member.say("chờ chút")  # words instead of a photo
    assert "gửi một ảnh" in member.last_text()
    member.send_photo(PHOTO)
    member.press("Chưa hỏi")
    member.press("Gửi công đoàn")
    (row,) = rows(eapp)
    assert row.photo == PHOTO and not row.consent


def test_the_officer_approves_edits_and_declines_each_once(eapp, officer, chats) -> None:  # type: ignore[no-untyped-def]
    teller = chats("821")
    add_member(eapp, "Người Kể", "CDCS-MN-HM", "821")
    tell(teller, "Cô Lan", STORY, consent=True, photo=True)
    tell(
        teller,
        "Bác Hùng",
        "Bác Hùng bảo vệ trường sửa lại hàng rào, không nhận tiền công.",
        consent=True,
    )
    tell(teller, "Tổ bếp", "Tổ bếp nấu thêm bữa sáng cho các cháu ở xa, cả năm học.", consent=False)

    officer.say("/duyet")
    assert "3 gương người tốt, việc tốt" in officer.last_text()
    assert any(isinstance(r, Photo) for r in officer.last_response.replies)  # type: ignore[union-attr]
    assert "Cô Lan" in officer.last_text() and "Người giới thiệu: Người Kể" in officer.last_text()
    approve = next(o.data for o in officer.last_choices().options if "Duyệt" in o.label)
    officer.press_data(approve)
    assert "Đã duyệt gương của Cô Lan" in officer.last_text() and "Bác Hùng" in officer.last_text()
    officer.press_data(approve)  # a double tap on "Duyệt"
    assert "tin nhắn cũ" in officer.last_text()

    officer.press("Sửa lời rồi duyệt")
    officer.say("Ngắn")
    assert "quá ngắn" in officer.last_text()
    officer.say("Bác Hùng tự sửa hàng rào trường trong ba ngày nghỉ, không nhận tiền công.")
    assert "Đã duyệt gương của Bác Hùng" in officer.last_text()

    assert "Tổ bếp" in officer.last_text() and "Chưa có đồng ý" in officer.last_text()
    officer.press("Không duyệt")
    officer.say("ok")
    assert "ít nhất 5 ký tự" in officer.last_text()
    officer.say("Việc này đã được biểu dương trong năm trước.")
    assert "Đã không duyệt" in "\n".join(officer.texts())
    assert "Đã xem hết" in officer.last_text()

    first, second, third = rows(eapp)
    assert (first.status, first.edited_text) == ("approved", None)
    assert second.status == "approved" and second.edited_text.startswith("Bác Hùng tự sửa")  # type: ignore[union-attr]
    assert (third.status, third.officer_note) == (
        "declined",
        "Việc này đã được biểu dương trong năm trước.",
    )
    inbox = teller.inbox()
    assert sum("đã được công đoàn duyệt" in m for m in inbox) == 2
    assert "Lý do: Việc này đã được biểu dương trong năm trước." in inbox[-1]
    with Session(eapp.db) as s:
        actions = [a.action for a in s.exec(select(AuditLog)).all()]
    assert sorted(actions) == ["example_approve", "example_approve", "example_decline"]


def test_nobody_reviews_their_own_and_another_subtree_never_sees_them(eapp, officer, chats) -> None:  # type: ignore[no-untyped-def]
    tell(
        officer, "Chính Tôi", "Tôi đã làm việc tốt này và muốn công đoàn biết đến nó.", consent=True
    )
    officer.say("/duyet")
    assert "Không có bản đăng ký" in officer.last_text()  # their own is not theirs to judge
    add_member(eapp, "Cán Bộ Khu Công Nghiệp", "CD-KCN", "831", group="can_bo_cong_doan")
    make_officer(eapp, "831", "CD-KCN")
    other = chats("831")
    other.say("/duyet")
    assert "Chính Tôi" not in other.last_text()
    branch = chats("832")  # the officer above the unit reviews it
    add_member(eapp, "Cán Bộ Ngành", "CD-NGANH-GD", "832", group="can_bo_cong_doan")
    make_officer(eapp, "832", "CD-NGANH-GD")
    branch.say("/duyet")
    assert "Chính Tôi" in branch.last_text()


def test_an_approved_example_goes_out_as_an_announcement(eapp, officer, chats) -> None:  # type: ignore[no-untyped-def]
    teller = chats("841")
    add_member(eapp, "Người Kể", "CDCS-MN-HM", "841")
    tell(teller, "Cô Lan", STORY, consent=True, photo=True)
    tell(teller, "Tổ bếp", "Tổ bếp nấu thêm bữa sáng cho các cháu ở xa, cả năm học.", consent=False)
    officer.say("/duyet")
    officer.press("Duyệt")
    officer.press("Duyệt")
    officer.say("/guongtot")
    officer.press("Gương đã duyệt")
    listing = officer.last_text()
    assert "Cô Lan" in listing and "Tổ bếp" in listing and "chưa có đồng ý nêu tên" in listing
    labels = [o.label for o in officer.last_choices().options]
    assert labels == ["📢 Gửi gương 2"]  # only the one whose person agreed (the latest first)
    officer.press("Gửi gương 2")
    officer.press("và các đơn vị trực thuộc")  # the unit's whole subtree
    preview = officer.last_response.replies  # type: ignore[union-attr]
    assert any(isinstance(r, Photo) and STORY in r.caption for r in preview)
    officer.press("Gửi ngay")
    with Session(eapp.db) as s:
        sent = s.exec(select(Broadcast)).one()
        logged = s.exec(select(AuditLog).where(AuditLog.action == "broadcast")).one()
    assert STORY in sent.text and "Cô Lan" in sent.text and sent.photo == PHOTO
    assert logged.detail["broadcast"] == sent.id


async def test_a_post_carries_three_and_none_without_consent(eapp, officer, chats) -> None:  # type: ignore[no-untyped-def]
    """Five approved in the tree, the latest of them without the person's consent: the 19/5 post
    carries the three latest of those who agreed, and never the one who did not."""
    teller = chats("851")
    add_member(eapp, "Người Kể", "CDCS-MN-HM", "851")
    told = [
        ("Cô Một", "Cô Một kèm miễn phí các cháu khó khăn mỗi tối thứ Bảy suốt năm học."),
        ("Bác Hai", "Bác Hai sửa lại hàng rào trường trong ngày nghỉ, không nhận tiền công."),
        ("Chị Ba", "Chị Ba vận động phụ huynh góp được hai trăm đầu sách cho thư viện."),
        ("Anh Tư", "Anh Tư hiến máu tình nguyện lần thứ mười hai, được tỉnh tặng bằng khen."),
    ]
    for person, story in told:
        tell(teller, person, story, consent=True)
    hidden = ("Cô Năm", "Cô Năm nhận nuôi hai cháu mồ côi trong trường từ ba năm nay.")
    tell(teller, *hidden, consent=False)  # told last: the latest approved
    officer.say("/duyet")
    for _ in range(5):
        officer.press("Duyệt")
    assert "Đã xem hết" in officer.last_text()
    assert [r.status for r in rows(eapp)] == ["approved"] * 5

    clock = Clock(NOW)
    sender = MemorySender()
    planner = Planner(eapp.db, eapp.content, eapp.settings, platforms={"memory"})

    async def no_wait(seconds: float) -> None:
        clock.now += timedelta(seconds=seconds)

    worker = DeliveryWorker(
        eapp.db, sender, texts=eapp.content.texts, rate_per_second=1000, clock=clock, sleep=no_wait
    )
    event = next(e for e in eapp.content.calendar.events if (e.day, e.month) == (19, 5))
    clock.now = event.occurrence(2026, eapp.settings.tz) + timedelta(minutes=5)
    planner.tick(clock.now)
    await worker.drain()

    (post,) = [t for t in sender.to("851") if "Ngày sinh Chủ tịch Hồ Chí Minh" in t]
    assert "Gương người tốt, việc tốt trong đơn vị" in post
    featured = [person for person, _ in told if person in post]
    assert featured == ["Bác Hai", "Chị Ba", "Anh Tư"]  # three, the latest who agreed
    assert post.count("• <b>") == 3
    assert hidden[0] not in post and hidden[1] not in post  # never without consent


def test_good_models_are_recorded_and_removed(eapp, officer, chats) -> None:  # type: ignore[no-untyped-def]
    officer.say("/guongtot")
    officer.press("Mô hình hay")
    assert "Chưa ghi mô hình nào" in officer.last_text()
    officer.press("Ghi một mô hình")
    officer.say("Ngắn")
    assert "quá ngắn" in officer.last_text()
    officer.say("Tủ sách “Bác Hồ với thiếu nhi”")
    officer.say("Mỗi lớp")  # too short for how it works
    assert "quá ngắn" in officer.last_text()
    officer.say("Mỗi lớp một góc sách, phụ huynh góp sách, giáo viên kể chuyện Bác hằng tuần.")
    officer.say("x" * 5000)
    assert "tối đa 1000" in officer.last_text()
    officer.say("120 đầu sách; 100% lớp có góc sách; trẻ thuộc 10 câu chuyện về Bác.")
    officer.press("Phát huy, nhân rộng")
    assert "Kiểm tra lại" in officer.last_text()
    officer.press("Lưu mô hình")
    assert "Phụ lục 6" in officer.last_text()
    officer.say("/guongtot")
    officer.press("Mô hình hay")
    officer.press("Ghi một mô hình")
    officer.say("Công đoàn với bữa ăn bán trú")
    officer.say("Công đoàn giám sát thực đơn, công khai tiền ăn hằng tháng với phụ huynh.")
    officer.say("Không còn phản ánh của phụ huynh về bữa ăn trong năm học.")
    officer.press("Mô hình mới")
    officer.say("Giấy khen của LĐLĐ tỉnh")
    officer.press("Lưu mô hình")
    assert "Phụ lục 5" in officer.last_text()
    with Session(eapp.db) as s:
        models = s.exec(select(GoodModel).order_by(GoodModel.id)).all()  # type: ignore[arg-type]
    assert [(m.replicated, m.recognition) for m in models] == [
        (True, None), (False, "Giấy khen của LĐLĐ tỉnh"),
    ]  # fmt: skip
    officer.say("/guongtot")
    officer.press("Mô hình hay")
    officer.press("Xóa 2")
    officer.say("xoa")  # a prefix never removes
    officer.press("🗑 Xóa")
    with Session(eapp.db) as s:
        assert len(s.exec(select(GoodModel)).all()) == 1
        assert s.exec(select(AuditLog).where(AuditLog.action == "model_delete")).one()


def record_model(officer: MemoryChat, name: str) -> None:
    """Record a new model the straight way, for the officer's own unit."""
    officer.say("/guongtot")
    officer.press("Mô hình hay")
    officer.press("Ghi một mô hình")
    if "Mô hình của đơn vị nào?" in officer.last_text():
        officer.press("✅ Chọn:")  # the officer's own unit, at the top of the walk
    officer.say(name)
    officer.say("Mỗi lớp một góc sách, phụ huynh góp sách, giáo viên kể chuyện Bác hằng tuần.")
    officer.say("120 đầu sách; 100% lớp có góc sách; trẻ thuộc 10 câu chuyện về Bác.")
    officer.press("Mô hình mới")
    officer.press("Chưa có, bỏ qua")
    officer.press("Lưu mô hình")
    assert "Đã lưu mô hình" in officer.last_text(), officer.last_text()


def test_another_subtree_never_records_lists_or_sees_them(eapp, officer, chats) -> None:  # type: ignore[no-untyped-def]
    """The officer of the industrial zones' union neither records a model for the kindergarten
    (by its code, a search or a walk up the tree), nor lists its models, nor sees its approved
    examples; the branch above the kindergarten sees them."""
    teller = chats("861")
    add_member(eapp, "Người Kể", "CDCS-MN-HM", "861")
    tell(teller, "Cô Lan", STORY, consent=True)
    officer.say("/duyet")
    officer.press("Duyệt")
    record_model(officer, "Tủ sách “Bác Hồ với thiếu nhi”")

    add_member(eapp, "Cán Bộ Khu Công Nghiệp", "CD-KCN", "862", group="can_bo_cong_doan")
    make_officer(eapp, "862", "CD-KCN")
    other = chats("862")
    other.say("/guongtot")
    other.press("Gương đã duyệt")
    assert "Chưa có gương tốt nào được duyệt trong các đơn vị của bạn" in other.last_text()
    assert "Cô Lan" not in other.last_text()

    other.say("/guongtot")
    other.press("Mô hình hay")
    assert "(0 mô hình)" in other.last_text() and "Tủ sách" not in other.last_text()
    other.press("Ghi một mô hình")
    outside = "⛔ CĐCS Trường Mầm non Hoa Mai nằm ngoài phạm vi bạn phụ trách"
    other.say("CDCS-MN-HM")  # the code, as an invitation gives it
    assert outside in other.last_text()
    other.say("Hoa Mai")  # a search finds it, choosing it is refused
    other.press("Mầm non Hoa Mai")
    assert outside in other.last_text()
    other.press("Quay lại")  # up to the province, then down the other branch
    other.press("Công đoàn ngành Giáo dục")
    other.press("Mầm non Hoa Mai")
    assert outside in other.last_text()
    assert "Tên mô hình" not in other.last_text()  # never asked for its details
    other.say("/huy")
    record_model(other, "Tổ công nhân tự quản nhà trọ")  # its own, in its own subtree

    officer.say("/guongtot")
    officer.press("Mô hình hay")
    listing = officer.last_text()
    assert "(1 mô hình)" in listing and "Tủ sách" in listing and "nhà trọ" not in listing
    officer.press("Xong")
    with Session(eapp.db) as s:
        models = s.exec(select(GoodModel).order_by(GoodModel.id)).all()  # type: ignore[arg-type]
    assert [m.name for m in models] == [
        "Tủ sách “Bác Hồ với thiếu nhi”",
        "Tổ công nhân tự quản nhà trọ",
    ]

    branch = chats("863")  # the branch above the kindergarten sees its records, not the zone's
    add_member(eapp, "Cán Bộ Ngành", "CD-NGANH-GD", "863", group="can_bo_cong_doan")
    make_officer(eapp, "863", "CD-NGANH-GD")
    branch.say("/guongtot")
    branch.press("Gương đã duyệt")
    assert "Cô Lan" in branch.last_text()
    branch.say("/guongtot")
    branch.press("Mô hình hay")
    assert "Tủ sách" in branch.last_text() and "nhà trọ" not in branch.last_text()


def test_examples_are_in_the_export_and_leave_with_the_member(eapp, officer, chats) -> None:  # type: ignore[no-untyped-def]
    teller = chats("851")
    mid = add_member(eapp, "Người Kể", "CDCS-MN-HM", "851")
    tell(teller, "Cô Lan", STORY, consent=True, photo=True)
    tell(
        teller,
        "Bác Hùng",
        "Bác Hùng bảo vệ trường sửa lại hàng rào, không nhận tiền công.",
        consent=True,
    )
    officer.say("/duyet")
    officer.press("Duyệt")  # Cô Lan approved; Bác Hùng still waits
    officer.press("Dừng")
    teller.say("/toi")
    teller.press("Tải dữ liệu")
    docs = [r for r in teller.last_response.replies if isinstance(r, Document)]  # type: ignore[union-attr]
    data = json.loads(docs[1].data)
    assert [e["person"] for e in data["good_examples"]] == ["Cô Lan", "Bác Hùng"]
    assert (
        data["good_examples"][0]["photo"] is True
        and data["good_examples"][0]["reviewer"] == "officer"
    )
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(docs[0].data)).paragraphs)
    assert "Gương người tốt, việc tốt bạn đã giới thiệu" in text and "Cô Lan" in text
    teller.say("/toi")
    teller.press("Rút lại đồng ý")
    teller.press("Xóa vĩnh viễn")
    (kept,) = rows(eapp)  # the one still waiting went; the approved one stays, unlinked
    assert kept.person == "Cô Lan" and kept.submitted_by is None
    with Session(eapp.db) as s:
        assert s.get(Member, mid).deleted_at is not None  # type: ignore[union-attr]
