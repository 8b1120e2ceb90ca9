"""End to end over real HTTP: the real python-telegram-bot code against a local Bot API double."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import docx
import httpx
import pytest
from PIL import Image
from sqlmodel import Session, select

from bot.app import App, build_app, load_demo_units, quiet_noisy_loggers
from bot.channels.telegram import TelegramChannel
from bot.models import Broadcast, BroadcastStatus, Member, QuizAttempt, RoleGrant
from bot.server import serve_polling, serve_webhook
from handlers.quiz import LETTERS
from tests.conftest import make_settings
from tests.doubles.telegram_api import FakeTelegramAPI
from tests.helpers import Clock

USER = 5001
SECRET = "s3cret-webhook-token-for-tests"


@dataclass
class Running:
    api: FakeTelegramAPI
    app: App
    port: int | None = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def api():  # type: ignore[no-untyped-def]
    with FakeTelegramAPI() as fake:
        yield fake


def _app(db_url: str, api: FakeTelegramAPI, **kw: Any) -> App:
    settings = make_settings(
        db_url,
        telegram_bot_token=api.token,
        telegram_api_base_url=api.root,
        telegram_webhook_secret=SECRET,
    )
    built = build_app(settings, **kw)
    load_demo_units(built)
    return built


@contextlib.asynccontextmanager
async def polling_bot(built: App, api: FakeTelegramAPI) -> AsyncIterator[Running]:
    """The app served by long polling against the double (no scheduler), stopped afterwards."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve_polling(built, TelegramChannel(built.engine, built.settings), stop, scheduler=False)
    )
    await api.await_for_call("setMyCommands")  # updates sent from now on are queued for polling
    try:
        yield Running(api, built)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        built.db.dispose()


@pytest.fixture
async def polling(db_url: str, api: FakeTelegramAPI) -> AsyncIterator[Running]:
    async with polling_bot(_app(db_url, api), api) as running:
        yield running


@pytest.fixture
async def webhook(db_url: str, api: FakeTelegramAPI) -> AsyncIterator[Running]:
    built = _app(db_url, api)
    port = _free_port()
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve_webhook(
            built,
            TelegramChannel(built.engine, built.settings),
            host="127.0.0.1",
            port=port,
            public_url="https://bot.example.org",
            stop=stop,
            scheduler=False,
        )
    )
    async with httpx.AsyncClient() as client:
        for _ in range(100):
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    yield Running(api, built, port)
    stop.set()
    await asyncio.wait_for(task, 10)
    built.db.dispose()


async def _say(api: FakeTelegramAPI, text: str, count: int = 1) -> list:  # type: ignore[type-arg]
    """Type a text and wait for the `count` messages it answers."""
    mark = api.mark()
    api.send_text(USER, text)
    return await api.await_sent(USER, count=count, since=mark)


async def _press(api: FakeTelegramAPI, label: str, count: int = 1) -> list:  # type: ignore[type-arg]
    """Press a button and wait for the answer to the query and the `count` messages."""
    mark = api.mark()
    api.press_button(USER, label)
    await api.await_for_call("answerCallbackQuery", since=mark)
    return await api.await_sent(USER, count=count, since=mark)


async def test_menu_is_set_in_vietnamese(polling: Running) -> None:
    call = await polling.api.await_for_call("setMyCommands")
    commands = {c["command"]: c["description"] for c in call.params["commands"]}
    assert commands["start"] == "Khai báo hoặc sửa thông tin"
    assert commands["toi"] == "Thông tin của tôi" and "huy" in commands


async def test_register_by_pressing_buttons_over_polling(polling: Running, caplog) -> None:
    quiet_noisy_loggers()  # as `congdoan run` does
    caplog.set_level(logging.DEBUG)
    api = polling.api
    sent = await _say(api, "/start", count=2)
    assert "Chào mừng" in sent[0].text
    sent = await _say(api, "trần thị bích")
    assert sent[-1].reply_markup is not None  # the unit tree as inline buttons
    await _press(api, "Công đoàn Viên chức tỉnh")
    edit = await api.await_for_call("editMessageText")
    assert "➜ Công đoàn Viên chức tỉnh" in edit.params["text"]  # the choice is marked, buttons gone
    await _press(api, "Trung tâm Y tế")
    await _press(api, "Viên chức")
    await _press(api, "Có")
    await _press(api, "Tôi đồng ý", count=2)
    texts = "\n".join(c.text or "" for c in api.sent_to(USER))
    assert "Khai báo thông tin thành công" in texts and "Trần Thị Bích" in texts
    with Session(polling.app.db) as s:
        member = s.exec(select(Member)).one()
    assert member.full_name == "Trần Thị Bích" and member.party_member
    logged = caplog.text
    assert api.token not in logged and api.token.split(":")[1] not in logged
    assert "Bích" not in logged and "Trần" not in logged  # logs carry ids, not names


