"""/nhatky: admins list officer and admin actions (who, when, what), newest first, a page at a
time; officers and members are refused; no pledge text or comment ever appears."""

from __future__ import annotations

import itertools
import random
import re
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from bot.app import build_app, load_demo_units
from bot.channels.memory import MemoryChat
from bot.models import AuditLog, Member, Unit
from bot.services import audit
from tests.helpers import Clock, register
from tests.test_pledge import make_officer, submit, write_pledge
from tests.test_privacy import HOSTILE, erase, write_with_own_item

BEFORE = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
COMMENT = "Phần làm theo cần ghi rõ việc cụ thể hơn nhé."
WHEN = re.compile(r"🕒 \d{2}/\d{2}/\d{4} \d{2}:\d{2} · ")


@pytest.fixture
def aapp(settings, content):  # type: ignore[no-untyped-def]
    built = build_app(
        settings,
        clock=Clock(BEFORE),
        rng=random.Random(3),
        content=content,
        extra_admins={"memory": {"admin"}},
    )
    load_demo_units(built)
    yield built
    built.db.dispose()


@pytest.fixture
def people(aapp):  # type: ignore[no-untyped-def]
    postbox: dict = {}  # type: ignore[type-arg]

    def make(user_id: str) -> MemoryChat:
        return MemoryChat(aapp.engine, user_id, postbox=postbox)

    return make


def lines(chat: MemoryChat) -> list[str]:
    """The listed rows: each is a "🕒 time · who" line and the action line under it."""
    text = chat.last_text().split("\n")
    return [f"{a} | {b.strip()}" for a, b in itertools.pairwise(text) if WHEN.match(a)]


def test_admin_sees_who_did_what_with_labels_and_no_texts(aapp, people) -> None:  # type: ignore[no-untyped-def]
    admin = people("admin")
    register(admin, name="Trần Quản Trị")
    officer = people("2")
    register(officer, name="Phạm Văn Tâm", group="Cán bộ công đoàn")
    member = people("1")
    register(member, name="Lê Thị Mai")

    admin.say("/phanquyen")
    admin.say("pham van tam")
    admin.press("Phạm Văn Tâm")
    admin.press("Hoa Mai")
    admin.press("Cấp quyền")
    write_with_own_item(member, HOSTILE)
    officer.say("/duyet")
    officer.press("Trả lại")
    officer.say(COMMENT)
    member.say("/toi")
    member.press("Tải dữ liệu")

    admin.say("/nhatky")
    rows = lines(admin)
    assert len(rows) == 3
    assert "Lê Thị Mai" in rows[0] and "Đoàn viên tải dữ liệu cá nhân" in rows[0]
    assert "Phạm Văn Tâm" in rows[1] and "Trả lại bản đăng ký" in rows[1]
    assert "Trần Quản Trị" in rows[2] and "Cấp quyền" in rows[2]
    assert "Cán bộ công đoàn" in rows[2] and "CĐCS Trường Mầm non Hoa Mai" in rows[2]
    shown = admin.last_text()
    assert "ghi chép" not in shown and "cụ thể hơn" not in shown  # no pledge text, no comment
    assert "Cũ hơn" not in str(admin.replies[-1])  # one page only

    admin.say("/huy")
    admin.say("/trogiup")
    assert "/nhatky" in admin.last_text()


def test_paging_back_by_older_button(aapp, people) -> None:  # type: ignore[no-untyped-def]
    admin = people("admin")
    with Session(aapp.db) as s:
        unit = s.exec(select(Unit).where(Unit.code == "CDCS-MN-HM")).one()
        for n in range(1, 45):
            audit.record(
                s, actor="cli", action="grant", member_id=n, role="officer", unit_id=unit.id
            )
        audit.record(
            s, actor="scheduler", action="custom_thing", count=3, note="x" * 60, extra=[1, 2]
        )
        audit.record(
            s,
            actor="telegram:999",  # nobody registered
            action="report_export",
            unit=unit.id,
            campaign="demo-2026",
            units=1,
            members=12,
        )
        s.commit()
    admin.say("/nhatky")
    first = lines(admin)
    assert len(first) == 20
    assert "telegram:999" in first[0] and "Xuất báo cáo (đơn vị CĐCS Trường Mầm non" in first[0]
    assert "kế hoạch năm 2026, 1 đơn vị, 12 đoàn viên" in first[0]
    assert "Hệ thống (tự động)" in first[1] and "Thao tác “custom_thing”" in first[1]
    assert "count: 3" in first[1] and "xxx" not in first[1]
    assert "Dòng lệnh quản trị" in first[2] and "đoàn viên #44" in first[2]
    older = admin.last_choices().options[0]
    admin.press("Cũ hơn")
    second = lines(admin)
    assert len(second) == 20 and "đoàn viên #26" in second[0] and "đoàn viên #7" in second[-1]
    admin.press("Cũ hơn")
    third = lines(admin)
    assert len(third) == 6 and "đoàn viên #1," in third[-1]
    assert "Cũ hơn" not in str(admin.last_response.replies)  # type: ignore[union-attr]
    admin.press_data(older.data)  # a stale button: told so, nothing breaks
    assert "cũ hoặc đã được bấm" in admin.last_text()
    admin.say("/nhatky")
    admin.say("xem tiếp đi")  # typed instead of pressing
    assert "chưa hiểu" in admin.last_text()


def test_officers_and_members_are_refused(aapp, people) -> None:  # type: ignore[no-untyped-def]
    officer = people("2")
    register(officer, name="Phạm Văn Tâm", group="Cán bộ công đoàn")
    make_officer(aapp, "2", "CDCS-MN-HM")
    member = people("1")
    register(member, name="Lê Thị Mai")
    stranger = people("3")
    for chat in (officer, member, stranger):
        chat.say("/nhatky")
        assert "chỉ dành cho quản trị viên" in chat.last_text()
    officer.say("/trogiup")
    assert "/nhatky" not in officer.last_text()
    admin = people("admin")
    admin.say("/nhatky")
    assert "chưa có mục nào" in admin.last_text()


def test_an_erased_officer_is_shown_by_number_not_by_the_new_account(aapp, people) -> None:  # type: ignore[no-untyped-def]
    member = people("1")
    register(member, name="Lê Thị Mai")
    officer = people("2")
    register(officer, name="Phạm Văn Tâm", group="Cán bộ công đoàn")
    make_officer(aapp, "2", "CDCS-MN-HM")
    write_pledge(member)
    submit(member)
    officer.say("/duyet")
    officer.press("Duyệt")
    with Session(aapp.db) as s:
        old_id = s.exec(select(Member.id).where(Member.full_name == "Phạm Văn Tâm")).one()
    erase(officer)
    register(officer, name="Phạm Văn Tâm Mới")  # the same account registers again
    admin = people("admin")
    admin.say("/nhatky")
    rows = lines(admin)
    assert [r.split(" · ")[1].split(" | ")[0] for r in rows] == [
        f"Đoàn viên #{old_id} (đã xóa dữ liệu)",
        f"Đoàn viên #{old_id} (đã xóa dữ liệu)",
    ]
    assert "Duyệt bản đăng ký" in rows[1] and "Phạm Văn Tâm" not in admin.last_text()
    with Session(aapp.db) as s:
        actors = set(s.exec(select(AuditLog.actor)).all())
    assert actors == {f"member:{old_id}"}
