"""/thongke: figures by unit checked against a hand-built tree (late, returned and draft pledges,
deleted members with and without a pledge, several quiz attempts, study), officers at every level
and admins, drill-down and back up, forged and stale buttons, many units, and the chart."""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlmodel import Session, select

from bot.app import App, build_app
from bot.channels.memory import MemoryChat
from bot.messages import Choices, Photo, Text
from bot.models import (
    ConversationState,
    Identity,
    Member,
    Pledge,
    QuizAttempt,
    RoleGrant,
    StudyProgress,
    Unit,
    UnitTally,
)
from bot.services import stats, units
from scheduler.jobs import Planner
from tests.helpers import Clock

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 09:00 on 02/03/2026 in Vietnam
REAL_BUTTON = "✏️ Số đoàn viên thực tế"
CAMPAIGN = "demo-2026"  # content/campaigns.yaml: the campaign of the tree whose root is LDLD-DEMO
QUIZ = "bay-dam-2024"
TOPIC = "dan-chu-phap-che-2024"  # the campaign's yearly topic

TREE = [  # code, name, parent code: three levels under the root, and a second tree
    ("LDLD-DEMO", "LĐLĐ tỉnh Thử", ""),
    ("NG-A", "Công đoàn ngành A", "LDLD-DEMO"),
    ("A1", "CĐCS Trường Tiểu học A1", "NG-A"),
    ("A1T", "Tổ công đoàn Khối 1", "A1"),
    ("A2", "CĐCS Bệnh viện A2", "NG-A"),
    ("NG-B", "Công đoàn ngành B", "LDLD-DEMO"),
    ("B1", "CĐCS Công ty B1", "NG-B"),
    ("B2", "CĐCS UBND xã B2", "NG-B"),
    ("LDLD-KHAC", "LĐLĐ tỉnh Khác", ""),  # no campaign in content/campaigns.yaml
    ("K1", "CĐCS Nhà máy K1", "LDLD-KHAC"),
]


@dataclass(frozen=True)
class Person:
    key: str
    unit: str
    group: str = "vien_chuc"
    party: bool = False
    pledge: tuple[str, bool] | None = None  # (status, late); "draft" is never submitted
    quiz: tuple[tuple[int, bool], ...] = ()  # finished attempts: (score out of 10, passed)
    studied: bool | None = None  # True: completed the yearly topic; False: started only
    deleted: bool = False
    campaign: str = CAMPAIGN  # of the pledge and the quiz attempts


PEOPLE = [
    Person(
        "m1",
        "A1",
        party=True,
        pledge=("approved", False),
        quiz=((8, True), (6, False)),
        studied=True,
    ),
    Person("m2", "A1", "cong_chuc", pledge=("submitted", True), quiz=((5, False),)),
    Person("m3", "A1", "can_bo_cong_doan", pledge=("draft", False), studied=False),
    Person(
        "m4",
        "A1T",
        "cong_nhan_lao_dong",
        pledge=("returned", False),
        quiz=((10, True),),
        studied=True,
    ),
    # deleted (anonymized) but their pledge was submitted: counted, with their quiz and study
    Person("m5", "A1T", pledge=("approved", False), quiz=((9, True),), studied=True, deleted=True),
    Person("m6", "A2", party=True, studied=True),  # plus an unfinished attempt, below
    Person("m7", "A2", studied=True, deleted=True),  # deleted, no pledge: not counted at all
    Person("m8", "NG-A", "can_bo_cong_doan", party=True, pledge=("approved", True)),
    Person(
        "m9", "B1", "cong_nhan_lao_dong", pledge=("submitted", False), quiz=((9, True), (7, False))
    ),
    Person("m10", "B1", "cong_nhan_lao_dong", quiz=((10, True),), campaign="khac-2025"),
    Person("m11", "B1", pledge=("approved", False), campaign="khac-2025"),
    Person("m12", "K1"),
]
NAMES = {
    "m1": "Nguyễn Thị Mai",
    "m2": "Trần Văn Nam",
    "m3": "Lê Văn Ba",
    "m4": "Phạm Thị Tư",
    "m6": "Hoàng Văn Sáu",
    "m8": "Đỗ Thị Tám",
    "m9": "Vũ Văn Chín",
    "m10": "Bùi Thị Mười",
    "m11": "Ngô Văn Mười Một",
    "m12": "Đinh Thị Mười Hai",
}