async def test_deep_link_and_escaped_user_text(polling: Running) -> None:
    api = polling.api
    await _say(api, "/start CDCS-THPT-LTV", count=3)
    assert "Trường THPT Lê Thánh Tông" in api.sent_to(USER)[1].text
    sent = await _say(api, "<b>Lan</b> & _*[")
    assert "chỉ gồm chữ cái" in sent[-1].text
    await _say(api, "Đỗ Văn Hùng")
    await _press(api, "Công chức")
    await _press(api, "Không")
    await _press(api, "Tôi đồng ý", count=2)
    mark = api.mark()
    await _say(api, "/start", count=2)  # the profile menu, then a search typed with markup
    await _press(api, "Sửa đơn vị")
    sent = await _say(api, "<i>x</i> & <script>", count=2)  # "not found", then the tree
    assert "&lt;i&gt;x&lt;/i&gt; &amp; &lt;script&gt;" in sent[0].text  # escaped, and accepted
    assert all(c.ok for c in api.calls[mark:])


async def test_old_button_pressed_again_is_answered_not_processed(polling: Running) -> None:
    api = polling.api
    await _say(api, "/start CDCS-MN-HM", count=3)
    await _say(api, "Vũ Thị Mai")
    message = api.keyboard_message(USER, "Viên chức")
    data = api.button_data(USER, "Viên chức")
    await _press(api, "Viên chức")
    mark = api.mark()
    api.press(USER, message, data)  # a double tap on the same button
    answer = await api.await_for_call("answerCallbackQuery", since=mark)
    assert answer.params.get("text") == "Nút đã cũ"
    sent = await api.await_sent(USER, since=mark)
    assert "tin nhắn cũ" in sent[-1].text


async def test_a_button_is_answered_at_once_while_a_slow_step_works(  # type: ignore[no-untyped-def]
    polling: Running, monkeypatch
) -> None:
    """The spinner on a pressed button stops while a slow step (a busy database, a big file)
    is still worked on, not only once it is done; and the button is answered once."""
    api = polling.api
    await _say(api, "/start CDCS-MN-HM", count=3)
    await _say(api, "Vũ Thị Mai")
    engine = polling.app.engine
    handle_sync = engine.handle_sync

    def slowly(incoming):  # type: ignore[no-untyped-def]
        time.sleep(1.0)
        return handle_sync(incoming)

    monkeypatch.setattr(engine, "handle_sync", slowly)
    mark = api.mark()
    api.press_button(USER, "Viên chức")
    await api.await_sent(USER, since=mark)
    made = [c.method for c in api.calls[mark:] if c.method != "getUpdates"]
    assert made.count("answerCallbackQuery") == 1
    assert made[0] == "answerCallbackQuery", made  # before the step's reply


async def test_bad_input_never_crashes(polling: Running) -> None:
    api = polling.api
    for text in ["", "😀" * 10, "x" * 5000, "'; DROP TABLE member; --", "<b>", "/start@other x"]:
        mark = api.mark()
        api.send_text(USER, text)
        await api.await_sent(USER, since=mark)
    mark = api.mark()
    api.press(USER, api.messages(USER)[0], "not-our-data")  # a button we never made
    await api.await_for_call("answerCallbackQuery", since=mark)
    assert all(c.ok for c in api.calls if c.method in {"sendMessage", "editMessageText"})


async def test_webhook_with_right_secret_is_processed(webhook: Running) -> None:
    api, port = webhook.api, webhook.port
    hook = await api.await_for_call("setWebhook")
    assert hook.params["url"] == "https://bot.example.org/telegram/webhook"
    assert hook.params["secret_token"] == SECRET
    update = api.build_text_update(USER, "/start")
    async with httpx.AsyncClient() as client:
        ok = await client.post(
            f"http://127.0.0.1:{port}/telegram/webhook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        assert ok.status_code == 200
        sent = await api.await_sent(USER, count=2)
        assert "Chào mừng" in sent[0].text
        replay = await client.post(
            f"http://127.0.0.1:{port}/telegram/webhook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        assert replay.status_code == 200
        await asyncio.sleep(0.3)
        assert len(api.sent_to(USER)) == 2  # the retried webhook is processed once


@pytest.mark.parametrize("headers", [{}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}])
async def test_webhook_without_the_right_secret_is_rejected(webhook: Running, headers) -> None:
    api, port = webhook.api, webhook.port
    update = api.build_text_update(USER, "/start")
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"http://127.0.0.1:{port}/telegram/webhook", json=update, headers=headers
        )
        assert response.status_code == 401
        for junk in [b"not json", b"[]", b'{"update_id": "x"}']:
            bad = await client.post(
                f"http://127.0.0.1:{port}/telegram/webhook",
                content=junk,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            )
            assert bad.status_code == 400
        health = await client.get(f"http://127.0.0.1:{port}/healthz")
        assert health.json() == {"ok": True, "database": "ok"}
    await asyncio.sleep(0.3)
    assert api.sent_to(USER) == []


