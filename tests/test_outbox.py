"""The outbox over real HTTP: the delivery worker and the real python-telegram-bot code against the
Bot API double. Each recipient gets a broadcast exactly once, at the rate, whatever happens."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, select
from telegram.error import RetryAfter

from bot.app import quiet_noisy_loggers
from bot.channels.telegram import TelegramSender, build_application, send_result
from bot.content import Content
from bot.db import make_engine
from bot.models import (
    Broadcast,
    BroadcastKind,
    BroadcastStatus,
    GroupLink,
    Identity,
    Member,
    OutboxMessage,
    OutboxStatus,
    Pledge,
    PledgeStatus,
    Unit,
)
from bot.services import outbox
from bot.services.outbox import Recipient, SendResult
from scheduler.delivery import DeliveryWorker
from tests.conftest import make_settings
from tests.doubles.telegram_api import DEFAULT_TOKEN, FakeTelegramAPI

START = datetime(2026, 5, 19, 1, 0, tzinfo=UTC)
OFFICER_CHAT = "900"
FIRST_USER = 10_001
TEXT = "<b>Thông báo</b> họp công đoàn &amp; sinh hoạt chuyên đề tháng 5 tại hội trường"


class FakeTime:
    """A clock that only moves when workers sleep: hours of pacing run in milliseconds. Sleepers
    wake in the order of their wake times, as in real time: the clock jumps to the earliest one
    (two workers sleeping side by side do not add up their sleeps)."""

    def __init__(self, start: datetime = START):
        self.now = start
        self._wakes: list[datetime] = []

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wake = self.now + timedelta(seconds=max(seconds, 0.0))
        self._wakes.append(wake)
        try:
            while self.now < wake:
                if wake <= min(self._wakes):
                    self.now = wake
                else:  # another sleeper wakes first
                    await asyncio.sleep(0)
        finally:
            self._wakes.remove(wake)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Event:
    kind: str  # "start" or "end"
    chat_id: str
    at: datetime
    result: SendResult | None = None


@dataclass
class Recording:
    """Wraps a sender: when each call starts and ends on the fake clock, in the order seen."""

    inner: Any
    time: FakeTime
    events: list[Event] = field(default_factory=list)
    hook: Any = None  # async (chat_id, number of calls so far) -> None, before each call

    def __getattr__(self, name: str) -> Any:  # platform, limits: those of the wrapped sender
        return getattr(self.inner, name)

    async def send(
        self, chat_id: str, text: str, photo: bytes | None = None, *, kind: str | None = None
    ) -> SendResult:
        self.events.append(Event("start", chat_id, self.time()))
        if self.hook is not None:
            await self.hook(chat_id, sum(e.kind == "start" for e in self.events))
        result = await self.inner.send(chat_id, text, photo, kind=kind)
        self.events.append(Event("end", chat_id, self.time(), result))
        return result

    def starts(self) -> list[datetime]:
        return [e.at for e in self.events if e.kind == "start"]


@pytest.fixture
def api() -> Iterator[FakeTelegramAPI]:
    with FakeTelegramAPI() as fake:
        yield fake


@pytest.fixture
def db(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
async def bot(db_url: str, api: FakeTelegramAPI) -> AsyncIterator[Any]:
    settings = make_settings(db_url, telegram_bot_token=api.token, telegram_api_base_url=api.root)
    built = build_application(settings).bot
    yield built
    await built.shutdown()


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


def worker(db: Engine, sender: Any, content: Content, time: FakeTime, **kw: Any) -> DeliveryWorker:
    kw.setdefault("rate_per_second", 30)
    kw.setdefault("sleep", time.sleep)
    return DeliveryWorker(db, sender, texts=content.texts, clock=time, **kw)


def add_members(db: Engine, n: int, first: int = FIRST_USER) -> list[tuple[int, str]]:
    """n members with a Telegram identity each (private chat id == user id): (member id, chat)."""
    with Session(db) as s:
        unit = s.exec(select(Unit).where(Unit.code == "T-UNIT")).first()
        if unit is None:
            unit = Unit(code="T-UNIT", name="Đơn vị thử", search_name="don vi thu", path="/")
            s.add(unit)
            s.flush()
            unit.path = f"/{unit.id}/"
        members = [Member(unit_id=unit.id, group="vien_chuc") for _ in range(n)]  # type: ignore[arg-type]
        s.add_all(members)
        s.flush()
        out = []
        for i, member in enumerate(members):
            chat = str(first + i)
            s.add(
                Identity(
                    platform="telegram", platform_user_id=chat, chat_id=chat, member_id=member.id
                )
            )
            out.append((member.id, chat))
        s.commit()
    return out  # type: ignore[return-value]


def add_broadcast(db: Engine, **kw: Any) -> int:
    values: dict[str, Any] = {
        "kind": BroadcastKind.ANNOUNCEMENT,
        "status": BroadcastStatus.SENDING,
        "text": TEXT,
        "created_by": "telegram:900",
        "report_platform": "telegram",
        "report_chat_id": OFFICER_CHAT,
        "scheduled_at": START,
        "started_at": START,
    }
    values.update(kw)
    with Session(db) as s:
        broadcast = Broadcast(**values)
        s.add(broadcast)
        s.commit()
        assert broadcast.id is not None
        return broadcast.id


def enqueue(db: Engine, broadcast_id: int, members: list[tuple[int, str]], **kw: Any) -> int:
    with Session(db) as s:
        added = outbox.enqueue(
            s, broadcast_id, (Recipient("telegram", chat, m, **kw) for m, chat in members)
        )
        s.commit()
    return added


def sends(api: FakeTelegramAPI) -> Counter[str]:
    """Successful sendMessage/sendPhoto calls per chat."""
    return Counter(
        str(c.chat_id) for c in api.calls if c.method in ("sendMessage", "sendPhoto") and c.ok
    )


def rows(db: Engine, broadcast_id: int) -> dict[str, OutboxMessage]:
    with Session(db) as s:
        found = s.exec(select(OutboxMessage).where(OutboxMessage.broadcast_id == broadcast_id))
        return {r.chat_id: r for r in found}


def broadcast(db: Engine, broadcast_id: int) -> Broadcast:
    with Session(db) as s:
        found = s.get(Broadcast, broadcast_id)
        assert found is not None
        return found


def reports(api: FakeTelegramAPI) -> list[str]:
    return [c.params["text"] for c in api.calls_of("sendMessage") if str(c.chat_id) == OFFICER_CHAT]


def most_in_window(times: list[datetime], seconds: float) -> int:
    """The most calls that started within any `seconds`-long window."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while (t - times[lo]).total_seconds() >= seconds:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


