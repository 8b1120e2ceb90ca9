"""/hoinghi: an officer records study conferences (Phụ lục 1) with the mistakes people make
(wrong dates, more party members than attendees, an empty or endless topic); members check in
with the code, once each, with their party flag, until the check-in closes; officers never see
or close another subtree's conferences."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.app import build_app, load_demo_units
from bot.channels.memory import MemoryChat
from bot.models import AuditLog, Identity, RoleGrant, Unit
from bot.models_year import StudyCheckIn, StudySession
from bot.services import stats
from tests.helpers import Clock, add_member, make_officer, register

NOW = datetime(2026, 3, 15, 1, 0, tzinfo=UTC)  # 08:00 on 15/03/2026 in Vietnam
OFFICER = "601"
OTHER_OFFICER = "602"


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def capp(settings, content, clock):  # type: ignore[no-untyped-def]
    built = build_app(settings, clock=clock, content=content, extra_admins={"memory": {"admin"}})
    load_demo_units(built)
    yield built
    built.db.dispose()


@pytest.fixture
def officer(capp) -> MemoryChat:  # type: ignore[no-untyped-def]
    add_member(capp, "Phạm Văn Tâm", "CDCS-MN-HM", OFFICER, group="can_bo_cong_doan")
    make_officer(capp, OFFICER, "CDCS-MN-HM")
    return MemoryChat(capp.engine, OFFICER)


def record_checkin(chat: MemoryChat) -> str:
    """Walk /hoinghi to a conference with check-in open for two hours; its code."""
    chat.say("/hoinghi")
    chat.press("đoàn viên, CNVCLĐ")
    chat.press("Hôm nay")
    chat.press("Chuyên đề năm")
    chat.press("tự điểm danh")
    chat.press("Sau 2 giờ")
    assert "Kiểm tra lại" in chat.last_text()
    chat.press("Lưu hội nghị")
    found = re.search(r"Mã điểm danh: (HN\d{6})", chat.last_text())
    assert found, chat.last_text()
    return found.group(1)


def sessions(app) -> list[StudySession]:  # type: ignore[no-untyped-def]
    with Session(app.db) as s:
        return list(s.exec(select(StudySession)).all())


def checkins(app) -> list[StudyCheckIn]:  # type: ignore[no-untyped-def]
    with Session(app.db) as s:
        return list(s.exec(select(StudyCheckIn)).all())


def test_a_typed_conference_with_the_mistakes_people_make(capp, officer) -> None:  # type: ignore[no-untyped-def]
    officer.say("/hoinghi")  # nothing recorded yet: straight to a new one, the unit is the only one
    assert "hình thức nào" in officer.last_text()
    officer.say("hội thảo")  # not one of the three forms
    assert "Vui lòng chọn" in officer.last_text()
    officer.press("chủ chốt cấp cơ sở")
    for typed, answer in (
        ("31/02/2026", "không có trên lịch"),
        ("2026-03-10", "chưa đúng dạng"),
        ("10/03/2025", "trong năm 2026"),
        ("hôm qua", "chưa đúng dạng"),
        ("10032026", "chưa đúng dạng"),  # digits alone are a wrong date, not a choice number
    ):
        officer.say(typed)
        assert answer in officer.last_text(), typed
    officer.say("10/03/2026")
    assert "Nội dung học tập" in officer.last_text()
    officer.say("abc")
    assert "quá ngắn" in officer.last_text()
    officer.say("x" * 5000)
    assert "quá dài" in officer.last_text()
    officer.say("Quán triệt <b>Chỉ thị 05</b> & 🇻🇳 Kết luận 01")
    officer.press("nhập số người dự")
    for typed, answer in (
        ("12 20", "không thể lớn hơn"),
        ("mười hai", "Cần hai con số"),
        ("", "Cần hai con số"),
        ("0 0", "ít nhất 1 người"),
        ("200000 3", "tối đa"),
    ):
        officer.say(typed)
        assert answer in officer.last_text(), typed
    officer.say("9 2")
    summary = officer.last_text()
    assert "10/03/2026" in summary and "Số người dự: 9, trong đó 2 đảng viên" in summary
    assert "Quán triệt <b>Chỉ thị 05</b> & 🇻🇳" in summary  # shown as typed, not as markup
    first = officer.last_choices().options[0].data  # "Lưu hội nghị"
    officer.press("Lưu hội nghị")
    assert "Đã lưu hội nghị" in officer.last_text()
    officer.press_data(first)  # a double tap: nothing more
    assert "tin nhắn cũ" in officer.last_text()
    (row,) = sessions(capp)
    assert (row.form, row.held_on, row.attendees, row.party_attendees) == (
        "base_officers", date(2026, 3, 10), 9, 2,
    )  # fmt: skip
    assert row.checkin_code is None and row.year == 2026 and row.campaign_id == "demo-2026"
    with Session(capp.db) as s:
        logged = s.exec(select(AuditLog).where(AuditLog.action == "conference_record")).one()
    assert logged.actor == f"memory:{OFFICER}" and logged.detail["conference"] == row.id


def test_typed_attendance_waits_for_the_conference_to_happen(capp, officer) -> None:  # type: ignore[no-untyped-def]
    officer.say("/hoinghi")
    officer.press("đoàn viên, CNVCLĐ")
    officer.say("20/03/2026")  # five days ahead
    officer.press("Chuyên đề năm")
    officer.press("nhập số người dự")
    assert "chưa diễn ra" in officer.last_text()
    officer.press("tự điểm danh")  # a check-in can be opened ahead
    assert "Đến hết ngày hội nghị (20/03/2026 23:59)" in [
        o.label for o in officer.last_choices().options
    ]
    officer.say("25/03/2026 17:00")  # more than seven days from now
    assert "tối đa 7 ngày" in officer.last_text()
    officer.say("7:00")  # today, already past
    assert "đã qua" in officer.last_text()
    officer.say("nửa đêm")
    assert "Chưa hiểu" in officer.last_text()
    officer.press("Đến hết ngày hội nghị")
    officer.press("Lưu hội nghị")
    (row,) = sessions(capp)
    assert row.closes_at == datetime(2026, 3, 20, 16, 59, tzinfo=UTC)


def test_members_check_in_once_each_until_it_closes(capp, officer, clock) -> None:  # type: ignore[no-untyped-def]
    code = record_checkin(officer)
    assert f"?start={code}" in officer.last_text() or f"/start {code}" in officer.last_text()
    party = MemoryChat(capp.engine, "611")
    add_member(capp, "Đảng Viên Một", "CDCS-MN-HM", "611", party=True)
    plain = MemoryChat(capp.engine, "612")
    add_member(capp, "Quần Chúng Hai", "CDCS-MN-HM", "612")
    far = MemoryChat(capp.engine, "613")
    add_member(capp, "Ở Đơn Vị Khác", "CDCS-UBND-AP", "613", party=True)

    party.say(f"/start {code}")  # what a Telegram link sends
    assert "Đã điểm danh hội nghị ngày 15/03/2026" in party.last_text()
    party.say(f"/start {code}")  # the link opened twice
    assert "đã điểm danh hội nghị này lúc 15/03/2026 08:00" in party.last_text()
    plain.say(code.lower().replace("HN".lower(), "hn "))  # typed alone, as Zalo users do
    assert "Đã điểm danh" in plain.last_text()
    plain.say(code)  # typed twice
    assert "đã điểm danh" in plain.last_text()
    far.say(f"/start {code}")
    assert "dành cho đoàn viên của CĐCS Trường Mầm non Hoa Mai" in far.last_text()
    plain.say("/start HN000000")
    assert "Không tìm thấy hội nghị có mã HN000000" in plain.last_text()

    newcomer = MemoryChat(capp.engine, "614")  # not registered: registers first, then counted
    newcomer.say(f"/start {code}")
    assert "khai báo thông tin" in newcomer.last_text()
    newcomer.say("Trần Thị Mới")
    newcomer.press("Viên chức")  # the unit came with the code: a grassroots union
    newcomer.press("Không")
    newcomer.press("Tôi đồng ý")
    assert "Khai báo thông tin thành công" in newcomer.last_text()
    assert "Đã điểm danh hội nghị" in newcomer.last_text()

    clock.now = NOW + timedelta(hours=2, minutes=1)
    late = MemoryChat(capp.engine, "615")
    add_member(capp, "Đến Muộn", "CDCS-MN-HM", "615")
    late.say(f"/start {code}")
    assert "hết thời gian điểm danh (đến 15/03/2026 10:00)" in late.last_text()

    rows = checkins(capp)
    assert len(rows) == 3 and sorted(r.party_member for r in rows) == [False, False, True]
    officer.say("/hoinghi")
    officer.press("Các hội nghị đã ghi")
    assert "3 người, 1 đảng viên" in officer.last_text() and "đã đóng" in officer.last_text()


def test_a_check_in_counts_as_studying_shown_apart_from_hoc(capp, officer) -> None:  # type: ignore[no-untyped-def]
    code = record_checkin(officer)
    member = MemoryChat(capp.engine, "621")
    add_member(capp, "Lê Văn Học", "CDCS-MN-HM", "621")
    member.say(code)
    campaign = next(c for c in capp.content.catalog.campaigns if c.id == "demo-2026")
    with Session(capp.db) as s:
        total = stats.tree(s, campaign, None).total
    assert (total.studied, total.checked_in, total.studied_any) == (0, 1, 1)
    admin = MemoryChat(capp.engine, "admin")
    register(admin, name="Quản Trị", group="Cán bộ công đoàn")
    admin.say("/thongke")
    assert "Dự hội nghị học tập có điểm danh: 1 người" in admin.last_text()
    assert "Học xong chuyên đề của kế hoạch: 0 người" in admin.last_text()
    member.say("/toi")
    assert "Đã điểm danh 1 hội nghị học tập năm 2026" in member.last_text()


def test_closing_and_the_invitation_again(capp, officer) -> None:  # type: ignore[no-untyped-def]
    code = record_checkin(officer)
    officer.say("/hoinghi")
    officer.press("Các hội nghị đã ghi")
    assert f"điểm danh mã {code}, mở đến 15/03/2026 10:00" in officer.last_text()
    officer.press(f"Lời mời {code}")
    assert f"/start {code}" in officer.last_text()
    officer.press(f"Đóng điểm danh {code}")
    assert f"Đã đóng điểm danh mã {code}: 0 người" in officer.last_text()
    member = MemoryChat(capp.engine, "631")
    add_member(capp, "Sau Khi Đóng", "CDCS-MN-HM", "631")
    member.say(code)
    assert "hết thời gian điểm danh" in member.last_text()
    with Session(capp.db) as s:
        assert s.exec(select(AuditLog).where(AuditLog.action == "conference_close")).one()


def test_an_officer_never_sees_or_closes_another_subtree(capp, officer) -> None:  # type: ignore[no-untyped-def]
    code = record_checkin(officer)
    add_member(capp, "Cán Bộ Khu Công Nghiệp", "CD-KCN", OTHER_OFFICER, group="can_bo_cong_doan")
    make_officer(capp, OTHER_OFFICER, "CD-KCN")
    other = MemoryChat(capp.engine, OTHER_OFFICER)
    other.say("/hoinghi")
    assert "Hội nghị do đơn vị nào tổ chức" in other.last_text()  # no list: nothing of theirs
    other.say("CDCS-MN-HM")  # a unit of another subtree, by its code
    assert "nằm ngoài phạm vi bạn phụ trách" in other.last_text()
    other.say("/huy")

    officer.say("/hoinghi")  # the officer offered the close button ...
    officer.press("Các hội nghị đã ghi")
    with Session(capp.db) as s:  # ... then was moved to another unit before pressing it
        mine = s.exec(select(Identity.member_id).where(Identity.platform_user_id == OFFICER))
        grant = s.exec(select(RoleGrant).where(RoleGrant.member_id == mine.one())).one()
        grant.unit_id = s.exec(select(Unit.id).where(Unit.code == "CDCS-THCS-NTT")).one()
        s.add(grant)
        s.commit()
    officer.press(f"Đóng điểm danh {code}")
    assert "nằm ngoài phạm vi bạn phụ trách" in officer.last_text()
    (row,) = sessions(capp)
    assert row.closes_at == NOW + timedelta(hours=2)  # still open


def test_a_member_cannot_record_conferences(capp) -> None:  # type: ignore[no-untyped-def]
    member = MemoryChat(capp.engine, "641")
    add_member(capp, "Đoàn Viên", "CDCS-MN-HM", "641")
    member.say("/hoinghi")
    assert "chỉ dành cho cán bộ công đoàn" in member.last_text()
    member.say("HN12345")  # not a code's shape, typed with nothing open
    assert "chưa hiểu" in member.last_text().lower()


def test_help_lists_the_new_commands_by_role(capp, officer) -> None:  # type: ignore[no-untyped-def]
    officer.say("/trogiup")
    text = officer.last_text()
    for command in ("/hoinghi", "/dotpha", "/guongtot", "/duyet", "/baocao"):
        assert command in text, command
    member = MemoryChat(capp.engine, "651")
    add_member(capp, "Đoàn Viên", "CDCS-MN-HM", "651")
    member.say("/trogiup")
    assert "/guongtot" in member.last_text()
    assert "/hoinghi" not in member.last_text() and "/dotpha" not in member.last_text()
