"""/baocao: the XLSX (summary by unit, members, Phụ lục 1–6) and the DOCX report, read back with
openpyxl and python-docx; the scope of officers, the admin's choice, the audit trail. The
appendices filled from a unit's year are in tests/test_annexes.py."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import docx
import openpyxl
import pytest
from sqlmodel import Session, select

from bot.app import build_app, load_demo_units
from bot.channels.memory import MemoryChat
from bot.messages import Document
from bot.models import (
    AuditLog,
    Identity,
    Member,
    Pledge,
    QuizAttempt,
    RoleGrant,
    StudyProgress,
    Unit,
)
from bot.services import reports
from tests.helpers import Clock, register

NOW = datetime(2026, 5, 2, 3, 0, tzinfo=UTC)  # 10:00 on 02/05/2026 in Vietnam
CAMPAIGN = "demo-2026"
TOPIC = "dan-chu-phap-che-2024"  # the demo campaign's yearly topic; its quizzes: 7 dám, this one
SEVEN = "bay-dam-2024"
ON_TIME = datetime(2026, 3, 20, 1, 30, tzinfo=UTC)  # 08:30 on 20/03/2026
LATE = datetime(2026, 4, 12, 9, 15, tzinfo=UTC)  # 16:15 on 12/04/2026, after the 10/04 deadline
OFFICER = "501"
DELETED = "(đã xóa dữ liệu)"


@pytest.fixture
def rapp(settings, content):  # type: ignore[no-untyped-def]
    admins = {"memory": {"admin"}}
    built = build_app(settings, clock=Clock(NOW), content=content, extra_admins=admins)
    load_demo_units(built)
    yield built
    built.db.dispose()


def _unit(s: Session, code: str) -> Unit:
    return s.exec(select(Unit).where(Unit.code == code)).one()


def _member(
    s: Session,
    code: str,
    name: str | None,
    group: str,
    *,
    party: bool = False,
    pledge: str | None = None,  # draft, submitted, approved, returned
    submitted: datetime | None = None,
    studied: bool | None = None,  # None: never opened; False: started, not finished
    quizzes: tuple[tuple[str, int, int, bool], ...] = (),  # (topic, score, total, passed)
    deleted: bool = False,
    user: str | None = None,
) -> Member:
    member = Member(
        full_name=name,
        search_name=name.lower() if name else None,
        unit_id=_unit(s, code).id,  # type: ignore[arg-type]
        group=group,
        party_member=party,
        consent_at=None if deleted else NOW - timedelta(days=90),
        deleted_at=NOW - timedelta(days=1) if deleted else None,
    )
    s.add(member)
    s.flush()
    assert member.id is not None
    if user is not None:
        s.add(Identity(platform="memory", platform_user_id=user, chat_id=user, member_id=member.id))
    if pledge is not None:
        sent = submitted if pledge != "draft" else None
        s.add(
            Pledge(
                member_id=member.id,
                campaign_id=CAMPAIGN,
                year=2026,
                status=pledge,
                revision=1 if sent else 0,
                first_submitted_at=sent,
                submitted_at=sent,
                late=sent is not None and sent >= datetime(2026, 4, 9, 17, tzinfo=UTC),
            )
        )
    if studied is not None:
        s.add(
            StudyProgress(
                member_id=member.id,
                topic_id=TOPIC,
                section_index=3,
                completed_at=NOW - timedelta(days=30) if studied else None,
            )
        )
    for topic, score, total, passed in quizzes:
        s.add(
            QuizAttempt(
                member_id=member.id,
                campaign_id=CAMPAIGN,
                topic_id=topic,
                score=score,
                total=total,
                current=total,
                started_at=NOW - timedelta(days=10),
                finished_at=NOW - timedelta(days=10, minutes=-8),
                elapsed_seconds=480,
                passed=passed,
            )
        )
    return member


@pytest.fixture
def tree(rapp) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Two branches of the demo tree with members of every kind; the officer of one branch
    ("Công đoàn Viên chức tỉnh") is a member registered in the branch itself."""
    with Session(rapp.db) as s:
        officer = _member(
            s, "CD-VIENCHUC", "Trần Văn Cán", "can_bo_cong_doan", party=True,
            pledge="approved", submitted=ON_TIME, studied=True,
            quizzes=((SEVEN, 9, 10, True),), user=OFFICER,
        )  # fmt: skip
        _member(
            s, "CDCS-UBND-AP", "Lê Thị Bình", "cong_chuc", party=True,
            pledge="submitted", submitted=LATE, studied=True,
            quizzes=((TOPIC, 15, 20, False), (TOPIC, 18, 20, True)),
        )  # fmt: skip
        _member(
            s, "CDCS-TTYT-AP", "Phạm Văn Cường", "vien_chuc",
            pledge="returned", submitted=ON_TIME, studied=True,
        )  # fmt: skip
        _member(
            s, "CDCS-BV-TINH", "Ngô Thị Dung", "vien_chuc",
            pledge="draft", quizzes=((SEVEN, 5, 10, False),),
        )  # fmt: skip
        _member(s, "CDCS-BV-TINH", "Hồ Văn Em", "vien_chuc", party=True, studied=False)
        _member(
            s, "CDCS-TTYT-AP", None, "vien_chuc", party=True,
            pledge="submitted", submitted=ON_TIME, studied=True, deleted=True,
        )  # fmt: skip
        _member(s, "CDCS-UBND-AP", None, "cong_chuc", deleted=True)  # no pledge: not counted
        _member(
            s, "CDCS-THPT-LTV", "Vũ Thị Giang", "vien_chuc", party=True,
            pledge="approved", submitted=ON_TIME, studied=True,
        )  # fmt: skip
        _member(s, "CDCS-MN-HM", "Đỗ Văn Hải", "vien_chuc")
        branch = _unit(s, "CD-VIENCHUC")
        s.add(RoleGrant(member_id=officer.id, role="officer", unit_id=branch.id, granted_by="t"))
        s.commit()
        return {"branch": branch.id, "other": _unit(s, "CD-NGANH-GD").id}


