"""Pledges: the form per member group, validation, drafts, submission on time and late, review by
officers in scope, who has not submitted, the DOCX, and the year-end self-assessment."""

from __future__ import annotations

import dataclasses
import io
import random
from datetime import UTC, datetime

import docx
import pytest
from sqlmodel import Session, select

from bot.app import build_app, load_demo_units
from bot.channels.console import ConsoleChannel
from bot.channels.memory import MemoryChat
from bot.messages import Choices, Document
from bot.models import AuditLog, Member, Pledge, RoleGrant, Unit
from bot.services import pledges
from tests.helpers import Clock, register

BEFORE = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 09:00 on 02/03/2026 in Vietnam
TOPIC = "dan-chu-phap-che-2024"  # the demo campaign's yearly topic


@pytest.fixture
def clock() -> Clock:
    return Clock(BEFORE)


@pytest.fixture
def papp(settings, clock, content):  # type: ignore[no-untyped-def]
    admins = {"console": {"local"}}  # as `congdoan chat` makes the terminal user an admin
    built = build_app(
        settings, clock=clock, rng=random.Random(3), content=content, extra_admins=admins
    )
    load_demo_units(built)
    yield built
    built.db.dispose()


@pytest.fixture
def people(papp):  # type: ignore[no-untyped-def]
    """Chats on one engine that share a postbox, so notifications can be read."""
    postbox: dict = {}  # type: ignore[type-arg]

    def make(user_id: str) -> MemoryChat:
        return MemoryChat(papp.engine, user_id, postbox=postbox)

    return make


def tick(chat: MemoryChat, n: int) -> None:
    """Press the numbered button n of the latest list."""
    for option in chat.last_choices().options:
        if option.label == str(n):
            chat.press_data(option.data)
            return
    raise AssertionError(f"no button {n}: {[o.label for o in chat.last_choices().options]}")


def write_pledge(chat: MemoryChat) -> list[str]:
    """Start the form and tick the first suggestion of each section; returns the section titles."""
    chat.say("/dangky")
    chat.press("Bắt đầu viết")
    titles = []
    while "Phần " in chat.last_text() and "Xong" in str(chat.last_choices().options):
        titles.append(chat.last_text().split("\n")[0])
        tick(chat, 1)
        chat.press("Xong")
    assert "Thời gian thực hiện" in chat.last_text()
    chat.press("Cả năm 2026")
    assert "Bạn muốn nộp" in chat.last_text()
    return titles


def submit(chat: MemoryChat) -> Document:
    chat.press("Nộp")
    assert "Đã nộp" in chat.last_text(), chat.last_text()
    found = [r for r in chat.last_response.replies if isinstance(r, Document)]  # type: ignore[union-attr]
    assert len(found) == 1
    return found[0]


def docx_text(document: Document) -> str:
    opened = docx.Document(io.BytesIO(document.data))
    parts = [p.text for p in opened.paragraphs]
    for table in opened.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def make_officer(app, user_id: str, unit_code: str) -> None:  # type: ignore[no-untyped-def]
    """Give the registered user of this chat the officer role over a unit's subtree."""
    with Session(app.db) as s:
        from bot.models import Identity

        identity = s.exec(select(Identity).where(Identity.platform_user_id == user_id)).one()
        unit = s.exec(select(Unit).where(Unit.code == unit_code)).one()
        s.add(
            RoleGrant(member_id=identity.member_id, role="officer", unit_id=unit.id, granted_by="t")
        )
        s.commit()


def pledge_of(app, name: str) -> Pledge:  # type: ignore[no-untyped-def]
    with Session(app.db) as s:
        member = s.exec(select(Member).where(Member.full_name == name)).one()
        return s.exec(select(Pledge).where(Pledge.member_id == member.id)).one()


