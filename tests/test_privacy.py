"""A member's rights over their data in /toi: export everything as DOCX and JSON; withdraw consent
and have the personal data erased, the unit's counts staying right (anonymous rows)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from bot.app import build_app, load_demo_units
from bot.channels.memory import MemoryChat
from bot.messages import Document
from bot.models import (
    AuditLog,
    Broadcast,
    ConversationState,
    GroupLink,
    Identity,
    Member,
    OutboxMessage,
    Pledge,
    QuizAttempt,
    RoleGrant,
    Unit,
)
from bot.services import pledges
from tests.helpers import Clock, register
from tests.test_pledge import docx_text, make_officer, submit, tick, write_pledge

BEFORE = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 09:00 on 02/03/2026 in Vietnam
HOSTILE = "Đọc “Sửa đổi lối làm việc” & <b>ghi chép</b> mỗi tuần; DROP TABLE member; --"


@pytest.fixture
def papp(settings, content):  # type: ignore[no-untyped-def]
    built = build_app(settings, clock=Clock(BEFORE), rng=random.Random(3), content=content)
    load_demo_units(built)
    yield built
    built.db.dispose()


@pytest.fixture
def people(papp):  # type: ignore[no-untyped-def]
    postbox: dict = {}  # type: ignore[type-arg]

    def make(user_id: str) -> MemoryChat:
        return MemoryChat(papp.engine, user_id, postbox=postbox)

    return make


def member_named(app, name: str) -> Member:  # type: ignore[no-untyped-def]
    with Session(app.db) as s:
        return s.exec(select(Member).where(Member.full_name == name)).one()


def write_with_own_item(chat: MemoryChat, own: str) -> None:
    """The form, with one item of the member's own in the first section; then submit."""
    chat.say("/dangky")
    chat.press("Bắt đầu viết")
    chat.say(own)
    while "Phần " in chat.last_text() and "Xong" in str(chat.last_choices().options):
        tick(chat, 1)
        chat.press("Xong")
    chat.press("Cả năm 2026")
    submit(chat)


def add_quiz_attempt(app, member_id: int) -> None:  # type: ignore[no-untyped-def]
    with Session(app.db) as s:
        s.add(
            QuizAttempt(
                member_id=member_id,
                campaign_id="demo-2026",
                topic_id="bay-dam-2024",
                score=7,
                total=10,
                started_at=BEFORE - timedelta(seconds=185),
                finished_at=BEFORE,
                elapsed_seconds=185,
            )
        )
        s.commit()


def documents(chat: MemoryChat) -> dict[str, Document]:
    replies = chat.last_response.replies  # type: ignore[union-attr]
    return {r.filename.rsplit(".", 1)[1]: r for r in replies if isinstance(r, Document)}


def erase(chat: MemoryChat) -> None:
    chat.say("/toi")
    chat.press("Rút lại đồng ý")
    chat.press("Xóa vĩnh viễn")
    assert "Đã rút lại sự đồng ý" in chat.last_text(), chat.last_text()


# --- export -------------------------------------------------------------------------------------


def test_export_sends_everything_as_docx_and_json(papp, people) -> None:  # type: ignore[no-untyped-def]
    me = people("1")
    register(me, name="Nguyễn Văn An", unit="Mầm non Hoa Mai")
    write_with_own_item(me, HOSTILE)
    member = member_named(papp, "Nguyễn Văn An")
    add_quiz_attempt(papp, member.id)
    me.say("/toi")
    me.press("Tải dữ liệu của tôi")
    assert "toàn bộ những gì Trợ lý đang lưu về bạn" in me.last_text()
    found = documents(me)
    assert set(found) == {"docx", "json"}

    text = docx_text(found["docx"])
    assert "Nguyễn Văn An" in text and "Mầm non Hoa Mai" in text
    assert HOSTILE in text  # the member's own words, exactly as typed (no HTML escaping)
    commitment = pledges.commitments(member_pledge(papp, member.id).content)[0]
    assert commitment in text
    assert "7/10" in text and "3 phút 05 giây" in text  # the quiz: score and time
    assert "Telegram" not in text and "mã người dùng 1" in text  # the identity
    assert "2026.2" in text  # the consent version

    data = json.loads(found["json"].data)
    assert data["member"]["full_name"] == "Nguyễn Văn An"
    assert [(i["platform"], i["platform_user_id"]) for i in data["identities"]] == [("memory", "1")]
    assert data["quiz_attempts"][0]["score"] == 7
    assert data["pledges"][0]["status"] == "submitted"
    assert HOSTILE in json.dumps(data["pledges"][0]["content"], ensure_ascii=False)

    with Session(papp.db) as s:
        row = s.exec(select(AuditLog).where(AuditLog.action == "data_export")).one()
    assert row.actor == "memory:1" and row.detail == {"member": member.id}  # ids only

    me.press("Tắt bài đăng")  # the /toi buttons still work after the export
    assert "Đã lưu" in me.last_text()


def member_pledge(app, member_id: int) -> Pledge:  # type: ignore[no-untyped-def]
    with Session(app.db) as s:
        return s.exec(select(Pledge).where(Pledge.member_id == member_id)).one()