async def _register(api: FakeTelegramAPI) -> None:
    await _say(api, "/start CDCS-MN-HM", count=3)
    await _say(api, "Ngô Thị Thu")
    await _press(api, "Viên chức")
    await _press(api, "Không")
    await _press(api, "Tôi đồng ý", count=2)


def _right_letters(app: App) -> str:
    with Session(app.db) as s:
        attempt = s.exec(select(QuizAttempt)).one()
    question = app.content.catalog.questions[attempt.question_ids[attempt.current]]
    order = attempt.option_orders[attempt.current]
    return "".join(sorted(LETTERS[order.index(c)] for c in question.correct))


async def test_study_and_a_full_quiz_by_pressing_buttons(polling: Running) -> None:
    """The quiz goes on in one message: each answer is the callback answer plus one edit of the
    question message (the feedback and the next question), then the result and certificate."""
    api, app = polling.api, polling.app
    await _register(api)
    await _say(api, "/hoc")
    sent = await _press(api, "7 dám")
    assert "Phần 1/" in sent[-1].text and sent[-1].reply_markup is not None
    sent = await _press(api, "Tiếp")
    assert "Phần 2/" in sent[-1].text
    sent = await _say(api, "/thi", count=2)  # the quizzes, then: the study is kept for later
    assert "Việc" in sent[-1].text and "/hoc" in sent[-1].text
    await _press(api, "7 dám")
    sent = await _press(api, "Bắt đầu")
    question = sent[-1]
    assert "Câu 1/10" in question.text
    mark = api.mark()
    for n in range(9):
        letters = _right_letters(app)
        for letter in letters if len(letters) > 1 else []:
            await _edit_press(api, letter)  # multi-answer: each tick edits the question
        edit = await _edit_press(api, "Trả lời" if len(letters) > 1 else letters)
        assert "Đúng!" in edit.params["text"] and f"Câu {n + 2}/10" in edit.params["text"]
        assert str(edit.params["message_id"]) == str(question.result["message_id"])
    assert api.sent_to(USER, since=mark) == []  # no new message for nine answers
    made = [c for c in api.calls[mark:] if c.method != "getUpdates"]
    presses = sum(c.method == "answerCallbackQuery" for c in made)
    assert len(made) == 2 * presses  # per press: the callback answer and one edit, no more
    letters = _right_letters(app)
    for letter in letters if len(letters) > 1 else []:
        await _edit_press(api, letter)
    sent = await _press(api, "Trả lời" if len(letters) > 1 else letters, count=3)
    assert "Đúng!" in sent[0].text
    assert "Kết quả: 10/10 câu đúng" in sent[1].text
    photo = sent[2]
    assert photo.method == "sendPhoto" and "Ngô Thị Thu" in (photo.text or "")
    data = photo.files["photo"][1]

    assert Image.open(io.BytesIO(data)).format == "PNG"


async def _edit_press(api: FakeTelegramAPI, label: str) -> Any:
    """Press a button of the quiz message and wait for the edit it makes."""
    mark = api.mark()
    api.press_button(USER, label)
    return await api.await_for_call("editMessageText", since=mark)


async def test_a_quiz_message_that_cannot_be_edited_goes_on_in_a_new_one(
    polling: Running,
) -> None:
    """Editing fails (the message is too old, or was deleted): the feedback and the next
    question come as a new message, and the answer was counted once."""
    api, app = polling.api, polling.app
    await _register(api)
    await _say(api, "/thi")
    await _press(api, "7 dám")
    await _press(api, "Bắt đầu")
    while len(_right_letters(app)) > 1:  # a question with one answer
        for letter in _right_letters(app):
            await _edit_press(api, letter)
        await _edit_press(api, "Trả lời")
    api.fail_next(
        "editMessageText", error_code=400, description="Bad Request: message can't be edited"
    )
    sent = await _press(api, _right_letters(app))
    assert "Đúng!" in sent[-1].text and "Câu" in sent[-1].text and sent[-1].reply_markup
    with Session(app.db) as s:
        attempt = s.exec(select(QuizAttempt)).one()
    answered = [a for a in attempt.answers if a is not None]
    assert len(answered) == attempt.current and attempt.score == attempt.current
    old = api.keyboard_message(USER, "A")  # the new message's buttons work; old ones do not
    assert old is not None


ADMIN = 900  # an admin from ADMIN_TELEGRAM_IDS in _app


