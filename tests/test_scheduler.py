"""The scheduler over a simulated year: anniversary posts, pledge reminders, officers' report
reminders and announcements reach exactly the right chats exactly once, restarts included."""

from __future__ import annotations

import io
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlmodel import Session, select

from bot.app import build_app, load_demo_units
from bot.channels.memory import MemoryChat
from bot.messages import Photo
from bot.models import (
    AuditLog,
    Broadcast,
    BroadcastStatus,
    GroupLink,
    Identity,
    Member,
    Pledge,
    PledgeStatus,
    RoleGrant,
    Unit,
)
from bot.services.outbox import SendResult
from scheduler.delivery import DeliveryWorker
from scheduler.jobs import Planner
from tests.helpers import Clock, register

VN = timedelta(hours=7)


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """A Vietnam wall-clock time as an aware UTC datetime."""
    return datetime(y, m, d, hh, mm, tzinfo=UTC) - VN


class MemorySender:
    """Delivers to a list instead of a platform."""

    platform = "memory"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.photos: dict[str, list[bytes]] = {}

    async def send(
        self, chat_id: str, text: str, photo: bytes | None = None, *, kind: str | None = None
    ) -> SendResult:
        self.sent.append((chat_id, text))
        if photo is not None:
            self.photos.setdefault(chat_id, []).append(photo)
        return SendResult("sent")

    def to(self, chat_id: str) -> list[str]:
        return [text for chat, text in self.sent if chat == chat_id]


@pytest.fixture
def clock() -> Clock:
    return Clock(local(2026, 1, 1))


@pytest.fixture
def sapp(settings, clock, content):  # type: ignore[no-untyped-def]
    built = build_app(settings, clock=clock, content=content)
    load_demo_units(built)
    yield built
    built.db.dispose()


@pytest.fixture
def sender() -> MemorySender:
    return MemorySender()


@pytest.fixture
def run(sapp, clock, sender):  # type: ignore[no-untyped-def]
    """Tick the planner at the clock's time and deliver everything due."""
    planner = Planner(sapp.db, sapp.content, sapp.settings, platforms={"memory"})

    async def fake_sleep(seconds: float) -> None:
        clock.now += timedelta(seconds=seconds)

    worker = DeliveryWorker(
        sapp.db,
        sender,
        texts=sapp.content.texts,
        rate_per_second=1000,
        clock=clock,
        sleep=fake_sleep,
    )

    async def step() -> None:
        planner.tick(clock.now)
        await worker.drain()

    return step


def add_member(app, name: str, unit: str, chat: str, **kw: object) -> int:  # type: ignore[no-untyped-def]
    with Session(app.db) as s:
        unit_id = s.exec(select(Unit.id).where(Unit.code == unit)).one()
        member = Member(full_name=name, unit_id=unit_id, group="vien_chuc", **kw)
        s.add(member)
        s.flush()
        s.add(Identity(platform="memory", platform_user_id=chat, chat_id=chat, member_id=member.id))
        s.commit()
        assert member.id is not None
        return member.id


def submit_pledge(app, member_id: int, at: datetime) -> None:  # type: ignore[no-untyped-def]
    with Session(app.db) as s:
        s.add(
            Pledge(
                member_id=member_id,
                campaign_id="demo-2026",
                year=2026,
                status=PledgeStatus.SUBMITTED,
                draft={},
                content={},
                first_submitted_at=at,
                submitted_at=at,
                revision=1,
            )
        )
        s.commit()