# -- delivered exactly once, at the rate, with a report ------------------------------------------


async def test_250_recipients_get_it_exactly_once_at_the_rate_with_a_report(
    db, api, bot, time, content
) -> None:
    members = add_members(db, 250)
    bid = add_broadcast(db)
    assert enqueue(db, bid, members) == 250
    assert enqueue(db, bid, members) == 0  # idempotent: listing twice adds nothing
    with Session(db) as s:
        assert outbox.counts(s, bid)["pending"] == 250
    sender = Recording(TelegramSender(bot), time)
    w = worker(db, sender, content, time, rate_per_second=30)

    assert await w.drain() == 250

    got = sends(api)
    assert all(got[chat] == 1 for _, chat in members), "each chat exactly once"
    assert sum(got[chat] for _, chat in members) == 250
    starts = sender.starts()[:-1]  # the last call is the report
    assert most_in_window(starts, 1.0) <= 31  # at most rate (+1 at the window's edges)
    assert (starts[-1] - starts[0]).total_seconds() >= 249 / 30 - 0.01
    done = broadcast(db, bid)
    assert done.status == BroadcastStatus.DONE and done.finished_at is not None
    (report,) = reports(api)
    assert "<b>250/250</b>" in report and "lỗi: 0" in report
    assert "“Thông báo họp công đoàn &amp; sinh hoạt…”" in report  # whole words of 40 characters
    assert "Không rõ" not in report
    with Session(db) as s:
        assert outbox.counts(s, bid) == {**dict.fromkeys(map(str, OutboxStatus), 0)} | {
            "sent": 250,
            "total": 250,
        }
    assert await w.drain() == 0  # nothing left, no second report
    assert len(reports(api)) == 1


