"""The turn of the year with a moving clock: 15/12/2026, 01/01/2027, 15/01/2027 and 01/11/2027,
with and without a 2027 plan. What /dangky, /thi and /thongke show, and what the admins are
reminded of, at each: last year's pledge is never shown as due nor reminded, last year's
self-assessment stays open until its window closes, members are reminded of the pledge of the
year's plan only, and from 1/11 (not before) the admins hear weekly that next year's plan is
missing."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.app import build_app, load_demo_units
from bot.channels.memory import MemoryChat
from bot.models import Identity, RoleGrant
from bot.services import plandrafts, plans
from scheduler.delivery import DeliveryWorker
from scheduler.jobs import Planner
from tests.helpers import Clock, register
from tests.test_pledge import submit, write_pledge
from tests.test_scheduler import MemorySender

VN = timedelta(hours=7)


def local(y: int, m: int, d: int, hh: int = 9) -> datetime:
    return datetime(y, m, d, hh, tzinfo=UTC) - VN


@pytest.fixture
def clock() -> Clock:
    return Clock(local(2026, 3, 10))


@pytest.fixture
def world(settings, clock, content):  # type: ignore[no-untyped-def]
    """The demo tree with its 2026 plan (self-assessment open until 20/01/2027), an admin, a
    member who submitted the 2026 pledge (An) and one who did not (Bình)."""
    presets = []
    for preset in content.catalog.campaigns:
        assert preset.pledge is not None
        rule = preset.pledge.model_copy(update={"assessment_closes": date(2027, 1, 20)})
        presets.append(preset.model_copy(update={"pledge": rule}))
    changed = dataclasses.replace(
        content, catalog=dataclasses.replace(content.catalog, campaigns=presets)
    )
    app = build_app(settings, clock=clock, content=changed)
    load_demo_units(app)
    admin = MemoryChat(app.engine, "admin")
    register(admin, name="Quản Trị Viên", unit="Trung tâm Y tế")
    with Session(app.db) as s:
        ident = s.exec(select(Identity).where(Identity.platform_user_id == "admin")).one()
        s.add(RoleGrant(member_id=ident.member_id, role="admin", granted_by="t"))
        s.commit()
    an = MemoryChat(app.engine, "an")
    register(an, name="Nguyễn Văn An")
    write_pledge(an)
    submit(an)
    binh = MemoryChat(app.engine, "binh")
    register(binh, name="Trần Thị Bình")
    yield app, admin, an, binh
    app.db.dispose()


def make_2027(app, when: datetime) -> None:  # type: ignore[no-untyped-def]
    """The admins made next year's plan on 20/11/2026 (as /kehoach does, tested elsewhere)."""
    with Session(app.db) as s:
        made, _base = plandrafts.draft(s, app.content.catalog, root="LDLD-DEMO", year=2027)
        plans.create(s, made, by="memory:admin", now=when)
        s.commit()


class Scheduler:
    """The planner and the outbox on the test clock; what reaches the admin's chat."""

    def __init__(self, app, clock: Clock):  # type: ignore[no-untyped-def]
        self.clock = clock
        self.sender = MemorySender()
        self.planner = Planner(app.db, app.content, app.settings, platforms={"memory"})

        async def no_sleep(seconds: float) -> None:
            clock.now += timedelta(seconds=seconds)

        self.worker = DeliveryWorker(
            app.db,
            self.sender,
            texts=app.content.texts,
            rate_per_second=1000,
            clock=clock,
            sleep=no_sleep,
        )

    def run(self) -> list[str]:
        """One round now; the plan reminders the admin got in it."""
        before = len(self.sender.to("admin"))
        self.planner.tick(self.clock.now)
        asyncio.run(self.worker.drain())
        return [t for t in self.sender.to("admin")[before:] if "chưa có kế hoạch năm" in t]

    def pledge_reminders(self, member: str) -> list[str]:
        """Every pledge reminder the member got so far."""
        return [t for t in self.sender.to(member) if "nộp bản đăng ký" in t and "⏰" in t]