# members, party, submitted, on time, late, approved, returned, not submitted,
# quiz takers, passed, average best score %, studied
ROOT = (10, 3, 6, 4, 2, 3, 1, 4, 5, 4, 82.0, 4)
H_A = (7, 3, 5, 3, 2, 3, 1, 2, 4, 3, 80.0, 4)
H_A_OWN = (1, 1, 1, 0, 1, 1, 0, 0, 0, 0, None, 0)
A1 = (5, 1, 4, 3, 1, 2, 1, 1, 4, 3, 80.0, 3)
A1_OWN = (3, 1, 2, 1, 1, 1, 0, 1, 2, 1, 65.0, 1)
A1T = (2, 0, 2, 2, 0, 1, 1, 0, 2, 2, 95.0, 2)
A2 = (1, 1, 0, 0, 0, 0, 0, 1, 0, 0, None, 1)
B1 = (3, 0, 1, 1, 0, 0, 0, 2, 1, 1, 90.0, 0)
B2 = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, None, 0)
EVERYTHING = (11, 3, 6, 4, 2, 3, 1, 5, 5, 4, 82.0, 4)  # both trees: K1's member too


def figures(f: stats.UnitFigures | None) -> tuple[object, ...]:
    assert f is not None
    avg = None if f.avg_score_pct is None else round(f.avg_score_pct, 1)
    return (
        f.members,
        f.party_members,
        f.submitted,
        f.on_time,
        f.late,
        f.approved,
        f.returned,
        f.not_submitted,
        f.quiz_takers,
        f.quiz_passed,
        avg,
        f.studied,
    )


def build_world(app: App) -> dict[str, int]:
    """The tree and the people above; returns unit ids by code and member ids by key."""
    rows = [(i, {"code": c, "name": n, "parent_code": p}) for i, (c, n, p) in enumerate(TREE, 2)]
    ids: dict[str, int] = {}
    with Session(app.db) as s:
        assert not units.import_units(s, rows).errors
        for unit in s.exec(select(Unit)).all():
            assert unit.id is not None
            ids[unit.code] = unit.id
        when = NOW - timedelta(days=3)
        for p in PEOPLE:
            member = Member(
                full_name=None if p.deleted else NAMES[p.key],
                unit_id=ids[p.unit],
                group=p.group,
                party_member=p.party,
                consent_at=when,
                deleted_at=when if p.deleted else None,
            )
            s.add(member)
            s.flush()
            assert member.id is not None
            ids[p.key] = member.id
            if not p.deleted:
                s.add(
                    Identity(
                        platform="memory",
                        platform_user_id=p.key,
                        chat_id=p.key,
                        member_id=member.id,
                    )
                )
            if p.pledge is not None:
                status, late = p.pledge
                sent = None if status == "draft" else when
                s.add(
                    Pledge(
                        member_id=member.id,
                        campaign_id=p.campaign,
                        year=2026,
                        status=status,
                        late=late,
                        first_submitted_at=sent,
                        submitted_at=sent,
                        revision=0 if sent is None else 1,
                    )
                )
            for score, passed in p.quiz:
                s.add(
                    QuizAttempt(
                        member_id=member.id,
                        campaign_id=p.campaign,
                        topic_id=QUIZ,
                        score=score,
                        total=10,
                        started_at=when,
                        finished_at=when,
                        elapsed_seconds=60,
                        passed=passed,
                    )
                )
            if p.studied is not None:
                s.add(
                    StudyProgress(
                        member_id=member.id,
                        topic_id=TOPIC,
                        section_index=2,
                        completed_at=when if p.studied else None,
                    )
                )
        # not counted: an unfinished attempt, and a study of another topic
        s.add(
            QuizAttempt(
                member_id=ids["m6"],
                campaign_id=CAMPAIGN,
                topic_id=QUIZ,
                score=9,
                total=10,
                started_at=when,
            )
        )
        s.add(StudyProgress(member_id=ids["m9"], topic_id=QUIZ, completed_at=when))
        s.commit()
    return ids


def grant(app: App, ids: dict[str, int], key: str, *codes: str) -> None:
    """Make member `key` an officer of these units (and of nothing else)."""
    with Session(app.db) as s:
        for old in s.exec(select(RoleGrant).where(RoleGrant.member_id == ids[key])).all():
            s.delete(old)
        for code in codes:
            s.add(RoleGrant(member_id=ids[key], role="officer", unit_id=ids[code], granted_by="t"))
        s.commit()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


def _app(settings, clock, content):  # type: ignore[no-untyped-def]
    return build_app(settings, clock=clock, content=content, extra_admins={"memory": {"admin"}})


@pytest.fixture
def world(settings, clock, content):  # type: ignore[no-untyped-def]
    app = _app(settings, clock, content)
    ids = build_world(app)
    yield app, ids
    app.db.dispose()


