"""End to end over real HTTP: the real Zalo channel (httpx) against a local Zalo Bot API double.
Members type numbers, letters and words (Zalo has no buttons); files go out as links the bot
serves itself, which the double fetches like Zalo's servers do."""

from __future__ import annotations

import asyncio
import io
import itertools
import logging
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import docx
import httpx
import pytest
from PIL import Image
from sqlmodel import Session, select

from bot.app import App, build_app, load_demo_units, quiet_noisy_loggers
from bot.channels.zalo import ZaloChannel
from bot.models import Broadcast, GroupLink, Identity, Member, QuizAttempt, RoleGrant
from bot.server import serve
from bot.services import files
from handlers.quiz import LETTERS
from tests.conftest import make_settings
from tests.doubles.zalo_api import FakeZaloAPI

USER = "7c1a9e0b2d4f6a81"
ADMIN = "a0d5e1f2c3b49788"
SECRET = "zalo-webhook-secret-for-tests"


@dataclass
class Running:
    api: FakeZaloAPI
    app: App
    channel: ZaloChannel
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def api():  # type: ignore[no-untyped-def]
    with FakeZaloAPI(max_poll_timeout=0.5) as fake:
        yield fake


def zalo_app(db_url: str, api: FakeZaloAPI, port: int, **kw: Any) -> App:
    values: dict[str, Any] = {
        "zalo_bot_token": api.token,
        "zalo_api_base_url": api.root,
        "zalo_webhook_secret": SECRET,
        "public_base_url": f"http://127.0.0.1:{port}",
        "admin_zalo_ids": ADMIN,
    }
    values.update(kw.pop("settings", {}))
    settings = make_settings(db_url, **values)
    built = build_app(settings, **kw)
    load_demo_units(built)
    return built


async def _wait_http(port: int) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise AssertionError("the bot's HTTP server did not start")


@pytest.fixture
async def polling(db_url: str, api: FakeZaloAPI) -> AsyncIterator[Running]:
    port = free_port()
    built = zalo_app(db_url, api, port)
    channel = ZaloChannel(built.engine, built.settings)
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(built, zalo=channel, host="127.0.0.1", port=port, stop=stop, scheduler=False)
    )
    await _wait_http(port)
    await api.await_for_call("getUpdates")
    yield Running(api, built, channel, port)
    stop.set()
    await asyncio.wait_for(task, 10)
    built.db.dispose()


async def say(api: FakeZaloAPI, text: str, expect: str, user: str = USER) -> str:
    """Type a text and wait until a message containing `expect` arrives; all that came since."""
    mark = api.mark()
    api.send_text(user, text)

    def arrived() -> str | None:
        got = "\n".join(api.texts_to(user, since=mark))
        return got if expect in got else None

    await api.await_for(arrived, timeout=10)
    count = -1  # then until the answer is complete: no new message for a moment
    while count != len(api.texts_to(user, since=mark)):
        count = len(api.texts_to(user, since=mark))
        await asyncio.sleep(0.15)
    return "\n".join(api.texts_to(user, since=mark))


def number_of(text: str, label: str) -> str:
    """The number of the option whose label contains `label`, in a numbered list."""
    for number, shown in re.findall(r"(?m)(\d+)[.)] (.+?)(?=\s{2}\d+\)|$)", text):
        if label.lower() in shown.lower():
            return str(number)
    raise AssertionError(f"no option {label!r} in:\n{text}")


async def register(api: FakeZaloAPI, user: str = USER, name: str = "Ngô Thị Thu") -> None:
    """Register by typing, as on Zalo: a first message, the name, the unit code, numbers."""
    await say(api, "Xin chào", "Bước 1/5", user)
    text = await say(api, name.lower(), "Bước 2/5", user)
    text = await say(api, "mam non", "Hoa Mai", user)
    text = await say(api, number_of(text, "Hoa Mai"), "Bước 3/5", user)
    text = await say(api, number_of(text, "Viên chức"), "Bước 4/5", user)
    text = await say(api, "2", "Bước 5/5", user)
    assert "Tôi đồng ý" in text
    await say(api, "đồng ý", "Khai báo thông tin thành công", user)