# --- the form -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "group_id", "parts"),
    [
        ("Cán bộ công đoàn", "can_bo_cong_doan", 4),
        ("Công chức", "cong_chuc", 4),
        ("Viên chức", "vien_chuc", 3),
        ("Công nhân lao động", "cong_nhan_lao_dong", 3),
    ],
)
def test_form_follows_the_member_group(papp, people, group, group_id, parts) -> None:  # type: ignore[no-untyped-def]
    me = people("1")
    register(me, name="Trần Thị Hoa", unit="Mầm non Hoa Mai", group=group)
    book = papp.content.catalog.pledges
    me.say("/dangky")
    assert "chưa viết" in me.last_text() and "còn 38 ngày" in me.last_text()
    me.press("Bắt đầu viết")
    seen = []
    while "Xong" in str(me.last_choices().options):
        text = me.last_text()
        seen.append(text)
        tick(me, 1)
        me.press("Xong")
    assert len(seen) == parts
    assert all(f"/{parts}." in s.split("\n")[0] for s in seen)
    follow = book.for_section("follow", group=group_id, topic=TOPIC)
    assert follow[0].text in seen[1]  # the "làm theo" suggestions are this group's
    assert ("Nêu gương" in seen[2]) is (parts == 4)
    me.press("Cả năm 2026")
    document = submit(me)
    assert "đúng hạn" in me.last_text()
    text = docx_text(document)
    assert "Trần Thị Hoa" in text and "Hoa Mai" in text and "NĂM 2026" in text
    assert follow[0].text in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text


def test_own_items_are_checked_and_kept_verbatim(papp, people) -> None:  # type: ignore[no-untyped-def]
    me = people("1")
    register(me)
    me.say("/dangky")
    me.press("Bắt đầu viết")
    me.press("Xong")
    assert "cần ít nhất một nội dung" in me.last_text()
    me.say("   ")
    assert "chưa có nội dung" in me.last_text()
    me.say("99")
    assert "Không có lựa chọn số 99" in me.last_text()
    assert "Xong" in " ".join(o.label for o in me.last_choices().options)  # the list, again
    me.say("x" * 5000)
    assert "tối đa 500" in me.last_text()
    me.say("ok")
    assert "quá ngắn" in me.last_text()
    me.say("Học tập chăm chỉ 💪👍")  # printed on a signed document: words, not pictographs
    assert "biểu tượng cảm xúc" in me.last_text()
    hostile = "Học <b>Di chúc</b> & “Sửa đổi lối làm việc”; DROP TABLE pledge; --"
    me.say(hostile)
    assert "Đã thêm" in me.last_text() and hostile in me.last_text()
    me.say(hostile.upper())
    assert "đã có" in me.last_text()
    with Session(papp.db) as s:
        draft = s.exec(select(Pledge)).one().draft
    assert draft["study"] == [{"text": hostile, "s": None}]
    # the own item has the number after "Xong"; choosing it asks first, then removes it
    own = me.last_choices().options[-1]
    me.press_data(own.data)
    assert "Bỏ nội dung" in me.last_text()
    me.press("Giữ lại")
    assert "Đã chọn 1" in me.last_text()
    me.press_data(me.last_choices().options[-1].data)
    me.press("Bỏ nội dung này")
    assert "Đã xóa" in me.last_text() and "Đã chọn 0" in me.last_text()


def test_edit_a_section_from_the_review(papp, people) -> None:  # type: ignore[no-untyped-def]
    me = people("1")
    register(me)
    write_pledge(me)
    me.press("Sửa phần 2")
    tick(me, 1)  # untick the first suggestion
    tick(me, 2)
    me.say("Hướng dẫn đồng nghiệp mới làm quen công việc trong tháng đầu.")
    me.press("xem lại toàn bộ")
    review = "\n".join(me.texts())
    second = papp.content.catalog.pledges.for_section("follow", group="vien_chuc", topic=TOPIC)
    assert second[1].text in review and second[0].text not in review
    assert "Hướng dẫn đồng nghiệp mới" in review
    assert "Bạn muốn nộp" in review


def test_draft_survives_cancel_and_restart(papp, people, settings, content, clock) -> None:  # type: ignore[no-untyped-def]
    me = people("1")
    register(me)
    me.say("/dangky")
    me.press("Bắt đầu viết")
    tick(me, 2)
    me.say("Đọc lại Di chúc của Chủ tịch Hồ Chí Minh mỗi quý.")
    me.say("/huy")
    me.say("/dangky")
    assert "đang viết" in me.last_text()
    again = build_app(settings, clock=clock, content=content)  # a restart: new process, same DB
    back = MemoryChat(again.engine, "1")
    back.say("/dangky")
    back.press("Viết tiếp")
    text = back.last_text()
    assert "Phần 1/3" in text and "Đọc lại Di chúc" in text and "✅ 2." in text
    again.db.dispose()