def documents(chat: MemoryChat) -> tuple[Document, Document]:
    assert chat.last_response is not None
    found = [r for r in chat.last_response.replies if isinstance(r, Document)]
    assert [d.filename.rsplit(".", 1)[1] for d in found] == ["xlsx", "docx"]
    return found[0], found[1]


def workbook(document: Document) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(document.data))


def values(ws: Any) -> list[list[Any]]:
    return [list(row) for row in ws.iter_rows(values_only=True)]


def summary_rows(ws: Any) -> dict[str, list[Any]]:
    """Data rows of the summary sheet by unit name, down to the blank row above the notes."""
    rows = values(ws)[3:]
    end = next((i for i, r in enumerate(rows) if r[0] is None), len(rows))
    return {str(r[0]): r for r in rows[:end]}


def member_rows(ws: Any) -> dict[str, list[Any]]:
    return {str(r[1]): r for r in values(ws)[1:]}


def docx_text(document: Document) -> str:
    opened = docx.Document(io.BytesIO(document.data))
    parts = [p.text for p in opened.paragraphs]
    for table in opened.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    parts += [p.text for p in opened.sections[0].footer.paragraphs]
    return "\n".join(parts)


# --- the officer of one branch -------------------------------------------------------------------


def test_officer_gets_both_documents_of_their_branch(rapp, tree) -> None:  # type: ignore[no-untyped-def]
    chat = MemoryChat(rapp.engine, OFFICER)
    chat.say("/baocao")
    text = chat.last_text()
    assert "Đang lập báo cáo" in text and "Công đoàn Viên chức tỉnh" in text and "năm 2026" in text
    assert "6</b> đoàn viên" not in text and "6 đoàn viên" in text  # plain text of the reply
    xlsx, outline = documents(chat)
    assert xlsx.filename == "bao-cao-CD-VIENCHUC-2026.xlsx"
    assert outline.filename == "bao-cao-CD-VIENCHUC-2026.docx"

    wb = workbook(xlsx)
    assert wb.sheetnames == ["Tổng hợp", "Đoàn viên", *(f"Phụ lục {n}" for n in range(1, 7))]
    ws = wb["Tổng hợp"]
    assert "NĂM 2026" in ws["A1"].value and "Công đoàn Viên chức tỉnh" in ws["A2"].value
    assert "02/05/2026 10:00" in ws["A2"].value
    assert [c.value for c in ws[3]] == [
        "Đơn vị", "Mã đơn vị", "Dòng", "Đoàn viên tham gia trên Trợ lý", "Đảng viên",
        "Đã nộp bản đăng ký", "Tỷ lệ nộp (trên Trợ lý)", "Đúng hạn", "Nộp muộn", "Đã duyệt",
        "Trả lại chưa nộp lại", "Chưa nộp", "Học chuyên đề qua Trợ lý", "Dự hội nghị (điểm danh)",
        "Đã học chuyên đề (một trong hai cách)", "Tỷ lệ học", "Đã dự thi", "Thi đạt",
        "Điểm thi bình quân", "Số đoàn viên thực tế", "Tỷ lệ nộp (so với số thực tế)",
    ]  # fmt: skip
    assert ws.freeze_panes == "D4"
    rows = summary_rows(ws)
    assert list(rows) == [  # each unit's own members; a subtotal after a unit's subtree
        "Công đoàn Viên chức tỉnh",  # the officer, registered in the branch itself
        "CĐCS Bệnh viện Đa khoa tỉnh",  # by name, as Vietnamese sorts
        "Tổ công đoàn Khoa Nội",
        "Cộng CĐCS Bệnh viện Đa khoa tỉnh",
        "CĐCS Cơ quan UBND xã An Phú",
        "CĐCS Trung tâm Y tế khu vực An Phú",
        "Tổng cộng",
    ]
    assert [r[2] for r in rows.values()] == ["Đơn vị"] * 3 + ["Cộng"] + ["Đơn vị"] * 2 + ["Cộng"]
    # members, party, submitted, rate, on time, late, approved, returned, missing, studied in the
    # bot, checked in, studied either way, rate, quiz takers, passed, average of the best scores
    assert rows["CĐCS Cơ quan UBND xã An Phú"][3:] == [
        1, 1, 1, 1.0, 0, 1, 0, 0, 0, 1, 0, 1, 1.0, 1, 1, 0.9, None, None,
    ]  # fmt: skip
    assert rows["CĐCS Trung tâm Y tế khu vực An Phú"][3:13] == [2, 1, 2, 1.0, 2, 0, 0, 1, 0, 2]
    assert rows["CĐCS Bệnh viện Đa khoa tỉnh"][3:] == [
        2, 1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0.5, None, None,
    ]  # fmt: skip
    assert rows["Cộng CĐCS Bệnh viện Đa khoa tỉnh"][3:6] == [2, 1, 0]
    total = rows["Tổng cộng"]
    assert total[1] == "CD-VIENCHUC"
    assert total[3:16] == [
        6, 4, 4, pytest.approx(4 / 6), 3, 1, 1, 1, 2, 4, 0, 4, pytest.approx(4 / 6),
    ]  # fmt: skip
    assert total[16:18] == [3, 2]
    assert total[18] == pytest.approx((0.9 + 0.9 + 0.5) / 3)
    units_only = [r for r in rows.values() if r[2] == "Đơn vị"]
    for column in range(3, 16):  # adding up the unit rows of a column gives the total: no overlap
        if column not in (6, 15):  # rates do not add up
            assert sum(r[column] for r in units_only) == total[column], column
    assert [ws.cell(r, 1).alignment.indent for r in (4, 5, 6, 7)] == [0, 1, 2, 1]
    assert [ws.row_dimensions[r].outlineLevel for r in range(4, 11)] == [1, 2, 2, 1, 1, 1, 0]
    assert ws.cell(7, 1).font.b and not ws.cell(5, 1).font.b  # subtotals stand out
    assert rows["Tổ công đoàn Khoa Nội"][3] == 0
    assert ws.cell(4, 7).number_format == "0.0%"
    for sheet in wb.worksheets:  # printed in landscape, as wide as the page, headers repeated
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert sheet.print_title_rows, sheet.title
    assert wb["Tổng hợp"].print_title_rows == "$3:$3"

    ws = wb["Đoàn viên"]
    assert [c.value for c in ws[1]] == [
        "STT", "Họ và tên", "Đơn vị", "Mã đơn vị", "Nhóm đối tượng", "Đảng viên", "Bản đăng ký",
        "Thời gian nộp", "Đúng hạn / nộp muộn", "Học chuyên đề qua Trợ lý",
        "Số hội nghị đã điểm danh", "Điểm thi cao nhất: 7 dám",
        "Điểm thi cao nhất: Dân chủ và pháp chế 2024",
    ]  # fmt: skip
    assert ws.freeze_panes == "C2"
    people = member_rows(ws)
    assert sorted(people) == sorted(
        [DELETED, "Hồ Văn Em", "Lê Thị Bình", "Ngô Thị Dung", "Phạm Văn Cường", "Trần Văn Cán"]
    )
    assert [r[0] for r in values(ws)[1:]] == [1, 2, 3, 4, 5, 6]
    assert [r[1] for r in values(ws)[1:]] == [  # unit by unit, as in the summary, then by name
        "Trần Văn Cán",  # registered in the branch itself
        "Hồ Văn Em",
        "Ngô Thị Dung",
        "Lê Thị Bình",
        "Phạm Văn Cường",
        DELETED,
    ]
    assert people["Lê Thị Bình"][2:] == [
        "CĐCS Cơ quan UBND xã An Phú", "CDCS-UBND-AP", "Công chức", "Có", "Đã nộp, chờ duyệt",
        datetime(2026, 4, 12, 16, 15), "Nộp muộn", "Có", 0, None, 0.9,
    ]  # fmt: skip
    assert people["Trần Văn Cán"][4:] == [
        "Cán bộ công đoàn", "Có", "Đã duyệt", datetime(2026, 3, 20, 8, 30), "Đúng hạn", "Có",
        0, 0.9, None,
    ]  # fmt: skip
    assert people["Phạm Văn Cường"][6:10] == [
        "Trả lại để sửa",
        datetime(2026, 3, 20, 8, 30),
        "Đúng hạn",
        "Có",
    ]
    assert people["Ngô Thị Dung"][6:] == ["Đang viết, chưa nộp", None, None, "Không", 0, 0.5, None]
    assert people["Hồ Văn Em"][5:10] == ["Có", "Chưa viết", None, None, "Không"]
    assert people[DELETED][2:10] == [
        "CĐCS Trung tâm Y tế khu vực An Phú", "CDCS-TTYT-AP", "Viên chức", "Có",
        "Đã nộp, chờ duyệt", datetime(2026, 3, 20, 8, 30), "Đúng hạn", "Có",
    ]  # fmt: skip
    assert ws["H2"].number_format == "dd/mm/yyyy hh:mm"
    everything = str(values(ws)) + str(values(wb["Tổng hợp"]))
    for outside in ("Vũ Thị Giang", "Đỗ Văn Hải", "Giáo dục", "Hoa Mai", "Lê Thánh Tông"):
        assert outside not in everything

    ws = wb["Phụ lục 1"]
    assert ws["A1"].value == "PHỤ LỤC 1"
    assert ws["A2"].value == "THỐNG KÊ kết quả tổ chức hội nghị quán triệt Chuyên đề năm 2026"
    assert [ws.cell(4, c).value for c in range(1, 5)] == [
        "Hình thức học tập", "Số hội nghị", "Số người Tham dự *",
        "Đảng viên dự học/ tổng số đảng viên",
    ]  # fmt: skip
    assert [ws["D5"].value, ws["E5"].value] == ["Số lượng", "Tỷ lệ (trên Trợ lý)"]
    assert {"D4:E4", "A4:A5", "B4:B5", "C4:C5"} <= {str(r) for r in ws.merged_cells.ranges}
    assert [ws.cell(r, 1).value for r in range(6, 11)] == [
        "Hội nghị cán bộ công đoàn chủ chốt cấp trên trực tiếp cơ sở",
        "Hội nghị cán bộ Công đoàn chủ chốt cấp cơ sở",
        "Hội nghị dành cho đoàn viên, CNVCLĐ",
        "Học tập chuyên đề qua Trợ lý Công đoàn (chatbot)",
        "Tổng số",
    ]
    for r in (6, 7, 8):  # no conference recorded in this branch
        assert [ws.cell(r, c).value for c in range(2, 6)] == [0, 0, 0, 0]
    assert [ws.cell(9, c).value for c in range(2, 6)] == [None, 4, 3, 0.75]  # 3 of 4 party members
    assert [ws.cell(10, c).value for c in range(2, 6)] == [0, 4, 3, None]  # the total, as numbers
    assert [ws["B13"].value, ws["B14"].value] == ["chưa có", 4]  # real party count, on the bot
    assert ws["A11"].value == "* Cột số người tham dự bao gồm đảng viên và người chưa là đảng viên."
    assert "Hướng dẫn của Ban Thường vụ LĐLĐ tỉnh An Giang" in str(values(ws))

    text = docx_text(outline)
    for heading in (
        "BÁO CÁO",
        "Kết quả thực hiện Chỉ thị số 05-CT/TW của Bộ Chính trị về đẩy mạnh học tập và làm theo "
        "tư tưởng, đạo đức, phong cách Hồ Chí Minh năm 2026",
        "I. KẾT QUẢ THỰC HIỆN",
        "1. Công tác lãnh đạo, chỉ đạo tổ chức thực hiện",
        "- Kết quả tổ chức học tập, quán triệt Chuyên đề năm 2026 của Tỉnh",
        "2. Việc học tập, quán triệt và sinh hoạt thường xuyên",
        "3. Việc làm theo",
        "4. Công tác tuyên truyền, biểu dương, khen thưởng",
        "II. NHẬN XÉT, ĐÁNH GIÁ",
        "3. Nguyên nhân (ưu điểm, hạn chế)",
        "III. NHIỆM VỤ TRỌNG TÂM NĂM 2027",
        "IV- KIẾN NGHỊ",
        "PHỤ LỤC 1",
        "THỐNG KÊ kết quả tổ chức hội nghị quán triệt Chuyên đề năm 2026",
        "PHỤ LỤC 6",
        "TÊN MÔ HÌNH",
        "từ năm 2025 trở về trước",
    ):
        assert heading in text, heading
    scope = "Phạm vi: Công đoàn Viên chức tỉnh. Số liệu do Trợ lý Công đoàn tổng hợp lúc 02/05/2026"
    assert scope in text
    assert "4/6 đoàn viên đã học (66,7%), trong đó 4 người học hết trên Trợ lý" in text
    party = "đảng viên học hết trên Trợ lý: 3/4 (75,0%) so với số đảng viên tham gia trên Trợ lý"
    assert party in text
    assert "3 đoàn viên dự thi, 2 người đạt (66,7%)" in text
    assert "4/6 đoàn viên đã nộp (66,7%), trong đó 3 đúng hạn, 1 nộp muộn" in text
    assert "2 đoàn viên chưa nộp" in text
    assert "…" in text  # left for the officer
    assert "(Theo đề cương tại Hướng dẫn của Ban Thường vụ LĐLĐ tỉnh An Giang)" in text
    for leak in ("content/", ".txt", "004_068", "{", "}", "THÔNG KÊ", "trễ"):
        assert leak not in text, leak
    opened = docx.Document(io.BytesIO(outline.data))
    annex1 = next(t for t in opened.tables if t.cell(0, 0).text == "Hình thức học tập")
    bot_row = [c.text for c in annex1.rows[5].cells]
    assert bot_row == ["Học tập chuyên đề qua Trợ lý Công đoàn (chatbot)", "", "4", "3", "75,0%"]
    assert [c.text for c in annex1.rows[6].cells] == ["Tổng số", "0", "4", "3", ""]
    units = next(t for t in opened.tables if t.cell(0, 0).text == "Đơn vị")
    assert [r.cells[0].text for r in units.rows[1:]] == [  # the branch's children only
        "CĐCS Bệnh viện Đa khoa tỉnh",
        "CĐCS Cơ quan UBND xã An Phú",
        "CĐCS Trung tâm Y tế khu vực An Phú",
        "Đoàn viên sinh hoạt trực tiếp tại Công đoàn Viên chức tỉnh",
        "Tổng cộng",
    ]
    assert [r.cells[1].text for r in units.rows[1:]] == ["2", "1", "2", "1", "6"]  # adds up
    assert "Vũ Thị Giang" not in text and "Giáo dục" not in text

    with Session(rapp.db) as s:
        logged = s.exec(select(AuditLog).where(AuditLog.action == "report_export")).one()
    assert logged.actor == f"memory:{OFFICER}"
    assert logged.detail == {
        "unit": tree["branch"], "campaign": CAMPAIGN, "units": 5, "members": 6,
    }  # fmt: skip