def shared_content(content):  # type: ignore[no-untyped-def]
    """The same content with the demo campaign shared by every tree (no root_unit)."""
    campaigns = [c.model_copy(update={"root_unit": None}) for c in content.catalog.campaigns]
    catalog = dataclasses.replace(content.catalog, campaigns=campaigns)
    return dataclasses.replace(content, catalog=catalog)


def raw(chat: MemoryChat) -> str:
    """The HTML of the last answer, as Telegram receives it."""
    assert chat.last_response is not None
    return "\n".join(r.text for r in chat.last_response.replies if isinstance(r, Text | Choices))


def labels(chat: MemoryChat) -> list[str]:
    return [o.label for o in chat.last_choices().options]


def photo(chat: MemoryChat) -> Photo:
    assert chat.last_response is not None
    [found] = [r for r in chat.last_response.replies if isinstance(r, Photo)]
    return found


def chart_units(png: Photo) -> list[str]:
    image = Image.open(io.BytesIO(png.data))
    return str(image.info["Description"]).split("\n")


# --- the figures ---------------------------------------------------------------------------------


def test_figures_for_each_scope(world) -> None:  # type: ignore[no-untyped-def]
    app, ids = world
    campaign = next(c for c in app.content.catalog.campaigns if c.id == CAMPAIGN)
    with Session(app.db) as s:
        unit = {code: s.get(Unit, ids[code]) for code, _, _ in TREE}
        root = stats.tree(s, campaign, unit["LDLD-DEMO"])
        assert figures(root.total) == ROOT
        assert root.total.completion_pct == 60.0 and root.total.pass_rate_pct == 80.0
        assert [(c.code, figures(c)) for c in root.children(None)] == [
            ("NG-A", H_A),
            ("NG-B", B1),  # B2 has nobody
        ]
        assert [r.code for r in root.rows()] == ["NG-A", "A2", "A1", "A1T", "NG-B", "B1", "B2"]
        assert [r.depth for r in root.rows()] == [1, 2, 2, 3, 1, 2, 2]
        assert figures(root.unit(ids["B2"])) == B2 and root.unit(ids["B2"]).completion_pct is None  # type: ignore[union-attr]
        assert figures(root.own(ids["NG-A"])) == H_A_OWN
        assert root.unit(ids["K1"]) is None  # another tree

        district = stats.tree(s, campaign, unit["NG-A"])
        assert figures(district.total) == H_A
        assert [(c.code, figures(c)) for c in district.children(ids["NG-A"])] == [
            ("A2", A2),
            ("A1", A1),
        ]
        assert figures(district.own(None)) == H_A_OWN
        assert {r.code for r in district.rows()} == {"A1", "A1T", "A2"}

        school = stats.tree(s, campaign, unit["A1"])
        assert figures(school.total) == A1
        assert figures(school.own(None)) == A1_OWN
        assert [(c.code, figures(c)) for c in school.children(None)] == [("A1T", A1T)]

        group = stats.tree(s, campaign, unit["A1T"])
        assert figures(group.total) == A1T
        assert group.children(None) == [] and group.rows() == [] and group.unit_count == 0

        everything = stats.tree(s, campaign, None)
        assert figures(everything.total) == EVERYTHING
        assert everything.total.unit_id is None and everything.total.name == ""
        assert [c.code for c in everything.children(None)] == ["LDLD-KHAC", "LDLD-DEMO"]
        assert len(everything.rows()) == len(TREE)


# --- officers and admins in the chat -------------------------------------------------------------