def test_cannot_submit_with_an_empty_section(papp, people) -> None:  # type: ignore[no-untyped-def]
    me = people("1")
    register(me)
    write_pledge(me)
    me.press("Sửa phần 1")
    tick(me, 1)  # untick the only item
    me.press("xem lại toàn bộ")
    assert "cần ít nhất một nội dung" in me.last_text()


# --- deadline ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "timing"),
    [
        (datetime(2026, 4, 9, 16, 59, 59, tzinfo=UTC), "đúng hạn"),  # 09/04 23:59:59 in Vietnam
        (datetime(2026, 4, 9, 17, 0, 0, tzinfo=UTC), "nộp muộn"),  # 10/04 00:00:00 in Vietnam
    ],
)
def test_late_at_the_exact_local_boundary(papp, people, clock, now, timing) -> None:  # type: ignore[no-untyped-def]
    me = people("1")
    register(me)
    write_pledge(me)
    clock.now = now
    submit(me)
    assert timing in me.last_text()
    assert pledge_of(papp, "Nguyễn Văn An").late is (timing == "nộp muộn")


def test_resubmit_before_the_deadline_then_locked_after(papp, people, clock) -> None:  # type: ignore[no-untyped-def]
    me = people("1")
    register(me)
    write_pledge(me)
    submit(me)
    me.say("/dangky")
    assert "đã nộp" in me.last_text()
    me.press("Sửa và nộp lại")
    me.press("Sửa phần 3")
    me.say("Tự kiểm tra việc thực hiện vào cuối mỗi quý.")
    me.press("xem lại toàn bộ")
    me.press("Nộp lại")
    assert "Đã nộp lại" in me.last_text() and "đúng hạn" in me.last_text()
    pledge = pledge_of(papp, "Nguyễn Văn An")
    assert pledge.revision == 2 and not pledge.late
    assert "Tự kiểm tra" in str(pledge.content)
    clock.now = datetime(2026, 4, 12, 3, 0, tzinfo=UTC)
    me.say("/dangky")
    labels = [o.label for o in me.last_choices().options]
    assert "không sửa được nữa" in me.last_text()
    assert not any("Sửa" in label for label in labels)


def test_late_submission_when_the_campaign_allows_none(settings, content, clock) -> None:  # type: ignore[no-untyped-def]
    catalog = content.catalog
    strict = [
        c.model_copy(update={"pledge": c.pledge.model_copy(update={"late_allowed": False})})
        if c.pledge
        else c
        for c in catalog.campaigns
    ]
    closed = dataclasses.replace(content, catalog=dataclasses.replace(catalog, campaigns=strict))
    app = build_app(settings, clock=clock, content=closed)
    load_demo_units(app)
    me = MemoryChat(app.engine, "1")
    register(me)
    clock.now = datetime(2026, 4, 20, 3, 0, tzinfo=UTC)
    me.say("/dangky")
    assert "không nhận bản nộp muộn" in me.last_text()
    app.db.dispose()


def test_double_tap_on_submit_submits_once(papp, people) -> None:  # type: ignore[no-untyped-def]
    me = people("1")
    register(me)
    write_pledge(me)
    button = next(o for o in me.last_choices().options if "Nộp" in o.label)
    me.press_data(button.data)
    me.press_data(button.data)
    assert "cũ hoặc đã được bấm" in me.last_text()
    assert pledge_of(papp, "Nguyễn Văn An").revision == 1


# --- officers ------------------------------------------------------------------------------------