async def test_register_by_typing_numbers_with_plain_short_texts(polling: Running, caplog) -> None:
    quiet_noisy_loggers()  # as `congdoan run` does
    caplog.set_level(logging.DEBUG)
    api = polling.api
    await register(api)
    with Session(polling.app.db) as s:
        member = s.exec(select(Member)).one()
        identity = s.exec(select(Identity)).one()
    assert member.full_name == "Ngô Thị Thu" and not member.party_member
    assert member.group == "vien_chuc" and identity.platform == "zalo"
    sends = api.sent_to(USER)
    assert all(len(c.params["text"]) <= 2000 for c in sends if c.method == "sendMessage")
    assert not any(re.search(r"</?(b|i|code)>|&lt;|&amp;", c.text or "") for c in sends)
    assert not any("reply_markup" in c.params for c in api.calls)  # no buttons on Zalo
    logged = caplog.text
    assert api.token.split(":")[1] not in logged  # the token is in every URL: never logged
    assert "Ngô" not in logged and "Thu" not in logged  # logs carry ids, not names


async def test_a_unit_code_typed_and_anything_unreadable(polling: Running) -> None:
    api = polling.api
    text = await say(api, "/start CDCS-MN-HM", "Bước 1/5")
    assert "Mầm non Hoa Mai" in text  # the code did what a Telegram deep link does
    await say(api, "Đỗ Văn Hùng", "Bước 3/5")
    mark = api.mark()
    api.send_sticker(USER)
    api.send_voice(USER)
    api.send_unsupported(USER)
    await api.await_sent(USER, count=3, since=mark)
    assert all("chưa" in t and "gõ bằng chữ" in t for t in api.texts_to(USER, since=mark))
    text = await say(api, "cong nhan", "Bước 4/5")  # words of the label, no diacritics
    other = "b1b2b3b4b5b6b7b8"
    mark = api.mark()
    api.send_text(other, "Xin chào", name_field="first_name", display_name="Le Van C")
    await api.await_sent(other, count=2, since=mark)  # the docs' first_name works too


async def test_a_replayed_message_is_answered_once(polling: Running) -> None:
    api = polling.api
    update = api.build_text(USER, "/trogiup", message_id="dup-0001")
    mark = api.mark()
    api.queue(update)
    api.queue(dict(update))
    await api.await_sent(USER, since=mark)
    await asyncio.sleep(0.8)  # the replay has been polled and dropped meanwhile
    assert len(api.sent_to(USER, since=mark)) == 1


def _right_letters(app: App) -> str:
    with Session(app.db) as s:
        attempt = s.exec(select(QuizAttempt)).one()
    question = app.content.catalog.questions[attempt.question_ids[attempt.current]]
    order = attempt.option_orders[attempt.current]
    return "".join(sorted(LETTERS[order.index(c)] for c in question.correct))


async def test_study_and_a_full_quiz_typing_letters_and_numbers(polling: Running) -> None:
    api, app = polling.api, polling.app
    await register(api)
    text = await say(api, "/hoc", "Học chuyên đề")
    text = await say(api, number_of(text, "7 dám"), "Phần 1/")
    text = await say(api, "tiep", "Phần 2/")
    text = await say(api, "/thi", "Chọn bài thi")
    text = await say(api, number_of(text, "7 dám"), "Bắt đầu")
    text = await say(api, "bat dau", "Câu 1/10")
    assert "Trả lời bằng chữ cái" in text
    for n in range(10):
        letters = _right_letters(app)
        if len(letters) > 1:  # several answers: each letter typed ticks it, then submit
            for letter in letters:
                text = await say(api, letter.lower(), "Câu")
            expect = "Kết quả" if n == 9 else f"Câu {n + 2}/10"
            text = await say(api, "tra loi", expect)
        else:
            typed = letters.lower() if n % 2 else str(LETTERS.index(letters) + 1)
            expect = "Kết quả" if n == 9 else f"Câu {n + 2}/10"
            text = await say(api, typed, expect)
        assert "Đúng!" in text
    assert "Kết quả: 10/10 câu đúng" in text
    photo = await api.await_for_call("sendPhoto", timeout=10)
    assert photo.ok and photo.params["photo"].startswith(polling.base + "/files/")
    assert photo.fetched_type == "image/png" and photo.fetched is not None
    assert Image.open(io.BytesIO(photo.fetched)).format == "PNG"
    assert "Ngô Thị Thu" in (photo.text or "")