async def test_a_report_left_by_a_process_that_died_is_sent_once(
    db, api, bot, time, content
) -> None:
    """The broadcast was closed (DONE) but the process died before the report went out."""
    members = add_members(db, 3)
    bid = add_broadcast(db)
    enqueue(db, bid, members)
    old = add_broadcast(db, status=BroadcastStatus.DONE, finished_at=START - timedelta(days=2))
    with Session(db) as s:
        s.execute(
            update(OutboxMessage).where(OutboxMessage.broadcast_id == bid).values(status="sent")
        )
        b = s.get(Broadcast, bid)
        assert b is not None
        b.status, b.finished_at = BroadcastStatus.DONE, START
        s.add(b)
        s.commit()

    await worker(db, TelegramSender(bot), content, time).drain()
    await worker(db, TelegramSender(bot), content, time).drain()  # a second process: nothing more

    (report,) = reports(api)
    assert "<b>3/3</b>" in report
    assert broadcast(db, bid).report_sent_at is not None
    assert broadcast(db, old).report_sent_at is None  # days old: not worth sending any more
    assert sends(api)[members[0][1]] == 0  # the members got theirs before the crash


async def test_rate_setting_above_telegram_limit_is_capped(db, api, bot, time, content) -> None:
    members = add_members(db, 90)
    bid = add_broadcast(db, report_chat_id=None)
    enqueue(db, bid, members)
    sender = Recording(TelegramSender(bot), time)
    w = worker(db, sender, content, time, rate_per_second=500)
    assert w.rate == 30
    await w.drain()
    assert most_in_window(sender.starts(), 1.0) <= 31
    assert sum(sends(api).values()) == 90


# -- a crash, then a new process -----------------------------------------------------------------


async def test_crash_mid_batch_then_resume_sends_each_once_and_reports_the_unknown(
    db, api, bot, time, content, monkeypatch
) -> None:
    members = add_members(db, 60)
    bid = add_broadcast(db)
    enqueue(db, bid, members)
    hung = asyncio.Event()

    async def die_in_the_26th_call(chat_id: str, calls: int) -> None:
        if calls == 26:  # this call goes through, then the process dies before recording it
            await TelegramSender(bot).send(chat_id, TEXT)
            hung.set()
            await asyncio.Event().wait()

    first = Recording(TelegramSender(bot), time, hook=die_in_the_26th_call)
    dying = worker(db, first, content, time, batch_size=20, concurrency=1, worker_id="dead")
    task = asyncio.create_task(dying.run(asyncio.Event()))
    await asyncio.wait_for(hung.wait(), 10)
    monkeypatch.setattr(outbox, "release", lambda *a, **k: 0)  # a killed process cleans nothing
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    monkeypatch.undo()
    with Session(db) as s:
        left = outbox.counts(s, bid)
    assert (left["sent"], left["sending"], left["claimed"]) == (25, 1, 14)
    in_flight = next(r for r in rows(db, bid).values() if r.status == OutboxStatus.SENDING)

    time.advance(180)  # the new process starts later than `stale_after`
    stop = asyncio.Event()
    second = worker(db, TelegramSender(bot), content, time, worker_id="new")
    task = asyncio.create_task(second.run(stop))
    await api.await_for_call("sendMessage", lambda c: str(c.chat_id) == OFFICER_CHAT, timeout=20)
    stop.set()
    await asyncio.wait_for(task, 10)

    got = sends(api)
    assert [chat for _, chat in members if got[chat] != 1] == []  # nobody twice, nobody missed
    final = rows(db, bid)
    assert final[in_flight.chat_id].status == OutboxStatus.UNKNOWN  # not resent
    assert Counter(r.status for r in final.values()) == {"sent": 59, "unknown": 1}
    (report,) = reports(api)
    assert "<b>59/60</b>" in report and "không rõ: 1" in report
    assert "hệ thống dừng đột ngột" in report  # the note explaining "unknown"
    assert broadcast(db, bid).status == BroadcastStatus.DONE