def test_root_officer_sees_the_totals_and_each_district(world) -> None:  # type: ignore[no-untyped-def]
    app, ids = world
    grant(app, ids, "m8", "LDLD-DEMO")
    officer = MemoryChat(app.engine, "m8")
    officer.say("/thongke")
    text = officer.last_text()
    assert "📊 Thống kê năm 2026: LĐLĐ tỉnh Thử" in text
    assert "Hạn nộp: hết ngày 09/04/2026 (còn 38 ngày)" in text
    assert "Số liệu lúc 02/03/2026 09:00" in text
    assert "TỔNG CỘNG (gồm 2 đơn vị trực thuộc)" in text
    assert "Đã tham gia trên Trợ lý: 10 đoàn viên (đảng viên: 3)" in text
    assert "Đã nộp bản đăng ký: 6/10 (60%) trên Trợ lý\n██████░░░░" in text
    assert "đúng hạn 4 · nộp muộn 2 · chưa nộp 4" in text
    assert "đã duyệt 3 · chờ duyệt 2 · trả lại 1" in text
    assert "Thi tìm hiểu: 5 người dự thi, đạt 4 (80%), điểm cao nhất bình quân 82%" in text
    assert "Học xong chuyên đề của kế hoạch: 4 người" in text
    # the lowest completion first
    assert text.index("1. Công đoàn ngành B") < text.index("2. Công đoàn ngành A")
    assert "1. Công đoàn ngành B\n📝 nộp 1/3 (33,3%) trên Trợ lý ███░░░░░░░" in text
    assert "đúng hạn 1 · muộn 0 · chưa nộp 2\n   duyệt 0 · chờ duyệt 1 · trả lại 0" in text
    assert "🧠 dự thi 1, đạt 1 (100%), điểm cao nhất BQ 90% · 📖 học xong 0" in text
    assert "2. Công đoàn ngành A\n📝 nộp 5/7 (71,4%) trên Trợ lý ███████░░░" in text
    assert "🧠 dự thi 4, đạt 3 (75%), điểm cao nhất BQ 80% · 📖 học xong 4" in text
    assert "tỉnh Khác" not in text and "K1" not in text
    assert "<b>TỔNG CỘNG</b>" in raw(officer) and "<code>██████░░░░</code>" in raw(officer)
    assert labels(officer) == [
        "🔎 1. Công đoàn ngành B",
        "🔎 2. Công đoàn ngành A",
        "📊 Biểu đồ",
        REAL_BUTTON,
    ]


def test_officers_at_each_level_see_only_their_subtree(world) -> None:  # type: ignore[no-untyped-def]
    app, ids = world
    grant(app, ids, "m1", "NG-A")
    grant(app, ids, "m2", "A1")
    grant(app, ids, "m4", "A1T")
    district, school, group = (MemoryChat(app.engine, k) for k in ("m1", "m2", "m4"))

    district.say("/thongke")
    text = district.last_text()
    assert "Thống kê năm 2026: Công đoàn ngành A" in text and "Thuộc:" not in text
    assert "Đã tham gia trên Trợ lý: 7 đoàn viên (đảng viên: 3)" in text
    assert "Đã nộp bản đăng ký: 5/7 (71,4%)" in text
    assert "đúng hạn 3 · nộp muộn 2 · chưa nộp 2" in text
    assert "đã duyệt 3 · chờ duyệt 1 · trả lại 1" in text
    assert "Thi tìm hiểu: 4 người dự thi, đạt 3 (75%), điểm cao nhất bình quân 80%" in text
    assert "Sinh hoạt trực tiếp tại Công đoàn ngành A\n📝 nộp 1/1 (100%)" in text
    assert "1. CĐCS Bệnh viện A2\n📝 nộp 0/1 (0%)" in text
    assert "🧠 chưa ai dự thi · 📖 học xong 1" in text
    assert "2. CĐCS Trường Tiểu học A1\n📝 nộp 4/5 (80%)" in text
    for outside in ("ngành B", "Công ty B1", "UBND xã B2", "tỉnh Thử", "tỉnh Khác"):
        assert outside not in text
    assert not any("Lên" in label for label in labels(district))

    school.say("/thongke")
    text = school.last_text()
    assert "Thống kê năm 2026: CĐCS Trường Tiểu học A1" in text
    assert "TỔNG CỘNG (gồm 1 đơn vị trực thuộc)" in text
    assert "Đã nộp bản đăng ký: 4/5 (80%)" in text
    assert "Thi tìm hiểu: 4 người dự thi, đạt 3 (75%), điểm cao nhất bình quân 80%" in text
    assert "Sinh hoạt trực tiếp tại CĐCS Trường Tiểu học A1\n📝 nộp 2/3 (66,7%)" in text
    assert "1. Tổ công đoàn Khối 1\n📝 nộp 2/2 (100%)" in text
    assert "Bệnh viện A2" not in text and "ngành A" not in text
    assert labels(school) == ["🔎 1. Tổ công đoàn Khối 1", "📊 Biểu đồ", REAL_BUTTON]

    group.say("/thongke")  # a unit with no children: the figures; only the real count to type
    text = group.last_text()
    assert "Thống kê năm 2026: Tổ công đoàn Khối 1" in text
    assert "TỔNG CỘNG\n👥 Đã tham gia trên Trợ lý: 2 đoàn viên (đảng viên: 0)" in text
    assert "Đã nộp bản đăng ký: 2/2 (100%) trên Trợ lý\n██████████" in text
    assert "đúng hạn 2 · nộp muộn 0 · chưa nộp 0" in text
    assert "đã duyệt 1 · chờ duyệt 0 · trả lại 1" in text
    assert "Thi tìm hiểu: 2 người dự thi, đạt 2 (100%), điểm cao nhất bình quân 95%" in text
    assert "Học xong chuyên đề của kế hoạch: 2 người" in text
    assert labels(group) == [REAL_BUTTON]