async def test_a_pledge_submitted_on_zalo_comes_as_a_link_that_downloads(polling: Running) -> None:
    api = polling.api
    await register(api)
    text = await say(api, "/dangky", "chưa viết")
    text = await say(api, "bat dau viet", "Phần 1/3")
    for section in (2, 3):
        text = await say(api, "1", "Phần")  # tick the first suggestion
        text = await say(api, "xong", f"Phần {section}/3")
    await say(api, "1", "Phần 3/3")
    text = await say(api, "xong", "Thời gian thực hiện")
    text = await say(api, number_of(text, "Cả năm"), "Bạn muốn nộp")
    text = await say(api, number_of(text, "Nộp bản đăng ký"), "Tải về")
    link = re.search(r"Tải về: (\S+)", text)
    assert link is not None and link.group(1).startswith(polling.base + "/files/")
    async with httpx.AsyncClient() as client:
        got = await client.get(link.group(1))
        assert got.status_code == 200
        assert got.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert "attachment" in got.headers["content-disposition"]
        opened = docx.Document(io.BytesIO(got.content))
        assert "Ngô Thị Thu" in "\n".join(p.text for p in opened.paragraphs)
        altered = link.group(1)[:-2] + ("xy" if not link.group(1).endswith("xy") else "zz")
        assert (await client.get(altered)).status_code == 404
        assert (await client.get(polling.base + "/files/")).status_code == 404  # never listed
    with Session(polling.app.db) as s:
        from bot.models import StoredFile

        stored = s.exec(select(StoredFile)).all()
        for row in stored:
            row.expires_at = row.created_at
            s.add(row)
        s.commit()
    async with httpx.AsyncClient() as client:
        assert (await client.get(link.group(1))).status_code == 404  # expired


async def test_an_officer_on_zalo_announces_and_the_members_get_it(polling: Running) -> None:
    from bot.channels.zalo import sender
    from scheduler.delivery import DeliveryWorker
    from scheduler.jobs import Planner

    api, app = polling.api, polling.app
    member = "m1m2m3m4m5m6m7m8"
    await register(api, member, name="Phan Văn Hòa")
    await register(api, name="Ngô Thị Thu")
    with Session(app.db) as s:
        officer = s.exec(select(Member).where(Member.full_name == "Ngô Thị Thu")).one()
        s.add(
            RoleGrant(member_id=officer.id, role="officer", unit_id=officer.unit_id, granted_by="t")
        )
        s.commit()
    await say(api, "/thongbao", "nội dung thông báo")
    text = await say(api, "Mời đoàn viên dự sinh hoạt chuyên đề <tháng 12> tại hội trường.", "1")
    text = await say(api, number_of(text, "Hoa Mai"), "Xem trước")
    text = await say(api, number_of(text, "Gửi ngay"), "Đã xếp")
    planner = Planner(app.db, app.content, app.settings, platforms={"zalo"})
    await asyncio.to_thread(planner.tick, app.engine.clock())
    worker = DeliveryWorker(
        app.db, sender(polling.channel), texts=app.content.texts, rate_per_second=50
    )
    mark = api.mark()
    await worker.drain()
    got = api.texts_to(member, since=mark)
    assert len(got) == 1 and "sinh hoạt chuyên đề <tháng 12>" in got[0]  # plain text, as typed
    report = await api.await_sent(USER, since=mark)
    assert "Kết quả gửi" in report[-1].text
    with Session(app.db) as s:
        done = s.exec(select(Broadcast).where(Broadcast.kind == "announcement")).one()
        assert done.status == "done"


# -- webhook -----------------------------------------------------------------------------------


@pytest.fixture
async def webhook(db_url: str, api: FakeZaloAPI) -> AsyncIterator[Running]:
    port = free_port()
    built = zalo_app(db_url, api, port)
    channel = ZaloChannel(built.engine, built.settings)
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(
            built,
            zalo=channel,
            webhook=True,
            host="127.0.0.1",
            port=port,
            public_url="https://bot.example.org",
            stop=stop,
            scheduler=False,
        )
    )
    await _wait_http(port)
    await api.await_for_call("setWebhook")
    yield Running(api, built, channel, port)
    stop.set()
    await asyncio.wait_for(task, 10)
    built.db.dispose()


