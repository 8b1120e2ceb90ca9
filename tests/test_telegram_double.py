"""Prove the fake Telegram Bot API works with the real python-telegram-bot library."""

from __future__ import annotations

import datetime as dtm
import json
import threading
import time
import urllib.request
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter
from telegram.ext import Application, ContextTypes, TypeHandler

try:
    from tests.doubles.telegram_api import FakeTelegramAPI
except ModuleNotFoundError:  # `tests` is not a package and the repo root is not on sys.path
    from doubles.telegram_api import FakeTelegramAPI  # type: ignore[no-redef]

USER_ID = 424242


@pytest.fixture
def api() -> Iterator[FakeTelegramAPI]:
    """A running fake API, stopped after the test."""
    with FakeTelegramAPI() as fake:
        yield fake


def make_bot(api: FakeTelegramAPI, token: str | None = None) -> Bot:
    """A real PTB Bot pointed at the fake."""
    return Bot(
        token or api.token,
        base_url=f"{api.root}/bot",
        base_file_url=f"{api.root}/file/bot",
    )


def keyboard() -> InlineKeyboardMarkup:
    """A small inline keyboard."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Đăng ký ✅", callback_data="join:1")],
            [InlineKeyboardButton("Hủy", callback_data="cancel")],
        ]
    )


@pytest.mark.asyncio
async def test_bot_methods_round_trip(api: FakeTelegramAPI) -> None:
    """get_me, sends, edits and commands work through real PTB HTTP requests."""
    async with make_bot(api) as bot:
        me = await bot.get_me()
        assert me.username == "congdoan_test_bot"
        assert me.id == 123456 and me.is_bot

        msg = await bot.send_message(
            USER_ID, "<b>Xin chào</b>", parse_mode="HTML", reply_markup=keyboard()
        )
        assert isinstance(msg, Message)
        assert msg.chat.type == "private" and msg.chat.id == USER_ID
        assert msg.from_user is not None and msg.from_user.id == me.id
        assert msg.reply_markup == keyboard()
        call = api.calls_of("sendMessage")[-1]
        assert call.params["chat_id"] == str(USER_ID)
        assert call.params["parse_mode"] == "HTML"
        assert call.reply_markup == keyboard().to_dict()
        assert api.buttons(call) == [("Đăng ký ✅", "join:1"), ("Hủy", "cancel")]
        assert api.button_data(USER_ID, "Đăng ký") == "join:1"

        group_msg = await bot.send_message(-100, "group hello")
        assert group_msg.chat.type == "group" and group_msg.message_id == 1
        second = await bot.send_message(USER_ID, "second")
        assert second.message_id == msg.message_id + 1

        payload = b"name,amount\nAn,100\n" + bytes(range(256))
        doc = await bot.send_document(USER_ID, payload, filename="bao cao.csv", caption="Báo cáo")
        assert doc.document is not None and doc.document.file_name == "bao cao.csv"
        assert doc.caption == "Báo cáo"
        doc_call = api.calls_of("sendDocument")[-1]
        assert doc_call.files["document"] == ("bao cao.csv", payload)
        assert doc_call.params["caption"] == "Báo cáo"

        downloaded = await (await bot.get_file(doc.document.file_id)).download_as_bytearray()
        assert bytes(downloaded) == payload

        photo = await bot.send_photo(USER_ID, b"\x89PNG fake", caption="chart")
        assert photo.photo and photo.photo[-1].width == 800
        assert api.calls_of("sendPhoto")[-1].files["photo"][1] == b"\x89PNG fake"

        edited = await bot.edit_message_text(
            "Đã đăng ký", chat_id=USER_ID, message_id=msg.message_id
        )
        assert isinstance(edited, Message)
        assert edited.text == "Đã đăng ký" and edited.edit_date is not None
        stored = api.message(USER_ID, msg.message_id)
        assert stored is not None and stored["text"] == "Đã đăng ký"
        assert "reply_markup" not in stored  # editing without markup drops the keyboard
        assert api.last_message(USER_ID) == stored

        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("Đã đăng ký", chat_id=USER_ID, message_id=msg.message_id)
        with pytest.raises(BadRequest, match=r"(?i)can.t parse entities"):
            await bot.send_message(USER_ID, "<b>oops", parse_mode="HTML")

        await bot.edit_message_reply_markup(USER_ID, msg.message_id, reply_markup=keyboard())
        assert api.button_data(USER_ID, "Hủy") == "cancel"

        commands = [BotCommand("start", "Bắt đầu"), BotCommand("help", "Trợ giúp")]
        assert await bot.set_my_commands(commands)
        assert await bot.get_my_commands() == tuple(commands)
        assert await bot.send_chat_action(USER_ID, "typing")

        assert [c.method for c in api.sent_to(USER_ID)] == [
            "sendMessage",
            "sendMessage",
            "sendDocument",
            "sendPhoto",
        ]
        with pytest.raises(AssertionError, match="Available buttons"):
            api.button_data(USER_ID, "nonexistent")


@pytest.mark.asyncio
async def test_application_polling_echo_and_callback(api: FakeTelegramAPI) -> None:
    """A real Application polls updates injected by the fake and its replies are recorded."""

    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.message and update.message.text:
            await update.message.reply_text(f"echo: {update.message.text}", reply_markup=keyboard())
        elif update.callback_query:
            await update.callback_query.answer(f"got {update.callback_query.data}")
            await update.callback_query.edit_message_text(f"chose {update.callback_query.data}")

    app = (
        Application.builder()
        .token(api.token)
        .base_url(f"{api.root}/bot")
        .base_file_url(f"{api.root}/file/bot")
        .build()
    )
    app.add_handler(TypeHandler(Update, handle))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        try:
            update = api.send_text(USER_ID, "/start hello", username="an_nguyen")
            entity = update["message"]["entities"][0]
            assert entity == {"type": "bot_command", "offset": 0, "length": 6}

            (echo,) = await api.await_sent(USER_ID, timeout=5)
            assert echo.text == "echo: /start hello"
            assert echo.chat_id == USER_ID and echo.result["message_id"] == 2

            mark = api.mark()
            api.press(USER_ID, echo.result["message_id"], api.button_data(USER_ID, "Đăng ký"))
            answer = await api.await_call("answerCallbackQuery", since=mark)
            assert answer.params["text"] == "got join:1"
            await api.await_for_call("editMessageText", since=mark)
            last = api.last_message(USER_ID)
            assert last is not None and last["text"] == "chose join:1"
        finally:
            await app.updater.stop()
            await app.stop()
    assert not api.pending_updates  # PTB confirmed everything on shutdown
    assert api.calls_of("deleteWebhook")


@pytest.mark.asyncio
async def test_programmed_failures(api: FakeTelegramAPI) -> None:
    """fail_next turns into the matching PTB exceptions, then calls succeed again."""
    api.fail_next("sendMessage", error_code=429, retry_after=3)
    api.fail_next(
        "sendMessage",
        error_code=403,
        chat_id=777,
        description="Forbidden: bot was blocked by the user",
    )
    async with make_bot(api) as bot:
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(USER_ID, "hi")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            retry_after = caught.value.retry_after
        if isinstance(retry_after, dtm.timedelta):
            retry_after = int(retry_after.total_seconds())
        assert retry_after == 3

        await bot.send_message(USER_ID, "hi again")  # other chat: 403 rule not consumed
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(777, "hi")
        await bot.send_message(777, "hi")

    assert [c.error_code for c in api.calls_of("sendMessage")] == [429, None, 403, None]
    assert [c.text for c in api.sent_to(USER_ID)] == ["hi again"]
    api.wait_sent(777, count=1, timeout=0.1)
    with pytest.raises(AssertionError, match="sendMessage"):
        api.wait_sent(777, count=2, timeout=0.1)


@pytest.mark.asyncio
async def test_wrong_token_and_unknown_method(api: FakeTelegramAPI) -> None:
    """A wrong token is 401 (InvalidToken in PTB); unknown methods are 404."""
    with pytest.raises(InvalidToken):
        async with make_bot(api, token="999:wrong-token") as bot:
            await bot.get_me()
    async with httpx.AsyncClient() as client:
        res = await client.post(f"{api.root}/bot999:wrong/getMe")
        assert res.status_code == 401
        assert res.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        res = await client.post(f"{api.root}/bot{api.token}/noSuchMethod")
        assert res.status_code == 404
        assert res.json()["description"] == "Not Found: method not found"
        res = await client.post(
            f"{api.root}/bot{api.token}/sendMessage",
            json={"chat_id": 5, "text": "json body", "reply_markup": {"inline_keyboard": []}},
        )
        assert res.json()["result"]["chat"] == {"id": 5, "type": "private", "first_name": "Test"}


def test_long_polling_and_stop_are_fast() -> None:
    """getUpdates waits for injected updates, honours offset, and stop() is quick."""
    api = FakeTelegramAPI().start()
    url = f"{api.root}/bot{api.token}/getUpdates"

    def get_updates(**params: object) -> list[dict[str, Any]]:
        data = json.dumps(params).encode()
        req = urllib.request.Request(url, data, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as res:
            result: list[dict[str, Any]] = json.load(res)["result"]
            return result

    try:
        started = time.monotonic()
        assert get_updates(timeout=0.3) == []
        assert 0.25 <= time.monotonic() - started < 1.5
        first = api.send_text(USER_ID, "one")
        api.send_text(USER_ID, "two")
        assert [u["update_id"] for u in get_updates(limit=1)] == [first["update_id"]]
        rest = get_updates(offset=first["update_id"] + 1, timeout=1)
        assert [u["message"]["text"] for u in rest] == ["two"]
        assert len(api.pending_updates) == 1
    finally:
        started = time.monotonic()
        api.stop()
        assert time.monotonic() - started < 2
        assert not [t for t in threading.enumerate() if t.name.startswith("fake-telegram-api")]


class _Receiver:
    """A webhook endpoint on its own thread: records each post, answers with the programmed
    statuses (then 200), and notes how many posts of one chat were in flight at once."""

    def __init__(self, statuses: list[int] | None = None, delay: float = 0.0) -> None:
        self.posts: list[tuple[str | None, dict[str, Any]]] = []
        self.statuses = list(statuses or [])
        self.delay = delay
        self.in_flight: dict[Any, int] = {}
        self.most_at_once = 0
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                chat = (body.get("message") or body["callback_query"]["message"])["chat"]["id"]
                with lock:
                    receiver.posts.append(
                        (self.headers.get("X-Telegram-Bot-Api-Secret-Token"), body)
                    )
                    receiver.in_flight[chat] = receiver.in_flight.get(chat, 0) + 1
                    receiver.most_at_once = max(receiver.most_at_once, receiver.in_flight[chat])
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                time.sleep(receiver.delay)
                with lock:
                    receiver.in_flight[chat] -= 1
                payload = b'{"ok": true}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                """Stay quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/telegram/webhook"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def ids(self) -> list[int]:
        return [body["update_id"] for _, body in self.posts]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_webhook_delivery_round_robin_with_the_secret_and_retries(api: FakeTelegramAPI) -> None:
    """deliver_webhooks posts each queued update once to the registered secret's bearer, round
    robin over two processes; a refused post is posted again; getUpdates is refused meanwhile."""
    first, second = _Receiver(statuses=[503]), _Receiver()
    try:
        with httpx.Client() as client:
            answer = client.post(
                f"{api.root}/bot{api.token}/setWebhook",
                json={"url": "https://bot.example.org/telegram/webhook", "secret_token": "s3cret"},
            )
            assert answer.json() == {"ok": True, "result": True}
            queued = [api.send_text(USER_ID + i, f"hello {i}") for i in range(4)]
            api.deliver_webhooks([first.url, second.url])
            api.wait_for(lambda: not api.pending_updates, timeout=5)
            polled = client.post(f"{api.root}/bot{api.token}/getUpdates", json={"timeout": 0})
            assert polled.status_code == 409
        api.stop_webhooks()
        received = first.ids() + second.ids()
        assert sorted(set(received)) == [u["update_id"] for u in queued]
        assert len(received) == 5  # the refused one was posted again
        assert first.ids() and second.ids()
        assert {secret for secret, _ in first.posts + second.posts} == {"s3cret"}
        assert [d.status for d in api.deliveries].count(503) == 1
        ok = [d.update_id for d in api.deliveries if d.status == 200]
        assert sorted(ok) == [u["update_id"] for u in queued]  # each answered once
        assert api.redelivered == 0
    finally:
        first.close()
        second.close()


