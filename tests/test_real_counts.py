"""Rates against the real membership: a unit of 400 members of whom 3 use the bot and 3 submitted
shows 3/400 (0,75%) and "3 trên Trợ lý", never 100%. The unit's officer types the real count in
/thongke (with the mistakes people make); /baocao carries both; numbers are written the Vietnamese
way."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.channels.memory import MemoryChat
from bot.models import AuditLog, Unit
from bot.numfmt import fmt_int, fmt_pct, parse_count
from tests.helpers import register
from tests.test_pledge import clock, make_officer, papp, people, submit, write_pledge
from tests.test_reports import documents, docx_text, summary_rows, workbook

__all__ = ["clock", "papp", "people"]  # the fixtures of the pledge tests, used here too

SCHOOL = "CĐCS Trường Mầm non Hoa Mai"


def test_vietnamese_numbers() -> None:
    assert [fmt_pct(v) for v in (0.75, 100.0, 66.666, 50.0, 0.0, None)] == [
        "0,75%",
        "100%",
        "66,7%",
        "50%",
        "0%",
        "—",
    ]
    assert fmt_int(1234) == "1.234" and fmt_int(1234567) == "1.234.567"
    assert [parse_count(t) for t in ("400", "1.234", "1,234", "400.0", "12,5", "mười")] == [
        400,
        1234,
        1234,
        400,
        None,
        None,
    ]


def test_rates_against_the_real_membership(papp, people) -> None:  # type: ignore[no-untyped-def]
    officer = people("o1")
    register(officer, name="Võ Văn Cán", unit="Trung tâm Y tế")
    make_officer(papp, "o1", "CDCS-MN-HM")
    for n, name in enumerate(("Lê Thị Một", "Lê Thị Hai", "Lê Thị Ba")):
        member = people(f"m{n}")
        register(member, name=name)
        write_pledge(member)
        submit(member)

    officer.say("/thongke")
    text = officer.last_text()
    assert "Đã nộp bản đăng ký: 3/3 (100%) trên Trợ lý" in text  # said for what it is
    assert "số đoàn viên thực tế: chưa có" in text

    officer.press("Số đoàn viên thực tế")
    assert f"Số đoàn viên thực tế của {SCHOOL}" in officer.last_text()
    for typed, says in (
        ("", "Xin gõ một số nguyên"),
        ("nhiều lắm", "Xin gõ một số nguyên"),
        ("😀", "Xin gõ một số nguyên"),
        ("<b>400</b>", "Xin gõ một số nguyên"),
        ("400 35 12", "Xin gõ một số nguyên"),
        ("2", "Số thực tế (2) ít hơn số đoàn viên đã tham gia trên Trợ lý (3)"),
        ("10 20", "Số đảng viên không thể lớn hơn số đoàn viên"),
        ("9999999", "Số này lớn quá (5.000.000 là tối đa"),
        ("1" * 5000, "Số này lớn quá"),
    ):
        officer.say(typed)
        assert says in officer.last_text(), (typed, officer.last_text())
    officer.say("400 35")
    text = officer.last_text()
    assert f"Đã lưu số đoàn viên thực tế của {SCHOOL}: 400 (đảng viên: 35)" in text
    assert "Đoàn viên thực tế: 400 (đảng viên: 35) · đã tham gia trên Trợ lý: 3 (0,75%)" in text
    assert "Đã nộp bản đăng ký: 3/400 (0,75%) so với số đoàn viên thực tế · 3 trên Trợ lý" in text
    assert "100%" not in text
    with Session(papp.db) as s:
        unit = s.exec(select(Unit).where(Unit.code == "CDCS-MN-HM")).one()
        audit = s.exec(select(AuditLog).where(AuditLog.action == "unit_counts")).one()
    assert (unit.members, unit.party_members) == (400, 35)
    assert audit.actor == "memory:o1" and audit.detail["members"] == 400

    officer.say("/baocao")
    xlsx, outline = documents(officer)
    total = summary_rows(workbook(xlsx)["Tổng hợp"])["Tổng cộng"]
    assert total[3] == 3 and total[5] == 3 and total[6] == 1.0  # on the bot
    assert total[-2] == 400 and total[-1] == 0.0075  # against the real membership
    assert "So với số đoàn viên thực tế (400): 3/400 đoàn viên đã nộp" in docx_text(outline)

    # the province sees the school's rate against its real count, and the rest as on the bot
    admin = MemoryChat(papp.engine, "local", platform="console")
    register(admin, name="Quản Trị Viên", unit="Trung tâm Y tế")
    admin.say("/thongke CD-NGANH-GD")
    text = admin.last_text()
    assert "Đã nộp bản đăng ký: 3/3 (100%) trên Trợ lý" in text  # its other schools: no counts
    assert "📝 nộp 3/400 (0,75%) thực tế · 3 trên Trợ lý" in text

    officer.say("/thongke")
    officer.press("Số đoàn viên thực tế")
    officer.say("xóa")
    assert "Đã bỏ số đoàn viên thực tế" in officer.last_text()
    assert "Đã nộp bản đăng ký: 3/3 (100%) trên Trợ lý" in officer.last_text()


def test_only_the_units_in_scope_get_a_count(papp, people) -> None:  # type: ignore[no-untyped-def]
    officer = people("o2")
    register(officer, name="Đinh Văn Hai", unit="Trung tâm Y tế")
    make_officer(papp, "o2", "CDCS-TTYT-AP")
    member = people("m9")
    register(member, name="Phạm Thị Chín", unit="Trung tâm Y tế")
    officer.say("/thongke")
    officer.press("Số đoàn viên thực tế")
    with Session(papp.db) as s:  # the role is taken back while the question is open
        from bot.models import RoleGrant

        for grant in s.exec(select(RoleGrant)).all():
            s.delete(grant)
        s.commit()
    officer.say("120")
    assert "không còn quyền" in officer.last_text()
    with Session(papp.db) as s:
        unit = s.exec(select(Unit).where(Unit.code == "CDCS-TTYT-AP")).one()
    assert unit.members is None