async def test_at_a_high_rate_a_crash_still_sends_each_once(
    db, api, bot, time, content, monkeypatch
) -> None:
    """Above 100/s rows are started and recorded in groups: a crash leaves more rows SENDING
    (unknown), never one sent twice."""
    members = add_members(db, 300)
    bid = add_broadcast(db)
    enqueue(db, bid, members)
    hung = asyncio.Event()

    async def die_in_call_150(chat_id: str, calls: int) -> None:
        if calls == 150:
            hung.set()
            await asyncio.Event().wait()

    fast = TelegramSender(bot)
    fast.max_rate_per_second = None  # the limit lifted, as in the benchmark's ceiling run
    first = Recording(fast, time, hook=die_in_call_150)
    dying = worker(db, first, content, time, rate_per_second=10_000, concurrency=8)
    task = asyncio.create_task(dying.drain())
    await asyncio.wait_for(hung.wait(), 10)
    monkeypatch.setattr(outbox, "release", lambda *a, **k: 0)
    monkeypatch.setattr(DeliveryWorker, "_record", lambda *a, **k: 0)  # nothing cleaned up
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    monkeypatch.undo()
    with Session(db) as s:
        assert outbox.recover(s, now=time() + timedelta(minutes=3))[1] >= 1
        s.commit()
    again = TelegramSender(bot)
    again.max_rate_per_second = None
    await worker(db, again, content, time, rate_per_second=10_000, concurrency=8).drain()

    got = sends(api)
    assert max(got[chat] for _, chat in members) == 1  # never twice
    final = rows(db, bid)
    assert all(got[chat] == 1 or final[chat].status == "unknown" for _, chat in members)
    assert {r.status for r in final.values()} == {"sent", "unknown"}
    assert broadcast(db, bid).status == BroadcastStatus.DONE


async def test_recover_requeues_claimed_and_marks_sending_unknown_only_when_stale(db) -> None:
    members = add_members(db, 10)
    bid = add_broadcast(db)
    enqueue(db, bid, members)
    with Session(db) as s:
        claimed, _ = outbox.claim(s, platform="telegram", worker_id="w1", now=START, limit=4)
        outbox.start(s, worker_id="w1", now=START, send=[claimed[0].id])
        assert outbox.recover(s, now=START + timedelta(seconds=60)) == (0, 0)  # still fresh
        assert outbox.recover(s, now=START + timedelta(minutes=3), exclude_worker="w1") == (0, 0)
        assert outbox.recover(s, now=START + timedelta(minutes=3)) == (3, 1)
        s.commit()
        figures = outbox.counts(s, bid)
    assert (figures["pending"], figures["unknown"], figures["claimed"]) == (9, 1, 0)


# -- what Telegram answers -----------------------------------------------------------------------


async def test_429_pauses_all_sending_for_retry_after_and_delivers_once(
    db, api, bot, time, content
) -> None:
    members = add_members(db, 40)
    bid = add_broadcast(db)
    enqueue(db, bid, members)
    throttled = members[5][1]
    api.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 7",
        retry_after=7,
        chat_id=throttled,
    )
    sender = Recording(TelegramSender(bot), time)
    await worker(db, sender, content, time).drain()

    events = sender.events
    at = next(
        i for i, e in enumerate(events) if e.result is not None and e.result.status == "retry_after"
    )
    assert events[at].result.retry_after == 7  # type: ignore[union-attr]
    later = [e.at for e in events[at + 1 :] if e.kind == "start"]
    assert later and min(later) >= events[at].at + timedelta(seconds=7)
    assert sends(api)[throttled] == 1
    row = rows(db, bid)[throttled]
    assert row.status == OutboxStatus.SENT and row.attempts == 1  # the 429 is not a failure
    assert all(sends(api)[chat] == 1 for _, chat in members)


async def test_403_blocks_the_row_and_the_identity_and_an_inactive_group(
    db, api, bot, time, content
) -> None:
    members = add_members(db, 5)
    bid = add_broadcast(db)
    enqueue(db, bid, members)
    with Session(db) as s:
        unit = s.exec(select(Unit).where(Unit.code == "T-UNIT")).one()
        assert unit.id is not None
        s.add(GroupLink(platform="telegram", chat_id="-1001", unit_id=unit.id, linked_by="t"))
        s.commit()
        outbox.enqueue(s, bid, [Recipient("telegram", "-1001", None, True)])
        s.commit()
    blocker, gone = members[1][1], members[3][1]
    api.fail_next(
        "sendMessage",
        error_code=403,
        description="Forbidden: bot was blocked by the user",
        chat_id=blocker,
    )
    api.fail_next(
        "sendMessage", error_code=400, description="Bad Request: chat not found", chat_id=gone
    )
    api.fail_next(
        "sendMessage",
        error_code=403,
        description="Forbidden: bot was kicked from the group chat",
        chat_id="-1001",
    )
    await worker(db, TelegramSender(bot), content, time).drain()

    final = rows(db, bid)
    assert final[blocker].status == final[gone].status == OutboxStatus.BLOCKED
    assert final[blocker].last_error == "blocked by the user"
    assert final["-1001"].status == OutboxStatus.BLOCKED
    with Session(db) as s:
        blocked = {i.chat_id for i in s.exec(select(Identity).where(Identity.blocked))}
        group = s.exec(select(GroupLink)).one()
    assert blocked == {blocker, gone}  # the recipient listing skips them from now on
    assert group.active is False
    (report,) = reports(api)
    assert "<b>3/6</b>" in report and "chặn Trợ lý/rời nhóm: 3" in report