async def test_webhook_is_registered_and_checks_its_secret_first(webhook: Running) -> None:
    api, url = webhook.api, f"{webhook.base}/zalo/webhook"
    assert api.webhook is not None
    assert api.webhook["url"] == "https://bot.example.org/zalo/webhook"
    assert api.webhook["secret_token"] == SECRET
    update = api.build_text(USER, "/trogiup")
    for secret in (None, "wrong-secret-value", SECRET[:-1]):
        assert (await api.post_webhook(url, update, secret=secret)).status_code == 401
    await asyncio.sleep(0.2)
    assert api.sent_to(USER) == []
    async with httpx.AsyncClient() as client:
        bad = await client.post(
            url, content=b"not json", headers={"X-Bot-Api-Secret-Token": SECRET}
        )
        assert bad.status_code == 400
    mark = api.mark()
    ok = await api.post_webhook(url, update, secret=SECRET, wrapped=True)
    assert ok.status_code == 200
    assert "Những việc bạn có thể làm" in api.sent_to(USER, since=mark)[0].text
    again = await api.post_webhook(url, update, secret=SECRET)  # Zalo retries: answered once
    assert again.status_code == 200
    await asyncio.sleep(0.2)
    assert len(api.sent_to(USER, since=mark)) == 1
    assert api.calls_of("getUpdates") == []  # a webhook bot never polls


async def test_an_announcement_with_a_photo_typed_on_zalo(polling: Running) -> None:
    """The officer sends a photo (Zalo gives its URL: the channel fetches it), then the text;
    the preview is that photo, by the bot's own link, with the text as its caption."""
    api, app = polling.api, polling.app
    await register(api)
    with Session(app.db, expire_on_commit=False) as s:
        me = s.exec(select(Member)).one()
        s.add(RoleGrant(member_id=me.id, role="officer", unit_id=me.unit_id, granted_by="t"))
        picture = io.BytesIO()
        Image.new("RGB", (64, 48), (200, 30, 30)).save(picture, format="JPEG")
        cdn = files.store(s, data=picture.getvalue(), filename="zalo.jpg", now=app.engine.clock())
        s.commit()
    await say(api, "/thongbao", "nội dung thông báo")
    mark = api.mark()
    api.send_image(USER, files.url(polling.base, cdn))  # no caption: the text is asked next
    await api.await_sent(USER, since=mark)
    assert "Đã nhận ảnh" in api.texts_to(USER, since=mark)[0]
    text = await say(api, "Mời đoàn viên dự hội thao chào mừng ngày thành lập.", "Hoa Mai")
    mark = api.mark()
    await say(api, number_of(text, "Hoa Mai"), "Gửi ngay")
    photo = next(c for c in api.sent_to(USER, since=mark) if c.method == "sendPhoto")
    assert photo.fetched == picture.getvalue() and photo.fetched_type == "image/jpeg"
    assert "hội thao chào mừng" in (photo.text or "")


async def test_without_a_public_address_files_become_a_clear_message(db_url, api) -> None:
    port = free_port()
    built = zalo_app(db_url, api, port, settings={"public_base_url": ""})
    channel = ZaloChannel(built.engine, built.settings)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(built, zalo=channel, stop=stop, scheduler=False))
    await api.await_for_call("getUpdates")
    await register(api)
    await say(api, "/toi", "Thông tin của bạn")
    text = await say(api, "tai du lieu", "PUBLIC_BASE_URL")
    assert "chưa gửi được tệp" in text and "Traceback" not in text
    assert api.calls_of("sendPhoto") == []
    stop.set()
    await asyncio.wait_for(task, 10)
    built.db.dispose()