async def test_a_whole_year(sapp, clock, sender, run) -> None:  # type: ignore[no-untyped-def]
    calendar = sapp.content.calendar
    add_member(sapp, "Nguyễn Văn Một", "CDCS-MN-HM", "m1")  # never submits
    late = add_member(sapp, "Trần Thị Hai", "CDCS-CTY-MAY", "m2")
    early = add_member(sapp, "Lê Văn Ba", "TO-CD-MAY-1", "m3")
    add_member(sapp, "Phạm Thị Bốn", "CDCS-MN-HM", "m4", mute_anniversaries=True)
    add_member(sapp, "Hoàng Văn Năm", "CDCS-MN-HM", "m5", deleted_at=local(2026, 1, 1))
    officer = add_member(sapp, "Đỗ Thị Sáu", "CDCS-MN-HM", "m6")
    blocked = add_member(sapp, "Vũ Văn Bảy", "CDCS-MN-HM", "m7")
    with Session(sapp.db) as s:
        unit = s.exec(select(Unit).where(Unit.code == "CDCS-MN-HM")).one()
        s.add(RoleGrant(member_id=officer, role="officer", unit_id=unit.id, granted_by="t"))
        s.add(GroupLink(platform="memory", chat_id="g1", unit_id=unit.id, linked_by="t"))
        ident = s.exec(select(Identity).where(Identity.member_id == blocked)).one()
        ident.blocked = True
        s.add(ident)
        s.commit()
    submit_pledge(sapp, early, local(2026, 2, 10, 9))
    submitted_late = False
    end = local(2027, 1, 1)
    while clock.now < end:
        if not submitted_late and clock.now >= local(2026, 4, 4, 10):
            submit_pledge(sapp, late, clock.now)  # after the 7-day reminder, before the 3-day one
            submitted_late = True
        await run()
        clock.now += timedelta(hours=3)

    topic = sapp.content.catalog.topics["dan-chu-phap-che-2024"]
    posts = [
        calendar.render(
            e, 2026, topic=topic.short_title, topic_title=topic.title, tz=sapp.settings.tz
        )[0]
        for e in calendar.events
    ]
    assert len(posts) >= 3
    for chat in ("m1", "m2", "m3", "m6", "g1"):  # each post exactly once, as rendered
        got = [t for t in sender.to(chat) if t in posts]
        assert sorted(got) == sorted(posts), chat
    for chat in ("m4", "m5", "m7"):  # muted posts, deleted, blocked
        assert not any(t in posts for t in sender.to(chat)), chat

    def reminders(chat: str) -> list[str]:
        return [t for t in sender.to(chat) if "Nhắc nộp bản đăng ký" in t]

    assert len(reminders("m1")) == 3 and "Còn <b>7 ngày</b>" in reminders("m1")[0]
    assert len(reminders("m2")) == 1  # stopped after submitting
    assert reminders("m3") == []  # submitted in February
    assert len(reminders("m4")) == 3  # reminders cannot be muted
    assert len(reminders("m6")) == 3
    report = [t for t in sender.to("m6") if "Nhắc hạn báo cáo" in t]
    assert len(report) == 4  # two reports, 7 days and 1 day before each
    assert "06/05/2026" in report[0] and "11/11/2026" in report[-1]
    every = Counter(sender.sent)
    assert max(every.values()) == 1  # nothing twice


async def test_restart_before_during_and_after_a_post(sapp, clock, sender, run, caplog) -> None:  # type: ignore[no-untyped-def]
    add_member(sapp, "Nguyễn Văn Một", "CDCS-MN-HM", "m1")
    event = next(e for e in sapp.content.calendar.events if (e.day, e.month) == (19, 5))
    due = event.occurrence(2026, sapp.settings.tz)
    clock.now = due - timedelta(minutes=1)
    await run()
    assert sender.to("m1") == []
    clock.now = due + timedelta(hours=3)  # down from before 07:00 until 10:00: within the window
    await run()
    await run()
    clock.now = due + timedelta(hours=5)
    await run()
    assert len([t for t in sender.to("m1") if "1890" in t]) == 1

    later = next(e for e in sapp.content.calendar.events if (e.day, e.month) == (28, 7))
    clock.now = later.occurrence(2026, sapp.settings.tz) + timedelta(hours=7)  # beyond 6 hours
    with caplog.at_level(logging.WARNING):
        await run()
    assert "skipped past its grace window: anniversary:" in caplog.text
    clock.now += timedelta(hours=1)
    await run()
    assert not any("1929" in t for t in sender.to("m1"))
    with Session(sapp.db) as s:
        statuses = Counter(b.status for b in s.exec(select(Broadcast)).all())
    assert statuses[BroadcastStatus.SKIPPED] >= 1