def test_return_then_approve_the_resubmission(papp, people) -> None:  # type: ignore[no-untyped-def]
    member = people("1")
    register(member, name="Lê Thị Mai", unit="Mầm non Hoa Mai")
    officer = people("2")
    register(officer, name="Phạm Văn Tâm", unit="Mầm non Hoa Mai", group="Cán bộ công đoàn")
    make_officer(papp, "2", "CDCS-MN-HM")
    write_pledge(member)
    submit(member)

    officer.say("/duyet")
    text = "\n".join(officer.texts())
    assert "1</b> bản đăng ký" in officer.replies[-3].text  # type: ignore[union-attr]
    assert "Lê Thị Mai" in text and "đúng hạn" in text and "lần nộp thứ 1" in text
    officer.press("Trả lại")
    officer.say("ok")
    assert "ít nhất 5 ký tự" in officer.last_text()
    officer.say("Phần làm theo cần cụ thể hơn <i>việc gì</i>, khi nào.")
    assert "Đã trả lại bản đăng ký cho Lê Thị Mai" in officer.last_text()
    assert "Không có bản" in officer.last_text() or "xem hết" in officer.last_text()
    assert "được trả lại để sửa" in member.inbox()[-1]
    assert "cụ thể hơn <i>việc gì</i>" in member.inbox()[-1]  # shown as typed, not as markup

    member.say("/dangky")
    assert "được trả lại" in member.last_text() and "cụ thể hơn" in member.last_text()
    member.press("Sửa và nộp lại")
    member.press("Sửa phần 2")
    member.say("Mỗi tháng soạn một giáo án mới theo phương pháp tích cực.")
    member.press("xem lại toàn bộ")
    member.press("Nộp lại")
    assert "Đã nộp lại" in member.last_text()

    officer.say("/duyet")
    assert "lần nộp thứ 2" in "\n".join(officer.texts())
    officer.press("Duyệt")
    assert "Đã duyệt bản đăng ký của Lê Thị Mai" in officer.last_text()
    assert "đã được duyệt" in member.inbox()[-1]
    member.say("/dangky")
    assert "đã được duyệt" in member.last_text()
    member.say("/toi")
    assert "Bản đăng ký học tập và làm theo năm 2026" in member.last_text()
    assert "đã được duyệt" in member.last_text()
    officer.say("/toi")
    assert "Chưa nộp. Gõ /dangky để viết (hạn cuối 09/04/2026)" in officer.last_text()
    with Session(papp.db) as s:
        actions = [a.action for a in s.exec(select(AuditLog).order_by(AuditLog.id)).all()]
    assert actions == ["pledge_return", "pledge_approve"]


def test_officer_sees_only_their_subtree_and_not_their_own(papp, people) -> None:  # type: ignore[no-untyped-def]
    inside = people("1")
    register(inside, name="Đỗ Văn Bình", unit="May Phú Thịnh", group="Công nhân lao động")
    outside = people("3")
    register(outside, name="Vũ Thị Lan", unit="Mầm non Hoa Mai")
    officer = people("2")
    register(officer, name="Hà Văn Hải", unit="May Phú Thịnh", group="Cán bộ công đoàn")
    make_officer(papp, "2", "CDCS-CTY-MAY")
    for chat in (inside, outside, officer):
        write_pledge(chat)
        submit(chat)
    officer.say("/duyet")
    shown = "\n".join(officer.texts())
    assert "Đỗ Văn Bình" in shown and "Vũ Thị Lan" not in shown and "Hà Văn Hải" not in shown
    officer.press("Duyệt")
    assert "xem hết" in officer.last_text()
    assert pledge_of(papp, "Vũ Thị Lan").status == "submitted"
    assert pledge_of(papp, "Hà Văn Hải").status == "submitted"
    officer.say("/chuanop")
    assert "Vũ Thị Lan" not in "\n".join(officer.texts())
    inside.say("/duyet")
    assert "chỉ dành cho cán bộ" in inside.last_text()
    inside.say("/chuanop")
    assert "chỉ dành cho cán bộ" in inside.last_text()