async def test_500s_are_retried_with_backoff_then_failed(db, api, bot, time, content) -> None:
    members = add_members(db, 3)
    bid = add_broadcast(db)
    enqueue(db, bid, members)
    broken, flaky = members[0][1], members[1][1]
    api.fail_next(
        "sendMessage", times=10, error_code=500, description="Internal Server Error", chat_id=broken
    )
    api.fail_next(
        "sendMessage", times=1, error_code=500, description="Internal Server Error", chat_id=flaky
    )
    sender = Recording(TelegramSender(bot), time)
    w = worker(db, sender, content, time, max_attempts=5)
    for _ in range(40):  # the scheduler's loop: deliver what is due, time passes
        await w.drain()
        if broadcast(db, bid).status == BroadcastStatus.DONE:
            break
        time.advance(1)

    tries = [e.at for e in sender.events if e.kind == "start" and e.chat_id == broken]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(tries)]
    assert len(tries) == 5
    assert all(g >= want for g, want in zip(gaps, (2, 4, 8, 16), strict=True)), gaps
    final = rows(db, bid)
    assert final[broken].status == OutboxStatus.FAILED and final[broken].attempts == 5
    assert final[broken].last_error == "network: Internal Server Error"
    assert final[flaky].status == OutboxStatus.SENT and sends(api)[flaky] == 1
    (report,) = reports(api)
    assert "<b>2/3</b>" in report and "lỗi: 1" in report


async def test_a_message_telegram_rejects_fails_at_once(db, api, bot, time, content) -> None:
    members = add_members(db, 2)
    bid = add_broadcast(db, text="<b>không đóng thẻ", report_chat_id=None)
    enqueue(db, bid, members)
    await worker(db, TelegramSender(bot), content, time).drain()
    final = rows(db, bid)
    assert {r.status for r in final.values()} == {OutboxStatus.FAILED}
    assert {r.attempts for r in final.values()} == {1}
    assert all(
        (r.last_error or "").lower().startswith("bad request: can't parse") for r in final.values()
    )


# -- no longer needed, cancelled -----------------------------------------------------------------


async def test_a_reminder_to_a_member_who_has_submitted_meanwhile_is_skipped(
    db, api, bot, time, content
) -> None:
    members = add_members(db, 4)
    bid = add_broadcast(db, kind=BroadcastKind.REMINDER, campaign_id="demo-2026")
    enqueue(db, bid, members)
    submitted, draft = members[2], members[3]
    with Session(db) as s:  # after the listing: one submits, another only has a draft
        s.add(
            Pledge(
                member_id=submitted[0],
                campaign_id="demo-2026",
                year=2026,
                status=PledgeStatus.SUBMITTED,
                first_submitted_at=START,
                submitted_at=START,
            )
        )
        s.add(Pledge(member_id=draft[0], campaign_id="demo-2026", year=2026))
        s.commit()
    await worker(db, TelegramSender(bot), content, time).drain()

    assert sends(api)[submitted[1]] == 0 and sends(api)[draft[1]] == 1
    assert rows(db, bid)[submitted[1]].status == OutboxStatus.SKIPPED
    (report,) = reports(api)
    assert "<b>3/4</b>" in report and "không cần gửi nữa: 1" in report


async def test_cancel_stops_what_is_not_sent_yet(db, api, bot, time, content) -> None:
    members = add_members(db, 30)
    bid = add_broadcast(db)
    enqueue(db, bid, members)

    async def officer_cancels_after_10(chat_id: str, calls: int) -> None:
        if calls == 10:
            with Session(db) as s:
                stopped = outbox.cancel(s, bid)
                found = s.get(Broadcast, bid)
                assert found is not None
                found.status = BroadcastStatus.CANCELLED
                s.add(found)
                s.commit()
            assert stopped == 20  # pending and claimed rows; this one is already being sent

    sender = Recording(TelegramSender(bot), time, hook=officer_cancels_after_10)
    await worker(db, sender, content, time, batch_size=25, concurrency=1).drain()

    assert sum(sends(api).values()) == 10
    assert Counter(r.status for r in rows(db, bid).values()) == {"sent": 10, "cancelled": 20}
    assert broadcast(db, bid).status == BroadcastStatus.CANCELLED and reports(api) == []
    with Session(db) as s:
        assert outbox.cancel(s, bid) == 0