def test_admin_sees_every_tree_with_a_campaign(world) -> None:  # type: ignore[no-untyped-def]
    app, _ = world
    admin = MemoryChat(app.engine, "admin")
    admin.say("/thongke")
    text = admin.last_text()
    assert "Thống kê năm 2026: LĐLĐ tỉnh Thử" in text
    assert "Đã nộp bản đăng ký: 6/10 (60%)" in text
    assert "tỉnh Khác" not in text  # that tree has no campaign, so nothing to count


def test_admin_sees_all_trees_sharing_a_campaign(settings, clock, content) -> None:  # type: ignore[no-untyped-def]
    app = _app(settings, clock, shared_content(content))
    ids = build_world(app)
    admin = MemoryChat(app.engine, "admin")
    admin.say("/thongke")
    text = admin.last_text()
    assert "Thống kê năm 2026: Tất cả đơn vị" in text
    assert "Đã tham gia trên Trợ lý: 11 đoàn viên (đảng viên: 3)" in text
    assert "Đã nộp bản đăng ký: 6/11 (54,5%)" in text
    assert "1. LĐLĐ tỉnh Khác\n📝 nộp 0/1 (0%)" in text
    assert "2. LĐLĐ tỉnh Thử\n📝 nộp 6/10 (60%)" in text
    admin.press("tỉnh Thử")
    assert "Thống kê năm 2026: LĐLĐ tỉnh Thử\n📍 Thuộc: Tất cả đơn vị" in admin.last_text()
    admin.press("Lên: Tất cả đơn vị")
    assert "Thống kê năm 2026: Tất cả đơn vị" in admin.last_text()
    assert not any("Lên" in label for label in labels(admin))
    grant(app, ids, "m12", "LDLD-KHAC")  # an officer of the other tree: only that tree
    officer = MemoryChat(app.engine, "m12")
    officer.say("/thongke")
    text = officer.last_text()
    assert "LĐLĐ tỉnh Khác" in text and "Đã nộp bản đăng ký: 0/1 (0%)" in text
    assert "tỉnh Thử" not in text
    app.db.dispose()


def test_drill_down_and_back_up(world) -> None:  # type: ignore[no-untyped-def]
    app, ids = world
    grant(app, ids, "m8", "LDLD-DEMO")
    officer = MemoryChat(app.engine, "m8")
    officer.say("/thongke")
    officer.press("ngành A")
    text = officer.last_text()
    assert "Thống kê năm 2026: Công đoàn ngành A\n📍 Thuộc: LĐLĐ tỉnh Thử" in text
    assert "Đã nộp bản đăng ký: 5/7 (71,4%)" in text
    assert labels(officer)[-3:] == ["⬆️ Lên: LĐLĐ tỉnh Thử", "📊 Biểu đồ", REAL_BUTTON]
    officer.press("Tiểu học A1")
    text = officer.last_text()
    assert "📍 Thuộc: LĐLĐ tỉnh Thử › Công đoàn ngành A" in text
    assert "Đã nộp bản đăng ký: 4/5 (80%)" in text
    officer.press("Khối 1")
    text = officer.last_text()
    assert "📍 Thuộc: LĐLĐ tỉnh Thử › Công đoàn ngành A › CĐCS Trường Tiểu học A1" in text
    assert "Đã nộp bản đăng ký: 2/2 (100%)" in text
    assert labels(officer) == ["⬆️ Lên: CĐCS Trường Tiểu học A1", REAL_BUTTON]  # no chart
    officer.press("Lên")
    assert "Thống kê năm 2026: CĐCS Trường Tiểu học A1" in officer.last_text()
    officer.press("Lên")
    assert "Thống kê năm 2026: Công đoàn ngành A" in officer.last_text()
    officer.press("Lên")
    text = officer.last_text()
    assert "Thống kê năm 2026: LĐLĐ tỉnh Thử" in text and "Thuộc:" not in text
    assert "Đã nộp bản đăng ký: 6/10 (60%)" in text
    assert not any("Lên" in label for label in labels(officer))
    officer.say("xin chào")  # typing instead of pressing: a hint, the buttons still work
    assert "Hãy bấm một nút" in officer.last_text()
    officer.say("<b>" + "x" * 5000 + "</b> 🎉")
    assert "Hãy bấm một nút" in officer.last_text()
    officer.press("ngành B")
    assert "Thống kê năm 2026: Công đoàn ngành B" in officer.last_text()
    assert "1. CĐCS Công ty B1" in officer.last_text()
    assert "🏚 1 đơn vị trực thuộc chưa có đoàn viên tham gia trên Trợ lý." in officer.last_text()