def test_officer_of_two_units_chooses_one(rapp, tree) -> None:  # type: ignore[no-untyped-def]
    with Session(rapp.db) as s:
        me = s.exec(select(Identity).where(Identity.platform_user_id == OFFICER)).one()
        s.add(
            RoleGrant(member_id=me.member_id, role="officer", unit_id=tree["other"], granted_by="t")
        )  # type: ignore[arg-type]
        s.commit()
    chat = MemoryChat(rapp.engine, OFFICER)
    chat.say("/baocao")
    labels = [o.label for o in chat.last_choices().options]
    assert labels == ["Công đoàn ngành Giáo dục", "Công đoàn Viên chức tỉnh"]
    chat.say("hello <b>there</b> 👋 " + "x" * 5000)  # typing instead of pressing
    assert "Vui lòng chọn một phạm vi" in chat.last_text()
    first = chat.last_choices().options[1].data  # "Công đoàn Viên chức tỉnh"
    chat.press("Giáo dục")
    xlsx, _ = documents(chat)
    people = member_rows(workbook(xlsx)["Đoàn viên"])
    assert sorted(people) == ["Vũ Thị Giang", "Đỗ Văn Hải"]
    chat.press_data(first)  # an old button, or a double tap: nothing more is exported
    assert "tin nhắn cũ" in chat.last_text()
    assert not [r for r in chat.last_response.replies if isinstance(r, Document)]  # type: ignore[union-attr]
    with Session(rapp.db) as s:
        assert len(s.exec(select(AuditLog).where(AuditLog.action == "report_export")).all()) == 1


