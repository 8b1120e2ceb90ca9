"""A study conference's check-in end to end over Telegram (the real python-telegram-bot code
against the local Bot API double): the officer records it with buttons, the invitation carries
the bot's own link `https://t.me/<bot>?start=<code>` (the bot's name comes from getMe), and
members open it: a registered one is counted once however often they open it, a newcomer
registers and is counted."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from bot.models import Member, RoleGrant
from bot.models_year import StudyCheckIn
from tests.doubles.telegram_api import Call, FakeTelegramAPI
from tests.helpers import Clock
from tests.test_telegram_e2e import Running, _app, api, polling_bot

__all__ = ["api"]  # the Bot API double of the end-to-end tests, used here too

OFFICER = 5101
MEMBER = 5102
NEWCOMER = 5103
MARCH = datetime(2026, 3, 15, 1, 0, tzinfo=UTC)  # 08:00 on 15/03/2026 in Vietnam
LINK = re.compile(r"https://t\.me/(\w+)\?start=(HN\d{6})")


@pytest.fixture
async def running(db_url: str, api: FakeTelegramAPI) -> AsyncIterator[Running]:
    async with polling_bot(_app(db_url, api, clock=Clock(MARCH)), api) as running:
        yield running


async def say(api: FakeTelegramAPI, user: int, text: str, count: int = 1) -> list[Call]:
    """Type a text (a command gets its entity, as Telegram sends it) and wait for the answers."""
    mark = api.mark()
    api.send_text(user, text)
    return await api.await_sent(user, count=count, since=mark)


async def press(api: FakeTelegramAPI, user: int, label: str, count: int = 1) -> list[Call]:
    mark = api.mark()
    api.press_button(user, label)
    await api.await_for_call("answerCallbackQuery", since=mark)
    return await api.await_sent(user, count=count, since=mark)


async def register(api: FakeTelegramAPI, user: int, name: str, *, party: bool) -> None:
    await say(api, user, "/start CDCS-MN-HM", count=3)
    await say(api, user, name)
    await press(api, user, "Viên chức")
    await press(api, user, "Có" if party else "Không")
    await press(api, user, "Tôi đồng ý", count=2)


def text_of(calls: list[Call]) -> str:
    return "\n".join(c.text or "" for c in calls)


async def test_members_check_in_through_the_telegram_link(running: Running) -> None:
    api, app = running.api, running.app
    await register(api, OFFICER, "Phạm Văn Tâm", party=True)
    with Session(app.db) as s:
        officer = s.exec(select(Member)).one()
        s.add(
            RoleGrant(member_id=officer.id, role="officer", unit_id=officer.unit_id, granted_by="t")
        )
        s.commit()

    await say(api, OFFICER, "/hoinghi")
    await press(api, OFFICER, "đoàn viên, CNVCLĐ")
    await press(api, OFFICER, "Hôm nay")
    await press(api, OFFICER, "Chuyên đề năm")
    await press(api, OFFICER, "tự điểm danh")
    await press(api, OFFICER, "Sau 2 giờ")
    invitation = text_of(await press(api, OFFICER, "Lưu hội nghị"))
    found = LINK.search(invitation)
    assert found is not None, invitation
    assert found.group(1) == api.bot_username  # the bot's own name, from getMe
    code = found.group(2)
    assert f"Mã điểm danh: <b><code>{code}</code></b>" in invitation
    assert f"• Telegram: mở liên kết https://t.me/{api.bot_username}?start={code}" in invitation

    # a member opens the link: Telegram sends "/start <code>" when Start is pressed
    await register(api, MEMBER, "Đảng Viên Một", party=True)
    opened = await say(api, MEMBER, f"/start {code}")
    assert "Đã điểm danh hội nghị ngày 15/03/2026" in text_of(opened)
    again = await say(api, MEMBER, f"/start {code}")  # the link opened twice
    assert "đã điểm danh hội nghị này lúc 15/03/2026 08:00" in text_of(again)

    # a newcomer opens it: registers (the unit comes with the code), then is counted
    opened = text_of(await say(api, NEWCOMER, f"/start {code}", count=4))
    assert "Bạn đang điểm danh một hội nghị học tập" in opened
    assert "CĐCS Trường Mầm non Hoa Mai" in opened and "Bước 1/5" in opened
    await say(api, NEWCOMER, "Trần Thị Mới")
    await press(api, NEWCOMER, "Viên chức")
    await press(api, NEWCOMER, "Không")
    done = text_of(await press(api, NEWCOMER, "Tôi đồng ý", count=3))
    assert "Khai báo thông tin thành công" in done
    assert "Đã điểm danh hội nghị ngày 15/03/2026" in done

    with Session(app.db) as s:
        checked = s.exec(select(StudyCheckIn)).all()
    assert sorted(c.party_member for c in checked) == [False, True]  # once each
    await say(api, OFFICER, "/hoinghi")
    listing = text_of(await press(api, OFFICER, "Các hội nghị đã ghi"))
    assert "👥 2 người, 1 đảng viên" in listing and f"điểm danh mã {code}" in listing