def test_a_unit_can_be_opened_by_its_code_within_scope_only(world) -> None:  # type: ignore[no-untyped-def]
    app, ids = world
    grant(app, ids, "m1", "NG-A")
    officer = MemoryChat(app.engine, "m1")
    officer.say("/thongke A1")
    text = officer.last_text()
    assert "Thống kê năm 2026: CĐCS Trường Tiểu học A1\n📍 Thuộc: Công đoàn ngành A" in text
    assert "Đã nộp bản đăng ký: 4/5 (80%)" in text
    officer.press("Lên")
    assert "Thống kê năm 2026: Công đoàn ngành A" in officer.last_text()
    for code in ("B1", "LDLD-DEMO", "K1"):
        officer.say(f"/thongke {code}")
        assert "nằm ngoài phạm vi bạn phụ trách" in officer.last_text()
        assert "Đã nộp" not in officer.last_text()
    officer.say("/thongke KHONG-CO")
    assert "Không tìm thấy đơn vị có mã “KHONG-CO”" in officer.last_text()
    officer.say("/thongke <b>x</b>' OR 1=1; --")
    assert "&lt;b&gt;x&lt;/b&gt;" in raw(officer) and "Không tìm thấy" in officer.last_text()


def forge(app: App, user: str, index: int, data: str) -> None:
    """Change what the button at `index` on screen stands for, as a tampered state would."""
    with Session(app.db) as s:
        state = s.exec(select(ConversationState).where(ConversationState.user_id == user)).one()
        options = list(state.data["_options"])
        options[index] = data
        state.data = {**state.data, "_options": options}
        s.add(state)
        s.commit()


@pytest.mark.parametrize("target", ["B1", "NG-B", "LDLD-DEMO", "K1", "up", "page:x", "open:abc"])
def test_a_forged_button_never_shows_a_unit_outside_the_scope(world, target) -> None:  # type: ignore[no-untyped-def]
    app, ids = world
    grant(app, ids, "m1", "NG-A")
    officer = MemoryChat(app.engine, "m1")
    officer.say("/thongke")
    first = officer.last_choices().options[0]
    data = f"open:{ids[target]}" if target in ids else target
    forge(app, "m1", 0, data)
    officer.press_data(first.data)
    text = officer.last_text()
    if target in ("page:x", "open:abc"):  # not a unit: a hint, nothing shown
        assert "Hãy bấm một nút" in text
        return
    assert "nằm ngoài phạm vi bạn phụ trách" in text
    assert "Đã nộp" not in text and "ngành B" not in text and "Công ty B1" not in text


def test_a_button_pressed_after_the_scope_changed_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    app, ids = world
    grant(app, ids, "m8", "LDLD-DEMO")
    officer = MemoryChat(app.engine, "m8")
    officer.say("/thongke")
    grant(app, ids, "m8", "B1")  # now an officer of B1 only
    officer.press("ngành A")
    assert "nằm ngoài phạm vi bạn phụ trách" in officer.last_text()
    assert "5/7" not in officer.last_text()
    officer.say("/thongke")
    assert "Thống kê năm 2026: CĐCS Công ty B1" in officer.last_text()
    grant(app, ids, "m8")  # no longer an officer at all
    officer.say("/thongke")
    assert "chỉ dành cho cán bộ" in officer.last_text()


def test_an_officer_of_several_units_chooses_one(world) -> None:  # type: ignore[no-untyped-def]
    app, ids = world
    grant(app, ids, "m9", "A2", "B1", "A1T")
    officer = MemoryChat(app.engine, "m9")
    officer.say("/thongke")
    assert "Chọn đơn vị muốn xem thống kê" in officer.last_text()
    assert sorted(labels(officer)) == sorted(
        ["CĐCS Bệnh viện A2", "CĐCS Công ty B1", "Tổ công đoàn Khối 1"]
    )
    officer.press("Công ty B1")
    text = officer.last_text()
    assert "Thống kê năm 2026: CĐCS Công ty B1" in text
    assert "Đã nộp bản đăng ký: 1/3 (33,3%)" in text
    assert "Thi tìm hiểu: 1 người dự thi, đạt 1 (100%), điểm cao nhất bình quân 90%" in text