async def test_announcement_preview_equals_what_is_sent(sapp, clock, sender, run) -> None:  # type: ignore[no-untyped-def]
    clock.now = local(2026, 3, 20, 9)
    postbox: dict = {}  # type: ignore[type-arg]
    officer = MemoryChat(sapp.engine, "o1", postbox=postbox)
    register(officer, name="Phạm Văn Tâm", unit="Mầm non Hoa Mai", group="Cán bộ công đoàn")
    member = MemoryChat(sapp.engine, "a1", postbox=postbox)
    register(member, name="Lê Thị Mai", unit="Mầm non Hoa Mai")
    outsider = MemoryChat(sapp.engine, "b1", postbox=postbox)
    register(outsider, name="Trần Văn Nam", unit="May Phú Thịnh")
    with Session(sapp.db) as s:
        ident = s.exec(select(Identity).where(Identity.platform_user_id == "o1")).one()
        unit = s.exec(select(Unit).where(Unit.code == "CDCS-MN-HM")).one()
        s.add(RoleGrant(member_id=ident.member_id, role="officer", unit_id=unit.id, granted_by="t"))
        other = s.exec(select(Unit).where(Unit.code == "CDCS-CTY-MAY")).one()
        s.commit()
        other_id = other.id
    officer.say("/thongbao")
    officer.say("ngắn")
    assert "quá ngắn" in officer.last_text()
    officer.say("Mời đoàn viên dự buổi sinh hoạt chuyên đề <b>quý I</b> lúc 14:00 thứ Sáu.")
    labels = [o.label for o in officer.last_choices().options]
    assert not any("May Phú Thịnh" in label for label in labels)  # outside the subtree
    officer.press_data(f"{officer.last_choices().options[0].data.split(':')[0]}:99")
    officer.say(f"t:{other_id}")  # typing a forged target is just text: asked again
    officer.press("Hoa Mai")
    preview = officer.texts()[1]
    assert "khoảng 2 người nhận" in officer.texts()[0]
    officer.press("Hẹn giờ")
    officer.say("31/02/2026 07:30")
    assert "Chưa đúng dạng" in officer.last_text()
    officer.say("19/03/2026 07:30")
    assert "đã qua" in officer.last_text()
    officer.say("25/03/2026 07:30")
    assert "Đã hẹn gửi" in officer.last_text() and "25/03/2026 07:30" in officer.last_text()
    officer.say("/lich")
    assert "25/03/2026 07:30" in officer.last_text()
    clock.now = local(2026, 3, 25, 7, 29)
    await run()
    assert sender.to("a1") == []
    clock.now = local(2026, 3, 25, 7, 30)
    await run()
    from bot.messages import to_plain

    assert [to_plain(t) for t in sender.to("a1")] == [preview]
    assert sender.to("b1") == []
    assert len(sender.to("o1")) == 2  # the officer is a member of the unit, and gets the report
    assert "Kết quả gửi" in sender.to("o1")[-1] and "2/2" in sender.to("o1")[-1]


async def test_group_link_and_mute_choices(sapp, clock, sender, run) -> None:  # type: ignore[no-untyped-def]
    clock.now = local(2026, 5, 18, 9)
    postbox: dict = {}  # type: ignore[type-arg]
    officer = MemoryChat(sapp.engine, "o1", postbox=postbox)
    register(officer, name="Phạm Văn Tâm", unit="Mầm non Hoa Mai", group="Cán bộ công đoàn")
    member = MemoryChat(sapp.engine, "a1", postbox=postbox)
    register(member, name="Lê Thị Mai", unit="Mầm non Hoa Mai")
    with Session(sapp.db) as s:
        ident = s.exec(select(Identity).where(Identity.platform_user_id == "o1")).one()
        unit = s.exec(select(Unit).where(Unit.code == "CDCS-MN-HM")).one()
        s.add(RoleGrant(member_id=ident.member_id, role="officer", unit_id=unit.id, granted_by="t"))
        s.commit()
    officer.say("/ganhom")
    assert "gõ /ganhom ngay trong nhóm" in officer.last_text()
    in_group = MemoryChat(sapp.engine, "o1", chat_id="g9", postbox=postbox)
    in_group.say("/ganhom", chat_type="group")
    in_group.press("Hoa Mai")
    assert "Đã gắn nhóm này với CĐCS Trường Mầm non Hoa Mai" in in_group.last_text()
    stranger = MemoryChat(sapp.engine, "a1", chat_id="g9", postbox=postbox)
    stranger.say("/ganhom", chat_type="group")
    assert "chỉ dành cho cán bộ" in stranger.last_text()

    member.say("/toi")
    assert "bài đăng ngày kỷ niệm: đang bật" in member.last_text()
    member.press("Tắt bài đăng ngày kỷ niệm")
    assert "Đã lưu" in member.texts()[0] and "kỷ niệm: đang tắt" in member.last_text()
    clock.now = local(2026, 5, 19, 7, 5)
    await run()
    assert any("1890" in t for t in sender.to("g9"))  # the linked group
    assert any("1890" in t for t in sender.to("o1"))
    assert sender.to("a1") == []  # muted
    member.say("/toi")
    member.press("Bật bài đăng ngày kỷ niệm")
    with Session(sapp.db) as s:
        me = s.exec(select(Member).where(Member.full_name == "Lê Thị Mai")).one()
    assert me.mute_anniversaries is False