async def test_pledge_written_submitted_returned_by_buttons(polling: Running) -> None:
    """A member writes and submits a pledge and receives the DOCX; an admin returns it, and the
    member is told in their own chat."""
    api = polling.api
    await _register(api)
    sent = await _say(api, "/dangky")
    assert "chưa viết" in sent[0].text
    sent = await _press(api, "Bắt đầu viết")
    assert "Phần 1/3" in sent[0].text
    for part in (1, 2, 3):
        sent = await _press(api, "1")
        assert f"Phần {part}/3" in sent[0].text and "✅ 1." in sent[0].text
        sent = await _press(api, "Xong")
    assert "Thời gian thực hiện" in sent[0].text
    sent = await _press(api, "Cả năm", count=2)
    assert "BẢN ĐĂNG KÝ HỌC TẬP VÀ LÀM THEO NĂM" in sent[0].text
    sent = await _press(api, "Nộp bản đăng ký", count=2)
    assert "Đã nộp bản đăng ký" in sent[0].text
    document = sent[1]
    assert document.method == "sendDocument"
    name, data = document.files["document"]
    assert name.endswith(".docx")
    opened = docx.Document(io.BytesIO(data))
    text = "\n".join(p.text for p in opened.paragraphs)
    assert "Ngô Thị Thu" in text and "NĂM 2026" in text

    mark = api.mark()
    api.send_text(ADMIN, "/duyet")
    await api.await_sent(ADMIN, count=3, since=mark)
    mark = api.mark()
    api.press_button(ADMIN, "Trả lại")
    await api.await_sent(ADMIN, count=1, since=mark)
    mark = api.mark()
    api.send_text(ADMIN, "Bổ sung biện pháp <cụ thể> theo từng quý.")
    told = await api.await_sent(USER, count=1, since=mark)
    assert "được trả lại để sửa" in told[0].text
    assert "Bổ sung biện pháp &lt;cụ thể&gt; theo từng quý." in told[0].text  # escaped, accepted


async def test_the_scheduler_in_the_running_bot_posts_the_anniversary_once(db_url, api) -> None:
    """The bot was down at 07:00 on 19/05 and comes back at 07:00:30: the running bot's scheduler
    posts the anniversary through the Bot API, once, and a restart does not post it again."""
    clock = Clock(datetime(2026, 5, 18, 3, 0, tzinfo=UTC))
    built = _app(db_url, api, clock=clock)

    async def run_until(predicate, *, scheduler: bool) -> None:  # type: ignore[no-untyped-def]
        stop = asyncio.Event()
        channel = TelegramChannel(built.engine, built.settings)
        task = asyncio.create_task(serve_polling(built, channel, stop, scheduler=scheduler))
        await predicate()
        stop.set()
        await asyncio.wait_for(task, 20)

    await run_until(lambda: _register(api), scheduler=False)  # registered the day before
    clock.now = datetime(2026, 5, 19, 0, 0, 30, tzinfo=UTC)  # 07:00:30 in Vietnam

    async def posted() -> list:  # type: ignore[type-arg]
        return await api.await_sent(USER, count=1, timeout=15, since=mark)

    mark = api.mark()
    await run_until(posted, scheduler=True)
    await run_until(lambda: api.await_for_call("setMyCommands", since=api.mark()), scheduler=True)

    post = api.sent_to(USER, since=mark)
    assert len(post) == 1
    assert "136 năm Ngày sinh Chủ tịch Hồ Chí Minh" in post[0].params["text"]
    with Session(built.db) as s:
        (broadcast,) = s.exec(select(Broadcast).where(Broadcast.status != "skipped")).all()
    assert broadcast.status == BroadcastStatus.DONE
    assert broadcast.key and broadcast.key.startswith("anniversary:sinh-nhat-bac:2026")
    built.db.dispose()


async def test_an_officer_announcement_with_a_photo_is_previewed_as_sent(polling: Running) -> None:
    """The photo a user sends is fetched through getFile and the file URL, and the preview is
    that photo with the announcement as its caption, as the delivery will send it."""
    api, app = polling.api, polling.app
    await _register(api)
    with Session(app.db) as s:
        member = s.exec(select(Member)).one()
        s.add(
            RoleGrant(member_id=member.id, role="officer", unit_id=member.unit_id, granted_by="t")
        )
        s.commit()
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(picture, format="JPEG")
    await _say(api, "/thongbao")
    mark = api.mark()
    api.send_photo(USER, picture.getvalue())  # no caption: the text is asked for next
    (sent,) = await api.await_sent(USER, since=mark)
    assert "Đã nhận ảnh" in sent.text
    await _say(api, "Mời đoàn viên dự sinh hoạt chuyên đề <tháng 5> tại hội trường.")
    sent = await _press(api, "Hoa Mai", count=3)
    assert sent[1].method == "sendPhoto"
    assert sent[1].files["photo"][1] == picture.getvalue()
    assert "sinh hoạt chuyên đề &lt;tháng 5&gt;" in sent[1].params["caption"]
    assert "Gửi ngay" in sent[2].text