def test_figures_are_read_again_at_each_command(world) -> None:  # type: ignore[no-untyped-def]
    app, ids = world
    grant(app, ids, "m8", "LDLD-DEMO")
    officer = MemoryChat(app.engine, "m8")
    officer.say("/thongke")
    assert "Đã nộp bản đăng ký: 6/10 (60%)" in officer.last_text()
    with Session(app.db) as s:
        pledge = s.exec(select(Pledge).where(Pledge.member_id == ids["m3"])).one()
        pledge.status, pledge.first_submitted_at, pledge.submitted_at = "submitted", NOW, NOW
        s.add(pledge)
        s.commit()
    officer.say("/thongke")
    assert "Đã nộp bản đăng ký: 7/10 (70%)" in officer.last_text()


# --- who may not, and nothing to show ---------------------------------------------------------


def test_plain_member_is_told_it_is_for_officers(world) -> None:  # type: ignore[no-untyped-def]
    app, _ = world
    member = MemoryChat(app.engine, "m6")
    member.say("/thongke")
    assert "chỉ dành cho cán bộ công đoàn hoặc quản trị viên" in member.last_text()
    stranger = MemoryChat(app.engine, "999")
    stranger.say("/thongke")
    assert "Đã nộp" not in stranger.last_text()


def test_no_campaign_and_no_members_are_said_plainly(world) -> None:  # type: ignore[no-untyped-def]
    app, ids = world
    grant(app, ids, "m12", "K1")  # a tree without a campaign
    officer = MemoryChat(app.engine, "m12")
    officer.say("/thongke")
    assert "Chưa có kế hoạch học tập và làm theo nào" in officer.last_text()
    grant(app, ids, "m10", "B2")  # a unit nobody registered in
    empty = MemoryChat(app.engine, "m10")
    empty.say("/thongke")
    text = empty.last_text()
    assert "Chưa có đoàn viên nào tham gia trên Trợ lý trong CĐCS UBND xã B2" in text
    assert "Đã nộp" not in text
    assert labels(empty) == [REAL_BUTTON]  # nothing to open or chart; the real count can be typed


# --- the chart ----------------------------------------------------------------------------------


def test_chart_is_a_png_of_the_units_in_scope(world) -> None:  # type: ignore[no-untyped-def]
    app, ids = world
    grant(app, ids, "m8", "LDLD-DEMO")
    grant(app, ids, "m1", "NG-A")
    root, district = MemoryChat(app.engine, "m8"), MemoryChat(app.engine, "m1")
    root.say("/thongke")
    root.press("Biểu đồ")
    png = photo(root)
    image = Image.open(io.BytesIO(png.data))
    assert image.format == "PNG" and png.filename.endswith(".png")
    width, height = image.size
    assert 800 <= width <= 2000 and 300 <= height <= 3000
    assert image.info["Title"] == "Tỷ lệ đoàn viên đã nộp bản đăng ký – LĐLĐ tỉnh Thử"
    assert chart_units(png) == ["Công đoàn ngành B", "Công đoàn ngành A"]  # the lowest on top
    assert (
        "Hạn nộp: hết ngày 09/04/2026" in png.caption and "số liệu ngày 02/03/2026" in png.caption
    )
    assert "Bấm một đơn vị để xem chi tiết" in root.last_text()
    root.press("ngành A")  # the buttons still work after the chart
    assert "Thống kê năm 2026: Công đoàn ngành A" in root.last_text()

    district.say("/thongke")
    district.press("Biểu đồ")
    assert chart_units(photo(district)) == ["CĐCS Bệnh viện A2", "CĐCS Trường Tiểu học A1"]
    district.press("Tiểu học A1")
    district.press("Biểu đồ")
    assert chart_units(photo(district)) == ["Tổ công đoàn Khối 1"]


# --- many units -----------------------------------------------------------------------------------