def test_skip_one_and_come_back_to_it(papp, people) -> None:  # type: ignore[no-untyped-def]
    first, second = people("1"), people("3")
    register(first, name="Lê Thị Mai")
    register(second, name="Trần Văn Nam")
    officer = people("2")
    register(officer, name="Phạm Văn Tâm", group="Cán bộ công đoàn")
    make_officer(papp, "2", "CDCS-MN-HM")
    for chat in (first, second):
        write_pledge(chat)
        submit(chat)
    officer.say("/duyet")
    assert "Lê Thị Mai" in "\n".join(officer.texts())  # the oldest first
    officer.press("Để sau")
    assert "Trần Văn Nam" in "\n".join(officer.texts())
    officer.press("Duyệt")
    assert "Còn 1 bản bạn để sau" in officer.last_text()
    officer.say("/duyet")
    assert "<b>1</b> bản đăng ký" in officer.replies[-3].text  # type: ignore[union-attr]
    assert "Lê Thị Mai" in "\n".join(officer.texts())


def test_two_officers_cannot_both_decide(papp, people) -> None:  # type: ignore[no-untyped-def]
    member = people("1")
    register(member, name="Lê Thị Mai")
    first, second = people("2"), people("3")
    register(first, name="Phạm Văn Tâm", group="Cán bộ công đoàn")
    register(second, name="Ngô Văn Lực", group="Cán bộ công đoàn")
    make_officer(papp, "2", "CDCS-MN-HM")
    make_officer(papp, "3", "CD-NGANH-GD")
    write_pledge(member)
    submit(member)
    first.say("/duyet")
    second.say("/duyet")
    first.press("Duyệt")
    second.press("Trả lại")
    second.say("Bản này cần sửa lại phần biện pháp.")
    assert "vừa thay đổi" in "\n".join(second.texts())
    assert pledge_of(papp, "Lê Thị Mai").status == "approved"


def test_who_has_not_submitted(papp, people) -> None:  # type: ignore[no-untyped-def]
    names = ["Lê Thị Mai", "Trần Văn Nam", "Hoàng Thị Yến"]
    chats = []
    for k, name in enumerate(names):
        chat = people(str(10 + k))
        register(chat, name=name, unit="Mầm non Hoa Mai")
        chats.append(chat)
    elsewhere = people("20")
    register(elsewhere, name="Bùi Văn Khoa", unit="Nguyễn Trãi")
    officer = people("2")
    register(officer, name="Phạm Văn Tâm", unit="Mầm non Hoa Mai", group="Cán bộ công đoàn")
    make_officer(papp, "2", "CDCS-MN-HM")
    write_pledge(chats[0])
    submit(chats[0])
    officer.say("/chuanop")
    text = officer.last_text()
    assert "Đã nộp 1/4" in text and "chưa nộp 3" in text and "còn 38 ngày" in text
    assert "Trần Văn Nam" in text and "Hoàng Thị Yến" in text and "Phạm Văn Tâm" in text
    assert "Lê Thị Mai" not in text and "Bùi Văn Khoa" not in text
    with Session(papp.db) as s:
        unit = s.exec(select(Unit).where(Unit.code == "CD-NGANH-GD")).one()
        ids = pledges.not_submitted(s, campaign_id="demo-2026", paths=[unit.path])
        gone = s.exec(select(Member).where(Member.full_name == "Trần Văn Nam")).one()
        gone.deleted_at = BEFORE
        s.add(gone)
        s.commit()
        after = pledges.not_submitted(s, campaign_id="demo-2026", paths=[unit.path])
    assert len(ids) == 4 and len(after) == 3  # 3 in Hoa Mai + 1 in Nguyễn Trãi; then one deleted


# --- self-assessment -----------------------------------------------------------------------------