def test_a_member_is_refused(rapp, tree) -> None:  # type: ignore[no-untyped-def]
    chat = MemoryChat(rapp.engine, "77")
    register(chat, name="Mai Văn Tư", unit="Mầm non Hoa Mai")
    chat.say("/baocao")
    assert "chỉ dành cho cán bộ công đoàn" in chat.last_text()
    assert not [r for r in chat.last_response.replies if isinstance(r, Document)]  # type: ignore[union-attr]
    with Session(rapp.db) as s:
        assert s.exec(select(AuditLog).where(AuditLog.action == "report_export")).all() == []


def test_admin_gets_the_whole_tree(rapp, tree) -> None:  # type: ignore[no-untyped-def]
    chat = MemoryChat(rapp.engine, "admin")
    chat.say("/baocao")
    assert [o.label for o in chat.last_choices().options] == [
        "LĐLĐ tỉnh Mẫu",  # the one tree of the demo: all units
        "🔎 Chọn một đơn vị…",
    ]
    chat.press("LĐLĐ tỉnh Mẫu")
    xlsx, outline = documents(chat)
    assert xlsx.filename == "bao-cao-LDLD-DEMO-2026.xlsx"
    wb = workbook(xlsx)
    people = member_rows(wb["Đoàn viên"])
    assert len(people) == 8 and "Vũ Thị Giang" in people and "Đỗ Văn Hải" in people
    rows = summary_rows(wb["Tổng hợp"])
    assert list(rows)[:7] == [  # the branches as Vietnamese sorts: "các" before "ngành"
        "Tổ công đoàn Phân xưởng May 1",  # the root and the branches have no members of their own
        "Cộng CĐCS Công ty TNHH May Phú Thịnh",
        "Cộng Công đoàn các Khu công nghiệp tỉnh",
        "CĐCS Trường Mầm non Hoa Mai",
        "CĐCS Trường THCS Nguyễn Trãi",
        "CĐCS Trường THPT Lê Thánh Tông",
        "Cộng Công đoàn ngành Giáo dục",
    ]
    assert len(rows) == 15  # nine units with rows of their own, five subtotals, the total
    assert rows["Tổng cộng"][1:6] == ["LDLD-DEMO", "Cộng", 8, 5, 5]
    assert wb["Phụ lục 1"].cell(9, 4).value == 4  # party members who studied, both branches
    assert "Phạm vi: LĐLĐ tỉnh Mẫu" in docx_text(outline)
    with Session(rapp.db) as s:
        logged = s.exec(select(AuditLog).where(AuditLog.action == "report_export")).one()
        root = _unit(s, "LDLD-DEMO").id
    assert logged.detail["unit"] == root and logged.detail["members"] == 8


