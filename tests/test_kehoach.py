"""/kehoach end to end in the chat: next year's plan made from this year's with every prompt and
the mistakes a person makes (wrong dates, a deadline before today, a wrong number, a double tap),
used at once in this process and within PLAN_TTL by a second one on the same database; editing a
plan that has not started, ending one; who may use it; a fresh deployment guided to its first
plan."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.app import build_app, load_demo_units
from bot.channels.memory import MemoryChat
from bot.models import AuditLog, Identity, Plan, RoleGrant, Unit
from bot.services.plans import PLAN_TTL
from tests.helpers import Clock, register

VN = timedelta(hours=7)
ADMINS = {"memory": {"admin"}}


def local(y: int, m: int, d: int, hh: int = 9) -> datetime:
    return datetime(y, m, d, hh, tzinfo=UTC) - VN


@pytest.fixture
def clock() -> Clock:
    return Clock(local(2027, 1, 5))  # the 2026 plan is over and nobody made 2027's yet


@pytest.fixture
def kapp(settings, clock, content):  # type: ignore[no-untyped-def]
    built = build_app(settings, clock=clock, content=content, extra_admins=ADMINS)
    load_demo_units(built)
    yield built
    built.db.dispose()


def labels(chat: MemoryChat) -> list[str]:
    return [o.label for o in chat.last_choices().options]


def walk_keeping(admin: MemoryChat) -> None:
    """Confirm every field as proposed, up to the summary."""
    admin.press("✅")  # the topic chosen now
    admin.press("Xong")  # the quizzes
    admin.press("Giữ")  # the deadline
    admin.press("Có nhận")
    admin.press("Giữ")  # the self-assessment opens
    admin.press("Giữ")  # ... and closes
    admin.press("Giữ các hạn này")
    admin.press("Giữ")  # the start
    assert "Lưu kế hoạch, hoặc chọn mục cần sửa" in admin.last_text()


def test_next_years_plan_with_every_prompt_and_a_second_process(kapp, settings, clock, content):  # type: ignore[no-untyped-def]
    replica = build_app(settings, clock=clock, content=content, extra_admins=ADMINS)
    member = MemoryChat(replica.engine, "m1")  # writes to the second process only
    register(member)
    member.say("/dangky")
    assert "chưa có kế hoạch học tập và làm theo năm 2027" in member.last_text()
    assert "2026" not in member.last_text()  # never last year's pledge as due
    member.say("/thi")
    assert "chưa có kế hoạch học tập và làm theo năm 2027" in member.last_text()

    admin = MemoryChat(kapp.engine, "admin")
    admin.say("/kehoach")
    text = admin.last_text()
    assert "Năm 2026 (demo-2026)" in text and "đã qua" in text
    assert "Chưa có kế hoạch năm 2027" in text
    assert labels(admin)[0] == "➕ Tạo kế hoạch năm 2027"
    admin.press("Tạo kế hoạch năm 2027")
    assert "từ kế hoạch năm 2026: mọi ngày đã được dời sang năm 2027" in admin.last_text()

    # 1. topic: a number out of the list, words that choose nothing, then an earlier year's topic
    assert "Mục 1/8. Chuyên đề năm" in admin.last_text()
    assert "về thực hành dân chủ và tăng cường pháp chế" in admin.last_text()  # 2026 topic
    assert "Kết luận 01-KL/TW (2021–2026)" in labels(admin)  # its years said once, not twice
    assert "7 dám (2024)" in labels(admin)
    admin.say("9")
    assert "Không có lựa chọn số 9" in admin.last_text()
    admin.say("chuyên đề hay nhất")
    assert "Vui lòng chọn trong danh sách" in admin.last_text()
    admin.press("7 dám")
    assert "của năm 2024, không phải của năm 2027" in admin.last_text()

    # 2. quizzes: several numbers at once toggle them
    assert "Mục 2/8. Bài thi" in admin.last_text()
    before = [label for label in labels(admin) if label.startswith("✅")]
    admin.say("1 3")
    after = [label for label in labels(admin) if label.startswith("✅")]
    assert before != after
    admin.say("1 3")  # back as they were
    assert [label for label in labels(admin) if label.startswith("✅")] == before
    admin.press("Xong")

    # 3. the deadline: format, a day that does not exist, before today, a far year, then right
    assert "Mục 3/8. Hạn nộp bản đăng ký" in admin.last_text()
    assert "Giữ: 10/04/2027" in labels(admin)[0]
    admin.say("mai")
    assert "dạng dd/mm/yyyy" in admin.last_text() and "hôm nay là 05/01/2027" in admin.last_text()
    for typed in ("", "😀", "x" * 5000):
        admin.say(typed)
        assert "dạng dd/mm/yyyy" in admin.last_text() and "Mục 3/8" in admin.last_text()
    admin.say("31/02/2027")
    assert "Không có ngày này trong lịch" in admin.last_text()
    admin.say("03/01/2027")
    assert "Hạn nộp 03/01/2027 không sau hôm nay (05/01/2027)" in admin.last_text()
    admin.say("10/04/2207")
    assert "các năm 2026–2028" in admin.last_text()
    admin.say("<b>15/04/2027</b>")
    assert "dạng dd/mm/yyyy" in admin.last_text()
    admin.say("15/4/2027")
    assert "Mục 4/8. Nộp muộn" in admin.last_text()

    # 4. late, 5-6. the self-assessment window, in order
    admin.press("Có nhận")
    assert "Mục 5/8. Mở tự đánh giá cuối năm" in admin.last_text()
    admin.say("10/04/2027")
    assert "phải sau hạn nộp bản đăng ký (15/04/2027)" in admin.last_text()
    admin.press("Giữ")  # 01/11/2027
    assert "Mục 6/8. Đóng tự đánh giá cuối năm" in admin.last_text()
    admin.say("31/10/2027")
    assert "không được trước ngày mở (01/11/2027)" in admin.last_text()
    admin.say("15.12.2027")

    # 7. report deadlines: one changed (a past day refused first)
    assert "Mục 7/8. Hạn báo cáo của cán bộ" in admin.last_text()
    assert "Báo cáo kết quả thực hiện 06 tháng: hạn 06/05/2027" in admin.last_text()
    admin.press("Sửa hạn báo cáo 1")
    admin.say("01/01/2027")
    assert "Hạn báo cáo 01/01/2027 không sau hôm nay" in admin.last_text()
    admin.say("15/05/2027")
    assert "Báo cáo kết quả thực hiện 06 tháng: hạn 15/05/2027" in admin.last_text()
    admin.press("Giữ các hạn này")

    # 8. the start: not after the deadline
    assert "Mục 8/8. Ngày bắt đầu áp dụng" in admin.last_text()
    admin.say("20/04/2027")
    assert "phải trước hạn nộp bản đăng ký (15/04/2027)" in admin.last_text()
    admin.press("Giữ")  # 01/01/2027

    # the summary, a change from it, and saving (a second tap on the old button counts nothing)
    text = admin.last_text()
    assert "Kế hoạch năm 2027 – LĐLĐ tỉnh Mẫu (mã demo-2027)" in text
    assert "1. Chuyên đề năm: “7 dám” (chuyên đề của năm 2024)" in text
    assert "3. Hạn nộp bản đăng ký: trước ngày 15/04/2027 (đúng hạn đến hết 14/04/2027)" in text
    assert "6. Đóng tự đánh giá cuối năm: 15/12/2027" in text
    assert "06 tháng 15/05/2027" in text and "8. Ngày bắt đầu áp dụng: 01/01/2027" in text
    admin.press("Sửa mục 4")
    admin.press("Không nhận")
    assert "4. Nộp muộn: Không nhận, khóa sau hạn" in admin.last_text()
    save = next(o for o in admin.last_choices().options if "Lưu kế hoạch" in o.label)
    admin.press_data(save.data)
    assert "Đã lưu kế hoạch năm 2027" in admin.last_text()
    assert "áp dụng ngay từ hôm nay" in admin.last_text()
    admin.press_data(save.data)
    assert "cũ hoặc đã được bấm" in admin.last_text()
    with Session(kapp.db) as s:
        row = s.get(Plan, "demo-2027")
        audit = s.exec(select(AuditLog).where(AuditLog.action == "plan_create")).all()
    assert row is not None and row.topic == "bay-dam-2024" and row.created_by == "memory:admin"
    assert row.pledge is not None and row.pledge["submit_before"] == "2027-04-15"
    assert row.pledge["late_allowed"] is False and row.starts_on == date(2027, 1, 1)
    assert [a.actor for a in audit] == ["memory:admin"]
    admin.say("/kehoach")  # the list says it too, as the form and the summary did
    assert "Năm 2027 (demo-2027): chuyên đề “7 dám” (chuyên đề của năm 2024)," in admin.last_text()
    admin.say("/huy")

    # used at once where it was made, without a restart
    here = MemoryChat(kapp.engine, "m2")
    register(here, name="Trần Thị Bình")
    here.say("/dangky")
    assert "năm 2027" in here.last_text() and "hết ngày 14/04/2027" in here.last_text()
    # the other process keeps its copy for PLAN_TTL, then reads the plan too
    member.say("/dangky")
    assert "chưa có kế hoạch học tập và làm theo năm 2027" in member.last_text()
    clock.now += PLAN_TTL + timedelta(seconds=1)
    member.say("/dangky")
    assert "năm 2027" in member.last_text() and "hết ngày 14/04/2027" in member.last_text()
    member.say("/thi")
    assert "Chọn bài thi" in member.last_text()
    replica.db.dispose()


def test_edit_a_plan_that_has_not_started_then_end_it(kapp, clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = local(2026, 11, 20)
    admin = MemoryChat(kapp.engine, "admin")
    admin.say("/kehoach")
    assert "Năm 2026 (demo-2026)" in admin.last_text() and "đang áp dụng" in admin.last_text()
    admin.press("Tạo kế hoạch năm 2027")
    walk_keeping(admin)
    admin.press("Lưu kế hoạch")
    assert "Từ ngày 01/01/2027" in admin.last_text()
    admin.say("/kehoach")
    assert "Năm 2027 (demo-2027)" in admin.last_text() and "còn sửa được" in admin.last_text()
    assert "Sửa kế hoạch năm 2026" not in labels(admin)  # started: no edits
    admin.press("Sửa kế hoạch năm 2027")
    admin.press("Sửa mục 3")
    admin.say("20/04/2027")
    admin.press("Lưu thay đổi")
    assert "Đã lưu kế hoạch năm 2027" in admin.last_text()
    admin.say("/kehoach")
    admin.press("Xem kế hoạch năm 2027")
    assert "trước ngày 20/04/2027" in admin.last_text()
    admin.press("Kết thúc kế hoạch năm 2027")
    admin.say("ket")  # a word of an irreversible choice chooses nothing
    assert "Vui lòng chọn" in admin.last_text() or "Các lựa chọn" in admin.last_text()
    admin.say("kết thúc")
    assert "Đã kết thúc kế hoạch năm 2027" in admin.last_text()
    assert "đã kết thúc ngày 20/11/2026" in admin.last_text()
    with Session(kapp.db) as s:
        row = s.get(Plan, "demo-2027")
        actions = [a.action for a in s.exec(select(AuditLog).order_by(AuditLog.id)).all()]
    assert row is not None and row.ended_at is not None and row.version == 3
    assert actions == ["plan_create", "plan_update", "plan_end"]
    admin.say("/nhatky")
    assert "Kết thúc kế hoạch năm (kế hoạch demo-2027, năm 2027)" in admin.last_text()


def test_who_may_make_plans(kapp, chat) -> None:  # type: ignore[no-untyped-def]
    member = MemoryChat(kapp.engine, "m1")
    register(member)
    member.say("/kehoach")
    assert "chỉ dành cho cán bộ công đoàn" in member.last_text()
    branch = MemoryChat(kapp.engine, "m2")
    register(branch, name="Lê Văn Hiền", unit="Trung tâm Y tế")
    province = MemoryChat(kapp.engine, "m3")
    register(province, name="Võ Thị Tỉnh", unit="Trung tâm Y tế")
    with Session(kapp.db) as s:
        for user, code in (("m2", "CD-VIENCHUC"), ("m3", "LDLD-DEMO")):
            ident = s.exec(select(Identity).where(Identity.platform_user_id == user)).one()
            unit = s.exec(select(Unit).where(Unit.code == code)).one()
            s.add(
                RoleGrant(
                    member_id=ident.member_id, role="officer", unit_id=unit.id, granted_by="t"
                )
            )
        s.commit()
    branch.say("/kehoach")
    assert "cán bộ công đoàn phụ trách cả cây đơn vị" in branch.last_text()
    branch.say("/trogiup")
    assert "/kehoach" not in branch.last_text() and "/thongke" in branch.last_text()
    province.say("/trogiup")
    assert "/kehoach" in province.last_text()
    province.say("/kehoach")
    assert "Kế hoạch học tập và làm theo – LĐLĐ tỉnh Mẫu" in province.last_text()


def fresh_tree(kapp) -> MemoryChat:  # type: ignore[no-untyped-def]
    """A tree of its own next to the demo one, without any plan; its admin, registered."""
    with Session(kapp.db) as s:
        s.add(Unit(code="TINH-X", name="LĐLĐ tỉnh X", search_name="ldld tinh x", path=""))
        s.commit()
        unit = s.exec(select(Unit).where(Unit.code == "TINH-X")).one()
        unit.path = f"/{unit.id}/"
        s.add(unit)
        s.commit()
    admin = MemoryChat(kapp.engine, "admin")
    register(admin, name="Quản Trị Viên", unit="Trung tâm Y tế")
    return admin


def test_a_fresh_tree_is_guided_to_its_first_plan(kapp, clock) -> None:  # type: ignore[no-untyped-def]
    admin = fresh_tree(kapp)
    assert "LĐLĐ tỉnh X chưa có kế hoạch năm 2027" in admin.last_text()
    assert "Gõ /kehoach để tạo" in admin.last_text()
    admin.say("/kehoach")
    admin.press("LĐLĐ tỉnh X")
    assert "LĐLĐ tỉnh X chưa có kế hoạch nào" in admin.last_text()
    assert "từ kế hoạch mẫu có sẵn" in admin.last_text()
    assert "Mục 1/8" in admin.last_text()
    walk_keeping(admin)
    assert "(mã tinh-x-2027)" in admin.last_text()
    admin.press("Lưu kế hoạch")
    assert "áp dụng ngay" in admin.last_text()
    admin.say("/start")
    assert "LĐLĐ tỉnh X chưa có kế hoạch" not in admin.last_text()
    assert "LĐLĐ tỉnh Mẫu chưa có kế hoạch năm 2027" in admin.last_text()


def test_late_in_the_year_a_fresh_tree_chooses_the_year(kapp, clock) -> None:  # type: ignore[no-untyped-def]
    """On 20/11 a tree with no plan may start with this year's or next year's: asked, not forced."""
    clock.now = local(2026, 11, 20)
    admin = fresh_tree(kapp)
    admin.say("/kehoach")
    admin.press("LĐLĐ tỉnh X")
    assert "LĐLĐ tỉnh X chưa có kế hoạch nào. Bạn tạo kế hoạch cho năm nào?" in admin.last_text()
    assert labels(admin) == ["➕ Tạo kế hoạch năm 2026", "➕ Tạo kế hoạch năm 2027"]
    assert "Mục 1/8" not in admin.last_text()  # nothing started behind the person's back
    admin.say("2030")
    assert "chỉ tạo được kế hoạch năm 2026 hoặc 2027" in admin.last_text()
    assert labels(admin) == ["➕ Tạo kế hoạch năm 2026", "➕ Tạo kế hoạch năm 2027"]
    admin.say("2027")  # the year typed, as people answer "which year?"
    assert "Tạo kế hoạch năm 2027 từ kế hoạch mẫu có sẵn" in admin.last_text()
    walk_keeping(admin)
    admin.press("Lưu kế hoạch")
    assert "Từ ngày 01/01/2027" in admin.last_text()

    # the other choice, the same day: this year's, by its button
    admin.say("/kehoach")
    admin.press("LĐLĐ tỉnh X")
    assert "Năm 2027 (tinh-x-2027)" in admin.last_text()
    assert "Tạo kế hoạch năm 2026" in labels(admin)[0]  # still possible, from the list


def test_report_deadlines_copied_from_a_preset_are_checked(kapp, clock) -> None:  # type: ignore[no-untyped-def]
    """This year's plan made on 20/11: the presets' report deadlines (06/05, 11/11) have passed;
    keeping them is refused with the reason, and each can be moved or left out."""
    clock.now = local(2026, 11, 20)
    admin = fresh_tree(kapp)
    admin.say("/kehoach")
    admin.press("LĐLĐ tỉnh X")
    admin.press("Tạo kế hoạch năm 2026")
    admin.press("Kết luận 01-KL/TW")  # a topic of 2021–2026: of this plan's year
    admin.press("Xong")
    admin.press("Giữ")  # 10/04/2026: already passed
    assert "Hạn nộp 10/04/2026 không sau hôm nay (20/11/2026)" in admin.last_text()
    admin.say("01/12/2026")
    admin.press("Có nhận")
    admin.say("02/12/2026")  # the self-assessment opens after the new deadline
    admin.press("Giữ")  # ... and closes 31/12/2026

    assert "Mục 7/8. Hạn báo cáo của cán bộ" in admin.last_text()
    six, year = "Báo cáo kết quả thực hiện 06 tháng", "Báo cáo kết quả thực hiện 01 năm"
    admin.press("Giữ các hạn này")
    text = admin.last_text()
    assert f"Hạn báo cáo “{six}” (06/05/2026) không sau hôm nay (20/11/2026)" in text
    assert "Mục 7/8" in text and "Mục 8/8" not in text  # asked again
    admin.press("Sửa hạn báo cáo 1")
    admin.say("20/12/2026")
    admin.press("Giữ các hạn này")
    assert f"Hạn báo cáo “{year}” (11/11/2026) không sau hôm nay" in admin.last_text()
    admin.press("Sửa hạn báo cáo 2")
    admin.say("15/12/2026")
    admin.press("Giữ các hạn này")
    assert f"“{year}” (15/12/2026) sớm hơn hạn của “{six}” (20/12/2026)" in admin.last_text()
    admin.press("Sửa hạn báo cáo 1")
    admin.press("Bỏ báo cáo này")
    assert f"1. {year}: hạn 15/12/2026" in admin.last_text() and six not in admin.last_text()
    admin.press("Giữ các hạn này")
    assert "Mục 8/8. Ngày bắt đầu áp dụng" in admin.last_text()
    admin.press("Giữ")
    assert "7. Hạn báo cáo của cán bộ: Báo cáo kết quả thực hiện 01 năm 15/12/2026" in (
        admin.last_text()
    )
    admin.press("Lưu kế hoạch")
    assert "áp dụng ngay" in admin.last_text()
    with Session(kapp.db) as s:
        row = s.get(Plan, "tinh-x-2026")
    assert row is not None and [(r["name"], r["due"]) for r in row.reports] == [
        (year, "2026-12-15")
    ]
    admin.say("/kehoach")
    admin.press("LĐLĐ tỉnh X")
    assert "Năm 2026 (tinh-x-2026): chuyên đề “Kết luận 01-KL/TW (2021–2026)”, nộp" in (
        admin.last_text()
    )  # a topic of the plan's year: no mark