def test_webhook_delivery_one_update_per_chat_at_a_time_and_redelivery(
    api: FakeTelegramAPI,
) -> None:
    """Updates of one chat are posted one after the other, in order; redeliver_every posts an
    update to the next process as well, at once (as a retried webhook does)."""
    first, second = _Receiver(delay=0.05), _Receiver(delay=0.05)
    try:
        queued = [api.send_text(USER_ID, f"message {i}") for i in range(4)]
        api.deliver_webhooks([first.url, second.url], redeliver_every=2)
        api.wait_for(lambda: not api.pending_updates, timeout=5)
        api.stop_webhooks()
        assert first.most_at_once == second.most_at_once == 1
        ids = [u["update_id"] for u in queued]
        assert sorted(set(first.ids() + second.ids())) == ids
        order = [d.update_id for d in api.deliveries]
        assert order == sorted(order)
        assert api.redelivered == 2
        twice = [i for i in ids if (first.ids() + second.ids()).count(i) == 2]
        assert twice == [ids[1], ids[3]]
        assert all(i in first.ids() and i in second.ids() for i in twice)
        assert not api.pending_updates
        with pytest.raises(ValueError, match="setWebhook"):
            FakeTelegramAPI().deliver_webhooks()
    finally:
        first.close()
        second.close()