def test_export_of_a_member_with_nothing_yet(papp, people) -> None:  # type: ignore[no-untyped-def]
    me = people("1")
    register(me, name="Trần Thị Hoa")
    me.say("/toi")
    me.press("Tải dữ liệu")
    text = docx_text(documents(me)["docx"])
    assert "Trần Thị Hoa" in text and "(Không có)" in text
    assert json.loads(documents(me)["json"].data)["pledges"] == []


# --- withdraw consent and erase -----------------------------------------------------------------


def test_erase_asks_clearly_and_no_keeps_everything(papp, people) -> None:  # type: ignore[no-untyped-def]
    me = people("1")
    register(me, name="Lê Thị Mai")
    me.say("/toi")
    me.press("Rút lại đồng ý và xóa dữ liệu")
    text = me.last_text()
    assert "Bị xóa vĩnh viễn" in text and "họ và tên" in text and "nội dung bản đăng ký" in text
    assert "Giữ lại ở dạng ẩn danh" in text and "đơn vị, nhóm đối tượng" in text
    assert "Vì sao" in text and "không thể hoàn tác" in text
    for typed in ("có", "x" * 5000, "<b>ok</b>", "🙂"):
        me.say(typed)
        assert "Xin chọn một trong hai nút" in me.last_text()
        assert "Bị xóa vĩnh viễn" in me.last_text()  # asked again
    for typed in ("xóa", "xoa"):  # the first word of "Xóa vĩnh viễn" does not erase anything
        me.say(typed)
        assert "Xin chọn một trong hai nút" in me.last_text()
    me.press("Không, giữ lại")
    assert "Dữ liệu của bạn được giữ nguyên" in me.last_text()
    me.say("/toi")
    me.say("9")  # a wrong number: told so, and the menu is still there
    assert "Không có lựa chọn số 9. Xin chọn một số từ 1 đến 4." in me.last_text()
    assert "📥 Tải dữ liệu của tôi" in [o.label for o in me.last_choices().options]
    me.press("Rút lại đồng ý và xóa dữ liệu")
    for other in ("/nhatky", "/xyz"):  # any other command closes the question
        me.say(other)
        me.say("1")
        assert "Bị xóa vĩnh viễn" not in me.last_text()
    member = member_named(papp, "Lê Thị Mai")
    assert member.deleted_at is None and member.consent_at is not None
    with Session(papp.db) as s:
        assert s.exec(select(Identity).where(Identity.member_id == member.id)).one()
    me.say("/toi")
    assert "Lê Thị Mai" in me.last_text()


def test_erase_removes_personal_data_and_keeps_the_counts(papp, people) -> None:  # type: ignore[no-untyped-def]
    me = people("1")
    register(me, name="Nguyễn Văn An", unit="Mầm non Hoa Mai")
    quiet = people("3")
    register(quiet, name="Hoàng Thị Yến", unit="Mầm non Hoa Mai")
    officer = people("2")
    register(officer, name="Phạm Văn Tâm", unit="Mầm non Hoa Mai", group="Cán bộ công đoàn")
    make_officer(papp, "2", "CDCS-MN-HM")
    write_with_own_item(me, HOSTILE)
    member = member_named(papp, "Nguyễn Văn An")
    add_quiz_attempt(papp, member.id)
    with Session(papp.db) as s:
        s.add(
            RoleGrant(member_id=member.id, role="officer", unit_id=member.unit_id, granted_by="t")
        )
        s.commit()
    officer.say("/duyet")
    assert "Nguyễn Văn An" in "\n".join(officer.texts())
    officer.say("/huy")
    before = member_pledge(papp, member.id)

    erase(me)
    assert "gõ /start để khai báo thông tin như một đoàn viên mới" in me.last_text()
    assert "Giữ lại ẩn danh" in me.last_text()
    erase(quiet)  # never submitted: no longer counted anywhere

    with Session(papp.db) as s:
        gone = s.get(Member, member.id)
        assert gone is not None and gone.deleted_at is not None
        assert (gone.full_name, gone.search_name, gone.consent_at, gone.consent_version) == (
            None,
            None,
            None,
            None,
        )
        assert (gone.unit_id, gone.group) == (member.unit_id, member.group)  # kept for counts
        assert s.exec(select(Identity).where(Identity.member_id == member.id)).all() == []
        assert s.exec(select(RoleGrant).where(RoleGrant.member_id == member.id)).all() == []
        users = s.exec(select(ConversationState.user_id)).all()
        assert "1" not in users and "3" not in users
        assert sum(u.startswith("erased:") for u in users) == 1  # the last erasure's chat, unlinked
        pledge = s.exec(select(Pledge).where(Pledge.member_id == member.id)).one()
        attempts = s.exec(select(QuizAttempt).where(QuizAttempt.member_id == member.id)).all()
        deleted = s.exec(select(AuditLog).where(AuditLog.action == "data_delete")).all()
        unit = s.exec(select(Unit).where(Unit.code == "CDCS-MN-HM")).one()
        counts = pledges.counts_by_unit(s, campaign_id="demo-2026", paths=[unit.path])
    assert HOSTILE not in json.dumps([pledge.draft, pledge.content], ensure_ascii=False)
    for section in ("study", "follow", "measures"):
        assert pledges.items(pledge.content, section) == []
        assert pledges.items(pledge.draft, section) == []
    assert pledge.content is not None and not pledge.content.get("timeline")
    assert (pledge.status, pledge.revision, pledge.late) == ("submitted", 1, False)
    assert pledge.first_submitted_at == before.first_submitted_at
    assert [a.score for a in attempts] == [7]
    evidence = [(d.actor, d.detail) for d in deleted]
    assert (f"member:{member.id}", {"member": member.id}) in evidence and len(evidence) == 2
    # the erased member's pledge still counts, anonymously; the one who never submitted is gone
    [count] = counts
    assert (count.members, count.not_submitted) == (2, 1)

    officer.say("/duyet")
    assert "Nguyễn Văn An" not in "\n".join(officer.texts())
    assert "Không có bản" in officer.last_text()
    officer.say("/chuanop")
    shown = officer.last_text()
    assert "Đã nộp 1/2" in shown and "Phạm Văn Tâm" in shown
    assert "Nguyễn Văn An" not in shown and "Hoàng Thị Yến" not in shown and "—" not in shown


