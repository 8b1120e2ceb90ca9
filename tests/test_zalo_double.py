"""Prove the Zalo Bot API double is as strict as the documented platform, over real HTTP."""

from __future__ import annotations

import asyncio
import io
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import uvicorn
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

try:
    from tests.doubles.zalo_api import BLOCKED_DESCRIPTION, SECRET_HEADER, FakeZaloAPI
except ModuleNotFoundError:  # `tests` is not a package and the repo root is not on sys.path
    from doubles.zalo_api import (  # type: ignore[no-redef]
        BLOCKED_DESCRIPTION,
        SECRET_HEADER,
        FakeZaloAPI,
    )

USER = "e4ea5c1f0b2d4a7f"
OTHER = "9b1d77aa00c3e5f2"


def make_png() -> bytes:
    """A tiny real PNG."""
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return buffer.getvalue()


PNG = make_png()
PAGES: dict[str, tuple[int, str, bytes]] = {
    "/cat.png": (200, "image/png", PNG),
    "/cat.jpg": (200, "image/jpeg", b"\xff\xd8\xff\xe0fake-jpeg"),
    "/page.html": (200, "text/html; charset=utf-8", b"<html><body>hi</body></html>"),
    "/moved.png": (302, "text/plain", b""),
}


class _PhotoHandler(BaseHTTPRequestHandler):
    """Serves PAGES; anything else is 404."""

    def do_GET(self) -> None:
        """Answer one GET."""
        status, content_type, body = PAGES.get(self.path, (404, "text/plain", b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if status == 302:
            self.send_header("Location", "/cat.png")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""


@pytest.fixture(scope="module")
def photos() -> Iterator[str]:
    """Base URL of a tiny local file server."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PhotoHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@contextmanager
def serve_app(app: Starlette) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


@pytest.fixture
def api() -> Iterator[FakeZaloAPI]:
    """A running double with a short long-poll cap."""
    with FakeZaloAPI(max_poll_timeout=0.3) as fake:
        yield fake


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """A plain HTTP client that ignores proxy settings."""
    with httpx.Client(trust_env=False, timeout=10) as http:
        yield http


def call(http: httpx.Client, api: FakeZaloAPI, method: str, body: Any = None) -> httpx.Response:
    """POST a JSON body (or nothing) to one method."""
    return http.post(api.method_url(method), json=body)


def test_wrong_token_is_401_and_not_recorded(api: FakeZaloAPI, client: httpx.Client) -> None:
    response = client.post(api.method_url("getMe", token="1234567890:wrong"), json={})
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert api.calls == []


@pytest.mark.parametrize(
    "method", ["sendDocument", "editMessageText", "answerCallbackQuery", "getme", "setMyCommands"]
)
def test_unknown_methods_are_404_and_recorded(
    api: FakeZaloAPI, client: httpx.Client, method: str
) -> None:
    response = call(client, api, method, {"chat_id": USER, "text": "x"})
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    [recorded] = api.calls_of(method)
    assert recorded.error_code == 404 and recorded.chat_id == USER


def test_get_is_405_and_bodies_must_be_json_objects(api: FakeZaloAPI, client: httpx.Client) -> None:
    assert client.get(api.method_url("getMe")).status_code == 405
    for content in (b"[1, 2]", b"not json", b'"text"'):
        response = client.post(api.method_url("sendMessage"), content=content)
        assert response.status_code == 400
        assert response.json()["ok"] is False
    assert [c.error_code for c in api.calls] == [405, 400, 400, 400]


def test_get_me_with_and_without_body(api: FakeZaloAPI, client: httpx.Client) -> None:
    expected = {
        "id": "1234567890",
        "account_name": "Bot Công đoàn thử",
        "account_type": "BASIC",
        "can_join_groups": True,
    }
    assert client.post(api.method_url("getMe")).json() == {"ok": True, "result": expected}
    assert call(client, api, "getMe", {}).json()["result"] == expected


def test_get_updates_one_at_a_time_in_order_then_408(
    api: FakeZaloAPI, client: httpx.Client
) -> None:
    first = api.send_text(USER, "Xin chào")
    second = api.send_image(OTHER, "https://example.com/a.jpg", "ảnh")
    assert len(api.pending_updates) == 2
    assert call(client, api, "getUpdates", {"timeout": "30"}).json() == {
        "ok": True,
        "result": first,
    }
    assert call(client, api, "getUpdates", {"timeout": 30}).json()["result"] == second
    assert api.pending_updates == []
    started = time.monotonic()
    response = call(client, api, "getUpdates", {"timeout": "30"})
    elapsed = time.monotonic() - started
    assert response.status_code == 408
    assert response.json() == {"ok": False, "error_code": 408, "description": "Request timeout"}
    assert 0.25 <= elapsed < 1.0, elapsed
    assert call(client, api, "getUpdates", {"timeout": "soon"}).status_code == 400


def test_long_poll_returns_as_soon_as_an_update_is_queued(client: httpx.Client) -> None:
    with FakeZaloAPI(max_poll_timeout=5) as api:
        threading.Timer(0.2, api.send_text, args=(USER, "đến rồi")).start()
        started = time.monotonic()
        response = call(client, api, "getUpdates", {"timeout": "30"})
        assert response.json()["result"]["message"]["text"] == "đến rồi"
        assert time.monotonic() - started < 1.0


async def test_only_one_poller_at_a_time() -> None:
    with FakeZaloAPI(max_poll_timeout=5) as api:
        async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
            url = api.method_url("getUpdates")
            first = asyncio.create_task(http.post(url, json={"timeout": "30"}))
            await api.await_for(lambda: api.polling)
            second = await http.post(url, json={"timeout": "30"})
            assert second.status_code == 409
            assert second.json()["description"] == (
                "Conflict: another getUpdates request is running"
            )
            assert api.conflicts == 1
            update = api.send_text(USER, "một")
            assert (await first).json()["result"] == update


def test_a_poller_whose_client_left_frees_the_slot_and_consumes_nothing(
    client: httpx.Client,
) -> None:
    with FakeZaloAPI(max_poll_timeout=5) as api:
        with pytest.raises(httpx.ReadTimeout):
            client.post(api.method_url("getUpdates"), json={"timeout": "30"}, timeout=0.2)
        api.wait_for(lambda: not api.polling, timeout=2)
        update = api.send_text(USER, "còn đây")
        assert call(client, api, "getUpdates", {"timeout": "30"}).json()["result"] == update
        assert api.conflicts == 0


def test_stop_answers_a_pending_long_poll_promptly() -> None:
    api = FakeZaloAPI(max_poll_timeout=10).start()
    result: dict[str, Any] = {}

    def poll() -> None:
        with httpx.Client(trust_env=False, timeout=20) as http:
            started = time.monotonic()
            try:
                result["status"] = call(http, api, "getUpdates", {"timeout": "30"}).status_code
            except httpx.HTTPError as exc:
                result["status"] = repr(exc)
            result["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=poll)
    thread.start()
    api.wait_for(lambda: api.polling)
    stopped = time.monotonic()
    api.stop()
    assert time.monotonic() - stopped < 2
    thread.join(timeout=5)
    assert result["status"] == 408
    assert result["elapsed"] < 3


def test_webhook_lifecycle_and_validation(api: FakeZaloAPI, client: httpx.Client) -> None:
    info = call(client, api, "getWebhookInfo")
    assert info.status_code == 404 and info.json()["ok"] is False
    bad_url = call(
        client, api, "setWebhook", {"url": "http://bot.example/hook", "secret_token": "s" * 16}
    )
    assert bad_url.status_code == 400 and "https" in bad_url.json()["description"]
    for secret in ("abcde", "s" * 257, None):
        bad = call(
            client, api, "setWebhook", {"url": "https://bot.example/hook", "secret_token": secret}
        )
        assert bad.status_code == 400, secret
    good = call(
        client, api, "setWebhook", {"url": "https://bot.example/hook", "secret_token": "s" * 8}
    )
    assert good.json()["result"]["url"] == "https://bot.example/hook"
    assert isinstance(good.json()["result"]["updated_at"], int)
    assert api.webhook is not None and api.webhook["secret_token"] == "s" * 8
    info = call(client, api, "getWebhookInfo")
    assert info.json()["result"]["url"] == "https://bot.example/hook"
    polled = call(client, api, "getUpdates", {"timeout": "30"})
    assert polled.status_code == 409
    assert polled.json()["description"] == "Conflict: webhook is active"
    deleted = call(client, api, "deleteWebhook")
    assert deleted.json()["result"]["url"] == ""
    assert call(client, api, "getWebhookInfo").status_code == 404
    assert call(client, api, "getUpdates", {"timeout": "0"}).status_code == 408


def test_send_message_limits(api: FakeZaloAPI, client: httpx.Client) -> None:
    too_long = call(client, api, "sendMessage", {"chat_id": USER, "text": "ạ" * 2001})
    assert too_long.status_code == 400
    assert too_long.json()["description"] == "text length must be between 1 and 2000"
    ok = call(client, api, "sendMessage", {"chat_id": USER, "text": "ạ" * 2000})
    assert ok.status_code == 200
    result = ok.json()["result"]
    assert int(result["message_id"], 16) >= 0 and result["date"] > 1_700_000_000_000
    assert call(client, api, "sendMessage", {"chat_id": 12345, "text": "x"}).status_code == 400
    assert call(client, api, "sendMessage", {"chat_id": USER, "text": ""}).status_code == 400
    assert call(client, api, "sendMessage", {"chat_id": "", "text": "x"}).status_code == 400
    assert call(client, api, "sendMessage", {"text": "x"}).status_code == 400
    assert api.texts_to(USER) == ["ạ" * 2000]


def test_send_message_records_ignored_keys_like_reply_markup(
    api: FakeZaloAPI, client: httpx.Client
) -> None:
    markup = {"inline_keyboard": [[{"text": "Có", "callback_data": "yes"}]]}
    body = {"chat_id": USER, "text": "Chọn", "reply_markup": markup, "reply_to_message_id": "ab12"}
    assert call(client, api, "sendMessage", body).status_code == 200
    [sent] = api.sent_to(USER)
    assert sent.params["reply_markup"] == markup
    assert sent.text == "Chọn"
    bad_reply = {"chat_id": USER, "text": "x", "reply_to_message_id": 12}
    assert call(client, api, "sendMessage", bad_reply).status_code == 400


def test_send_photo_fetches_the_url(api: FakeZaloAPI, client: httpx.Client, photos: str) -> None:
    body = {"chat_id": USER, "photo": f"{photos}/cat.png", "caption": "Mèo"}
    response = call(client, api, "sendPhoto", body)
    assert response.status_code == 200, response.text
    [sent] = api.sent_to(USER)
    assert sent.fetched == PNG and sent.fetched_type == "image/png"
    assert api.texts_to(USER) == ["Mèo"]
    jpeg = call(client, api, "sendPhoto", {"chat_id": USER, "photo": f"{photos}/cat.jpg"})
    assert jpeg.status_code == 200


@pytest.mark.parametrize(
    ("path", "description"),
    [
        ("/page.html", "photo is not an image"),
        ("/missing.png", "photo url is not reachable"),
        ("/moved.png", "photo url is not reachable"),
    ],
)
def test_send_photo_refuses_what_is_not_a_reachable_image(
    api: FakeZaloAPI, client: httpx.Client, photos: str, path: str, description: str
) -> None:
    response = call(client, api, "sendPhoto", {"chat_id": USER, "photo": photos + path})
    assert response.status_code == 400
    assert response.json()["description"] == description
    assert api.sent_to(USER) == []
    assert api.sent_count == 0


async def test_send_photo_from_a_server_on_the_callers_event_loop() -> None:
    """The bot may serve its photo from the loop that awaits sendPhoto: no deadlock."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        head = b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %d\r\n" % len(PNG)
        writer.write(head + b"Connection: close\r\n\r\n" + PNG)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    photo = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/p.png"
    try:
        with FakeZaloAPI() as api:
            async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
                body = {"chat_id": USER, "photo": photo}
                response = await http.post(api.method_url("sendPhoto"), json=body)
    finally:
        server.close()
    assert response.status_code == 200, response.text
    assert api.sent_to(USER)[0].fetched == PNG


def test_send_photo_refuses_bad_urls_and_captions(api: FakeZaloAPI, client: httpx.Client) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/cat.png"
    for photo, description in [
        (closed, "photo url is not reachable"),
        ("file:///etc/hosts", "photo must be an http(s) url"),
        ("cat.png", "photo must be an http(s) url"),
    ]:
        response = call(client, api, "sendPhoto", {"chat_id": USER, "photo": photo})
        assert response.json()["description"] == description
    long_caption = {"chat_id": USER, "photo": closed, "caption": "x" * 2001}
    assert call(client, api, "sendPhoto", long_caption).status_code == 400


def test_send_photo_without_fetching(client: httpx.Client) -> None:
    with FakeZaloAPI(fetch_photos=False) as api:
        body = {"chat_id": USER, "photo": "https://nowhere.invalid/cat.png"}
        assert call(client, api, "sendPhoto", body).status_code == 200
        assert api.sent_to(USER)[0].fetched is None


def test_sticker_and_chat_action(api: FakeZaloAPI, client: httpx.Client) -> None:
    assert call(client, api, "sendSticker", {"chat_id": USER, "sticker": "s1"}).status_code == 200
    assert call(client, api, "sendSticker", {"chat_id": USER}).status_code == 400
    typing = call(client, api, "sendChatAction", {"chat_id": USER, "action": "typing"})
    assert typing.json() == {"ok": True, "result": True}
    upload = call(client, api, "sendChatAction", {"chat_id": USER, "action": "upload_photo"})
    assert upload.status_code == 400
    assert [c.method for c in api.sent_to(USER)] == ["sendSticker"]


def test_fail_next_then_success(api: FakeZaloAPI, client: httpx.Client) -> None:
    api.fail_next("sendMessage")
    body = {"chat_id": USER, "text": "thử lại"}
    failed = call(client, api, "sendMessage", body)
    assert failed.status_code == 429
    assert failed.json() == {"ok": False, "error_code": 429, "description": "Too Many Requests"}
    assert call(client, api, "sendMessage", body).status_code == 200
    assert [c.ok for c in api.calls_of("sendMessage")] == [False, True]


def test_fail_next_for_one_chat_with_a_status(api: FakeZaloAPI, client: httpx.Client) -> None:
    api.fail_next("sendMessage", 2, error_code=500, description="Boom", chat_id=OTHER, status=502)
    assert call(client, api, "sendMessage", {"chat_id": USER, "text": "a"}).status_code == 200
    other = call(client, api, "sendMessage", {"chat_id": OTHER, "text": "b"})
    assert other.status_code == 502 and other.json()["error_code"] == 500
    api.clear_failures()
    assert call(client, api, "sendMessage", {"chat_id": OTHER, "text": "c"}).status_code == 200


def test_blocked_user(api: FakeZaloAPI, client: httpx.Client) -> None:
    api.block(USER)
    response = call(client, api, "sendMessage", {"chat_id": USER, "text": "chào"})
    assert response.status_code == 403
    assert response.json() == {"ok": False, "error_code": 403, "description": BLOCKED_DESCRIPTION}
    assert call(client, api, "sendMessage", {"chat_id": OTHER, "text": "chào"}).status_code == 200
    api.unblock(USER)
    assert call(client, api, "sendMessage", {"chat_id": USER, "text": "chào"}).status_code == 200


def test_monthly_limit(api: FakeZaloAPI, client: httpx.Client) -> None:
    api.monthly_limit = 2
    assert call(client, api, "sendMessage", {"chat_id": USER, "text": "1"}).status_code == 200
    assert call(client, api, "sendSticker", {"chat_id": OTHER, "sticker": "s"}).status_code == 200
    typing = call(client, api, "sendChatAction", {"chat_id": USER, "action": "typing"})
    assert typing.status_code == 200
    third = call(client, api, "sendMessage", {"chat_id": USER, "text": "3"})
    assert third.status_code == 403
    assert third.json() == {"ok": False, "error_code": 403, "description": "Quota exceeded"}
    assert api.over_quota == 1 and api.sent_count == 2


async def test_post_webhook_sends_the_secret_header_and_both_shapes() -> None:
    received: list[tuple[str | None, Any]] = []

    async def hook(request: Request) -> JSONResponse:
        received.append((request.headers.get(SECRET_HEADER), await request.json()))
        return JSONResponse({"ok": True})

    api = FakeZaloAPI()  # post_webhook needs no server
    update = api.build_text(USER, "qua webhook")
    with serve_app(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as base:
        plain = await api.post_webhook(f"{base}/hook", update, secret="s3cret-token")
        wrapped = await api.post_webhook(f"{base}/hook", update, secret=None, wrapped=True)
    assert plain.status_code == wrapped.status_code == 200
    assert received == [
        ("s3cret-token", update),
        (None, {"ok": True, "result": update}),
    ]


def test_builders_follow_the_documented_shape(api: FakeZaloAPI) -> None:
    text = api.build_text(USER, "Xin chào")
    message = text["message"]
    assert text["event_name"] == "message.text.received"
    assert message["chat"] == {"id": USER, "chat_type": "PRIVATE"}
    assert message["from"] == {"id": USER, "display_name": "Nguyen Van A", "is_bot": False}
    assert message["text"] == "Xin chào" and message["message_type"] == "CHAT_MESSAGE"
    assert message["date"] > 1_700_000_000_000 and isinstance(message["message_id"], str)
    assert api.build_text(USER, "x")["message"]["message_id"] != message["message_id"]
    group = api.build_text(
        USER, "@bot", chat_id="g1", chat_type="GROUP", name_field="first_name", message_id="m1"
    )["message"]
    assert group["chat"] == {"id": "g1", "chat_type": "GROUP"}
    assert group["from"]["first_name"] == "Nguyen Van A" and group["message_id"] == "m1"
    image = api.build_image(USER, "https://x.example/a.jpg", "chú thích", url_field="photo")
    assert image["event_name"] == "message.image.received"
    assert image["message"]["photo"] == "https://x.example/a.jpg"
    assert image["message"]["caption"] == "chú thích"
    assert api.build_image(USER, "https://x.example/b.jpg")["message"]["photo_url"]
    assert api.build_sticker(USER)["event_name"] == "message.sticker.received"
    voice = api.build_voice(USER)
    assert voice["event_name"] == "message.voice.received" and voice["message"]["voice_url"]
    unsupported = api.build_unsupported(USER)
    assert unsupported["event_name"] == "message.unsupported.received"
    assert api.pending_updates == []
    with pytest.raises(TypeError):
        api.build_text(12345, "x")  # type: ignore[arg-type]


def test_send_helpers_queue_updates(api: FakeZaloAPI) -> None:
    updates = [
        api.send_text(USER, "a"),
        api.send_image(USER, "https://x.example/a.jpg"),
        api.send_sticker(USER, "st"),
        api.send_voice(USER),
        api.send_unsupported(USER),
    ]
    assert api.pending_updates == updates
    api.clear()
    assert api.pending_updates == []


def test_waiting_helpers_explain_timeouts(api: FakeZaloAPI, client: httpx.Client) -> None:
    call(client, api, "sendMessage", {"chat_id": OTHER, "text": "không phải bạn"})
    call(client, api, "getUpdates", {"timeout": "0"})
    with pytest.raises(AssertionError) as error:
        api.wait_sent(USER, timeout=0.1)
    assert "sendMessage" in str(error.value) and "không phải bạn" in str(error.value)
    assert "getUpdates(" not in str(error.value)  # idle polls are only counted
    mark = api.mark()

    def send_later() -> None:
        with httpx.Client(trust_env=False) as other_client:
            call(other_client, api, "sendMessage", {"chat_id": USER, "text": "đây"})

    threading.Timer(0.1, send_later).start()
    [sent] = api.wait_sent(USER, since=mark)
    assert sent.text == "đây"
    found = api.wait_for_call("sendMessage", predicate=lambda c: c.chat_id == USER)
    assert found is sent


async def test_async_waiting_helpers_do_not_block_the_loop(api: FakeZaloAPI) -> None:
    async with httpx.AsyncClient(trust_env=False) as http:
        body = {"chat_id": USER, "text": "song song"}
        sent, response = await asyncio.gather(
            api.await_sent(USER), http.post(api.method_url("sendMessage"), json=body)
        )
        assert response.status_code == 200 and sent[0].text == "song song"
        assert (await api.await_for_call("sendMessage")).ok
        assert await api.await_for(lambda: api.sent_count)
        with pytest.raises(AssertionError):
            await api.await_sent(OTHER, timeout=0.05)


def test_many_sends_are_fast(client: httpx.Client) -> None:
    with FakeZaloAPI(fetch_photos=False) as api:
        url = api.method_url("sendMessage")
        count = 1000
        started = time.perf_counter()
        for i in range(count):
            client.post(url, json={"chat_id": f"u{i % 50}", "text": "Thông báo"})
        rate = count / (time.perf_counter() - started)
        assert api.sent_count == count
        assert rate > 300, f"{rate:.0f} sends/s"  # ~1,100/s here; the bar is loose for busy CI