def test_self_assessment_and_its_confirmation(papp, people, clock) -> None:  # type: ignore[no-untyped-def]
    member = people("1")
    register(member, name="Lê Thị Mai", group="Công chức")
    officer = people("2")
    register(officer, name="Phạm Văn Tâm", group="Cán bộ công đoàn")
    make_officer(papp, "2", "CDCS-MN-HM")
    write_pledge(member)
    submit(member)
    officer.say("/duyet")
    officer.press("Duyệt")
    member.say("/dangky")
    assert "Tự đánh giá" not in str(member.last_choices().options)  # not open yet in March
    clock.now = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
    member.say("/dangky")
    member.press("Tự đánh giá")
    pledge = pledge_of(papp, "Lê Thị Mai")
    commitments = pledges.commitments(pledge.content)
    assert len(commitments) == 2  # one "làm theo" and one "nêu gương" were ticked
    assert commitments[0] in member.last_text() and "1/2" in member.last_text()
    member.press("Đã thực hiện")
    member.say("Đã tổ chức 4 buổi sinh hoạt chuyên đề.")
    member.press("Chưa thực hiện")
    member.press("Bỏ qua")
    summary = "\n".join(member.texts())
    expected = papp.content.catalog.pledges.rating.rate(["done", "not_done"])
    assert f"Tự xếp loại đề xuất: {expected.label}" in summary
    member.press("Gửi tự đánh giá")
    assert "Đã gửi bản tự đánh giá" in member.last_text()
    sent = member.last_response.replies[-1]  # type: ignore[union-attr]
    assert isinstance(sent, Document) and sent.filename.startswith("tu-danh-gia-2026-")
    text = docx_text(sent)
    assert "BẢN TỰ ĐÁNH GIÁ" in text and "Đã tổ chức 4 buổi" in text and expected.label in text
    assert "Công đoàn cơ sở xác nhận xếp loại: ....." in text  # not confirmed yet

    officer.say("/duyet")
    card = "\n".join(officer.texts())
    assert "0</b> bản đăng ký, <b>1</b> bản tự đánh giá" in officer.replies[-3].text  # type: ignore[union-attr]
    assert "Đã tổ chức 4 buổi" in card and expected.label in card
    officer.press("Xác nhận")
    assert "đã được xác nhận" in member.inbox()[-1] and expected.label in member.inbox()[-1]
    box = member.postbox[("memory", "1")]
    confirmed = box[-1]  # the confirmed copy follows the notice
    assert isinstance(confirmed, Document)
    assert f"Công đoàn cơ sở xác nhận xếp loại: {expected.label}" in docx_text(confirmed)
    member.say("/dangky")
    assert f"Tự đánh giá đã được xác nhận: {expected.label}" in member.last_text()
    member.press("Tải bản Word")
    document = member.last_response.replies[-1]  # type: ignore[union-attr]
    assert isinstance(document, Document)
    assert "TỰ ĐÁNH GIÁ" not in docx_text(document)  # the pledge alone: the assessment is apart
    member.say("/dangky")
    member.press("Tải bản tự đánh giá")
    again = member.last_response.replies[-1]  # type: ignore[union-attr]
    assert isinstance(again, Document) and "Đã tổ chức 4 buổi" in docx_text(again)


def test_officer_confirms_another_rating_with_a_reason(papp, people, clock) -> None:  # type: ignore[no-untyped-def]
    member = people("1")
    register(member, name="Lê Thị Mai", group="Công chức")
    officer = people("2")
    register(officer, name="Phạm Văn Tâm", group="Cán bộ công đoàn")
    make_officer(papp, "2", "CDCS-MN-HM")
    write_pledge(member)
    submit(member)
    officer.say("/duyet")
    officer.press("Duyệt")
    clock.now = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
    member.say("/dangky")
    member.press("Tự đánh giá")
    member.press("Đã thực hiện")
    member.press("Bỏ qua")
    member.press("Đã thực hiện")
    member.press("Bỏ qua")
    member.press("Gửi tự đánh giá")
    levels = papp.content.catalog.pledges.rating.levels
    proposed = papp.content.catalog.pledges.rating.rate(["done", "done"])
    other = next(level for level in levels if level.id != proposed.id)

    officer.say("/duyet")
    officer.press("Đổi xếp loại")
    assert proposed.label in officer.last_text()
    officer.say("99")  # a number not in the list
    assert "Không có lựa chọn số 99" in officer.last_text()
    assert other.label in [o.label for o in officer.last_choices().options]  # offered again
    officer.press(other.label)
    assert "lý do" in officer.last_text().lower()
    officer.say("ok")  # too short
    assert "ít nhất 5 ký tự" in officer.last_text()
    officer.press("Thôi, quay lại")  # back to the levels, then the same choice again
    officer.press(other.label)
    officer.say("Chưa có minh chứng cho việc đã thực hiện")
    assert "Đã xác nhận bản tự đánh giá" in "\n".join(officer.texts())
    with Session(papp.db) as s:
        pledge = s.exec(select(Pledge)).all()
        row = next(p for p in pledge if p.assessment_status == "confirmed")
        assert (row.rating, row.rating_confirmed) == (proposed.id, other.id)
        assert row.rating_reason == "Chưa có minh chứng cho việc đã thực hiện"
        logged = s.exec(select(AuditLog).where(AuditLog.action == "assessment_rating")).one()
    assert logged.detail["proposed"] == proposed.id and logged.detail["rating"] == other.id
    assert "minh chứng" not in str(logged.detail)  # the trail holds ids, never texts
    assert other.label in member.inbox()[-1]
    copy = member.postbox[("memory", "1")][-1]
    assert isinstance(copy, Document)
    text = docx_text(copy)
    assert f"Công đoàn cơ sở xác nhận xếp loại: {other.label}" in text
    assert "Lý do điều chỉnh xếp loại: Chưa có minh chứng cho việc đã thực hiện" in text
    assert f"Tự xếp loại (đề xuất): {proposed.label}" in text