async def test_zalo_works_while_telegram_cannot_be_reached_at_start(db_url, api, caplog) -> None:
    """The network to Telegram is down at boot: Zalo and the HTTP server run anyway; Telegram
    is retried with a one-line log per attempt, never a traceback."""
    from bot.channels.telegram import TelegramChannel

    caplog.set_level(logging.WARNING)
    port = free_port()
    closed = f"http://127.0.0.1:{free_port()}"
    built = zalo_app(
        db_url,
        api,
        port,
        settings={
            "telegram_bot_token": "123456:TEST-token-abcdefghijklmnopqrstuvwxyz",
            "telegram_api_base_url": closed,
        },
    )
    telegram = TelegramChannel(built.engine, built.settings)
    zalo = ZaloChannel(built.engine, built.settings)
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(built, telegram=telegram, zalo=zalo, host="127.0.0.1", port=port, stop=stop)
    )
    await _wait_http(port)
    await register(api)
    stop.set()
    await asyncio.wait_for(task, 15)
    built.db.dispose()
    tries = [r for r in caplog.records if "telegram: start failed" in r.getMessage()]
    assert tries and all(r.exc_info is None for r in tries)
    assert "Traceback" not in caplog.text


async def test_polling_survives_failures_with_growing_waits_and_one_poller(
    polling: Running,
) -> None:
    api = polling.api
    polling.channel.retry_base = 0.05
    mark = api.mark()
    api.fail_next("getUpdates", 3, error_code=502, description="Bad Gateway")

    def failures() -> list[Any]:
        return [c for c in api.calls_of("getUpdates", since=mark) if c.error_code == 502]

    failed = await api.await_for(lambda: failures() if len(failures()) == 3 else None, timeout=10)
    api.send_text(USER, "/trogiup")
    await api.await_sent(USER, since=mark, timeout=10)  # polling goes on after the failures
    gaps = [b.at - a.at for a, b in itertools.pairwise(failed)]
    assert gaps[1] > gaps[0]  # the wait grows
    assert api.conflicts == 0  # never two pollers


async def test_ganhom_in_a_zalo_group_where_the_bot_is_mentioned(polling: Running) -> None:
    api, app = polling.api, polling.app
    await register(api)
    with Session(app.db) as s:
        me = s.exec(select(Member)).one()
        s.add(RoleGrant(member_id=me.id, role="officer", unit_id=me.unit_id, granted_by="t"))
        s.commit()
    group = "g0g1g2g3g4g5g6g7"
    mark = api.mark()
    api.send_text(USER, "@Bot Công đoàn thử /ganhom", chat_id=group, chat_type="GROUP")
    (asked,) = await api.await_sent(group, since=mark)
    assert "Hoa Mai" in asked.params["text"]
    mark = api.mark()
    api.send_text(USER, "@Bot Công đoàn thử chuyện khác", chat_id=group, chat_type="GROUP")
    number = number_of(asked.params["text"], "Hoa Mai")
    api.send_text(USER, f"@Bot Công đoàn thử {number}", chat_id=group, chat_type="GROUP")
    (linked,) = await api.await_sent(group, since=mark)
    assert "Đã gắn nhóm" in linked.params["text"]
    with Session(app.db) as s:
        link = s.exec(select(GroupLink)).one()
    assert (link.platform, link.chat_id, link.active) == ("zalo", group, True)


async def test_two_processes_on_postgresql_never_poll_together(db_url, api) -> None:
    """Zalo allows one poller per bot: of two bot processes on one database, one polls; when it
    stops, the other takes over."""
    if not db_url.startswith("postgresql"):
        pytest.skip("one process per SQLite file")
    first = zalo_app(db_url, api, free_port())
    second = zalo_app(db_url, api, free_port())
    channels = [ZaloChannel(app.engine, app.settings) for app in (first, second)]
    stops = [asyncio.Event(), asyncio.Event()]
    for channel in channels:
        channel.poller_retry = 0.2
    tasks = [asyncio.create_task(c.poll(s)) for c, s in zip(channels, stops, strict=True)]
    await api.await_for_call("getUpdates")
    await asyncio.sleep(1.5)
    assert api.conflicts == 0
    stops[0].set()
    await asyncio.wait_for(tasks[0], 10)
    mark = api.mark()
    api.send_text(USER, "/trogiup")
    await api.await_sent(USER, since=mark, timeout=10)  # the second process took over
    stops[1].set()
    await asyncio.wait_for(tasks[1], 10)
    assert api.conflicts == 0
    for app in (first, second):
        app.db.dispose()