async def test_an_officer_nudges_who_has_not_submitted_once_a_day(sapp, clock, sender, run) -> None:  # type: ignore[no-untyped-def]
    clock.now = local(2026, 3, 20, 9)
    postbox: dict = {}  # type: ignore[type-arg]
    chats = {}
    for chat, name, unit in [
        ("o1", "Phạm Văn Tâm", "Mầm non Hoa Mai"),
        ("a1", "Lê Thị Mai", "Mầm non Hoa Mai"),
        ("a2", "Đỗ Văn Hùng", "Mầm non Hoa Mai"),
        ("a3", "Vũ Thị Lan", "Mầm non Hoa Mai"),
        ("b1", "Trần Văn Nam", "May Phú Thịnh"),
    ]:
        chats[chat] = MemoryChat(sapp.engine, chat, postbox=postbox)
        register(chats[chat], name=name, unit=unit)
    with Session(sapp.db) as s:
        ids = {
            i.platform_user_id: i.member_id
            for i in s.exec(select(Identity).where(Identity.platform == "memory"))
        }
        unit = s.exec(select(Unit).where(Unit.code == "CDCS-MN-HM")).one()
        s.add(RoleGrant(member_id=ids["o1"], role="officer", unit_id=unit.id, granted_by="t"))
        s.commit()
    submit_pledge(sapp, ids["a3"], local(2026, 3, 19, 10))
    officer = chats["o1"]

    officer.say("/chuanop")
    officer.press("Nhắc người chưa nộp")
    preview = officer.last_text()
    assert "sẽ gửi tới 3 người chưa nộp" in preview  # o1, a1, a2; a3 has submitted
    assert "nhắc bạn nộp bản đăng ký học tập và làm theo năm 2026" in preview
    assert "còn 20 ngày" in preview
    officer.say("gửi đi")  # typed instead of pressed: asked again, nothing sent
    assert "📨 Gửi nhắc (3 người)" in [o.label for o in officer.last_choices().options]
    officer.press("Gửi nhắc")
    assert "Đã xếp lời nhắc" in officer.last_text()
    officer.say("/chuanop")  # a second nudge the same day is refused, with the time of the first
    officer.press("Nhắc người chưa nộp")
    assert "đã được nhắc (lúc 20/03/2026 09:00)" in officer.last_text()
    with Session(sapp.db) as s:  # now also in charge of the unit above: its members overlap
        above = s.exec(select(Unit).where(Unit.code == "CD-NGANH-GD")).one()
        s.add(RoleGrant(member_id=ids["o1"], role="officer", unit_id=above.id, granted_by="t"))
        s.commit()
    officer.say("/chuanop")
    officer.press("Nhắc người chưa nộp – Công đoàn ngành Giáo dục")
    assert "chưa nộp của CĐCS Trường Mầm non Hoa Mai đã được nhắc" in officer.last_text()

    submit_pledge(sapp, ids["a2"], local(2026, 3, 20, 9, 1))  # submits before it goes out
    clock.now = local(2026, 3, 20, 9, 2)
    await run()
    assert len(sender.to("a1")) == 1 and "nhắc bạn nộp" in sender.to("a1")[0]
    assert sender.to("a2") == [] and sender.to("a3") == [] and sender.to("b1") == []
    *_, report = sender.to("o1")
    assert "Kết quả gửi" in report and "<b>2/2</b>" in report  # o1 and a1
    with Session(sapp.db) as s:
        audit = s.exec(select(AuditLog).where(AuditLog.action == "nudge")).one()
    assert audit.detail["members"] == 3 and "Mai" not in str(audit.detail)

    clock.now = local(2026, 3, 21, 9)  # the next day the officer may nudge again
    officer.say("/chuanop")
    officer.press("Nhắc người chưa nộp")
    assert "sẽ gửi tới 2 người chưa nộp" in officer.last_text()