def test_every_tree_at_once(rapp, tree) -> None:  # type: ignore[no-untyped-def]
    """Without a top unit (an admin whose trees share one campaign): every unit is a row."""
    campaign = next(c for c in rapp.content.catalog.campaigns if c.id == CAMPAIGN)
    with Session(rapp.db) as s:
        report = reports.build(
            s,
            texts=rapp.content.texts,
            catalog=rapp.content.catalog,
            campaign=campaign,
            top=None,
            tz=rapp.settings.tz,
            now=NOW,
        )
    assert (report.units, report.members) == (13, 8)
    wb = openpyxl.load_workbook(io.BytesIO(report.xlsx))
    rows = summary_rows(wb["Tổng hợp"])
    assert rows["Cộng LĐLĐ tỉnh Mẫu"][3] == 8 and rows["Tổng cộng"][1:4] == [None, "Cộng", 8]
    assert "Tất cả đơn vị" in wb["Tổng hợp"]["A2"].value


def test_admin_picks_a_unit_in_the_tree(rapp, tree) -> None:  # type: ignore[no-untyped-def]
    chat = MemoryChat(rapp.engine, "admin")
    chat.say("/baocao")
    chat.press("Chọn một đơn vị")
    assert "Chọn đơn vị cần lập báo cáo" in chat.last_text()
    chat.say("vien chuc tinh")
    chat.press("Chọn: Công đoàn Viên chức tỉnh")
    xlsx, _ = documents(chat)
    assert len(member_rows(workbook(xlsx)["Đoàn viên"])) == 6