@pytest.mark.parametrize("with_2027", [True, False], ids=["with-2027-plan", "without-2027-plan"])
def test_the_turn_of_the_year(world, clock, with_2027: bool) -> None:  # type: ignore[no-untyped-def]
    app, admin, an, binh = world
    scheduler = Scheduler(app, clock)
    clock.now = local(2026, 11, 20)
    if with_2027:
        make_2027(app, clock.now)

    # 15/12/2026: still the 2026 plan; its self-assessment is open
    clock.now = local(2026, 12, 15)
    an.say("/dangky")
    assert "năm 2026" in an.last_text() and "Đã mở tự đánh giá cuối năm" in an.last_text()
    binh.say("/dangky")
    assert "năm 2026" in binh.last_text() and "Hạn nộp đã qua" in binh.last_text()
    an.say("/thi")
    assert "Chọn bài thi" in an.last_text()
    admin.say("/thongke")
    assert "Thống kê năm 2026: LĐLĐ tỉnh Mẫu" in admin.last_text()
    reminded = scheduler.run()
    if with_2027:
        assert reminded == []
    else:
        assert len(reminded) == 1 and "LĐLĐ tỉnh Mẫu chưa có kế hoạch năm 2027" in reminded[0]
        assert "/kehoach" in reminded[0]
        clock.now += timedelta(hours=3)
        assert scheduler.run() == []  # once a week
        clock.now = local(2026, 12, 22)
        assert len(scheduler.run()) == 1  # the next week

    # 01/01/2027 and 15/01/2027: the new year
    for day in (local(2027, 1, 1), local(2027, 1, 15)):
        clock.now = day
        an.say("/dangky")
        text = an.last_text()
        assert "Hạn nộp đã qua" not in text and "quá" not in text
        if with_2027:
            assert "năm 2027" in text and "hết ngày 09/04/2027" in text
            assert "Tự đánh giá cuối năm 2026 vẫn đang mở" in text  # last year's, until 20/01
            assert "📊 Tự đánh giá năm 2026" in [o.label for o in an.last_choices().options]
        else:
            assert "Kế hoạch năm 2026 đã hết năm" in text and "đến hết ngày 20/01/2027" in text
            labels = [o.label for o in an.last_choices().options]
            assert "📊 Tự đánh giá cuối năm" in labels and not any("Viết" in x for x in labels)
        binh.say("/dangky")
        if with_2027:
            assert "năm 2027" in binh.last_text() and "hết ngày 09/04/2027" in binh.last_text()
            assert "✍️ Bắt đầu viết" in [o.label for o in binh.last_choices().options]
        else:
            assert "chưa có kế hoạch học tập và làm theo năm 2027" in binh.last_text()
            assert "2026" not in binh.last_text()
        binh.say("/thi")
        expected = "Chọn bài thi" if with_2027 else "chưa có kế hoạch học tập và làm theo năm 2027"
        assert expected in binh.last_text()
        admin.say("/thongke")
        if with_2027:
            assert "Thống kê năm 2027: LĐLĐ tỉnh Mẫu" in admin.last_text()
        else:
            text = admin.last_text()
            assert "Thống kê năm 2026: LĐLĐ tỉnh Mẫu" in text
            assert "Chưa có kế hoạch năm 2027: đây là số liệu của kế hoạch năm 2026" in text
            assert "Hạn nộp" not in text and "/kehoach" in text
        reminded = scheduler.run()
        if with_2027:
            assert reminded == []
        else:  # no plan for the year that has begun: still reminded, weekly
            assert len(reminded) == 1 and "chưa có kế hoạch năm 2027" in reminded[0]

    # 15/01/2027: An sends last year's self-assessment, through the plan of 2026
    an.say("/dangky")
    an.press("Tự đánh giá năm 2026" if with_2027 else "Tự đánh giá cuối năm")
    if with_2027:
        assert "năm 2026" in an.last_text()
        an.press("Tự đánh giá cuối năm")
    an.press("Đã thực hiện")
    an.press("Bỏ qua")
    assert "TỰ ĐÁNH GIÁ CUỐI NĂM 2026" in an.last_text()
    an.press("Gửi tự đánh giá")
    assert "Đã gửi bản tự đánh giá" in an.last_text()
    clock.now = local(2027, 1, 21)  # the window has closed
    an.say("/dangky")
    assert "Tự đánh giá năm 2026" not in an.last_text()
    if not with_2027:
        assert "chưa có kế hoạch học tập và làm theo năm 2027" in an.last_text()

    # 02/04/2027, 7 days before the last day of 2027's pledge: reminded of 2027's only; without
    # a 2027 plan, of nothing (2026's deadline is long past and its year is over)
    clock.now = local(2027, 4, 2, 8)
    scheduler.run()
    for member in ("an", "binh"):
        got = scheduler.pledge_reminders(member)
        assert not any("2026" in t for t in got), got
        if with_2027:
            assert len(got) == 1 and "Nhắc nộp bản đăng ký học tập và làm theo năm 2027" in got[0]
            assert "hết ngày 09/04/2027" in got[0]
        else:
            assert got == []

    # 31/10/2027, late in the evening: not yet a word about 2028
    for hour in (9, 23):
        clock.now = local(2027, 10, 31, hour)
        reminded = scheduler.run()
        assert not any("2028" in t for t in reminded), reminded
        if with_2027:
            assert reminded == []
        else:  # this year's plan is still missing: that reminder goes on, weekly
            assert len(reminded) == (1 if hour == 9 else 0)
            assert all("chưa có kế hoạch năm 2027" in t for t in reminded)

    # 01/11/2027: next year's plan is due
    clock.now = local(2027, 11, 1)
    binh.say("/dangky")
    dangky = binh.last_text()
    binh.say("/thi")
    thi = binh.last_text()
    admin.say("/thongke")
    reminded = scheduler.run()
    assert len(reminded) == 1 and "LĐLĐ tỉnh Mẫu chưa có kế hoạch năm 2028" in reminded[0]
    if with_2027:  # 2027's own pledge, overdue this year: that is right
        assert "năm 2027" in dangky and "Hạn nộp đã qua" in dangky
        assert "Chọn bài thi" in thi
        assert "Thống kê năm 2027" in admin.last_text()
    else:
        assert "chưa có kế hoạch học tập và làm theo năm 2027" in dangky and "2026" not in dangky
        assert "chưa có kế hoạch học tập và làm theo năm 2027" in thi
        assert "Thống kê năm 2026" in admin.last_text()
    for member in ("an", "binh"):  # the whole of 2027: never a reminder of 2026's pledge
        assert not any("2026" in t for t in scheduler.pledge_reminders(member))
