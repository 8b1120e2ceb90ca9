"""/dotpha: an officer keeps a unit's breakthrough contents and pressing issues (Phụ lục 3, 4)
with the mistakes people make; members see their unit's breakthrough task in /dangky and /toi;
another subtree's officer never records for it, sees it or changes it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from bot.app import build_app, load_demo_units
from bot.channels.memory import MemoryChat
from bot.models import AuditLog, Identity, RoleGrant, Unit
from bot.models_year import Breakthrough
from tests.helpers import Clock, add_member, make_officer

NOW = datetime(2026, 3, 15, 1, 0, tzinfo=UTC)
OFFICER = "701"
CONTENT = "Thực hành dân chủ ở cơ sở: công khai thu chi quỹ công đoàn hằng quý"
ISSUE_1 = "Giáo viên làm thêm giờ không được trả đủ tiền"
ISSUE_2 = "Phòng học xuống cấp, mùa mưa bị dột"


@pytest.fixture
def bapp(settings, content):  # type: ignore[no-untyped-def]
    built = build_app(settings, clock=Clock(NOW), content=content)
    load_demo_units(built)
    yield built
    built.db.dispose()


@pytest.fixture
def officer(bapp) -> MemoryChat:  # type: ignore[no-untyped-def]
    add_member(bapp, "Phạm Văn Tâm", "CDCS-MN-HM", OFFICER, group="can_bo_cong_doan")
    make_officer(bapp, OFFICER, "CDCS-MN-HM")
    return MemoryChat(bapp.engine, OFFICER)


def items(app) -> list[Breakthrough]:  # type: ignore[no-untyped-def]
    with Session(app.db) as s:
        return list(s.exec(select(Breakthrough).order_by(Breakthrough.id)).all())  # type: ignore[arg-type]


def fill(officer: MemoryChat) -> None:
    officer.say("/dotpha")
    officer.press("Thêm nội dung đột phá")
    officer.say(CONTENT)
    officer.press("Thêm vấn đề bức xúc")
    officer.say(ISSUE_1)
    officer.press("Thêm vấn đề bức xúc")
    officer.say(ISSUE_2)


def test_the_unit_task_and_issues_with_the_mistakes_people_make(bapp, officer) -> None:  # type: ignore[no-untyped-def]
    officer.say("/dotpha")  # the officer's only unit, a grassroots union: opened at once
    text = officer.last_text()
    assert "Nhiệm vụ đột phá năm 2026 – CĐCS Trường Mầm non Hoa Mai" in text
    assert "ít nhất 01 nhiệm vụ trọng tâm, đột phá" in text
    officer.press("Thêm nội dung đột phá")
    officer.say("abc")
    assert "quá ngắn" in officer.last_text()
    officer.say("x" * 5000)
    assert "tối đa 500" in officer.last_text()
    officer.say(CONTENT)
    assert "Đã thêm" in officer.last_text() and CONTENT in officer.last_text()
    officer.press("Thêm vấn đề bức xúc")
    officer.say("<b>" + ISSUE_1 + "</b> 🏫")  # markup and emoji are kept as typed, shown safely
    officer.press("Thêm vấn đề bức xúc")
    officer.say(ISSUE_2)
    assert "đang giải quyết, đã giải quyết 0%" in officer.last_text()

    officer.press("Mục 2")
    officer.press("Đã giải quyết dứt điểm")
    assert "✅ đã giải quyết dứt điểm" in officer.last_text()
    officer.press("Mục 3")
    officer.press("Cập nhật tỷ lệ")
    for typed, answer in (("150", "từ 0 đến 100"), ("nhiều", "Cần một số"), ("", "Cần một số")):
        officer.say(typed)
        assert answer in officer.last_text(), typed
    officer.say("40%")
    assert "đã giải quyết 40%" in officer.last_text()
    officer.press("Mục 1")
    officer.press("Đã hoàn thành")
    stale = officer.last_choices().options[0].data
    officer.press("Xong")
    officer.press_data(stale)  # an old button
    assert "tin nhắn cũ" in officer.last_text()

    content, solved, ongoing = items(bapp)
    assert (content.kind, content.status) == ("content", "done")
    assert (solved.status, solved.solved_percent) == ("done", 100)
    assert solved.text == "<b>" + ISSUE_1 + "</b> 🏫"
    assert (ongoing.status, ongoing.solved_percent) == ("ongoing", 40)
    with Session(bapp.db) as s:
        actions = [a.action for a in s.exec(select(AuditLog).order_by(AuditLog.id)).all()]  # type: ignore[arg-type]
    assert actions == ["breakthrough_add"] * 3 + ["breakthrough_update"] * 3


def test_an_item_removed_after_a_confirmation(bapp, officer) -> None:  # type: ignore[no-untyped-def]
    fill(officer)
    officer.press("Mục 3")
    officer.press("Xóa mục này")
    assert "không hoàn tác" in officer.last_text()
    officer.say("xo")  # a prefix never chooses an irreversible step
    assert len(items(bapp)) == 3 and "Vui lòng chọn" in officer.last_text()
    officer.press("🗑 Xóa")
    assert "Đã xóa" in officer.last_text() and ISSUE_2 not in officer.last_text()
    assert [i.text for i in items(bapp)] == [CONTENT, ISSUE_1]


def test_members_see_their_unit_task_in_dangky_and_toi(bapp, officer) -> None:  # type: ignore[no-untyped-def]
    fill(officer)
    here = MemoryChat(bapp.engine, "711")
    add_member(bapp, "Giáo Viên Hoa Mai", "CDCS-MN-HM", "711")
    here.say("/dangky")
    assert "Nhiệm vụ trọng tâm, đột phá năm nay của CĐCS Trường Mầm non Hoa Mai" in here.last_text()
    assert CONTENT in here.last_text() and ISSUE_1 not in here.last_text()  # issues: officers'
    here.say("/toi")
    assert CONTENT in "\n".join(here.texts())
    elsewhere = MemoryChat(bapp.engine, "712")
    add_member(bapp, "Giáo Viên Nguyễn Trãi", "CDCS-THCS-NTT", "712")
    elsewhere.say("/dangky")
    assert CONTENT not in elsewhere.last_text()  # another unit's task is not theirs


def test_a_task_chosen_above_reaches_the_units_below(bapp) -> None:  # type: ignore[no-untyped-def]
    add_member(bapp, "Cán Bộ Ngành", "CD-NGANH-GD", "721", group="can_bo_cong_doan")
    make_officer(bapp, "721", "CD-NGANH-GD")
    branch = MemoryChat(bapp.engine, "721")
    branch.say("/dotpha")
    branch.press("Chọn: Công đoàn ngành Giáo dục")
    branch.press("Thêm nội dung đột phá")
    branch.say("Mỗi trường một công trình thanh niên, công đoàn")
    member = MemoryChat(bapp.engine, "722")
    add_member(bapp, "Giáo Viên", "CDCS-MN-HM", "722")
    member.say("/dangky")
    assert "năm nay của Công đoàn ngành Giáo dục" in member.last_text()


def test_another_subtree_officer_never_records_sees_or_changes_it(bapp, officer) -> None:  # type: ignore[no-untyped-def]
    fill(officer)
    add_member(bapp, "Cán Bộ Khu Công Nghiệp", "CD-KCN", "731", group="can_bo_cong_doan")
    make_officer(bapp, "731", "CD-KCN")
    other = MemoryChat(bapp.engine, "731")
    other.say("/dotpha")
    other.say("Mầm non")  # found by name, but outside their subtree
    other.press("Mầm non Hoa Mai")
    assert "nằm ngoài phạm vi bạn phụ trách" in other.last_text()
    assert CONTENT not in "\n".join(m.text for m in other.replies if hasattr(m, "text"))

    officer.say("/dotpha")  # the officer's buttons are on screen ...
    with Session(bapp.db) as s:  # ... when the role moves to another unit
        mine = s.exec(select(Identity.member_id).where(Identity.platform_user_id == OFFICER))
        grant = s.exec(select(RoleGrant).where(RoleGrant.member_id == mine.one())).one()
        grant.unit_id = s.exec(select(Unit.id).where(Unit.code == "CDCS-THCS-NTT")).one()
        s.add(grant)
        s.commit()
    officer.press("Mục 1")
    assert "nằm ngoài phạm vi bạn phụ trách" in officer.last_text()
    assert items(bapp)[0].status == "ongoing"