def test_a_root_with_many_units_pages_and_fits_telegram(settings, clock, content) -> None:  # type: ignore[no-untyped-def]
    app = _app(settings, clock, content)
    long_tail = " – đơn vị có tên rất dài " + "x" * 200
    rows = [(1, {"code": "LDLD-DEMO", "name": "LĐLĐ tỉnh Rộng", "parent_code": ""})]
    for i in range(120):
        name = f"CĐCS số {i:03d}" + (long_tail if i % 2 else "")
        if i == 7:
            name = "<b>Tổ & Co</b> 🎉 $x$ " + "y" * 200
        rows.append((i + 2, {"code": f"U{i:03d}", "name": name, "parent_code": "LDLD-DEMO"}))
    with Session(app.db) as s:
        assert not units.import_units(s, rows).errors
        unit_ids = {u.code: u.id for u in s.exec(select(Unit)).all()}
        for i in range(120):
            for k in range(1 + i % 3):
                m = Member(
                    full_name=f"Người {i}-{k}", unit_id=unit_ids[f"U{i:03d}"], group="vien_chuc"
                )
                s.add(m)
                s.flush()
                if k < i % 3:  # unit i: i % 3 of 1 + i % 3 members submitted
                    s.add(
                        Pledge(
                            member_id=m.id,
                            campaign_id=CAMPAIGN,
                            year=2026,
                            status="submitted",
                            first_submitted_at=NOW,
                            submitted_at=NOW,
                            revision=1,
                        )
                    )
        s.commit()
    admin = MemoryChat(app.engine, "admin")
    admin.say("/thongke")
    html = raw(admin)
    assert len(html) <= 4096
    text = admin.last_text()
    assert "TỔNG CỘNG (gồm 120 đơn vị trực thuộc)" in text
    assert (
        "Đã tham gia trên Trợ lý: 240 đoàn viên" in text
        and "Đã nộp bản đăng ký: 120/240 (50%)" in text
    )
    assert "(tỷ lệ nộp thấp xếp trước) – trang 1/15" in text
    assert "… còn 112 đơn vị nữa ở các trang sau." in text
    assert "1. CĐCS số 000\n📝 nộp 0/1 (0%)" in text
    assert len(labels(admin)) == 8 + 3
    assert labels(admin)[-3:] == ["Trang sau ▶️", "📊 Biểu đồ", REAL_BUTTON]
    assert all(len(label) <= 40 for label in labels(admin))
    admin.press("Trang sau")
    assert len(raw(admin)) <= 4096
    assert "trang 2/15" in admin.last_text() and "\n9. " in admin.last_text()
    assert "◀️ Trang trước" in labels(admin)
    pages = [raw(admin)]
    while "Trang sau ▶️" in labels(admin):
        admin.press("Trang sau")
        pages.append(raw(admin))
        assert len(pages[-1]) <= 4096
    assert len(pages) == 14 and "trang 15/15" in admin.last_text()
    everything = "\n".join(pages)
    assert "<b>41. &lt;b&gt;Tổ &amp; Co&lt;/b&gt; 🎉 $x$ yyy" in everything  # shown, not markup
    assert "<b>Tổ" not in everything
    assert "\n120. CĐCS số 119" in admin.last_text()
    admin.press("Biểu đồ")
    bars = chart_units(photo(admin))
    assert len(bars) == 30  # the lowest 30; the rest are summed up under the chart
    assert bars[0] == "CĐCS số 000" and not any("🎉" in b for b in bars)
    app.db.dispose()


# --- the scheduler's tally, for large scopes ---------------------------------------------


def test_a_large_scope_reads_the_scheduler_tally(world, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The tally the scheduler refreshes gives the same figures as counting live; /thongke uses
    it for a large scope while it is recent (and says its time), small scopes are read live."""
    app, ids = world
    campaign = next(c for c in app.content.catalog.campaigns if c.id == CAMPAIGN)
    planner = Planner(app.db, app.content, app.settings, platforms={"memory"})
    clock.now = NOW - timedelta(minutes=9)
    planner.tick(clock.now)  # a tree too small for its tally ever to be read: none is made
    with Session(app.db) as s:
        assert s.exec(select(UnitTally)).first() is None
    monkeypatch.setattr(stats, "TALLY_MIN_MEMBERS", 5)  # the fixture tree counts as large
    clock.now = NOW - timedelta(minutes=4)
    planner.tick(clock.now)  # refreshes the tally of every tree with a campaign
    clock.now = NOW
    with Session(app.db) as s:
        root = s.get(Unit, ids["LDLD-DEMO"])
        district_b = s.get(Unit, ids["NG-B"])  # 3 members: read live
        tallied = stats.tree(s, campaign, root, now=NOW)
        live = stats.tree(s, campaign, root)
        assert tallied.as_of == NOW - timedelta(minutes=4) and live.as_of is None
        assert figures(tallied.total) == figures(live.total) == ROOT
        assert [figures(r) for r in tallied.rows()] == [figures(r) for r in live.rows()]
        assert stats.tree(s, campaign, district_b, now=NOW).as_of is None
    grant(app, ids, "m8", "LDLD-DEMO")
    officer = MemoryChat(app.engine, "m8")
    officer.say("/thongke")
    assert "Số liệu lúc 02/03/2026 08:56" in officer.last_text()
    assert "Đã nộp bản đăng ký: 6/10 (60%)" in officer.last_text()

    clock.now = NOW + stats.TALLY_MAX_AGE  # the scheduler stopped: counted live again
    officer.say("/thongke")
    assert "Số liệu lúc 02/03/2026 09:15" in officer.last_text()