def test_register_again_after_erasure_is_a_new_member(papp, people) -> None:  # type: ignore[no-untyped-def]
    me = people("1")
    register(me, name="Nguyễn Văn An")
    write_pledge(me)
    submit(me)
    old = member_named(papp, "Nguyễn Văn An")
    erase(me)
    me.say("/toi")
    assert "Bạn chưa khai báo thông tin. Gõ /start" in me.last_text()
    register(me, name="Nguyễn Văn An")
    new = member_named(papp, "Nguyễn Văn An")
    assert new.id != old.id and new.consent_at is not None
    me.say("/toi")
    assert "Chưa nộp" in me.last_text()  # the erased pledge is not theirs any more
    with Session(papp.db) as s:
        [identity] = s.exec(select(Identity).where(Identity.platform_user_id == "1")).all()
        erased = s.get(Member, old.id)
    assert identity.member_id == new.id and erased is not None and erased.full_name is None


def test_stale_and_double_taps_after_erasure_do_no_harm(papp, people) -> None:  # type: ignore[no-untyped-def]
    me = people("1")
    register(me, name="Nguyễn Văn An")
    me.say("/toi")
    prefs = me.last_choices()
    me.press("Rút lại đồng ý")
    confirm = next(o for o in me.last_choices().options if "Xóa vĩnh viễn" in o.label)
    me.press_data(confirm.data)
    assert "Đã rút lại sự đồng ý" in me.last_text()
    me.press_data(confirm.data)  # a double tap
    assert "cũ hoặc đã được bấm" in me.last_text()
    for option in prefs.options:  # the old /toi buttons
        me.press_data(option.data)
        assert "cũ hoặc đã được bấm" in me.last_text()
    me.say("Xóa vĩnh viễn")
    assert "sự cố" not in me.last_text()
    with Session(papp.db) as s:
        rows = s.exec(select(AuditLog).where(AuditLog.action == "data_delete")).all()
        left = s.exec(select(Member).where(col(Member.deleted_at).is_(None))).all()
    assert len(rows) == 1 and left == []


def test_erasure_unlinks_the_account_from_what_they_did_and_what_waits_for_them(
    papp, people
) -> None:  # type: ignore[no-untyped-def]
    officer = people("2")
    register(officer, name="Phạm Văn Tâm", group="Cán bộ công đoàn")
    make_officer(papp, "2", "CDCS-MN-HM")
    officer.say("/thongbao")
    officer.say("Họp công đoàn lúc 15 giờ thứ Sáu.")
    officer.press("Hoa Mai")
    officer.press("Hẹn giờ")
    officer.say("20/03/2026 08:00")
    assert "Đã hẹn gửi thông báo" in officer.last_text()
    me = member_named(papp, "Phạm Văn Tâm")
    with Session(papp.db) as s:
        unit = s.exec(select(Unit).where(Unit.code == "CDCS-MN-HM")).one()
        sending = Broadcast(
            kind="anniversary", status="sending", unit_id=unit.id, text="x", created_by="scheduler"
        )
        s.add(sending)
        s.flush()
        s.add(
            OutboxMessage(broadcast_id=sending.id, platform="memory", chat_id="2", member_id=me.id)
        )
        s.add(GroupLink(platform="memory", chat_id="g1", unit_id=unit.id, linked_by="memory:2"))
        s.commit()
    erase(officer)
    with Session(papp.db) as s:
        mine = s.exec(select(Broadcast).where(Broadcast.kind == "announcement")).one()
        row = s.exec(select(OutboxMessage)).one()
        link = s.exec(select(GroupLink)).one()
    alias = f"member:{me.id}"
    assert (mine.created_by, mine.report_platform, mine.report_chat_id) == (alias, None, None)
    assert row.status == "cancelled" and row.chat_id.startswith("erased:")
    assert link.linked_by == alias and link.active  # the group keeps receiving its unit's posts