# -- photos and groups ---------------------------------------------------------------------------


async def test_a_photo_is_uploaded_once_then_reused(db, api, bot, time, content) -> None:
    members = add_members(db, 12)
    photo = b"\x89PNG\r\n\x1a\n" + b"0" * 5000
    short = add_broadcast(db, photo=photo, report_chat_id=None)
    long = add_broadcast(db, photo=photo, text="Bài viết dài. " * 100, report_chat_id=None)
    enqueue(db, short, members)
    enqueue(db, long, members[:2])
    await worker(db, TelegramSender(bot), content, time).drain()

    photos = api.calls_of("sendPhoto")
    assert len(photos) == 14 and all(c.ok for c in photos)
    assert sum("photo" in c.files for c in photos) == 1  # one upload; file_id afterwards
    captions = [c.params.get("caption") for c in photos]
    assert captions.count(TEXT) == 12 and captions.count(None) == 2  # too long for a caption
    for _, chat in members[:2]:
        texts = [c.text for c in api.sent_to(chat)]
        assert texts[-1] == "Bài viết dài. " * 100  # the text follows the photo
    assert {r.status for r in rows(db, long).values()} == {OutboxStatus.SENT}


async def test_a_group_gets_at_most_20_messages_a_minute(db, api, bot, time, content) -> None:
    ids = [add_broadcast(db, report_chat_id=None, text=f"Tin số {n}") for n in range(25)]
    with Session(db) as s:
        for bid in ids:
            outbox.enqueue(s, bid, [Recipient("telegram", "-1002", None, True)])
        s.commit()
    sender = Recording(TelegramSender(bot), time)
    w = worker(db, sender, content, time)
    await w.drain()
    assert sends(api)["-1002"] == 20  # the other 5 wait for their minute
    time.advance(61)
    await w.drain()
    assert sends(api)["-1002"] == 25
    assert most_in_window(sender.starts(), 60.0) <= 20


# -- the worker's life ---------------------------------------------------------------------------


async def test_run_stops_soon_and_gives_back_what_it_did_not_attempt(db, api, bot, content) -> None:
    members = add_members(db, 100)
    bid = add_broadcast(db)
    enqueue(db, bid, members)
    stop = asyncio.Event()
    w = DeliveryWorker(db, TelegramSender(bot), texts=content.texts, rate_per_second=30)
    task = asyncio.create_task(w.run(stop))
    await api.await_for(lambda: sum(sends(api).values()) >= 10, timeout=10)
    stop.set()
    await asyncio.wait_for(task, 2)
    figures = Counter(r.status for r in rows(db, bid).values())
    assert set(figures) == {"sent", "pending"} and figures["sent"] == sum(sends(api).values())
    assert broadcast(db, bid).status == BroadcastStatus.SENDING


async def test_logs_carry_ids_not_texts_chats_or_the_token(
    db, api, bot, time, content, caplog
) -> None:
    quiet_noisy_loggers()
    caplog.set_level(logging.DEBUG)
    members = add_members(db, 3, first=987_650_001)
    bid = add_broadcast(db, text="Bí mật Nguyễn Văn An")
    enqueue(db, bid, members)
    api.fail_next(
        "sendMessage", error_code=403, description="Forbidden: bot was blocked by the user"
    )
    api.fail_next("sendMessage", error_code=500, description="Internal Server Error")
    await worker(db, TelegramSender(bot), content, time, worker_id="w-log").drain()
    logged = caplog.text
    assert f"broadcast={bid}" in logged
    assert "Nguyễn" not in logged and "Bí mật" not in logged and "98765" not in logged
    assert api.token not in logged and api.token.split(":")[1] not in logged


def test_telegram_errors_map_to_what_the_worker_does() -> None:
    assert send_result(RetryAfter(timedelta(seconds=3))) == SendResult(
        "retry_after", retry_after=3.0, error="flood limit"
    )
    assert send_result(RetryAfter(12)).retry_after == 12.0
    assert send_result(ValueError("boom")) == SendResult("error", error="ValueError")


