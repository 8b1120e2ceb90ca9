"""Mass messages to Zalo through the outbox (rate, 429 and 5xx, blocked users, the month's message
limit with its priorities), both channels in one process, photos and files by link, and a start
that survives an unreachable platform."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.app import App
from bot.channels.telegram import TelegramChannel, TelegramSender
from bot.channels.zalo import ZaloChannel, ZaloClient, ZaloSender, sender
from bot.models import (
    Broadcast,
    BroadcastKind,
    BroadcastStatus,
    Identity,
    Member,
    OutboxMessage,
    RoleGrant,
    Unit,
)
from bot.server import serve
from bot.services import files, outbox, quota
from bot.services.outbox import Recipient
from scheduler.delivery import DeliveryWorker
from scheduler.jobs import Planner
from tests.doubles.telegram_api import FakeTelegramAPI
from tests.doubles.zalo_api import FakeZaloAPI
from tests.test_outbox import FakeTime, Recording, most_in_window
from tests.test_zalo_e2e import _wait_http, free_port, register, say, zalo_app

START = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)
OFFICER = "0ff1ce0ff1ce0ff1"


@pytest.fixture
def api():  # type: ignore[no-untyped-def]
    with FakeZaloAPI(max_poll_timeout=0.5) as fake:
        yield fake


def zalo_members(db: Engine, n: int, prefix: str = "z") -> list[tuple[int, str]]:
    """n members of the first unit with a Zalo account each: (member id, chat id)."""
    with Session(db) as s:
        unit = s.exec(select(Unit).order_by(Unit.id)).first()  # type: ignore[arg-type]
        assert unit is not None
        out = []
        for i in range(n):
            member = Member(unit_id=unit.id, group="vien_chuc")  # type: ignore[arg-type]
            s.add(member)
            s.flush()
            chat = f"{prefix}{i:05d}"
            s.add(
                Identity(platform="zalo", platform_user_id=chat, chat_id=chat, member_id=member.id)
            )
            out.append((member.id, chat))
        s.commit()
    return out  # type: ignore[return-value]


def broadcast(db: Engine, members: list[tuple[int, str]], **kw: Any) -> int:
    values: dict[str, Any] = {
        "kind": BroadcastKind.ANNOUNCEMENT,
        "status": BroadcastStatus.SENDING,
        "text": "<b>Thông báo</b> sinh hoạt chuyên đề &amp; học tập",
        "created_by": f"zalo:{OFFICER}",
        "report_platform": "zalo",
        "report_chat_id": OFFICER,
        "scheduled_at": START,
        "started_at": START,
    }
    values.update(kw)
    with Session(db) as s:
        row = Broadcast(**values)
        s.add(row)
        s.flush()
        assert row.id is not None
        outbox.enqueue(s, row.id, (Recipient("zalo", c, m) for m, c in members))
        s.commit()
        return row.id


def statuses(db: Engine, broadcast_id: int) -> Counter[str]:
    with Session(db) as s:
        found = s.exec(select(OutboxMessage).where(OutboxMessage.broadcast_id == broadcast_id))
        return Counter(r.status for r in found)


@pytest.fixture
async def zsender(app: App, api: FakeZaloAPI) -> AsyncIterator[ZaloSender]:
    client = ZaloClient(api.token, api.root)
    limit = app.settings.monthly_limit("zalo")
    counter = quota.Counter(
        app.db, platform="zalo", limit=limit, tz=app.settings.tz, clock=lambda: START
    )
    yield ZaloSender(
        client,
        files=files.Publisher(app.db, "http://127.0.0.1:9", lambda: START),
        counter=counter,
    )
    await client.aclose()


def delivery(app: App, zs: ZaloSender, time: FakeTime, rate: float = 10) -> DeliveryWorker:
    return DeliveryWorker(
        app.db, zs, texts=app.content.texts, rate_per_second=rate, clock=time, sleep=time.sleep
    )


async def test_zalo_delivery_keeps_its_rate_retries_429_and_500_and_marks_blocked(
    app, api, zsender
) -> None:
    time = FakeTime(START)
    members = zalo_members(app.db, 40)
    api.fail_next("sendMessage", 1, error_code=429, description="Too Many Requests")
    api.fail_next("sendMessage", 2, error_code=500, description="Internal", chat_id=members[5][1])
    api.block(members[7][1])
    bid = broadcast(app.db, members)
    recorded = Recording(zsender, time)
    worker = delivery(app, recorded, time, rate=10)  # type: ignore[arg-type]
    await worker.drain()
    for _ in range(3):  # the retries of the 500s are due 2 s, then 4 s later
        time.advance(5)
        await worker.drain()
    got = Counter(c.chat_id for c in api.calls_of("sendMessage") if c.ok)
    wrong = {chat: got[chat] for _, chat in members if got[chat] != 1}
    assert wrong == {members[7][1]: 0}, wrong
    assert got[members[7][1]] == 0
    assert statuses(app.db, bid) == Counter({"sent": 39, "blocked": 1})
    # the Zalo rate setting (10/s here), not Telegram's 30, also when the 429 pause ends
    starts = sorted(recorded.starts())
    assert most_in_window(starts, 1.0) <= 11, [(t - START).total_seconds() for t in starts]
    with Session(app.db) as s:
        blocked = s.exec(select(Identity).where(Identity.chat_id == members[7][1])).one()
    assert blocked.blocked
    report = api.texts_to(OFFICER)[-1]
    assert "Đã gửi: 39/40" in report and "chặn Trợ lý/rời nhóm: 1" in report
    assert "<b>" not in report  # plain text on Zalo


async def test_a_month_that_runs_out_holds_the_posts_first_and_never_goes_over(
    db_url, api, content
) -> None:
    """A plan of 20 messages a month: replies may use it all, posts only 75% of it. The posts
    that would pass are held and reported; the platform never refuses a message for its quota."""
    from bot.app import build_app, load_demo_units
    from tests.conftest import make_settings

    settings = make_settings(db_url, zalo_monthly_message_limit=20)
    built = build_app(settings, content=content)
    load_demo_units(built)
    api.monthly_limit = 20  # the platform refuses the 21st: the bot must never get there
    client = ZaloClient(api.token, api.root)
    counter = quota.Counter(
        built.db, platform="zalo", limit=20, tz=settings.tz, clock=lambda: START
    )
    zs = ZaloSender(client, files=files.Publisher(built.db, "", lambda: START), counter=counter)
    time = FakeTime(START)
    members = zalo_members(built.db, 12)
    post = broadcast(built.db, members, kind=BroadcastKind.ANNIVERSARY, report_chat_id=None)
    await delivery(built, zs, time).drain()
    assert statuses(built.db, post) == Counter({"sent": 12})  # posts may use 15 of 20
    more = zalo_members(built.db, 8, prefix="y")
    news = broadcast(built.db, more)  # an announcement may go up to 17
    await delivery(built, zs, time).drain()
    assert statuses(built.db, news) == Counter({"sent": 5, "held": 3})
    report = api.texts_to(OFFICER)[-1]  # a reply to the officer: it may use the whole month
    assert "Đã gửi: 5/8" in report and "Giữ lại, không gửi: 3" in report
    assert "hạn mức tin nhắn Zalo" in report
    late = broadcast(built.db, members[:1], kind=BroadcastKind.ANNIVERSARY, report_chat_id=None)
    await delivery(built, zs, time).drain()
    assert statuses(built.db, late) == Counter({"held": 1})
    with Session(built.db) as s:
        use = quota.usage(s, platform="zalo", month="2026-12", limit=20)
    assert (use.sent, use.held) == (18, 4)
    planner = Planner(built.db, built.content, built.settings, platforms={"zalo"})
    planner.tick(START)
    with Session(built.db) as s:
        notices = s.exec(
            select(Broadcast).where(Broadcast.kind == BroadcastKind.ADMIN_NOTICE)
        ).all()
    quota_keys = {n.key for n in notices if (n.key or "").startswith("quota-")}
    assert quota_keys == {"quota-warn:zalo:2026-12", "quota-held:zalo:2026-12"}
    planner.tick(START)  # once a month, not once a tick
    with Session(built.db) as s:
        again = s.exec(select(Broadcast).where(Broadcast.kind == BroadcastKind.ADMIN_NOTICE)).all()
    assert len([n for n in again if (n.key or "").startswith("quota-")]) == 2
    assert api.over_quota == 0
    await client.aclose()
    built.db.dispose()


# -- both channels in one process ----------------------------------------------------------------


@pytest.fixture
def tg():  # type: ignore[no-untyped-def]
    with FakeTelegramAPI() as fake:
        yield fake


async def test_an_officer_on_telegram_reaches_telegram_zalo_and_linked_members_once(
    db_url, api, tg
) -> None:
    """Members on Telegram, on Zalo, and on both (linked with /lienket): one announcement from an
    officer on Telegram reaches each of them exactly once; the linked one on the app used last."""
    port = free_port()
    built = zalo_app(
        db_url,
        api,
        port,
        settings={"telegram_bot_token": tg.token, "telegram_api_base_url": tg.root},
    )
    telegram = TelegramChannel(built.engine, built.settings)
    zalo = ZaloChannel(built.engine, built.settings)
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(
            built,
            telegram=telegram,
            zalo=zalo,
            host="127.0.0.1",
            port=port,
            stop=stop,
            scheduler=False,
        )
    )
    await _wait_http(port)
    await tg.await_for_call("setMyCommands")
    await api.await_for_call("getUpdates")
    await register(api, "zonly0000000001", name="Lý Thị Zung")
    await register(api, "zboth0000000001", name="Hà Văn Bốn")

    async def tg_say(user: int, text: str, count: int = 1) -> list[Any]:
        mark = tg.mark()
        tg.send_text(user, text)
        return await tg.await_sent(user, count=count, since=mark)

    async def tg_register(user: int, name: str) -> None:
        await tg_say(user, "/start CDCS-MN-HM", count=3)
        await tg_say(user, name)
        for label in ("Viên chức", "Không"):
            mark = tg.mark()
            tg.press_button(user, label)
            await tg.await_sent(user, since=mark)
        mark = tg.mark()
        tg.press_button(user, "Tôi đồng ý")
        await tg.await_sent(user, count=2, since=mark)

    await tg_register(6001, "Trịnh Văn Tê")
    await tg_register(6002, "Đinh Thị Quan")  # the officer
    with Session(built.db, expire_on_commit=False) as s:
        both = s.exec(select(Member).where(Member.full_name == "Hà Văn Bốn")).one()
        officer = s.exec(select(Member).where(Member.full_name == "Đinh Thị Quan")).one()
        s.add(
            RoleGrant(member_id=officer.id, role="officer", unit_id=officer.unit_id, granted_by="t")
        )
        s.commit()
    # Hà Văn Bốn, registered on Zalo, links a Telegram account too, then writes from Zalo last
    text = await say(api, "/lienket", "Mã liên kết", "zboth0000000001")
    linked = text.split("Mã liên kết của bạn: ")[1][:9]
    await tg_say(6003, f"/lienket {linked}")
    await say(api, "/trogiup", "Những việc", "zboth0000000001")
    with Session(built.db) as s:
        accounts = s.exec(select(Identity).where(Identity.member_id == both.id)).all()
        assert {a.platform for a in accounts} == {"telegram", "zalo"}
        for account in accounts:  # used Zalo last
            old = datetime(2026, 1, 5, tzinfo=UTC)
            account.last_seen_at = old if account.platform == "telegram" else datetime.now(UTC)
            s.add(account)
        s.commit()
    await tg_say(6002, "/thongbao")
    await tg_say(6002, "Mời toàn thể đoàn viên dự hội nghị học tập chuyên đề năm 2026.", count=1)
    mark = tg.mark()
    tg.press_button(6002, "Hoa Mai")
    await tg.await_sent(6002, count=3, since=mark)
    mark = tg.mark()
    tg.press_button(6002, "Gửi ngay")
    await tg.await_sent(6002, since=mark)
    planner = Planner(built.db, built.content, built.settings, platforms={"telegram", "zalo"})
    await asyncio.to_thread(planner.tick, datetime.now(UTC))
    tmark, zmark = tg.mark(), api.mark()
    for each in (TelegramSender(telegram.bot), sender(zalo)):
        await DeliveryWorker(built.db, each, texts=built.content.texts, rate_per_second=50).drain()

    def got(calls: list[Any]) -> Counter[str]:
        return Counter(str(c.chat_id) for c in calls if "hội nghị học tập" in (c.text or ""))

    tsent = got(tg.calls_of("sendMessage", since=tmark))
    zsent = got(api.calls_of("sendMessage", since=zmark))
    assert zsent == Counter({"zonly0000000001": 1, "zboth0000000001": 1})
    assert tsent == Counter({"6001": 1, "6002": 1})  # the linked member's Telegram: nothing
    stop.set()
    await asyncio.wait_for(task, 10)
    built.db.dispose()


async def test_a_long_message_arrives_in_parts_in_order_and_plain(app, api, zsender) -> None:
    time = FakeTime(START)
    members = zalo_members(app.db, 1)
    paragraphs = [
        f"<b>Mục {i}.</b> " + "Đoàn viên học tập và làm theo Bác. " * 20 for i in range(5)
    ]
    bid = broadcast(app.db, members, text="\n\n".join(paragraphs), report_chat_id=None)
    await delivery(app, zsender, time).drain()
    parts = api.texts_to(members[0][1])
    assert len(parts) == 3 and all(len(p) <= 2000 for p in parts)
    joined = "\n\n".join(parts)
    assert [joined.index(f"Mục {i}.") for i in range(5)] == sorted(
        joined.index(f"Mục {i}.") for i in range(5)
    )
    assert "<b>" not in joined and all(p.rstrip().endswith(".") for p in parts)
    assert statuses(app.db, bid) == Counter({"sent": 1})
    with Session(app.db) as s:  # three messages of the month's count, not one
        assert quota.usage(s, platform="zalo", month="2026-12", limit=0).sent == 3