def test_an_empty_unit_still_gets_its_documents(rapp, tree) -> None:  # type: ignore[no-untyped-def]
    with Session(rapp.db) as s:
        me = s.exec(select(Identity).where(Identity.platform_user_id == OFFICER)).one()
        grants = s.exec(select(RoleGrant).where(RoleGrant.member_id == me.member_id)).all()
        grants[0].unit_id = _unit(s, "CDCS-THCS-NTT").id
        s.add(grants[0])
        s.commit()
    chat = MemoryChat(rapp.engine, OFFICER)
    chat.say("/baocao")
    xlsx, outline = documents(chat)
    wb = workbook(xlsx)
    assert values(wb["Đoàn viên"])[1:] == []
    assert summary_rows(wb["Tổng hợp"])["Tổng cộng"][3:7] == [0, 0, 0, None]
    assert wb["Phụ lục 1"]["E9"].value is None
    text = docx_text(outline)
    assert "0/0 đoàn viên đã học (—)" in text and "điểm bình quân —" in text


def test_odd_unit_names_do_not_break_the_documents(rapp, tree) -> None:  # type: ignore[no-untyped-def]
    odd = "CĐCS <b>Bệnh viện</b> & “Đa khoa” 👍\x07\x1b"
    with Session(rapp.db) as s:
        unit = _unit(s, "CDCS-BV-TINH")
        unit.name = odd
        s.add(unit)
        s.commit()
    chat = MemoryChat(rapp.engine, OFFICER)
    chat.say("/baocao")
    xlsx, outline = documents(chat)
    shown = "CĐCS <b>Bệnh viện</b> & “Đa khoa” 👍"
    wb = workbook(xlsx)
    assert shown in summary_rows(wb["Tổng hợp"])
    assert member_rows(wb["Đoàn viên"])["Ngô Thị Dung"][2] == shown
    assert shown in docx_text(outline)