async def test_an_announcement_with_a_photo(sapp, clock, sender, run) -> None:  # type: ignore[no-untyped-def]
    clock.now = local(2026, 3, 20, 9)
    officer = MemoryChat(sapp.engine, "o1")
    register(officer, name="Phạm Văn Tâm", unit="Mầm non Hoa Mai", group="Cán bộ công đoàn")
    member = MemoryChat(sapp.engine, "a1")
    register(member, name="Lê Thị Mai", unit="Mầm non Hoa Mai")
    with Session(sapp.db) as s:
        ident = s.exec(select(Identity).where(Identity.platform_user_id == "o1")).one()
        unit = s.exec(select(Unit).where(Unit.code == "CDCS-MN-HM")).one()
        s.add(RoleGrant(member_id=ident.member_id, role="officer", unit_id=unit.id, granted_by="t"))
        s.commit()
    picture = io.BytesIO()
    Image.new("RGB", (32, 32), (0, 90, 200)).save(picture, format="PNG")
    photo = picture.getvalue()

    officer.say("/thongbao")
    officer.send_photo(b"x" * 2_000_000, "Ảnh quá lớn kèm nội dung thông báo")
    assert "lớn quá (2,0 MB, tối đa 1,5 MB)" in officer.last_text()
    officer.send_photo(photo, "Ảnh hội thi “Cán bộ công đoàn giỏi” năm 2026 – mời đoàn viên cổ vũ!")
    officer.press("Hoa Mai")
    shown = [r for r in officer.last_response.replies if isinstance(r, Photo)]  # type: ignore[union-attr]
    assert len(shown) == 1 and shown[0].data == photo
    officer.press("Gửi ngay")
    await run()
    assert sender.photos["a1"] == [photo]
    (text,) = sender.to("a1")
    assert text == shown[0].caption  # the caption previewed is the one sent
    assert "Cán bộ công đoàn giỏi" in text


async def test_an_announcement_found_weeks_late_is_not_sent_and_the_officer_is_told(
    sapp, clock, sender, run
) -> None:  # type: ignore[no-untyped-def]
    """Scheduled for 10/12 07:30; the bot was down and first ran again on 15/01: stale news is
    not sent, and the officer hears so once."""
    clock.now = local(2026, 12, 1, 9)
    postbox: dict = {}  # type: ignore[type-arg]
    officer = MemoryChat(sapp.engine, "o1", postbox=postbox)
    register(officer, name="Phạm Văn Tâm", unit="Mầm non Hoa Mai", group="Cán bộ công đoàn")
    member = MemoryChat(sapp.engine, "a1", postbox=postbox)
    register(member, name="Lê Thị Mai", unit="Mầm non Hoa Mai")
    with Session(sapp.db) as s:
        ident = s.exec(select(Identity).where(Identity.platform_user_id == "o1")).one()
        unit = s.exec(select(Unit).where(Unit.code == "CDCS-MN-HM")).one()
        s.add(RoleGrant(member_id=ident.member_id, role="officer", unit_id=unit.id, granted_by="t"))
        s.commit()
    officer.say("/thongbao")
    officer.say("Mời đoàn viên dự tổng kết năm lúc 14:00 tại hội trường.")
    officer.press("Hoa Mai")
    officer.press("Hẹn giờ")
    officer.say("10/12 7h30")  # no year, a "h": as people type it
    assert "Đã hẹn gửi" in officer.last_text() and "10/12/2026 07:30" in officer.last_text()
    clock.now = local(2027, 1, 15, 8)
    await run()
    await run()
    assert sender.to("a1") == []
    told = sender.to("o1")
    assert len(told) == 1 and "không được gửi" in told[0] and "10/12/2026 07:30" in told[0]
    with Session(sapp.db) as s:
        late = s.exec(select(Broadcast).where(Broadcast.kind == "announcement")).one()
    assert late.status == "skipped"