def test_assessment_resumes_where_it_stopped(papp, people, clock) -> None:  # type: ignore[no-untyped-def]
    member = people("1")
    register(member, group="Cán bộ công đoàn")
    write_pledge(member)
    submit(member)
    clock.now = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
    member.say("/dangky")
    member.press("Tự đánh giá")
    member.press("Thực hiện một phần")
    member.press("Bỏ qua")
    member.say("/huy")
    member.say("/dangky")
    member.press("Tự đánh giá")
    assert "2/2" in member.last_text()
    assert isinstance(member.replies[-1], Choices)


def test_the_whole_story_in_the_terminal(papp, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`congdoan chat --user an` writes and submits; the default (admin) user returns it; after
    the fix, the admin approves. Typed numbers and words only, as on the terminal."""
    member_out, admin_out = io.StringIO(), io.StringIO()
    member = ConsoleChannel(papp.engine, files_dir=tmp_path, out=member_out, user_id="an")
    admin = ConsoleChannel(papp.engine, files_dir=tmp_path, out=admin_out)
    for line in ("/start CDCS-CTY-MAY", "Đinh Văn An", "cong nhan", "khong", "toi dong y"):
        member.handle_line(line)
    assert "Khai báo thông tin thành công" in member_out.getvalue()
    member.handle_line("/dangky")
    member.handle_line("bat dau")
    for _ in range(3):
        member.handle_line("1")
        member.handle_line("xong")  # the first word of "Xong, sang phần sau"
    member.handle_line("1")  # Cả năm 2026
    member.handle_line("nop")
    assert "Đã nộp bản đăng ký" in member_out.getvalue()
    saved = list(tmp_path.glob("ban-dang-ky-2026-*.docx"))
    assert len(saved) == 1 and "Đinh Văn An" in docx_text(Document(saved[0].read_bytes(), "x"))

    admin.handle_line("/duyet")
    assert "Đinh Văn An" in admin_out.getvalue()
    admin.handle_line("2")  # Trả lại
    admin.handle_line("Ghi rõ mỗi tháng làm gì để thực hiện.")
    assert "[Tin nhắn gửi tới một thành viên khác]" in admin_out.getvalue()
    assert "Ghi rõ mỗi tháng" in admin_out.getvalue()

    member.handle_line("/dangky")
    assert "được trả lại để sửa" in member_out.getvalue()
    member.handle_line("1")  # Sửa và nộp lại
    member.handle_line("sua phan 3")
    member.handle_line("Mỗi tháng tự kiểm tra và ghi sổ kết quả.")
    member.handle_line("xong")
    member.handle_line("nop lai")
    assert "Đã nộp lại" in member_out.getvalue()
    admin.handle_line("/duyet")
    admin.handle_line("1")  # Duyệt
    assert "Đã duyệt bản đăng ký của Đinh Văn An" in admin_out.getvalue()
    assert pledge_of(papp, "Đinh Văn An").status == "approved"