async def test_an_unreachable_api_is_a_retryable_error(db_url, content) -> None:
    settings = make_settings(
        db_url, telegram_bot_token=DEFAULT_TOKEN, telegram_api_base_url="http://127.0.0.1:9"
    )  # nothing listens there
    bot = build_application(settings).bot
    result = await TelegramSender(bot).send("1", "xin chào")
    await bot.shutdown()
    assert result.status == "error" and result.retryable


# -- several workers (PostgreSQL) ----------------------------------------------------------------


async def test_two_workers_side_by_side_never_send_a_row_twice(db, db_url, api, content) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("several workers need PostgreSQL (FOR UPDATE SKIP LOCKED)")
    members = add_members(db, 300)
    bid = add_broadcast(db)
    enqueue(db, bid, members)
    settings = make_settings(db_url, telegram_bot_token=api.token, telegram_api_base_url=api.root)
    bots = [build_application(settings).bot for _ in range(2)]
    time = FakeTime()
    senders = [Recording(TelegramSender(b), time) for b in bots]
    workers = [
        worker(db, sender, content, time, batch_size=20, worker_id=f"w{n}")
        for n, sender in enumerate(senders)
    ]
    await asyncio.gather(*(w.drain() for w in workers))
    for b in bots:
        await b.shutdown()

    got = sends(api)
    assert [chat for _, chat in members if got[chat] != 1] == []
    assert workers[0].sent > 0 and workers[1].sent > 0
    assert workers[0].sent + workers[1].sent == 300
    assert len(reports(api)) == 1 and "<b>300/300</b>" in reports(api)[0]
    # the 30/s limit is the bot's, not each process's: both workers together keep it
    starts = [
        e.at for w in senders for e in w.events if e.kind == "start" and e.chat_id != OFFICER_CHAT
    ]
    assert most_in_window(starts, 1.0) <= 31
    assert (max(starts) - min(starts)).total_seconds() >= 299 / 30 - 0.01


async def test_a_429_seen_by_one_worker_pauses_the_other(db, db_url, api, content) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("several workers need PostgreSQL (FOR UPDATE SKIP LOCKED)")
    members = add_members(db, 40)
    bid = add_broadcast(db)
    enqueue(db, bid, members)
    api.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 9",
        retry_after=9,
        chat_id=members[0][1],
    )
    settings = make_settings(db_url, telegram_bot_token=api.token, telegram_api_base_url=api.root)
    bots = [build_application(settings).bot for _ in range(2)]
    time = FakeTime()
    first, second = (Recording(TelegramSender(b), time) for b in bots)
    stop = asyncio.Event()

    async def stop_instead_of_waiting(seconds: float) -> None:  # worker 1 stops at its first wait
        stop.set()
        await asyncio.sleep(0)

    await worker(db, first, content, time, sleep=stop_instead_of_waiting, worker_id="w1").run(stop)
    told = next(e for e in first.events if e.result and e.result.status == "retry_after")
    await worker(db, second, content, time, worker_id="w2").drain()
    for b in bots:
        await b.shutdown()

    starts = [e.at for e in second.events if e.kind == "start"]
    assert starts and min(starts) >= told.at + timedelta(seconds=9)
    assert [chat for _, chat in members if sends(api)[chat] != 1] == []


def test_two_workers_in_threads_claim_disjoint_rows(db, db_url, api, content) -> None:
    """Truly concurrent claims (two threads, two event loops, two connections)."""
    if db_url.startswith("sqlite"):
        pytest.skip("several workers need PostgreSQL (FOR UPDATE SKIP LOCKED)")
    members = add_members(db, 300)
    bid = add_broadcast(db)
    enqueue(db, bid, members)
    settings = make_settings(db_url, telegram_bot_token=api.token, telegram_api_base_url=api.root)
    counts: list[int] = []
    errors: list[BaseException] = []

    def one(n: int) -> None:
        async def go() -> None:
            bot = build_application(settings).bot
            time = FakeTime()
            w = worker(db, TelegramSender(bot), content, time, batch_size=10, worker_id=f"t{n}")
            try:
                await w.drain()
            finally:
                await bot.shutdown()
            counts.append(w.sent)

        try:
            asyncio.run(go())
        except BaseException as exc:  # reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    got = sends(api)
    assert [chat for _, chat in members if got[chat] != 1] == []
    assert sum(counts) == 300 and min(counts) > 0
    assert len(reports(api)) == 1
